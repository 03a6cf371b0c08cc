//! Task status updates: applying them to containers, acknowledging them, and everything a
//! task's end sets off (answers to waiting clients, restarts, removal).

use mesoswarm_proto::v1::{task_status, TaskStatus};

use super::entry::{exit_code_of, Phase};
use super::{calls, LogLevel, Manager, Output, Timer};
use crate::docker::error::ApiError;
use crate::docker::request::WaitCondition;
use crate::docker::response::DockerResponse;
use crate::ids::ContainerId;
use crate::task_state::TaskState;
use crate::taskinfo;

impl Manager {
    pub(super) fn on_update(&mut self, status: TaskStatus) {
        let task_id = status.task_id.value.clone();
        let agent_id = status.agent_id.as_ref().map(|a| a.value.clone());
        self.reconcile_waiting.remove(&task_id);
        let Some(state) = TaskState::from_i32(status.state) else {
            self.log(
                LogLevel::Warn,
                format!(
                    "update for task {task_id} with unknown state {}",
                    status.state
                ),
            );
            self.ack(&status);
            return;
        };
        let current = taskinfo::parse_task_id(&task_id).filter(|(id, generation)| {
            self.containers
                .get(id)
                .and_then(|e| e.c.task.as_ref())
                .is_some_and(|t| t.generation == *generation && t.task_id == task_id)
        });
        match current {
            Some((id, _)) => {
                self.apply_update(id, state, &status);
                if state == TaskState::Unreachable {
                    // When the agent comes back, Mesos reports only the tasks the agent
                    // has; a launch it never received stays UNREACHABLE for us unless we
                    // keep asking (Mesos then answers TASK_GONE).
                    self.keep_reconciling(task_id.clone(), agent_id.clone());
                }
            }
            None => {
                // Not a task we run now: an older launch of a container, a removed
                // container's task, or one from before a crash we have no record of.
                if !state.is_terminal() && state != TaskState::Unknown {
                    if let Some(fw) = self.framework_id.clone() {
                        self.log(
                            LogLevel::Warn,
                            format!("killing orphan task {task_id} ({})", state.name()),
                        );
                        self.send(calls::kill(&fw, &task_id, agent_id.as_deref(), 0));
                    }
                }
            }
        }
        self.ack(&status);
    }

    /// ACKNOWLEDGE an update that carries a uuid, once its effect is durable.
    fn ack(&mut self, status: &TaskStatus) {
        let (Some(uuid), Some(agent), Some(fw)) = (
            status.uuid.clone(),
            status.agent_id.clone(),
            self.framework_id.clone(),
        ) else {
            return;
        };
        let call = calls::acknowledge(&fw, &agent.value, &status.task_id.value, uuid);
        self.after_durable(Output::Call(Box::new(call)));
    }

