//! The world: the manager (as its shell would drive it), the simulated cluster, the network
//! between them, the store, the Docker clients and the fault plan, all on one virtual
//! clock, in one thread. Every input to the manager is a step; the checkers run after each.

mod describe;
mod inject;
mod shell;

use std::collections::VecDeque;
use std::time::Duration;

use mesoswarm_core::manager::{Input, Output, Record};
use mesoswarm_core::rng::Rng;
use mesoswarm_core::time::Instant;
use mesoswarm_core::Config;

use crate::check::{Bounds, Checker, Ctx, Violation};
use crate::cluster::SimCluster;
use crate::config::ClusterConfig;
use crate::core::SimCore;
use crate::faults::FaultPlan;
use crate::network::{Network, Packet};
use crate::run::{FaultCounts, RunConfig, RunSummary};
use crate::store::Store;
use crate::trace::TraceHash;
use crate::workload::{ClientAction, Workload, WorkloadConfig};
use describe::{describe_input, describe_output};
use shell::{Link, LinkState};

/// Inputs to the manager that may repeat at one instant before the run is declared stuck.
const MAX_STEPS_PER_INSTANT: u64 = 200_000;

/// One simulation run in progress.
pub struct World {
    cfg: RunConfig,
    now: Instant,
    start: Instant,
    fault_end: Instant,
    end: Instant,
    rng: Rng,
    core_config: Config,
    core: Option<Box<dyn SimCore>>,
    incarnation: u64,
    restart_at: Option<Instant>,
    cluster: SimCluster,
    net: Network,
    store: Store,
    workload: Workload,
    plan: FaultPlan,
    checker: Checker,
    link: Link,
    hash: TraceHash,
    steps: u64,
    same_instant: (Instant, u64),
    tail: VecDeque<String>,
    liveness: bool,
    crash_after_intent: Option<u64>,
    crash_now: Option<u64>,
    counts: FaultCounts,
    violation_at: Option<(Duration, u64)>,
    /// SUBSCRIBE requests whose HTTP send failed: the shell learns it a little later.
    failed_subscribes: crate::timers::TimerQueue<Packet>,
}

/// Builds the checkers' view of the world from its fields (a macro, so that the checker
/// can be borrowed mutably at the same time).
macro_rules! ctx {
    ($w:expr) => {
        Ctx {
            now: $w.now,
            store: &$w.store,
            cluster: &$w.cluster,
            manager: $w.core.as_ref().map(|c| c.manager()),
        }
    };
}

impl World {
    /// A world for one run, at its start.
    pub fn new(cfg: RunConfig) -> World {
        let start = Instant::from_unix_secs(1_795_000_000);
        let fault_end = start.saturating_add(Duration::from_millis(cfg.duration_ms));
        let end = fault_end.saturating_add(Duration::from_millis(cfg.liveness_ms));
        let plan = FaultPlan::generate(cfg.faults, cfg.seed, start, cfg.duration_ms);
        let task_latency = crate::config::TaskLatency {
            launch_failure_rate: plan.launch_failure_rate,
            run_time: plan.run_time,
            exit_failure_rate: plan.exit_failure_rate,
            ..Default::default()
        };
        let cluster = SimCluster::new(ClusterConfig {
            seed: cfg.seed,
            agents: cfg.agents,
            agent_resources: cfg.agent_resources.clone(),
            racks: 10,
            offer_timeout_ms: plan.offer_timeout_ms,
            task_latency,
            record_task_changes: true,
            ..ClusterConfig::default()
        });
        let workload = Workload::new(
            WorkloadConfig {
                containers: cfg.containers,
                arrival_ms: (cfg.duration_ms * 2 / 3).max(1),
                ..WorkloadConfig::default()
            },
            cfg.seed ^ 0x776f_726b,
            start,
        );
        let mut core_config = Config {
            seed: cfg.seed,
            ..Config::default()
        };
        if let Some(secs) = plan.failover_timeout_secs {
            core_config.framework.failover_timeout_secs = secs;
        }
        let checker = Checker::new(Bounds {
            // A start may wait for the slowest reconciliation retry, then an offer.
            answer_within_ms: core_config.reconcile_retry_max_ms
                + core_config.task_timeout_ms
                + 120_000,
            hold_timeout_ms: core_config.offer_hold_timeout_ms,
            ..Bounds::default()
        });
        World {
            now: start,
            start,
            fault_end,
            end,
            rng: Rng::new(cfg.seed ^ 0x0077_6f72_6c64),
            core_config,
            core: None,
            incarnation: 0,
            restart_at: Some(start),
            net: Network::new(plan.net.clone(), cfg.seed ^ 0x006e_6574),
            store: Store::new(plan.store_latency, cfg.seed ^ 0x0073_746f_7265),
            cluster,
            workload,
            plan,
            checker,
            link: Link {
                state: LinkState::Idle,
                conn: 0,
                reconnect_at: None,
                backoff_ms: 1_000,
            },
            hash: TraceHash::new(),
            steps: 0,
            same_instant: (start, 0),
            tail: VecDeque::new(),
            liveness: false,
            crash_after_intent: None,
            crash_now: None,
            counts: FaultCounts::default(),
            violation_at: None,
            failed_subscribes: crate::timers::TimerQueue::default(),
            cfg,
        }
    }

