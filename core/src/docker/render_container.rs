//! A tracked container as `docker inspect` and `docker ps` show it.
//!
//! Choices where mesoswarm cannot know what dockerd would show:
//! * `Image` (inspect) is the reference the client gave (`busybox`), not a `sha256:` id:
//!   the image lives on the agents, and `ImageID` (ps) is `""`.
//! * `Driver` is `mesos` (there is no storage driver on the manager; `docker info` says the
//!   same), `Platform` `linux`, `Mounts` `[]`, `NetworkSettings.Networks` `{}` (an object, so
//!   docker-compose can look networks up in it), the `*Path` fields `""`.
//! * `Config.Env` holds the client's variables only (the image's are unknown), and
//!   `Config.Hostname` is the requested hostname (`""` when none was given).
//! * `NetworkSettings.Ports` (and ps `Ports`) are filled while a task is live, as dockerd
//!   fills them only for a running container: every exposed port maps to the host ports the
//!   task got from its offer on the agent's hostname, or to `null` when it is not published.

use std::collections::HashMap;

use bollard_stubs::models::{
    ContainerConfig, ContainerInspectResponse, ContainerState, ContainerStateStatusEnum,
    ContainerSummary, ContainerSummaryHostConfig, ContainerSummaryNetworkSettings,
    ContainerSummaryStateEnum, HostConfig, HostConfigLogConfig, NetworkSettings,
    PortBinding as BollardPortBinding, PortSummary, PortSummaryTypeEnum,
    RestartPolicy as BollardRestartPolicy, RestartPolicyNameEnum,
};

use crate::container::{Container, DockerStatus};
use crate::docker::humanize::human_duration;
use crate::docker::ports::port_key;
use crate::spec::{ContainerPort, ContainerSpec, PortProtocol};
use crate::time::{Instant, ZERO_RFC3339};

/// The logging driver shown when the client did not choose one (docker-py's `run()` only
/// returns output for `json-file` or `journald`).
const DEFAULT_LOG_DRIVER: &str = "json-file";

/// `docker inspect`'s body. `State`, `Config`, `HostConfig` and `NetworkSettings` are always
/// present: the docker CLI dereferences them and panics on a body without them.
pub fn container_inspect(c: &Container, now: Instant) -> ContainerInspectResponse {
    let _ = now; // inspect shows timestamps, not ages
    let spec = &c.spec;
    let (path, args) = path_and_args(spec);
    ContainerInspectResponse {
        id: Some(c.id.to_hex()),
        created: Some(c.created_at.to_rfc3339_nanos()),
        path: Some(path),
        args: Some(args),
        state: Some(state(c)),
        image: Some(spec.image.clone()),
        resolv_conf_path: Some(String::new()),
        hostname_path: Some(String::new()),
        hosts_path: Some(String::new()),
        log_path: Some(String::new()),
        name: Some(format!("/{}", c.name)),
        restart_count: Some(i64::from(c.restart_count)),
        driver: Some("mesos".to_string()),
        platform: Some("linux".to_string()),
        mount_label: Some(String::new()),
        process_label: Some(String::new()),
        app_armor_profile: Some(String::new()),
        host_config: Some(host_config(spec)),
        mounts: Some(Vec::new()),
        config: Some(config(spec)),
        network_settings: Some(NetworkSettings {
            ports: Some(port_map(c)),
            networks: Some(HashMap::new()),
            ..NetworkSettings::default()
        }),
        ..ContainerInspectResponse::default()
    }
}