    fn apply_update(&mut self, id: ContainerId, state: TaskState, status: &TaskStatus) {
        let now = self.now;
        let Some(e) = self.containers.get_mut(&id) else {
            return;
        };
        let Some(t) = e.c.task.as_mut() else { return };
        let accepted = t.state.is_none_or(|old| old.accepts(state));
        if !accepted {
            if t.state.is_some_and(TaskState::is_over) && !state.is_over() {
                // Mesos told us the task ended (TASK_GONE for a KILL that overtook its
                // ACCEPT, for example), yet it runs: we have moved on, so it must not.
                let (task, agent) = (t.task_id.clone(), t.agent_id.clone());
                if let Some(fw) = self.framework_id.clone() {
                    self.log(
                        LogLevel::Warn,
                        format!(
                            "task {task} reported {} after it ended: killing it",
                            state.name()
                        ),
                    );
                    self.send(calls::kill(&fw, &task, agent.as_deref(), 0));
                }
            }
            return; // a duplicate or stale update: already applied
        }
        let was_live = t.state.is_none_or(|s| !s.is_over());
        t.state = Some(state);
        if let Some(m) = &status.message {
            t.message = m.clone();
        }
        if let Some(agent) = &status.agent_id {
            t.agent_id = Some(agent.value.clone());
        }
        if let Some(data) = &status.data {
            if let Some(docker_id) = docker_id_from_inspect(data) {
                t.docker_id = Some(docker_id);
            }
        }
        let generation = t.generation;
        let message = t.message.clone();
        self.timers.cancel(&Timer::LaunchSilent(id, generation));
        match state {
            TaskState::Staging | TaskState::Starting | TaskState::Killing => {
                e.refresh_status();
                self.persist_container(&id);
            }
            TaskState::Running => {
                let first_run = !e.task_ran;
                e.task_ran = true;
                if first_run {
                    e.c.started_at = Some(now);
                    e.c.error.clear();
                    e.dropped_launches = 0;
                }
                e.refresh_status();
                let restarted = e.c.restart_count > 0 && first_run;
                let waiters = std::mem::take(&mut e.start_waiters);
                self.persist_container(&id);
                if first_run {
                    self.emit_event(&id, "start", Vec::new());
                    if restarted {
                        self.emit_event(&id, "restart", Vec::new());
                    }
                }
                for w in waiters {
                    self.waiting.remove(&w);
                    self.respond(w, DockerResponse::NoContent);
                }
                self.answer_attachers(&id);
                if !e_want_running(self, &id) {
                    // Stopped while it was starting: it must not keep running.
                    self.send_kill(&id, 0);
                }
            }
            TaskState::Unreachable => {
                e.refresh_status();
                self.persist_container(&id);
                self.log(
                    LogLevel::Warn,
                    format!(
                        "task {} is unreachable: its agent is partitioned from the master",
                        status.task_id.value
                    ),
                );
            }
            _ if was_live => self.on_task_ended(id, state, message, status.reason),
            _ => {
                // Terminal again (LOST → GONE): just record it.
                self.persist_container(&id);
            }
        }
    }

    /// The current task of a container is over.
    fn on_task_ended(
        &mut self,
        id: ContainerId,
        state: TaskState,
        message: String,
        reason: Option<i32>,
    ) {
        let now = self.now;
        let max_retries = self.config.launch_retries_max;
        let Some(e) = self.containers.get_mut(&id) else {
            return;
        };
        let generation = e.c.task.as_ref().map_or(0, |t| t.generation);
        self.timers.cancel(&Timer::KillRetry(id, generation));
        let ran = e.task_ran;
        e.task_ran = false;
        // Mesos dropped the launch itself (the offer was gone, or it never reached an
        // agent): the container did nothing wrong, place it again.
        let dropped = !ran
            && (matches!(
                state,
                TaskState::Dropped | TaskState::Gone | TaskState::Unknown
            ) || (state == TaskState::Lost
                && reason == Some(task_status::Reason::InvalidOffers as i32)));
        let retry_drop =
            dropped && e.want_running && !e.removing && e.dropped_launches < max_retries;
        let exit_code = exit_code_of(state, &message, e.kill_signal.as_deref());
        if retry_drop {
            e.dropped_launches += 1;
        } else {
            e.c.exit_code = exit_code;
            e.c.finished_at = Some(now);
            let failed = !matches!(state, TaskState::Finished | TaskState::Killed);
            e.c.error = match (failed, message.is_empty()) {
                (true, false) => format!("{}: {message}", state.name()),
                (true, true) => state.name().to_string(),
                _ => String::new(),
            };
        }
        e.kill_signal = None;
        let restart = e.restart_pending && !e.removing;
        let relaunch = retry_drop || restart;
        if restart {
            e.c.restart_count += 1;
        }
        e.restart_pending = false;
        if !relaunch {
            e.want_running = false;
        }
        e.refresh_status();
        // No task is alive now: a stop is done. A task that never existed did not exit, so
        // waiters for an exit keep waiting when the launch is only retried.
        let stop_waiters = std::mem::take(&mut e.stop_waiters);
        let exited: Vec<_> = if retry_drop {
            Vec::new()
        } else {
            let (done, kept) = std::mem::take(&mut e.exit_waiters)
                .into_iter()
                .partition(|(_, c)| *c != WaitCondition::Removed);
            e.exit_waiters = kept;
            done
        };
        let start_waiters = if relaunch {
            Vec::new()
        } else {
            std::mem::take(&mut e.start_waiters)
        };
        let remove = !relaunch && (e.removing || e.c.spec.auto_remove);
        let error_text = e.c.error.clone();
        let name = e.c.name.clone();
        self.persist_container(&id);
        if retry_drop {
            self.log(
                LogLevel::Info,
                format!(
                    "Mesos dropped the launch of {name} ({}): placing it again",
                    state.name()
                ),
            );
        } else {
            self.emit_event(&id, "die", vec![("exitCode", exit_code.to_string())]);
        }
        if !stop_waiters.is_empty() {
            self.emit_event(&id, "stop", Vec::new());
        }
        for w in stop_waiters {
            self.waiting.remove(&w);
            self.respond(w, DockerResponse::NoContent);
        }
        for (w, _) in exited {
            self.waiting.remove(&w);
            self.respond(
                w,
                DockerResponse::WaitDone {
                    status_code: exit_code,
                    error: None,
                },
            );
        }
        if !relaunch {
            self.answer_attachers(&id);
        }
        for w in start_waiters {
            self.waiting.remove(&w);
            let msg = if ran {
                format!("container {name} exited before the start completed: {error_text}")
            } else {
                format!("failed to start container {name}: Mesos reported {error_text}")
            };
            self.respond(w, ApiError::internal(msg).into());
        }
        if relaunch {
            self.enqueue_pending(id, retry_drop);
        } else if remove {
            self.remove_container(&id);
        }
    }

