//! From a Docker container spec to what Mesos needs: the resource demand and the `TaskInfo`.

use mesoswarm_proto::v1::{
    command_info, container_info, container_info::docker_info, environment, AgentId, CommandInfo,
    ContainerInfo, DurationInfo, Environment, KillPolicy, Label, Labels, Parameter, TaskId,
    TaskInfo,
};

use crate::config::Config;
use crate::ids::ContainerId;
use crate::offers::{Demand, Taken};
use crate::resources::Milli;
use crate::spec::{ContainerPort, ContainerSpec, NetworkMode};

/// Docker label on the agent-side container: the manager's container id.
pub const LABEL_CONTAINER_ID: &str = "com.mesoswarm.container.id";
/// Docker label on the agent-side container: the container's name on the manager.
pub const LABEL_CONTAINER_NAME: &str = "com.mesoswarm.container.name";
/// Docker label on the agent-side container: the Mesos task id.
pub const LABEL_TASK_ID: &str = "com.mesoswarm.task.id";

/// Mesos `cpus` and `mem` for a spec: NanoCpus, else CpuQuota/CpuPeriod, else
/// CpuShares/1024, else the configured default; Memory in MiB (rounded up), else the
/// configured default.
pub fn requested_resources(spec: &ContainerSpec, config: &Config) -> (Milli, u64) {
    let r = &spec.resources;
    let cpus = if r.nano_cpus > 0 {
        Milli((r.nano_cpus as i128 * 1000 / 1_000_000_000).max(1) as i64)
    } else if r.cpu_quota > 0 && r.cpu_period > 0 {
        Milli(((r.cpu_quota as i128 * 1000) / r.cpu_period as i128).max(1) as i64)
    } else if r.cpu_shares > 0 {
        Milli(((r.cpu_shares as i128 * 1000) / 1024).max(1) as i64)
    } else {
        config.default_cpus
    };
    let mem_mib = if r.memory_bytes > 0 {
        (r.memory_bytes as u64).div_ceil(1 << 20)
    } else {
        config.default_mem_mib
    };
    (cpus, mem_mib)
}

/// The container ports that need a host port, in the order host ports are assigned:
/// explicit `-p` bindings first (with their fixed host port, if any), then with `-P` every
/// exposed port not bound explicitly.
pub fn published_ports(spec: &ContainerSpec) -> Vec<(ContainerPort, Option<u16>)> {
    if matches!(spec.network, NetworkMode::Host | NetworkMode::None) {
        return Vec::new();
    }
    let mut out: Vec<(ContainerPort, Option<u16>)> = spec
        .port_bindings
        .iter()
        .map(|b| (b.container, b.host_port))
        .collect();
    if spec.publish_all_ports {
        for p in &spec.exposed_ports {
            if !out.iter().any(|(c, _)| c == p) {
                out.push((*p, None));
            }
        }
    }
    out
}

/// What a spec needs from an offer.
pub fn demand(spec: &ContainerSpec, config: &Config) -> Demand {
    let (cpus, mem_mib) = requested_resources(spec, config);
    let ports = published_ports(spec);
    Demand {
        cpus,
        mem: Milli::from_units(mem_mib as i64),
        fixed_ports: ports.iter().filter_map(|(_, h)| h.map(u64::from)).collect(),
        any_ports: ports.iter().filter(|(_, h)| h.is_none()).count(),
    }
}

/// Host port for each published container port, in `published_ports` order, given the
/// ports `Taken` from the offer (fixed ones first, then the free ones).
pub fn assign_host_ports(spec: &ContainerSpec, taken: &Taken) -> Vec<(ContainerPort, u16)> {
    let ports = published_ports(spec);
    let fixed_count = ports.iter().filter(|(_, h)| h.is_some()).count();
    let mut any = taken.host_ports.iter().skip(fixed_count);
    ports
        .into_iter()
        .filter_map(|(c, h)| match h {
            Some(h) => Some((c, h)),
            None => any.next().map(|&p| (c, p as u16)),
        })
        .collect()
}

/// The task id of launch number `generation` of a container: `<container id>.<generation>`.
pub fn task_id_for(id: &ContainerId, generation: u32) -> String {
    format!("{}.{generation}", id.to_hex())
}

