//! The subscription and everything that arrives on it except task status updates.

use mesoswarm_proto::scheduler::{event, Event};

use super::entry::Phase;
use super::{calls, Link, LogLevel, Manager, Output, Record, Timer};
use crate::offers::{AddOutcome, HeldOffer};

impl Manager {
    pub(super) fn on_connected(&mut self, master: String) {
        self.master = Some(master.clone());
        if self.link != Link::Disconnected {
            // A new connection replaces the old one: whatever it held is void.
            self.void_all_offers();
        }
        self.link = Link::Subscribing;
        let suppressed = false;
        self.suppressed = suppressed;
        let call = calls::subscribe(
            &self.config.framework,
            self.framework_id.as_deref(),
            suppressed,
        );
        self.send(call);
        self.arm_dead_master();
        self.log(
            LogLevel::Info,
            format!("subscribing to Mesos master {master}"),
        );
    }

    pub(super) fn on_disconnected(&mut self, reason: &str) {
        if self.link == Link::Disconnected {
            return;
        }
        self.link = Link::Disconnected;
        self.timers.cancel(&Timer::DeadMaster);
        self.timers.cancel(&Timer::ReconcileRetry);
        self.timers.cancel(&Timer::ImplicitReconcile);
        self.timers.cancel(&Timer::Revive);
        self.timers.cancel(&Timer::IdleSuppress);
        self.void_all_offers();
        self.log(
            LogLevel::Warn,
            format!("disconnected from the Mesos master: {reason}"),
        );
    }

    fn arm_dead_master(&mut self) {
        let ms = self.heartbeat_interval_ms.saturating_mul(u64::from(
            self.config.heartbeat_misses_before_reconnect.max(1),
        ));
        self.timers.set(Timer::DeadMaster, self.after_ms(ms));
    }

    pub(super) fn on_dead_master(&mut self) {
        if self.link == Link::Disconnected {
            return;
        }
        let reason = format!(
            "no event from the Mesos master for {} heartbeat intervals",
            self.config.heartbeat_misses_before_reconnect
        );
        self.on_disconnected(&reason);
        self.out.push_back(Output::Reconnect { reason });
    }

    /// Every offer held is void (re-subscription or disconnection): Mesos takes them back
    /// without a RESCIND. Placed-but-unsent tasks go back to the queue.
    fn void_all_offers(&mut self) {
        let launching: Vec<String> = self.accepts.keys().cloned().collect();
        for offer_id in launching {
            self.void_launching_offer(&offer_id);
        }
        self.offers.clear();
        self.declines.clear();
    }

