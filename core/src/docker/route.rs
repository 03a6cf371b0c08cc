//! Routing an HTTP request: answer it here (ping, version, errors) or hand the core a typed
//! [`DockerRequest`].
//!
//! Like dockerd, every route is served both unversioned and under `/v{major.minor}/`, a
//! version outside 1.24–1.44 is a 400 with dockerd's text, `OPTIONS` on any path is 200,
//! and an unknown path or a wrong method on a known path is a 404. mesoswarm's 404 names the
//! route (`page not found: mesoswarm does not implement GET /images/json yet`) so users can
//! tell a missing feature from a typo.
//!
//! The container operations an agent's engine answers (logs, attach, exec, cp, …) are
//! [`Routed::Proxy`] (see [`crate::docker::proxy_route`]). `GET …/attach/ws` answers
//! **501 Not Implemented** (a 404 would read as "No such container" to docker-py; 501 is
//! dockerd's status for "not implemented").

use bytes::Bytes;
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, PRAGMA};
use http::{Method, Request, Response, StatusCode};

use crate::docker::error::ApiError;
use crate::docker::filter_args::{container_filters, event_filters, parse_filters};
use crate::docker::parse::parse_create_body;
use crate::docker::proxy_route::{proxy_route, ProxyRoute};
use crate::docker::query::{decode_component, Query};
use crate::docker::render::{error_response, json_body, json_response, response};
use crate::docker::request::{DockerRequest, EventsQuery, ListQuery, WaitCondition};
use crate::docker::signal::normalize_signal;
use crate::docker::version::{system_version, ApiVersion};
use crate::ids::validate_container_name;
use crate::time::Instant;

/// The default limit on request bodies: 1 MiB. Create bodies are a few KiB (the full CLI
/// body in the reference is under 3 KiB); the limit only stops a client from making the
/// manager buffer arbitrary data. The shell enforces it while reading and answers with
/// [`payload_too_large`].
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// Limits [`route_with_limits`] applies.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RouteLimits {
    /// Bodies longer than this are answered with 413.
    pub max_body_bytes: usize,
}

