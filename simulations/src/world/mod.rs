//! The world: the manager (as its shell would drive it), the simulated cluster, the network
//! between them, the store, the Docker clients and the fault plan, all on one virtual
//! clock, in one thread. Every input to the manager is a step; the checkers run after each.

use std::collections::VecDeque;
use std::time::Duration;

use mesoswarm_core::docker::request::DockerRequest;
use mesoswarm_core::manager::{Input, Output, Record};
use mesoswarm_core::rng::Rng;
use mesoswarm_core::time::Instant;
use mesoswarm_core::Config;
use mesoswarm_proto::scheduler::{call::Type as CallType, event::Type as EventType};

use crate::check::{Bounds, Checker, Ctx, Violation};
use crate::cluster::{AgentHealth, ClusterOutput, SimCluster};
use crate::config::{ClusterConfig, Latency};
use crate::core::SimCore;
use crate::faults::{Fault, FaultPlan};
use crate::network::{NetConfig, Network, Packet};
use crate::run::{FaultCounts, RunConfig, RunSummary};
use crate::store::Store;
use crate::trace::TraceHash;
use crate::workload::{ClientAction, Workload, WorkloadConfig};

/// Where the shell's subscription stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum LinkState {
    Idle,
    Connecting(u64),
    Open { stream: String },
}

