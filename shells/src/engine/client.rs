//! An HTTP/1.1 client for Docker engines: a small pool of idle connections per engine,
//! timeouts on connecting and on the answer's head, upgrades (attach, exec start) kept
//! possible on every connection, and each engine's API version learnt once from `/_ping`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE, HOST};
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::client::conn::http1;

use crate::engine::addr::EngineAddr;
use crate::engine::error::EngineError;
use crate::engine::tls::EngineTls;
use crate::runtime::{timeout, Runtime};

/// The error type of request bodies sent to an engine.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// A request body sent to an engine: whole, or streamed from the client (`docker cp`).
pub type EngineBody = BoxBody<Bytes, BoxError>;

/// The API version assumed of an engine that does not say (`/_ping` without `Api-Version`):
/// the minimum the docker CLI still speaks.
pub const FALLBACK_ENGINE_API_VERSION: (u32, u32) = (1, 24);

/// Limits of the engine client.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct EngineLimits {
    /// Connecting to an engine gives up after this long.
    pub connect_timeout_ms: u64,
    /// An engine must send an answer's head within this long (streams may then run on).
    pub response_timeout_ms: u64,
    /// Idle connections kept per engine.
    pub max_idle_per_engine: usize,
    /// Whole (non-streamed) answers read into memory are capped at this size.
    pub max_buffered_response_bytes: usize,
}

impl Default for EngineLimits {
    fn default() -> Self {
        EngineLimits {
            connect_timeout_ms: 5_000,
            response_timeout_ms: 30_000,
            max_idle_per_engine: 8,
            max_buffered_response_bytes: 16 << 20,
        }
    }
}

/// A whole body for a request.
pub fn full_body(bytes: impl Into<Bytes>) -> EngineBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// An empty body.
pub fn empty_body() -> EngineBody {
    full_body(Bytes::new())
}

struct Pool {
    idle: HashMap<EngineAddr, Vec<http1::SendRequest<EngineBody>>>,
    versions: HashMap<EngineAddr, (u32, u32)>,
}

/// Talks to Docker engines. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct EngineClient<R: Runtime> {
    rt: R,
    limits: EngineLimits,
    tls: Option<EngineTls>,
    pool: Arc<Mutex<Pool>>,
}

impl<R: Runtime> EngineClient<R> {
    /// A client with an empty pool.
    pub fn new(rt: R, limits: EngineLimits) -> Self {
        EngineClient {
            rt,
            limits,
            tls: None,
            pool: Arc::new(Mutex::new(Pool {
                idle: HashMap::new(),
                versions: HashMap::new(),
            })),
        }
    }

    /// The client, speaking TLS to engines on TCP addresses (`--tlsverify` engines).
    pub fn with_tls(mut self, tls: Option<EngineTls>) -> Self {
        self.tls = tls;
        self
    }

    /// The client's limits.
    pub fn limits(&self) -> &EngineLimits {
        &self.limits
    }

    /// Sends `req` to `addr` and returns the answer's head with its body still streaming.
    /// The path must be complete (with its `/v1.xx` prefix); `Host` is set here. The answer
    /// head must arrive within `head_timeout` (default: the client's limit).
    pub async fn send(
        &self,
        addr: &EngineAddr,
        mut req: Request<EngineBody>,
        head_timeout: Option<Duration>,
    ) -> Result<Response<Incoming>, EngineError> {
        if let Ok(v) = HeaderValue::from_str(&addr.authority()) {
            req.headers_mut().insert(HOST, v);
        }
        let mut sender = match self.checkout(addr) {
            Some(s) => s,
            None => self.connect(addr).await?,
        };
        let wait = head_timeout.unwrap_or(Duration::from_millis(self.limits.response_timeout_ms));
        let resp = timeout(&self.rt, wait, sender.send_request(req))
            .await
            .ok_or_else(|| EngineError::Timeout {
                addr: addr.clone(),
                what: "answer",
                after: wait,
            })?
            .map_err(|e| EngineError::Http {
                addr: addr.clone(),
                error: e.to_string(),
            })?;
        self.checkin(addr, sender);
        Ok(resp)
    }

    /// Sends a request with a whole body and reads the whole answer (up to the limit).
    pub async fn call(
        &self,
        addr: &EngineAddr,
        method: Method,
        path_and_query: &str,
        json: Option<&serde_json::Value>,
        head_timeout: Option<Duration>,
    ) -> Result<(StatusCode, Bytes), EngineError> {
        let mut builder = Request::builder().method(method).uri(path_and_query);
        let body = match json {
            Some(v) => {
                builder = builder.header(CONTENT_TYPE, "application/json");
                full_body(serde_json::to_vec(v).unwrap_or_default())
            }
            None => empty_body(),
        };
        let req = builder.body(body).map_err(|e| EngineError::Http {
            addr: addr.clone(),
            error: e.to_string(),
        })?;
        let resp = self.send(addr, req, head_timeout).await?;
        let status = resp.status();
        let body = read_whole(
            addr,
            resp.into_body(),
            self.limits.max_buffered_response_bytes,
        )
        .await?;
        Ok((status, body))
    }

