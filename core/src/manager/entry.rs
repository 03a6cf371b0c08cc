//! A tracked container plus what only the running manager knows about it: who is waiting
//! on it and what it is supposed to become.

use crate::container::{Container, DockerStatus};
use crate::docker::request::{RequestId, WaitCondition};
use crate::offers::Demand;
use crate::task_state::TaskState;
use crate::time::Instant;

/// Where a container's next or current launch stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// No task wanted, or the task is Mesos' business now (launched or finished).
    Settled,
    /// Waiting in the queue for an offer that fits, since then.
    Pending {
        /// When it joined the queue.
        since: Instant,
    },
    /// Placed on this offer; its ACCEPT waits until the intent is durable.
    Launching {
        /// The offer id.
        offer_id: String,
    },
}

/// A container and its runtime-only bookkeeping.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The container (this part is what gets persisted).
    pub c: Container,
    /// The user wants a task running (start/restart asked, no stop since).
    pub want_running: bool,
    /// A restart is under way: launch again once the current task is terminal.
    pub restart_pending: bool,
    /// `rm -f` is under way: remove once the current task is terminal.
    pub removing: bool,
    /// The current task reached RUNNING at least once.
    pub task_ran: bool,
    /// Launch attempts Mesos dropped for the current start.
    pub dropped_launches: u32,
    /// The launch phase.
    pub phase: Phase,
    /// The resources the spec needs, computed once.
    pub demand: Demand,
    /// start/restart requests to answer when the task runs (or fails).
    pub start_waiters: Vec<RequestId>,
    /// stop requests to answer when the task is terminal.
    pub stop_waiters: Vec<RequestId>,
    /// `rm -f` requests to answer when the container is gone.
    pub remove_waiters: Vec<RequestId>,
    /// wait requests.
    pub exit_waiters: Vec<(RequestId, WaitCondition)>,
    /// The signal of the last kill, for the `kill` event and the exit code.
    pub kill_signal: Option<String>,
    /// attach requests waiting for the task to run (foreground `docker run`, `start -a`).
    pub attach_waiters: Vec<RequestId>,
}

impl Entry {
    /// A fresh entry for a new or restored container.
    pub fn new(c: Container, demand: Demand) -> Entry {
        let task_ran = c.started_at.is_some() && c.has_live_task();
        Entry {
            c,
            want_running: false,
            restart_pending: false,
            removing: false,
            task_ran,
            dropped_launches: 0,
            phase: Phase::Settled,
            demand,
            start_waiters: Vec::new(),
            stop_waiters: Vec::new(),
            remove_waiters: Vec::new(),
            exit_waiters: Vec::new(),
            kill_signal: None,
            attach_waiters: Vec::new(),
        }
    }

    /// The current task's state, if any update arrived.
    pub fn task_state(&self) -> Option<TaskState> {
        self.c.task.as_ref().and_then(|t| t.state)
    }

    /// Recomputes `State.Status` from the task and the intentions.
    pub fn refresh_status(&mut self) {
        let state = self.task_state();
        let live = self.c.has_live_task();
        self.c.status = if self.removing {
            DockerStatus::Removing
        } else if self.restart_pending && self.c.started_at.is_some() {
            DockerStatus::Restarting
        } else if live && matches!(state, Some(TaskState::Running | TaskState::Killing)) {
            DockerStatus::Running
        } else if live && matches!(state, Some(TaskState::Unreachable)) && self.task_ran {
            // Mesos cannot see the agent; the task may well still run there.
            DockerStatus::Running
        } else if live || matches!(self.phase, Phase::Pending { .. } | Phase::Launching { .. }) {
            if self.c.finished_at.is_some() {
                DockerStatus::Exited
            } else {
                DockerStatus::Created
            }
        } else if self.c.finished_at.is_some() {
            if matches!(state, Some(TaskState::Gone | TaskState::GoneByOperator)) {
                DockerStatus::Dead
            } else {
                DockerStatus::Exited
            }
        } else {
            DockerStatus::Created
        };
    }
}

/// The exit code a terminal update means, as Docker would report it.
///
/// Mesos' Docker executor says "Container exited with status N" or "Container terminated
/// with signal S"; other terminal states have no process exit to report: 137 for a kill,
/// 255 when Mesos lost or never ran the task (what dockerd shows when it lost a process).
pub fn exit_code_of(state: TaskState, message: &str, killed_with: Option<&str>) -> i64 {
    if let Some(n) = parse_after(message, "exited with status ") {
        return n;
    }
    if let Some(rest) = message.split("terminated with signal ").nth(1) {
        if let Some(sig) = signal_number(rest.trim()) {
            return 128 + sig;
        }
    }
    match state {
        TaskState::Finished => 0,
        TaskState::Killed => match killed_with.and_then(signal_number) {
            Some(sig) => 128 + sig,
            None => 137,
        },
        TaskState::Failed => 1,
        _ => 255,
    }
}

fn parse_after(message: &str, prefix: &str) -> Option<i64> {
    let rest = message.split(prefix).nth(1)?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// The number of a signal written as `SIGTERM`, `TERM`, `15`, or glibc's `Terminated`.
pub fn signal_number(sig: &str) -> Option<i64> {
    if let Ok(n) = sig.parse::<i64>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let name = sig.trim_start_matches("SIG").to_ascii_uppercase();
    Some(match name.as_str() {
        "HUP" | "HANGUP" => 1,
        "INT" | "INTERRUPT" => 2,
        "QUIT" => 3,
        "KILL" | "KILLED" => 9,
        "USR1" => 10,
        "USR2" => 12,
        "TERM" | "TERMINATED" => 15,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_docker_executor_messages() {
        assert_eq!(
            exit_code_of(TaskState::Failed, "Container exited with status 3", None),
            3
        );
        assert_eq!(
            exit_code_of(
                TaskState::Killed,
                "Container terminated with signal Killed",
                None
            ),
            137
        );
        assert_eq!(
            exit_code_of(TaskState::Finished, "Container exited with status 0", None),
            0
        );
        assert_eq!(exit_code_of(TaskState::Finished, "", None), 0);
        assert_eq!(exit_code_of(TaskState::Killed, "", Some("SIGTERM")), 143);
        assert_eq!(exit_code_of(TaskState::Lost, "Agent removed", None), 255);
        assert_eq!(
            exit_code_of(TaskState::Failed, "Executor terminated", None),
            1
        );
    }

    #[test]
    fn signals_parse_in_every_spelling() {
        assert_eq!(signal_number("SIGKILL"), Some(9));
        assert_eq!(signal_number("term"), Some(15));
        assert_eq!(signal_number("2"), Some(2));
        assert_eq!(signal_number("BOGUS"), None);
        assert_eq!(signal_number("99"), None);
    }
}
