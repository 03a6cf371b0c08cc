//! [`SimCluster`]: a Mesos 1.11 master and its agents as one sans-IO state machine on
//! virtual time.
//!
//! The master side speaks the v1 scheduler API exactly as a real master does: the same
//! calls, the same events, the same HTTP statuses in the same order of checks, the same
//! status update sources, reasons and messages, uuids on agent updates only. Inputs are
//! HTTP-level ([`SimCluster::http_subscribe`], [`SimCluster::http_call`],
//! [`SimCluster::http_disconnected`]) plus timer expiry ([`SimCluster::handle_timeout`]);
//! outputs come from [`SimCluster::poll_output`]. Every entry point first runs the timers
//! that are due, so a caller that forgets `handle_timeout` still sees a consistent cluster.
//!
//! Faults (agent partitions, restarts, removal, maintenance, master failover) are methods
//! too; the simulator's fault schedule calls them, and so can tests.

mod accept;
mod agent;
mod alloc;
mod faults;
mod framework;
mod http;
pub mod state;
mod tasks;
mod truth;

use std::collections::VecDeque;
use std::time::Duration;

use mesoswarm_core::rng::Rng;
use mesoswarm_core::time::Instant;
use mesoswarm_proto::scheduler::Event;
use mesoswarm_proto::v1::{
    master_info, value, Address, AgentId, Attribute, MasterInfo, TaskInfo, TaskState,
};

use crate::config::ClusterConfig;
use crate::ids;
use crate::resources::Res;
use crate::timers::TimerQueue;
use state::{Agent, AgentLife, AgentView, Master, Registration};

pub use state::AgentLife as AgentHealth;

/// An HTTP error answer of the master: the status and the body text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpError {
    /// The HTTP status (400, 403, 404, 405, 415, 501, 503 …).
    pub status: u16,
    /// The body, as the real master words it.
    pub message: String,
}

