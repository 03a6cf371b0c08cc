//! Mesos task states, and which transitions the manager accepts.

/// `mesos.v1.TaskState`, with the same numbers.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[repr(i32)]
pub enum TaskState {
    /// TASK_STARTING (0).
    Starting = 0,
    /// TASK_RUNNING (1).
    Running = 1,
    /// TASK_FINISHED (2).
    Finished = 2,
    /// TASK_FAILED (3).
    Failed = 3,
    /// TASK_KILLED (4).
    Killed = 4,
    /// TASK_LOST (5). Terminal for accounting, yet a task can come back from it.
    Lost = 5,
    /// TASK_STAGING (6).
    Staging = 6,
    /// TASK_ERROR (7).
    Error = 7,
    /// TASK_KILLING (8).
    Killing = 8,
    /// TASK_DROPPED (9).
    Dropped = 9,
    /// TASK_UNREACHABLE (10).
    Unreachable = 10,
    /// TASK_GONE (11).
    Gone = 11,
    /// TASK_GONE_BY_OPERATOR (12).
    GoneByOperator = 12,
    /// TASK_UNKNOWN (13).
    Unknown = 13,
}

impl TaskState {
    /// The state with Mesos number `n`.
    pub fn from_i32(n: i32) -> Option<TaskState> {
        use TaskState::*;
        Some(match n {
            0 => Starting,
            1 => Running,
            2 => Finished,
            3 => Failed,
            4 => Killed,
            5 => Lost,
            6 => Staging,
            7 => Error,
            8 => Killing,
            9 => Dropped,
            10 => Unreachable,
            11 => Gone,
            12 => GoneByOperator,
            13 => Unknown,
            _ => return None,
        })
    }

    /// Terminal as Mesos defines it (`protobuf::isTerminalState`).
    pub fn is_terminal(self) -> bool {
        use TaskState::*;
        matches!(
            self,
            Finished | Failed | Killed | Lost | Error | Dropped | Gone | GoneByOperator
        )
    }

    /// The task no longer counts as running for the manager: terminal, or UNKNOWN (the
    /// master has no record of it; it may come back, but nothing will end it).
    pub fn is_over(self) -> bool {
        self.is_terminal() || self == TaskState::Unknown
    }

    /// The `TASK_*` name.
    pub fn name(self) -> &'static str {
        use TaskState::*;
        match self {
            Starting => "TASK_STARTING",
            Running => "TASK_RUNNING",
            Finished => "TASK_FINISHED",
            Failed => "TASK_FAILED",
            Killed => "TASK_KILLED",
            Lost => "TASK_LOST",
            Staging => "TASK_STAGING",
            Error => "TASK_ERROR",
            Killing => "TASK_KILLING",
            Dropped => "TASK_DROPPED",
            Unreachable => "TASK_UNREACHABLE",
            Gone => "TASK_GONE",
            GoneByOperator => "TASK_GONE_BY_OPERATOR",
            Unknown => "TASK_UNKNOWN",
        }
    }

    /// Whether an update from `self` to `next` is one the manager applies.
    ///
    /// Mesos delivers updates at least once and reconciliation may repeat old ones, so an
    /// update that would move a task backwards (RUNNING → STARTING) is stale and ignored.
    /// A terminal state is final except for the ones Mesos itself says can be wrong: a task
    /// reported LOST, UNREACHABLE, UNKNOWN or GONE_BY_OPERATOR can come back when its agent
    /// re-registers.
    pub fn accepts(self, next: TaskState) -> bool {
        use TaskState::*;
        if self == next {
            return false;
        }
        match self {
            Finished | Failed | Killed | Error | Dropped | Gone => false,
            Lost | GoneByOperator | Unreachable | Unknown => true,
            Staging => true,
            Starting => next != Staging,
            Running => !matches!(next, Staging | Starting),
            Killing => !matches!(next, Staging | Starting | Running),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TaskState::*;
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for n in 0..14 {
            assert_eq!(TaskState::from_i32(n).unwrap() as i32, n);
        }
        assert_eq!(TaskState::from_i32(14), None);
    }

    #[test]
    fn final_states_stay_final_and_updates_never_go_back() {
        assert!(!Finished.accepts(Running));
        assert!(!Killed.accepts(Failed));
        assert!(!Running.accepts(Starting));
        assert!(!Running.accepts(Running));
        assert!(Running.accepts(Killing));
        assert!(Killing.accepts(Killed));
        assert!(!Killing.accepts(Running));
        // A lost agent can come back with its tasks still running.
        assert!(Lost.accepts(Running));
        assert!(Unreachable.accepts(Running));
        assert!(Staging.accepts(Failed));
    }
}