/// The container a task id belongs to, and the launch number.
pub fn parse_task_id(task_id: &str) -> Option<(ContainerId, u32)> {
    let (hex, gen) = task_id.split_once('.')?;
    Some((ContainerId::parse_hex(hex)?, gen.parse().ok()?))
}

/// Everything `build_task_info` needs about one placement.
pub struct Launch<'a> {
    /// The container.
    pub id: &'a ContainerId,
    /// Its name.
    pub name: &'a str,
    /// Its spec.
    pub spec: &'a ContainerSpec,
    /// The task id.
    pub task_id: &'a str,
    /// The agent of the offer.
    pub agent_id: &'a str,
    /// Resources taken from the offer.
    pub taken: &'a Taken,
    /// Host port of each published container port.
    pub host_ports: &'a [(ContainerPort, u16)],
    /// Grace period between SIGTERM and SIGKILL when Mesos kills the task.
    pub stop_grace_secs: u64,
}

/// The Mesos `TaskInfo` for a container: a DOCKER container run by the agent's built-in
/// Docker executor.
pub fn build_task_info(l: &Launch<'_>) -> TaskInfo {
    let spec = l.spec;
    let mut params: Vec<Parameter> = Vec::new();
    let mut param = |key: &str, value: String| {
        params.push(Parameter {
            key: key.into(),
            value,
        })
    };

    for (k, v) in &spec.labels {
        param("label", format!("{k}={v}"));
    }
    param("label", format!("{LABEL_CONTAINER_ID}={}", l.id.to_hex()));
    param("label", format!("{LABEL_CONTAINER_NAME}={}", l.name));
    param("label", format!("{LABEL_TASK_ID}={}", l.task_id));

    // Docker's --entrypoint takes one word; the rest of an entrypoint array goes in front of
    // the command's arguments, which gives the same argv.
    let mut args: Vec<String> = Vec::new();
    match &spec.entrypoint {
        Some(ep) if ep.is_empty() || (ep.len() == 1 && ep[0].is_empty()) => {
            param("entrypoint", String::new())
        }
        Some(ep) => {
            param("entrypoint", ep[0].clone());
            args.extend(ep[1..].iter().cloned());
        }
        None => {}
    }
    if let Some(cmd) = &spec.cmd {
        args.extend(cmd.iter().cloned());
    }
    if !spec.user.is_empty() {
        param("user", spec.user.clone());
    }
    if !spec.working_dir.is_empty() {
        param("workdir", spec.working_dir.clone());
    }
    for c in &spec.cap_add {
        param("cap-add", c.clone());
    }
    for c in &spec.cap_drop {
        param("cap-drop", c.clone());
    }
    for d in &spec.dns {
        param("dns", d.clone());
    }
    for h in &spec.extra_hosts {
        param("add-host", h.clone());
    }
    for b in &spec.binds {
        param("volume", b.clone());
    }
    if !spec.log_driver.is_empty() {
        param("log-driver", spec.log_driver.clone());
    }
    if let Some(sig) = &spec.stop_signal {
        param("stop-signal", sig.clone());
    }
    if spec.tty {
        param("tty", "true".into());
    }
    if spec.open_stdin {
        param("interactive", "true".into());
    }
    let network = match &spec.network {
        NetworkMode::Bridge => docker_info::Network::Bridge,
        NetworkMode::Host => docker_info::Network::Host,
        NetworkMode::None => docker_info::Network::None,
        NetworkMode::User(name) => {
            // Mesos' USER network needs a CNI network_infos entry; a docker `net` parameter
            // reaches a Docker user network directly and overrides the network mode.
            param("net", name.clone());
            docker_info::Network::Bridge
        }
    };

    let port_mappings = l
        .host_ports
        .iter()
        .map(|(c, h)| docker_info::PortMapping {
            host_port: u32::from(*h),
            container_port: u32::from(c.port),
            protocol: Some(c.protocol.as_str().into()),
        })
        .collect();

    let hostname = match (spec.hostname.as_str(), spec.domainname.as_str()) {
        ("", _) => None,
        (h, "") => Some(h.to_string()),
        (h, d) => Some(format!("{h}.{d}")),
    };

    let environment = (!spec.env.is_empty()).then(|| Environment {
        variables: spec
            .env
            .iter()
            .map(|kv| {
                let (name, value) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
                environment::Variable {
                    name: name.into(),
                    r#type: None,
                    value: Some(value.into()),
                    secret: None,
                }
            })
            .collect(),
    });

    let (value, arguments) = if args.is_empty() {
        (None, Vec::new())
    } else {
        (Some(args[0].clone()), args[1..].to_vec())
    };

    TaskInfo {
        name: l.name.to_string(),
        task_id: TaskId {
            value: l.task_id.to_string(),
        },
        agent_id: AgentId {
            value: l.agent_id.to_string(),
        },
        resources: l.taken.resources.clone(),
        command: Some(CommandInfo {
            uris: Vec::<command_info::Uri>::new(),
            environment,
            // shell=false: the arguments go to the image's entrypoint unchanged; with no
            // arguments the image's own command runs.
            shell: Some(false),
            value,
            arguments,
            user: None,
        }),
        container: Some(ContainerInfo {
            r#type: container_info::Type::Docker as i32,
            hostname,
            docker: Some(container_info::DockerInfo {
                image: spec.image.clone(),
                network: Some(network as i32),
                port_mappings,
                privileged: Some(spec.privileged),
                parameters: params,
                ..Default::default()
            }),
            ..Default::default()
        }),
        kill_policy: Some(KillPolicy {
            grace_period: Some(DurationInfo {
                nanoseconds: (l.stop_grace_secs as i64).saturating_mul(1_000_000_000),
            }),
        }),
        labels: Some(Labels {
            labels: vec![
                Label {
                    key: LABEL_CONTAINER_ID.into(),
                    value: Some(l.id.to_hex()),
                },
                Label {
                    key: LABEL_CONTAINER_NAME.into(),
                    value: Some(l.name.into()),
                },
            ],
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{PortBinding, PortProtocol, ResourceRequest};

    fn spec() -> ContainerSpec {
        ContainerSpec {
            image: "busybox".into(),
            ..Default::default()
        }
    }

    #[test]
    fn cpus_come_from_nanocpus_then_quota_then_shares_then_default() {
        let config = Config::default();
        let mut s = spec();
        assert_eq!(requested_resources(&s, &config), (Milli(100), 128));
        s.resources = ResourceRequest {
            cpu_shares: 512,
            ..Default::default()
        };
        assert_eq!(requested_resources(&s, &config).0, Milli(500));
        s.resources.cpu_quota = 150_000;
        s.resources.cpu_period = 100_000;
        assert_eq!(requested_resources(&s, &config).0, Milli(1500));
        s.resources.nano_cpus = 250_000_000;
        assert_eq!(requested_resources(&s, &config).0, Milli(250));
        s.resources.memory_bytes = 512 * 1024 * 1024 + 1;
        assert_eq!(requested_resources(&s, &config).1, 513);
    }

    #[test]
    fn task_ids_round_trip() {
        let id = ContainerId([7; 32]);
        let t = task_id_for(&id, 3);
        assert_eq!(parse_task_id(&t), Some((id, 3)));
        assert_eq!(parse_task_id("nope"), None);
    }

    #[test]
    fn published_ports_put_fixed_bindings_first_and_skip_host_networking() {
        let mut s = spec();
        let p80 = ContainerPort {
            port: 80,
            protocol: PortProtocol::Tcp,
        };
        let p53 = ContainerPort {
            port: 53,
            protocol: PortProtocol::Udp,
        };
        s.port_bindings = vec![
            PortBinding {
                container: p80,
                host_ip: String::new(),
                host_port: None,
            },
            PortBinding {
                container: p53,
                host_ip: String::new(),
                host_port: Some(31053),
            },
        ];
        let d = demand(&s, &Config::default());
        assert_eq!(d.fixed_ports, vec![31053]);
        assert_eq!(d.any_ports, 1);
        let taken = Taken {
            resources: vec![],
            host_ports: vec![31053, 31000],
        };
        assert_eq!(
            assign_host_ports(&s, &taken),
            vec![(p80, 31000), (p53, 31053)]
        );
        s.network = NetworkMode::Host;
        assert_eq!(demand(&s, &Config::default()).any_ports, 0);
    }
}
