//! The hijacked half of the proxy: attach and exec start. The client's connection is
//! upgraded (101), the engine's too, and [`splice`] bridges them.
//!
//! `docker run` attaches *before* it starts the container (`reference/docker-api.md` §4.3),
//! when no agent runs it yet: the client gets its 101 at once and the bridge is made when the
//! core says where the task runs. Output the container wrote before that is replayed
//! (`logs=1`), so a fast `echo hello` is not lost; if it has already exited, the engine is
//! asked for the logs only (`stream=0`), since an attach to a stopped container would wait
//! for its next start.

// An `Err` here is the finished answer for the client, sent as it is: boxing it would only
// add an allocation on the error path.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::{select, Either};
use http::header::{HeaderValue, CONNECTION, CONTENT_TYPE, UPGRADE};
use http::request::Parts;
use http::{Method, Response, StatusCode};
use hyper::upgrade::{OnUpgrade, Upgraded};
use mesoswarm_core::docker::query::Query;
use mesoswarm_core::docker::{ApiError, ApiVersion, DockerResponse};

use crate::docker_server::body::ServerBody;
use crate::docker_server::exec_registry::ExecTarget;
use crate::docker_server::hijack::{write_frame_and_close, SYSTEMERR};
use crate::docker_server::proxy::{
    engine_error, engine_version, error, forward_request, full, relay_plain, stamp, stream_media,
    Target,
};
use crate::docker_server::splice::{splice, SpliceEnd};
use crate::docker_server::ServerShared;
use crate::driver::Responses;
use crate::engine::{empty_body, full_body, EngineClient};
use crate::runtime::Runtime;

/// `POST /containers/{id}/attach`, given the core's first answer to `Locate`.
pub(crate) async fn attach<R: Runtime>(
    shared: &Arc<ServerShared<R>>,
    mut parts: Parts,
    first: DockerResponse,
    mut responses: Responses,
    version: ApiVersion,
) -> Response<ServerBody> {
    let upgrade_asked = parts
        .headers
        .get(UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"tcp"));
    let tty = match &first {
        DockerResponse::Located(l) => l.tty,
        DockerResponse::LocatePending { tty } => *tty,
        DockerResponse::Error(e) => return error(e.clone()),
        other => return full(mesoswarm_core::docker::render::to_http(other)),
    };
    if !upgrade_asked {
        return error(ApiError::bad_request(
            "attach needs an HTTP upgrade: send `Connection: Upgrade` and `Upgrade: tcp`",
        ));
    }
    let Some(on_upgrade) = parts.extensions.remove::<OnUpgrade>() else {
        return error(ApiError::bad_request("this connection cannot be upgraded"));
    };
    let query = parts.uri.query().unwrap_or("").to_string();
    let shared2 = shared.clone();
    match first {
        DockerResponse::Located(l) => {
            // Connect to the engine before answering. A failure still gets a 101 and the
            // reason on the stream: the docker CLI shows nothing of a non-101 answer but
            // "unable to upgrade to tcp".
            let engine = match Target::of(&shared.proxy.resolver, &l) {
                Ok(target) => match open_attach(shared, &target, version, &query, false).await {
                    Ok(io) => Ok(io),
                    Err(resp) => Err(error_text(resp).await),
                },
                Err(e) => Err(e.message),
            };
            shared.rt.spawn(Box::pin(async move {
                let Ok(client) = on_upgrade.await else { return };
                match engine {
                    Ok(engine) => bridge(client, engine, tty, None).await,
                    Err(text) => write_frame_and_close(client, &text, tty, SYSTEMERR).await,
                }
            }));
        }
        _ => {
            shared.rt.spawn(Box::pin(async move {
                let Ok(client) = on_upgrade.await else {
                    return; // the client left; dropping `responses` tells the core
                };
                let located = match responses.next().await {
                    Some(DockerResponse::Located(l)) => l,
                    Some(DockerResponse::Error(e)) => {
                        return write_frame_and_close(client, &e.message, tty, SYSTEMERR).await
                    }
                    _ => {
                        return write_frame_and_close(
                            client,
                            "mesoswarm is shutting down",
                            tty,
                            SYSTEMERR,
                        )
                        .await
                    }
                };
                let target = match Target::of(&shared2.proxy.resolver, &located) {
                    Ok(t) => t,
                    Err(e) => {
                        return write_frame_and_close(client, &e.message, tty, SYSTEMERR).await
                    }
                };
                match open_attach(&shared2, &target, version, &query, true).await {
                    Ok(engine) => {
                        let exited = exit_then_drain(&shared2, &target, version);
                        bridge(client, engine, tty, Some(exited)).await;
                    }
                    Err(resp) => {
                        let text = error_text(resp).await;
                        write_frame_and_close(client, &text, tty, SYSTEMERR).await
                    }
                }
            }));
        }
    }
    switching(stream_media(tty, version))
}

