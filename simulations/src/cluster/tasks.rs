//! The master's side of tasks: status updates from agents (forwarded while the framework is
//! connected), acknowledgements, KILL and reconciliation, as `Master::statusUpdate`,
//! `forward`, `acknowledge`, `kill` and `reconcile` do them.

use mesoswarm_proto::scheduler::{call, event, Event};
use mesoswarm_proto::v1::{task_status::Reason, TaskState, TaskStatus};

use super::state::Registration;
use super::{is_terminal, SimCluster};

impl SimCluster {
    /// Applies a new latest state to a task the master knows; frees its resources once it
    /// is terminal or unreachable (`Master::updateTask`).
    pub(super) fn set_master_task_state(&mut self, key: &(String, String), latest: TaskState) {
        let Some(t) = self.master.tasks.get_mut(key) else {
            return;
        };
        if !is_terminal(t.state) {
            t.state = latest;
        }
        if t.holds_resources && (is_terminal(latest) || latest == TaskState::TaskUnreachable) {
            t.holds_resources = false;
            let (agent, res) = (t.agent, t.resources.clone());
            self.master.agents[agent].used.sub(&res);
            self.refresh_available(agent);
        }
    }

    /// Forgets a task (acknowledged terminal, agent lost, framework removed).
    pub(super) fn remove_master_task(&mut self, key: &(String, String)) {
        let Some(t) = self.master.tasks.remove(key) else {
            return;
        };
        if t.holds_resources {
            self.master.agents[t.agent].used.sub(&t.resources);
            self.refresh_available(t.agent);
        }
        self.master.agents[t.agent].killed.remove(key);
        if let Some(f) = self.master.frameworks.get_mut(&key.0) {
            f.tasks.remove(&key.1);
        }
    }

    /// An agent's status update reaches the master: forwarded (with its uuid) if the
    /// framework is connected, dropped otherwise (the agent retries).
    pub(super) fn master_receive_update(
        &mut self,
        agent: usize,
        framework_id: &str,
        status: TaskStatus,
        latest: TaskState,
    ) {
        if !self.master.agents[agent].reg.is_registered() {
            return;
        }
        let key = (framework_id.to_string(), status.task_id.value.clone());
        let state = TaskState::try_from(status.state).unwrap_or(TaskState::TaskUnknown);
        let uuid = status.uuid.clone().unwrap_or_default();
        let ev = Event {
            r#type: Some(event::Type::Update as i32),
            update: Some(event::Update { status }),
            ..Default::default()
        };
        if self.send_to(framework_id, ev) {
            self.stats.updates_forwarded += 1;
            if let Some(t) = self.master.tasks.get_mut(&key) {
                t.status_update = Some((state, uuid));
            }
        }
        self.set_master_task_state(&key, latest);
    }

    /// ACKNOWLEDGE: the terminal update's ack removes the task; the ack goes to the agent.
    pub(super) fn acknowledge(&mut self, framework_id: &str, a: call::Acknowledge) {
        let Some(agent) = self.agent_index(&a.agent_id.value) else {
            return;
        };
        if self.master.agents[agent].reg != Registration::Registered {
            return; // not registered, or disconnected: dropped with a warning
        }
        let key = (framework_id.to_string(), a.task_id.value.clone());
        if let Some(t) = self.master.tasks.get(&key) {
            let Some((state, uuid)) = &t.status_update else {
                return; // not an update this master sent
            };
            if is_terminal(*state) && *uuid == a.uuid {
                self.remove_master_task(&key);
            }
        }
        self.agent_ack(agent, framework_id, &a.task_id.value, &a.uuid);
    }