impl Default for RouteLimits {
    fn default() -> Self {
        RouteLimits {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// What to do with a request.
#[derive(Debug)]
pub enum Routed {
    /// Send this answer; the core is not involved.
    Answer(Response<Bytes>),
    /// Proxy this request to an agent's Docker engine (see [`proxy_route`]).
    Proxy {
        /// What it is.
        route: ProxyRoute,
        /// The API version the client asked for.
        version: ApiVersion,
    },
    /// Hand this request to the core.
    Core {
        /// The typed request.
        request: DockerRequest,
        /// The API version the client asked for (1.44 for unversioned paths).
        version: ApiVersion,
    },
}

/// [`route_with_limits`] with [`RouteLimits::default`].
pub fn route(req: &Request<Bytes>) -> Routed {
    route_with_limits(req, &RouteLimits::default())
}

/// Routes one request. Never panics; every error becomes a dockerd-style answer.
pub fn route_with_limits(req: &Request<Bytes>, limits: &RouteLimits) -> Routed {
    match dispatch(req, limits) {
        Ok(routed) => routed,
        Err(e) => Routed::Answer(error_response(&e)),
    }
}

/// The 413 answer for a body over `limit_bytes`, for the shell to send when it stops reading.
pub fn payload_too_large(limit_bytes: usize) -> Response<Bytes> {
    error_response(&ApiError::payload_too_large(limit_bytes))
}

/// The 404 for a route mesoswarm does not serve: `page not found: mesoswarm does not
/// implement <METHOD> <path> yet` (dockerd says `page not found`).
pub fn not_implemented_route(method: &Method, path: &str) -> ApiError {
    let mut shown = path.to_string();
    if shown.len() > MAX_PATH_IN_MESSAGE {
        let mut end = MAX_PATH_IN_MESSAGE;
        while !shown.is_char_boundary(end) {
            end -= 1;
        }
        shown.truncate(end);
        shown.push('…');
    }
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("page not found: mesoswarm does not implement {method} {shown} yet"),
    )
}

const MAX_PATH_IN_MESSAGE: usize = 200;

fn dispatch(req: &Request<Bytes>, limits: &RouteLimits) -> Result<Routed, ApiError> {
    let method = req.method();
    if method == Method::OPTIONS {
        return Ok(Routed::Answer(response(StatusCode::OK, Bytes::new())));
    }
    let (version, path) = split_version(req.uri().path())?;
    if req.body().len() > limits.max_body_bytes {
        return Err(ApiError::payload_too_large(limits.max_body_bytes));
    }
    if let Some(proxied) = proxy_route(method, path) {
        return Ok(Routed::Proxy {
            route: proxied?,
            version,
        });
    }
    let query = || Query::parse(req.uri().query().unwrap_or(""));
    let core = |request: DockerRequest| Ok(Routed::Core { request, version });
    match (method.as_str(), path) {
        ("GET" | "HEAD", "/_ping") => Ok(Routed::Answer(ping(method == Method::HEAD))),
        ("GET", "/version") => Ok(Routed::Answer(json_response(
            StatusCode::OK,
            json_body(&system_version()),
        ))),
        ("GET", "/info") => core(DockerRequest::Info),
        ("GET", "/events") => core(DockerRequest::Events(events_query(&query()?)?)),
        ("GET", "/containers/json") => core(DockerRequest::ContainerList(list_query(&query()?)?)),
        ("POST", "/containers/create") => {
            check_json_content_type(req)?;
            let name = new_name(query()?.get("name").unwrap_or(""))?;
            let (spec, warnings) = parse_create_body(req.body())?;
            core(DockerRequest::ContainerCreate {
                name,
                spec: Box::new(spec),
                warnings,
            })
        }
        _ if path == "/networks" || path.starts_with("/networks/") => Err(networks(method, path)),
        _ => match path.strip_prefix("/containers/") {
            Some(rest) => {
                container_route(method, path, rest, req.body(), &query).map(|r| Routed::Core {
                    request: r,
                    version,
                })
            }
            None => Err(not_implemented_route(method, path)),
        },
    }
}

/// Routes `/containers/{name}/…`. Names may hold `/` (moby matches them with `.*`), so the
/// action is taken off the end.
fn container_route(
    method: &Method,
    path: &str,
    rest: &str,
    body: &[u8],
    query: &dyn Fn() -> Result<Query, ApiError>,
) -> Result<DockerRequest, ApiError> {
    let not_found = || not_implemented_route(method, path);
    if *method == Method::DELETE {
        if rest.is_empty() {
            return Err(not_found());
        }
        let q = query()?;
        if q.bool_value("link") {
            return Err(ApiError::bad_request(
                "mesoswarm does not support links, so there is no link to remove (rm --link)",
            ));
        }
        return Ok(DockerRequest::ContainerRemove {
            container: container_ref(rest)?,
            force: q.bool_value("force"),
            volumes: q.bool_value("v"),
        });
    }
    if *method == Method::GET && rest.ends_with("/attach/ws") && rest.len() > "/attach/ws".len() {
        return Err(attach_not_supported());
    }
    let Some((name, action)) = rest.rsplit_once('/') else {
        return Err(not_found());
    };
    if name.is_empty() {
        return Err(not_found());
    }
    let container = container_ref(name)?;
    match (method.as_str(), action) {
        ("GET", "json") => Ok(DockerRequest::ContainerInspect {
            container,
            size: query()?.bool_value("size"),
        }),
        ("POST", "start") => Ok(DockerRequest::ContainerStart { container }),
        ("POST", "stop") => {
            let q = query()?;
            Ok(DockerRequest::ContainerStop {
                container,
                timeout_secs: stop_timeout(&q)?,
                signal: signal(&q)?,
            })
        }
        ("POST", "restart") => {
            let q = query()?;
            Ok(DockerRequest::ContainerRestart {
                container,
                timeout_secs: stop_timeout(&q)?,
                signal: signal(&q)?,
            })
        }
        ("POST", "kill") => Ok(DockerRequest::ContainerKill {
            container,
            signal: signal(&query()?)?,
        }),
        ("POST", "wait") => Ok(DockerRequest::ContainerWait {
            container,
            condition: wait_condition(&query()?)?,
        }),
        ("POST", "rename") => {
            let q = query()?;
            let new_name = q.get("name").unwrap_or("");
            if new_name.is_empty() {
                return Err(ApiError::bad_request(
                    "Neither old nor new names may be empty",
                ));
            }
            let new_name = new_name.strip_prefix('/').unwrap_or(new_name);
            validate_container_name(new_name).map_err(ApiError::bad_request)?;
            Ok(DockerRequest::ContainerRename {
                container,
                new_name: new_name.to_string(),
            })
        }
        ("POST", "update") => {
            check_update_body(body)?;
            Ok(DockerRequest::ContainerUpdate { container })
        }
        _ => Err(not_found()),
    }
}

/// mesoswarm has no networks of its own: Mesos' Docker containerizer runs each container
/// on its agent's `bridge` (or `host`/`none`) network, and a user-defined network would have
/// to exist on every agent's engine. Looking one up is a 404 (compose then tries to create
/// it); creating, connecting or removing one says what to do instead.
fn networks(method: &Method, path: &str) -> ApiError {
    let name = path.strip_prefix("/networks/").unwrap_or("");
    if *method == Method::GET && !name.is_empty() && !name.contains('/') {
        return ApiError::new(StatusCode::NOT_FOUND, format!("network {name} not found"));
    }
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        format!(
            "mesoswarm does not manage networks ({method} {path}): Mesos runs each container \
             on its agent's bridge network, so user-defined networks are not available; use \
             --network bridge or host (in a compose file, `network_mode: bridge` for every \
             service)"
        ),
    )
}

/// `POST /containers/{id}/update` may only change nothing: Mesos fixes a task's resources
/// when it launches it, and a restart policy would need mesoswarm to relaunch tasks.
fn check_update_body(body: &[u8]) -> Result<(), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON in the update body: {e}")))?;
    let serde_json::Value::Object(fields) = value else {
        return Err(ApiError::bad_request(
            "the update body must be a JSON object",
        ));
    };
    let changed: Vec<&str> = fields
        .iter()
        .filter(|(_, v)| !is_zero(v))
        .map(|(k, _)| k.as_str())
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "mesoswarm cannot update a container's {}: Mesos fixes a task's resources when it \
         launches it, and mesoswarm does not relaunch tasks on a restart policy; remove the \
         container and run it again with the new settings",
        changed.join(", ")
    )))
}

