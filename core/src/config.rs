//! Everything the core can be told: framework identity, timeouts, defaults and limits.
//!
//! Every limit has a name here and a clear error when hit; nothing in the core grows
//! without one.

use crate::resources::Milli;

/// The core's configuration. `Config::default()` documents every default.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Seed of the core's random generator (ids, generated names).
    pub seed: u64,
    /// This manager's name in `docker info`.
    pub manager_name: String,
    /// How the framework presents itself to Mesos.
    pub framework: FrameworkConfig,
    /// How long an offer is held for future work before it is declined (`mesos.offertimeout`).
    pub offer_hold_timeout_ms: u64,
    /// `Filters.refuse_seconds` on declines and on the unused part of accepted offers
    /// (`mesos.offerrefusetimeout`).
    pub offer_refuse_seconds: f64,
    /// How long a started container may wait for an offer that fits before its start fails
    /// (`mesos.tasktimeout`). Classic Swarm's 5 s was too short for real clusters.
    pub task_timeout_ms: u64,
    /// The least time between two REVIVE calls.
    pub revive_min_interval_ms: u64,
    /// Mesos `cpus` for a container that asks for none (thousandths).
    pub default_cpus: Milli,
    /// Mesos `mem` in MiB for a container that asks for none.
    pub default_mem_mib: u64,
    /// Grace period of `docker stop` without `-t` and without `StopTimeout`.
    pub default_stop_timeout_secs: u64,
    /// Missed heartbeat intervals after which the master is presumed dead.
    pub heartbeat_misses_before_reconnect: u32,
    /// Heartbeat interval assumed until SUBSCRIBED says otherwise.
    pub default_heartbeat_interval_ms: u64,
    /// First delay before tasks that did not answer a reconciliation are asked again.
    pub reconcile_retry_min_ms: u64,
    /// The most the reconciliation retry delay grows to.
    pub reconcile_retry_max_ms: u64,
    /// How often all tasks are reconciled implicitly while subscribed.
    pub implicit_reconcile_interval_ms: u64,
    /// A launched task with no update after this long is reconciled explicitly.
    pub launch_reconcile_after_ms: u64,
    /// After a KILL, how long past the grace period before the KILL is sent again.
    pub kill_retry_ms: u64,
    /// How often a launch that Mesos dropped (invalid offer, unknown task) is placed again
    /// before the start fails.
    pub launch_retries_max: u32,
    /// Limits.
    pub limits: Limits,
}

/// The framework's identity towards Mesos (`FrameworkInfo`).
#[derive(Clone, Debug, PartialEq)]
pub struct FrameworkConfig {
    /// `FrameworkInfo.user` (`mesos.user`): the user tasks run as on the agents.
    pub user: String,
    /// `FrameworkInfo.name` (`mesos.name`).
    pub name: String,
    /// The role to subscribe with (`mesos.role`).
    pub role: String,
    /// `FrameworkInfo.principal` (`mesos.principal`).
    pub principal: Option<String>,
    /// `FrameworkInfo.failover_timeout` in seconds (`mesos.failovertimeout`): how long Mesos
    /// keeps our tasks running while we are away. Mesos' own default, 0, kills them at once.
    pub failover_timeout_secs: f64,
    /// `FrameworkInfo.checkpoint` (`mesos.checkpointfailover`): tasks survive agent restarts.
    pub checkpoint: bool,
    /// `FrameworkInfo.hostname`, shown in the Mesos UI.
    pub hostname: Option<String>,
    /// `FrameworkInfo.webui_url`.
    pub webui_url: Option<String>,
}

/// Named limits on everything the core holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Containers tracked at once (any state). Create fails with 503 beyond it.
    pub max_containers: usize,
    /// Containers waiting for an offer at once. Start fails with 503 beyond it.
    pub max_pending_containers: usize,
    /// Offers held at once; further offers are declined on arrival.
    pub max_held_offers: usize,
    /// Requests waiting for a container to change (start, stop, wait …). 503 beyond it.
    pub max_waiting_requests: usize,
    /// Tasks launched in one ACCEPT (one offer).
    pub max_launches_per_offer: usize,
    /// Tasks named in one explicit RECONCILE call.
    pub max_reconcile_tasks_per_call: usize,
    /// Docker events kept for `docker events --since`.
    pub event_history: usize,
    /// Outputs queued before the shell drains them; beyond it new API requests get 503.
    pub max_queued_outputs: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 0,
            manager_name: "mesoswarm".into(),
            framework: FrameworkConfig::default(),
            offer_hold_timeout_ms: 30_000,
            offer_refuse_seconds: 5.0,
            task_timeout_ms: 60_000,
            revive_min_interval_ms: 1_000,
            default_cpus: Milli(100),
            default_mem_mib: 128,
            default_stop_timeout_secs: 10,
            heartbeat_misses_before_reconnect: 5,
            default_heartbeat_interval_ms: 15_000,
            reconcile_retry_min_ms: 5_000,
            reconcile_retry_max_ms: 300_000,
            implicit_reconcile_interval_ms: 15 * 60_000,
            launch_reconcile_after_ms: 60_000,
            kill_retry_ms: 10_000,
            launch_retries_max: 3,
            limits: Limits::default(),
        }
    }
}

impl Default for FrameworkConfig {
    fn default() -> Self {
        FrameworkConfig {
            user: "root".into(),
            name: "mesoswarm".into(),
            role: "*".into(),
            principal: None,
            failover_timeout_secs: 7.0 * 24.0 * 3600.0,
            checkpoint: true,
            hostname: None,
            webui_url: None,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_containers: 1_000_000,
            max_pending_containers: 100_000,
            max_held_offers: 10_000,
            max_waiting_requests: 100_000,
            max_launches_per_offer: 1_000,
            max_reconcile_tasks_per_call: 1_000,
            event_history: 1_024,
            max_queued_outputs: 1_000_000,
        }
    }
}
