//! The container-level Docker API, answered by the engine on the container's agent: the
//! core says where the container runs, this module forwards the request there and shapes
//! the answer for the client (`reference/docker-api.md` §7).
//!
//! * The path is rewritten to the agent-side container id and to an API version the engine
//!   speaks (the lower of the client's and the engine's); the query stays as it was.
//! * Toward the client, the headers are mesoswarm's (`Api-Version`, `Server`, …) and stream
//!   media types follow the client's version and the container's TTY, not the engine's.
//! * Ids the engine puts in answers (stats, exec inspect, error texts) become the manager's.
//! * Streams are relayed chunk by chunk. An engine that fails mid-stream ends a stdcopy
//!   stream with a `systemerr` frame (the docker CLI prints it as an error) and any other
//!   stream by aborting it, so a client never mistakes a cut-off answer for a whole one.

// An `Err` here is the finished answer for the client, sent as it is: boxing it would only
// add an allocation on the error path.
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use futures_util::stream::{self, BoxStream};
use futures_util::StreamExt;
use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use http::request::Parts;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, BodyStream};
use hyper::body::Incoming;
use mesoswarm_core::docker::proxy_route::{ExecAction, ProxyOp, ProxyRoute};
use mesoswarm_core::docker::render::{error_response, to_http};
use mesoswarm_core::docker::response::Location;
use mesoswarm_core::docker::{ApiError, ApiVersion, DockerRequest, DockerResponse};

use crate::docker_server::body::ServerBody;
use crate::docker_server::exec_registry::{ExecRegistry, ExecTarget, DEFAULT_MAX_EXEC_INSTANCES};
use crate::docker_server::ServerShared;
use crate::engine::{full_body, EngineAddr, EngineBody, EngineClient, EngineError, EngineResolver};
use crate::runtime::Runtime;

/// Limits of the proxy.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ProxyLimits {
    /// Exec instances whose engine is remembered.
    pub max_exec_instances: usize,
    /// A line of a `docker stats` stream longer than this is passed on unchanged (its ids are
    /// not rewritten) rather than buffered further.
    pub max_stats_line_bytes: usize,
    /// After an attached container exits, its engine normally closes the stream at once; if
    /// it has not after this long, the proxy closes it (see `proxy_hijack`).
    pub attach_drain_after_exit_ms: u64,
}

impl Default for ProxyLimits {
    fn default() -> Self {
        ProxyLimits {
            max_exec_instances: DEFAULT_MAX_EXEC_INSTANCES,
            max_stats_line_bytes: 1 << 20,
            attach_drain_after_exit_ms: 2_000,
        }
    }
}

/// What the proxy shares between requests.
pub(crate) struct ProxyShared<R: Runtime> {
    pub(crate) client: EngineClient<R>,
    pub(crate) resolver: EngineResolver,
    pub(crate) execs: Mutex<ExecRegistry>,
    pub(crate) limits: ProxyLimits,
}

impl<R: Runtime> ProxyShared<R> {
    pub(crate) fn new(
        client: EngineClient<R>,
        resolver: EngineResolver,
        limits: ProxyLimits,
    ) -> Self {
        ProxyShared {
            client,
            resolver,
            execs: Mutex::new(ExecRegistry::new(limits.max_exec_instances)),
            limits,
        }
    }

    fn execs(&self) -> std::sync::MutexGuard<'_, ExecRegistry> {
        self.execs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Where a request goes on an engine, and what the client must see of the answer.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) addr: EngineAddr,
    /// The manager's container id and name.
    pub(crate) container: mesoswarm_core::ids::ContainerId,
    pub(crate) name: String,
    /// The engine-side container id.
    pub(crate) docker_id: String,
    pub(crate) tty: bool,
}

impl Target {
    /// Where the located container's engine is; an error when the agents have none.
    pub(crate) fn of(resolver: &EngineResolver, l: &Location) -> Result<Target, ApiError> {
        if let Some(why) = &resolver.no_engine {
            return Err(ApiError::new(StatusCode::NOT_IMPLEMENTED, why.clone()));
        }
        Ok(Target {
            addr: resolver.resolve(&l.agent_hostname, l.agent_docker_port),
            container: l.id,
            name: l.name.clone(),
            docker_id: l.docker_id.clone(),
            tty: l.tty,
        })
    }
}