impl HttpError {
    fn new(status: u16, message: impl Into<String>) -> HttpError {
        HttpError {
            status,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

impl std::error::Error for HttpError {}

/// Something the cluster wants delivered.
#[derive(Clone, Debug, PartialEq)]
pub enum ClusterOutput {
    /// An event for a subscription stream (RecordIO-framed by the HTTP layer).
    Event {
        /// The stream id.
        stream: String,
        /// The event.
        event: Box<Event>,
    },
    /// End this stream (after an ERROR event, a failover to a newer subscription, or a
    /// master failover).
    CloseStream {
        /// The stream id.
        stream: String,
    },
    /// External executor mode: start this task on that agent.
    Launch {
        /// `AgentID.value`.
        agent_id: String,
        /// The task.
        task: Box<TaskInfo>,
    },
    /// External executor mode: stop this task, SIGKILL after `grace`.
    Kill {
        /// `AgentID.value`.
        agent_id: String,
        /// `TaskID.value`.
        task_id: String,
        /// The grace period.
        grace: Duration,
    },
}

/// A change of a task's real state on its agent (see [`ClusterConfig::record_task_changes`]).
#[derive(Clone, Debug, PartialEq)]
pub struct TaskChange {
    /// The agent (index).
    pub agent: usize,
    /// `FrameworkID.value`.
    pub framework_id: String,
    /// `TaskID.value`.
    pub task_id: String,
    /// The new state.
    pub state: TaskState,
}

/// A task as it really is, for ground-truth checks.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskTruth {
    /// The agent (index).
    pub agent: usize,
    /// `FrameworkID.value`.
    pub framework_id: String,
    /// `TaskID.value`.
    pub task_id: String,
    /// The real state.
    pub state: TaskState,
    /// Updates the agent still waits to have acknowledged.
    pub unacknowledged: usize,
}

/// Counters of what the cluster did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterStats {
    /// Offers made.
    pub offers: u64,
    /// Offers rescinded.
    pub rescinds: u64,
    /// Tasks launched on agents.
    pub launched: u64,
    /// Tasks refused with TASK_ERROR.
    pub task_errors: u64,
    /// Tasks dropped or lost at launch (invalid offers, agent gone).
    pub launch_drops: u64,
    /// Status updates forwarded to frameworks.
    pub updates_forwarded: u64,
    /// Acknowledgements that reached an agent.
    pub acks: u64,
    /// Master failovers.
    pub master_failovers: u64,
}

/// Timers of the cluster.
#[derive(Clone, Debug)]
enum ClusterTimer {
    /// An allocation cycle (`periodic` ones re-arm themselves).
    Allocate { incarnation: u64, periodic: bool },
    /// The next HEARTBEAT of a stream.
    Heartbeat { stream: String },
    /// `--offer_timeout` of an offer.
    OfferTimeout { offer: String },
    /// A disconnected framework's failover timeout.
    FailoverTimeout {
        framework: String,
        reregistered_at: Instant,
        incarnation: u64,
    },
    /// The next lifecycle step of a simulated task.
    TaskStep {
        agent: usize,
        key: (String, String),
        step: u64,
    },
    /// Resend the head update of a task stream if it is still this one.
    UpdateRetry {
        agent: usize,
        key: (String, String),
        uuid: Vec<u8>,
    },
    /// An agent has not answered pings for the whole timeout.
    PingTimeout {
        agent: usize,
        epoch: u64,
        incarnation: u64,
    },
    /// A restarting agent process is up again.
    AgentBack { agent: usize, epoch: u64 },
    /// An agent (re-)registers with the current master.
    Reregister {
        agent: usize,
        epoch: u64,
        incarnation: u64,
    },
    /// The new leader is elected.
    MasterUp { incarnation: u64 },
    /// Agents recovered from the registry that did not re-register are unreachable.
    ReregisterTimeout { incarnation: u64 },
    /// Send inverse offers for an agent under maintenance (again).
    InverseOffers { agent: usize, incarnation: u64 },
    /// The maintenance window starts: the machine goes DOWN.
    MaintenanceDown { agent: usize, epoch: u64 },
    /// The maintenance window ends: the machine comes back as a new agent.
    MaintenanceUp { agent: usize },
}

/// A simulated Mesos cluster: one master (the leader) and its agents.
#[derive(Debug)]
pub struct SimCluster {
    config: ClusterConfig,
    rng: Rng,
    now: Instant,
    master: Master,
    agents: Vec<Agent>,
    agent_id_prefix: String,
    timers: TimerQueue<ClusterTimer>,
    out: VecDeque<ClusterOutput>,
    changes: Vec<TaskChange>,
    stats: ClusterStats,
    reregister_spread_ms: u64,
}

impl SimCluster {
    /// A cluster with `config.agents` registered agents and no framework, at time zero.
    /// Its first allocation cycle runs at the first call (with the time of that call).
    pub fn new(config: ClusterConfig) -> Self {
        let mut rng = Rng::new(config.seed ^ 0x6d65_736f_735f_6d73);
        let master_id = ids::uuid_text(&mut rng);
        let mut c = SimCluster {
            master: Master {
                id: master_id.clone(),
                incarnation: 0,
                down_until: None,
                frameworks: Default::default(),
                completed: Default::default(),
                streams: Default::default(),
                offers: Default::default(),
                inverse_offers: Default::default(),
                tasks: Default::default(),
                agents: Vec::new(),
                next_offer: 0,
                next_framework: 0,
                allocation_soon: false,
                allocation_turn: 0,
            },
            agent_id_prefix: master_id,
            rng,
            now: Instant::default(),
            agents: Vec::new(),
            timers: TimerQueue::default(),
            out: VecDeque::new(),
            changes: Vec::new(),
            stats: ClusterStats::default(),
            reregister_spread_ms: 0,
            config,
        };
        for _ in 0..c.config.agents {
            c.add_agent_now();
        }
        c.timers.push(
            Instant::default(),
            ClusterTimer::Allocate {
                incarnation: 0,
                periodic: true,
            },
        );
        c
    }

