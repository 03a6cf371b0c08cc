//! Matching pending containers to held offers, and the offers' fate: ACCEPT, DECLINE,
//! expiry, REVIVE and SUPPRESS.

use super::entry::Phase;
use super::{calls, Deferred, LogLevel, Manager, Timer};
use crate::container::TaskRecord;
use crate::docker::error::ApiError;
use crate::ids::ContainerId;
use crate::offers::Demand;
use crate::taskinfo;

/// The agent attribute that says on which port the agent's Docker engine listens, when it
/// is not the cluster's `mesos.dockerport`.
pub const DOCKER_PORT_ATTRIBUTE: &str = "docker_port";

/// Demands that already failed to fit anywhere in this pass; a container needing at least
/// as much of everything (and no fixed port) cannot fit either. Bounded: it only speeds up.
const FAILED_SHAPES_KEPT: usize = 16;

impl Manager {
    /// Puts a container in the queue for an offer (and arms its task timeout).
    pub(super) fn enqueue_pending(&mut self, id: ContainerId, front: bool) {
        let Some(e) = self.containers.get_mut(&id) else {
            return;
        };
        if matches!(e.phase, Phase::Pending { .. }) {
            return;
        }
        e.phase = Phase::Pending { since: self.now };
        e.refresh_status();
        if front {
            self.pending.push_front(id);
        } else {
            self.pending.push_back(id);
        }
        self.pending_count += 1;
        self.placement_dirty = true;
        self.revive_wanted = true;
        self.timers.set_if_unset(
            Timer::TaskTimeout(id),
            self.after_ms(self.config.task_timeout_ms),
        );
        self.timers.cancel(&Timer::IdleSuppress);
    }

    /// Takes a container out of the queue (it stays in the deque until popped).
    pub(super) fn dequeue_pending(&mut self, id: &ContainerId) {
        if let Some(e) = self.containers.get_mut(id) {
            if matches!(e.phase, Phase::Pending { .. }) {
                e.phase = Phase::Settled;
                self.pending_count -= 1;
                e.refresh_status();
            }
        }
        self.timers.cancel(&Timer::TaskTimeout(*id));
    }

    /// One placement pass over the queue, first come first served, next-fit over offers.
    pub(super) fn place_pending(&mut self) {
        if self.pending_count == 0 || self.offers.is_empty() || self.framework_id.is_none() {
            return;
        }
        let mut failed: Vec<Demand> = Vec::new();
        let rounds = self.pending.len();
        let mut keep = std::collections::VecDeque::with_capacity(self.pending.len());
        let mut complete = true;
        for _ in 0..rounds {
            let Some(id) = self.pending.pop_front() else {
                break;
            };
            let Some(e) = self.containers.get(&id) else {
                continue;
            };
            if !matches!(e.phase, Phase::Pending { .. }) {
                continue; // stale queue entry
            }
            let demand = e.demand.clone();
            if demand.fixed_ports.is_empty() && failed.iter().any(|f| dominates(&demand, f)) {
                keep.push_back(id);
                continue;
            }
            if self.offers.is_empty() {
                complete = false;
                keep.push_back(id);
                continue;
            }
            if !self.place_one(id, &demand) {
                if failed.len() < FAILED_SHAPES_KEPT && demand.fixed_ports.is_empty() {
                    failed.push(demand);
                }
                keep.push_back(id);
            }
        }
        keep.extend(self.pending.drain(..));
        self.pending = keep;
        // Every container still waiting was tried against every offer: an offer that took
        // nothing fits none of the waiting work, so holding it only starves others.
        if complete && self.pending_count > 0 {
            let useless: Vec<String> = self
                .offers
                .iter()
                .filter(|(_, o)| !o.launching)
                .map(|(_, o)| o.id.clone())
                .collect();
            for id in useless {
                self.decline_offer(&id);
            }
        }
    }

