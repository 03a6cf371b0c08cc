//! What can go wrong in a cluster, and how the master and agents recover: partitions (the
//! master marks the agent unreachable after the ping timeout), agent restarts, agents
//! marked gone, maintenance (inverse offers, then the machine goes DOWN), and master
//! failover (a new leader with empty memory; agents re-register over time).

use std::time::Duration;

use mesoswarm_core::time::Instant;
use mesoswarm_proto::scheduler::{event, Event};
use mesoswarm_proto::v1::{task_status::Reason, DurationInfo, TaskState, TimeInfo, Unavailability};

use super::state::{AgentLife, Framework, MasterTask, Registration};
use super::{is_terminal, ClusterOutput, ClusterTimer, SimCluster};
use crate::ids;
use crate::resources::Res;

/// How a lost agent's tasks are reported.
struct Loss {
    aware_state: TaskState,
    reason: Reason,
    message: String,
    unreachable: Option<Instant>,
}

impl SimCluster {
    /// Cuts agent `i` off from the master. Returns false if it is not up.
    pub fn partition_agent(&mut self, now: Instant, i: usize) -> bool {
        self.advance(now);
        if i >= self.agents.len() || self.agents[i].life != AgentLife::Up {
            return false;
        }
        self.agents[i].life = AgentLife::Partitioned;
        self.arm_ping_timeout(i);
        true
    }

    /// Ends agent `i`'s partition: it re-registers. Returns false if it was not partitioned.
    pub fn heal_agent(&mut self, now: Instant, i: usize) -> bool {
        self.advance(now);
        if i >= self.agents.len() || self.agents[i].life != AgentLife::Partitioned {
            return false;
        }
        self.agents[i].life = AgentLife::Up;
        self.agents[i].epoch += 1;
        self.schedule_reregister(i, 0);
        true
    }

    /// Restarts agent `i`'s process: down for `down_ms` (its tasks keep running, they are
    /// checkpointed), then it re-registers. Returns false if it is not up.
    pub fn restart_agent(&mut self, now: Instant, i: usize, down_ms: u64) -> bool {
        self.advance(now);
        if i >= self.agents.len() || self.agents[i].life != AgentLife::Up {
            return false;
        }
        self.agents[i].life = AgentLife::Down;
        self.arm_ping_timeout(i);
        if self.master.agents[i].reg == Registration::Registered {
            // The master sees the connection close: the agent is deactivated.
            self.master.agents[i].reg = Registration::Disconnected;
            self.rescind_agent_offers(i);
        }
        let epoch = self.agents[i].epoch;
        let at = self.after(down_ms);
        self.timers
            .push(at, ClusterTimer::AgentBack { agent: i, epoch });
        true
    }

    /// An operator marks agent `i` gone: its tasks are GONE_BY_OPERATOR and it never comes
    /// back. Returns false if it is dead already.
    pub fn mark_agent_gone(&mut self, now: Instant, i: usize) -> bool {
        self.advance(now);
        if i >= self.agents.len() || self.agents[i].life == AgentLife::Dead {
            return false;
        }
        if matches!(
            self.master.agents[i].reg,
            Registration::Gone | Registration::Removed | Registration::Recovered
        ) {
            // A recovered agent is only marked in the registry (no updates).
            if self.master.agents[i].reg == Registration::Recovered {
                self.master.agents[i].reg = Registration::Gone;
                self.kill_agent(i);
                return true;
            }
            return false;
        }
        self.lose_agent(
            i,
            Loss {
                aware_state: TaskState::TaskGoneByOperator,
                reason: Reason::AgentRemovedByOperator,
                message: "Agent has been marked gone".into(),
                unreachable: None,
            },
        );
        self.master.agents[i].reg = Registration::Gone;
        self.kill_agent(i);
        true
    }

    /// Agent `i` shuts down and unregisters (`Master::unregisterSlave`): its tasks are
    /// TASK_LOST for every framework, its offers rescinded, and it never comes back.
    /// Returns false if it is not up and registered.
    pub fn remove_agent(&mut self, now: Instant, i: usize) -> bool {
        self.advance(now);
        if i >= self.agents.len()
            || self.agents[i].life != AgentLife::Up
            || self.master.agents[i].reg != Registration::Registered
        {
            return false;
        }
        let hostname = self.agents[i].hostname.clone();
        self.lose_agent(
            i,
            Loss {
                aware_state: TaskState::TaskLost,
                reason: Reason::AgentRemoved,
                message: format!("Agent {hostname} removed: the agent unregistered"),
                unreachable: None,
            },
        );
        self.master.agents[i].reg = Registration::Removed;
        self.kill_agent(i);
        true
    }