    /// The configuration.
    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// The leading master's `MasterInfo` (id, ip, port, pid, hostname, version 1.11.0,
    /// address, capabilities).
    pub fn master_info(&self) -> MasterInfo {
        let host = self.config.hostname.clone();
        let ip_text = if parse_ipv4(&host).is_some() {
            host.clone()
        } else {
            "127.0.0.1".to_string()
        };
        let octets = parse_ipv4(&ip_text).unwrap_or([127, 0, 0, 1]);
        MasterInfo {
            id: self.master.id.clone(),
            ip: u32::from_le_bytes(octets),
            port: u32::from(self.config.port),
            pid: Some(format!("master@{ip_text}:{}", self.config.port)),
            hostname: Some(host.clone()),
            version: Some("1.11.0".into()),
            address: Some(Address {
                hostname: Some(host),
                ip: Some(ip_text),
                port: i32::from(self.config.port),
            }),
            domain: None,
            capabilities: [
                master_info::capability::Type::AgentUpdate,
                master_info::capability::Type::AgentDraining,
            ]
            .iter()
            .map(|t| master_info::Capability {
                r#type: Some(*t as i32),
            })
            .collect(),
        }
    }

    /// Changes how tasks behave from now on (latencies, failure rates).
    pub fn set_task_latency(&mut self, latency: crate::config::TaskLatency) {
        self.config.task_latency = latency;
    }

    /// Sets the address `master_info` and SUBSCRIBED report (dev mode: the real HTTP one).
    pub fn set_master_address(&mut self, hostname: &str, port: u16) {
        self.config.hostname = hostname.to_string();
        self.config.port = port;
    }

    /// The next thing to deliver.
    pub fn poll_output(&mut self) -> Option<ClusterOutput> {
        self.out.pop_front()
    }

    /// When [`SimCluster::handle_timeout`] should run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
    }

    /// Counters of what the cluster did so far.
    pub fn stats(&self) -> &ClusterStats {
        &self.stats
    }

    // ---- plumbing ----

    /// Moves the clock to `now` (never backwards) and runs due timers.
    fn advance(&mut self, now: Instant) {
        if now > self.now {
            self.now = now;
        }
        while let Some((_, t)) = self.timers.pop_due(self.now) {
            self.fire(t);
        }
    }

    fn after(&self, ms: u64) -> Instant {
        self.now.saturating_add(Duration::from_millis(ms))
    }

    fn fire(&mut self, t: ClusterTimer) {
        match t {
            ClusterTimer::Allocate {
                incarnation,
                periodic,
            } => {
                if incarnation != self.master.incarnation {
                    return;
                }
                if periodic {
                    let at = self.after(self.config.allocation_interval_ms.max(1));
                    self.timers.push(
                        at,
                        ClusterTimer::Allocate {
                            incarnation,
                            periodic: true,
                        },
                    );
                } else {
                    self.master.allocation_soon = false;
                }
                if self.master.down_until.is_none() {
                    self.allocate();
                }
            }
            ClusterTimer::Heartbeat { stream } => self.on_heartbeat_timer(stream),
            ClusterTimer::OfferTimeout { offer } => self.on_offer_timeout(&offer),
            ClusterTimer::FailoverTimeout {
                framework,
                reregistered_at,
                incarnation,
            } => {
                if incarnation == self.master.incarnation {
                    self.on_failover_timeout(&framework, reregistered_at);
                }
            }
            ClusterTimer::TaskStep { agent, key, step } => self.on_task_step(agent, key, step),
            ClusterTimer::UpdateRetry { agent, key, uuid } => {
                self.on_update_retry(agent, key, uuid)
            }
            ClusterTimer::PingTimeout {
                agent,
                epoch,
                incarnation,
            } => {
                if incarnation == self.master.incarnation && self.agents[agent].epoch == epoch {
                    self.on_ping_timeout(agent);
                }
            }
            ClusterTimer::AgentBack { agent, epoch } => {
                if self.agents[agent].epoch == epoch {
                    self.on_agent_back(agent);
                }
            }
            ClusterTimer::Reregister {
                agent,
                epoch,
                incarnation,
            } => {
                if incarnation == self.master.incarnation && self.agents[agent].epoch == epoch {
                    self.reregister_agent(agent);
                }
            }
            ClusterTimer::MasterUp { incarnation } => {
                if incarnation == self.master.incarnation {
                    self.on_master_up();
                }
            }
            ClusterTimer::ReregisterTimeout { incarnation } => {
                if incarnation == self.master.incarnation {
                    self.on_reregister_timeout();
                }
            }
            ClusterTimer::InverseOffers { agent, incarnation } => {
                if incarnation == self.master.incarnation {
                    self.send_inverse_offers(agent);
                }
            }
            ClusterTimer::MaintenanceDown { agent, epoch } => {
                if self.agents[agent].epoch == epoch {
                    self.on_maintenance_down(agent);
                }
            }
            ClusterTimer::MaintenanceUp { agent } => self.on_maintenance_up(agent),
        }
    }

