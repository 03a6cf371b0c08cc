//! Liveness once the faults have stopped: every request answered within a bound, pending
//! work launched within a few offer cycles and never left waiting while offers are
//! suppressed, and at the end: subscribed, nothing pending, every update acknowledged, no
//! orphan task (running without the manager knowing it) and no ghost (believed alive by the
//! manager, dead on the agents).

use std::collections::BTreeMap;
use std::time::Duration;

use mesoswarm_core::docker::request::{DockerRequest, RequestId};
use mesoswarm_core::docker::response::DockerResponse;
use mesoswarm_core::taskinfo::parse_task_id;
use mesoswarm_core::time::Instant;

use super::tasks::Tasks;
use super::{Bounds, Ctx, Violation};
use crate::cluster::AgentHealth;
use crate::workload::Workload;

/// How long pending work may wait for an offer in the liveness phase.
const PENDING_WITHIN: Duration = Duration::from_secs(30);

/// What the liveness checker remembers.
#[derive(Debug, Default)]
pub struct Liveness {
    since: Option<Instant>,
    sent: BTreeMap<RequestId, Instant>,
    pending_since: Option<Instant>,
}

fn violation(invariant: &'static str, detail: String) -> Result<u64, Violation> {
    Err(Violation { invariant, detail })
}

impl Liveness {
    pub fn on_request(&mut self, now: Instant, id: RequestId, request: &DockerRequest) {
        if !matches!(request, DockerRequest::ContainerWait { .. }) {
            self.sent.insert(id, now);
        }
    }

    pub fn on_answer(&mut self, _now: Instant, id: RequestId, response: &DockerResponse) {
        if !matches!(response, DockerResponse::WaitPending) {
            self.sent.remove(&id);
        }
    }

    pub fn on_give_up(&mut self, id: RequestId) {
        self.sent.remove(&id);
    }

    pub fn on_crash(&mut self) {
        self.pending_since = None;
    }

    pub fn enter(&mut self, now: Instant) {
        self.since = Some(now);
    }

    /// In the liveness phase: no request waits longer than the bound (counted from the
    /// start of the phase for older ones); pending work does not wait long.
    pub fn check_answer_times(&mut self, ctx: &Ctx<'_>, b: &Bounds) -> Result<u64, Violation> {
        let Some(since) = self.since else {
            return Ok(0);
        };
        let within = Duration::from_millis(b.answer_within_ms);
        if let Some((id, sent)) = self.sent.iter().min_by_key(|(_, t)| **t) {
            let waited = ctx.now.saturating_since((*sent).max(since));
            if waited > within {
                return violation(
                    "every request answered within a bound",
                    format!(
                        "request {id} unanswered for {}s after the faults stopped",
                        waited.as_secs()
                    ),
                );
            }
        }
        let Some(m) = ctx.manager else {
            return Ok(1);
        };
        // Counted while subscribed (before that the manager cannot know offers exist) and
        // while any container would fit somewhere (under pressure, waiting is right).
        let (cpus, mem, ports) = b.largest_demand;
        let fits = ctx.cluster.any_agent_fits(cpus, mem, ports);
        if m.pending_count() == 0 || !m.is_subscribed() || !fits {
            self.pending_since = None;
        } else {
            let p = *self.pending_since.get_or_insert(ctx.now);
            let waited = ctx.now.saturating_since(p);
            if waited > PENDING_WITHIN {
                let suppressed = m
                    .framework_id()
                    .and_then(|f| ctx.cluster.framework_suppressed(f))
                    .unwrap_or(false);
                return violation(
                    "pending work launched within a few offer cycles",
                    format!("{} containers pending for {}s while subscribed after the faults stopped (offers suppressed: {suppressed}, held: {})", m.pending_count(), waited.as_secs(), m.held_offer_count()),
                );
            }
        }
        Ok(2)
    }

    /// The end of the run.
    pub fn finish(
        &mut self,
        ctx: &Ctx<'_>,
        tasks: &Tasks,
        workload: &Workload,
    ) -> Result<u64, Violation> {
        let Some(m) = ctx.manager else {
            return violation("liveness", "the manager is not running at the end".into());
        };
        let mut n = 0;
        if !m.is_subscribed() {
            return violation(
                "liveness",
                "the manager is not subscribed at the end".into(),
            );
        }
        if m.pending_count() > 0 {
            return violation(
                "pending work launched within a few offer cycles",
                format!("{} containers still pending at the end", m.pending_count()),
            );
        }
        if let Some(id) = workload.outstanding().next() {
            return violation(
                "every request answered within a bound",
                format!("request {id} never answered"),
            );
        }
        // No orphan: every live task on the agents is a container's current task.
        for (cid, live) in tasks.all_live() {
            for task in live {
                n += 1;
                let Some(c) = m.container(cid) else {
                    return violation(
                        "no orphan tasks",
                        format!(
                            "task {task} runs, its container {} is unknown to the manager",
                            cid.short()
                        ),
                    );
                };
                let current = c.task.as_ref().map(|t| t.task_id.as_str());
                if current != Some(task.as_str()) {
                    return violation(
                        "no orphan tasks",
                        format!(
                            "task {task} runs, but container {} is at task {current:?}",
                            c.name
                        ),
                    );
                }
                if !c.has_live_task() {
                    return violation(
                        "no orphan tasks",
                        format!(
                            "task {task} of {} runs, the manager believes it ended ({:?})",
                            c.name,
                            c.task.as_ref().and_then(|t| t.state)
                        ),
                    );
                }
            }
        }
        // No ghost: every task the manager believes alive is alive on its agent.
        for c in m.containers() {
            let Some(t) = c.task.as_ref().filter(|_| c.has_live_task()) else {
                continue;
            };
            n += 1;
            let alive = parse_task_id(&t.task_id)
                .and_then(|(cid, _)| tasks.live_tasks(&cid))
                .is_some_and(|s| s.contains(&t.task_id));
            if !alive {
                return violation(
                    "no ghost tasks",
                    format!(
                        "the manager believes task {} of {} is {:?}, no agent runs it",
                        t.task_id, c.name, t.state
                    ),
                );
            }
        }
        // Every update an agent sent was acknowledged.
        for t in ctx.cluster.tasks() {
            if t.unacknowledged > 0 && ctx.cluster.agent_health(t.agent) != AgentHealth::Dead {
                return violation(
                    "every update acknowledged",
                    format!(
                        "task {} on agent {} still has {} unacknowledged update(s) ({:?})",
                        t.task_id,
                        ctx.cluster.agent_id(t.agent),
                        t.unacknowledged,
                        t.state
                    ),
                );
            }
            n += 1;
        }
        Ok(n + 3)
    }
}