/// Whether a JSON value is Go's zero value (what the docker CLI sends for an unset flag).
fn is_zero(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::Bool(b) => !b,
        serde_json::Value::Number(n) => n.as_f64() == Some(0.0),
        serde_json::Value::String(s) => s.is_empty(),
        serde_json::Value::Array(a) => a.is_empty(),
        serde_json::Value::Object(o) => o.values().all(is_zero),
    }
}

/// 501 for attach (see the module docs).
fn attach_not_supported() -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "mesoswarm does not support attaching over a websocket (attach/ws); attach over an \
         HTTP upgrade, as the docker CLI and docker-py's attach_socket() without ws=True do",
    )
}

/// Splits `/v1.44/containers/json` into the checked version and `/containers/json`
/// (unversioned paths get the newest version).
pub fn split_version(path: &str) -> Result<(ApiVersion, &str), ApiError> {
    if let Some(after_v) = path.strip_prefix("/v") {
        let digits = after_v
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        if digits > 0 && after_v.as_bytes().get(digits) == Some(&b'/') {
            let version = ApiVersion::parse_in_range(&after_v[..digits])?;
            return Ok((version, &after_v[digits..]));
        }
    }
    Ok((ApiVersion::MAX, path))
}

/// dockerd's ping: 200 with `Cache-Control`/`Pragma: no-cache`, `Swarm: inactive`, and
/// `text/plain` `OK` (HEAD: no body, `Content-Length: 0`).
fn ping(head: bool) -> Response<Bytes> {
    let body = if head {
        Bytes::new()
    } else {
        Bytes::from_static(b"OK")
    };
    let mut resp = response(StatusCode::OK, body);
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    h.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert("swarm", HeaderValue::from_static("inactive"));
    if head {
        h.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    }
    resp
}

/// moby's `CheckForJSON`, relaxed: the create body must be `application/json` (parameters
/// such as `charset` allowed), or have no `Content-Type` at all.
fn check_json_content_type(req: &Request<Bytes>) -> Result<(), ApiError> {
    let Some(value) = req.headers().get(CONTENT_TYPE) else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    let media = text.split(';').next().unwrap_or("").trim();
    if media.is_empty() || media.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "unsupported Content-Type header ({text}): must be 'application/json'"
        )))
    }
}

/// A container reference from the path, percent-decoded.
fn container_ref(raw: &str) -> Result<String, ApiError> {
    decode_component(raw, false)
}

/// `?name=` of create: empty is no name; one leading `/` is dropped; then Docker's rule.
fn new_name(raw: &str) -> Result<Option<String>, ApiError> {
    if raw.is_empty() {
        return Ok(None);
    }
    let name = raw.strip_prefix('/').unwrap_or(raw);
    validate_container_name(name).map_err(ApiError::bad_request)?;
    Ok(Some(name.to_string()))
}

/// `t=` of stop/restart, in seconds (negative: wait forever, as dockerd allows).
fn stop_timeout(q: &Query) -> Result<Option<i64>, ApiError> {
    q.non_empty("t")
        .map(|t| {
            t.trim().parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!(
                    "invalid value for t: {t:?} is not a whole number of seconds"
                ))
            })
        })
        .transpose()
}

