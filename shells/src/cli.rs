//! The command line: `mesoswarm manage` and `mesoswarm dev`.

use crate::docker_server::ProxyLimits;
use crate::engine::tls::EngineTlsFiles;
use crate::engine::EngineLimits;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// mesoswarm serves the Docker Engine API and runs each container as a task on an Apache
/// Mesos cluster: point `docker`, docker-compose or a Docker SDK at it.
#[derive(Parser, Debug)]
#[command(name = "mesoswarm", version, after_help = crate::options::help_text())]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the Docker API in front of a real Mesos cluster.
    Manage(ManageArgs),
    /// Serve the Docker API in front of an embedded simulated Mesos cluster (no cluster
    /// needed): the master speaks the real v1 HTTP API on loopback, the manager talks to it
    /// over HTTP exactly as it talks to a real one.
    Dev(DevArgs),
}

/// Options both subcommands share.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Where to serve the Docker API: tcp://HOST:PORT or unix:///PATH. Repeat for several.
    #[arg(
        short = 'H',
        long = "host",
        value_name = "URL",
        default_value = "tcp://127.0.0.1:2375"
    )]
    pub hosts: Vec<String>,

    /// A cluster option, KEY=VALUE (see the list below). Repeat for several.
    #[arg(long = "cluster-opt", value_name = "KEY=VALUE")]
    pub cluster_opts: Vec<String>,

    /// The file where mesoswarm keeps its state (framework id, containers) across restarts.
    /// `dev` keeps it in memory unless this is given.
    #[arg(long, value_name = "PATH", env = "MESOSWARM_STORE")]
    pub store: Option<PathBuf>,

    /// Log filter, as RUST_LOG (`info`, `debug`, `mesoswarm_shell=debug`).
    #[arg(long, default_value = "info", env = "MESOSWARM_LOG")]
    pub log: String,

    /// Largest Docker API request body accepted, in bytes (larger ones get 413).
    #[arg(long, default_value_t = mesoswarm_core::docker::route::DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// Connecting to an agent's Docker engine gives up after this long, in milliseconds.
    #[arg(long, default_value_t = EngineLimits::default().connect_timeout_ms)]
    pub engine_connect_timeout_ms: u64,

    /// An agent's Docker engine must start answering within this long, in milliseconds
    /// (streams such as `logs -f` then run on).
    #[arg(long, default_value_t = EngineLimits::default().response_timeout_ms)]
    pub engine_response_timeout_ms: u64,

    /// Idle connections kept open to each agent's Docker engine.
    #[arg(long, default_value_t = EngineLimits::default().max_idle_per_engine)]
    pub engine_max_idle_connections: usize,

    /// Exec instances whose engine mesoswarm remembers (the oldest are forgotten first).
    #[arg(long, default_value_t = ProxyLimits::default().max_exec_instances)]
    pub max_exec_instances: usize,

    /// How long an attached stream may stay open after its container exited, in
    /// milliseconds, before mesoswarm closes it.
    #[arg(long, default_value_t = ProxyLimits::default().attach_drain_after_exit_ms)]
    pub attach_drain_after_exit_ms: u64,

    /// Speak TLS to the agents' Docker engines (dockerd --tlsverify), trusting this CA
    /// certificate; needs --engine-tls-cert and --engine-tls-key. The default engine port
    /// becomes 2376.
    #[arg(long, value_name = "PEM", requires_all = ["engine_tls_cert", "engine_tls_key"])]
    pub engine_tls_ca: Option<PathBuf>,

    /// The client certificate presented to the agents' Docker engines.
    #[arg(long, value_name = "PEM", requires_all = ["engine_tls_ca", "engine_tls_key"])]
    pub engine_tls_cert: Option<PathBuf>,

    /// The client certificate's private key.
    #[arg(long, value_name = "PEM", requires_all = ["engine_tls_ca", "engine_tls_cert"])]
    pub engine_tls_key: Option<PathBuf>,

    /// The async runtime the daemon runs on. Both serve the same API with the same code;
    /// only sockets, timers and task spawning differ.
    #[arg(long, value_enum, default_value_t = RuntimeKind::Tokio)]
    pub runtime: RuntimeKind,
}

