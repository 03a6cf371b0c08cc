//! Agents: tasks running for real (ground truth), the simulated Docker executor's lifecycle
//! (or an external one's reports), and the status update manager: one ordered stream per
//! task, only its head in flight, retried from 10 s doubling to 10 min until acknowledged.

use std::time::Duration;

use mesoswarm_core::time::Instant;
use mesoswarm_proto::v1::{
    framework_info::capability::Type as Cap, network_info, task_status, ContainerStatus,
    ExecutorId, FrameworkInfo, NetworkInfo, TaskInfo, TaskState, TaskStatus,
};

use super::state::{has_capability, AgentLife, AgentTask, PendingUpdate, Registration};
use super::{is_terminal, ClusterOutput, ClusterTimer, SimCluster};
use crate::config::ExecutorMode;
use crate::ids;
use crate::resources::Res;

/// `STATUS_UPDATE_RETRY_INTERVAL_MIN`.
const RETRY_MIN_MS: u64 = 10_000;
/// `STATUS_UPDATE_RETRY_INTERVAL_MAX`.
const RETRY_MAX_MS: u64 = 600_000;

/// What a new update says besides its state.
struct UpdateText {
    source: task_status::Source,
    reason: Option<task_status::Reason>,
    message: Option<String>,
    data: Option<Vec<u8>>,
}

impl UpdateText {
    fn executor(message: Option<String>) -> UpdateText {
        UpdateText {
            source: task_status::Source::Executor,
            reason: None,
            message,
            data: None,
        }
    }
}

impl SimCluster {
    /// Messages between the master and agent `i` get through.
    pub(super) fn reachable(&self, i: usize) -> bool {
        self.agents[i].life == AgentLife::Up
            && self.master.agents[i].reg == Registration::Registered
    }

    /// RunTaskMessage: the agent starts the task (lost if the agent cannot be reached).
    pub(super) fn agent_run_task(
        &mut self,
        i: usize,
        framework_id: &str,
        framework: FrameworkInfo,
        task: TaskInfo,
        resources: Res,
    ) {
        if !self.reachable(i) {
            return;
        }
        let key = (framework_id.to_string(), task.task_id.value.clone());
        let docker_id = ids::docker_id(&mut self.rng);
        let a = &mut self.agents[i];
        a.frameworks.insert(framework_id.to_string(), framework);
        a.tasks.insert(
            key.clone(),
            AgentTask {
                info: task.clone(),
                resources,
                state: TaskState::TaskStaging,
                stream: Default::default(),
                retry_ms: RETRY_MIN_MS,
                step: 0,
                docker_id,
                killing_status: None,
            },
        );
        self.record_change(i, &key.0, &key.1, TaskState::TaskStaging);
        match self.config.executor {
            ExecutorMode::Simulated => {
                let ms = self.config.task_latency.launch.sample(&mut self.rng);
                self.schedule_step(i, &key, ms);
            }
            ExecutorMode::External => self.out.push_back(ClusterOutput::Launch {
                agent_id: self.agents[i].id.clone(),
                task: Box::new(task),
            }),
        }
    }

    fn schedule_step(&mut self, i: usize, key: &(String, String), after_ms: u64) {
        let Some(t) = self.agents[i].tasks.get_mut(key) else {
            return;
        };
        t.step += 1;
        let step = t.step;
        let at = self.after(after_ms);
        self.timers.push(
            at,
            ClusterTimer::TaskStep {
                agent: i,
                key: key.clone(),
                step,
            },
        );
    }