/// Answers a proxied request. `body` is unread: only `docker cp` into a container streams
/// it through; the others are small and read here within the server's limits.
pub(crate) async fn handle<R: Runtime>(
    shared: &Arc<ServerShared<R>>,
    parts: Parts,
    body: Incoming,
    route: ProxyRoute,
    version: ApiVersion,
) -> Response<ServerBody> {
    match route {
        ProxyRoute::Container { container, op } => {
            let mut responses = match shared
                .driver
                .submit(DockerRequest::Locate { container, op })
            {
                Ok(r) => r,
                Err(answer) => return full(to_http(&answer)),
            };
            let Some(first) = responses.next().await else {
                return error(ApiError::unavailable("mesoswarm is shutting down"));
            };
            if op == ProxyOp::Attach {
                return crate::docker_server::proxy_hijack::attach(
                    shared, parts, first, responses, version,
                )
                .await;
            }
            let location = match first {
                DockerResponse::Located(l) => l,
                DockerResponse::NotOnAgent { id, name, tty } => {
                    return not_on_agent(op, &id.to_hex(), &name, tty, version)
                }
                other => return full(to_http(&other)),
            };
            if op.needs_running() && !location.running {
                return error(ApiError::conflict(format!(
                    "Container {} is not running",
                    location.id.to_hex()
                )));
            }
            let target = match Target::of(&shared.proxy.resolver, &location) {
                Ok(t) => t,
                Err(e) => return error(e),
            };
            container_op(shared, parts, body, op, target, version).await
        }
        ProxyRoute::Image { name } => image_inspect(shared, &name, version).await,
        ProxyRoute::Exec { exec_id, action } => {
            let Some(t) = shared.proxy.execs().get(&exec_id).cloned() else {
                return error(ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("No such exec instance: {exec_id}"),
                ));
            };
            exec_op(shared, parts, body, &exec_id, action, t, version).await
        }
    }
}

/// Logs of a container that never ran are empty; a stats sample has only its name and id
/// (as dockerd answers for a stopped container); anything else is a conflict.
fn not_on_agent(
    op: ProxyOp,
    id: &str,
    name: &str,
    tty: bool,
    version: ApiVersion,
) -> Response<ServerBody> {
    match op {
        ProxyOp::Logs => {
            let mut resp = Response::new(ServerBody::full(Bytes::new()));
            stamp(resp.headers_mut(), Some(stream_media(tty, version)));
            resp
        }
        ProxyOp::Stats => {
            let body = serde_json::json!({ "name": format!("/{name}"), "id": id });
            let mut resp = Response::new(ServerBody::full(Bytes::from(body.to_string())));
            stamp(resp.headers_mut(), Some("application/json"));
            resp
        }
        _ => error(ApiError::conflict(format!(
            "container {name} has not run on an agent yet, so no Docker engine has it: start it first"
        ))),
    }
}

async fn container_op<R: Runtime>(
    shared: &Arc<ServerShared<R>>,
    parts: Parts,
    body: Incoming,
    op: ProxyOp,
    target: Target,
    version: ApiVersion,
) -> Response<ServerBody> {
    let proxy = &shared.proxy;
    let engine_version = match engine_version(&proxy.client, &target.addr, version).await {
        Ok(v) => v,
        Err(e) => return engine_error(&proxy.client, &e),
    };
    let path = format!(
        "/v{}.{}/containers/{}/{}{}",
        engine_version.0,
        engine_version.1,
        target.docker_id,
        op.action(),
        query_of(&parts)
    );
    // Only an archive upload is streamed through; the other bodies are small.
    let body = if op == ProxyOp::Archive && parts.method == Method::PUT {
        body.map_err(|e| -> crate::engine::client::BoxError { Box::new(e) })
            .boxed()
    } else {
        match read_small_body(shared, body).await {
            Ok(b) => full_body(b),
            Err(resp) => return resp,
        }
    };
    let req = match forward_request(&parts, &path, body, false) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let resp = match proxy.client.send(&target.addr, req, None).await {
        Ok(r) => r,
        Err(e) => return engine_error(&proxy.client, &e),
    };
    let status = resp.status();
    if status.is_client_error() || status.is_server_error() {
        return engine_failure_answer(&target, resp).await;
    }
    match op {
        ProxyOp::ExecCreate => exec_created(shared, &target, resp).await,
        ProxyOp::Stats => relay(
            resp,
            RelayShape::Stats {
                id: target.container.to_hex(),
                name: format!("/{}", target.name),
                max_line_bytes: proxy.limits.max_stats_line_bytes,
            },
            None,
        ),
        ProxyOp::Logs => {
            let media = stream_media(target.tty, version);
            let shape = if target.tty {
                RelayShape::Raw
            } else {
                RelayShape::Stdcopy
            };
            relay(resp, shape, Some(media))
        }
        _ => relay(resp, RelayShape::Raw, None),
    }
}

