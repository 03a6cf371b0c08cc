//! What a client asked for when it created a container, normalised from the Docker body.
//!
//! The Docker API layer (`docker::parse`) builds a [`ContainerSpec`] from a
//! `ContainerCreateBody`; the core turns it into a Mesos `TaskInfo` (`taskinfo`) and the
//! Docker API layer renders it back in `inspect` and `ps`. Only what mesoswarm uses or shows
//! is kept, in compact form, because the core holds one per tracked container.

use std::collections::BTreeMap;

/// A transport protocol of a container port.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum PortProtocol {
    /// `tcp`, Docker's default.
    Tcp,
    /// `udp`.
    Udp,
    /// `sctp`.
    Sctp,
}

impl PortProtocol {
    /// The lowercase name Docker uses in `80/tcp`.
    pub fn as_str(self) -> &'static str {
        match self {
            PortProtocol::Tcp => "tcp",
            PortProtocol::Udp => "udp",
            PortProtocol::Sctp => "sctp",
        }
    }
}

/// A container port with its protocol, as in `"80/tcp"`.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ContainerPort {
    /// The port inside the container.
    pub port: u16,
    /// Its protocol.
    pub protocol: PortProtocol,
}

/// One `-p` binding: a container port published on the agent.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PortBinding {
    /// The container side.
    pub container: ContainerPort,
    /// `HostIp` as given (empty when the client sent `""`).
    pub host_ip: String,
    /// `HostPort`: `None` when empty, which means "any free port of the offer".
    pub host_port: Option<u16>,
}

/// `HostConfig.NetworkMode`, mapped onto what Mesos' Docker containerizer knows.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum NetworkMode {
    /// `""`, `default` or `bridge`.
    #[default]
    Bridge,
    /// `host`.
    Host,
    /// `none`.
    None,
    /// A user-defined network, passed to the agent as a docker `--net` parameter.
    User(String),
}

impl NetworkMode {
    /// The `NetworkMode` text dockerd shows back in inspect and ps.
    pub fn as_docker_str(&self) -> &str {
        match self {
            NetworkMode::Bridge => "bridge",
            NetworkMode::Host => "host",
            NetworkMode::None => "none",
            NetworkMode::User(name) => name,
        }
    }
}

/// `HostConfig.RestartPolicy`. Mesos does not restart finished tasks itself; the policy is
/// kept and shown, and create answers with a warning when it is not `no`.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct RestartPolicy {
    /// `""`, `no`, `always`, `unless-stopped` or `on-failure`.
    pub name: String,
    /// `MaximumRetryCount`.
    pub maximum_retry_count: i64,
}

/// The resource fields of `HostConfig`, as the client sent them (0 = not given).
///
/// The core turns these into Mesos `cpus` and `mem` (see `taskinfo::requested_resources`):
/// cpus = NanoCpus / 1e9, else CpuQuota / CpuPeriod, else CpuShares / 1024, else the
/// configured default; mem = Memory in MiB, else the configured default.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ResourceRequest {
    /// `HostConfig.NanoCpus` (`--cpus 1.5` = 1_500_000_000).
    pub nano_cpus: i64,
    /// `HostConfig.CpuShares` (relative weight; 1024 = one cpu).
    pub cpu_shares: i64,
    /// `HostConfig.CpuPeriod` in microseconds.
    pub cpu_period: i64,
    /// `HostConfig.CpuQuota` in microseconds.
    pub cpu_quota: i64,
    /// `HostConfig.Memory` in bytes.
    pub memory_bytes: i64,
}

/// Everything about a container that came from its create request.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
// Fields added later default when an older store file is read.
#[serde(default)]
pub struct ContainerSpec {
    /// `Image`, as the client wrote it (`busybox`, `busybox:latest`, `reg:5000/x/y:tag`).
    pub image: String,
    /// `Cmd`; `None` keeps the image's default.
    pub cmd: Option<Vec<String>>,
    /// `Entrypoint`; `None` keeps the image's default.
    pub entrypoint: Option<Vec<String>>,
    /// `Env` entries, `K=V`.
    pub env: Vec<String>,
    /// `Labels` (sorted, so renders are deterministic).
    pub labels: BTreeMap<String, String>,
    /// `Hostname` ("" when not given).
    pub hostname: String,
    /// `Domainname` ("" when not given).
    pub domainname: String,
    /// `User` ("" when not given).
    pub user: String,
    /// `WorkingDir` ("" when not given).
    pub working_dir: String,
    /// `Tty`.
    pub tty: bool,
    /// `OpenStdin`.
    pub open_stdin: bool,
    /// `StdinOnce`.
    pub stdin_once: bool,
    /// `AttachStdin`.
    pub attach_stdin: bool,
    /// `AttachStdout`.
    pub attach_stdout: bool,
    /// `AttachStderr`.
    pub attach_stderr: bool,
    /// `StopSignal` (None = SIGTERM).
    pub stop_signal: Option<String>,
    /// `StopTimeout` in seconds (None = the default of 10).
    pub stop_timeout_secs: Option<i64>,
    /// `ExposedPorts` plus every bound port, sorted and without duplicates.
    pub exposed_ports: Vec<ContainerPort>,
    /// `HostConfig.PortBindings`, flattened, in a stable order.
    pub port_bindings: Vec<PortBinding>,
    /// `HostConfig.PublishAllPorts` (`-P`): every exposed port gets a host port from the offer.
    pub publish_all_ports: bool,
    /// `HostConfig.NetworkMode`.
    pub network: NetworkMode,
    /// CPU and memory as requested.
    pub resources: ResourceRequest,
    /// `HostConfig.Binds` (`/host:/ctr[:ro]` or `volume:/ctr`).
    pub binds: Vec<String>,
    /// `HostConfig.Privileged`.
    pub privileged: bool,
    /// `HostConfig.AutoRemove` (`--rm`): remove the container once its task is terminal.
    pub auto_remove: bool,
    /// `HostConfig.RestartPolicy`.
    pub restart_policy: RestartPolicy,
    /// `HostConfig.CapAdd`.
    pub cap_add: Vec<String>,
    /// `HostConfig.CapDrop`.
    pub cap_drop: Vec<String>,
    /// `HostConfig.Dns`.
    pub dns: Vec<String>,
    /// `HostConfig.ExtraHosts`.
    pub extra_hosts: Vec<String>,
    /// `HostConfig.LogConfig.Type` ("" = the engine's default, shown as `json-file`).
    pub log_driver: String,
}