/// `signal=`, checked and normalised (`9` → `SIGKILL`, see [`normalize_signal`]).
fn signal(q: &Query) -> Result<Option<String>, ApiError> {
    q.non_empty("signal").map(normalize_signal).transpose()
}

/// `condition=` of wait: `not-running` (default), `next-exit`, `removed`.
fn wait_condition(q: &Query) -> Result<WaitCondition, ApiError> {
    match q.non_empty("condition").unwrap_or("not-running") {
        "not-running" => Ok(WaitCondition::NotRunning),
        "next-exit" => Ok(WaitCondition::NextExit),
        "removed" => Ok(WaitCondition::Removed),
        other => Err(ApiError::bad_request(format!(
            "invalid condition: {other:?}"
        ))),
    }
}

/// The query of `GET /containers/json`. `limit` ≤ 0 is no limit (compose sends `-1`);
/// `trunc_cmd` is ignored; a `status` filter implies `all`, as in dockerd.
fn list_query(q: &Query) -> Result<ListQuery, ApiError> {
    let limit = match q.non_empty("limit") {
        None => None,
        Some(text) => {
            let n = text.trim().parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!(
                    "invalid value for limit: {text:?} is not a whole number"
                ))
            })?;
            usize::try_from(n).ok().filter(|n| *n > 0)
        }
    };
    let args = parse_filters(q.get("filters").unwrap_or(""))?;
    let filters = container_filters(&args)?;
    Ok(ListQuery {
        all: q.bool_value("all") || args.get("status").is_some_and(|v| !v.is_empty()),
        limit,
        size: q.bool_value("size"),
        filters,
    })
}

/// The query of `GET /events`.
fn events_query(q: &Query) -> Result<EventsQuery, ApiError> {
    let time = |key: &str| {
        q.non_empty(key)
            .map(|v| parse_timestamp(key, v))
            .transpose()
    };
    Ok(EventsQuery {
        since: time("since")?,
        until: time("until")?,
        filters: event_filters(&parse_filters(q.get("filters").unwrap_or(""))?)?,
    })
}

/// Unix seconds with an optional fraction (`1795317274`, `1795317274.5`,
/// `1795317274.000000001`), as the docker CLI sends `since`/`until`. Times before 1970 are
/// clamped to the epoch.
pub fn parse_timestamp(key: &str, text: &str) -> Result<Instant, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "invalid value for {key}: {text:?} is not a Unix timestamp (seconds[.nanoseconds])"
        ))
    };
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    let secs: i64 = secs.parse().map_err(|_| bad())?;
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let mut nanos: u64 = 0;
    for i in 0..9 {
        let digit = frac.as_bytes().get(i).map_or(0, |b| u64::from(b - b'0'));
        nanos = nanos * 10 + digit;
    }
    if secs < 0 {
        return Ok(Instant::from_unix_nanos(0));
    }
    let secs = u64::try_from(secs).unwrap_or(0);
    Ok(Instant::from_unix_nanos(
        secs.saturating_mul(1_000_000_000).saturating_add(nanos),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(
            parse_timestamp("since", "10").unwrap(),
            Instant::from_unix_secs(10)
        );
        assert_eq!(
            parse_timestamp("since", "10.5").unwrap(),
            Instant::from_unix_nanos(10_500_000_000)
        );
        assert_eq!(
            parse_timestamp("since", "10.000000001").unwrap(),
            Instant::from_unix_nanos(10_000_000_001)
        );
        assert_eq!(
            parse_timestamp("since", "-5").unwrap(),
            Instant::from_unix_nanos(0)
        );
        assert!(parse_timestamp("since", "abc").is_err());
        assert!(parse_timestamp("since", "1.x").is_err());
        assert!(parse_timestamp("since", "").is_err());
    }

    #[test]
    fn version_prefixes() {
        assert_eq!(
            split_version("/v1.44/info").unwrap(),
            (ApiVersion(1, 44), "/info")
        );
        assert_eq!(
            split_version("/v1.30/info").unwrap(),
            (ApiVersion(1, 30), "/info")
        );
        assert_eq!(split_version("/info").unwrap(), (ApiVersion::MAX, "/info"));
        assert_eq!(
            split_version("/v1.44").unwrap(),
            (ApiVersion::MAX, "/v1.44")
        );
        assert_eq!(
            split_version("/volumes").unwrap(),
            (ApiVersion::MAX, "/volumes")
        );
        assert!(split_version("/v1.99/info").is_err());
    }
}
