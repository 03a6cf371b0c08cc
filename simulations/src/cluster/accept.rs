//! ACCEPT, validated as the real master does (`Master::accept`, `Master::_accept`,
//! `validation::offer` and `validation::task`): invalid offers drop every task with
//! TASK_DROPPED (TASK_LOST without PARTITION_AWARE) and REASON_INVALID_OFFERS; an invalid
//! task gets TASK_ERROR with REASON_TASK_INVALID and the master's message; valid tasks go
//! to their agent; what is left of the offers is refused for `filters.refuse_seconds`.

use std::collections::BTreeSet;

use mesoswarm_proto::scheduler::call;
use mesoswarm_proto::v1::{
    container_info, offer::operation::Type as OpType, task_status::Reason, TaskInfo, TaskState,
};

use super::framework::validate_id;
use super::state::{MasterTask, Registration};
use super::SimCluster;
use crate::resources::{allocation_role_of, Res};

impl SimCluster {
    pub(super) fn accept(&mut self, framework_id: &str, a: call::Accept) {
        let tasks_of = |a: &call::Accept| -> Vec<TaskInfo> {
            a.operations
                .iter()
                .filter(|op| {
                    matches!(
                        op.r#type.and_then(|t| OpType::try_from(t).ok()),
                        Some(OpType::Launch) | Some(OpType::LaunchGroup)
                    )
                })
                .flat_map(|op| {
                    let mut v: Vec<TaskInfo> = op
                        .launch
                        .as_ref()
                        .map(|l| l.task_infos.clone())
                        .unwrap_or_default();
                    if let Some(g) = &op.launch_group {
                        v.extend(g.task_group.tasks.iter().cloned());
                    }
                    v
                })
                .collect()
        };
        let aware = self.partition_aware(framework_id);
        let lost_state = if aware {
            TaskState::TaskDropped
        } else {
            TaskState::TaskLost
        };
        if let Err(e) = self.validate_offers(framework_id, &a) {
            // Every offer named is discarded (no filter); every task is dropped.
            for id in &a.offer_ids {
                let mine = self
                    .master
                    .offers
                    .get(&id.value)
                    .is_some_and(|o| o.framework == framework_id);
                if mine {
                    self.remove_offer(&id.value, None, 0);
                }
            }
            for t in tasks_of(&a) {
                self.stats.launch_drops += 1;
                self.master_update(
                    framework_id,
                    &t.task_id.value,
                    Some(&t.agent_id.value),
                    lost_state,
                    Reason::InvalidOffers,
                    &format!("Task launched with invalid offers: {e}"),
                    None,
                );
            }
            return;
        }
        // The offers are used up: their resources are what the operations may consume.
        let mut offered = Res::empty();
        let mut agent = 0;
        let mut allocation_role = String::from("*");
        for id in &a.offer_ids {
            if let Some(o) = self.remove_offer(&id.value, Some(&Res::empty()), 0) {
                offered.add(&o.resources);
                agent = o.agent;
                allocation_role = o.role;
            }
        }
        if self.master.agents[agent].reg != Registration::Registered {
            let removed = !self.master.agents[agent].reg.is_registered();
            for t in tasks_of(&a) {
                self.stats.launch_drops += 1;
                self.master_update(
                    framework_id,
                    &t.task_id.value,
                    Some(&t.agent_id.value),
                    lost_state,
                    if removed {
                        Reason::AgentRemoved
                    } else {
                        Reason::AgentDisconnected
                    },
                    if removed {
                        "Agent removed"
                    } else {
                        "Agent disconnected"
                    },
                    None,
                );
            }
            self.give_back(framework_id, agent, &allocation_role, offered, &a);
            return;
        }
        let mut remaining = offered;
        for op in &a.operations {
            let kind = op.r#type.and_then(|t| OpType::try_from(t).ok());
            match kind {
                Some(OpType::Launch) => {
                    let tasks = op
                        .launch
                        .as_ref()
                        .map(|l| l.task_infos.clone())
                        .unwrap_or_default();
                    for t in tasks {
                        if op.id.is_some() {
                            self.task_error(
                                framework_id,
                                &t,
                                "The `id` field cannot be set on LAUNCH operations",
                            );
                            continue;
                        }
                        match self.validate_task(
                            framework_id,
                            &t,
                            agent,
                            &allocation_role,
                            &remaining,
                        ) {
                            Err(e) => self.task_error(framework_id, &t, &e),
                            Ok(res) => {
                                remaining.sub(&res);
                                self.launch(framework_id, t, agent, res);
                            }
                        }
                    }
                }
                Some(OpType::LaunchGroup) => {
                    let tasks = op
                        .launch_group
                        .as_ref()
                        .map(|g| g.task_group.tasks.clone())
                        .unwrap_or_default();
                    for t in tasks {
                        self.stats.task_errors += 1;
                        self.master_update(
                            framework_id,
                            &t.task_id.value,
                            Some(&t.agent_id.value),
                            TaskState::TaskError,
                            Reason::TaskGroupInvalid,
                            "LAUNCH_GROUP is not supported by the simulated master",
                            None,
                        );
                    }
                }
                // Reservations and volumes are not modelled: dropped, as the master drops
                // operations it cannot apply.
                _ => {}
            }
        }
        self.give_back(framework_id, agent, &allocation_role, remaining, &a);
    }

    /// What an ACCEPT did not use goes back, refused for `filters.refuse_seconds`.
    fn give_back(
        &mut self,
        framework_id: &str,
        agent: usize,
        role: &str,
        unused: Res,
        a: &call::Accept,
    ) {
        if unused.is_empty() {
            return;
        }
        let refuse = super::alloc::refuse_ms(a.filters.as_ref());
        if refuse > 0 {
            let until = self
                .now
                .saturating_add(std::time::Duration::from_millis(refuse));
            self.master.agents[agent].filters.push((
                framework_id.to_string(),
                role.to_string(),
                unused,
                until,
            ));
        }
        self.refresh_available(agent);
    }