    fn place_one(&mut self, id: ContainerId, demand: &Demand) -> bool {
        let max_per_offer = self.config.limits.max_launches_per_offer;
        // Offers whose `take` refused what `fits` accepted (should not happen; kept so a
        // disagreement cannot loop forever).
        let mut refused: Vec<u64> = Vec::new();
        loop {
            // Scan lazily from the cursor and stop at the first fit: collecting every held
            // offer's number first made each placement cost O(held offers).
            let accepts = &self.accepts;
            let found = self
                .offers
                .offers_from(self.next_fit_cursor)
                .find(|(seq, offer)| {
                    !refused.contains(seq)
                        && accepts.get(&offer.id).map_or(0, |a| a.tasks.len()) < max_per_offer
                        && offer.fits(demand)
                })
                .map(|(seq, _)| seq);
            let Some(seq) = found else {
                return false;
            };
            let Some(offer) = self.offers.get_seq_mut(seq) else {
                return false;
            };
            let Some(taken) = offer.take(demand) else {
                refused.push(seq);
                continue;
            };
            offer.launching = true;
            let docker_port = offer
                .attributes
                .iter()
                .find(|(k, _)| k == DOCKER_PORT_ATTRIBUTE)
                .and_then(|(_, v)| v.trim().parse::<u16>().ok());
            let (offer_id, agent_id, hostname) = (
                offer.id.clone(),
                offer.agent_id.clone(),
                offer.hostname.clone(),
            );
            self.next_fit_cursor = seq;
            self.commit_placement(id, offer_id, agent_id, (hostname, docker_port), taken);
            return true;
        }
    }

    fn commit_placement(
        &mut self,
        id: ContainerId,
        offer_id: String,
        agent_id: String,
        (hostname, docker_port): (String, Option<u16>),
        taken: crate::offers::Taken,
    ) {
        let default_grace = self.config.default_stop_timeout_secs;
        let Some(e) = self.containers.get_mut(&id) else {
            return;
        };
        let generation = e.c.task.as_ref().map_or(1, |t| t.generation + 1);
        let task_id = taskinfo::task_id_for(&id, generation);
        let host_ports = taskinfo::assign_host_ports(&e.c.spec, &taken);
        let grace =
            e.c.spec
                .stop_timeout_secs
                .map_or(default_grace, |s| s.max(0) as u64);
        let info = taskinfo::build_task_info(&taskinfo::Launch {
            id: &id,
            name: &e.c.name,
            spec: &e.c.spec,
            task_id: &task_id,
            agent_id: &agent_id,
            taken: &taken,
            host_ports: &host_ports,
            stop_grace_secs: grace,
        });
        e.c.task = Some(TaskRecord {
            task_id,
            generation,
            agent_id: Some(agent_id),
            agent_hostname: Some(hostname),
            agent_docker_port: docker_port,
            state: None,
            docker_id: None,
            host_ports,
            cpus_milli: e.demand.cpus.0.max(0) as u64,
            mem_mib: e.demand.mem.whole_units().max(0) as u64,
            message: String::new(),
        });
        e.phase = Phase::Launching {
            offer_id: offer_id.clone(),
        };
        e.refresh_status();
        self.pending_count -= 1;
        self.timers.cancel(&Timer::TaskTimeout(id));
        // The intent is persisted before its ACCEPT may leave.
        let seq = self.persist_container(&id);
        self.accepts
            .entry(offer_id.clone())
            .or_default()
            .tasks
            .push((id, info));
        // The offer's ACCEPT leaves once the newest intent on it is durable. Look for its
        // release point in the queue, not at the task list: a launch cancelled before its
        // ACCEPT left empties the list but leaves the (earlier) release point behind.
        let pending = self
            .deferred
            .iter()
            .position(|(_, d)| matches!(d, Deferred::Accept { offer_id: o } if *o == offer_id));
        match pending.and_then(|pos| self.deferred.remove(pos)) {
            Some((_, d)) => self.deferred.push_back((seq, d)),
            None => self
                .deferred
                .push_back((seq, Deferred::Accept { offer_id })),
        }
    }