async fn exec_op<R: Runtime>(
    shared: &Arc<ServerShared<R>>,
    parts: Parts,
    body: Incoming,
    exec_id: &str,
    action: ExecAction,
    target: ExecTarget,
    version: ApiVersion,
) -> Response<ServerBody> {
    let proxy = &shared.proxy;
    let engine_version = match engine_version(&proxy.client, &target.addr, version).await {
        Ok(v) => v,
        Err(e) => return engine_error(&proxy.client, &e),
    };
    let action_path = match action {
        ExecAction::Start => "start",
        ExecAction::Resize => "resize",
        ExecAction::Inspect => "json",
    };
    let path = format!(
        "/v{}.{}/exec/{exec_id}/{action_path}{}",
        engine_version.0,
        engine_version.1,
        query_of(&parts)
    );
    let body = match read_small_body(shared, body).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    if action == ExecAction::Start {
        return crate::docker_server::proxy_hijack::exec_start(
            shared, parts, body, path, target, version,
        )
        .await;
    }
    let req = match forward_request(&parts, &path, full_body(body), false) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let resp = match proxy.client.send(&target.addr, req, None).await {
        Ok(r) => r,
        Err(e) => return engine_error(&proxy.client, &e),
    };
    let as_target = Target {
        addr: target.addr.clone(),
        container: target.container,
        name: String::new(),
        docker_id: target.docker_id.clone(),
        tty: false,
    };
    if resp.status().is_client_error() || resp.status().is_server_error() {
        return engine_failure_answer(&as_target, resp).await;
    }
    if action == ExecAction::Inspect {
        return rewrite_json(&proxy.client, &as_target, resp, |v| {
            if let Some(obj) = v.as_object_mut() {
                obj.insert(
                    "ContainerID".into(),
                    serde_json::Value::String(target.container.to_hex()),
                );
            }
        })
        .await;
    }
    relay(resp, RelayShape::Raw, None)
}

/// `GET /images/{name}/json`, from the first of the known agents' engines that has the
/// image (Mesos' Docker containerizer pulls it on the agent at launch, so the manager has
/// no image store of its own).
async fn image_inspect<R: Runtime>(
    shared: &Arc<ServerShared<R>>,
    name: &str,
    version: ApiVersion,
) -> Response<ServerBody> {
    let proxy = &shared.proxy;
    if let Some(why) = &proxy.resolver.no_engine {
        return error(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("No such image: {name} ({why})"),
        ));
    }
    let mut addrs: Vec<EngineAddr> = match &proxy.resolver.fixed {
        Some(fixed) => vec![fixed.clone()],
        None => {
            let mut responses = match shared.driver.submit(DockerRequest::Engines) {
                Ok(r) => r,
                Err(answer) => return full(to_http(&answer)),
            };
            match responses.next().await {
                Some(DockerResponse::Engines(list)) => list
                    .iter()
                    .map(|(host, port)| proxy.resolver.resolve(host, *port))
                    .collect(),
                Some(other) => return full(to_http(&other)),
                None => return error(ApiError::unavailable("mesoswarm is shutting down")),
            }
        }
    };
    addrs.dedup();
    let mut last_failure = None;
    for addr in addrs.iter().take(MAX_ENGINES_ASKED_PER_IMAGE) {
        let ev = match engine_version(&proxy.client, addr, version).await {
            Ok(v) => v,
            Err(e) => {
                proxy.client.forget(addr);
                last_failure = Some(e.to_string());
                continue;
            }
        };
        let path = format!("/v{}.{}/images/{}/json", ev.0, ev.1, encode_path(name));
        match proxy
            .client
            .call(addr, Method::GET, &path, None, None)
            .await
        {
            Ok((status, body)) if status.is_success() => {
                let mut resp = Response::new(ServerBody::full(body));
                stamp(resp.headers_mut(), Some("application/json"));
                return resp;
            }
            Ok(_) => {}
            Err(e) => {
                proxy.client.forget(addr);
                last_failure = Some(e.to_string());
            }
        }
    }
    let detail = match (addrs.is_empty(), last_failure) {
        (true, _) => " (no agent is known yet to ask)".to_string(),
        (false, Some(f)) => format!(" (not on the agents' engines that answered; {f})"),
        (false, None) => String::new(),
    };
    error(ApiError::new(
        StatusCode::NOT_FOUND,
        format!("No such image: {name}{detail}"),
    ))
}

