//! How a simulated cluster is shaped: agents and their resources, the master's timing, how
//! tasks behave.

use std::fmt;

use mesoswarm_core::resources::Milli;
use mesoswarm_core::rng::Rng;

use crate::resources::{Ranges, Res};

/// A statically reserved resource (`cpus(eng):2`).
#[derive(Clone, Debug, PartialEq)]
pub struct Reservation {
    /// The resource name (`cpus`, `mem`, `disk`, `gpus`).
    pub name: String,
    /// The role it is reserved for.
    pub role: String,
    /// How much (MB for `mem` and `disk`).
    pub amount: f64,
}

/// What every agent has, as Mesos' `--resources` text describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentResources {
    /// Unreserved `cpus`.
    pub cpus: f64,
    /// Unreserved `mem`, MiB.
    pub mem_mib: u64,
    /// Unreserved `disk`, MiB.
    pub disk_mib: u64,
    /// Unreserved `ports`, inclusive ranges.
    pub ports: Vec<(u64, u64)>,
    /// Unreserved `gpus`. Frameworks without GPU_RESOURCES get no offers from such agents.
    pub gpus: u64,
    /// Statically reserved resources, on top of the unreserved ones.
    pub reserved: Vec<Reservation>,
}

impl Default for AgentResources {
    fn default() -> Self {
        AgentResources {
            cpus: 4.0,
            mem_mib: 8192,
            disk_mib: 10240,
            ports: vec![(31000, 32000)],
            gpus: 0,
            reserved: Vec::new(),
        }
    }
}

impl AgentResources {
    /// Parses Mesos' resource text: `cpus:4;mem:4096;disk:10240;ports:[31000-32000]`, with
    /// optional reservations (`cpus(eng):2`) and `gpus:1`. Resources not named keep zero.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut out = AgentResources {
            cpus: 0.0,
            mem_mib: 0,
            disk_mib: 0,
            ports: Vec::new(),
            gpus: 0,
            reserved: Vec::new(),
        };
        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once(':')
                .ok_or_else(|| format!("resource `{part}` has no `:value`"))?;
            let (name, role) = match key.split_once('(') {
                Some((n, rest)) => {
                    let role = rest
                        .strip_suffix(')')
                        .ok_or_else(|| format!("resource `{part}`: unclosed `(`"))?;
                    (n.trim(), role.trim())
                }
                None => (key.trim(), "*"),
            };
            if role.is_empty() {
                return Err(format!("resource `{part}`: empty role"));
            }
            if name == "ports" {
                if role != "*" {
                    return Err(format!(
                        "resource `{part}`: reserved ports are not supported"
                    ));
                }
                out.ports.extend(parse_ranges(value)?);
                continue;
            }
            let amount: f64 = value
                .trim()
                .parse()
                .map_err(|_| format!("resource `{part}`: `{value}` is not a number"))?;
            if !amount.is_finite() || amount < 0.0 {
                return Err(format!(
                    "resource `{part}`: `{value}` is not a valid amount"
                ));
            }
            if !matches!(name, "cpus" | "mem" | "disk" | "gpus") {
                return Err(format!(
                    "resource `{part}`: unknown resource `{name}` (cpus, mem, disk, ports, gpus)"
                ));
            }
            if role != "*" {
                out.reserved.push(Reservation {
                    name: name.to_string(),
                    role: role.to_string(),
                    amount,
                });
                continue;
            }
            match name {
                "cpus" => out.cpus = amount,
                "mem" => out.mem_mib = amount.round() as u64,
                "disk" => out.disk_mib = amount.round() as u64,
                _ => {
                    if amount.fract() != 0.0 {
                        return Err(format!("resource `{part}`: gpus must be whole"));
                    }
                    out.gpus = amount as u64;
                }
            }
        }
        Ok(out)
    }

    /// Share `i` of `of` equal shares of the port ranges (what is left over goes unused).
    pub fn port_share(&self, i: usize, of: usize) -> AgentResources {
        let of = of.max(1) as u64;
        let i = i as u64;
        let ports = self
            .ports
            .iter()
            .filter_map(|&(begin, end)| {
                let per = (end + 1 - begin) / of;
                (per > 0).then(|| (begin + i * per, begin + (i + 1) * per - 1))
            })
            .collect();
        AgentResources {
            ports,
            ..self.clone()
        }
    }

    /// The resources of one agent, as the master counts them.
    pub fn to_res(&self) -> Res {
        let mut r = Res::empty();
        r.add_scalar("cpus", "*", Milli::from_f64(self.cpus));
        r.add_scalar("mem", "*", Milli::from_units(self.mem_mib as i64));
        r.add_scalar("disk", "*", Milli::from_units(self.disk_mib as i64));
        r.add_scalar("gpus", "*", Milli::from_units(self.gpus as i64));
        r.add_ranges("ports", "*", &Ranges::new(self.ports.iter().copied()));
        for res in &self.reserved {
            r.add_scalar(&res.name, &res.role, Milli::from_f64(res.amount));
        }
        r
    }
}

