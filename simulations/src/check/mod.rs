//! The invariant checkers: safety after every step, liveness once the faults have stopped.
//!
//! They watch what the manager is fed and what it emits, and compare with the store's
//! durable records and the cluster's ground truth. The first violation stops the run.

mod api;
mod liveness;
mod offers;
mod tasks;

use std::fmt;

use mesoswarm_core::docker::request::{DockerRequest, RequestId};
use mesoswarm_core::manager::{Input, Manager, Output};
use mesoswarm_core::resources::Milli;
use mesoswarm_core::time::Instant;

use crate::cluster::SimCluster;
use crate::store::Store;
use crate::workload::Workload;

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which invariant (a short stable name).
    pub invariant: &'static str,
    /// What exactly happened.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.invariant, self.detail)
    }
}

/// What the checkers may look at besides the manager's traffic.
pub struct Ctx<'a> {
    /// The virtual time.
    pub now: Instant,
    /// The durable store.
    pub store: &'a Store,
    /// The cluster's ground truth.
    pub cluster: &'a SimCluster,
    /// The manager, while it runs.
    pub manager: Option<&'a Manager>,
}

/// Limits the bounded-state check holds the manager to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Timers armed: at most `timers_base + timers_per_container × containers`.
    pub timers_base: usize,
    /// See `timers_base`.
    pub timers_per_container: usize,
    /// Outputs waiting for durability: at most `deferred_base + deferred_per_container ×
    /// containers`.
    pub deferred_base: usize,
    /// See `deferred_base`.
    pub deferred_per_container: usize,
    /// In the liveness phase, an offer may be held at most the hold timeout plus this.
    pub offer_hold_slack_ms: u64,
    /// In the liveness phase, a request must be answered within this long.
    pub answer_within_ms: u64,
    /// The manager's offer hold timeout: each offer received within it may still have
    /// its hold timer armed (the manager lets it fire and finds the offer gone).
    pub hold_timeout_ms: u64,
    /// The most any container of the workload asks for (cpus, mem, host ports): while an
    /// agent has that much free, pending work must be launched promptly.
    pub largest_demand: (Milli, Milli, u64),
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            timers_base: 32,
            timers_per_container: 4,
            deferred_base: 1_024,
            deferred_per_container: 16,
            offer_hold_slack_ms: 5_000,
            answer_within_ms: 180_000,
            hold_timeout_ms: 30_000,
            largest_demand: (Milli::from_units(1), Milli::from_units(512), 1),
        }
    }
}

/// Every checker's state.
#[derive(Debug, Default)]
pub struct Checker {
    bounds: Bounds,
    offers: offers::Offers,
    tasks: tasks::Tasks,
    api: api::Api,
    liveness: liveness::Liveness,
    checks: u64,
    violation: Option<Violation>,
}

impl Checker {
    /// Checkers holding the manager to `bounds`.
    pub fn new(bounds: Bounds) -> Checker {
        Checker {
            bounds,
            ..Default::default()
        }
    }

    /// The first violation found, if any.
    pub fn violation(&self) -> Option<&Violation> {
        self.violation.as_ref()
    }

    /// How many individual checks passed.
    pub fn checks(&self) -> u64 {
        self.checks
    }

    /// Records a violation found outside the checkers (the world's own checks).
    pub fn force(&mut self, v: Violation) {
        if self.violation.is_none() {
            self.violation = Some(v);
        }
    }

    fn record(&mut self, result: Result<u64, Violation>) {
        match result {
            Ok(n) => self.checks += n,
            Err(v) => {
                if self.violation.is_none() {
                    self.violation = Some(v);
                }
            }
        }
    }

    /// An input is about to be fed to the manager.
    pub fn on_input(&mut self, ctx: &Ctx<'_>, input: &Input) {
        let r = self.offers.on_input(ctx.now, input);
        self.record(r);
        let r = self.tasks.on_input(input);
        self.record(r);
    }

