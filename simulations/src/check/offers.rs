//! Offer invariants: no offer over-committed (per resource in fixed point, per role and
//! reservation, ports by inclusion and never twice), each offer used or declined at most
//! once and never after its rescind or after a re-subscription; in the liveness phase no
//! offer is held past the hold timeout.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use mesoswarm_core::manager::{Input, Output};
use mesoswarm_core::time::Instant;
use mesoswarm_proto::scheduler::{call::Type as CallType, event::Type as EventType};

use super::{Bounds, Ctx, Violation};
use crate::resources::{allocation_role_of, Ranges, Res};

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum State {
    Open,
    Spent,
    Rescinded,
    Void,
}

#[derive(Clone, Debug)]
struct Seen {
    agent: String,
    role: Option<String>,
    resources: Res,
    state: State,
    received: Instant,
}

/// Offers the current manager incarnation received, and what became of them.
#[derive(Debug, Default)]
pub struct Offers {
    seen: BTreeMap<String, Seen>,
    arrivals: VecDeque<Instant>,
    open_since: BTreeSet<(Instant, String)>,
    hold_limit_ms: Option<u64>,
    /// When the liveness phase started: offers held since before count from then.
    since: Instant,
    now: Instant,
}

fn violation(invariant: &'static str, detail: String) -> Result<u64, Violation> {
    Err(Violation { invariant, detail })
}

impl Offers {
    fn close(&mut self, id: &str, state: State) {
        if let Some(s) = self.seen.get_mut(id) {
            if s.state == State::Open {
                self.open_since.remove(&(s.received, id.to_string()));
            }
            s.state = state;
        }
    }

    fn void_all(&mut self) {
        let open: Vec<String> = self.open_since.iter().map(|(_, id)| id.clone()).collect();
        for id in open {
            self.close(&id, State::Void);
        }
    }