    /// Creates agent number `agents.len()`, registered with the current master.
    fn add_agent_now(&mut self) -> usize {
        let i = self.agents.len();
        let mut attributes: Vec<Attribute> = self
            .config
            .attributes
            .iter()
            .map(|(k, v)| text_attribute(k, v))
            .collect();
        if self.config.racks > 0 {
            attributes.push(text_attribute(
                "rack",
                &format!("r{}", i % self.config.racks),
            ));
        }
        let total = if self.config.split_ports_between_agents {
            self.config
                .agent_resources
                .port_share(i, self.config.agents)
                .to_res()
        } else {
            self.config.agent_resources.to_res()
        };
        self.agents.push(Agent {
            id: format!("{}-S{i}", self.agent_id_prefix),
            hostname: self
                .config
                .shared_hostname
                .clone()
                .unwrap_or_else(|| format!("agent{i}.sim.mesos")),
            total: total.clone(),
            attributes,
            life: AgentLife::Up,
            epoch: 0,
            tasks: Default::default(),
            frameworks: Default::default(),
        });
        self.master.agents.push(AgentView {
            reg: Registration::Registered,
            used: Res::empty(),
            offered: Res::empty(),
            available: total,
            killed: Default::default(),
            maintenance: None,
            filters: Vec::new(),
        });
        i
    }

    /// Recomputes an agent's available resources after `used` or `offered` changed.
    fn refresh_available(&mut self, i: usize) {
        let mut a = self.agents[i].total.clone();
        let v = &mut self.master.agents[i];
        a.sub(&v.used);
        a.sub(&v.offered);
        v.available = a;
    }

    fn record_change(&mut self, agent: usize, framework_id: &str, task_id: &str, state: TaskState) {
        if self.config.record_task_changes {
            self.changes.push(TaskChange {
                agent,
                framework_id: framework_id.to_string(),
                task_id: task_id.to_string(),
                state,
            });
        }
    }

    fn agent_id_of(&self, i: usize) -> AgentId {
        AgentId {
            value: self.agents[i].id.clone(),
        }
    }

    fn timestamp(&self) -> f64 {
        self.now.unix_nanos() as f64 / 1e9
    }
}

/// Terminal as Mesos defines it.
pub fn is_terminal(s: TaskState) -> bool {
    matches!(
        s,
        TaskState::TaskFinished
            | TaskState::TaskFailed
            | TaskState::TaskKilled
            | TaskState::TaskLost
            | TaskState::TaskError
            | TaskState::TaskDropped
            | TaskState::TaskGone
            | TaskState::TaskGoneByOperator
    )
}

fn text_attribute(name: &str, text: &str) -> Attribute {
    Attribute {
        name: name.to_string(),
        r#type: value::Type::Text as i32,
        text: Some(value::Text {
            value: text.to_string(),
        }),
        ..Default::default()
    }
}

fn parse_ipv4(s: &str) -> Option<[u8; 4]> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut out = [0u8; 4];
    for (o, p) in out.iter_mut().zip(parts) {
        *o = p.parse().ok()?;
    }
    Some(out)
}
