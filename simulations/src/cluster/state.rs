//! The data the simulated master and agents keep.
//!
//! The master's part ([`Master`]) is in-memory only and starts empty after a master failover;
//! the agents' part ([`Agent`]) is the ground truth: what really runs where.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use mesoswarm_core::time::Instant;
use mesoswarm_proto::v1::{
    framework_info::capability::Type as Cap, Attribute, FrameworkInfo, TaskInfo, TaskState,
    TaskStatus, Unavailability,
};

use crate::resources::Res;

/// What the ground truth says about an agent's process and its link to the master.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AgentLife {
    /// Running and reachable.
    Up,
    /// Running, but no message gets through between it and the master.
    Partitioned,
    /// The agent process is restarting (its executors and tasks keep running).
    Down,
    /// Shut down for good (marked gone, or removed for maintenance); its tasks are dead.
    Dead,
}

/// How the current master sees an agent.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Registration {
    /// Registered and connected.
    Registered,
    /// Registered, but its connection closed (agent restarting).
    Disconnected,
    /// Known from the registry after a master failover, not re-registered yet.
    Recovered,
    /// Marked unreachable at this time.
    Unreachable(Instant),
    /// Marked gone by an operator.
    Gone,
    /// Removed (maintenance DOWN).
    Removed,
}

impl Registration {
    /// In the master's registered set (connected or not).
    pub fn is_registered(self) -> bool {
        matches!(self, Registration::Registered | Registration::Disconnected)
    }
}

/// One update in an agent's per-task stream, waiting for its acknowledgement.
#[derive(Clone, Debug)]
pub struct PendingUpdate {
    /// The status, with its uuid.
    pub status: TaskStatus,
}

/// A task as its agent knows it (ground truth).
#[derive(Clone, Debug)]
pub struct AgentTask {
    /// What was launched.
    pub info: TaskInfo,
    /// Its resources, as the master counted them.
    pub resources: Res,
    /// The real state.
    pub state: TaskState,
    /// Updates not acknowledged yet; the head is in flight.
    pub stream: VecDeque<PendingUpdate>,
    /// The next retry delay of the head update.
    pub retry_ms: u64,
    /// Bumped whenever a lifecycle step is scheduled, so stale steps are ignored.
    pub step: u64,
    /// The agent-side Docker id, reported in `TaskStatus.data`.
    pub docker_id: String,
    /// A kill is in progress; the exit status it ends with (143 after SIGTERM, 137 after
    /// the grace period's SIGKILL; 0 when an external executor reports it).
    pub killing_status: Option<i32>,
}

/// An agent: its resources and what really runs on it.
#[derive(Clone, Debug)]
pub struct Agent {
    /// `AgentID.value`.
    pub id: String,
    /// Its hostname.
    pub hostname: String,
    /// What it has.
    pub total: Res,
    /// Its attributes, as offered.
    pub attributes: Vec<Attribute>,
    /// Process state and link.
    pub life: AgentLife,
    /// Bumped on every change of `life`, so stale timers are ignored.
    pub epoch: u64,
    /// Tasks by (framework id, task id).
    pub tasks: BTreeMap<(String, String), AgentTask>,
    /// The checkpointed `FrameworkInfo` of every framework with tasks here.
    pub frameworks: BTreeMap<String, FrameworkInfo>,
}

/// How the master sees one agent.
#[derive(Clone, Debug)]
pub struct AgentView {
    /// Registration state.
    pub reg: Registration,
    /// Resources of tasks the master counts as using them.
    pub used: Res,
    /// Resources in outstanding offers.
    pub offered: Res,
    /// `total - used - offered`, kept up to date.
    pub available: Res,
    /// Kills to send again when the agent re-registers.
    pub killed: BTreeSet<(String, String)>,
    /// Scheduled maintenance.
    pub maintenance: Option<Unavailability>,
    /// Refusal filters: (framework, role, refused resources, until).
    pub filters: Vec<(String, String, Res, Instant)>,
}

/// A task as the master knows it.
#[derive(Clone, Debug)]
pub struct MasterTask {
    /// The agent (index) it runs on.
    pub agent: usize,
    /// Its resources.
    pub resources: Res,
    /// The latest state the agent reported (`TASK_STAGING` until the first update).
    pub state: TaskState,
    /// The state and uuid of the update forwarded to the framework and not acknowledged.
    pub status_update: Option<(TaskState, Vec<u8>)>,
    /// Whether its resources are counted as used on the agent.
    pub holds_resources: bool,
}