fn parse_ranges(value: &str) -> Result<Vec<(u64, u64)>, String> {
    let inner = value
        .trim()
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .ok_or_else(|| format!("ranges `{value}` must look like [31000-32000]"))?;
    let mut out = Vec::new();
    for r in inner.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        let (b, e) = r
            .split_once('-')
            .ok_or_else(|| format!("range `{r}` must look like 31000-32000"))?;
        let b: u64 = b
            .trim()
            .parse()
            .map_err(|_| format!("range `{r}`: bad start"))?;
        let e: u64 = e
            .trim()
            .parse()
            .map_err(|_| format!("range `{r}`: bad end"))?;
        if b > e {
            return Err(format!("range `{r}` begins after its end"));
        }
        out.push((b, e));
    }
    Ok(out)
}

impl fmt::Display for AgentResources {
    /// The same Mesos text `parse` reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cpus:{};mem:{};disk:{}",
            Milli::from_f64(self.cpus),
            self.mem_mib,
            self.disk_mib
        )?;
        if !self.ports.is_empty() {
            write!(f, ";ports:{}", Ranges::new(self.ports.iter().copied()))?;
        }
        if self.gpus > 0 {
            write!(f, ";gpus:{}", self.gpus)?;
        }
        for r in &self.reserved {
            write!(f, ";{}({}):{}", r.name, r.role, Milli::from_f64(r.amount))?;
        }
        Ok(())
    }
}

/// Who runs the tasks the agents are told to launch.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum ExecutorMode {
    /// The agents run tasks themselves on virtual time, following [`TaskLatency`]: with no
    /// run time configured a task runs until it is killed.
    #[default]
    Simulated,
    /// The cluster emits [`crate::ClusterOutput::Launch`] and [`crate::ClusterOutput::Kill`]
    /// and learns task states from [`crate::SimCluster::report_task_status`] (used when dev
    /// agents run real Docker containers).
    External,
}

/// A delay drawn uniformly from `min_ms..=max_ms`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Latency {
    /// The shortest delay.
    pub min_ms: u64,
    /// The longest delay.
    pub max_ms: u64,
}

impl Latency {
    /// A fixed delay.
    pub const fn fixed(ms: u64) -> Latency {
        Latency {
            min_ms: ms,
            max_ms: ms,
        }
    }

    /// A delay between `min_ms` and `max_ms`.
    pub const fn between(min_ms: u64, max_ms: u64) -> Latency {
        Latency { min_ms, max_ms }
    }

    /// One draw, in milliseconds.
    pub fn sample(&self, rng: &mut Rng) -> u64 {
        if self.max_ms <= self.min_ms {
            return self.min_ms;
        }
        self.min_ms + rng.below(self.max_ms - self.min_ms + 1)
    }
}

/// How simulated tasks behave on their agent.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskLatency {
    /// From the launch reaching the agent to TASK_STARTING (image pull, container create).
    pub launch: Latency,
    /// From TASK_STARTING to TASK_RUNNING.
    pub start: Latency,
    /// From a kill to TASK_KILLED (never more than the kill's grace period).
    pub kill: Latency,
    /// How long a task runs before it exits by itself; `None`: until killed.
    pub run_time: Option<Latency>,
    /// Share (0..=1) of self-exiting tasks that fail with `exit_code` instead of exiting 0.
    pub exit_failure_rate: f64,
    /// The exit code of a failing task.
    pub exit_code: i32,
    /// Share (0..=1) of launches that fail before the task starts (TASK_FAILED,
    /// REASON_CONTAINER_LAUNCH_FAILED).
    pub launch_failure_rate: f64,
}

