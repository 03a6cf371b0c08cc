//! Running simulations: one seed ([`run`]) or many ([`sweep`]), and what they report.

use std::fmt;
use std::ops::Range;
use std::time::Duration;

use crate::check::Violation;
use crate::cluster::ClusterStats;
use crate::config::AgentResources;
use crate::core::CoreKind;
use crate::faults::FaultProfile;
use crate::network::NetStats;
use crate::workload::WorkloadStats;
use crate::world::World;

/// What one simulation runs.
#[derive(Clone, Debug, PartialEq)]
pub struct RunConfig {
    /// The seed: every random choice of the run derives from it.
    pub seed: u64,
    /// Agents in the cluster.
    pub agents: usize,
    /// What each agent has.
    pub agent_resources: AgentResources,
    /// Containers the clients create during the fault phase.
    pub containers: usize,
    /// Containers the clients create when the liveness phase starts.
    pub liveness_containers: usize,
    /// The faults injected.
    pub faults: FaultProfile,
    /// Length of the fault phase (simulated).
    pub duration_ms: u64,
    /// Length of the liveness phase that follows, with no faults (simulated).
    pub liveness_ms: u64,
    /// The core under test.
    pub core: CoreKind,
    /// Inputs to the manager after which the run is declared stuck.
    pub max_steps: u64,
    /// How many recent inputs a failure report shows.
    pub tail: usize,
    /// Also record the manager's calls, Docker answers and events in the report's lines
    /// (with a large `tail`, a full trace of the run).
    pub trace_outputs: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            seed: 1,
            agents: 100,
            agent_resources: AgentResources::default(),
            containers: 100,
            liveness_containers: 5,
            faults: FaultProfile::None,
            duration_ms: 10 * 60_000,
            liveness_ms: 20 * 60_000,
            core: CoreKind::Real,
            max_steps: 50_000_000,
            tail: 40,
            trace_outputs: false,
        }
    }
}

impl RunConfig {
    /// The command line that runs this configuration.
    pub fn command(&self) -> String {
        let mut cmd = format!(
            "cargo run -p mesoswarm-sim --release -- run --seed {} --agents {} --containers {} --faults {} --duration {} --liveness {} --core {}",
            self.seed,
            self.agents,
            self.containers,
            self.faults.name(),
            format_duration_ms(self.duration_ms),
            format_duration_ms(self.liveness_ms),
            self.core.name()
        );
        if self.agent_resources != AgentResources::default() {
            cmd.push_str(&format!(" --resources '{}'", self.agent_resources));
        }
        cmd
    }
}

/// The shortest of `1h`, `30m`, `90s`, `500ms` that is exact.
pub fn format_duration_ms(ms: u64) -> String {
    if ms % 3_600_000 == 0 && ms > 0 {
        format!("{}h", ms / 3_600_000)
    } else if ms % 60_000 == 0 && ms > 0 {
        format!("{}m", ms / 60_000)
    } else if ms % 1_000 == 0 {
        format!("{}s", ms / 1_000)
    } else {
        format!("{ms}ms")
    }
}

/// How many faults of each kind a run applied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Link clogs.
    pub clogs: u64,
    /// Agent partitions.
    pub partitions: u64,
    /// Agents marked gone.
    pub gone: u64,
    /// Agent restarts.
    pub agent_restarts: u64,
    /// Agents removed for good.
    pub removed: u64,
    /// Maintenance windows scheduled.
    pub maintenance: u64,
    /// Master failovers.
    pub master_failovers: u64,
    /// Manager crashes.
    pub crashes: u64,
    /// Store stalls.
    pub store_stalls: u64,
}

/// What one run did and found.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// What was run.
    pub config: RunConfig,
    /// The seed.
    pub seed: u64,
    /// The fault profile.
    pub faults: FaultProfile,
    /// The core under test.
    pub core: CoreKind,
    /// Agents.
    pub agents: usize,
    /// Containers of the fault phase.
    pub containers: usize,
    /// Inputs fed to the manager.
    pub steps: u64,
    /// Simulated time covered.
    pub sim_time: Duration,
    /// Tasks launched on agents.
    pub placements: u64,
    /// Containers that ran at some point.
    pub containers_ever_running: usize,
    /// Containers running at the end, as the manager reports them.
    pub containers_running_at_end: usize,
    /// From the start until the last container first ran.
    pub time_to_all_running: Option<Duration>,
    /// Individual checks passed.
    pub checks: u64,
    /// The first broken invariant, if any.
    pub violation: Option<Violation>,
    /// When (simulated time) and at which step it broke.
    pub violation_at: Option<(Duration, u64)>,
    /// The inputs (and faults) right before the end or the violation.
    pub last_inputs: Vec<String>,
    /// FNV-1a 64 of every input and output of the manager.
    pub trace_hash: u64,
    /// Faults applied.
    pub faults_applied: FaultCounts,
    /// How many times a manager was started (1 + crashes survived).
    pub manager_starts: u64,
    /// Network counters.
    pub net: NetStats,
    /// Cluster counters.
    pub cluster: ClusterStats,
    /// Client counters.
    pub workload: WorkloadStats,
}

impl RunSummary {
    /// No invariant broken.
    pub fn passed(&self) -> bool {
        self.violation.is_none()
    }
}