    /// The highest API version `addr` speaks, from its `/_ping` (asked once per engine).
    pub async fn api_version(&self, addr: &EngineAddr) -> Result<(u32, u32), EngineError> {
        if let Some(v) = self.lock().versions.get(addr) {
            return Ok(*v);
        }
        let req = Request::builder()
            .method(Method::GET)
            .uri("/_ping")
            .body(empty_body())
            .map_err(|e| EngineError::Http {
                addr: addr.clone(),
                error: e.to_string(),
            })?;
        let resp = self.send(addr, req, None).await?;
        let version = resp
            .headers()
            .get("api-version")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_version)
            .unwrap_or(FALLBACK_ENGINE_API_VERSION);
        let _ = read_whole(addr, resp.into_body(), 1024).await;
        self.lock().versions.insert(addr.clone(), version);
        Ok(version)
    }

    /// Forgets what was learnt about `addr` (its version, its idle connections), after it
    /// failed: it may have been restarted or replaced.
    pub fn forget(&self, addr: &EngineAddr) {
        let mut pool = self.lock();
        pool.versions.remove(addr);
        pool.idle.remove(addr);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An idle connection that can take a request now, if the pool has one.
    fn checkout(&self, addr: &EngineAddr) -> Option<http1::SendRequest<EngineBody>> {
        let mut pool = self.lock();
        let idle = pool.idle.get_mut(addr)?;
        // Connections whose last answer is still streaming stay; closed ones go.
        idle.retain(|s| !s.is_closed());
        let i = idle.iter().position(|s| s.is_ready())?;
        Some(idle.swap_remove(i))
    }

    /// Keeps `sender` for later. Its answer may still be streaming; `checkout` skips it
    /// until it is done. Over the limit, the connection closes once its answer is done.
    fn checkin(&self, addr: &EngineAddr, sender: http1::SendRequest<EngineBody>) {
        if sender.is_closed() {
            return;
        }
        let max = self.limits.max_idle_per_engine;
        let mut pool = self.lock();
        let idle = pool.idle.entry(addr.clone()).or_default();
        idle.retain(|s| !s.is_closed());
        if idle.len() < max {
            idle.push(sender);
        }
    }

    async fn connect(
        &self,
        addr: &EngineAddr,
    ) -> Result<http1::SendRequest<EngineBody>, EngineError> {
        let limit = Duration::from_millis(self.limits.connect_timeout_ms);
        let connecting = match addr {
            EngineAddr::Tcp { host, port } => self.rt.connect_tcp(host, *port),
            EngineAddr::Unix(path) => self.rt.connect_unix(path),
        };
        let tls = self.tls.clone();
        let connecting = async move {
            let io = connecting.await?;
            match (tls, addr) {
                (Some(tls), EngineAddr::Tcp { host, .. }) => tls.wrap(host, io).await,
                _ => Ok(io),
            }
        };
        let io = timeout(&self.rt, limit, connecting)
            .await
            .ok_or_else(|| EngineError::Timeout {
                addr: addr.clone(),
                what: "connection",
                after: limit,
            })?
            .map_err(|e| {
                self.forget(addr);
                EngineError::Connect {
                    addr: addr.clone(),
                    error: e.to_string(),
                }
            })?;
        let (sender, conn) =
            http1::handshake::<_, EngineBody>(io)
                .await
                .map_err(|e| EngineError::Http {
                    addr: addr.clone(),
                    error: e.to_string(),
                })?;
        let shown = addr.to_string();
        self.rt.spawn(Box::pin(async move {
            if let Err(e) = conn.with_upgrades().await {
                tracing::debug!("connection to the engine at {shown} ended: {e}");
            }
        }));
        Ok(sender)
    }
}

/// Reads a whole answer body, up to `max_bytes`.
pub async fn read_whole(
    addr: &EngineAddr,
    body: Incoming,
    max_bytes: usize,
) -> Result<Bytes, EngineError> {
    match Limited::new(body, max_bytes).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) => Err(EngineError::Http {
            addr: addr.clone(),
            error: format!("reading the answer: {e}"),
        }),
    }
}

/// `1.41` → `(1, 41)`.
pub fn parse_version(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.trim().split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}
