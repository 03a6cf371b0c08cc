//! `mesoswarm-sim`: run one seeded simulation, or sweep many seeds.
//!
//! ```text
//! cargo run -p mesoswarm-sim --release -- run --seed 7 --agents 1000 --containers 2000 --faults all --duration 1h
//! cargo run -p mesoswarm-sim --release -- sweep --seeds 0..200 --agents 1000 --faults all
//! cargo run -p mesoswarm-sim --release -- replay
//! cargo run -p mesoswarm-sim --release -- bench all
//! ```

use std::process::ExitCode;
use std::time::Instant as WallClock;

use clap::{Args, Parser, Subcommand};
use mesoswarm_sim::bench::{self, Which};
use mesoswarm_sim::run::{parse_case, parse_duration_ms};
use mesoswarm_sim::{run, sweep, AgentResources, CoreKind, FaultProfile, RunConfig};

// The binary's allocator counts heap use on demand (`bench memory`); see its file.
#[path = "bench/counting_alloc.rs"]
mod counting_alloc;

// CPU time of the benchmark thread, the benchmarks' clock; see its file.
#[path = "bench/thread_clock.rs"]
mod thread_clock;

#[global_allocator]
static ALLOC: counting_alloc::CountingAlloc = counting_alloc::CountingAlloc;

#[derive(Parser)]
#[command(
    name = "mesoswarm-sim",
    about = "Deterministic simulations of mesoswarm against a simulated Mesos cluster"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one seed and print its summary (and, on a violation, the step and last inputs).
    Run {
        /// The seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        common: Common,
    },
    /// Run every case of a regression file (`simulations/regressions.txt`).
    Replay {
        /// The file.
        #[arg(long, default_value = "simulations/regressions.txt")]
        file: std::path::PathBuf,
    },
    /// Run every seed of a range and report the failures.
    Sweep {
        /// Seeds, `A..B` (B excluded).
        #[arg(long, value_parser = parse_range)]
        seeds: std::ops::Range<u64>,
        /// Run each seed twice and compare the trace hashes.
        #[arg(long)]
        twice: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Benchmarks of the core against anchors.md §1 (build with --release).
    Bench {
        /// s1 s2 s3 s4 s5 s6 memory, `all` for all of them, or `callgrind-scenario`.
        #[arg(required = true, value_parser = parse_bench)]
        which: Vec<Vec<Which>>,
        #[command(flatten)]
        opts: BenchOpts,
    },
}

#[derive(Args)]
struct BenchOpts {
    /// Repetitions of the short scenarios (S1 keeps the best, S2 the median).
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// S3: services of 1,000 containers (1,000 = Nomad C1M's million; the default keeps
    /// the run under a minute).
    #[arg(long, default_value_t = 100)]
    s3_services: usize,
    /// S4: containers arriving over HTTP (50,000 = the published run).
    #[arg(long, default_value_t = 50_000)]
    s4_containers: usize,
    /// S4: requests in flight per batch.
    #[arg(long, default_value_t = 100)]
    s4_batch: usize,
    /// S6: running tasks to reconcile and restore (100,000 or 400,000).
    #[arg(long, default_value_t = 100_000)]
    s6_tasks: usize,
    /// memory: containers tracked.
    #[arg(long, default_value_t = 100_000)]
    memory_containers: usize,
}

fn parse_bench(s: &str) -> Result<Vec<Which>, String> {
    if s.eq_ignore_ascii_case("all") {
        Ok(Which::ALL.to_vec())
    } else {
        Which::parse(s).map(|w| vec![w])
    }
}

#[derive(Args)]
struct Common {
    /// Agents in the cluster.
    #[arg(long, default_value_t = 100)]
    agents: usize,
    /// Containers created during the fault phase.
    #[arg(long, default_value_t = 100)]
    containers: usize,
    /// Faults: none, network, agents, failover, crash, all.
    #[arg(long, default_value = "none", value_parser = FaultProfile::parse)]
    faults: FaultProfile,
    /// Length of the fault phase (simulated): `1h`, `30m`, `90s`, `500ms`.
    #[arg(long, default_value = "10m", value_parser = parse_duration_ms)]
    duration: u64,
    /// Length of the liveness phase after the faults stop (simulated).
    #[arg(long, default_value = "20m", value_parser = parse_duration_ms)]
    liveness: u64,
    /// Resources of every agent, in Mesos' text.
    #[arg(long, default_value = "cpus:4;mem:8192;disk:10240;ports:[31000-32000]", value_parser = AgentResources::parse)]
    resources: AgentResources,
    /// The core: real, or a deliberately broken one (double-accept, drop-ack, early-durable).
    #[arg(long, default_value = "real", value_parser = CoreKind::parse)]
    core: CoreKind,
    /// Lines of recent inputs a failure report shows.
    #[arg(long, default_value_t = 40)]
    tail: usize,
    /// Also show the manager's calls, answers and events among the report's lines.
    #[arg(long)]
    trace: bool,
}

