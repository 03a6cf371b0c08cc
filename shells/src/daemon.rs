//! Putting the daemon together: store → manager → driver, the Mesos link, the Docker API
//! listeners, and a clean shutdown on SIGTERM / Ctrl-C. `manage` and `dev` both end here.

use std::path::Path;

use mesoswarm_core::Manager;

use crate::cli::{Common, HostSpec, MasterSpec};
use crate::docker_server::ProxyLimits;
use crate::docker_server::{serve_docker_api_with_engines, Engines, ServerLimits};
use crate::driver::{spawn_driver, DriverLimits, LINK_CHANNEL_CAPACITY};
use crate::engine::tls::EngineTls;
use crate::engine::{EngineLimits, EngineResolver, DEFAULT_DOCKER_PORT, DEFAULT_DOCKER_TLS_PORT};
use crate::mesos::{spawn_link, Credential, MasterSource, MesosClientConfig};
use crate::options::ClusterOptions;
use crate::runtime::{Listener, Runtime};
use crate::store::Store;

/// Everything a daemon run needs, parsed and checked before anything starts.
pub struct Plan {
    /// Where to serve the Docker API.
    pub hosts: Vec<HostSpec>,
    /// The parsed cluster options.
    pub options: ClusterOptions,
    /// Where the masters are.
    pub masters: MasterSpec,
    /// The store, opened (blocking I/O happens here, before the runtime).
    pub store: Store,
    /// Largest Docker request body.
    pub max_body_bytes: usize,
    /// Where each agent's Docker engine is, for the proxied container operations.
    pub engines: EngineResolver,
    /// Limits of the engine client and the proxy.
    pub engine_limits: (EngineLimits, ProxyLimits),
    /// TLS toward the engines, loaded.
    pub engine_tls: Option<EngineTls>,
}

impl Plan {
    /// Checks the shared options; errors are start-up errors for the user.
    pub fn new(
        common: &Common,
        masters: MasterSpec,
        default_store: Option<&Path>,
    ) -> Result<Plan, String> {
        let options = crate::options::parse(&common.cluster_opts, |k| std::env::var(k).ok())
            .map_err(|e| e.0)?;
        let hosts = common
            .hosts
            .iter()
            .map(|h| HostSpec::parse(h))
            .collect::<Result<Vec<_>, _>>()?;
        let engine_tls = common
            .engine_tls_files()
            .map(|files| EngineTls::load(&files))
            .transpose()?;
        let store = match common.store.as_deref().or(default_store) {
            Some(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                }
                Store::open(path).map_err(|e| e.to_string())?
            }
            None => Store::in_memory().map_err(|e| e.to_string())?,
        };
        Ok(Plan {
            hosts,
            masters,
            store,
            max_body_bytes: common.max_body_bytes,
            engine_limits: common.engine_limits(),
            engines: EngineResolver {
                fixed: None,
                default_port: options.docker_port.unwrap_or(if engine_tls.is_some() {
                    DEFAULT_DOCKER_TLS_PORT
                } else {
                    DEFAULT_DOCKER_PORT
                }),
                no_engine: None,
            },
            options,
            engine_tls,
        })
    }
}

/// A seed for the core's id generator. Ids must differ between runs of the daemon (the
/// store keeps old containers), so this one comes from the OS; the core itself never asks.
pub fn fresh_seed() -> u64 {
    use std::io::Read;
    let mut b = [0u8; 8];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .is_ok()
    {
        return u64::from_le_bytes(b);
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (t.as_nanos() as u64) ^ (u64::from(std::process::id()) << 32)
}

/// Runs the daemon until SIGTERM/SIGINT: returns once every answer is out and every record
/// is durable.
pub async fn run<R: Runtime>(
    rt: R,
    plan: Plan,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let Plan {
        hosts,
        mut options,
        masters,
        store,
        max_body_bytes,
        engines,
        engine_limits,
        engine_tls,
    } = plan;
    for note in &options.notes {
        tracing::warn!("{note}");
    }
    options.config.seed = fresh_seed();
    let records = store.load().map_err(|e| e.to_string())?;
    let restored = records.len();
    let manager = Manager::restore(options.config.clone(), records);
    if restored > 0 {
        tracing::info!(
            "restored {} container(s) from {}; framework id {}",
            manager.container_count(),
            store.location(),
            manager.framework_id().unwrap_or("(none yet)")
        );
    }

    let mut listeners: Vec<Box<dyn Listener>> = Vec::new();
    for h in &hosts {
        let l = match h {
            HostSpec::Tcp(a) => rt.bind_tcp(*a).await,
            HostSpec::Unix(p) => rt.bind_unix(p).await,
        }
        .map_err(|e| format!("cannot listen on {}: {e}", h.docker_host()))?;
        listeners.push(l);
    }

    let (commands_tx, commands_rx) = async_channel::bounded(LINK_CHANNEL_CAPACITY);
    let (events_tx, events_rx) = async_channel::bounded(LINK_CHANNEL_CAPACITY);
    let mut link = MesosClientConfig::new(match masters {
        MasterSpec::List(l) => MasterSource::Static(l),
        MasterSpec::Zk { servers, path } => MasterSource::Zk { servers, path },
    });
    link.credential = options
        .auth
        .clone()
        .map(|(principal, secret)| Credential { principal, secret });
    spawn_link(rt.clone(), link, commands_rx, events_tx);
    let driver = spawn_driver(
        &rt,
        manager,
        store,
        commands_tx,
        events_rx,
        DriverLimits::default(),
    )
    .map_err(|e| format!("cannot start the driver: {e}"))?;

    for h in &hosts {
        tracing::info!("serving the Docker API on {}", h.docker_host());
    }
    let stopper = driver.clone();
    rt.spawn(Box::pin(async move {
        shutdown.await;
        tracing::info!("shutting down: answering what is queued and flushing the store");
        stopper.shutdown();
    }));
    let limits = ServerLimits {
        max_body_bytes,
        ..ServerLimits::default()
    };
    let engines = Engines {
        resolver: engines,
        client: engine_limits.0,
        proxy: engine_limits.1,
        tls: engine_tls,
    };
    serve_docker_api_with_engines(rt, listeners, driver, limits, engines).await;
    Ok(())
}

/// Completes on the first SIGTERM or SIGINT after this call. On every runtime: async-signal
/// turns the signals into a stream on async-io's reactor, which needs no executor of its
/// own. The handlers are installed here, not at the first poll, so that a signal that comes
/// while the daemon is still starting is not lost (or fatal).
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    use async_signal::{Signal, Signals};
    use futures_util::StreamExt;
    let signals = Signals::new([Signal::Term, Signal::Int]);
    async move {
        match signals {
            Ok(mut signals) => {
                signals.next().await;
            }
            Err(e) => {
                tracing::warn!("cannot catch SIGTERM/SIGINT ({e}); stop mesoswarm with SIGKILL");
                std::future::pending::<()>().await;
            }
        }
    }
}