/// An outstanding offer.
#[derive(Clone, Debug)]
pub struct MasterOffer {
    /// The framework it was made to.
    pub framework: String,
    /// The agent (index).
    pub agent: usize,
    /// The role it is allocated to.
    pub role: String,
    /// What it offers.
    pub resources: Res,
}

/// An outstanding inverse offer.
#[derive(Clone, Debug)]
pub struct MasterInverseOffer {
    /// The framework it was made to.
    pub framework: String,
    /// The agent (index).
    pub agent: usize,
}

/// A framework the master knows.
#[derive(Clone, Debug)]
pub struct Framework {
    /// Its id.
    pub id: String,
    /// What it subscribed with.
    pub info: FrameworkInfo,
    /// The current subscription stream, while connected.
    pub stream: Option<String>,
    /// Known only from re-registering agents after a master failover.
    pub recovered: bool,
    /// Active frameworks get offers.
    pub active: bool,
    /// Suppressed roles.
    pub suppressed: BTreeSet<String>,
    /// Outstanding offers.
    pub offers: BTreeSet<String>,
    /// Outstanding inverse offers.
    pub inverse_offers: BTreeSet<String>,
    /// Active tasks: task id → agent index.
    pub tasks: BTreeMap<String, usize>,
    /// Tasks on unreachable agents: task id → agent index.
    pub unreachable_tasks: BTreeMap<String, usize>,
    /// When it last (re-)subscribed: a failover timer armed before that is stale.
    pub reregistered_at: Instant,
    /// Inverse offers declined: not sent again for this agent before this time.
    pub inverse_filters: BTreeMap<usize, Instant>,
}

impl Framework {
    /// Whether the framework declared a capability.
    pub fn has(&self, cap: Cap) -> bool {
        has_capability(&self.info, cap)
    }

    /// The framework's roles (MULTI_ROLE `roles`, else the single `role`).
    pub fn roles(&self) -> Vec<String> {
        roles_of(&self.info)
    }

    /// Connected over HTTP right now.
    pub fn connected(&self) -> bool {
        self.stream.is_some()
    }
}

/// Whether `info` declares `cap`.
pub fn has_capability(info: &FrameworkInfo, cap: Cap) -> bool {
    info.capabilities
        .iter()
        .any(|c| c.r#type == Some(cap as i32))
}

/// The roles of a `FrameworkInfo`.
#[allow(deprecated)] // FrameworkInfo.role: the single role of frameworks without MULTI_ROLE
pub fn roles_of(info: &FrameworkInfo) -> Vec<String> {
    if has_capability(info, Cap::MultiRole) {
        info.roles.clone()
    } else {
        vec![info.role.clone().unwrap_or_else(|| "*".into())]
    }
}

/// How many removed frameworks the master remembers (`MAX_COMPLETED_FRAMEWORKS`, 50).
pub const MAX_COMPLETED_FRAMEWORKS: usize = 50;

/// The master's in-memory state: empty again after every master failover.
#[derive(Clone, Debug)]
pub struct Master {
    /// `MasterInfo.id`, a UUID.
    pub id: String,
    /// Bumped on every failover.
    pub incarnation: u64,
    /// Leader election in progress until then: calls get 503.
    pub down_until: Option<Instant>,
    /// Frameworks by id.
    pub frameworks: BTreeMap<String, Framework>,
    /// Ids of removed frameworks, oldest first (re-subscribing with one gets ERROR); the
    /// master remembers the last [`MAX_COMPLETED_FRAMEWORKS`].
    pub completed: VecDeque<String>,
    /// Subscription streams: stream id → framework id.
    pub streams: BTreeMap<String, String>,
    /// Outstanding offers.
    pub offers: BTreeMap<String, MasterOffer>,
    /// Outstanding inverse offers.
    pub inverse_offers: BTreeMap<String, MasterInverseOffer>,
    /// Tasks by (framework id, task id).
    pub tasks: BTreeMap<(String, String), MasterTask>,
    /// The master's view of each agent (same index as the agents).
    pub agents: Vec<AgentView>,
    /// Offer ids are `<master id>-O<n>`.
    pub next_offer: u64,
    /// Framework ids are `<master id>-<NNNN>`.
    pub next_framework: u64,
    /// An allocation is already scheduled for right now.
    pub allocation_soon: bool,
    /// Round-robin start of the next allocation over frameworks.
    pub allocation_turn: u64,
}