    /// Schedules maintenance of agent `i`: its offers carry the unavailability from now on,
    /// frameworks with tasks there get inverse offers, and at the start of the window the
    /// machine goes DOWN (the agent is removed, its tasks LOST); when the window ends a fresh
    /// agent takes its place. Returns false if it is not up and registered.
    pub fn schedule_maintenance(
        &mut self,
        now: Instant,
        i: usize,
        start_in_ms: u64,
        duration_ms: u64,
    ) -> bool {
        self.advance(now);
        if i >= self.agents.len()
            || self.agents[i].life != AgentLife::Up
            || self.master.agents[i].reg != Registration::Registered
            || self.master.agents[i].maintenance.is_some()
        {
            return false;
        }
        let start = self.after(start_in_ms);
        self.master.agents[i].maintenance = Some(Unavailability {
            start: TimeInfo {
                nanoseconds: start.unix_nanos() as i64,
            },
            duration: Some(DurationInfo {
                nanoseconds: (duration_ms as i64).saturating_mul(1_000_000),
            }),
        });
        // Outstanding offers are rescinded and made again with the unavailability.
        self.rescind_agent_offers(i);
        self.send_inverse_offers(i);
        let epoch = self.agents[i].epoch;
        self.timers
            .push(start, ClusterTimer::MaintenanceDown { agent: i, epoch });
        self.timers.push(
            start.saturating_add(Duration::from_millis(duration_ms)),
            ClusterTimer::MaintenanceUp { agent: i },
        );
        true
    }

    /// The leading master fails over: every stream ends, a new leader with empty memory is
    /// elected after `election_ms` (calls get 503 meanwhile), then agents re-register over
    /// `reregister_spread_ms`.
    pub fn master_failover(&mut self, now: Instant, election_ms: u64, reregister_spread_ms: u64) {
        self.advance(now);
        for stream in std::mem::take(&mut self.master.streams).into_keys() {
            self.out.push_back(ClusterOutput::CloseStream { stream });
        }
        self.stats.master_failovers += 1;
        self.master.id = ids::uuid_text(&mut self.rng);
        self.master.incarnation += 1;
        self.master.frameworks.clear();
        self.master.completed.clear();
        self.master.offers.clear();
        self.master.inverse_offers.clear();
        self.master.tasks.clear();
        self.master.next_offer = 0;
        self.master.next_framework = 0;
        self.master.allocation_soon = false;
        for i in 0..self.agents.len() {
            let v = &mut self.master.agents[i];
            // The registry keeps agents, gone agents and maintenance; nothing else.
            v.reg = match v.reg {
                Registration::Gone => Registration::Gone,
                Registration::Removed => Registration::Removed,
                _ => Registration::Recovered,
            };
            v.used = Res::empty();
            v.offered = Res::empty();
            v.killed.clear();
            v.filters.clear();
            self.refresh_available(i);
        }
        let up = self.after(election_ms);
        self.master.down_until = Some(up);
        self.reregister_spread_ms = reregister_spread_ms;
        let incarnation = self.master.incarnation;
        self.timers.push(up, ClusterTimer::MasterUp { incarnation });
    }

    pub(super) fn on_master_up(&mut self) {
        self.master.down_until = None;
        let incarnation = self.master.incarnation;
        self.timers.push(
            self.now,
            ClusterTimer::Allocate {
                incarnation,
                periodic: true,
            },
        );
        let at = self.after(self.config.agent_reregister_timeout_ms);
        self.timers
            .push(at, ClusterTimer::ReregisterTimeout { incarnation });
        for i in 0..self.agents.len() {
            if self.agents[i].life == AgentLife::Up
                && self.master.agents[i].reg == Registration::Recovered
            {
                let delay = if self.reregister_spread_ms == 0 {
                    0
                } else {
                    self.rng.below(self.reregister_spread_ms + 1)
                };
                self.schedule_reregister(i, delay);
            }
        }
    }

    pub(super) fn on_reregister_timeout(&mut self) {
        let now = self.now;
        for i in 0..self.agents.len() {
            if self.master.agents[i].reg == Registration::Recovered {
                self.master.agents[i].reg = Registration::Unreachable(now);
                self.send_agent_lost(i);
            }
        }
    }

