//! A Mesos `TaskInfo` with a DOCKER `ContainerInfo` → the name and body of the Docker
//! engine's `POST /containers/create`, with the meaning Mesos' Docker containerizer gives
//! each field when it turns the task into `docker run` flags.

use mesoswarm_proto::v1::{
    container_info, container_info::docker_info, environment, volume, CommandInfo, TaskInfo,
};
use serde_json::{json, Map, Value};

/// Label on every container the dev agent runs: the Mesos task it belongs to.
pub const LABEL_MESOS_TASK_ID: &str = "MESOS_TASK_ID";
/// Mesos gives no container less memory than this (`MIN_MEMORY`, 32 MB).
pub const MIN_MEMORY_BYTES: u64 = 32 << 20;
/// Mesos gives no container fewer CPU shares than this (`MIN_CPU_SHARES`).
pub const MIN_CPU_SHARES: u64 = 2;
/// CPU shares per Mesos `cpus` (`CPU_SHARES_PER_CPU`).
pub const CPU_SHARES_PER_CPU: f64 = 1024.0;

/// What to send to the engine to create a task's container.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateRequest {
    /// The container's name on the engine: `mesos-<ContainerID>`.
    pub name: String,
    /// The image reference, as the task names it.
    pub image: String,
    /// The JSON body of `POST /containers/create`.
    pub body: Value,
    /// What was ignored (unknown `docker run` parameters, unsupported fields), for the log.
    pub warnings: Vec<String>,
}

/// The engine-side name of the container with this Mesos ContainerID (Mesos' Docker
/// containerizer prefixes it with `mesos-`).
pub fn container_name(container_id: &str) -> String {
    format!("mesos-{container_id}")
}

