//! `mesoswarm`: the command line.

use std::process::ExitCode;

use clap::Parser;
use mesoswarm_shell::cli::{Cli, Command, DevArgs, MasterSpec, RuntimeKind};
use mesoswarm_shell::daemon::{self, Plan};
use mesoswarm_shell::runtime::{self, Runtime};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (log, runtime) = match &cli.command {
        Command::Manage(a) => (a.common.log.clone(), a.common.runtime),
        Command::Dev(a) => (a.common.log.clone(), a.common.runtime),
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();

    // What can go wrong without a runtime (bad options, the store's blocking open) is
    // checked before one starts.
    let job = match cli.command {
        Command::Manage(args) => MasterSpec::parse(&args.master)
            .and_then(|m| Plan::new(&args.common, m, Some(std::path::Path::new(DEFAULT_STORE))))
            .map(Job::Manage),
        Command::Dev(args) => Ok(Job::Dev(args)),
    };
    let result = job.and_then(|job| {
        // Installed before the runtime starts, so that a signal during start-up is caught.
        let shutdown = daemon::shutdown_signal();
        match runtime {
            RuntimeKind::Tokio => runtime::tokio::block_on(|rt| job.run(rt, shutdown)),
            RuntimeKind::Smol => runtime::smol::block_on(|rt| job.run(rt, shutdown)),
        }
        .map_err(|e| format!("cannot start the runtime: {e}"))?
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mesoswarm: {e}");
            ExitCode::from(2)
        }
    }
}

/// Where `manage` keeps its state unless `--store` says otherwise.
const DEFAULT_STORE: &str = "/var/lib/mesoswarm/state.redb";

/// What to run once a runtime is up. (One of these exists, once: boxing the larger
/// variant would buy nothing.)
#[allow(clippy::large_enum_variant)]
enum Job {
    Manage(Plan),
    Dev(DevArgs),
}

impl Job {
    async fn run<R: Runtime>(
        self,
        rt: R,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), String> {
        match self {
            Job::Manage(plan) => daemon::run(rt, plan, shutdown).await,
            Job::Dev(args) => {
                let master_only = args.master_only;
                let zk = args.zk_register.clone();
                mesoswarm_shell::dev::run(rt, args, master_only, zk, shutdown).await
            }
        }
    }
}
