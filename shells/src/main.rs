//! `mesoswarm`: the command line.

use std::process::ExitCode;

use clap::Parser;
use mesoswarm_shell::cli::{Cli, Command, MasterSpec};
use mesoswarm_shell::daemon::{self, Plan};
use mesoswarm_shell::runtime::tokio::TokioRuntime;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let log = match &cli.command {
        Command::Manage(a) => a.common.log.clone(),
        Command::Dev(a) => a.common.log.clone(),
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();

    let result = match cli.command {
        Command::Manage(args) => MasterSpec::parse(&args.master)
            .and_then(|m| Plan::new(&args.common, m, Some(std::path::Path::new(DEFAULT_STORE))))
            .and_then(|plan| {
                block_on(daemon::run(
                    TokioRuntime,
                    plan,
                    daemon::tokio_shutdown_signal(),
                ))
            }),
        Command::Dev(args) => {
            let master_only = args.master_only;
            let zk = args.zk_register.clone();
            block_on(mesoswarm_shell::dev::run(
                TokioRuntime,
                args,
                master_only,
                zk,
                daemon::tokio_shutdown_signal(),
            ))
        }
    };
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

fn block_on<F: std::future::Future<Output = Result<(), String>>>(f: F) -> Result<(), String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("mesoswarm")
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?
        .block_on(f)
}