    fn arm_ping_timeout(&mut self, i: usize) {
        self.agents[i].epoch += 1;
        let epoch = self.agents[i].epoch;
        let incarnation = self.master.incarnation;
        let ms = self
            .config
            .agent_ping_timeout_ms
            .saturating_mul(u64::from(self.config.max_agent_ping_timeouts.max(1)));
        let at = self.after(ms);
        self.timers.push(
            at,
            ClusterTimer::PingTimeout {
                agent: i,
                epoch,
                incarnation,
            },
        );
    }

    fn schedule_reregister(&mut self, i: usize, delay_ms: u64) {
        let epoch = self.agents[i].epoch;
        let incarnation = self.master.incarnation;
        let at = self.after(delay_ms);
        self.timers.push(
            at,
            ClusterTimer::Reregister {
                agent: i,
                epoch,
                incarnation,
            },
        );
    }

    /// No pong for `agent_ping_timeout × max_agent_ping_timeouts`: "health check timed out".
    pub(super) fn on_ping_timeout(&mut self, i: usize) {
        if !matches!(
            self.agents[i].life,
            AgentLife::Partitioned | AgentLife::Down
        ) {
            return;
        }
        if !self.master.agents[i].reg.is_registered() {
            return;
        }
        let now = self.now;
        self.lose_agent(
            i,
            Loss {
                aware_state: TaskState::TaskUnreachable,
                reason: Reason::AgentRemoved,
                message: "health check timed out".into(),
                unreachable: Some(now),
            },
        );
        self.master.agents[i].reg = Registration::Unreachable(now);
    }

    pub(super) fn on_agent_back(&mut self, i: usize) {
        if self.agents[i].life != AgentLife::Down {
            return;
        }
        self.agents[i].life = AgentLife::Up;
        self.agents[i].epoch += 1;
        self.schedule_reregister(i, 0);
    }

    /// The master takes the agent's tasks off its books (`__removeSlave`/`_removeSlave`):
    /// each gets a master update, its offers are rescinded and frameworks get FAILURE.
    fn lose_agent(&mut self, i: usize, loss: Loss) {
        self.rescind_agent_offers(i);
        self.rescind_agent_inverse_offers(i);
        let keys: Vec<(String, String)> = self
            .master
            .tasks
            .iter()
            .filter(|(_, t)| t.agent == i)
            .map(|(k, _)| k.clone())
            .collect();
        let agent_id = self.agents[i].id.clone();
        for key in keys {
            let aware = self.partition_aware(&key.0);
            let state = if aware {
                loss.aware_state
            } else {
                TaskState::TaskLost
            };
            self.set_master_task_state(&key, state);
            self.remove_master_task(&key);
            if loss.unreachable.is_some() {
                if let Some(f) = self.master.frameworks.get_mut(&key.0) {
                    f.unreachable_tasks.insert(key.1.clone(), i);
                }
            }
            self.master_update(
                &key.0,
                &key.1,
                Some(&agent_id),
                state,
                loss.reason,
                &loss.message,
                loss.unreachable,
            );
        }
        if loss.unreachable.is_none() {
            // Tasks already unreachable on this agent end too (`markGone` of an
            // unreachable agent); the agent will never bring them back.
            let stale: Vec<(String, String)> = self
                .master
                .frameworks
                .values()
                .flat_map(|f| {
                    f.unreachable_tasks
                        .iter()
                        .filter(|(_, a)| **a == i)
                        .map(|(t, _)| (f.id.clone(), t.clone()))
                })
                .collect();
            for (fw, task) in stale {
                if let Some(f) = self.master.frameworks.get_mut(&fw) {
                    f.unreachable_tasks.remove(&task);
                }
                let state = if self.partition_aware(&fw) {
                    loss.aware_state
                } else {
                    TaskState::TaskLost
                };
                self.master_update(
                    &fw,
                    &task,
                    Some(&agent_id),
                    state,
                    loss.reason,
                    &loss.message,
                    None,
                );
            }
        }
        self.master.agents[i].killed.clear();
        if self.master.agents[i].reg.is_registered() {
            self.send_agent_lost(i);
        }
    }

    /// FAILURE{agent_id} to every connected framework.
    fn send_agent_lost(&mut self, i: usize) {
        let agent_id = self.agent_id_of(i);
        let ids: Vec<String> = self.master.frameworks.keys().cloned().collect();
        for fw in ids {
            self.send_to(
                &fw,
                Event {
                    r#type: Some(event::Type::Failure as i32),
                    failure: Some(event::Failure {
                        agent_id: Some(agent_id.clone()),
                        executor_id: None,
                        status: None,
                    }),
                    ..Default::default()
                },
            );
        }
    }