    /// The intents of an offer's tasks are durable: send its ACCEPT.
    pub(super) fn release_accept(&mut self, offer_id: &str) {
        let Some(accept) = self.accepts.remove(offer_id) else {
            return;
        };
        if self.offers.remove(offer_id).is_none() {
            // Rescinded or voided in the meantime: `void_launching_offer` already re-queued
            // its containers.
            return;
        }
        let Some(fw) = self.framework_id.clone() else {
            return;
        };
        let mut infos = Vec::with_capacity(accept.tasks.len());
        for (id, info) in accept.tasks {
            if let Some(e) = self.containers.get_mut(&id) {
                if matches!(&e.phase, Phase::Launching { offer_id: o } if o == offer_id) {
                    e.phase = Phase::Settled;
                    if let Some(t) = &e.c.task {
                        let key = Timer::LaunchSilent(id, t.generation);
                        let at = self.now.saturating_add(core::time::Duration::from_millis(
                            self.config.launch_reconcile_after_ms,
                        ));
                        self.timers.set(key, at);
                    }
                    infos.push(info);
                }
            }
        }
        if infos.is_empty() {
            self.declines.push(offer_id.to_string());
            return;
        }
        let n = infos.len();
        self.send(calls::accept(
            &fw,
            offer_id,
            infos,
            self.config.offer_refuse_seconds,
        ));
        self.log(
            LogLevel::Debug,
            format!("accepted offer {offer_id} with {n} task(s)"),
        );
    }

    /// An offer that tasks were placed on is gone before its ACCEPT left: the tasks go back
    /// to the front of the queue (their task ids are burnt; the next launch uses new ones).
    pub(super) fn void_launching_offer(&mut self, offer_id: &str) {
        let Some(accept) = self.accepts.remove(offer_id) else {
            return;
        };
        self.deferred
            .retain(|(_, d)| !matches!(d, Deferred::Accept { offer_id: o } if o == offer_id));
        for (id, _) in accept.tasks.into_iter().rev() {
            let Some(e) = self.containers.get_mut(&id) else {
                continue;
            };
            if matches!(&e.phase, Phase::Launching { offer_id: o } if o == offer_id) {
                e.phase = Phase::Settled;
                // The task never reached Mesos: it is not alive, whatever comes next.
                if let Some(t) = e.c.task.as_mut() {
                    t.state = Some(crate::task_state::TaskState::Dropped);
                    t.message = format!("offer {offer_id} vanished before the launch was sent");
                }
                e.refresh_status();
                if e.want_running {
                    self.enqueue_pending(id, true);
                }
            }
        }
    }

    /// Takes a container's not-yet-sent launch back (stop, kill or rm before its ACCEPT).
    pub(super) fn cancel_launch(&mut self, id: &ContainerId) -> bool {
        let Some(e) = self.containers.get_mut(id) else {
            return false;
        };
        let Phase::Launching { offer_id } = e.phase.clone() else {
            return false;
        };
        e.phase = Phase::Settled;
        // The task never existed in Mesos: forget it, keep the generation counter moving.
        if let Some(t) = e.c.task.as_mut() {
            t.state = Some(crate::task_state::TaskState::Killed);
            t.message = "stopped before it was launched".into();
        }
        if let Some(accept) = self.accepts.get_mut(&offer_id) {
            accept.tasks.retain(|(c, _)| c != id);
        }
        true
    }

    /// Declines a held offer (batched into one DECLINE per input).
    pub(super) fn decline_offer(&mut self, offer_id: &str) {
        if self.offers.remove(offer_id).is_some() {
            self.declines.push(offer_id.to_string());
        }
    }

    pub(super) fn flush_declines(&mut self) {
        if self.declines.is_empty() {
            return;
        }
        let ids = std::mem::take(&mut self.declines);
        if let Some(fw) = self.framework_id.clone() {
            if self.link == super::Link::Subscribed {
                self.send(calls::decline(&fw, ids, self.config.offer_refuse_seconds));
            }
        }
    }

