//! Answers of the state machine to Docker API requests, before they become HTTP.

use bollard_stubs::models::{ContainerInspectResponse, ContainerSummary, SystemInfo};

use crate::docker::error::ApiError;
use crate::events::DockerEvent;
use crate::ids::ContainerId;

/// Where a container's agent-side Docker container is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The manager's container id (what clients see).
    pub id: ContainerId,
    /// Its name, without the leading `/`.
    pub name: String,
    /// The agent's hostname (its engine listens there).
    pub agent_hostname: String,
    /// The agent's `docker_port` attribute, if it has one.
    pub agent_docker_port: Option<u16>,
    /// The container's id on the agent's engine.
    pub docker_id: String,
    /// Whether the container has a TTY (raw stream instead of stdcopy frames).
    pub tty: bool,
    /// Whether its task is running (Mesos' view).
    pub running: bool,
}

/// An answer to one [`crate::docker::request::DockerRequest`].
#[derive(Clone, Debug, PartialEq)]
pub enum DockerResponse {
    /// 201 `{"Id": ..., "Warnings": [...]}` (create).
    Created {
        /// The new container's id.
        id: ContainerId,
        /// Warnings, for example about settings Mesos cannot honour.
        warnings: Vec<String>,
    },
    /// 204 with no body (start, stop, kill, restart, rm, rename).
    NoContent,
    /// 304 with no body (start of a running container, stop of a stopped one).
    NotModified,
    /// 200 inspect body.
    Inspect(Box<ContainerInspectResponse>),
    /// 200 `docker ps` body.
    List(Vec<ContainerSummary>),
    /// 200 `docker info` body.
    Info(Box<SystemInfo>),
    /// 200 status and headers of a wait, to be flushed at once; a [`DockerResponse::WaitDone`]
    /// for the same request follows when the condition is met.
    WaitPending,
    /// The body of a wait: `{"StatusCode": n, "Error": null | {"Message": ...}}`.
    WaitDone {
        /// The container's exit code.
        status_code: i64,
        /// Why waiting ended in an error, if it did.
        error: Option<String>,
    },
    /// 200 start of an events stream, with the buffered events `since` asked for. Live
    /// events follow as `Output::Event`; the shell filters them with the request's
    /// `EventFilters` and ends the stream at `until`.
    Events(Vec<DockerEvent>),
    /// Where the container runs: the shell proxies the request to that engine.
    Located(Box<Location>),
    /// An attach to a container that is not running yet: the shell answers 101 now and
    /// bridges the stream when [`DockerResponse::Located`] follows (or writes the error that
    /// follows instead).
    LocatePending {
        /// Whether the container has a TTY (raw stream instead of stdcopy frames).
        tty: bool,
    },
    /// The container never ran on an agent, so no engine has it (logs are empty, a stats
    /// sample has only the name and id, other operations are a conflict).
    NotOnAgent {
        /// The manager's container id.
        id: ContainerId,
        /// Its name, without the leading `/`.
        name: String,
        /// Whether it has a TTY.
        tty: bool,
    },
    /// The engines of the known agents: `(hostname, docker_port attribute)`, sorted.
    Engines(Vec<(String, Option<u16>)>),
    /// 200 `{"Warnings": []}` (an update with nothing to change).
    Updated,
    /// An error.
    Error(ApiError),
}

impl From<ApiError> for DockerResponse {
    fn from(e: ApiError) -> Self {
        DockerResponse::Error(e)
    }
}

/// What `docker info` shows about the cluster, gathered by the core for rendering.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct InfoView {
    /// Containers tracked, by state.
    pub containers_running: u64,
    /// Containers created or stopped.
    pub containers_stopped: u64,
    /// Containers paused (always 0 under Mesos).
    pub containers_paused: u64,
    /// Whether the manager is subscribed to a Mesos master right now.
    pub connected: bool,
    /// The master it talks to, if known (`host:port`).
    pub master: Option<String>,
    /// The framework id Mesos gave us, if any.
    pub framework_id: Option<String>,
    /// Containers waiting for resources.
    pub pending: u64,
    /// Offers held right now, sorted by offer id.
    pub offers: Vec<OfferView>,
    /// The manager's name (`Name`).
    pub name: String,
}

/// One held offer as `docker info` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferView {
    /// `OfferID.value`.
    pub id: String,
    /// The agent's hostname.
    pub hostname: String,
    /// Unreserved plus reserved `cpus`, in thousandths.
    pub cpus_milli: u64,
    /// `mem` in MiB.
    pub mem_mib: u64,
    /// `disk` in MiB.
    pub disk_mib: u64,
    /// `ports` ranges, inclusive.
    pub ports: Vec<(u64, u64)>,
}
