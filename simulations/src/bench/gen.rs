//! Inputs for the benchmarks, generated before anything is timed: Mesos events as the v1
//! scheduler API carries them, and Docker requests either already typed
//! ([`DockerRequest`]) or as the raw HTTP requests the docker CLI sends.

use bytes::Bytes;
use mesoswarm_core::docker::request::DockerRequest;
use mesoswarm_core::spec::{ContainerSpec, ResourceRequest};
use mesoswarm_proto::scheduler::{event, Event};
use mesoswarm_proto::v1::{
    resource::AllocationInfo, task_status, value, AgentId, Attribute, FrameworkId, Offer, OfferId,
    Resource, TaskId, TaskState, TaskStatus,
};

/// The framework id every benchmark subscribes as (the shape of a real Mesos one).
pub const FRAMEWORK_ID: &str = "5f0e2c1a-7b3d-4c8e-9a6f-000000000b3e-0000";

/// The prefix of agent ids (`<prefix>-S<n>`, as Mesos writes them).
const AGENT_PREFIX: &str = "5f0e2c1a-7b3d-4c8e-9a6f-0000000a9e47";

/// Mesos' agent id of agent number `i`.
pub fn agent_id(i: usize) -> String {
    format!("{AGENT_PREFIX}-S{i}")
}

/// The agent number of an id made by [`agent_id`].
pub fn agent_index(id: &str) -> Option<usize> {
    id.rsplit_once("-S")?.1.parse().ok()
}

/// Mesos' offer id number `n`.
pub fn offer_id(n: u64) -> String {
    format!("{AGENT_PREFIX}-O{n}")
}

/// A task's resource shape: cpus in thousandths and mem in MB.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// `cpus` in thousandths.
    pub cpus_milli: i64,
    /// `mem` in MB (MiB for Docker's `-m`).
    pub mem_mb: i64,
}

impl Shape {
    /// `cpus` `c` thousandths, `mem` `m` MB.
    pub const fn new(cpus_milli: i64, mem_mb: i64) -> Shape {
        Shape { cpus_milli, mem_mb }
    }
}

/// The SUBSCRIBED event of a (re-)subscription.
pub fn subscribed() -> Event {
    Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: FrameworkId {
                value: FRAMEWORK_ID.into(),
            },
            heartbeat_interval_seconds: Some(15.0),
            master_info: None,
        }),
        ..Default::default()
    }
}

/// One OFFERS event carrying `offers`.
pub fn offers_event(offers: Vec<Offer>) -> Event {
    Event {
        r#type: Some(event::Type::Offers as i32),
        offers: Some(event::Offers { offers }),
        ..Default::default()
    }
}

#[allow(deprecated)] // Resource.role: Mesos 1.11 still sends it to non-hierarchical frameworks
fn resource(name: &str) -> Resource {
    Resource {
        name: name.into(),
        role: Some("*".into()),
        allocation_info: Some(AllocationInfo {
            role: Some("*".into()),
        }),
        ..Default::default()
    }
}

fn scalar(name: &str, v: f64) -> Resource {
    Resource {
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value: v }),
        ..resource(name)
    }
}