impl fmt::Display for RunSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "seed {} · {} agents · {} containers · faults {} · core {}",
            self.seed,
            self.agents,
            self.containers,
            self.faults.name(),
            self.core.name()
        )?;
        writeln!(
            f,
            "  simulated {:.1}s in {} steps; {} offers, {} placements; {} containers ran, {} running at the end",
            self.sim_time.as_secs_f64(),
            self.steps,
            self.cluster.offers,
            self.placements,
            self.containers_ever_running,
            self.containers_running_at_end
        )?;
        match self.time_to_all_running {
            Some(t) => writeln!(
                f,
                "  time to all running: {:.1}s (simulated)",
                t.as_secs_f64()
            )?,
            None => writeln!(f, "  time to all running: -")?,
        }
        let c = &self.faults_applied;
        writeln!(
            f,
            "  faults: {} clogs, {} partitions ({} gone), {} agent restarts, {} agents removed, {} maintenance, {} master failovers, {} manager crashes, {} store stalls; network dropped {} / duplicated {} of {} messages",
            c.clogs,
            c.partitions,
            c.gone,
            c.agent_restarts,
            c.removed,
            c.maintenance,
            c.master_failovers,
            c.crashes,
            c.store_stalls,
            self.net.dropped,
            self.net.duplicated,
            self.net.sent
        )?;
        writeln!(
            f,
            "  clients: {} requests, {} created, {} started, {} errors, {} abandoned",
            self.workload.requests,
            self.workload.created,
            self.workload.started,
            self.workload.errors,
            self.workload.abandoned
        )?;
        writeln!(f, "  checks passed: {}", self.checks)?;
        writeln!(f, "  trace hash: {:016x}", self.trace_hash)?;
        if let Some(v) = &self.violation {
            let (at, step) = self.violation_at.unwrap_or_default();
            writeln!(
                f,
                "  VIOLATION at step {step} ({:.3}s simulated): {v}",
                at.as_secs_f64()
            )?;
            writeln!(f, "  last inputs:")?;
            for l in &self.last_inputs {
                writeln!(f, "    {l}")?;
            }
            writeln!(f, "  reproduce: {}", self.config.command())?;
        }
        Ok(())
    }
}

/// `1h`, `30m`, `90s`, `500ms`, or a bare number of seconds, in milliseconds.
pub fn parse_duration_ms(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 1h, 30m, 90s"))?;
    let factor = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(format!("`{s}`: unit must be h, m, s or ms")),
    };
    Ok(n.saturating_mul(factor))
}

/// One line of a regression file: `key=value` pairs (`seed`, `agents`, `containers`,
/// `faults`, `duration`, `liveness`, `resources`, `core`), then an optional `# why`.
/// Keys not given keep `base`'s values. `Ok(None)` for blank and comment lines.
pub fn parse_case(line: &str, base: &RunConfig) -> Result<Option<RunConfig>, String> {
    let line = line.split('#').next().unwrap_or("").trim();
    if line.is_empty() {
        return Ok(None);
    }
    let mut cfg = base.clone();
    for token in line.split_whitespace() {
        let (k, v) = token
            .split_once('=')
            .ok_or_else(|| format!("`{token}` is not key=value"))?;
        let num = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("`{v}` is not a number"))
        };
        match k {
            "seed" => cfg.seed = num(v)?,
            "agents" => cfg.agents = num(v)? as usize,
            "containers" => cfg.containers = num(v)? as usize,
            "faults" => cfg.faults = FaultProfile::parse(v)?,
            "duration" => cfg.duration_ms = parse_duration_ms(v)?,
            "liveness" => cfg.liveness_ms = parse_duration_ms(v)?,
            "resources" => cfg.agent_resources = AgentResources::parse(v)?,
            "core" => cfg.core = CoreKind::parse(v)?,
            other => return Err(format!("unknown key `{other}`")),
        }
    }
    Ok(Some(cfg))
}

/// Runs one simulation.
pub fn run(cfg: &RunConfig) -> RunSummary {
    World::new(cfg.clone()).run()
}

/// What a sweep found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepReport {
    /// Runs made.
    pub runs: usize,
    /// Runs that broke an invariant.
    pub failures: Vec<RunSummary>,
    /// Seeds whose second run gave another trace hash.
    pub nondeterministic: Vec<u64>,
}

impl SweepReport {
    /// Nothing failed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.nondeterministic.is_empty()
    }
}

/// Runs every seed of `seeds` with `base` (its seed replaced), each twice when `twice`
/// (comparing trace hashes). `on_run` sees every first run's summary as it finishes.
pub fn sweep(
    seeds: Range<u64>,
    base: &RunConfig,
    twice: bool,
    mut on_run: impl FnMut(&RunSummary),
) -> SweepReport {
    let mut report = SweepReport::default();
    for seed in seeds {
        let cfg = RunConfig {
            seed,
            ..base.clone()
        };
        let s = run(&cfg);
        report.runs += 1;
        on_run(&s);
        if twice {
            let again = run(&cfg);
            report.runs += 1;
            if again.trace_hash != s.trace_hash {
                report.nondeterministic.push(seed);
            }
        }
        if !s.passed() {
            report.failures.push(s);
        }
    }
    report
}
