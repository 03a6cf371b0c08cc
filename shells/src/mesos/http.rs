//! HTTP/1.1 plumbing shared by the SUBSCRIBE stream and the call connection: one hyper
//! client connection per TCP connection, driven by a task on the runtime and closed when its
//! [`Conn`] is dropped; the request shape the master insists on.

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use futures_util::future::{select, Either};
use http::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1;

use super::masters::MasterAddr;
use super::Credential;
use crate::runtime::{timeout, Runtime};

/// The scheduler endpoint; `/master/...` works whether or not the master runs with the
/// `master` delegate (`reference/mesos-v1-api.md` §1.1).
pub(crate) const SCHEDULER_PATH: &str = "/master/api/v1/scheduler";
/// The only media type we speak, on requests and the event stream.
pub(crate) const PROTOBUF: &str = "application/x-protobuf";
/// The stream id header (set by the SUBSCRIBE answer, echoed on every other call).
pub(crate) const STREAM_ID_HEADER: &str = "Mesos-Stream-Id";

/// Dropping it tells the matching [`AbortSignal`] to fire.
#[derive(Debug)]
pub(crate) struct Abort(#[allow(dead_code)] async_channel::Sender<()>);

/// Completes once its [`Abort`] is dropped.
#[derive(Debug)]
pub(crate) struct AbortSignal(async_channel::Receiver<()>);

impl AbortSignal {
    /// Waits until the [`Abort`] is dropped.
    pub(crate) async fn aborted(&self) {
        // Nothing is ever sent: `recv` only returns once the sender is gone.
        let _ = self.0.recv().await;
    }
}

/// A linked [`Abort`] / [`AbortSignal`] pair.
pub(crate) fn abort_pair() -> (Abort, AbortSignal) {
    let (tx, rx) = async_channel::bounded(1);
    (Abort(tx), AbortSignal(rx))
}

/// One HTTP/1.1 connection to a master. Dropping it closes the socket.
pub(crate) struct Conn {
    /// Where it goes.
    pub(crate) addr: MasterAddr,
    /// Sends requests on it, one at a time.
    pub(crate) sender: http1::SendRequest<Full<Bytes>>,
    _close: Abort,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").field("addr", &self.addr).finish()
    }
}

/// Opens a TCP connection to `addr` (within `limit`) and starts HTTP/1.1 on it.
pub(crate) async fn connect<R: Runtime>(
    rt: &R,
    addr: &MasterAddr,
    limit: Duration,
) -> Result<Conn, String> {
    let io = timeout(
        rt,
        limit,
        rt.connect_tcp(&addr.host_for_authority(), addr.port),
    )
    .await
    .ok_or_else(|| format!("connecting to {addr} timed out after {limit:?}"))?
    .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let (sender, conn) = http1::handshake::<_, Full<Bytes>>(io)
        .await
        .map_err(|e| format!("HTTP handshake with {addr} failed: {e}"))?;
    let (close, closed) = abort_pair();
    let name = addr.to_string();
    rt.spawn(Box::pin(async move {
        let conn = std::pin::pin!(conn);
        let closed = std::pin::pin!(closed.aborted());
        if let Either::Left((Err(e), _)) = select(conn, closed).await {
            tracing::debug!(master = %name, error = %e, "connection to the Mesos master ended");
        }
    }));
    Ok(Conn {
        addr: addr.clone(),
        sender,
        _close: close,
    })
}

/// The `Authorization` header value for HTTP basic authentication.
pub(crate) fn basic_auth(credential: &Credential) -> Option<HeaderValue> {
    let raw = format!("{}:{}", credential.principal, credential.secret);
    let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// A POST of a protobuf `Call` to the scheduler endpoint of `addr`, with the stream id for
/// every call but SUBSCRIBE.
pub(crate) fn post(
    addr: &MasterAddr,
    body: Bytes,
    stream_id: Option<&str>,
    auth: Option<&HeaderValue>,
) -> Result<Request<Full<Bytes>>, String> {
    let mut req = Request::post(SCHEDULER_PATH)
        .header(HOST, addr.to_string())
        .header(CONTENT_TYPE, PROTOBUF)
        .header(ACCEPT, PROTOBUF);
    if let Some(id) = stream_id {
        req = req.header(STREAM_ID_HEADER, id);
    }
    if let Some(auth) = auth {
        req = req.header(AUTHORIZATION, auth.clone());
    }
    req.body(Full::new(body))
        .map_err(|e| format!("cannot build the request to {addr}: {e}"))
}

/// Reads up to `limit` bytes of a (short) response body as text, for the log.
pub(crate) async fn body_text(mut body: Incoming, limit: usize) -> String {
    let mut out = Vec::new();
    while out.len() < limit {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    let take = data.len().min(limit - out.len());
                    out.extend_from_slice(&data[..take]);
                }
            }
            Some(Err(e)) => {
                out.extend_from_slice(format!(" <body error: {e}>").as_bytes());
                break;
            }
            None => break,
        }
    }
    String::from_utf8_lossy(&out).trim().to_string()
}

/// `"400 Bad Request: <body>"`, or just the status when the body is empty.
pub(crate) fn describe(status: StatusCode, text: &str) -> String {
    if text.is_empty() {
        status.to_string()
    } else {
        format!("{status}: {text}")
    }
}
