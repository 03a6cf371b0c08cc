//! Task invariants: at most one live task per container (ground truth), task ids never
//! reused, the intent durable before its LAUNCH leaves, status updates acknowledged only
//! once their effect is durable.

use std::collections::{BTreeMap, BTreeSet};

use mesoswarm_core::ids::ContainerId;
use mesoswarm_core::manager::{Input, Output};
use mesoswarm_core::taskinfo::parse_task_id;
use mesoswarm_core::time::Instant;
use mesoswarm_proto::scheduler::{call::Type as CallType, event::Type as EventType};
use mesoswarm_proto::v1::TaskState;

use super::{Ctx, Violation};
use crate::cluster::{is_terminal, TaskChange};

/// What the task checkers remember.
#[derive(Debug, Default)]
pub struct Tasks {
    launched: BTreeSet<String>,
    updates: BTreeMap<Vec<u8>, (String, TaskState)>,
    live: BTreeMap<ContainerId, BTreeSet<String>>,
    first_running: BTreeMap<ContainerId, Instant>,
}

fn violation(invariant: &'static str, detail: String) -> Result<u64, Violation> {
    Err(Violation { invariant, detail })
}

impl Tasks {
    pub fn on_input(&mut self, input: &Input) -> Result<u64, Violation> {
        if let Input::MesosEvent(e) = input {
            if e.r#type == Some(EventType::Update as i32) {
                if let Some(u) = &e.update {
                    if let Some(uuid) = &u.status.uuid {
                        let state =
                            TaskState::try_from(u.status.state).unwrap_or(TaskState::TaskUnknown);
                        self.updates
                            .insert(uuid.clone(), (u.status.task_id.value.clone(), state));
                    }
                }
            }
        }
        Ok(0)
    }

    pub fn on_output(&mut self, ctx: &Ctx<'_>, output: &Output) -> Result<u64, Violation> {
        let Output::Call(c) = output else {
            return Ok(0);
        };
        match c.r#type.and_then(|t| CallType::try_from(t).ok()) {
            Some(CallType::Accept) => {
                let mut n = 0;
                for t in c
                    .accept
                    .iter()
                    .flat_map(|a| &a.operations)
                    .flat_map(|op| op.launch.iter().flat_map(|l| &l.task_infos))
                {
                    let id = &t.task_id.value;
                    if !self.launched.insert(id.clone()) {
                        return violation(
                            "task ids never reused",
                            format!("task id {id} launched a second time"),
                        );
                    }
                    let Some((cid, _)) = parse_task_id(id) else {
                        return violation(
                            "intent durable before LAUNCH",
                            format!("task id {id} names no container"),
                        );
                    };
                    let durable = ctx
                        .store
                        .container(&cid)
                        .and_then(|c| c.task.as_ref())
                        .is_some_and(|t| t.task_id == *id);
                    if !durable {
                        let what = ctx.store.container(&cid).map(|c| {
                            c.task
                                .as_ref()
                                .map_or("no task".to_string(), |t| format!("task {}", t.task_id))
                        });
                        return violation(
                            "intent durable before LAUNCH",
                            format!("LAUNCH of {id} left while the store holds {what:?} for its container"),
                        );
                    }
                    n += 2;
                }
                Ok(n)
            }
            Some(CallType::Acknowledge) => {
                let Some(a) = &c.acknowledge else {
                    return Ok(0);
                };
                let Some((task_id, state)) = self.updates.get(&a.uuid).cloned() else {
                    return violation("acknowledged only after persistence", format!("ACKNOWLEDGE of uuid {:02x?} for task {}, an update this manager never received", a.uuid, a.task_id.value));
                };
                if task_id != a.task_id.value {
                    return violation(
                        "acknowledged only after persistence",
                        format!(
                            "ACKNOWLEDGE names task {} for the uuid of an update of task {task_id}",
                            a.task_id.value
                        ),
                    );
                }
                let Some((cid, _)) = parse_task_id(&task_id) else {
                    return Ok(1);
                };
                let Some(record) = ctx.store.container(&cid) else {
                    return Ok(1); // the container's removal is durable
                };
                let Some(t) = record.task.as_ref().filter(|t| t.task_id == task_id) else {
                    return Ok(1); // a newer task, or none: this update changed nothing
                };
                let durable = t.state.map(|s| s as i32);
                let ok = match durable {
                    None => false,
                    Some(d) => {
                        let d = TaskState::try_from(d).unwrap_or(TaskState::TaskUnknown);
                        !is_terminal(state) || is_terminal(d) || d == TaskState::TaskUnknown
                    }
                };
                if !ok {
                    return violation(
                        "acknowledged only after persistence",
                        format!("ACKNOWLEDGE of {task_id} {state:?} while the store still holds state {:?}", t.state),
                    );
                }
                Ok(1)
            }
            _ => Ok(0),
        }
    }

    /// Ground truth changed: at most one live task per container.
    pub fn on_changes(&mut self, ctx: &Ctx<'_>, changes: &[TaskChange]) -> Result<u64, Violation> {
        let mut n = 0;
        for c in changes {
            let Some((cid, _)) = parse_task_id(&c.task_id) else {
                continue;
            };
            n += 1;
            if is_terminal(c.state) {
                if let Some(set) = self.live.get_mut(&cid) {
                    set.remove(&c.task_id);
                    if set.is_empty() {
                        self.live.remove(&cid);
                    }
                }
                continue;
            }
            if c.state == TaskState::TaskRunning {
                self.first_running.entry(cid).or_insert(ctx.now);
            }
            let set = self.live.entry(cid).or_default();
            set.insert(c.task_id.clone());
            if set.len() > 1 {
                return violation(
                    "one live task per container",
                    format!(
                        "container {} has live tasks {:?} on the agents",
                        cid.short(),
                        set
                    ),
                );
            }
        }
        Ok(n)
    }

    /// The live tasks of a container, by the ground truth.
    pub fn live_tasks(&self, cid: &ContainerId) -> Option<&BTreeSet<String>> {
        self.live.get(cid)
    }

    /// Every container with a live task, and the task.
    pub fn all_live(&self) -> impl Iterator<Item = (&ContainerId, &BTreeSet<String>)> {
        self.live.iter()
    }

    /// When each container first had a task RUNNING.
    pub fn first_running(&self) -> impl Iterator<Item = Instant> + '_ {
        self.first_running.values().copied()
    }
}