    /// Tells the clients waiting to attach where the container runs now (its task runs,
    /// or ran and ended: the engine replays its output), or why there is nothing to attach
    /// to (the task ended without a container on an agent).
    fn answer_attachers(&mut self, id: &ContainerId) {
        let Some(e) = self.containers.get_mut(id) else {
            return;
        };
        let waiters = std::mem::take(&mut e.attach_waiters);
        if waiters.is_empty() {
            return;
        }
        let answer = super::docker_ops::location_of(e).unwrap_or_else(|| {
            let why = if e.c.error.is_empty() {
                "its task ended".to_string()
            } else {
                e.c.error.clone()
            };
            ApiError::conflict(format!(
                "container {} did not run on an agent, so there is no output to attach to: {why}",
                e.c.name
            ))
            .into()
        });
        for w in waiters {
            self.waiting.remove(&w);
            self.respond(w, answer.clone());
        }
    }

    /// A start (or restart) failed before the task ran: answer its clients, keep the
    /// container as it was.
    pub(super) fn fail_start(&mut self, id: &ContainerId, error: ApiError) {
        let Some(e) = self.containers.get_mut(id) else {
            return;
        };
        e.want_running = false;
        e.restart_pending = false;
        e.c.error = error.message.clone();
        if e.c.started_at.is_some() {
            e.c.exit_code = 128;
        }
        e.refresh_status();
        let waiters = std::mem::take(&mut e.start_waiters);
        self.persist_container(id);
        for w in waiters {
            self.waiting.remove(&w);
            self.respond(w, DockerResponse::Error(error.clone()));
        }
    }