/// The agents' engines asked for one image, at most.
const MAX_ENGINES_ASKED_PER_IMAGE: usize = 16;

/// Percent-encodes what cannot stand in a path segment (an image name keeps its `/` and
/// `:`).
fn encode_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/' | b':' | b'@')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Remembers a new exec instance's engine, and passes the answer on.
async fn exec_created<R: Runtime>(
    shared: &Arc<ServerShared<R>>,
    target: &Target,
    resp: Response<Incoming>,
) -> Response<ServerBody> {
    let client = &shared.proxy.client;
    let (parts, bytes) = match read_answer(client, target, resp).await {
        Ok(answer) => answer,
        Err(resp) => return resp,
    };
    let id = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("Id").and_then(|i| i.as_str()).map(str::to_string));
    match id {
        Some(id) => shared.proxy.execs().insert(
            id,
            ExecTarget {
                addr: target.addr.clone(),
                container: target.container,
                docker_id: target.docker_id.clone(),
            },
        ),
        None => tracing::warn!(
            "the engine at {} created an exec instance without an Id: {}",
            target.addr,
            String::from_utf8_lossy(&bytes)
        ),
    }
    let mut resp = Response::from_parts(parts, ServerBody::full(bytes));
    stamp(resp.headers_mut(), None);
    resp
}

/// The engine's API version to use for a client speaking `client`: the lower of the two.
pub(crate) async fn engine_version<R: Runtime>(
    client: &EngineClient<R>,
    addr: &EngineAddr,
    client_version: ApiVersion,
) -> Result<(u32, u32), EngineError> {
    let engine = client.api_version(addr).await?;
    let asked = (client_version.0, client_version.1);
    Ok(asked.min(engine))
}

/// `?query` of the client's request, or nothing.
pub(crate) fn query_of(parts: &Parts) -> String {
    parts
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default()
}

/// The request for the engine: the client's method, content headers, and `path`.
pub(crate) fn forward_request(
    parts: &Parts,
    path: &str,
    body: EngineBody,
    upgrade: bool,
) -> Result<Request<EngineBody>, Response<ServerBody>> {
    let mut builder = Request::builder().method(parts.method.clone()).uri(path);
    for name in [CONTENT_TYPE, HeaderName::from_static("x-registry-auth")] {
        if let Some(v) = parts.headers.get(&name) {
            builder = builder.header(name, v.clone());
        }
    }
    if let Some(len) = parts.headers.get(CONTENT_LENGTH) {
        builder = builder.header(CONTENT_LENGTH, len.clone());
    }
    if upgrade {
        builder = builder
            .header(http::header::CONNECTION, "Upgrade")
            .header(http::header::UPGRADE, "tcp");
    }
    builder.body(body).map_err(|e| {
        error(ApiError::bad_request(format!(
            "cannot forward the request: {e}"
        )))
    })
}

/// Reads a small request body within the server's limit.
async fn read_small_body<R: Runtime>(
    shared: &Arc<ServerShared<R>>,
    body: Incoming,
) -> Result<Bytes, Response<ServerBody>> {
    let max = shared.limits.max_body_bytes;
    let read = http_body_util::Limited::new(body, max).collect();
    match crate::runtime::timeout(&shared.rt, shared.limits.body_read_timeout, read).await {
        None => Err(error(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "the request body did not arrive in time",
        ))),
        Some(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            Err(full(mesoswarm_core::docker::route::payload_too_large(max)))
        }
        Some(Err(e)) => Err(error(ApiError::bad_request(format!(
            "cannot read the request body: {e}"
        )))),
        Some(Ok(c)) => Ok(c.to_bytes()),
    }
}

/// An engine answer passed on as it is, except that an error's text names the manager's
/// container id instead of the engine-side one.
pub(crate) async fn relay_plain(
    target: &ExecTarget,
    resp: Response<Incoming>,
) -> Response<ServerBody> {
    if resp.status().is_client_error() || resp.status().is_server_error() {
        let t = Target {
            addr: target.addr.clone(),
            container: target.container,
            name: String::new(),
            docker_id: target.docker_id.clone(),
            tty: false,
        };
        return engine_failure_answer(&t, resp).await;
    }
    relay(resp, RelayShape::Raw, None)
}

