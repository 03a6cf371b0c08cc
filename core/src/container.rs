//! A container as the manager tracks it: its spec, its Docker-visible state and its task.

use crate::ids::ContainerId;
use crate::spec::{ContainerPort, ContainerSpec};
use crate::task_state::TaskState;
use crate::time::Instant;

/// `State.Status` as Docker clients know it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DockerStatus {
    /// Never started, or started and still waiting for its task to run.
    Created,
    /// The task is running (or being killed).
    Running,
    /// Being restarted: the old task is being killed, a new one follows.
    Restarting,
    /// `rm -f` was asked: the task is being killed, the container goes when it is terminal.
    Removing,
    /// The task ended.
    Exited,
    /// The task was lost in a way Mesos could not explain (for example GONE) .
    Dead,
}

impl DockerStatus {
    /// The lowercase text dockerd uses (`created`, `running`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            DockerStatus::Created => "created",
            DockerStatus::Running => "running",
            DockerStatus::Restarting => "restarting",
            DockerStatus::Removing => "removing",
            DockerStatus::Exited => "exited",
            DockerStatus::Dead => "dead",
        }
    }
}

/// The Mesos task that runs (or ran) a container.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TaskRecord {
    /// `TaskID.value`: `<container id hex>.<generation>`, never reused.
    pub task_id: String,
    /// Which launch of this container it is (1 for the first start, +1 per restart).
    pub generation: u32,
    /// The agent it was placed on (`None` while waiting for an offer).
    pub agent_id: Option<String>,
    /// That agent's hostname, from the offer (where the agent's Docker engine is).
    pub agent_hostname: Option<String>,
    /// The latest state Mesos reported (`None` before the first update).
    pub state: Option<TaskState>,
    /// That agent's `docker_port` attribute: its engine listens there instead of on the
    /// cluster's `mesos.dockerport`.
    #[serde(default)]
    pub agent_docker_port: Option<u16>,
    /// The agent-side Docker container id, from the docker inspect JSON in `TaskStatus.data`.
    pub docker_id: Option<String>,
    /// Host ports taken from the offer for each published container port.
    pub host_ports: Vec<(ContainerPort, u16)>,
    /// Mesos `cpus` launched, in thousandths.
    pub cpus_milli: u64,
    /// Mesos `mem` launched, in MiB.
    pub mem_mib: u64,
    /// The last message Mesos attached to an update (`TaskStatus.message`).
    pub message: String,
}

/// One container the manager tracks.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Container {
    /// Its id.
    pub id: ContainerId,
    /// Its name, without Docker's leading `/`.
    pub name: String,
    /// What the client asked for.
    pub spec: ContainerSpec,
    /// When it was created.
    pub created_at: Instant,
    /// `State.Status`.
    pub status: DockerStatus,
    /// When its current (or last) task started running.
    pub started_at: Option<Instant>,
    /// When its last task ended.
    pub finished_at: Option<Instant>,
    /// `State.ExitCode` of the last task (0 before any).
    pub exit_code: i64,
    /// `State.Error`: why the last task failed, as Mesos said it ("" if it did not).
    pub error: String,
    /// `RestartCount`.
    pub restart_count: u32,
    /// The current or last task.
    pub task: Option<TaskRecord>,
}

impl Container {
    /// True while a task exists that Mesos has not reported terminal. TASK_UNKNOWN ends
    /// it too: Mesos has no record of the task, so nothing would ever report it ended.
    pub fn has_live_task(&self) -> bool {
        self.task
            .as_ref()
            .is_some_and(|t| !t.state.is_some_and(TaskState::is_over))
    }
}