    /// KILL: an unknown task is reconciled instead; a known one is killed on its agent
    /// (again later if the agent cannot be reached now).
    pub(super) fn kill(&mut self, framework_id: &str, k: call::Kill) {
        let key = (framework_id.to_string(), k.task_id.value.clone());
        let Some(t) = self.master.tasks.get(&key) else {
            self.reconcile(
                framework_id,
                call::Reconcile {
                    tasks: vec![call::reconcile::Task {
                        task_id: k.task_id,
                        agent_id: k.agent_id,
                    }],
                },
            );
            return;
        };
        let agent = t.agent;
        if k.agent_id
            .as_ref()
            .is_some_and(|a| a.value != self.agents[agent].id)
        {
            return; // a different agent: silently ignored
        }
        let grace_ms = k
            .kill_policy
            .and_then(|p| p.grace_period)
            .map(|d| (d.nanoseconds.max(0) / 1_000_000) as u64);
        self.master.agents[agent].killed.insert(key.clone());
        if self.master.agents[agent].reg == Registration::Registered {
            self.agent_kill(agent, framework_id, &key.1, grace_ms);
        }
    }

    /// RECONCILE, implicit (no tasks) or explicit, answered exactly as `Master::reconcile`.
    pub(super) fn reconcile(&mut self, framework_id: &str, r: call::Reconcile) {
        let aware = self.partition_aware(framework_id);
        let lost = |s: TaskState| if aware { s } else { TaskState::TaskLost };
        if r.tasks.is_empty() {
            let tasks: Vec<(String, usize)> = self
                .master
                .frameworks
                .get(framework_id)
                .map(|f| f.tasks.iter().map(|(t, a)| (t.clone(), *a)).collect())
                .unwrap_or_default();
            for (task, agent) in tasks {
                self.reconcile_known(framework_id, &task, agent);
            }
            return;
        }
        let any_recovered = self
            .master
            .agents
            .iter()
            .any(|v| v.reg == Registration::Recovered);
        for t in r.tasks {
            let task = t.task_id.value;
            let agent_id = t.agent_id.map(|a| a.value);
            let known = self
                .master
                .frameworks
                .get(framework_id)
                .and_then(|f| f.tasks.get(&task).copied());
            if let Some(agent) = known {
                self.reconcile_known(framework_id, &task, agent);
                continue;
            }
            let reg = agent_id
                .as_deref()
                .and_then(|a| self.agent_index(a))
                .map(|i| self.master.agents[i].reg);
            let no_answer = match (&agent_id, reg) {
                (Some(_), Some(Registration::Recovered)) => true,
                (None, _) => any_recovered,
                _ => false,
            };
            if no_answer {
                // The task may be on an agent that has not re-registered: no answer.
                continue;
            }
            let (state, message, unreachable_time) = match (agent_id.is_some(), reg) {
                (true, Some(Registration::Registered | Registration::Disconnected)) => (
                    lost(TaskState::TaskGone),
                    "Reconciliation: Task is unknown to the agent",
                    None,
                ),
                (true, Some(Registration::Unreachable(at))) => (
                    lost(TaskState::TaskUnreachable),
                    "Reconciliation: Task is unreachable",
                    Some(at),
                ),
                (true, Some(Registration::Gone)) => (
                    lost(TaskState::TaskGoneByOperator),
                    "Reconciliation: Task is gone",
                    None,
                ),
                _ => (
                    lost(TaskState::TaskUnknown),
                    "Reconciliation: Task is unknown",
                    None,
                ),
            };
            self.master_update(
                framework_id,
                &task,
                agent_id.as_deref(),
                state,
                Reason::Reconciliation,
                message,
                unreachable_time,
            );
        }
    }

    /// "Reconciliation: Latest task state": the state of the update in flight, else the
    /// latest one.
    fn reconcile_known(&mut self, framework_id: &str, task: &str, agent: usize) {
        let key = (framework_id.to_string(), task.to_string());
        let Some(t) = self.master.tasks.get(&key) else {
            return;
        };
        let state = t.status_update.as_ref().map_or(t.state, |(s, _)| *s);
        let agent_id = self.agents[agent].id.clone();
        self.master_update(
            framework_id,
            task,
            Some(&agent_id),
            state,
            Reason::Reconciliation,
            "Reconciliation: Latest task state",
            None,
        );
    }
}