impl Default for TaskLatency {
    fn default() -> Self {
        TaskLatency {
            launch: Latency::between(200, 2_000),
            start: Latency::between(100, 1_000),
            kill: Latency::between(100, 3_000),
            run_time: None,
            exit_failure_rate: 0.0,
            exit_code: 1,
            launch_failure_rate: 0.0,
        }
    }
}

/// The shape and timing of a simulated cluster.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterConfig {
    /// Seed of every random choice the cluster makes (ids, latencies, launch failures).
    pub seed: u64,
    /// How many agents.
    pub agents: usize,
    /// What each agent has.
    pub agent_resources: AgentResources,
    /// Text attributes of every agent (`("zone", "a")`).
    pub attributes: Vec<(String, String)>,
    /// When above zero, agent `i` also gets the attribute `rack:r<i % racks>`.
    pub racks: usize,
    /// The agents share one host (`mesoswarm dev --engine`, one Docker engine): each gets
    /// its own equal share of `agent_resources.ports`, so two containers never get the
    /// same host port.
    pub split_ports_between_agents: bool,
    /// Every agent's hostname, for agents that share one host (`None`: `agent<i>.sim.mesos`).
    pub shared_hostname: Option<String>,
    /// The allocator's cycle (`--allocation_interval`, 1 s).
    pub allocation_interval_ms: u64,
    /// HEARTBEAT interval (15 s in Mesos, fixed there).
    pub heartbeat_interval_ms: u64,
    /// `--offer_timeout`: offers outstanding this long are rescinded (none by default).
    pub offer_timeout_ms: Option<u64>,
    /// How tasks behave.
    pub task_latency: TaskLatency,
    /// Who runs the tasks.
    pub executor: ExecutorMode,
    /// `--agent_ping_timeout` (15 s).
    pub agent_ping_timeout_ms: u64,
    /// `--max_agent_ping_timeouts` (5): a partitioned agent is unreachable after
    /// `agent_ping_timeout_ms × max_agent_ping_timeouts`.
    pub max_agent_ping_timeouts: u32,
    /// `--agent_reregister_timeout` (10 min): after a master failover, agents that have not
    /// re-registered by then are marked unreachable.
    pub agent_reregister_timeout_ms: u64,
    /// The master's hostname (in MasterInfo and SUBSCRIBED).
    pub hostname: String,
    /// The master's port.
    pub port: u16,
    /// Keep a log of ground-truth task changes for [`crate::SimCluster::take_task_changes`]
    /// (the simulator's checkers use it; off for `mesoswarm dev`).
    pub record_task_changes: bool,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            seed: 0,
            agents: 3,
            agent_resources: AgentResources::default(),
            attributes: Vec::new(),
            racks: 0,
            split_ports_between_agents: false,
            shared_hostname: None,
            allocation_interval_ms: 1_000,
            heartbeat_interval_ms: 15_000,
            offer_timeout_ms: None,
            task_latency: TaskLatency::default(),
            executor: ExecutorMode::Simulated,
            agent_ping_timeout_ms: 15_000,
            max_agent_ping_timeouts: 5,
            agent_reregister_timeout_ms: 600_000,
            hostname: "127.0.0.1".into(),
            port: 5050,
            record_task_changes: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mesos_resource_text() {
        let r = AgentResources::parse("cpus:4;mem:4096;disk:10240;ports:[31000-32000]").unwrap();
        assert_eq!(r.cpus, 4.0);
        assert_eq!(r.mem_mib, 4096);
        assert_eq!(r.disk_mib, 10240);
        assert_eq!(r.ports, vec![(31000, 32000)]);
        let r = AgentResources::parse("cpus:2.5; cpus(eng):1; gpus:2; ports:[1-2, 5-9]").unwrap();
        assert_eq!(r.cpus, 2.5);
        assert_eq!(r.gpus, 2);
        assert_eq!(r.ports, vec![(1, 2), (5, 9)]);
        assert_eq!(r.reserved[0].role, "eng");
        let again = AgentResources::parse(&r.to_string()).unwrap();
        assert_eq!(again, r);
        assert!(AgentResources::parse("cpus").is_err());
        assert!(AgentResources::parse("cpus:x").is_err());
        assert!(AgentResources::parse("bananas:3").is_err());
        assert!(AgentResources::parse("ports:[9-1]").is_err());
        assert!(AgentResources::parse("gpus:1.5").is_err());
    }
}