/// Translates a task. An error says why the task cannot run as a Docker container.
pub fn create_request(task: &TaskInfo, container_id: &str) -> Result<CreateRequest, String> {
    let container = task
        .container
        .as_ref()
        .ok_or("the task has no ContainerInfo (only DOCKER containers can run here)")?;
    if container.r#type != container_info::Type::Docker as i32 {
        return Err("the task's ContainerInfo is not of type DOCKER".into());
    }
    let docker = container
        .docker
        .as_ref()
        .ok_or("the task's ContainerInfo has no DockerInfo")?;
    let image = docker.image.trim().to_string();
    if image.is_empty() {
        return Err("the task's DockerInfo names no image".into());
    }

    let mut b = Body::default();
    b.config.insert("Image".into(), json!(image));
    if let Some(command) = &task.command {
        b.command(command);
    }
    if let Some(h) = container.hostname.as_deref().filter(|h| !h.is_empty()) {
        b.config.insert("Hostname".into(), json!(h));
    }
    if container.tty_info.is_some() {
        b.config.insert("Tty".into(), json!(true));
    }

    // Labels: the task's own, then the `label` parameters, then the task id, which ties the
    // container to its task and must not be overridden.
    if let Some(labels) = &task.labels {
        for l in &labels.labels {
            b.labels
                .insert(l.key.clone(), json!(l.value.clone().unwrap_or_default()));
        }
    }

    let mut mode = match docker
        .network
        .and_then(|n| docker_info::Network::try_from(n).ok())
    {
        // DockerInfo.network defaults to HOST in Mesos' proto.
        None | Some(docker_info::Network::Host) => Some("host".to_string()),
        Some(docker_info::Network::Bridge) => Some("bridge".to_string()),
        Some(docker_info::Network::None) => Some("none".to_string()),
        Some(docker_info::Network::User) => container
            .network_infos
            .iter()
            .find_map(|n| n.name.clone().filter(|n| !n.is_empty())),
    };
    // ContainerInfo volumes come before the parameters, as Mesos orders its `-v` flags.
    for v in &container.volumes {
        let read_only = v.mode == volume::Mode::Ro as i32;
        match v.host_path.as_deref() {
            Some(host) if host.starts_with('/') => {
                let mode = if read_only { "ro" } else { "rw" };
                b.binds
                    .push(json!(format!("{host}:{}:{mode}", v.container_path)));
            }
            Some(host) => b.warnings.push(format!(
                "volume {host}:{} ignored: a path relative to the sandbox needs a Mesos sandbox, \
                 which the dev agent does not have",
                v.container_path
            )),
            None => {
                b.volumes.insert(v.container_path.clone(), json!({}));
            }
        }
    }

    for p in &docker.parameters {
        if let Some(net) = b.parameter(&p.key, &p.value) {
            mode = Some(net);
        }
    }
    let mode = mode
        .ok_or("the USER network needs a network name (a NetworkInfo name or a `net` parameter)")?;
    b.labels
        .insert(LABEL_MESOS_TASK_ID.into(), json!(task.task_id.value));

    if !docker.port_mappings.is_empty() {
        if mode == "host" || mode == "none" {
            return Err(format!(
                "port mappings need a bridge or user-defined network, not `{mode}`"
            ));
        }
        let mut bindings = Map::new();
        let mut exposed = Map::new();
        for m in &docker.port_mappings {
            let protocol = m
                .protocol
                .as_deref()
                .filter(|p| !p.is_empty())
                .unwrap_or("tcp")
                .to_ascii_lowercase();
            let key = format!("{}/{protocol}", m.container_port);
            let entry = bindings.entry(key.clone()).or_insert_with(|| json!([]));
            if let Some(list) = entry.as_array_mut() {
                list.push(json!({"HostIp": "", "HostPort": m.host_port.to_string()}));
            }
            exposed.insert(key, json!({}));
        }
        b.host
            .insert("PortBindings".into(), Value::Object(bindings));
        b.config
            .insert("ExposedPorts".into(), Value::Object(exposed));
    }
    b.host.insert("NetworkMode".into(), json!(mode));
    b.host.insert(
        "Privileged".into(),
        json!(docker.privileged.unwrap_or(false)),
    );

    let (cpus, mem_mib) = scalars(task);
    if let Some(mem) = mem_mib {
        let bytes = ((mem * 1024.0 * 1024.0) as u64).max(MIN_MEMORY_BYTES);
        b.host.insert("Memory".into(), json!(bytes));
    }
    if let Some(cpus) = cpus {
        let shares = ((cpus * CPU_SHARES_PER_CPU) as u64).max(MIN_CPU_SHARES);
        b.host.insert("CpuShares".into(), json!(shares));
    }

    Ok(b.finish(container_name(container_id), image))
}

/// The task's `cpus` and `mem` (MiB), summed over its resources (reservations split them).
fn scalars(task: &TaskInfo) -> (Option<f64>, Option<f64>) {
    let mut cpus = None;
    let mut mem = None;
    for r in &task.resources {
        let Some(s) = &r.scalar else { continue };
        match r.name.as_str() {
            "cpus" => *cpus.get_or_insert(0.0) += s.value,
            "mem" => *mem.get_or_insert(0.0) += s.value,
            _ => {}
        }
    }
    (cpus, mem)
}

/// The create body being built.
#[derive(Default)]
struct Body {
    config: Map<String, Value>,
    host: Map<String, Value>,
    labels: Map<String, Value>,
    env: Vec<Value>,
    binds: Vec<Value>,
    volumes: Map<String, Value>,
    cap_add: Vec<Value>,
    cap_drop: Vec<Value>,
    dns: Vec<Value>,
    extra_hosts: Vec<Value>,
    log_driver: Option<String>,
    log_opts: Map<String, Value>,
    warnings: Vec<String>,
}