/// The async runtimes mesoswarm runs on (`--runtime`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum RuntimeKind {
    /// tokio's multi-threaded runtime (the default).
    #[default]
    Tokio,
    /// smol: an async-executor on one thread per core, with async-io's reactor.
    Smol,
}

impl Common {
    /// The TLS files for the engines, if all three were given.
    pub fn engine_tls_files(&self) -> Option<EngineTlsFiles> {
        Some(EngineTlsFiles {
            ca: self.engine_tls_ca.clone()?,
            cert: self.engine_tls_cert.clone()?,
            key: self.engine_tls_key.clone()?,
        })
    }

    /// The limits of the engine client and the proxy these options set.
    pub fn engine_limits(&self) -> (EngineLimits, ProxyLimits) {
        (
            EngineLimits {
                connect_timeout_ms: self.engine_connect_timeout_ms,
                response_timeout_ms: self.engine_response_timeout_ms,
                max_idle_per_engine: self.engine_max_idle_connections,
                ..EngineLimits::default()
            },
            ProxyLimits {
                max_exec_instances: self.max_exec_instances,
                attach_drain_after_exit_ms: self.attach_drain_after_exit_ms,
                ..ProxyLimits::default()
            },
        )
    }
}

/// `mesoswarm manage`.
#[derive(Args, Debug)]
pub struct ManageArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: Common,

    /// The Mesos master: HOST:PORT, a comma-separated list of masters tried in turn, or
    /// zk://H1:2181,H2:2181/mesos to follow the leader through ZooKeeper.
    #[arg(value_name = "MASTER")]
    pub master: String,
}

/// `mesoswarm dev`.
#[derive(Args, Debug)]
pub struct DevArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: Common,

    /// How many simulated agents.
    #[arg(long, default_value_t = 3)]
    pub agents: usize,

    /// Resources of each simulated agent, in Mesos' text form.
    #[arg(long, default_value = "cpus:4;mem:8192;disk:20480;ports:[31000-32000]")]
    pub agent_resources: String,

    /// Address of the simulated master's v1 HTTP API (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub master_addr: SocketAddr,

    /// Run only the simulated master (and its agents), no manager: for tests of master
    /// failover, and for pointing `mesoswarm manage` or other frameworks at it.
    #[arg(long)]
    pub master_only: bool,

    /// Register the simulated master in ZooKeeper under this zk://HOST:PORT/PATH, as a Mesos
    /// master does (an ephemeral json.info_ znode), so `manage zk://…` can find it.
    #[arg(long, value_name = "ZK_URL")]
    pub zk_register: Option<String>,

    /// Run each task the simulated agents launch as a real container on this Docker engine
    /// (unix:///PATH or tcp://HOST:PORT), as Mesos' Docker containerizer would: logs, attach,
    /// exec and foreground `docker run` then work too. Without it, tasks are simulated.
    #[arg(long, value_name = "ADDR")]
    pub engine: Option<String>,

    /// With --engine: how long an exited task's container stays on the engine before it is
    /// removed (Mesos' --docker_remove_delay). Seconds, or a number with ms, s, m or h.
    #[arg(
        long,
        value_name = "DELAY",
        default_value = "6h",
        value_parser = parse_delay
    )]
    pub engine_remove_delay: Duration,

    /// With --engine: most tasks run (or being started) on the engine at once; launches
    /// beyond it fail at once with a message saying so.
    #[arg(long, value_name = "N", default_value_t = crate::dev::engine_agent::DEFAULT_MAX_TASKS)]
    pub engine_max_tasks: usize,
}