    /// `validation::offer::validate`.
    fn validate_offers(&self, framework_id: &str, a: &call::Accept) -> Result<(), String> {
        if a.offer_ids.is_empty() {
            return Err("No offers specified".into());
        }
        let mut seen = BTreeSet::new();
        let mut agent: Option<(usize, String)> = None;
        let mut role: Option<String> = None;
        for id in &a.offer_ids {
            let Some(o) = self.master.offers.get(&id.value) else {
                return Err(format!("Offer {} is no longer valid", id.value));
            };
            if !seen.insert(id.value.clone()) {
                return Err(format!("Duplicate offer {} in offer list", id.value));
            }
            if o.framework != framework_id {
                return Err(format!(
                    "Offer {} has invalid framework {} while framework {framework_id} is expected",
                    id.value, o.framework
                ));
            }
            match &role {
                Some(r) if *r != o.role => {
                    return Err(format!(
                        "Aggregated offers must be allocated to the same role. Offer {} uses role {} and offer {} uses role {r}",
                        id.value, o.role, a.offer_ids[0].value
                    ))
                }
                _ => role = Some(o.role.clone()),
            }
            match &agent {
                Some((i, first)) if *i != o.agent => {
                    return Err(format!(
                        "Aggregated offers must belong to one single agent. Offer {} uses agent {} and offer {first} uses agent {}",
                        id.value, self.agents[o.agent].id, self.agents[*i].id
                    ))
                }
                _ => agent = Some((o.agent, id.value.clone())),
            }
        }
        Ok(())
    }

    /// `validation::task::validate`, in the master's order; the task's resources if valid.
    fn validate_task(
        &self,
        framework_id: &str,
        t: &TaskInfo,
        agent: usize,
        allocation_role: &str,
        available: &Res,
    ) -> Result<Res, String> {
        validate_id(&t.task_id.value).map_err(|e| format!("Task has an invalid TaskID: {e}"))?;
        let f = &self.master.frameworks[framework_id];
        if f.tasks.contains_key(&t.task_id.value) {
            return Err(format!("Task has duplicate ID: {}", t.task_id.value));
        }
        if f.unreachable_tasks.contains_key(&t.task_id.value) {
            return Err(format!(
                "Task reuses the ID of an unreachable task: {}",
                t.task_id.value
            ));
        }
        let agent_id = &self.agents[agent].id;
        if t.agent_id.value != *agent_id {
            return Err(format!(
                "Task uses invalid agent {} while agent {agent_id} is expected",
                t.agent_id.value
            ));
        }
        if let Some(g) = t.kill_policy.as_ref().and_then(|k| k.grace_period) {
            if g.nanoseconds < 0 {
                return Err("Task's 'kill_policy.grace_period' must be non-negative".into());
            }
        }
        if t.max_completion_time.is_some_and(|d| d.nanoseconds < 0) {
            return Err("Task's `max_completion_time` must be non-negative".into());
        }
        if t.resources.is_empty() {
            return Err("Task uses no resources".into());
        }
        let res = Res::from_proto(&t.resources)
            .map_err(|e| format!("Task uses invalid resources: {e}"))?;
        let roles: BTreeSet<&str> = t.resources.iter().filter_map(allocation_role_of).collect();
        if roles.len() > 1 {
            return Err(
                "Invalid task resources: The resources have multiple allocation roles".into(),
            );
        }
        if roles.iter().any(|r| *r != allocation_role) {
            return Err(format!(
                "Invalid task resources: The resources are allocated to a role other than the offer's ({allocation_role})"
            ));
        }
        if let Some(c) = &t.container {
            if c.r#type == container_info::Type::Docker as i32 {
                let Some(d) = &c.docker else {
                    return Err("Task's `ContainerInfo` is invalid: DockerInfo 'docker' is not set for DOCKER typed ContainerInfo".into());
                };
                if d.parameters.iter().any(|p| p.key == "name") {
                    return Err("Task's `ContainerInfo` is invalid: Parameter in DockerInfo must not be 'name'".into());
                }
            }
        }
        if t.executor.is_some() == t.command.is_some() {
            return Err(
                "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
                    .into(),
            );
        }
        if !available.contains(&res) {
            return Err(format!(
                "Total resources {res} required by task and its executor is more than available {available}"
            ));
        }
        Ok(res)
    }

    fn task_error(&mut self, framework_id: &str, t: &TaskInfo, message: &str) {
        self.stats.task_errors += 1;
        self.master_update(
            framework_id,
            &t.task_id.value,
            Some(&t.agent_id.value),
            TaskState::TaskError,
            Reason::TaskInvalid,
            message,
            None,
        );
    }

    /// A valid task: the master adds it (STAGING, holding its resources) and sends it to
    /// the agent, which loses it if it cannot be reached.
    fn launch(&mut self, framework_id: &str, t: TaskInfo, agent: usize, res: Res) {
        self.stats.launched += 1;
        let task_id = t.task_id.value.clone();
        let v = &mut self.master.agents[agent];
        v.used.add(&res);
        self.refresh_available(agent);
        self.master.tasks.insert(
            (framework_id.to_string(), task_id.clone()),
            MasterTask {
                agent,
                resources: res.clone(),
                state: TaskState::TaskStaging,
                status_update: None,
                holds_resources: true,
            },
        );
        let info = self.master.frameworks.get_mut(framework_id).map(|f| {
            f.tasks.insert(task_id, agent);
            f.info.clone()
        });
        if let Some(info) = info {
            self.agent_run_task(agent, framework_id, info, t, res);
        }
    }
}