impl Body {
    /// The command: with `shell` (Mesos' default) `/bin/sh -c value`, else `value` followed
    /// by the arguments, given to the image's entrypoint; no value keeps the image's command.
    fn command(&mut self, command: &CommandInfo) {
        let mut cmd: Vec<String> = Vec::new();
        if command.shell.unwrap_or(true) {
            if let Some(v) = &command.value {
                // Mesos overrides the entrypoint so that the shell runs the command (MESOS-1770).
                self.config.insert("Entrypoint".into(), json!(["/bin/sh"]));
                cmd.push("-c".into());
                cmd.push(v.clone());
            }
        } else if let Some(v) = &command.value {
            cmd.push(v.clone());
        }
        cmd.extend(command.arguments.iter().cloned());
        if !cmd.is_empty() {
            self.config.insert("Cmd".into(), json!(cmd));
        }
        if let Some(env) = &command.environment {
            for v in &env.variables {
                if v.r#type == Some(environment::variable::Type::Secret as i32) {
                    self.warnings.push(format!(
                        "environment variable {} ignored: secrets are not supported",
                        v.name
                    ));
                    continue;
                }
                let value = v.value.as_deref().unwrap_or("");
                self.env.push(json!(format!("{}={value}", v.name)));
            }
        }
        if let Some(user) = command.user.as_deref().filter(|u| !u.is_empty()) {
            self.config.insert("User".into(), json!(user));
        }
    }

    /// One `docker run --key=value` parameter. Returns a network mode when the parameter
    /// sets one (it overrides DockerInfo's network, as the later flag wins in `docker run`).
    fn parameter(&mut self, key: &str, value: &str) -> Option<String> {
        match key {
            "label" | "l" => {
                let (k, v) = value.split_once('=').unwrap_or((value, ""));
                self.labels.insert(k.into(), json!(v));
            }
            "entrypoint" => {
                // `--entrypoint ""` clears the image's entrypoint: the CLI sends [""].
                self.config.insert("Entrypoint".into(), json!([value]));
            }
            "env" | "e" => self.env.push(json!(value)),
            "user" | "u" => {
                self.config.insert("User".into(), json!(value));
            }
            "workdir" | "w" => {
                self.config.insert("WorkingDir".into(), json!(value));
            }
            "hostname" | "h" => {
                self.config.insert("Hostname".into(), json!(value));
            }
            "cap-add" => self.cap_add.push(json!(value)),
            "cap-drop" => self.cap_drop.push(json!(value)),
            "dns" => self.dns.push(json!(value)),
            "add-host" => self.extra_hosts.push(json!(value)),
            "volume" | "v" => {
                if value.contains(':') {
                    self.binds.push(json!(value));
                } else {
                    // `-v /data`: an anonymous volume.
                    self.volumes.insert(value.into(), json!({}));
                }
            }
            "log-driver" => self.log_driver = Some(value.to_string()),
            "log-opt" => {
                let (k, v) = value.split_once('=').unwrap_or((value, ""));
                self.log_opts.insert(k.into(), json!(v));
            }
            "stop-signal" => {
                self.config.insert("StopSignal".into(), json!(value));
            }
            "tty" | "t" => {
                self.config.insert("Tty".into(), json!(flag(value)));
            }
            "interactive" | "i" => {
                // As `docker run -i`: stdin stays open for one attached client, whose EOF
                // closes it (StdinOnce).
                let on = flag(value);
                self.config.insert("OpenStdin".into(), json!(on));
                self.config.insert("StdinOnce".into(), json!(on));
                self.config.insert("AttachStdin".into(), json!(on));
            }
            "net" | "network" => return Some(value.to_string()),
            other => self.warnings.push(format!(
                "docker parameter --{other}={value} is not supported by the dev agent: ignored"
            )),
        }
        None
    }

    fn finish(mut self, name: String, image: String) -> CreateRequest {
        let put = |map: &mut Map<String, Value>, key: &str, list: Vec<Value>| {
            if !list.is_empty() {
                map.insert(key.into(), Value::Array(list));
            }
        };
        put(&mut self.config, "Env", self.env);
        put(&mut self.host, "Binds", self.binds);
        put(&mut self.host, "CapAdd", self.cap_add);
        put(&mut self.host, "CapDrop", self.cap_drop);
        put(&mut self.host, "Dns", self.dns);
        put(&mut self.host, "ExtraHosts", self.extra_hosts);
        if !self.volumes.is_empty() {
            self.config
                .insert("Volumes".into(), Value::Object(self.volumes));
        }
        if self.log_driver.is_some() || !self.log_opts.is_empty() {
            // An empty Type keeps the engine's default driver, with these options.
            let driver = self.log_driver.unwrap_or_default();
            self.host.insert(
                "LogConfig".into(),
                json!({"Type": driver, "Config": self.log_opts}),
            );
        }
        self.config
            .insert("Labels".into(), Value::Object(self.labels));
        self.config
            .insert("HostConfig".into(), Value::Object(self.host));
        CreateRequest {
            name,
            image,
            body: Value::Object(self.config),
            warnings: self.warnings,
        }
    }
}