/// An engine error answer, with the engine-side container id replaced by the manager's.
async fn engine_failure_answer(target: &Target, resp: Response<Incoming>) -> Response<ServerBody> {
    let status = resp.status();
    let body = crate::engine::client::read_whole(&target.addr, resp.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let message = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| String::from_utf8_lossy(&body).trim().to_string());
    let message = message.replace(&target.docker_id, &target.container.to_hex());
    error(ApiError::new(status, message))
}

/// An engine answer's head and whole body (up to the client's buffering limit).
async fn read_answer<R: Runtime>(
    client: &EngineClient<R>,
    target: &Target,
    resp: Response<Incoming>,
) -> Result<(http::response::Parts, Bytes), Response<ServerBody>> {
    let (parts, body) = resp.into_parts();
    let limit = client.limits().max_buffered_response_bytes;
    match crate::engine::client::read_whole(&target.addr, body, limit).await {
        Ok(bytes) => Ok((parts, bytes)),
        Err(e) => Err(engine_error(client, &e)),
    }
}

/// Reads a JSON answer, changes it, and sends it on.
async fn rewrite_json<R: Runtime>(
    client: &EngineClient<R>,
    target: &Target,
    resp: Response<Incoming>,
    change: impl FnOnce(&mut serde_json::Value),
) -> Response<ServerBody> {
    let (parts, bytes) = match read_answer(client, target, resp).await {
        Ok(answer) => answer,
        Err(resp) => return resp,
    };
    let bytes = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(mut v) => {
            change(&mut v);
            Bytes::from(v.to_string())
        }
        Err(_) => bytes,
    };
    let mut resp = Response::from_parts(parts, ServerBody::full(bytes));
    resp.headers_mut().remove(CONTENT_LENGTH);
    stamp(resp.headers_mut(), None);
    resp
}

/// How a relayed body is passed on.
enum RelayShape {
    /// As it comes; an engine failure aborts the stream.
    Raw,
    /// stdcopy frames; an engine failure adds a `systemerr` frame and ends the stream.
    Stdcopy,
    /// JSON lines of `docker stats` with the manager's id and name.
    Stats {
        id: String,
        name: String,
        max_line_bytes: usize,
    },
}

/// Relays an engine answer to the client: the status, mesoswarm's headers, and the body
/// chunk by chunk.
fn relay(
    resp: Response<Incoming>,
    shape: RelayShape,
    media: Option<&'static str>,
) -> Response<ServerBody> {
    let (mut parts, body) = resp.into_parts();
    let keep_length = matches!(shape, RelayShape::Raw | RelayShape::Stdcopy);
    if !keep_length {
        parts.headers.remove(CONTENT_LENGTH);
    }
    // Hop-by-hop and engine identity headers are not the client's business.
    for h in [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "docker-experimental",
    ] {
        parts.headers.remove(h);
    }
    stamp(&mut parts.headers, media);
    let frames = BodyStream::new(body);
    let stream: BoxStream<'static, Result<Bytes, std::io::Error>> = match shape {
        RelayShape::Raw => frames
            .filter_map(|f| async move {
                match f {
                    Ok(frame) => frame.into_data().ok().map(Ok),
                    Err(e) => Some(Err(std::io::Error::other(format!(
                        "the agent's Docker engine failed mid-stream: {e}"
                    )))),
                }
            })
            .boxed(),
        RelayShape::Stdcopy => stdcopy_relay(frames),
        RelayShape::Stats {
            id,
            name,
            max_line_bytes,
        } => stats_relay(frames, id, name, max_line_bytes),
    };
    Response::from_parts(parts, ServerBody::Fallible(stream))
}

/// A stdcopy stream that ends with a `systemerr` frame if the engine fails.
fn stdcopy_relay(
    frames: BodyStream<Incoming>,
) -> BoxStream<'static, Result<Bytes, std::io::Error>> {
    stream::unfold(Some(frames), |state| async move {
        let mut frames = state?;
        loop {
            match frames.next().await? {
                Ok(frame) => {
                    if let Ok(data) = frame.into_data() {
                        return Some((Ok(data), Some(frames)));
                    }
                }
                Err(e) => {
                    let text = format!("the agent's Docker engine failed mid-stream: {e}");
                    return Some((Ok(systemerr_frame(&text)), None));
                }
            }
        }
    })
    .boxed()
}

