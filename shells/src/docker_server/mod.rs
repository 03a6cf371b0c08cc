//! The Docker Engine API server: HTTP/1.1 (keep-alive) on hyper 1, over any [`Listener`]
//! (TCP or unix socket), on any [`Runtime`].
//!
//! Per request ([`service`]): the body is read up to `ServerLimits::max_body_bytes` (413
//! beyond it, without reading the rest), the core's router answers what it can, and the
//! rest goes to the driver. A wait's headers are flushed as soon as the core says it waits
//! (the docker CLI sends wait before start and would deadlock otherwise), its body follows
//! when the container exits; `docker events` is streamed one JSON line per event until
//! `until`. A client that goes away mid-request is reported to the core.
//!
//! Per connection: at most `ServerLimits::max_connections` at once (beyond it a short-lived
//! 503), a header read timeout, a bounded read buffer.

mod body;
mod exec_registry;
mod hijack;
mod limits;
mod proxy;
mod proxy_hijack;
mod service;
mod splice;
mod streams;
mod timer;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{join_all, select, Either};
use hyper::server::conn::http1;
use hyper::service::service_fn;

use crate::driver::DriverHandle;
use crate::runtime::{BoxIo, Listener, Runtime};

pub use limits::ServerLimits;
pub use proxy::ProxyLimits;

use crate::engine::{EngineClient, EngineLimits, EngineResolver};
pub use timer::RuntimeTimer;

/// Connections over the limit that are still being answered with 503; beyond these, a new
/// connection is closed at once without an answer.
const MAX_REFUSALS_IN_FLIGHT: usize = 64;
/// How long a refused connection may take to send the request its 503 answers.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(5);
/// The pause after a failed `accept` (for example out of file descriptors), so that a
/// persistent error does not spin.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(100);

/// What every connection of the server shares.
pub(crate) struct ServerShared<R: Runtime> {
    pub(crate) rt: R,
    pub(crate) driver: DriverHandle,
    pub(crate) limits: ServerLimits,
    pub(crate) proxy: proxy::ProxyShared<R>,
    connections: AtomicUsize,
    refusals: AtomicUsize,
}

/// Serves the Docker Engine API on every listener until the driver stops (after
/// [`DriverHandle::shutdown`]). Accept errors are logged and retried; this never fails.
pub async fn serve_docker_api<R: Runtime>(
    rt: R,
    listeners: Vec<Box<dyn Listener>>,
    driver: DriverHandle,
    limits: ServerLimits,
) {
    let engines = Engines {
        resolver: EngineResolver::default(),
        client: EngineLimits::default(),
        proxy: ProxyLimits::default(),
        tls: None,
    };
    serve_docker_api_with_engines(rt, listeners, driver, limits, engines).await
}

/// How the server reaches the agents' Docker engines.
#[derive(Clone, Debug, Default)]
pub struct Engines {
    /// Where each agent's engine is.
    pub resolver: EngineResolver,
    /// Limits of the engine client.
    pub client: EngineLimits,
    /// Limits of the proxy.
    pub proxy: ProxyLimits,
    /// TLS toward engines on TCP addresses, if they require it.
    pub tls: Option<crate::engine::tls::EngineTls>,
}

/// [`serve_docker_api`], proxying container operations to the engines `engines` names.
pub async fn serve_docker_api_with_engines<R: Runtime>(
    rt: R,
    listeners: Vec<Box<dyn Listener>>,
    driver: DriverHandle,
    limits: ServerLimits,
    engines: Engines,
) {
    let client = EngineClient::new(rt.clone(), engines.client).with_tls(engines.tls);
    let shared = Arc::new(ServerShared {
        proxy: proxy::ProxyShared::new(client, engines.resolver, engines.proxy),
        rt,
        driver,
        limits,
        connections: AtomicUsize::new(0),
        refusals: AtomicUsize::new(0),
    });
    join_all(
        listeners
            .into_iter()
            .map(|listener| accept_loop(shared.clone(), listener)),
    )
    .await;
}

async fn accept_loop<R: Runtime>(shared: Arc<ServerShared<R>>, mut listener: Box<dyn Listener>) {
    let addr = listener.local_addr();
    tracing::info!("serving the Docker API on {addr}");
    let driver = shared.driver.clone();
    let mut stopped = std::pin::pin!(driver.closed());
    loop {
        let accepted = match select(listener.accept(), stopped.as_mut()).await {
            Either::Left((accepted, _)) => accepted,
            Either::Right(((), _)) => break,
        };
        match accepted {
            Ok(io) => on_connection(&shared, io),
            Err(e) => {
                tracing::warn!("accepting a connection on {addr} failed: {e}");
                shared.rt.sleep(ACCEPT_ERROR_BACKOFF).await;
            }
        }
    }
    tracing::info!("stopped serving the Docker API on {addr}");
}

/// Counts a slot while a connection is served.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn on_connection<R: Runtime>(shared: &Arc<ServerShared<R>>, io: BoxIo) {
    let max = shared.limits.max_connections;
    if shared.connections.fetch_add(1, Ordering::AcqRel) < max {
        let shared = shared.clone();
        shared.rt.clone().spawn(Box::pin(async move {
            let _slot = Slot(&shared.connections);
            serve_connection(&shared, io).await;
        }));
        return;
    }
    shared.connections.fetch_sub(1, Ordering::AcqRel);
    if shared.refusals.fetch_add(1, Ordering::AcqRel) >= MAX_REFUSALS_IN_FLIGHT {
        shared.refusals.fetch_sub(1, Ordering::AcqRel);
        tracing::warn!("{max} connections are open; closing a new one without an answer");
        return;
    }
    tracing::warn!("{max} connections are open; answering a new one with 503");
    let shared = shared.clone();
    shared.rt.clone().spawn(Box::pin(async move {
        let _slot = Slot(&shared.refusals);
        refuse_connection(&shared, io).await;
    }));
}

/// The connection settings every connection uses.
fn builder<R: Runtime>(shared: &ServerShared<R>) -> http1::Builder {
    let mut b = http1::Builder::new();
    b.timer(RuntimeTimer(shared.rt.clone()))
        .header_read_timeout(shared.limits.header_read_timeout)
        .max_buf_size(shared.limits.max_header_bytes.max(8 * 1024))
        .keep_alive(true);
    b
}

async fn serve_connection<R: Runtime>(shared: &Arc<ServerShared<R>>, io: BoxIo) {
    let service = service_fn(|req| {
        let shared = shared.clone();
        async move { Ok::<_, std::convert::Infallible>(service::handle(shared, req).await) }
    });
    if let Err(e) = builder(shared)
        .serve_connection(io, service)
        .with_upgrades()
        .await
    {
        tracing::debug!("Docker API connection ended: {e}");
    }
}

async fn refuse_connection<R: Runtime>(shared: &Arc<ServerShared<R>>, io: BoxIo) {
    let limit = shared.limits.max_connections;
    let service = service_fn(move |_req| async move {
        Ok::<_, std::convert::Infallible>(service::too_many_connections(limit))
    });
    let mut b = builder(shared);
    b.keep_alive(false).header_read_timeout(REFUSAL_TIMEOUT);
    let conn = b.serve_connection(io, service);
    let _ = crate::runtime::timeout(&shared.rt, REFUSAL_TIMEOUT, conn).await;
}