impl Common {
    fn config(&self, seed: u64) -> RunConfig {
        RunConfig {
            seed,
            agents: self.agents,
            agent_resources: self.resources.clone(),
            containers: self.containers,
            faults: self.faults,
            duration_ms: self.duration,
            liveness_ms: self.liveness,
            core: self.core,
            tail: self.tail,
            trace_outputs: self.trace,
            ..RunConfig::default()
        }
    }
}

fn parse_range(s: &str) -> Result<std::ops::Range<u64>, String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("`{s}` is not a range like 0..200"))?;
    let a: u64 = a
        .trim()
        .parse()
        .map_err(|_| format!("`{a}` is not a number"))?;
    let b: u64 = b
        .trim()
        .parse()
        .map_err(|_| format!("`{b}` is not a number"))?;
    if b <= a {
        return Err(format!("`{s}` is empty"));
    }
    Ok(a..b)
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Bench { which, opts } => {
            let opts = bench::Options {
                repeat: opts.repeat,
                s3_services: opts.s3_services,
                s4_containers: opts.s4_containers,
                s4_batch: opts.s4_batch,
                s6_tasks: opts.s6_tasks,
                memory_containers: opts.memory_containers,
            };
            bench::set_clock(
                thread_clock::thread_cpu_time,
                "CPU time of the benchmark thread",
            );
            println!("clock: {}", bench::clock_name());
            if cfg!(debug_assertions) {
                println!("warning: a debug build; figures mean little without --release");
            }
            let mut figures = Vec::new();
            let which: Vec<Which> = which.into_iter().flatten().collect();
            for &w in &which {
                let started = WallClock::now();
                let f = bench::run(w, &opts, Some(&counting_alloc::COUNTER));
                for line in &f {
                    println!("{line}");
                }
                println!(
                    "  ({w:?} took {:.1}s of wall time)",
                    started.elapsed().as_secs_f64()
                );
                figures.extend(f);
            }
            if which.len() > 1 {
                println!();
                println!("summary");
                for line in &figures {
                    println!("{line}");
                }
            }
            ExitCode::SUCCESS
        }
        Command::Run { seed, common } => {
            let started = WallClock::now();
            let s = run(&common.config(seed));
            print!("{s}");
            if common.trace && s.passed() {
                println!("  trace (last {} lines):", s.last_inputs.len());
                for l in &s.last_inputs {
                    println!("    {l}");
                }
            }
            println!("  wall time: {:.2}s", started.elapsed().as_secs_f64());
            if s.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::Replay { file } => {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("cannot read {}: {e}", file.display());
                    return ExitCode::FAILURE;
                }
            };
            let mut failed = 0;
            for (n, line) in text.lines().enumerate() {
                let cfg = match parse_case(line, &RunConfig::default()) {
                    Ok(Some(cfg)) => cfg,
                    Ok(None) => continue,
                    Err(e) => {
                        eprintln!("{}:{}: {e}", file.display(), n + 1);
                        return ExitCode::FAILURE;
                    }
                };
                let s = run(&cfg);
                match &s.violation {
                    None => println!("line {:>3}  seed {:>6}  ok", n + 1, s.seed),
                    Some(v) => {
                        failed += 1;
                        println!("line {:>3}  seed {:>6}  FAIL {v}", n + 1, s.seed);
                        print!("{s}");
                    }
                }
            }
            if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::Sweep {
            seeds,
            twice,
            common,
        } => {
            let started = WallClock::now();
            let base = common.config(0);
            let report = sweep(seeds.clone(), &base, twice, |s| {
                let verdict = match &s.violation {
                    None => "ok".to_string(),
                    Some(v) => format!("FAIL {v}"),
                };
                println!("seed {:>6}  {:016x}  {verdict}", s.seed, s.trace_hash);
            });
            println!(
                "{} runs over seeds {}..{} ({} agents, faults {}, core {}) in {:.1}s",
                report.runs,
                seeds.start,
                seeds.end,
                common.agents,
                common.faults.name(),
                common.core.name(),
                started.elapsed().as_secs_f64()
            );
            for s in &report.failures {
                println!();
                print!("{s}");
            }
            for seed in &report.nondeterministic {
                println!("seed {seed}: the second run gave another trace hash (nondeterminism)");
            }
            if report.passed() {
                println!("all passed");
                ExitCode::SUCCESS
            } else {
                println!(
                    "{} failing seed(s), {} nondeterministic",
                    report.failures.len(),
                    report.nondeterministic.len()
                );
                ExitCode::FAILURE
            }
        }
    }
}
