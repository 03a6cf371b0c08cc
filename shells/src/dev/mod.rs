//! `mesoswarm dev`: a simulated Mesos cluster behind a real v1 HTTP endpoint on loopback,
//! and the manager connected to it over that HTTP, exactly as it would be to a real master.

pub mod engine_agent;
mod engine_calls;
pub mod engine_task;
pub mod master_http;
pub mod zk_register;

use std::sync::Arc;

use mesoswarm_sim::{AgentResources, ClusterConfig, ExecutorMode, SimCluster};

use crate::cli::{DevArgs, MasterSpec};
use crate::clock::Clock;
use crate::daemon::{self, Plan};
use crate::engine::EngineAddr;
use crate::runtime::Runtime;

/// Launch and kill requests queued for the engine agent; the agent never blocks on them,
/// so this only absorbs bursts.
pub const EXTERNAL_QUEUE: usize = 1024;

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
    let engine = match &args.engine {
        Some(text) => Some(EngineAddr::parse(text).map_err(|e| format!("--engine {e}"))?),
        None => None,
    };
    if engine.is_some() && args.engine_max_tasks == 0 {
        return Err("--engine-max-tasks must be at least 1".into());
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
        // With an engine, real containers run the tasks and say how they are doing.
        executor: if engine.is_some() {
            ExecutorMode::External
        } else {
            ExecutorMode::Simulated
        },
        // The agents share the engine's host: their containers' host ports must not collide,
        // and `docker port` should name a host that reaches them.
        split_ports_between_agents: engine.is_some(),
        shared_hostname: engine.as_ref().map(|e| match e {
            EngineAddr::Tcp { host, .. } => host.clone(),
            EngineAddr::Unix(_) => "127.0.0.1".to_string(),
        }),
        ..ClusterConfig::default()
    };
    let mut cluster = SimCluster::new(config);
    cluster.set_master_address(&host, port);
    let info = cluster.master_info();
    let (external_tx, external_rx) = async_channel::bounded(EXTERNAL_QUEUE);
    let server = master_http::SimMasterServer::new(rt.clone(), Clock::new(), cluster, external_tx);
    let engine_tls = args
        .common
        .engine_tls_files()
        .map(|files| crate::engine::tls::EngineTls::load(&files))
        .transpose()?;
    let agent = engine.as_ref().map(|addr| {
        let master = server.clone();
        let report: engine_agent::Reporter = Arc::new(move |r: engine_agent::TaskReport| {
            master.report_task_status(&r.agent_id, &r.task_id, r.state, r.message, r.data)
        });
        let config = engine_agent::EngineAgentConfig {
            engine: addr.clone(),
            max_tasks: args.engine_max_tasks,
            remove_delay: args.engine_remove_delay,
            tls: engine_tls.clone(),
        };
        engine_agent::EngineAgent::spawn(rt.clone(), config, external_rx, report)
    });
    rt.spawn(Box::pin(server.serve(listener)));
    tracing::info!(
        "simulated Mesos master with {} agent(s) on http://{addr}",
        args.agents
    );

    let registration = match zk_register {
        Some(url) => {
            let (servers, path) = zk_register::parse_zk_url(&url)?;
            let r = zk_register::register(rt.clone(), &servers, &path, &info).await?;
            tracing::info!("simulated master registered in ZooKeeper as {}", r.path());
            Some(r)
        }
        None => None,
    };

    if master_only {
        println!("MESOS_MASTER={host}:{port}");
        shutdown.await;
        if let Some(a) = &agent {
            a.shutdown();
        }
        if let Some(r) = registration {
            r.withdraw().await;
        }
        return Ok(());
    }

    let mut plan = Plan::new(&args.common, MasterSpec::List(vec![(host, port)]), None)?;
    // Every simulated agent's containers are on that one engine: the proxied operations
    // (logs, attach, exec, …) go there.
    plan.engines.fixed = engine;
    if plan.engines.fixed.is_none() {
        plan.engines.no_engine = Some(
            "mesoswarm dev without --engine simulates its agents: their containers have no \
             output, filesystem or processes; start it with --engine unix:///var/run/docker.sock \
             to run real containers"
                .into(),
        );
    }
    for h in &plan.hosts {
        println!("export DOCKER_HOST={}", h.docker_host());
    }
    let result = daemon::run(rt, plan, shutdown).await;
    if let Some(a) = &agent {
        a.shutdown();
    }
    result
}