    /// Removes a container that has no live task; answers everyone waiting on it.
    pub(super) fn remove_container(&mut self, id: &ContainerId) {
        self.dequeue_pending(id);
        self.emit_event(id, "destroy", Vec::new());
        let Some(e) = self.containers.remove(id) else {
            return;
        };
        self.names.remove(&e.c.name);
        let code = e.c.exit_code;
        self.persist(super::Record::ContainerRemoved(*id));
        // The removal is only true once it is durable: a crash before that brings the
        // container back, so nobody may hear "removed" earlier.
        for w in e.remove_waiters {
            self.waiting.remove(&w);
            self.after_durable(Output::Docker {
                id: w,
                response: DockerResponse::NoContent,
            });
        }
        for (w, _) in e.exit_waiters {
            self.waiting.remove(&w);
            let response = DockerResponse::WaitDone {
                status_code: code,
                error: None,
            };
            self.after_durable(Output::Docker { id: w, response });
        }
        let attachers = e.attach_waiters;
        for w in e
            .start_waiters
            .into_iter()
            .chain(e.stop_waiters)
            .chain(attachers)
        {
            self.waiting.remove(&w);
            self.respond(
                w,
                ApiError::conflict(format!("container {} was removed", e.c.name)).into(),
            );
        }
        for gen in 0..=e.c.task.as_ref().map_or(0, |t| t.generation) {
            self.timers.cancel(&Timer::KillRetry(*id, gen));
            self.timers.cancel(&Timer::LaunchSilent(*id, gen));
        }
    }

    /// Sends KILL for the container's live task, with `grace_secs` before SIGKILL, and arms
    /// a retry in case Mesos drops it.
    pub(super) fn send_kill(&mut self, id: &ContainerId, grace_secs: u64) {
        let Some(fw) = self.framework_id.clone() else {
            return;
        };
        let Some(e) = self.containers.get(id) else {
            return;
        };
        let Some(t) = &e.c.task else { return };
        if !e.c.has_live_task() || matches!(e.phase, Phase::Launching { .. }) {
            return;
        }
        let (task, agent, generation) = (t.task_id.clone(), t.agent_id.clone(), t.generation);
        if self.link == super::Link::Subscribed {
            self.send(calls::kill(&fw, &task, agent.as_deref(), grace_secs));
        }
        let retry = grace_secs
            .saturating_mul(1000)
            .saturating_add(self.config.kill_retry_ms);
        self.timers
            .set(Timer::KillRetry(*id, generation), self.after_ms(retry));
    }

    pub(super) fn on_kill_retry(&mut self, id: ContainerId, generation: u32) {
        let Some(e) = self.containers.get(&id) else {
            return;
        };
        let same =
            e.c.task
                .as_ref()
                .is_some_and(|t| t.generation == generation);
        if same && e.c.has_live_task() && (!e.want_running || e.restart_pending || e.removing) {
            self.log(
                LogLevel::Warn,
                format!(
                    "task of container {} is still alive after KILL: killing again",
                    e.c.name
                ),
            );
            self.send_kill(&id, 0);
        }
    }
}

fn e_want_running(m: &Manager, id: &ContainerId) -> bool {
    m.containers
        .get(id)
        .is_some_and(|e| e.want_running || e.restart_pending)
}

/// The container id in the docker inspect JSON the Docker executor puts in
/// `TaskStatus.data` (an array with one object, or the object itself).
pub fn docker_id_from_inspect(data: &[u8]) -> Option<String> {
    // Only `Id` is read: deserializing into this struct skips the rest of the (kilobytes of)
    // inspect JSON instead of building a tree of it (the bench's callgrind scenario spent
    // three quarters of its instructions there).
    #[derive(serde::Deserialize)]
    struct Inspect {
        #[serde(rename = "Id")]
        id: Option<String>,
    }
    // Mesos' Docker executor sends an array; an untagged enum would buffer the whole input,
    // so the array is tried first and the bare object second.
    match serde_json::from_slice::<Vec<Inspect>>(data) {
        Ok(list) => list.into_iter().next()?.id,
        Err(_) => serde_json::from_slice::<Inspect>(data).ok()?.id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_id_comes_from_the_inspect_array_or_object() {
        assert_eq!(
            docker_id_from_inspect(br#"[{"Id":"abc","Name":"/mesos-x"}]"#),
            Some("abc".into())
        );
        assert_eq!(
            docker_id_from_inspect(br#"{"Id":"def"}"#),
            Some("def".into())
        );
        assert_eq!(docker_id_from_inspect(b"not json"), None);
        assert_eq!(docker_id_from_inspect(b"[]"), None);
    }
}