    /// The simulated executor moves a task on.
    pub(super) fn on_task_step(&mut self, i: usize, key: (String, String), step: u64) {
        if self.agents[i].life == AgentLife::Dead {
            return;
        }
        let Some(t) = self.agents[i].tasks.get(&key) else {
            return;
        };
        if t.step != step {
            return;
        }
        let (state, killing) = (t.state, t.killing_status);
        let lat = self.config.task_latency.clone();
        if let Some(status) = killing {
            if !is_terminal(state) {
                self.agent_update(
                    i,
                    &key,
                    TaskState::TaskKilled,
                    UpdateText::executor(Some(format!("Container exited with status {status}"))),
                );
            }
            return;
        }
        match state {
            TaskState::TaskStaging => {
                if chance(&mut self.rng, lat.launch_failure_rate) {
                    self.agent_update(
                        i,
                        &key,
                        TaskState::TaskFailed,
                        UpdateText {
                            source: task_status::Source::Agent,
                            reason: Some(task_status::Reason::ContainerLaunchFailed),
                            message: Some(
                                "Failed to launch container: simulated launch failure".into(),
                            ),
                            data: None,
                        },
                    );
                } else {
                    self.agent_update(i, &key, TaskState::TaskStarting, UpdateText::executor(None));
                    let ms = lat.start.sample(&mut self.rng);
                    self.schedule_step(i, &key, ms);
                }
            }
            TaskState::TaskStarting => {
                let data = inspect_json(&self.agents[i].tasks[&key]);
                let mut text = UpdateText::executor(None);
                text.data = Some(data);
                self.agent_update(i, &key, TaskState::TaskRunning, text);
                if let Some(run) = lat.run_time {
                    let ms = run.sample(&mut self.rng);
                    self.schedule_step(i, &key, ms);
                }
            }
            TaskState::TaskRunning => {
                let (state, code) = if chance(&mut self.rng, lat.exit_failure_rate) {
                    (TaskState::TaskFailed, lat.exit_code)
                } else {
                    (TaskState::TaskFinished, 0)
                };
                self.agent_update(
                    i,
                    &key,
                    state,
                    UpdateText::executor(Some(format!("Container exited with status {code}"))),
                );
            }
            _ => {}
        }
    }

    /// KillTaskMessage reaches agent `i`.
    pub(super) fn agent_kill(
        &mut self,
        i: usize,
        framework_id: &str,
        task_id: &str,
        grace_ms: Option<u64>,
    ) {
        if !self.reachable(i) {
            return;
        }
        let key = (framework_id.to_string(), task_id.to_string());
        let killing_state = self.agents[i]
            .frameworks
            .get(framework_id)
            .is_some_and(|f| has_capability(f, Cap::TaskKillingState));
        let Some(t) = self.agents[i].tasks.get_mut(&key) else {
            return;
        };
        if is_terminal(t.state) || t.killing_status.is_some() {
            return;
        }
        let grace = grace_ms.unwrap_or_else(|| {
            t.info
                .kill_policy
                .and_then(|p| p.grace_period)
                .map_or(3_000, |d| (d.nanoseconds.max(0) / 1_000_000) as u64)
        });
        if t.state == TaskState::TaskStaging && self.config.executor == ExecutorMode::Simulated {
            t.step += 1;
            self.agent_update(
                i,
                &key,
                TaskState::TaskKilled,
                UpdateText {
                    source: task_status::Source::Agent,
                    reason: Some(task_status::Reason::TaskKilledDuringLaunch),
                    message: Some("Killed before delivery to the executor".into()),
                    data: None,
                },
            );
            return;
        }
        if self.config.executor == ExecutorMode::External {
            t.killing_status = Some(0);
            self.out.push_back(ClusterOutput::Kill {
                agent_id: self.agents[i].id.clone(),
                task_id: task_id.to_string(),
                grace: Duration::from_millis(grace),
            });
            return;
        }
        // docker stop: SIGTERM, then SIGKILL once the grace period is over.
        let took_ms = self.config.task_latency.kill.sample(&mut self.rng);
        t.killing_status = Some(if took_ms <= grace { 143 } else { 137 });
        if killing_state {
            self.agent_update(i, &key, TaskState::TaskKilling, UpdateText::executor(None));
        }
        self.schedule_step(i, &key, took_ms.min(grace));
    }

    /// External executor mode: a task's container changed state.
    pub fn report_task_status(
        &mut self,
        now: Instant,
        agent_id: &str,
        task_id: &str,
        state: TaskState,
        message: Option<String>,
        data: Option<Vec<u8>>,
    ) {
        self.advance(now);
        let Some(i) = self.agent_index(agent_id) else {
            return;
        };
        if self.agents[i].life == AgentLife::Dead {
            return;
        }
        let Some(key) = self.agents[i]
            .tasks
            .iter()
            .find(|((_, t), task)| t == task_id && !is_terminal(task.state))
            .map(|(k, _)| k.clone())
        else {
            return;
        };
        let mut text = UpdateText::executor(message);
        text.data = data;
        self.agent_update(i, &key, state, text);
    }