/// Parses a delay: whole seconds (`90`), or a number with `ms`, `s`, `m` or `h` (`500ms`,
/// `6h`, `1.5m`).
pub fn parse_delay(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let ms_per_unit: f64 = match unit.trim() {
        "" | "s" => 1_000.0,
        "ms" => 1.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?} (use ms, s, m or h, for example 6h)"
            ))
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a number with ms, s, m or h, for example 6h"))?;
    let ms = value * ms_per_unit;
    // A century is plenty; beyond that (or NaN) is a typo.
    if !ms.is_finite() || ms > 100.0 * 365.0 * 86_400_000.0 {
        return Err(format!("{text:?}: too long"));
    }
    Ok(Duration::from_millis(ms.round() as u64))
}

/// Where to serve the Docker API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostSpec {
    /// A TCP address.
    Tcp(SocketAddr),
    /// A unix socket path.
    Unix(PathBuf),
}

impl HostSpec {
    /// Parses `tcp://HOST:PORT` (HOST an IP or `localhost`) or `unix:///PATH`.
    pub fn parse(s: &str) -> Result<HostSpec, String> {
        if let Some(rest) = s.strip_prefix("tcp://") {
            let rest = rest.trim_end_matches('/');
            let rest = rest
                .strip_prefix("localhost:")
                .map(|p| format!("127.0.0.1:{p}"))
                .unwrap_or_else(|| rest.to_string());
            let addr: SocketAddr = rest.parse().map_err(|_| {
                format!("--host {s:?}: expected tcp://IP:PORT, for example tcp://127.0.0.1:2375")
            })?;
            Ok(HostSpec::Tcp(addr))
        } else if let Some(path) = s.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(format!("--host {s:?}: expected an absolute path, for example unix:///run/mesoswarm.sock"));
            }
            Ok(HostSpec::Unix(PathBuf::from(path)))
        } else {
            Err(format!(
                "--host {s:?}: expected tcp://IP:PORT or unix:///PATH"
            ))
        }
    }

    /// The `DOCKER_HOST` value that reaches it.
    pub fn docker_host(&self) -> String {
        match self {
            HostSpec::Tcp(a) => format!("tcp://{a}"),
            HostSpec::Unix(p) => format!("unix://{}", p.display()),
        }
    }
}

/// Where the Mesos masters are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MasterSpec {
    /// Masters to try in turn (following redirects to the leader).
    List(Vec<(String, u16)>),
    /// Follow the leader through ZooKeeper: servers `h1:2181,h2:2181`, znode path.
    Zk {
        /// The ZooKeeper connect string.
        servers: String,
        /// The path under which masters register (`/mesos`).
        path: String,
    },
}