/// An offer of `cpus` (thousandths) and `mem` (thousandths of MB) on agent `agent`, with
/// the disk and port range a Mesos agent offers by default and a `rack` attribute.
pub fn offer(n: u64, agent: usize, cpus_milli: i64, mem_milli: i64, rack: usize) -> Offer {
    Offer {
        id: OfferId { value: offer_id(n) },
        framework_id: FrameworkId {
            value: FRAMEWORK_ID.into(),
        },
        agent_id: AgentId {
            value: agent_id(agent),
        },
        hostname: format!("agent-{agent}.cluster.test"),
        resources: vec![
            scalar("cpus", cpus_milli as f64 / 1000.0),
            scalar("mem", mem_milli as f64 / 1000.0),
            scalar("disk", 100_000.0),
            Resource {
                r#type: value::Type::Ranges as i32,
                ranges: Some(value::Ranges {
                    range: vec![value::Range {
                        begin: 31000,
                        end: 32000,
                    }],
                }),
                ..resource("ports")
            },
        ],
        attributes: vec![Attribute {
            name: "rack".into(),
            r#type: value::Type::Text as i32,
            text: Some(value::Text {
                value: format!("r{rack}"),
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The spec `docker create --name … --cpus C -m M <image> <cmd…>` yields, with one label.
pub fn spec(shape: Shape, image: &str, cmd: &[&str], label: (&str, &str)) -> ContainerSpec {
    ContainerSpec {
        image: image.into(),
        cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
        labels: [(label.0.to_string(), label.1.to_string())].into(),
        resources: ResourceRequest {
            nano_cpus: shape.cpus_milli * 1_000_000,
            memory_bytes: shape.mem_mb << 20,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A typed create request.
pub fn create(name: &str, spec: ContainerSpec) -> DockerRequest {
    DockerRequest::ContainerCreate {
        name: Some(name.into()),
        spec: Box::new(spec),
        warnings: Vec::new(),
    }
}

/// A typed start request, by name.
pub fn start(name: &str) -> DockerRequest {
    DockerRequest::ContainerStart {
        container: name.into(),
    }
}

/// `POST /v1.44/containers/create?name=<name>` with the body docker CLI 28 sends for
/// `docker create --name <name> --cpus C -m M busybox sleep 1000` (every `HostConfig` key
/// the CLI always sends, mostly zero).
pub fn http_create(name: &str, shape: Shape) -> http::Request<Bytes> {
    let body = format!(
        concat!(
            r#"{{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"#,
            r#""AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"#,
            r#""Cmd":["sleep","1000"],"Image":"busybox","Volumes":null,"WorkingDir":"","#,
            r#""Entrypoint":null,"OnBuild":null,"Labels":{{"bench":"s4"}},"#,
            r#""HostConfig":{{"Binds":null,"ContainerIDFile":"","LogConfig":{{"Type":"","Config":{{}}}},"#,
            r#""NetworkMode":"bridge","PortBindings":{{}},"RestartPolicy":{{"Name":"no","MaximumRetryCount":0}},"#,
            r#""AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[40,120],"#,
            r#""CapAdd":null,"CapDrop":null,"CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[],"#,
            r#""ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"#,
            r#""PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"#,
            r#""SecurityOpt":null,"UTSMode":"","UsernsMode":"","ShmSize":0,"Isolation":"","#,
            r#""CpuShares":0,"Memory":{mem},"NanoCpus":{nano},"CgroupParent":"","BlkioWeight":0,"#,
            r#""BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"#,
            r#""BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"#,
            r#""CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","#,
            r#""Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"#,
            r#""MemorySwap":0,"MemorySwappiness":null,"OomKillDisable":null,"PidsLimit":null,"#,
            r#""Ulimits":[],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"#,
            r#""MaskedPaths":null,"ReadonlyPaths":null}},"#,
            r#""NetworkingConfig":{{"EndpointsConfig":{{}}}}}}"#
        ),
        mem = shape.mem_mb << 20,
        nano = shape.cpus_milli * 1_000_000,
    );
    http::Request::builder()
        .method("POST")
        .uri(format!("/v1.44/containers/create?name={name}"))
        .header("content-type", "application/json")
        .body(Bytes::from(body))
        .expect("a valid request")
}

/// `POST /v1.44/containers/<name>/start`, as the CLI sends it.
pub fn http_start(name: &str) -> http::Request<Bytes> {
    http::Request::builder()
        .method("POST")
        .uri(format!("/v1.44/containers/{name}/start"))
        .body(Bytes::new())
        .expect("a valid request")
}

/// A status update for `task_id` on agent `agent`.
///
/// `uuid: Some(n)` makes it an executor update the manager must acknowledge, carrying the
/// docker inspect JSON the Docker executor attaches to TASK_RUNNING (about 4 KiB, see
/// [`super::inspect`]); `None` makes it the
/// master's answer to a reconciliation (no uuid, no data).
pub fn update(task_id: &str, agent: usize, state: TaskState, uuid: Option<u64>) -> Event {
    let (source, reason, data) = match uuid {
        Some(n) => (
            task_status::Source::Executor,
            None,
            Some(super::inspect::docker_inspect(
                &format!("{n:064x}"),
                task_id,
            )),
        ),
        None => (
            task_status::Source::Master,
            Some(task_status::Reason::Reconciliation as i32),
            None,
        ),
    };
    Event {
        r#type: Some(event::Type::Update as i32),
        update: Some(event::Update {
            status: TaskStatus {
                task_id: TaskId {
                    value: task_id.into(),
                },
                state: state as i32,
                source: Some(source as i32),
                reason,
                data,
                agent_id: Some(AgentId {
                    value: agent_id(agent),
                }),
                uuid: uuid.map(|n| n.to_le_bytes().repeat(2)),
                ..Default::default()
            },
        }),
        ..Default::default()
    }
}

/// A small seeded generator (SplitMix64) for shuffling workloads the same way every run.
#[derive(Clone, Debug)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesoswarm_core::docker::{route, Routed};

    #[test]
    fn http_requests_route_to_the_typed_requests_with_their_resources() {
        let Routed::Core { request, .. } = route(&http_create("web-1", Shape::new(100, 500)))
        else {
            panic!("create did not reach the core");
        };
        let DockerRequest::ContainerCreate { name, spec, .. } = request else {
            panic!("not a create: {request:?}");
        };
        assert_eq!(name.as_deref(), Some("web-1"));
        assert_eq!(spec.resources.nano_cpus, 100_000_000);
        assert_eq!(spec.resources.memory_bytes, 500 << 20);
        let Routed::Core { request, .. } = route(&http_start("web-1")) else {
            panic!("start did not reach the core");
        };
        assert_eq!(request, start("web-1"));
    }

    #[test]
    fn agent_ids_round_trip() {
        assert_eq!(agent_index(&agent_id(4711)), Some(4711));
    }
}