    /// A new update for a task: its state changes for real, the update joins the stream.
    fn agent_update(
        &mut self,
        i: usize,
        key: &(String, String),
        state: TaskState,
        text: UpdateText,
    ) {
        let uuid = ids::uuid_bytes(&mut self.rng);
        let timestamp = self.timestamp();
        let agent_id = self.agent_id_of(i);
        let Some(t) = self.agents[i].tasks.get_mut(key) else {
            return;
        };
        let running = state == TaskState::TaskRunning;
        let status = TaskStatus {
            task_id: t.info.task_id.clone(),
            state: state as i32,
            message: text.message,
            source: Some(text.source as i32),
            reason: text.reason.map(|r| r as i32),
            data: text.data,
            agent_id: Some(agent_id),
            executor_id: (text.source == task_status::Source::Executor).then(|| ExecutorId {
                value: t.info.task_id.value.clone(),
            }),
            timestamp: Some(timestamp),
            uuid: Some(uuid),
            container_status: running.then(|| ContainerStatus {
                network_infos: vec![NetworkInfo {
                    ip_addresses: vec![network_info::IpAddress {
                        protocol: None,
                        ip_address: Some(format!("172.17.{}.{}", (i / 250) % 250, i % 250 + 2)),
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        t.state = state;
        t.stream.push_back(PendingUpdate { status });
        let first = t.stream.len() == 1;
        self.record_change(i, &key.0, &key.1, state);
        if first {
            self.send_head(i, key, true);
        }
    }

    /// Sends the head of a task's stream to the master (if it can be reached) and, with
    /// `arm`, schedules its retry.
    fn send_head(&mut self, i: usize, key: &(String, String), arm: bool) {
        let Some(t) = self.agents[i].tasks.get_mut(key) else {
            return;
        };
        let Some(head) = t.stream.front() else {
            return;
        };
        let status = head.status.clone();
        let latest = t.state;
        let uuid = status.uuid.clone().unwrap_or_default();
        if arm {
            let at = self.now.saturating_add(Duration::from_millis(t.retry_ms));
            t.retry_ms = (t.retry_ms * 2).min(RETRY_MAX_MS);
            self.timers.push(
                at,
                ClusterTimer::UpdateRetry {
                    agent: i,
                    key: key.clone(),
                    uuid,
                },
            );
        }
        if self.reachable(i) {
            self.master_receive_update(i, &key.0.clone(), status, latest);
        }
    }

    pub(super) fn on_update_retry(&mut self, i: usize, key: (String, String), uuid: Vec<u8>) {
        if self.agents[i].life == AgentLife::Dead {
            return;
        }
        let current = self.agents[i]
            .tasks
            .get(&key)
            .and_then(|t| t.stream.front())
            .is_some_and(|h| h.status.uuid.as_deref() == Some(uuid.as_slice()));
        if current {
            self.send_head(i, &key, true);
        }
    }

    /// StatusUpdateAcknowledgementMessage reaches agent `i`.
    pub(super) fn agent_ack(&mut self, i: usize, framework_id: &str, task_id: &str, uuid: &[u8]) {
        if !self.reachable(i) {
            return;
        }
        let key = (framework_id.to_string(), task_id.to_string());
        let Some(t) = self.agents[i].tasks.get_mut(&key) else {
            return;
        };
        let matches = t
            .stream
            .front()
            .is_some_and(|h| h.status.uuid.as_deref() == Some(uuid));
        if !matches {
            return;
        }
        t.stream.pop_front();
        t.retry_ms = RETRY_MIN_MS;
        self.stats.acks += 1;
        if !t.stream.is_empty() {
            self.send_head(i, &key, true);
        } else if is_terminal(t.state) {
            self.agents[i].tasks.remove(&key);
        }
    }

    /// Re-sends every pending head update of agent `i` (for one framework, or all), as an
    /// agent does when a framework re-subscribes or when it re-registers itself.
    pub(super) fn resume_agent_updates(&mut self, i: usize, framework_id: Option<&str>) {
        if !self.reachable(i) {
            return;
        }
        let keys: Vec<(String, String)> = self.agents[i]
            .tasks
            .iter()
            .filter(|((fw, _), t)| framework_id.is_none_or(|f| f == fw) && !t.stream.is_empty())
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            self.send_head(i, &key, false);
        }
    }

    /// UpdateFrameworkMessage to every agent: pending updates of the framework go again.
    pub(super) fn resume_updates(&mut self, framework_id: &str) {
        for i in 0..self.agents.len() {
            self.resume_agent_updates(i, Some(framework_id));
        }
    }

    /// ShutdownFrameworkMessage: the framework's tasks are killed and forgotten.
    pub(super) fn agent_shutdown_framework(&mut self, i: usize, framework_id: &str) {
        let keys: Vec<(String, String)> = self.agents[i]
            .tasks
            .keys()
            .filter(|(fw, _)| fw == framework_id)
            .cloned()
            .collect();
        for key in keys {
            let live = self.agents[i]
                .tasks
                .get(&key)
                .is_some_and(|t| !is_terminal(t.state));
            self.agents[i].tasks.remove(&key);
            if live {
                self.record_change(i, &key.0, &key.1, TaskState::TaskKilled);
            }
        }
        self.agents[i].frameworks.remove(framework_id);
    }

    /// The agent dies for good: every task on it is gone.
    pub(super) fn kill_agent(&mut self, i: usize) {
        self.agents[i].life = AgentLife::Dead;
        self.agents[i].epoch += 1;
        let tasks = std::mem::take(&mut self.agents[i].tasks);
        for ((fw, task), t) in tasks {
            if !is_terminal(t.state) {
                self.record_change(i, &fw, &task, TaskState::TaskKilled);
            }
        }
    }

    /// An agent re-registering finds tasks the master thought it had but it never got: it
    /// reports them TASK_DROPPED (TASK_LOST without PARTITION_AWARE), with a uuid.
    pub(super) fn agent_report_unknown(
        &mut self,
        i: usize,
        framework_id: &str,
        task_id: &str,
        framework: Option<FrameworkInfo>,
    ) {
        let key = (framework_id.to_string(), task_id.to_string());
        if self.agents[i].tasks.contains_key(&key) {
            return;
        }
        let aware = framework
            .as_ref()
            .is_some_and(|f| has_capability(f, Cap::PartitionAware));
        let info = TaskInfo {
            task_id: mesoswarm_proto::v1::TaskId {
                value: task_id.to_string(),
            },
            agent_id: self.agent_id_of(i),
            ..Default::default()
        };
        self.agents[i].tasks.insert(
            key.clone(),
            AgentTask {
                info,
                resources: Res::empty(),
                state: TaskState::TaskStaging,
                stream: Default::default(),
                retry_ms: RETRY_MIN_MS,
                step: 0,
                docker_id: String::new(),
                killing_status: None,
            },
        );
        self.agent_update(
            i,
            &key,
            if aware {
                TaskState::TaskDropped
            } else {
                TaskState::TaskLost
            },
            UpdateText {
                source: task_status::Source::Agent,
                reason: Some(task_status::Reason::Reconciliation),
                message: Some("Reconciliation: task unknown to the agent".into()),
                data: None,
            },
        );
    }
}

fn chance(rng: &mut mesoswarm_core::rng::Rng, p: f64) -> bool {
    if p <= 0.0 {
        return false;
    }
    (rng.below(1_000_000) as f64) < p * 1_000_000.0
}

/// The `docker inspect` array the Docker executor puts in a RUNNING update's data.
fn inspect_json(t: &AgentTask) -> Vec<u8> {
    let image = t
        .info
        .container
        .as_ref()
        .and_then(|c| c.docker.as_ref())
        .map(|d| d.image.clone())
        .unwrap_or_default();
    let v = serde_json::json!([{
        "Id": t.docker_id,
        "Name": format!("/mesos-{}", t.info.task_id.value),
        "Config": { "Image": image },
        "State": { "Status": "running", "Running": true },
    }]);
    serde_json::to_vec(&v).unwrap_or_default()
}
