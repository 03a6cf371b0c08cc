//! Docker API requests after routing and parsing: what the state machine acts on.
//!
//! `docker::route` turns an `http::Request` into either an immediate answer (ping, version,
//! unknown routes, errors in the request itself) or one of these typed requests.

use crate::container::DockerStatus;
use crate::docker::proxy_route::ProxyOp;
use crate::spec::ContainerSpec;
use crate::time::Instant;

/// The shell's handle for one HTTP request, echoed on its response.
pub type RequestId = u64;

/// `condition` of `POST /containers/{id}/wait`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum WaitCondition {
    /// `not-running` (the default): answer at once if not running, else at the next exit.
    NotRunning,
    /// `next-exit`: answer at the next exit, even if the container is stopped now.
    NextExit,
    /// `removed`: answer when the container is removed.
    Removed,
}

/// A `label` filter: `key` or `key=value`, optionally negated with `!=`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelFilter {
    /// The label key.
    pub key: String,
    /// The value it must have (`None`: any value, the key only has to exist).
    pub value: Option<String>,
    /// `key!=value`: the label must not have this value.
    pub negate: bool,
}

/// Filters of `GET /containers/json`. Keys are AND-ed; values of one key are OR-ed, except
/// `label`, whose values must all match (dockerd does so, and docker-compose relies on it).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ContainerFilters {
    /// `status=running` …
    pub status: Vec<DockerStatus>,
    /// `name=web` (substring of the name, as dockerd's regexp match mostly behaves).
    pub name: Vec<String>,
    /// `id=abc` (prefix of the full id).
    pub id: Vec<String>,
    /// `label=k` / `label=k=v` / `label=k!=v`.
    pub label: Vec<LabelFilter>,
    /// `ancestor=busybox` (the image name, with or without `:latest`).
    pub ancestor: Vec<String>,
    /// `exited=3`.
    pub exited: Vec<i64>,
}

/// Query of `GET /containers/json`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ListQuery {
    /// `all=1`: include containers that are not running.
    pub all: bool,
    /// `limit=N`: the N most recently created (implies all); `None` or `-1` means no limit.
    pub limit: Option<usize>,
    /// `size=1` (accepted; sizes are reported as 0).
    pub size: bool,
    /// `filters=`.
    pub filters: ContainerFilters,
}

/// Filters of `GET /events`. Keys are AND-ed; values of one key are OR-ed, except `label`,
/// whose values must all match.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct EventFilters {
    /// `type=container` (mesoswarm emits container events only).
    pub event_type: Vec<String>,
    /// `event=start` (the action).
    pub event: Vec<String>,
    /// `container=<name or id>`.
    pub container: Vec<String>,
    /// `image=busybox`.
    pub image: Vec<String>,
    /// `label=k=v`.
    pub label: Vec<LabelFilter>,
}

/// Query of `GET /events`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct EventsQuery {
    /// Replay buffered events from this time.
    pub since: Option<Instant>,
    /// End the stream at this time.
    pub until: Option<Instant>,
    /// `filters=`.
    pub filters: EventFilters,
}

/// A Docker API request the state machine answers.
///
/// `container` fields hold the reference as the client wrote it: a name (with or without
/// `/`), a full id or a unique id prefix; the core resolves it.
#[derive(Clone, Debug, PartialEq)]
pub enum DockerRequest {
    /// `GET /info`.
    Info,
    /// `POST /containers/create`.
    ContainerCreate {
        /// `?name=` (validated, leading `/` stripped), `None` for a generated name.
        name: Option<String>,
        /// The parsed body.
        spec: Box<ContainerSpec>,
        /// What parsing dropped or cannot honour, for the answer's `Warnings`.
        warnings: Vec<String>,
    },
    /// `POST /containers/{id}/start`.
    ContainerStart {
        /// The container reference.
        container: String,
    },
    /// `POST /containers/{id}/stop`.
    ContainerStop {
        /// The container reference.
        container: String,
        /// `t=` seconds before SIGKILL (`None`: the container's StopTimeout, else 10).
        timeout_secs: Option<i64>,
        /// `signal=`.
        signal: Option<String>,
    },
    /// `POST /containers/{id}/restart`.
    ContainerRestart {
        /// The container reference.
        container: String,
        /// `t=`.
        timeout_secs: Option<i64>,
        /// `signal=`.
        signal: Option<String>,
    },
    /// `POST /containers/{id}/kill`.
    ContainerKill {
        /// The container reference.
        container: String,
        /// `signal=` (`None`: SIGKILL).
        signal: Option<String>,
    },
    /// `DELETE /containers/{id}`.
    ContainerRemove {
        /// The container reference.
        container: String,
        /// `force=1`: kill a running container first.
        force: bool,
        /// `v=1` (accepted; there are no anonymous volumes to remove on the manager).
        volumes: bool,
    },
    /// `POST /containers/{id}/wait`.
    ContainerWait {
        /// The container reference.
        container: String,
        /// `condition=`.
        condition: WaitCondition,
    },
    /// Where a container runs, for an operation its agent's engine answers (see
    /// [`crate::docker::proxy_route`]). An attach to a container that is not running yet
    /// is answered [`crate::docker::DockerResponse::LocatePending`] at once and
    /// [`crate::docker::DockerResponse::Located`] when it runs.
    Locate {
        /// The container reference.
        container: String,
        /// The operation.
        op: ProxyOp,
    },
    /// The engines of the agents the manager knows (with running tasks or held offers), for
    /// requests about images, which live on the agents.
    Engines,
    /// `POST /containers/{id}/update` with nothing to change (the route refuses changes:
    /// Mesos fixes a task's resources at launch).
    ContainerUpdate {
        /// The container reference.
        container: String,
    },
    /// `GET /containers/{id}/json`.
    ContainerInspect {
        /// The container reference.
        container: String,
        /// `size=1`.
        size: bool,
    },
    /// `GET /containers/json`.
    ContainerList(ListQuery),
    /// `POST /containers/{id}/rename`.
    ContainerRename {
        /// The container reference.
        container: String,
        /// `name=` (validated, leading `/` stripped).
        new_name: String,
    },
    /// `GET /events`.
    Events(EventsQuery),
}