/// The shell's connection logic: one subscription at a time, reconnect with backoff.
#[derive(Debug)]
struct Link {
    state: LinkState,
    conn: u64,
    reconnect_at: Option<Instant>,
    backoff_ms: u64,
}

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
    /// Requests whose HTTP send failed, to send again (the shell's retry).
    resend: crate::timers::TimerQueue<Packet>,
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
        let core_config = Config {
            seed: cfg.seed,
            ..Config::default()
        };
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
            rng: Rng::new(cfg.seed ^ 0x776f_726c_64),
            core_config,
            core: None,
            incarnation: 0,
            restart_at: Some(start),
            net: Network::new(plan.net.clone(), cfg.seed ^ 0x6e65_74),
            store: Store::new(plan.store_latency, cfg.seed ^ 0x7374_6f72_65),
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
            resend: crate::timers::TimerQueue::default(),
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
                self.fail("bounded steps", format!("{} steps without reaching the end (livelock?)", self.steps));
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
        take(self.resend.next_deadline());
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
        while let Some((_, p)) = self.resend.pop_due(now) {
            self.resend_packet(p);
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
                self.fail("bounded steps", format!("{} inputs at one instant (livelock?)", self.same_instant.1));
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
        self.tail.push_back(format!("[{:>9.3}s #{}] {line}", at.as_secs_f64(), self.steps));
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
        self.resend.clear();
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

    // ---- the shell's link to the master ----

    fn link_send(&mut self, call: Box<mesoswarm_proto::scheduler::Call>) {
        if call.r#type == Some(CallType::Subscribe as i32) {
            if let LinkState::Connecting(conn) = self.link.state {
                self.send_packet(Packet::Subscribe { conn, call });
            }
            return;
        }
        if let LinkState::Open { stream } = &self.link.state {
            let stream = stream.clone();
            self.send_packet(Packet::Call { stream, call });
        }
    }

    /// Sends a request; if it never reaches the master, the shell learns so shortly after
    /// (the HTTP request fails) and tries again.
    fn send_packet(&mut self, p: Packet) {
        if !self.net.send_up(self.now, p.clone()) {
            let ms = 200 + self.rng.below(2_000);
            self.resend
                .push(self.now.saturating_add(Duration::from_millis(ms)), p);
        }
    }

    fn resend_packet(&mut self, p: Packet) {
        match &p {
            Packet::Subscribe { conn, .. } => {
                // The SUBSCRIBE request failed: disconnected, reconnect with backoff.
                if self.core.is_some() && self.link.state == LinkState::Connecting(*conn) {
                    self.link.state = LinkState::Idle;
                    self.lost_link("SUBSCRIBE failed: connection reset".into());
                }
            }
            Packet::Call { stream, .. } => {
                let current = matches!(&self.link.state, LinkState::Open { stream: s } if s == stream);
                if current && self.core.is_some() {
                    self.send_packet(p);
                }
            }
            _ => {}
        }
    }

    /// Closes our side of the subscription, if any.
    fn hang_up(&mut self) {
        if let LinkState::Open { stream } = std::mem::replace(&mut self.link.state, LinkState::Idle) {
            self.net.send_up(self.now, Packet::Hangup { stream });
        }
    }

    fn schedule_reconnect(&mut self) {
        let jitter = self.rng.below(self.link.backoff_ms / 2 + 1);
        self.link.reconnect_at = Some(
            self.now
                .saturating_add(Duration::from_millis(self.link.backoff_ms + jitter)),
        );
        self.link.backoff_ms = (self.link.backoff_ms * 2).min(15_000);
    }

    fn reconnect(&mut self) {
        self.link.reconnect_at = None;
        if self.core.is_none() || self.link.state != LinkState::Idle {
            return;
        }
        self.link.conn += 1;
        self.link.state = LinkState::Connecting(self.link.conn);
        let master = format!("{}:{}", self.cluster.config().hostname, self.cluster.config().port);
        self.feed(Input::Connected { master });
    }

    fn lost_link(&mut self, reason: String) {
        self.hang_up();
        self.link.state = LinkState::Idle;
        self.feed(Input::Disconnected { reason });
        self.schedule_reconnect();
    }

    fn deliver(&mut self, p: Packet) {
        let now = self.now;
        match p {
            Packet::Subscribe { conn, call } => {
                let result = self.cluster.http_subscribe(now, *call);
                self.net.send_down(now, Packet::Subscribed { conn, result });
                self.drain_cluster();
            }
            Packet::Call { stream, call } => {
                let kind = call.r#type;
                let result = self.cluster.http_call(now, Some(&stream), *call);
                if let Err(e) = &result {
                    if e.message.starts_with("Failed to validate") || e.status == 501 {
                        self.fail("calls valid for the master", format!("call {kind:?} rejected: {e}"));
                    }
                }
                self.net.send_down(now, Packet::Answer { stream, result });
                self.drain_cluster();
            }
            Packet::Hangup { stream } => {
                self.cluster.http_disconnected(now, &stream);
                self.drain_cluster();
            }
            Packet::Subscribed { conn, result } => {
                let ours = self.core.is_some() && self.link.state == LinkState::Connecting(conn);
                match (ours, result) {
                    (true, Ok(stream)) => self.link.state = LinkState::Open { stream },
                    (true, Err(e)) => {
                        self.link.state = LinkState::Idle;
                        self.lost_link(format!("SUBSCRIBE failed: {e}"));
                    }
                    (false, Ok(stream)) => {
                        self.net.send_up(now, Packet::Hangup { stream });
                    }
                    (false, Err(_)) => {}
                }
            }
            Packet::Event { stream, event } => {
                if self.link.state == (LinkState::Open { stream }) {
                    if event.r#type == Some(EventType::Subscribed as i32) {
                        self.link.backoff_ms = 1_000;
                    }
                    self.feed(Input::MesosEvent(event));
                }
            }
            Packet::Close { stream } => {
                if self.link.state == (LinkState::Open { stream }) {
                    self.link.state = LinkState::Idle;
                    self.lost_link("the subscription stream ended".into());
                }
            }
            Packet::Answer { stream, result } => {
                if let Err(e) = result {
                    let ours = self.link.state == LinkState::Open { stream };
                    if ours && matches!(e.status, 400 | 403 | 503) {
                        self.lost_link(format!("a call was refused: {e}"));
                    }
                }
            }
        }
    }

    fn drain_cluster(&mut self) {
        while let Some(o) = self.cluster.poll_output() {
            match o {
                ClusterOutput::Event { stream, event } => {
                    self.net.send_down(self.now, Packet::Event { stream, event })
                }
                ClusterOutput::CloseStream { stream } => {
                    self.net.send_down(self.now, Packet::Close { stream })
                }
                ClusterOutput::Launch { .. } | ClusterOutput::Kill { .. } => {}
            }
        }
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

    // ---- faults ----

    /// An agent to hit: mostly one that runs our tasks.
    fn pick_agent(&mut self) -> usize {
        let mut busy: Vec<usize> = self
            .cluster
            .tasks()
            .filter(|t| !crate::cluster::is_terminal(t.state))
            .map(|t| t.agent)
            .collect();
        busy.sort_unstable();
        busy.dedup();
        if !busy.is_empty() && self.rng.below(5) != 0 {
            return busy[self.rng.below(busy.len() as u64) as usize];
        }
        self.rng.below(self.cluster.agent_count().max(1) as u64) as usize
    }

    fn apply_fault(&mut self, f: Fault) {
        let now = self.now;
        match f {
            Fault::Clog { ms } => {
                self.counts.clogs += 1;
                self.remember(format!("FAULT link clogged for {ms} ms"));
                self.net.clog(now.saturating_add(Duration::from_millis(ms)));
            }
            Fault::Partition { heal_after_ms } => {
                let i = self.pick_agent();
                if self.cluster.partition_agent(now, i) {
                    self.counts.partitions += 1;
                    self.remember(format!("FAULT agent {i} partitioned (heals after {heal_after_ms:?} ms)"));
                    let (at, f) = match heal_after_ms {
                        Some(ms) => (ms, Fault::Heal { agent: i }),
                        None => (90_000 + self.rng.below(60_000), Fault::Gone { agent: i }),
                    };
                    self.plan.push(now.saturating_add(Duration::from_millis(at)), f);
                }
            }
            Fault::Heal { agent } => {
                self.remember(format!("FAULT agent {agent} healed"));
                self.cluster.heal_agent(now, agent);
            }
            Fault::Gone { agent } => {
                if self.cluster.mark_agent_gone(now, agent) {
                    self.counts.gone += 1;
                    self.remember(format!("FAULT agent {agent} marked gone"));
                }
            }
            Fault::Restart { down_ms } => {
                let i = self.pick_agent();
                if self.cluster.restart_agent(now, i, down_ms) {
                    self.counts.agent_restarts += 1;
                    self.remember(format!("FAULT agent {i} restarts, down {down_ms} ms"));
                }
            }
            Fault::Maintenance {
                start_in_ms,
                duration_ms,
            } => {
                let i = self.pick_agent();
                if self.cluster.schedule_maintenance(now, i, start_in_ms, duration_ms) {
                    self.counts.maintenance += 1;
                    self.remember(format!("FAULT agent {i} maintenance in {start_in_ms} ms for {duration_ms} ms"));
                }
            }
            Fault::MasterFailover {
                election_ms,
                spread_ms,
            } => {
                self.counts.master_failovers += 1;
                self.remember(format!("FAULT master failover (election {election_ms} ms, agents back within {spread_ms} ms)"));
                self.cluster.master_failover(now, election_ms, spread_ms);
            }
            Fault::Crash { down_ms } => self.crash(down_ms),
            Fault::CrashAfterIntent { down_ms } => {
                self.remember("FAULT manager crashes after its next launch intent".into());
                self.crash_after_intent = Some(down_ms);
            }
            Fault::StoreStall { ms } => {
                self.counts.store_stalls += 1;
                self.remember(format!("FAULT store stalls for {ms} ms"));
                self.store.stall(now.saturating_add(Duration::from_millis(ms)));
            }
        }
        self.drain_cluster();
    }

    /// The faults stop: partitions heal, the network and the store behave, a crashed
    /// manager comes back; fresh work arrives.
    fn enter_liveness(&mut self) {
        self.liveness = true;
        self.remember("faults stop: liveness phase".into());
        self.plan.clear();
        self.crash_after_intent = None;
        let now = self.now;
        for i in 0..self.cluster.agent_count() {
            if self.cluster.agent_health(i) == AgentHealth::Partitioned {
                self.cluster.heal_agent(now, i);
            }
        }
        let mut latency = self.cluster.config().task_latency.clone();
        latency.launch_failure_rate = 0.0;
        self.cluster.set_task_latency(latency);
        self.net.set_config(NetConfig::perfect());
        self.net.unclog();
        self.store.set_latency(now, Latency::between(1, 5));
        if self.core.is_none() {
            self.restart_at = Some(now);
        }
        self.workload.add_clients(self.cfg.liveness_containers, now);
        self.checker
            .enter_liveness(now, self.core_config.offer_hold_timeout_ms);
        self.drain_cluster();
    }

    fn summary(&self) -> RunSummary {
        let first: Vec<Instant> = self.checker.first_running().collect();
        let time_to_all_running = first
            .iter()
            .max()
            .map(|t| t.saturating_since(self.start));
        let running = self.core.as_ref().map_or(0, |c| {
            c.manager()
                .containers()
                .filter(|c| c.status == mesoswarm_core::container::DockerStatus::Running)
                .count()
        });
        RunSummary {
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

/// A short line about an input, for a failure report.
fn describe_input(input: &Input) -> String {
    fn cut(s: String) -> String {
        if s.len() > 200 {
            let mut end = 200;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}…", &s[..end])
        } else {
            s
        }
    }
    match input {
        Input::MesosEvent(e) => {
            let kind = e
                .r#type
                .and_then(|t| EventType::try_from(t).ok())
                .map_or("?".to_string(), |t| t.as_str_name().to_string());
            let detail = if let Some(o) = &e.offers {
                format!("{} offer(s)", o.offers.len())
            } else if let Some(u) = &e.update {
                let s = &u.status;
                format!(
                    "{} {:?} uuid={} {}",
                    s.task_id.value,
                    mesoswarm_proto::v1::TaskState::try_from(s.state),
                    s.uuid.is_some(),
                    s.message.clone().unwrap_or_default()
                )
            } else if let Some(r) = &e.rescind {
                r.offer_id.value.clone()
            } else if let Some(err) = &e.error {
                err.message.clone()
            } else {
                String::new()
            };
            cut(format!("event {kind} {detail}"))
        }
        Input::Docker { id, request } => cut(format!("docker #{id} {}", describe_request(request))),
        other => cut(format!("{other:?}")),
    }
}

/// A short line about an output, for a full trace.
fn describe_output(o: &Output) -> Option<String> {
    Some(match o {
        Output::Call(c) => {
            let kind = c
                .r#type
                .and_then(|t| CallType::try_from(t).ok())
                .map_or("?".to_string(), |t| t.as_str_name().to_string());
            let detail = if let Some(a) = &c.accept {
                let tasks: Vec<&str> = a
                    .operations
                    .iter()
                    .flat_map(|op| op.launch.iter().flat_map(|l| &l.task_infos))
                    .map(|t| t.task_id.value.as_str())
                    .collect();
                format!("{:?} {tasks:?}", a.offer_ids.iter().map(|o| &o.value).collect::<Vec<_>>())
            } else if let Some(d) = &c.decline {
                format!("{} offer(s)", d.offer_ids.len())
            } else if let Some(k) = &c.kill {
                k.task_id.value.clone()
            } else if let Some(a) = &c.acknowledge {
                format!("{} {:02x?}", a.task_id.value, &a.uuid[..a.uuid.len().min(4)])
            } else if let Some(r) = &c.reconcile {
                format!("{:?}", r.tasks.iter().map(|t| &t.task_id.value).collect::<Vec<_>>())
            } else {
                String::new()
            };
            format!("  -> call {kind} {detail}")
        }
        Output::Docker { id, response } => {
            let mut s = crate::trace::canonical_response(response);
            s.truncate(160);
            format!("  -> docker #{id} {s}")
        }
        Output::Event(e) => format!("  -> event {} {}", e.action, e.name),
        Output::Reconnect { reason } => format!("  -> reconnect: {reason}"),
        Output::Persist { .. } => return None,
        Output::Log { level, message } => {
            if *level < mesoswarm_core::manager::LogLevel::Info {
                return None;
            }
            format!("  -> log {level:?}: {message}")
        }
    })
}

fn describe_request(r: &DockerRequest) -> String {
    match r {
        DockerRequest::ContainerCreate { name, .. } => format!("create name={name:?}"),
        other => format!("{other:?}"),
    }
}