/// `POST /exec/{id}/start`: detached starts are plain requests; attached ones are bridged.
pub(crate) async fn exec_start<R: Runtime>(
    shared: &Arc<ServerShared<R>>,
    mut parts: Parts,
    body: Bytes,
    path: String,
    target: ExecTarget,
    version: ApiVersion,
) -> Response<ServerBody> {
    let start: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let detach = start.get("Detach").and_then(|v| v.as_bool()) == Some(true);
    let tty = start.get("Tty").and_then(|v| v.as_bool()) == Some(true);
    let client = &shared.proxy.client;
    let upgrade_asked = parts
        .headers
        .get(UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"tcp"));
    let on_upgrade = parts.extensions.remove::<OnUpgrade>();
    let hijack = !detach && upgrade_asked && on_upgrade.is_some();
    let req = match forward_request(&parts, &path, full_body(body), hijack) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let resp = match client.send(&target.addr, req, None).await {
        Ok(r) => r,
        Err(e) => return engine_error(client, &e),
    };
    if !hijack || resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        // Detached, or refused by the engine: the answer is an ordinary one.
        return relay_plain(&target, resp).await;
    }
    let engine = match hyper::upgrade::on(resp).await {
        Ok(io) => io,
        Err(e) => {
            return error(ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("the agent's Docker engine did not hand over the exec stream: {e}"),
            ))
        }
    };
    let on_upgrade = on_upgrade.expect("checked above");
    shared.rt.spawn(Box::pin(async move {
        if let Ok(client) = on_upgrade.await {
            bridge(client, engine, tty, None).await;
        }
    }));
    switching(stream_media(tty, version))
}

/// Asks the engine to attach. With `replay`, the container's output so far comes first, and
/// a container that already exited gets its logs only.
async fn open_attach<R: Runtime>(
    shared: &Arc<ServerShared<R>>,
    target: &Target,
    version: ApiVersion,
    client_query: &str,
    replay: bool,
) -> Result<Upgraded, Response<ServerBody>> {
    let client = &shared.proxy.client;
    let ev = engine_version(client, &target.addr, version)
        .await
        .map_err(|e| engine_error(client, &e))?;
    let mut query = client_query.to_string();
    if replay {
        let running = engine_running(client, target, ev).await.unwrap_or(true);
        query = with_param(&query, "logs", "1");
        if !running {
            query = with_param(&query, "stream", "0");
        }
    }
    let path = format!(
        "/v{}.{}/containers/{}/attach?{query}",
        ev.0, ev.1, target.docker_id
    );
    let req = http::Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(CONNECTION, "Upgrade")
        .header(UPGRADE, "tcp")
        .header(CONTENT_TYPE, "text/plain")
        .body(empty_body())
        .map_err(|e| error(ApiError::internal(e.to_string())))?;
    let resp = client
        .send(&target.addr, req, None)
        .await
        .map_err(|e| engine_error(client, &e))?;
    if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        let exec_target = ExecTarget {
            addr: target.addr.clone(),
            container: target.container,
            docker_id: target.docker_id.clone(),
        };
        return Err(relay_plain(&exec_target, resp).await);
    }
    hyper::upgrade::on(resp).await.map_err(|e| {
        error(ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!("the agent's Docker engine did not hand over the attach stream: {e}"),
        ))
    })
}