impl MasterSpec {
    /// Parses `HOST[:PORT]`, `H1:P1,H2:P2` or `zk://H1:2181,H2:2181/PATH` (port 5050 when
    /// not given).
    pub fn parse(s: &str) -> Result<MasterSpec, String> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("zk://") {
            let (servers, path) = rest
                .split_once('/')
                .ok_or_else(|| format!("MASTER {s:?}: expected zk://HOST:PORT[,HOST:PORT]/PATH"))?;
            if servers.is_empty() || path.is_empty() {
                return Err(format!(
                    "MASTER {s:?}: expected zk://HOST:PORT[,HOST:PORT]/PATH"
                ));
            }
            return Ok(MasterSpec::Zk {
                servers: servers.to_string(),
                path: format!("/{}", path.trim_end_matches('/')),
            });
        }
        let s = s.strip_prefix("http://").unwrap_or(s).trim_end_matches('/');
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (host, port) = match part.rsplit_once(':') {
                Some((h, p)) => (
                    h,
                    p.parse::<u16>()
                        .map_err(|_| format!("MASTER {part:?}: bad port"))?,
                ),
                None => (part, 5050),
            };
            if host.is_empty() {
                return Err(format!("MASTER {part:?}: missing host"));
            }
            out.push((host.to_string(), port));
        }
        if out.is_empty() {
            return Err("MASTER is empty: give HOST:PORT, a list, or zk://…/mesos".into());
        }
        Ok(MasterSpec::List(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_parse() {
        assert_eq!(
            HostSpec::parse("tcp://127.0.0.1:2375").unwrap(),
            HostSpec::Tcp("127.0.0.1:2375".parse().unwrap())
        );
        assert_eq!(
            HostSpec::parse("tcp://localhost:1").unwrap(),
            HostSpec::Tcp("127.0.0.1:1".parse().unwrap())
        );
        assert_eq!(
            HostSpec::parse("unix:///run/m.sock").unwrap(),
            HostSpec::Unix("/run/m.sock".into())
        );
        assert!(HostSpec::parse("127.0.0.1:2375").is_err());
        assert!(HostSpec::parse("unix://relative.sock").is_err());
    }

    #[test]
    fn masters_parse() {
        assert_eq!(
            MasterSpec::parse("m1:5050").unwrap(),
            MasterSpec::List(vec![("m1".into(), 5050)])
        );
        assert_eq!(
            MasterSpec::parse("m1,m2:15050").unwrap(),
            MasterSpec::List(vec![("m1".into(), 5050), ("m2".into(), 15050)])
        );
        assert_eq!(
            MasterSpec::parse("zk://z1:2181,z2:2181/mesos").unwrap(),
            MasterSpec::Zk {
                servers: "z1:2181,z2:2181".into(),
                path: "/mesos".into()
            }
        );
        assert!(MasterSpec::parse("zk://z1:2181").is_err());
        assert!(MasterSpec::parse("m1:http").is_err());
    }

    #[test]
    fn delays_parse_with_or_without_a_unit() {
        assert_eq!(parse_delay("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_delay("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_delay("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_delay("1.5m").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_delay("6h").unwrap(), Duration::from_secs(6 * 3600));
        assert_eq!(parse_delay("0").unwrap(), Duration::ZERO);
        assert!(parse_delay("6d").unwrap_err().contains("unknown unit"));
        assert!(parse_delay("h").is_err());
        assert!(parse_delay("-1s").is_err());
        assert!(parse_delay("").is_err());
    }

    #[test]
    fn dev_takes_an_engine_and_its_options() {
        let cli = Cli::try_parse_from([
            "mesoswarm",
            "dev",
            "--engine",
            "unix:///run/d.sock",
            "--engine-remove-delay",
            "10m",
        ])
        .unwrap();
        let Command::Dev(args) = cli.command else {
            panic!("not dev")
        };
        assert_eq!(args.engine.as_deref(), Some("unix:///run/d.sock"));
        assert_eq!(args.engine_remove_delay, Duration::from_secs(600));
        let Command::Dev(defaults) = Cli::try_parse_from(["mesoswarm", "dev"]).unwrap().command
        else {
            panic!("not dev")
        };
        assert_eq!(defaults.engine, None);
        assert_eq!(defaults.engine_remove_delay, Duration::from_secs(6 * 3600));
    }

    #[test]
    fn both_subcommands_take_a_runtime() {
        let runtime = |args: &[&str]| match Cli::try_parse_from(args).unwrap().command {
            Command::Manage(a) => a.common.runtime,
            Command::Dev(a) => a.common.runtime,
        };
        assert_eq!(runtime(&["mesoswarm", "dev"]), RuntimeKind::Tokio);
        assert_eq!(
            runtime(&["mesoswarm", "dev", "--runtime", "smol"]),
            RuntimeKind::Smol
        );
        assert_eq!(
            runtime(&["mesoswarm", "manage", "--runtime", "smol", "m1:5050"]),
            RuntimeKind::Smol
        );
        assert!(Cli::try_parse_from(["mesoswarm", "dev", "--runtime", "async-std"]).is_err());
    }

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