/// A stdcopy frame on stream 3 (`systemerr`), which the docker CLI reports as an error.
pub(crate) fn systemerr_frame(text: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(text.len() + 8);
    out.extend_from_slice(&[3, 0, 0, 0]);
    out.extend_from_slice(&(text.len() as u32).to_be_bytes());
    out.extend_from_slice(text.as_bytes());
    out.freeze()
}

struct StatsState {
    frames: Option<BodyStream<Incoming>>,
    pending: BytesMut,
    id: String,
    name: String,
    max_line_bytes: usize,
}

/// `docker stats` JSON (one object, or one per line) with the manager's id and name.
fn stats_relay(
    frames: BodyStream<Incoming>,
    id: String,
    name: String,
    max_line_bytes: usize,
) -> BoxStream<'static, Result<Bytes, std::io::Error>> {
    // One object (stream=0) or one per second: both are newline-terminated JSON lines.
    let state = StatsState {
        frames: Some(frames),
        pending: BytesMut::new(),
        id,
        name,
        max_line_bytes,
    };
    stream::unfold(state, |mut s| async move {
        loop {
            if let Some(end) = s.pending.iter().position(|b| *b == b'\n') {
                let line = s.pending.split_to(end + 1);
                return Some((Ok(rewrite_stats_line(&line, &s.id, &s.name)), s));
            }
            if s.pending.len() > s.max_line_bytes {
                let chunk = s.pending.split().freeze();
                return Some((Ok(chunk), s));
            }
            let Some(frames) = s.frames.as_mut() else {
                if s.pending.is_empty() {
                    return None;
                }
                let rest = s.pending.split();
                return Some((Ok(rewrite_stats_line(&rest, &s.id, &s.name)), s));
            };
            match frames.next().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        s.pending.extend_from_slice(&data);
                    }
                }
                Some(Err(e)) => {
                    return Some((
                        Err(std::io::Error::other(format!(
                            "the agent's Docker engine failed mid-stream: {e}"
                        ))),
                        StatsState {
                            frames: None,
                            pending: BytesMut::new(),
                            ..s
                        },
                    ))
                }
                None => s.frames = None,
            }
        }
    })
    .boxed()
}

fn rewrite_stats_line(line: &[u8], id: &str, name: &str) -> Bytes {
    let newline = line.ends_with(b"\n");
    match serde_json::from_slice::<serde_json::Value>(line) {
        Ok(mut v) => {
            if let Some(obj) = v.as_object_mut() {
                obj.insert("id".into(), serde_json::Value::String(id.to_string()));
                obj.insert("name".into(), serde_json::Value::String(name.to_string()));
            }
            let mut out = v.to_string().into_bytes();
            if newline {
                out.push(b'\n');
            }
            Bytes::from(out)
        }
        Err(_) => Bytes::copy_from_slice(line),
    }
}

/// The media type of a logs or attach stream for this client: stdcopy frames unless the
/// container has a TTY; before API 1.42 dockerd called both `raw-stream`.
pub(crate) fn stream_media(tty: bool, version: ApiVersion) -> &'static str {
    if tty || version < ApiVersion(1, 42) {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    }
}

/// mesoswarm's identity headers, and the media type if given.
pub(crate) fn stamp(headers: &mut HeaderMap, media: Option<&'static str>) {
    headers.remove("api-version");
    headers.remove(http::header::SERVER);
    headers.remove("ostype");
    mesoswarm_core::docker::version::stamp_headers(headers);
    if let Some(m) = media {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(m));
    }
}

/// 502 with what went wrong reaching the engine; its cached facts are dropped.
pub(crate) fn engine_error<R: Runtime>(
    client: &EngineClient<R>,
    e: &EngineError,
) -> Response<ServerBody> {
    let addr = match e {
        EngineError::Connect { addr, .. }
        | EngineError::Timeout { addr, .. }
        | EngineError::Http { addr, .. } => addr,
    };
    client.forget(addr);
    tracing::warn!("{e}");
    error(ApiError::new(StatusCode::BAD_GATEWAY, e.to_string()))
}

pub(crate) fn error(e: ApiError) -> Response<ServerBody> {
    full(error_response(&e))
}

pub(crate) fn full(resp: Response<Bytes>) -> Response<ServerBody> {
    resp.map(ServerBody::full)
}