/// `docker ps`'s row for a container.
pub fn container_summary(c: &Container, now: Instant) -> ContainerSummary {
    let spec = &c.spec;
    let (path, args) = path_and_args(spec);
    let command = if args.is_empty() {
        path
    } else {
        format!("{path} {}", args.join(" "))
    };
    ContainerSummary {
        id: Some(c.id.to_hex()),
        names: Some(vec![format!("/{}", c.name)]),
        image: Some(spec.image.clone()),
        image_id: Some(String::new()),
        command: Some(command),
        created: Some(i64::try_from(c.created_at.unix_secs()).unwrap_or(i64::MAX)),
        ports: Some(port_summaries(c)),
        labels: Some(
            spec.labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        state: Some(summary_state(c.status)),
        status: Some(status_text(c, now)),
        host_config: Some(ContainerSummaryHostConfig {
            network_mode: Some(spec.network.as_docker_str().to_string()),
            annotations: None,
        }),
        network_settings: Some(ContainerSummaryNetworkSettings {
            networks: Some(HashMap::new()),
        }),
        mounts: Some(Vec::new()),
        ..ContainerSummary::default()
    }
}

/// The STATUS column of `docker ps`, worded as dockerd's `State.String()`:
/// `Created`, `Up 5 minutes`, `Restarting (1) 2 seconds ago`, `Removal In Progress`,
/// `Dead`, `Exited (0) 3 seconds ago`.
///
/// An exited container that has no finish time (its task failed before Mesos ran it) counts
/// its age from its creation, where dockerd would show nothing.
pub fn status_text(c: &Container, now: Instant) -> String {
    let since =
        |t: Option<Instant>| human_duration(now.saturating_since(t.unwrap_or(c.created_at)));
    match c.status {
        DockerStatus::Created => "Created".to_string(),
        DockerStatus::Running => format!("Up {}", since(c.started_at)),
        DockerStatus::Restarting => {
            format!("Restarting ({}) {} ago", c.exit_code, since(c.finished_at))
        }
        DockerStatus::Removing => "Removal In Progress".to_string(),
        DockerStatus::Dead => "Dead".to_string(),
        DockerStatus::Exited => format!("Exited ({}) {} ago", c.exit_code, since(c.finished_at)),
    }
}

/// `Path` and `Args`: the entrypoint followed by the command, split at the first word
/// (`[""]` as entrypoint is Docker's "no entrypoint").
fn path_and_args(spec: &ContainerSpec) -> (String, Vec<String>) {
    let entrypoint = spec
        .entrypoint
        .as_deref()
        .filter(|e| *e != [String::new()])
        .unwrap_or(&[]);
    let mut argv = entrypoint
        .iter()
        .chain(spec.cmd.as_deref().unwrap_or(&[]))
        .cloned();
    let path = argv.next().unwrap_or_default();
    (path, argv.collect())
}

fn state(c: &Container) -> ContainerState {
    let running = match c.status {
        DockerStatus::Running | DockerStatus::Restarting => true,
        DockerStatus::Removing => c.has_live_task(),
        DockerStatus::Created | DockerStatus::Exited | DockerStatus::Dead => false,
    };
    let time =
        |t: Option<Instant>| t.map_or_else(|| ZERO_RFC3339.to_string(), Instant::to_rfc3339_nanos);
    ContainerState {
        status: Some(match c.status {
            DockerStatus::Created => ContainerStateStatusEnum::CREATED,
            DockerStatus::Running => ContainerStateStatusEnum::RUNNING,
            DockerStatus::Restarting => ContainerStateStatusEnum::RESTARTING,
            DockerStatus::Removing => ContainerStateStatusEnum::REMOVING,
            DockerStatus::Exited => ContainerStateStatusEnum::EXITED,
            DockerStatus::Dead => ContainerStateStatusEnum::DEAD,
        }),
        running: Some(running),
        paused: Some(false),
        restarting: Some(c.status == DockerStatus::Restarting),
        oom_killed: Some(false),
        dead: Some(c.status == DockerStatus::Dead),
        pid: Some(0),
        exit_code: Some(c.exit_code),
        error: Some(c.error.clone()),
        started_at: Some(time(c.started_at)),
        finished_at: Some(time(c.finished_at)),
        health: None,
    }
}

fn summary_state(s: DockerStatus) -> ContainerSummaryStateEnum {
    match s {
        DockerStatus::Created => ContainerSummaryStateEnum::CREATED,
        DockerStatus::Running => ContainerSummaryStateEnum::RUNNING,
        DockerStatus::Restarting => ContainerSummaryStateEnum::RESTARTING,
        DockerStatus::Removing => ContainerSummaryStateEnum::REMOVING,
        DockerStatus::Exited => ContainerSummaryStateEnum::EXITED,
        DockerStatus::Dead => ContainerSummaryStateEnum::DEAD,
    }
}

fn config(spec: &ContainerSpec) -> ContainerConfig {
    ContainerConfig {
        hostname: Some(spec.hostname.clone()),
        domainname: Some(spec.domainname.clone()),
        user: Some(spec.user.clone()),
        attach_stdin: Some(spec.attach_stdin),
        attach_stdout: Some(spec.attach_stdout),
        attach_stderr: Some(spec.attach_stderr),
        exposed_ports: Some(spec.exposed_ports.iter().map(|p| port_key(*p)).collect()),
        tty: Some(spec.tty),
        open_stdin: Some(spec.open_stdin),
        stdin_once: Some(spec.stdin_once),
        env: Some(spec.env.clone()),
        cmd: spec.cmd.clone(),
        image: Some(spec.image.clone()),
        working_dir: Some(spec.working_dir.clone()),
        entrypoint: spec.entrypoint.clone(),
        labels: Some(
            spec.labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        stop_signal: spec.stop_signal.clone(),
        stop_timeout: spec.stop_timeout_secs,
        ..ContainerConfig::default()
    }
}

fn host_config(spec: &ContainerSpec) -> HostConfig {
    let r = &spec.resources;
    let mut bindings: HashMap<String, Vec<BollardPortBinding>> = HashMap::new();
    for b in &spec.port_bindings {
        bindings
            .entry(port_key(b.container))
            .or_default()
            .push(BollardPortBinding {
                host_ip: Some(b.host_ip.clone()),
                host_port: Some(b.host_port.map(|p| p.to_string()).unwrap_or_default()),
            });
    }
    let non_empty = |v: &Vec<String>| if v.is_empty() { None } else { Some(v.clone()) };
    let log_driver = if spec.log_driver.is_empty() {
        DEFAULT_LOG_DRIVER
    } else {
        spec.log_driver.as_str()
    };
    HostConfig {
        cpu_shares: Some(r.cpu_shares),
        memory: Some(r.memory_bytes),
        cpu_period: Some(r.cpu_period),
        cpu_quota: Some(r.cpu_quota),
        nano_cpus: Some(r.nano_cpus),
        binds: non_empty(&spec.binds),
        log_config: Some(HostConfigLogConfig {
            typ: Some(log_driver.to_string()),
            config: Some(HashMap::new()),
        }),
        network_mode: Some(spec.network.as_docker_str().to_string()),
        port_bindings: Some(bindings.into_iter().map(|(k, v)| (k, Some(v))).collect()),
        restart_policy: Some(BollardRestartPolicy {
            name: Some(restart_policy_name(&spec.restart_policy.name)),
            maximum_retry_count: Some(spec.restart_policy.maximum_retry_count),
        }),
        auto_remove: Some(spec.auto_remove),
        cap_add: non_empty(&spec.cap_add),
        cap_drop: non_empty(&spec.cap_drop),
        dns: Some(spec.dns.clone()),
        extra_hosts: non_empty(&spec.extra_hosts),
        privileged: Some(spec.privileged),
        publish_all_ports: Some(spec.publish_all_ports),
        ..HostConfig::default()
    }
}

/// The policy name as dockerd ≥ 25 shows it (`""` is shown as `no`).
fn restart_policy_name(name: &str) -> RestartPolicyNameEnum {
    match name {
        "always" => RestartPolicyNameEnum::ALWAYS,
        "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
        "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
        _ => RestartPolicyNameEnum::NO,
    }
}

/// What a live task publishes: each container port to show with the host ports bound to
/// it, and the agent hostname they are bound on.
struct Published {
    rows: Vec<(ContainerPort, Vec<u16>)>,
    host: String,
}

/// The published ports, or `None` while no task is live (dockerd shows ports only for a
/// running container).
fn published(c: &Container) -> Option<Published> {
    if !c.has_live_task() {
        return None;
    }
    let task = c.task.as_ref()?;
    let mut ports: Vec<ContainerPort> = c.spec.exposed_ports.clone();
    ports.extend(task.host_ports.iter().map(|(p, _)| *p));
    ports.sort();
    ports.dedup();
    let rows = ports
        .into_iter()
        .map(|p| {
            (
                p,
                task.host_ports
                    .iter()
                    .filter(|(cp, _)| *cp == p)
                    .map(|(_, h)| *h)
                    .collect(),
            )
        })
        .collect();
    Some(Published {
        rows,
        host: task.agent_hostname.clone().unwrap_or_default(),
    })
}

fn port_map(c: &Container) -> HashMap<String, Option<Vec<BollardPortBinding>>> {
    let Some(Published { rows, host }) = published(c) else {
        return HashMap::new();
    };
    rows.into_iter()
        .map(|(p, hosts)| {
            let bindings: Vec<BollardPortBinding> = hosts
                .iter()
                .map(|h| BollardPortBinding {
                    host_ip: Some(host.clone()),
                    host_port: Some(h.to_string()),
                })
                .collect();
            (
                port_key(p),
                if bindings.is_empty() {
                    None
                } else {
                    Some(bindings)
                },
            )
        })
        .collect()
}

fn port_summaries(c: &Container) -> Vec<PortSummary> {
    let Some(Published { rows, host }) = published(c) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (p, hosts) in rows {
        let typ = Some(match p.protocol {
            PortProtocol::Tcp => PortSummaryTypeEnum::TCP,
            PortProtocol::Udp => PortSummaryTypeEnum::UDP,
            PortProtocol::Sctp => PortSummaryTypeEnum::SCTP,
        });
        if hosts.is_empty() {
            out.push(PortSummary {
                ip: None,
                private_port: p.port,
                public_port: None,
                typ,
            });
        }
        for h in hosts {
            out.push(PortSummary {
                ip: Some(host.clone()),
                private_port: p.port,
                public_port: Some(h),
                typ,
            });
        }
    }
    out
}