/// Whether the engine-side container runs now (`None` if the engine could not say).
async fn engine_running<R: Runtime>(
    client: &EngineClient<R>,
    target: &Target,
    ev: (u32, u32),
) -> Option<bool> {
    let path = format!("/v{}.{}/containers/{}/json", ev.0, ev.1, target.docker_id);
    let (status, body) = client
        .call(&target.addr, Method::GET, &path, None, None)
        .await
        .ok()?;
    if !status.is_success() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
    v.pointer("/State/Running").and_then(|r| r.as_bool())
}

/// Completes a while after the engine-side container exits: the engine closes attach
/// streams when a container exits, except one opened in the instant between our look at
/// the container and the attach, which would wait for a next start that never comes.
fn exit_then_drain<R: Runtime>(
    shared: &Arc<ServerShared<R>>,
    target: &Target,
    version: ApiVersion,
) -> crate::runtime::BoxFuture<'static, ()> {
    let client = shared.proxy.client.clone();
    let rt = shared.rt.clone();
    let target = target.clone();
    let drain = Duration::from_millis(shared.proxy.limits.attach_drain_after_exit_ms);
    Box::pin(async move {
        let Ok(ev) = engine_version(&client, &target.addr, version).await else {
            return std::future::pending().await;
        };
        let path = format!(
            "/v{}.{}/containers/{}/wait?condition=not-running",
            ev.0, ev.1, target.docker_id
        );
        let req = match http::Request::builder()
            .method(Method::POST)
            .uri(path)
            .body(empty_body())
        {
            Ok(r) => r,
            Err(_) => return std::future::pending().await,
        };
        let Ok(resp) = client.send(&target.addr, req, None).await else {
            return std::future::pending().await;
        };
        // The body arrives when the container exits.
        if crate::engine::client::read_whole(&target.addr, resp.into_body(), 64 * 1024)
            .await
            .is_err()
        {
            return std::future::pending().await;
        }
        rt.sleep(drain).await;
    })
}

/// Bridges the two upgraded connections; an engine failure is reported to the client.
async fn bridge(
    client: Upgraded,
    engine: Upgraded,
    tty: bool,
    exited: Option<crate::runtime::BoxFuture<'static, ()>>,
) {
    let mut sp = splice(client, engine);
    let end = match exited {
        None => (&mut sp).await,
        Some(exited) => match select(&mut sp, exited).await {
            Either::Left((end, _)) => end,
            Either::Right(((), _)) => {
                tracing::debug!(
                    "attach: the container exited and its stream stayed open; closing it"
                );
                SpliceEnd::EngineClosed
            }
        },
    };
    match end {
        SpliceEnd::EngineClosed => {
            let mut client = sp.into_client();
            let _ = std::future::poll_fn(|cx| {
                hyper::rt::Write::poll_shutdown(std::pin::Pin::new(&mut client), cx)
            })
            .await;
        }
        SpliceEnd::ClientGone => {}
        SpliceEnd::EngineFailed(e) => {
            let text = format!("the agent's Docker engine failed mid-stream: {e}");
            tracing::warn!("attach: {text}");
            write_frame_and_close(sp.into_client(), &text, tty, SYSTEMERR).await;
        }
    }
}

/// The 101 toward the client, with mesoswarm's headers.
fn switching(media: &'static str) -> Response<ServerBody> {
    let mut resp = Response::new(ServerBody::full(Bytes::new()));
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(UPGRADE, HeaderValue::from_static("tcp"));
    stamp(h, Some(media));
    resp
}

/// `query` with `key=value`, replacing any value it had.
fn with_param(query: &str, key: &str, value: &str) -> String {
    let mut out: Vec<String> = Query::parse(query)
        .map(|q| {
            q.pairs()
                .iter()
                .filter(|(k, _)| k != key)
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect()
        })
        .unwrap_or_default();
    out.push(format!("{key}={value}"));
    out.join("&")
}

/// Percent-encodes what a query component must not hold raw.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `message` of an error answer, for writing on a hijacked stream.
async fn error_text(resp: Response<ServerBody>) -> String {
    use http_body_util::BodyExt;
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| format!("attach failed with {status}"))
}