    /// Runs to the end (or to the first violation) and sums it up.
    pub fn run(mut self) -> RunSummary {
        loop {
            if self.checker.violation().is_some() {
                break;
            }
            if self.steps >= self.cfg.max_steps {
                self.fail(
                    "bounded steps",
                    format!("{} steps without reaching the end (livelock?)", self.steps),
                );
                break;
            }
            let Some(next) = self.next_event() else {
                break;
            };
            if next > self.end {
                break;
            }
            self.now = self.now.max(next);
            if !self.liveness && self.now >= self.fault_end {
                self.enter_liveness();
                continue;
            }
            self.tick();
        }
        if self.checker.violation().is_none() {
            self.now = self.now.max(self.end);
            self.sync();
            let ctx = ctx!(self);
            self.checker.finish(&ctx, &self.workload);
            if self.checker.violation().is_some() {
                self.violation_at = Some((self.now.saturating_since(self.start), self.steps));
            }
        }
        self.summary()
    }

    fn next_event(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut take = |t: Option<Instant>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        if !self.liveness {
            take(self.plan.next_deadline());
            take(Some(self.fault_end));
        }
        take(self.restart_at);
        take(self.cluster.poll_timeout());
        take(self.net.next_deadline());
        take(self.store.next_deadline());
        take(self.workload.next_deadline());
        take(self.link.reconnect_at);
        take(self.failed_subscribes.next_deadline());
        take(self.core.as_ref().and_then(|c| c.poll_timeout()));
        next
    }

    fn tick(&mut self) {
        let now = self.now;
        if !self.liveness {
            while let Some(f) = self.plan.poll(now) {
                self.apply_fault(f);
            }
        }
        if self.restart_at.is_some_and(|t| t <= now) {
            self.restart();
        }
        self.cluster.handle_timeout(now);
        self.drain_cluster();
        while let Some(p) = self.net.poll(now) {
            self.deliver(p);
        }
        while let Some((_, p)) = self.failed_subscribes.pop_due(now) {
            self.subscribe_failed(p);
        }
        if let Some(up_to) = self.store.poll(now) {
            self.feed(Input::Persisted { up_to });
        }
        for action in self.workload.poll(now) {
            self.client_action(action);
        }
        if self.link.reconnect_at.is_some_and(|t| t <= now) {
            self.reconnect();
        }
        if self
            .core
            .as_ref()
            .and_then(|c| c.poll_timeout())
            .is_some_and(|t| t <= now)
        {
            self.feed(Input::Timeout);
        }
        self.sync();
    }

    // ---- the manager ----

    fn feed(&mut self, input: Input) {
        if self.core.is_none() || self.checker.violation().is_some() {
            return;
        }
        self.sync();
        self.steps += 1;
        if self.same_instant.0 == self.now {
            self.same_instant.1 += 1;
            if self.same_instant.1 > MAX_STEPS_PER_INSTANT {
                self.fail(
                    "bounded steps",
                    format!("{} inputs at one instant (livelock?)", self.same_instant.1),
                );
                return;
            }
        } else {
            self.same_instant = (self.now, 1);
        }
        let line = describe_input(&input);
        self.remember(line);
        let ctx = ctx!(self);
        self.checker.on_input(&ctx, &input);
        self.hash.input(self.now, &input);
        if let Some(core) = self.core.as_mut() {
            core.handle(self.now, input);
        }
        self.drain_core();
        self.sync();
        if self.checker.violation().is_some() && self.violation_at.is_none() {
            self.violation_at = Some((self.now.saturating_since(self.start), self.steps));
        }
        if let Some(down) = self.crash_now.take() {
            self.crash(down);
        }
    }

    fn drain_core(&mut self) {
        loop {
            if self.crash_now.is_some() {
                return; // the process is gone: nothing more leaves it
            }
            let Some(o) = self.core.as_mut().and_then(|c| c.poll_output()) else {
                return;
            };
            self.hash.output(&o);
            if self.cfg.trace_outputs {
                if let Some(line) = describe_output(&o) {
                    self.remember(line);
                }
            }
            let ctx = ctx!(self);
            self.checker.on_output(&ctx, &o);
            self.route(o);
        }
    }