    pub fn on_input(&mut self, now: Instant, input: &Input) -> Result<u64, Violation> {
        self.now = now;
        match input {
            Input::Connected { .. } | Input::Disconnected { .. } => self.void_all(),
            Input::Timeout
            | Input::Persisted { .. }
            | Input::Docker { .. }
            | Input::DockerGone { .. } => {}
            Input::MesosEvent(e) => match e.r#type.and_then(|t| EventType::try_from(t).ok()) {
                Some(EventType::Offers) => {
                    for o in e.offers.iter().flat_map(|o| &o.offers) {
                        if self.seen.contains_key(&o.id.value) {
                            continue; // a duplicate delivery keeps the first one's fate
                        }
                        self.arrivals.push_back(self.now);
                        let resources = Res::from_proto(&o.resources).unwrap_or_default();
                        self.open_since.insert((self.now, o.id.value.clone()));
                        self.seen.insert(
                            o.id.value.clone(),
                            Seen {
                                agent: o.agent_id.value.clone(),
                                role: o.allocation_info.as_ref().and_then(|a| a.role.clone()),
                                resources,
                                state: State::Open,
                                received: self.now,
                            },
                        );
                    }
                }
                Some(EventType::Rescind) => {
                    if let Some(r) = &e.rescind {
                        self.close(&r.offer_id.value, State::Rescinded);
                    }
                }
                Some(EventType::Error) => self.void_all(),
                _ => {}
            },
        }
        Ok(0)
    }

    pub fn on_output(&mut self, output: &Output) -> Result<u64, Violation> {
        let c = match output {
            Output::Call(c) => c,
            Output::Reconnect { .. } => {
                self.void_all();
                return Ok(0);
            }
            _ => return Ok(0),
        };
        match c.r#type.and_then(|t| CallType::try_from(t).ok()) {
            Some(CallType::Accept) => {
                let Some(a) = &c.accept else { return Ok(0) };
                let mut offered = Res::empty();
                let mut agent = None;
                let mut role = None;
                for id in &a.offer_ids {
                    let id = &id.value;
                    let Some(s) = self.seen.get(id) else {
                        return violation(
                            "offer used once",
                            format!("ACCEPT of offer {id}, which this manager never received"),
                        );
                    };
                    match s.state {
                        State::Open => {}
                        State::Spent => {
                            return violation(
                                "offer used once",
                                format!(
                                    "offer {id} accepted after it was already accepted or declined"
                                ),
                            )
                        }
                        State::Rescinded => {
                            return violation(
                                "offer used once",
                                format!("offer {id} accepted after its RESCIND"),
                            )
                        }
                        State::Void => {
                            return violation(
                                "offer used once",
                                format!("offer {id} accepted after a re-subscription voided it"),
                            )
                        }
                    }
                    offered.add(&s.resources);
                    agent = Some(s.agent.clone());
                    role = s.role.clone();
                }
                let ids: Vec<String> = a.offer_ids.iter().map(|o| o.value.clone()).collect();
                for id in &ids {
                    self.close(id, State::Spent);
                }
                let mut used = Res::empty();
                let mut ports = Ranges::default();
                let mut n = 1;
                for op in &a.operations {
                    for t in op.launch.iter().flat_map(|l| &l.task_infos) {
                        n += 1;
                        if agent.as_deref() != Some(t.agent_id.value.as_str()) {
                            return violation(
                                "offer not over-committed",
                                format!(
                                    "task {} names agent {} but its offer is on {:?}",
                                    t.task_id.value, t.agent_id.value, agent
                                ),
                            );
                        }
                        if let Some(r) = &role {
                            if let Some(bad) = t
                                .resources
                                .iter()
                                .find(|x| allocation_role_of(x) != Some(r.as_str()))
                            {
                                return violation("offer not over-committed", format!("task {} takes {} allocated to {:?}, the offer was for role {r}", t.task_id.value, bad.name, allocation_role_of(bad)));
                            }
                        }
                        let res = match Res::from_proto(&t.resources) {
                            Ok(r) => r,
                            Err(e) => {
                                return violation(
                                    "offer not over-committed",
                                    format!("task {} has invalid resources: {e}", t.task_id.value),
                                )
                            }
                        };
                        let mine = res.ranges("ports");
                        if ports.overlaps(&mine) {
                            return violation("offer not over-committed", format!("task {} takes host ports {mine} already taken in the same ACCEPT", t.task_id.value));
                        }
                        ports = ports.union(&mine);
                        used.add(&res);
                    }
                }
                if !offered.contains(&used) {
                    return violation(
                        "offer not over-committed",
                        format!("ACCEPT of {ids:?} uses {used}, the offers hold {offered}"),
                    );
                }
                Ok(n)
            }
            Some(CallType::Decline) => {
                let Some(d) = &c.decline else { return Ok(0) };
                for id in &d.offer_ids {
                    let id = &id.value;
                    match self.seen.get(id).map(|s| s.state) {
                        None => {
                            return violation(
                                "offer used once",
                                format!("DECLINE of offer {id}, which this manager never received"),
                            )
                        }
                        Some(State::Open) => {}
                        Some(State::Spent) => {
                            return violation(
                                "offer used once",
                                format!(
                                    "offer {id} declined after it was already accepted or declined"
                                ),
                            )
                        }
                        Some(State::Rescinded) => {
                            return violation(
                                "offer used once",
                                format!("offer {id} declined after its RESCIND"),
                            )
                        }
                        Some(State::Void) => {
                            return violation(
                                "offer used once",
                                format!("offer {id} declined after a re-subscription voided it"),
                            )
                        }
                    }
                    self.close(id, State::Spent);
                }
                Ok(d.offer_ids.len() as u64)
            }
            _ => Ok(0),
        }
    }

    /// Offers received within `window_ms` before `now`.
    pub fn received_within(&mut self, now: Instant, window_ms: u64) -> usize {
        let window = Duration::from_millis(window_ms);
        while self
            .arrivals
            .front()
            .is_some_and(|t| now.saturating_since(*t) > window)
        {
            self.arrivals.pop_front();
        }
        self.arrivals.len()
    }

    /// The manager crashed: a new one starts with no offers.
    pub fn on_crash(&mut self) {
        self.void_all();
    }

    pub fn enter_liveness(&mut self, now: Instant, hold_timeout_ms: u64) {
        self.hold_limit_ms = Some(hold_timeout_ms);
        self.since = now;
    }

    /// In the liveness phase: the oldest open offer is not older than the hold timeout
    /// plus slack.
    pub fn check_holds(&mut self, ctx: &Ctx<'_>, b: &Bounds) -> Result<u64, Violation> {
        self.now = ctx.now;
        let Some(limit) = self.hold_limit_ms else {
            return Ok(0);
        };
        let Some((since, id)) = self.open_since.iter().next() else {
            return Ok(0);
        };
        let held = ctx.now.saturating_since((*since).max(self.since));
        if held > Duration::from_millis(limit + b.offer_hold_slack_ms) {
            return violation(
                "no offer held past its timeout",
                format!(
                    "offer {id} held for {}s (hold timeout {}s)",
                    held.as_secs(),
                    limit / 1000
                ),
            );
        }
        Ok(1)
    }
}