    pub(super) fn on_offer_hold_expired(&mut self, seq: u64) {
        let Some(offer) = self.offers.get_seq_mut(seq) else {
            return;
        };
        if offer.launching {
            return;
        }
        let id = offer.id.clone();
        self.decline_offer(&id);
    }

    pub(super) fn on_task_timeout(&mut self, id: ContainerId) {
        let Some(e) = self.containers.get(&id) else {
            return;
        };
        let Phase::Pending { since } = e.phase else {
            return;
        };
        let waited = self.now.saturating_since(since).as_secs();
        let (cpus, mem) = (e.demand.cpus, e.demand.mem.whole_units());
        let largest = self
            .offers
            .iter()
            .map(|(_, o)| (o.remaining().cpus, o.remaining().mem.whole_units()))
            .max();
        let seen = match largest {
            Some((c, m)) => format!("the largest offer held has cpus {c}, mem {m} MiB"),
            None => "no offer is held (is the cluster full, or are all offers filtered?)".into(),
        };
        let msg = format!(
            "no Mesos offer fitted container {} (cpus {cpus}, mem {mem} MiB) within {waited}s (mesos.tasktimeout); {seen}",
            e.c.name
        );
        self.dequeue_pending(&id);
        self.log(LogLevel::Warn, msg.clone());
        self.fail_start(&id, ApiError::internal(msg));
    }

    /// After an input: SUPPRESS when idle for a while, REVIVE when work waits.
    pub(super) fn update_offer_interest(&mut self) {
        if self.link != super::Link::Subscribed {
            return;
        }
        if self.pending_count > 0 {
            self.timers.cancel(&Timer::IdleSuppress);
            // New work that the held offers could not take: ask Mesos for offers again
            // (REVIVE also clears our refusal filters). Only for new work: reviving after
            // every prompt decline would undo refuse_seconds and churn offers every second.
            if std::mem::take(&mut self.revive_wanted) {
                self.maybe_revive();
            }
        } else if !self.suppressed {
            self.revive_wanted = false;
            self.timers.set_if_unset(
                Timer::IdleSuppress,
                self.after_ms(self.config.offer_hold_timeout_ms),
            );
        }
    }

    /// REVIVE, at most once per `revive_min_interval_ms`.
    pub(super) fn maybe_revive(&mut self) {
        if self.link != super::Link::Subscribed || self.pending_count == 0 {
            return;
        }
        let Some(fw) = self.framework_id.clone() else {
            return;
        };
        let ready = self.last_revive_at.is_none_or(|t| {
            self.now.saturating_since(t).as_millis() as u64 >= self.config.revive_min_interval_ms
        });
        if !ready {
            let at = self.last_revive_at.unwrap_or(self.now).saturating_add(
                core::time::Duration::from_millis(self.config.revive_min_interval_ms),
            );
            self.timers.set_if_unset(Timer::Revive, at);
            return;
        }
        self.last_revive_at = Some(self.now);
        self.suppressed = false;
        self.timers.cancel(&Timer::Revive);
        let role = self.config.framework.role.clone();
        self.send(calls::revive(&fw, &role));
    }

    pub(super) fn on_idle_suppress(&mut self) {
        if self.link != super::Link::Subscribed || self.pending_count > 0 || self.suppressed {
            return;
        }
        let Some(fw) = self.framework_id.clone() else {
            return;
        };
        self.suppressed = true;
        let role = self.config.framework.role.clone();
        self.send(calls::suppress(&fw, &role));
    }
}

/// `a` needs at least as much of every resource as `b`.
fn dominates(a: &Demand, b: &Demand) -> bool {
    a.cpus >= b.cpus
        && a.mem >= b.mem
        && a.any_ports + a.fixed_ports.len() >= b.any_ports + b.fixed_ports.len()
}