/// A boolean `docker run` flag value: `--tty` alone (empty) or `true`/`1` mean on.
fn flag(value: &str) -> bool {
    !matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "false" | "0" | "no"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesoswarm_proto::v1::{
        container_info::DockerInfo, value, ContainerInfo, Environment, Label, Labels, Parameter,
        Resource, TaskId, Volume,
    };

    fn scalar(name: &str, v: f64) -> Resource {
        Resource {
            name: name.into(),
            r#type: value::Type::Scalar as i32,
            scalar: Some(value::Scalar { value: v }),
            ..Default::default()
        }
    }

    fn task(params: &[(&str, &str)]) -> TaskInfo {
        TaskInfo {
            name: "web".into(),
            task_id: TaskId {
                value: "abc.1".into(),
            },
            resources: vec![
                scalar("cpus", 0.5),
                scalar("mem", 256.0),
                scalar("mem", 16.0),
            ],
            command: Some(CommandInfo {
                shell: Some(false),
                value: Some("sh".into()),
                arguments: vec!["-c".into(), "exit 3".into()],
                environment: Some(Environment {
                    variables: vec![environment::Variable {
                        name: "A".into(),
                        r#type: None,
                        value: Some("1=2".into()),
                        secret: None,
                    }],
                }),
                ..Default::default()
            }),
            container: Some(ContainerInfo {
                r#type: container_info::Type::Docker as i32,
                hostname: Some("h.example".into()),
                docker: Some(DockerInfo {
                    image: "busybox".into(),
                    network: Some(docker_info::Network::Bridge as i32),
                    port_mappings: vec![docker_info::PortMapping {
                        host_port: 31001,
                        container_port: 80,
                        protocol: Some("tcp".into()),
                    }],
                    privileged: Some(true),
                    parameters: params
                        .iter()
                        .map(|(k, v)| Parameter {
                            key: (*k).into(),
                            value: (*v).into(),
                        })
                        .collect(),
                    ..Default::default()
                }),
                volumes: vec![Volume {
                    mode: volume::Mode::Ro as i32,
                    container_path: "/etc/x".into(),
                    host_path: Some("/srv/x".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            labels: Some(Labels {
                labels: vec![Label {
                    key: "com.mesoswarm.container.id".into(),
                    value: Some("c0ffee".into()),
                }],
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_task_becomes_what_docker_run_would_create() {
        let t = task(&[
            ("label", "tier=front"),
            ("entrypoint", ""),
            ("user", "nobody"),
            ("workdir", "/tmp"),
            ("cap-add", "NET_ADMIN"),
            ("cap-drop", "MKNOD"),
            ("dns", "10.0.0.2"),
            ("add-host", "db:10.0.0.3"),
            ("volume", "/data:/data:rw"),
            ("volume", "/scratch"),
            ("log-driver", "json-file"),
            ("stop-signal", "SIGINT"),
            ("tty", "true"),
            ("interactive", "true"),
        ]);
        let r = create_request(&t, "1234-uuid").unwrap();
        assert_eq!(r.name, "mesos-1234-uuid");
        assert_eq!(r.image, "busybox");
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        let b = &r.body;
        assert_eq!(b["Image"], "busybox");
        assert_eq!(b["Cmd"], json!(["sh", "-c", "exit 3"]));
        assert_eq!(b["Entrypoint"], json!([""]));
        assert_eq!(b["Env"], json!(["A=1=2"]));
        assert_eq!(b["Hostname"], "h.example");
        assert_eq!(b["User"], "nobody");
        assert_eq!(b["WorkingDir"], "/tmp");
        assert_eq!(b["StopSignal"], "SIGINT");
        assert_eq!(b["Tty"], true);
        assert_eq!(b["OpenStdin"], true);
        assert_eq!(b["StdinOnce"], true);
        assert_eq!(b["AttachStdin"], true);
        assert_eq!(b["ExposedPorts"], json!({"80/tcp": {}}));
        assert_eq!(b["Volumes"], json!({"/scratch": {}}));
        assert_eq!(
            b["Labels"],
            json!({"com.mesoswarm.container.id": "c0ffee", "tier": "front", "MESOS_TASK_ID": "abc.1"})
        );
        let h = &b["HostConfig"];
        assert_eq!(h["NetworkMode"], "bridge");
        assert_eq!(
            h["PortBindings"],
            json!({"80/tcp": [{"HostIp": "", "HostPort": "31001"}]})
        );
        assert_eq!(h["Privileged"], true);
        assert_eq!(h["Memory"], json!(272u64 << 20));
        assert_eq!(h["CpuShares"], 512);
        assert_eq!(h["CapAdd"], json!(["NET_ADMIN"]));
        assert_eq!(h["CapDrop"], json!(["MKNOD"]));
        assert_eq!(h["Dns"], json!(["10.0.0.2"]));
        assert_eq!(h["ExtraHosts"], json!(["db:10.0.0.3"]));
        assert_eq!(h["Binds"], json!(["/srv/x:/etc/x:ro", "/data:/data:rw"]));
        assert_eq!(h["LogConfig"], json!({"Type": "json-file", "Config": {}}));
    }

    #[test]
    fn the_net_parameter_wins_and_unknown_parameters_are_only_warned_about() {
        let t = task(&[("net", "backend"), ("shm-size", "1g")]);
        let r = create_request(&t, "u").unwrap();
        assert_eq!(r.body["HostConfig"]["NetworkMode"], "backend");
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].contains("--shm-size=1g"), "{:?}", r.warnings);
    }

    #[test]
    fn the_task_id_label_cannot_be_overridden_and_small_tasks_get_mesos_minimums() {
        let mut t = task(&[("label", "MESOS_TASK_ID=forged")]);
        t.resources = vec![scalar("cpus", 0.001), scalar("mem", 4.0)];
        let r = create_request(&t, "u").unwrap();
        assert_eq!(r.body["Labels"]["MESOS_TASK_ID"], "abc.1");
        assert_eq!(r.body["HostConfig"]["Memory"], json!(MIN_MEMORY_BYTES));
        assert_eq!(r.body["HostConfig"]["CpuShares"], json!(MIN_CPU_SHARES));
    }

    #[test]
    fn shell_commands_run_under_sh_and_no_command_keeps_the_images() {
        let mut t = task(&[]);
        t.command = Some(CommandInfo {
            shell: None,
            value: Some("echo $HOME".into()),
            ..Default::default()
        });
        let r = create_request(&t, "u").unwrap();
        assert_eq!(r.body["Entrypoint"], json!(["/bin/sh"]));
        assert_eq!(r.body["Cmd"], json!(["-c", "echo $HOME"]));
        t.command = Some(CommandInfo {
            shell: Some(false),
            ..Default::default()
        });
        let r = create_request(&t, "u").unwrap();
        assert!(r.body.get("Cmd").is_none());
        assert!(r.body.get("Entrypoint").is_none());
    }

    #[test]
    fn tasks_that_cannot_be_docker_containers_are_refused_with_a_reason() {
        let mut t = task(&[]);
        if let Some(d) = t.container.as_mut().and_then(|c| c.docker.as_mut()) {
            d.network = Some(docker_info::Network::Host as i32);
        }
        let e = create_request(&t, "u").unwrap_err();
        assert!(e.contains("port mappings"), "{e}");
        t.container = None;
        assert!(create_request(&t, "u")
            .unwrap_err()
            .contains("ContainerInfo"));
        let mut t = task(&[]);
        if let Some(d) = t.container.as_mut().and_then(|c| c.docker.as_mut()) {
            d.image = " ".into();
        }
        assert!(create_request(&t, "u").unwrap_err().contains("image"));
    }
}