    /// The manager emitted an output.
    pub fn on_output(&mut self, ctx: &Ctx<'_>, output: &Output) {
        let r = self.offers.on_output(output);
        self.record(r);
        let r = self.tasks.on_output(ctx, output);
        self.record(r);
        let r = self.api.on_output(&self.tasks, output);
        self.record(r);
        if let Output::Docker { id, response } = output {
            self.liveness.on_answer(ctx.now, *id, response);
        }
    }

    /// A client sent a request.
    pub fn on_request(&mut self, now: Instant, id: RequestId, request: &DockerRequest) {
        self.api.on_request(id, request);
        self.liveness.on_request(now, id, request);
    }

    /// A client gave up on a request (timeout, or the manager crashed).
    pub fn on_give_up(&mut self, id: RequestId) {
        self.liveness.on_give_up(id);
    }

    /// The manager crashed: what it held in memory is gone.
    pub fn on_crash(&mut self) {
        self.offers.on_crash();
        self.api.on_crash();
        self.liveness.on_crash();
    }

    /// After every step: ground-truth changes and bounded state.
    pub fn after_step(&mut self, ctx: &Ctx<'_>, changes: &[crate::cluster::TaskChange]) {
        let r = self.tasks.on_changes(ctx, changes);
        self.record(r);
        if let Some(m) = ctx.manager {
            let recent = self
                .offers
                .received_within(ctx.now, self.bounds.hold_timeout_ms);
            let r = bounded(&self.bounds, m, recent);
            self.record(r);
        }
        let r = self.offers.check_holds(ctx, &self.bounds);
        self.record(r);
        let r = self.liveness.check_answer_times(ctx, &self.bounds);
        self.record(r);
    }

    /// The faults stopped: from now on, liveness bounds apply.
    pub fn enter_liveness(&mut self, now: Instant, hold_timeout_ms: u64) {
        self.offers.enter_liveness(now, hold_timeout_ms);
        self.liveness.enter(now);
    }

    /// The end of the run: everything must have settled.
    pub fn finish(&mut self, ctx: &Ctx<'_>, workload: &Workload) {
        let r = self.liveness.finish(ctx, &self.tasks, workload);
        self.record(r);
        let r = ctx
            .cluster
            .check_ground_truth()
            .map(|()| 1)
            .map_err(|detail| Violation {
                invariant: "agent over-committed",
                detail,
            });
        self.record(r);
    }

    /// When each container first ran, by the ground truth (for the run summary).
    pub fn first_running(&self) -> impl Iterator<Item = Instant> + '_ {
        self.tasks.first_running()
    }
}

/// Bounded state: held offers, pending containers, timers and deferred outputs.
fn bounded(b: &Bounds, m: &Manager, recent_offers: usize) -> Result<u64, Violation> {
    let limits = &m.config().limits;
    let n = m.container_count();
    let fail = |what: String| {
        Err(Violation {
            invariant: "bounded state",
            detail: what,
        })
    };
    if m.held_offer_count() > limits.max_held_offers {
        return fail(format!(
            "{} offers held, limit {}",
            m.held_offer_count(),
            limits.max_held_offers
        ));
    }
    if m.pending_count() > limits.max_pending_containers {
        return fail(format!(
            "{} containers pending, limit {}",
            m.pending_count(),
            limits.max_pending_containers
        ));
    }
    // A hold timer per offer received within the hold timeout, a few per container, a
    // few global ones.
    let timers = b.timers_base + b.timers_per_container * n + recent_offers;
    if m.timer_count() > timers {
        return fail(format!(
            "{} timers armed for {n} containers and {recent_offers} offers received within the hold timeout (bound {timers})",
            m.timer_count()
        ));
    }
    let deferred = b.deferred_base + b.deferred_per_container * n;
    if m.deferred_count() > deferred {
        return fail(format!(
            "{} outputs deferred for {n} containers (bound {deferred})",
            m.deferred_count()
        ));
    }
    Ok(4)
}
