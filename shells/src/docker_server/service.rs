//! One request: read its body within the limits, route it, answer it or hand it to the
//! driver, and shape the driver's answer into a response (whole, or streamed).

use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderValue, CONNECTION, CONTENT_LENGTH};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use mesoswarm_core::docker::proxy_route::proxy_route;
use mesoswarm_core::docker::render::{error_response, to_http};
use mesoswarm_core::docker::request::DockerRequest;
use mesoswarm_core::docker::route::{payload_too_large, route_with_limits, split_version};
use mesoswarm_core::docker::{ApiError, DockerResponse, RouteLimits, Routed};

use crate::docker_server::body::ServerBody;
use crate::docker_server::proxy;
use crate::docker_server::streams::{events_stream, wait_stream};
use crate::docker_server::ServerShared;
use crate::runtime::{timeout, Runtime};

/// Answers one request. Never fails and never panics: every problem is a Docker-style
/// error response.
pub(crate) async fn handle<R: Runtime>(
    shared: Arc<ServerShared<R>>,
    req: Request<Incoming>,
) -> Response<ServerBody> {
    // Requests for an agent's engine are told apart before the body is read: `docker cp`
    // streams its body through.
    if let Ok((version, path)) = split_version(req.uri().path()) {
        if let Some(route) = proxy_route(req.method(), path) {
            let route = match route {
                Ok(r) => r,
                Err(e) => return full(error_response(&e)),
            };
            let (parts, body) = req.into_parts();
            return proxy::handle(&shared, parts, body, route, version).await;
        }
    }
    let req = match read_body(&shared, req).await {
        Ok(req) => req,
        Err(resp) => return full(closing(resp)),
    };
    let limits = RouteLimits {
        max_body_bytes: shared.limits.max_body_bytes,
    };
    match route_with_limits(&req, &limits) {
        Routed::Answer(resp) => full(resp),
        Routed::Proxy { .. } => full(error_response(&ApiError::internal(
            "a proxied request reached the core's router",
        ))),
        Routed::Core {
            request,
            version: _,
        } => submit(&shared, request).await,
    }
}

/// The request with its whole body, or the answer when the body is too large, too slow
/// or unreadable (after which the connection is closed, as the rest is not read).
async fn read_body<R: Runtime>(
    shared: &ServerShared<R>,
    req: Request<Incoming>,
) -> Result<Request<Bytes>, Response<Bytes>> {
    let max = shared.limits.max_body_bytes;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(payload_too_large(max));
    }
    let (parts, body) = req.into_parts();
    let read = Limited::new(body, max).collect();
    let collected = match timeout(&shared.rt, shared.limits.body_read_timeout, read).await {
        None => {
            return Err(error_response(&ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    shared.limits.body_read_timeout.as_secs()
                ),
            )))
        }
        Some(Err(e)) if e.is::<LengthLimitError>() => return Err(payload_too_large(max)),
        Some(Err(e)) => {
            return Err(error_response(&ApiError::bad_request(format!(
                "cannot read the request body: {e}"
            ))))
        }
        Some(Ok(collected)) => collected,
    };
    Ok(Request::from_parts(parts, collected.to_bytes()))
}

/// Hands a routed request to the driver and turns its first answer into the response.
async fn submit<R: Runtime>(
    shared: &ServerShared<R>,
    request: DockerRequest,
) -> Response<ServerBody> {
    match submit_answer(shared, request).await {
        Answer::Response(r) => r,
    }
}

/// What the driver's first answer becomes.
enum Answer {
    Response(Response<ServerBody>),
}

async fn submit_answer<R: Runtime>(shared: &ServerShared<R>, request: DockerRequest) -> Answer {
    let until = match &request {
        DockerRequest::Events(q) => q.until,
        _ => None,
    };
    let mut responses = match shared.driver.submit(request) {
        Ok(r) => r,
        Err(answer) => return Answer::Response(full(to_http(&answer))),
    };
    let Some(first) = responses.next().await else {
        return Answer::Response(full(to_http(&DockerResponse::Error(
            ApiError::unavailable("mesoswarm is shutting down"),
        ))));
    };
    Answer::Response(match first {
        DockerResponse::WaitPending => streamed(
            to_http(&DockerResponse::WaitPending),
            wait_stream(responses),
        ),
        DockerResponse::Events(history) => {
            let head = to_http(&DockerResponse::Events(Vec::new()));
            let body = events_stream(&shared.rt, &shared.driver, &history, until, responses);
            streamed(head, body)
        }
        answer => full(to_http(&answer)),
    })
}

fn full(resp: Response<Bytes>) -> Response<ServerBody> {
    resp.map(ServerBody::full)
}

/// `head`'s status and headers with a streamed body (chunked: no `Content-Length`).
fn streamed(
    head: Response<Bytes>,
    body: futures_util::stream::BoxStream<'static, Bytes>,
) -> Response<ServerBody> {
    let (mut parts, _) = head.into_parts();
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, ServerBody::Stream(body))
}

/// `resp` with `Connection: close`.
fn closing(mut resp: Response<Bytes>) -> Response<Bytes> {
    resp.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// The answer to a connection over the limit.
pub(crate) fn too_many_connections(limit: usize) -> Response<ServerBody> {
    full(closing(error_response(&ApiError::unavailable(format!(
        "too many connections to mesoswarm (limit {limit}); try again"
    )))))
}