    pub(super) fn on_event(&mut self, ev: Event) {
        if self.link == Link::Disconnected {
            // A late event from a stream we already gave up on.
            return;
        }
        self.arm_dead_master();
        use event::Type;
        match ev.r#type.and_then(|t| Type::try_from(t).ok()) {
            Some(Type::Subscribed) => {
                if let Some(s) = ev.subscribed {
                    self.on_subscribed(s);
                }
            }
            Some(Type::Offers) => {
                if let Some(o) = ev.offers {
                    self.on_offers(o.offers);
                }
            }
            Some(Type::Rescind) => {
                if let Some(r) = ev.rescind {
                    self.on_rescind(&r.offer_id.value);
                }
            }
            Some(Type::Update) => {
                if let Some(u) = ev.update {
                    self.on_update(u.status);
                }
            }
            Some(Type::InverseOffers) => {
                if let Some(i) = ev.inverse_offers {
                    self.on_inverse_offers(i.inverse_offers);
                }
            }
            Some(Type::Failure) => {
                if let Some(f) = ev.failure {
                    self.on_failure(f);
                }
            }
            Some(Type::Error) => {
                let message = ev.error.map(|e| e.message).unwrap_or_default();
                self.on_error(message);
            }
            Some(Type::Heartbeat) => {}
            Some(Type::Message) => {
                self.log(LogLevel::Debug, "message from an executor (ignored)".into())
            }
            Some(Type::RescindInverseOffer) | Some(Type::UpdateOperationStatus) => {}
            Some(Type::Unknown) | None => {
                self.log(
                    LogLevel::Warn,
                    format!(
                        "unknown event type {:?} from the master (ignored)",
                        ev.r#type
                    ),
                );
            }
        }
    }

    fn on_subscribed(&mut self, s: event::Subscribed) {
        if self.link == Link::Subscribed {
            return; // a duplicated SUBSCRIBED
        }
        self.link = Link::Subscribed;
        let id = s.framework_id.value;
        if self.framework_id.as_deref() != Some(id.as_str()) {
            self.framework_id = Some(id.clone());
            self.persist(Record::FrameworkId(Some(id.clone())));
        }
        if let Some(secs) = s.heartbeat_interval_seconds {
            if secs.is_finite() && secs > 0.0 {
                self.heartbeat_interval_ms = (secs * 1000.0) as u64;
            }
        }
        self.arm_dead_master();
        self.log(
            LogLevel::Info,
            format!("subscribed to Mesos as framework {id}"),
        );
        self.start_reconciliation();
        self.timers.set(
            Timer::ImplicitReconcile,
            self.after_ms(self.config.implicit_reconcile_interval_ms),
        );
        self.last_revive_at = None;
        self.placement_dirty = true;
    }

    fn on_offers(&mut self, offers: Vec<mesoswarm_proto::v1::Offer>) {
        if self.link != Link::Subscribed {
            return;
        }
        for offer in offers {
            let id = offer.id.value.clone();
            if self.offers.len() >= self.config.limits.max_held_offers {
                if !self.offers.is_spent(&id) {
                    self.offers.mark_spent(&id);
                    self.declines.push(id);
                }
                continue;
            }
            match self.offers.add(HeldOffer::new(&offer, self.now)) {
                AddOutcome::Held(seq) => {
                    self.timers.set(
                        Timer::OfferHold(seq),
                        self.after_ms(self.config.offer_hold_timeout_ms),
                    );
                    self.placement_dirty = true;
                }
                AddOutcome::Duplicate => {}
            }
        }
    }

    fn on_rescind(&mut self, offer_id: &str) {
        if self.accepts.contains_key(offer_id) {
            self.void_launching_offer(offer_id);
        }
        if self.offers.remove(offer_id).is_none() {
            self.offers.mark_spent(offer_id);
        }
        self.declines.retain(|d| d != offer_id);
    }

    fn on_inverse_offers(&mut self, inverse: Vec<mesoswarm_proto::v1::InverseOffer>) {
        let Some(fw) = self.framework_id.clone() else {
            return;
        };
        let mut ids = Vec::new();
        for io in inverse {
            let agent = io
                .agent_id
                .as_ref()
                .map_or("?", |a| a.value.as_str())
                .to_string();
            self.log(
                LogLevel::Warn,
                format!("agent {agent} is scheduled for maintenance; its containers will be stopped by Mesos when it goes down"),
            );
            ids.push(io.id.value);
        }
        if !ids.is_empty() {
            self.send(calls::decline_inverse(&fw, ids));
        }
    }

    fn on_failure(&mut self, f: event::Failure) {
        match (f.agent_id, f.executor_id) {
            (Some(agent), None) => {
                self.log(
                    LogLevel::Warn,
                    format!("Mesos lost agent {}; its offers are gone", agent.value),
                );
                for id in self.offers.ids_on_agent(&agent.value) {
                    if self.accepts.contains_key(&id) {
                        self.void_launching_offer(&id);
                    }
                    self.offers.remove(&id);
                }
            }
            (agent, executor) => self.log(
                LogLevel::Info,
                format!(
                    "executor {:?} on agent {:?} exited with status {:?}",
                    executor.map(|e| e.value),
                    agent.map(|a| a.value),
                    f.status
                ),
            ),
        }
    }

    fn on_error(&mut self, message: String) {
        self.log(
            LogLevel::Error,
            format!("Mesos master sent ERROR: {message}"),
        );
        if message.contains("removed") {
            // Mesos tore the framework down (and killed its tasks); this id is dead. Start
            // over as a new framework; reconciliation will report the old tasks gone.
            self.framework_id = None;
            self.persist(Record::FrameworkId(None));
        }
        self.on_disconnected(&format!("ERROR event: {message}"));
        self.out.push_back(Output::Reconnect {
            reason: format!("Mesos ERROR event: {message}"),
        });
    }

    // ---- reconciliation ----

    /// After every (re-)subscription: explicitly for every task we believe is alive, then
    /// implicitly for whatever Mesos knows that we do not.
    fn start_reconciliation(&mut self) {
        self.reconcile_waiting.clear();
        for e in self.containers.values() {
            if matches!(e.phase, Phase::Launching { .. }) {
                continue;
            }
            if let Some(t) = &e.c.task {
                if e.c.has_live_task() {
                    self.reconcile_waiting
                        .insert(t.task_id.clone(), t.agent_id.clone());
                }
            }
        }
        self.reconcile_backoff_ms = self.config.reconcile_retry_min_ms;
        self.send_explicit_reconcile();
        if let Some(fw) = self.framework_id.clone() {
            self.send(calls::reconcile(&fw, Vec::new()));
        }
    }

    fn send_explicit_reconcile(&mut self) {
        let Some(fw) = self.framework_id.clone() else {
            return;
        };
        if self.reconcile_waiting.is_empty() {
            self.timers.cancel(&Timer::ReconcileRetry);
            return;
        }
        let mut tasks: Vec<(String, Option<String>)> = self
            .reconcile_waiting
            .iter()
            .map(|(t, a)| (t.clone(), a.clone()))
            .collect();
        tasks.sort();
        let per_call = self.config.limits.max_reconcile_tasks_per_call.max(1);
        for chunk in tasks.chunks(per_call) {
            self.send(calls::reconcile(&fw, chunk.to_vec()));
        }
        self.timers.set(
            Timer::ReconcileRetry,
            self.after_ms(self.reconcile_backoff_ms),
        );
    }

    pub(super) fn on_reconcile_retry(&mut self) {
        if self.link != Link::Subscribed {
            return;
        }
        self.reconcile_backoff_ms =
            (self.reconcile_backoff_ms.saturating_mul(2)).min(self.config.reconcile_retry_max_ms);
        self.send_explicit_reconcile();
    }

    pub(super) fn on_implicit_reconcile(&mut self) {
        if self.link != Link::Subscribed {
            return;
        }
        if let Some(fw) = self.framework_id.clone() {
            self.send(calls::reconcile(&fw, Vec::new()));
        }
        self.timers.set(
            Timer::ImplicitReconcile,
            self.after_ms(self.config.implicit_reconcile_interval_ms),
        );
    }

    /// Keeps a task in the explicit reconciliation set, asked again with backoff until an
    /// update other than UNREACHABLE arrives for it.
    pub(super) fn keep_reconciling(&mut self, task_id: String, agent_id: Option<String>) {
        if self.link != Link::Subscribed {
            return; // the next subscription reconciles every live task
        }
        self.reconcile_waiting.insert(task_id, agent_id);
        let at = self.after_ms(self.reconcile_backoff_ms);
        self.timers.set_if_unset(Timer::ReconcileRetry, at);
    }

    /// A launched task has not said anything for a while: ask Mesos about it.
    pub(super) fn on_launch_silent(&mut self, id: crate::ids::ContainerId, generation: u32) {
        let Some(e) = self.containers.get(&id) else {
            return;
        };
        let Some(t) = &e.c.task else { return };
        if t.generation != generation || t.state.is_some() {
            return;
        }
        let (task, agent) = (t.task_id.clone(), t.agent_id.clone());
        if self.link == Link::Subscribed {
            let was_empty = self.reconcile_waiting.is_empty();
            self.reconcile_waiting.insert(task, agent);
            if was_empty {
                self.reconcile_backoff_ms = self.config.reconcile_retry_min_ms;
                self.send_explicit_reconcile();
            }
        }
    }
}