    fn route(&mut self, o: Output) {
        match o {
            Output::Persist { seq, record } => {
                if let Record::Container(c) = &record {
                    let intent = c.task.as_ref().is_some_and(|t| t.state.is_none());
                    if intent {
                        if let Some(down) = self.crash_after_intent.take() {
                            self.crash_now = Some(down);
                        }
                    }
                }
                self.store.write(self.now, seq, record);
            }
            Output::Call(call) => self.link_send(call),
            Output::Docker { id, response } => self.workload.on_response(self.now, id, &response),
            Output::Reconnect { reason } => {
                self.remember(format!("manager reconnects: {reason}"));
                self.hang_up();
                self.schedule_reconnect();
            }
            Output::Event(_) | Output::Log { .. } => {}
        }
    }

    /// Ground-truth changes and per-step checks.
    fn sync(&mut self) {
        let changes = self.cluster.take_task_changes();
        let ctx = ctx!(self);
        self.checker.after_step(&ctx, &changes);
        if self.checker.violation().is_some() && self.violation_at.is_none() {
            self.violation_at = Some((self.now.saturating_since(self.start), self.steps));
        }
    }

    fn fail(&mut self, invariant: &'static str, detail: String) {
        self.checker.force(Violation { invariant, detail });
        if self.violation_at.is_none() {
            self.violation_at = Some((self.now.saturating_since(self.start), self.steps));
        }
    }

    fn remember(&mut self, line: String) {
        if self.cfg.tail == 0 {
            return;
        }
        let at = self.now.saturating_since(self.start);
        self.tail.push_back(format!(
            "[{:>9.3}s #{}] {line}",
            at.as_secs_f64(),
            self.steps
        ));
        while self.tail.len() > self.cfg.tail {
            self.tail.pop_front();
        }
    }

    fn crash(&mut self, down_ms: u64) {
        if self.core.is_none() {
            return;
        }
        self.remember(format!("FAULT manager crash, down {down_ms} ms"));
        self.counts.crashes += 1;
        self.hang_up();
        self.core = None;
        self.link.reconnect_at = None;
        self.failed_subscribes.clear();
        self.store.crash();
        for id in self.workload.on_crash(self.now) {
            self.checker.on_give_up(id);
        }
        self.checker.on_crash();
        self.restart_at = Some(self.now.saturating_add(Duration::from_millis(down_ms)));
    }

    fn restart(&mut self) {
        self.restart_at = None;
        let records = (self.incarnation > 0).then(|| self.store.records());
        self.incarnation += 1;
        let mut config = self.core_config.clone();
        // A restarted process seeds itself afresh (ids must not repeat the last run's).
        config.seed = self.cfg.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ self.incarnation;
        self.core = Some(self.cfg.core.build(config, records));
        self.link.state = LinkState::Idle;
        self.link.backoff_ms = 1_000;
        self.link.reconnect_at = Some(self.now);
    }

    // ---- clients ----

    fn client_action(&mut self, a: ClientAction) {
        match a {
            ClientAction::Send(id, request) => {
                self.checker.on_request(self.now, id, &request);
                if self.core.is_some() {
                    self.feed(Input::Docker { id, request });
                } else {
                    // Connection refused: the manager is down.
                    self.checker.on_give_up(id);
                    self.workload.on_refused(self.now, id);
                }
            }
            ClientAction::GiveUp(id) => {
                self.checker.on_give_up(id);
                self.feed(Input::DockerGone { id });
            }
        }
    }

    fn summary(&self) -> RunSummary {
        let first: Vec<Instant> = self.checker.first_running().collect();
        let time_to_all_running = first.iter().max().map(|t| t.saturating_since(self.start));
        let running = self.core.as_ref().map_or(0, |c| {
            c.manager()
                .containers()
                .filter(|c| c.status == mesoswarm_core::container::DockerStatus::Running)
                .count()
        });
        RunSummary {
            config: self.cfg.clone(),
            seed: self.cfg.seed,
            faults: self.cfg.faults,
            core: self.cfg.core,
            agents: self.cfg.agents,
            containers: self.cfg.containers,
            steps: self.steps,
            sim_time: self.now.saturating_since(self.start),
            placements: self.cluster.stats().launched,
            containers_ever_running: first.len(),
            containers_running_at_end: running,
            time_to_all_running,
            checks: self.checker.checks(),
            violation: self.checker.violation().cloned(),
            violation_at: self.violation_at,
            last_inputs: self.tail.iter().cloned().collect(),
            trace_hash: self.hash.value(),
            faults_applied: self.counts.clone(),
            manager_starts: self.incarnation,
            net: self.net.stats().clone(),
            cluster: self.cluster.stats().clone(),
            workload: self.workload.stats().clone(),
        }
    }
}
