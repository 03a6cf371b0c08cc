//! `mesoswarm dev`: a simulated Mesos cluster behind a real v1 HTTP endpoint on loopback,
//! and the manager connected to it over that HTTP, exactly as it would be to a real master.

pub mod master_http;
pub mod zk_register;

use mesoswarm_sim::{AgentResources, ClusterConfig, SimCluster};

use crate::cli::{DevArgs, MasterSpec};
use crate::clock::Clock;
use crate::daemon::{self, Plan};
use crate::runtime::Runtime;

/// Runs `mesoswarm dev` until SIGTERM/SIGINT.
pub async fn run<R: Runtime>(
    rt: R,
    args: DevArgs,
    master_only: bool,
    zk_register: Option<String>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let resources = AgentResources::parse(&args.agent_resources)
        .map_err(|e| format!("--agent-resources: {e}"))?;
    if args.agents == 0 {
        return Err("--agents must be at least 1".into());
    }
    let listener = rt.bind_tcp(args.master_addr).await.map_err(|e| {
        format!(
            "cannot listen on {} for the simulated master: {e}",
            args.master_addr
        )
    })?;
    let addr = listener.local_addr();
    let port: u16 = addr
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let host = args.master_addr.ip().to_string();
    let config = ClusterConfig {
        seed: daemon::fresh_seed(),
        agents: args.agents,
        agent_resources: resources,
        hostname: host.clone(),
        port,
        ..ClusterConfig::default()
    };
    let mut cluster = SimCluster::new(config);
    cluster.set_master_address(&host, port);
    let info = cluster.master_info();
    let (external_tx, _external_rx) = async_channel::bounded(1024);
    let server = master_http::SimMasterServer::new(rt.clone(), Clock::new(), cluster, external_tx);
    rt.spawn(Box::pin(server.serve(listener)));
    tracing::info!(
        "simulated Mesos master with {} agent(s) on http://{addr}",
        args.agents
    );

    let registration = match zk_register {
        Some(url) => {
            let (servers, path) = zk_register::parse_zk_url(&url)?;
            let r = zk_register::register(&servers, &path, &info).await?;
            tracing::info!("simulated master registered in ZooKeeper as {}", r.path());
            Some(r)
        }
        None => None,
    };

    if master_only {
        println!("MESOS_MASTER={host}:{port}");
        shutdown.await;
        if let Some(r) = registration {
            r.withdraw().await;
        }
        return Ok(());
    }

    let plan = Plan::new(&args.common, MasterSpec::List(vec![(host, port)]), None)?;
    for h in &plan.hosts {
        println!("export DOCKER_HOST={}", h.docker_host());
    }
    daemon::run(rt, plan, shutdown).await
}