    /// Agent `i` (re-)registers with the current master.
    pub(super) fn reregister_agent(&mut self, i: usize) {
        if self.master.down_until.is_some() || self.agents[i].life != AgentLife::Up {
            return; // the new leader schedules it once elected
        }
        let before = self.master.agents[i].reg;
        match before {
            Registration::Gone | Registration::Removed => {
                // "Agent has been marked gone": it shuts down.
                self.kill_agent(i);
                return;
            }
            Registration::Registered | Registration::Disconnected => {
                self.master.agents[i].reg = Registration::Registered;
                self.resume_agent_updates(i, None);
                // Tasks the master has but the agent never got are reported dropped.
                let missing: Vec<(String, String)> = self
                    .master
                    .tasks
                    .iter()
                    .filter(|(k, t)| t.agent == i && !self.agents[i].tasks.contains_key(*k))
                    .map(|(k, _)| k.clone())
                    .collect();
                for (fw, task) in missing {
                    let info = self.master.frameworks.get(&fw).map(|f| f.info.clone());
                    self.agent_report_unknown(i, &fw, &task, info);
                }
                let kills: Vec<(String, String)> =
                    self.master.agents[i].killed.iter().cloned().collect();
                for (fw, task) in kills {
                    self.agent_kill(i, &fw, &task, None);
                }
            }
            Registration::Recovered | Registration::Unreachable(_) => {
                self.master.agents[i].reg = Registration::Registered;
                let unreachable = before != Registration::Recovered;
                self.readd_agent_tasks(i, unreachable);
                self.resume_agent_updates(i, None);
            }
        }
        self.allocate_soon();
    }

    /// The master learns the tasks of a (re-)registering agent it did not have.
    fn readd_agent_tasks(&mut self, i: usize, was_unreachable: bool) {
        let tasks: Vec<((String, String), TaskState, Res)> = self.agents[i]
            .tasks
            .iter()
            .map(|(k, t)| (k.clone(), t.state, t.resources.clone()))
            .collect();
        let agent_id = self.agents[i].id.clone();
        for (key, state, res) in tasks {
            if self.master.completed.iter().any(|c| *c == key.0) {
                continue;
            }
            if !self.master.frameworks.contains_key(&key.0) {
                let Some(info) = self.agents[i].frameworks.get(&key.0).cloned() else {
                    continue;
                };
                let now = self.now;
                self.master.frameworks.insert(
                    key.0.clone(),
                    Framework {
                        id: key.0.clone(),
                        info,
                        stream: None,
                        recovered: true,
                        active: false,
                        suppressed: Default::default(),
                        offers: Default::default(),
                        inverse_offers: Default::default(),
                        tasks: Default::default(),
                        unreachable_tasks: Default::default(),
                        reregistered_at: now,
                        inverse_filters: Default::default(),
                    },
                );
            }
            let holds = !is_terminal(state);
            if holds {
                self.master.agents[i].used.add(&res);
            }
            self.master.tasks.insert(
                key.clone(),
                MasterTask {
                    agent: i,
                    resources: res,
                    state,
                    status_update: None,
                    holds_resources: holds,
                },
            );
            if let Some(f) = self.master.frameworks.get_mut(&key.0) {
                f.tasks.insert(key.1.clone(), i);
                f.unreachable_tasks.remove(&key.1);
            }
            if was_unreachable {
                self.master_update(
                    &key.0,
                    &key.1,
                    Some(&agent_id),
                    state,
                    Reason::AgentReregistered,
                    "Unreachable agent re-reregistered",
                    None,
                );
            }
        }
        for f in self.master.frameworks.values_mut() {
            f.unreachable_tasks.retain(|_, a| *a != i);
        }
        self.refresh_available(i);
    }

    pub(super) fn on_maintenance_down(&mut self, i: usize) {
        if self.agents[i].life == AgentLife::Dead {
            return;
        }
        let hostname = self.agents[i].hostname.clone();
        if self.master.agents[i].reg.is_registered() {
            self.lose_agent(
                i,
                Loss {
                    aware_state: TaskState::TaskLost,
                    reason: Reason::AgentRemoved,
                    message: format!("Agent {hostname} removed: agent is down for maintenance"),
                    unreachable: None,
                },
            );
        }
        self.master.agents[i].reg = Registration::Removed;
        self.master.agents[i].maintenance = None;
        self.kill_agent(i);
    }

    pub(super) fn on_maintenance_up(&mut self, _old: usize) {
        if self.master.down_until.is_some() {
            return;
        }
        self.add_agent_now();
        self.allocate_soon();
    }
}
