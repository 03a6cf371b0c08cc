//! Parsing request bodies: `POST /containers/create` into a [`ContainerSpec`].
//!
//! The body is read as bollard-stubs' `ContainerCreateBody`, which the docker CLI 28 and
//! docker-py bodies deserialize into. Choices, each close to dockerd:
//!
//! * **Unknown keys are ignored**, as Go's `encoding/json` ignores them (clients send many
//!   fields mesoswarm does not use: `NetworkingConfig`, `Ulimits`, …).
//! * **Keys are case-sensitive** (exact PascalCase, like serde). dockerd's Go decoder would
//!   also accept `"image"`; no mainstream client sends such keys, and a body with only
//!   lowercase keys fails loudly here because it has no `Image`.
//! * `Cmd` and `Entrypoint` may be a string as well as an array, as Go's `StrSlice` allows.
//! * Errors are 400 with dockerd's text where dockerd has one (conflicting CPU options,
//!   restart policies, memory minimum, signals), else a text that names the field.
//! * Settings Mesos cannot honour yet are dropped with a warning in the create answer
//!   (which `docker run` prints): anonymous `Volumes`, `Mounts`, `VolumesFrom`, `Links`,
//!   `Healthcheck`, and any restart policy (Mesos does not restart finished tasks itself).

use std::collections::BTreeMap;

use bollard_stubs::models::{ContainerCreateBody, HostConfig};
use serde_json::{Map, Value};

use crate::docker::error::ApiError;
use crate::docker::ports::{parse_container_port, parse_host_port};
use crate::docker::signal::normalize_signal;
use crate::spec::{ContainerSpec, NetworkMode, PortBinding, ResourceRequest, RestartPolicy};

pub use crate::docker::filter_args::{
    container_filters, event_filters, parse_filters, parse_label_filter,
};

/// dockerd's minimum memory limit (6 MiB).
const MIN_MEMORY_BYTES: i64 = 6 * 1024 * 1024;

/// Parses a create body into the spec and the warnings to answer with.
///
/// An empty body is 400 `invalid JSON: request body is empty`, `null` is dockerd's
/// `Config cannot be empty in order to create a container`, malformed JSON is
/// `invalid JSON: <serde's error>` (with the field path when the JSON is well-formed but a
/// field has the wrong type), a missing or empty `Image` is 400 `no image specified: ...`.
pub fn parse_create_body(body: &[u8]) -> Result<(ContainerSpec, Vec<String>), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("invalid JSON: request body is empty"));
    }
    let mut value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))?;
    let obj = match &mut value {
        Value::Null => {
            return Err(ApiError::bad_request(
                "Config cannot be empty in order to create a container",
            ))
        }
        Value::Object(obj) => obj,
        _ => {
            return Err(ApiError::bad_request(
                "invalid JSON: the body must be a JSON object holding the container config",
            ))
        }
    };
    for key in ["Cmd", "Entrypoint"] {
        if let Some(Value::String(s)) = obj.get(key) {
            let one = Value::Array(vec![Value::String(s.clone())]);
            obj.insert(key.to_string(), one);
        }
    }
    check_restart_policy_name(obj)?;
    let parsed: ContainerCreateBody = match serde_json::from_value(value.clone()) {
        Ok(b) => b,
        Err(e) => return Err(locate_type_error(&value, e)),
    };
    spec_from_body(parsed)
}

/// Maps a deserialized body onto a [`ContainerSpec`].
fn spec_from_body(body: ContainerCreateBody) -> Result<(ContainerSpec, Vec<String>), ApiError> {
    let image = body.image.clone().unwrap_or_default();
    if image.is_empty() {
        return Err(ApiError::bad_request(
            "no image specified: the create request must set Image (a key is case-sensitive: \
             \"Image\", not \"image\")",
        ));
    }
    if image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::bad_request(format!(
            "invalid reference format: {image:?}"
        )));
    }
    let stop_signal = body.stop_signal.clone().filter(|s| !s.is_empty());
    if let Some(sig) = &stop_signal {
        normalize_signal(sig)?;
    }
    let mut warnings = ignored_settings(&body);
    let hc = body.host_config.unwrap_or_default();

    let mut exposed_ports = Vec::new();
    for key in body.exposed_ports.unwrap_or_default() {
        exposed_ports.push(parse_container_port(&key, "ExposedPorts")?);
    }
    let port_bindings = port_bindings(&hc)?;
    exposed_ports.extend(port_bindings.iter().map(|b| b.container));
    if let Some(keys) = &hc.port_bindings {
        for key in keys.keys() {
            exposed_ports.push(parse_container_port(key, "HostConfig.PortBindings")?);
        }
    }
    exposed_ports.sort();
    exposed_ports.dedup();

    let resources = resources(&hc)?;
    let restart_policy = restart_policy(&hc)?;
    let network = network_mode(
        hc.network_mode.as_deref().unwrap_or(""),
        body.network_disabled == Some(true),
    )?;
    let spec = ContainerSpec {
        image,
        cmd: body.cmd,
        entrypoint: body.entrypoint,
        env: body.env.unwrap_or_default(),
        labels: body
            .labels
            .unwrap_or_default()
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
        hostname: body.hostname.unwrap_or_default(),
        domainname: body.domainname.unwrap_or_default(),
        user: body.user.unwrap_or_default(),
        working_dir: body.working_dir.unwrap_or_default(),
        tty: body.tty.unwrap_or(false),
        open_stdin: body.open_stdin.unwrap_or(false),
        stdin_once: body.stdin_once.unwrap_or(false),
        attach_stdin: body.attach_stdin.unwrap_or(false),
        attach_stdout: body.attach_stdout.unwrap_or(false),
        attach_stderr: body.attach_stderr.unwrap_or(false),
        stop_signal,
        stop_timeout_secs: body.stop_timeout,
        exposed_ports,
        port_bindings,
        publish_all_ports: hc.publish_all_ports.unwrap_or(false),
        network,
        resources,
        binds: hc.binds.unwrap_or_default(),
        privileged: hc.privileged.unwrap_or(false),
        auto_remove: hc.auto_remove.unwrap_or(false),
        restart_policy,
        cap_add: hc.cap_add.unwrap_or_default(),
        cap_drop: hc.cap_drop.unwrap_or_default(),
        dns: hc.dns.unwrap_or_default(),
        extra_hosts: hc.extra_hosts.unwrap_or_default(),
        log_driver: hc.log_config.and_then(|l| l.typ).unwrap_or_default(),
    };
    warnings.extend(create_warnings(&spec));
    Ok((spec, warnings))
}

/// The warnings a create answer carries that follow from the spec alone: a restart policy
/// other than `no` is kept and shown, but Mesos does not restart finished tasks by itself.
///
/// [`parse_create_body`] includes these; the core can recompute them from a spec it holds.
pub fn create_warnings(spec: &ContainerSpec) -> Vec<String> {
    let mut warnings = Vec::new();
    if !matches!(spec.restart_policy.name.as_str(), "" | "no") {
        warnings.push(format!(
            "Mesos does not restart tasks by itself: restart policy {:?} is kept, but mesoswarm \
             will not restart the container when it exits",
            spec.restart_policy.name
        ));
    }
    warnings
}

/// `HostConfig.PortBindings` flattened, ordered by container port (bindings of one port in
/// the order given).
fn port_bindings(hc: &HostConfig) -> Result<Vec<PortBinding>, ApiError> {
    let Some(map) = &hc.port_bindings else {
        return Ok(Vec::new());
    };
    let mut keyed = Vec::new();
    for (key, list) in map {
        let container = parse_container_port(key, "HostConfig.PortBindings")?;
        keyed.push((container, key.as_str(), list));
    }
    keyed.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let mut out = Vec::new();
    for (container, key, list) in keyed {
        for b in list.iter().flatten() {
            out.push(PortBinding {
                container,
                host_ip: b.host_ip.clone().unwrap_or_default(),
                host_port: parse_host_port(b.host_port.as_deref().unwrap_or(""), key)?,
            });
        }
    }
    Ok(out)
}

/// The resource fields, checked as dockerd checks them.
fn resources(hc: &HostConfig) -> Result<ResourceRequest, ApiError> {
    let r = ResourceRequest {
        nano_cpus: hc.nano_cpus.unwrap_or(0),
        cpu_shares: hc.cpu_shares.unwrap_or(0),
        cpu_period: hc.cpu_period.unwrap_or(0),
        // A negative quota (-1) means "no limit", the same as not giving one.
        cpu_quota: hc.cpu_quota.unwrap_or(0).max(0),
        memory_bytes: hc.memory.unwrap_or(0),
    };
    if r.memory_bytes != 0 && r.memory_bytes < MIN_MEMORY_BYTES {
        return Err(ApiError::bad_request("Minimum memory limit allowed is 6MB"));
    }
    if r.nano_cpus < 0 {
        return Err(ApiError::bad_request(format!(
            "invalid NanoCpus {}: the number of CPUs must not be negative",
            r.nano_cpus
        )));
    }
    if r.cpu_shares < 0 {
        return Err(ApiError::bad_request(format!(
            "invalid CpuShares {}: CPU shares must not be negative",
            r.cpu_shares
        )));
    }
    if r.nano_cpus > 0 && r.cpu_period > 0 {
        return Err(ApiError::bad_request(
            "Conflicting options: Nano CPUs and CPU Period cannot both be set",
        ));
    }
    if r.nano_cpus > 0 && r.cpu_quota > 0 {
        return Err(ApiError::bad_request(
            "Conflicting options: Nano CPUs and CPU Quota cannot both be set",
        ));
    }
    if r.cpu_period != 0 && !(1000..=1_000_000).contains(&r.cpu_period) {
        return Err(ApiError::bad_request(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
        ));
    }
    if r.cpu_quota > 0 && r.cpu_quota < 1000 {
        return Err(ApiError::bad_request(
            "CPU cfs quota can not be less than 1ms (i.e. 1000)",
        ));
    }
    Ok(r)
}

/// The restart policy, with moby's `ValidateRestartPolicy` checks and its AutoRemove rule.
fn restart_policy(hc: &HostConfig) -> Result<RestartPolicy, ApiError> {
    let p = hc.restart_policy.clone().unwrap_or_default();
    let name = p.name.map(|n| n.to_string()).unwrap_or_default();
    let maximum_retry_count = p.maximum_retry_count.unwrap_or(0);
    match name.as_str() {
        "always" | "unless-stopped" | "no" if maximum_retry_count != 0 => {
            return Err(ApiError::bad_request(
                "invalid restart policy: maximum retry count can only be used with 'on-failure'",
            ))
        }
        "on-failure" if maximum_retry_count < 0 => {
            return Err(ApiError::bad_request(
                "invalid restart policy: maximum retry count cannot be negative",
            ))
        }
        _ => {}
    }
    if hc.auto_remove == Some(true) && !matches!(name.as_str(), "" | "no") {
        return Err(ApiError::bad_request(
            "can't create 'AutoRemove' container with restart policy",
        ));
    }
    Ok(RestartPolicy {
        name,
        maximum_retry_count,
    })
}

/// `HostConfig.NetworkMode` as Mesos' Docker containerizer can run it.
fn network_mode(mode: &str, network_disabled: bool) -> Result<NetworkMode, ApiError> {
    Ok(match mode {
        "" | "default" | "bridge" if network_disabled => NetworkMode::None,
        "" | "default" | "bridge" => NetworkMode::Bridge,
        "host" => NetworkMode::Host,
        "none" => NetworkMode::None,
        m if m.starts_with("container:") => {
            return Err(ApiError::bad_request(format!(
                "network mode {m:?} is not supported under Mesos: containers are placed on agents \
                 independently, so one cannot join another's network namespace"
            )))
        }
        m => NetworkMode::User(m.to_string()),
    })
}

/// Warnings for settings the body has that mesoswarm drops.
fn ignored_settings(body: &ContainerCreateBody) -> Vec<String> {
    let hc = body.host_config.as_ref();
    let mut ignored: Vec<&str> = Vec::new();
    if body.volumes.as_ref().is_some_and(|v| !v.is_empty()) {
        ignored.push("Volumes (anonymous volumes)");
    }
    if hc
        .and_then(|h| h.mounts.as_ref())
        .is_some_and(|m| !m.is_empty())
    {
        ignored.push("HostConfig.Mounts (use binds: -v /host:/ctr)");
    }
    if hc
        .and_then(|h| h.volumes_from.as_ref())
        .is_some_and(|v| !v.is_empty())
    {
        ignored.push("HostConfig.VolumesFrom");
    }
    if hc
        .and_then(|h| h.links.as_ref())
        .is_some_and(|v| !v.is_empty())
    {
        ignored.push("HostConfig.Links");
    }
    let health = body.healthcheck.as_ref().and_then(|h| h.test.as_ref());
    if health.is_some_and(|t| !t.is_empty() && t.first().map(String::as_str) != Some("NONE")) {
        ignored.push("Healthcheck");
    }
    ignored
        .into_iter()
        .map(|what| format!("mesoswarm does not support {what} yet; the setting is ignored"))
        .collect()
}

/// dockerd's message for an unknown restart policy name, before serde's closed enum
/// rejects it with a less helpful one.
fn check_restart_policy_name(obj: &Map<String, Value>) -> Result<(), ApiError> {
    let name = obj
        .get("HostConfig")
        .and_then(|h| h.get("RestartPolicy"))
        .and_then(|p| p.get("Name"))
        .and_then(Value::as_str);
    match name {
        None | Some("" | "no" | "always" | "unless-stopped" | "on-failure") => Ok(()),
        Some(other) => Err(ApiError::bad_request(format!(
            "invalid restart policy: unknown policy '{other}'; use one of 'no', 'always', \
             'on-failure', or 'unless-stopped'"
        ))),
    }
}

/// Turns serde's error for a well-formed body into `invalid JSON: <Field>: <error>` by finding
/// the first top-level field (or `HostConfig.<field>`, …) that fails on its own.
fn locate_type_error(value: &Value, err: serde_json::Error) -> ApiError {
    let fails = |v: Value| serde_json::from_value::<ContainerCreateBody>(v).err();
    if let Value::Object(obj) = value {
        for (key, v) in obj {
            let Some(e) = fails(single(key, v.clone())) else {
                continue;
            };
            if let Value::Object(inner) = v {
                for (k2, v2) in inner {
                    if let Some(e2) = fails(single(key, single(k2, v2.clone()))) {
                        return ApiError::bad_request(format!("invalid JSON: {key}.{k2}: {e2}"));
                    }
                }
            }
            return ApiError::bad_request(format!("invalid JSON: {key}: {e}"));
        }
    }
    ApiError::bad_request(format!("invalid JSON: {err}"))
}

fn single(key: &str, v: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.to_string(), v);
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ContainerPort, PortProtocol};

    fn parse(json: &str) -> Result<(ContainerSpec, Vec<String>), ApiError> {
        parse_create_body(json.as_bytes())
    }

    fn err(json: &str) -> String {
        let e = parse(json).unwrap_err();
        assert_eq!(e.status, http::StatusCode::BAD_REQUEST, "{json}");
        e.message
    }

    #[test]
    fn minimal_body() {
        let (spec, warnings) = parse(r#"{"Image":"busybox"}"#).unwrap();
        assert_eq!(spec.image, "busybox");
        assert_eq!(spec.cmd, None);
        assert_eq!(spec.network, NetworkMode::Bridge);
        assert!(warnings.is_empty());
    }

    #[test]
    fn empty_null_and_malformed_bodies() {
        assert_eq!(err(""), "invalid JSON: request body is empty");
        assert_eq!(err("  \n"), "invalid JSON: request body is empty");
        assert_eq!(
            err("null"),
            "Config cannot be empty in order to create a container"
        );
        assert!(
            err("{").starts_with("invalid JSON: EOF while parsing"),
            "{}",
            err("{")
        );
        assert!(err("[1]").starts_with("invalid JSON:"));
        assert!(err("{}").starts_with("no image specified"));
        assert!(err(r#"{"image":"busybox"}"#).starts_with("no image specified"));
        assert_eq!(
            err(r#"{"Image":"bad image"}"#),
            r#"invalid reference format: "bad image""#
        );
    }

    #[test]
    fn type_errors_name_the_field() {
        let m = err(r#"{"Image":"busybox","HostConfig":{"Memory":"lots"}}"#);
        assert!(
            m.starts_with("invalid JSON: HostConfig.Memory: invalid type"),
            "{m}"
        );
        let m = err(r#"{"Image":"busybox","Env":"A=1"}"#);
        assert!(m.starts_with("invalid JSON: Env: invalid type"), "{m}");
    }

    #[test]
    fn string_cmd_is_accepted() {
        let (spec, _) =
            parse(r#"{"Image":"busybox","Cmd":"echo hi","Entrypoint":"/bin/sh"}"#).unwrap();
        assert_eq!(spec.cmd, Some(vec!["echo hi".to_string()]));
        assert_eq!(spec.entrypoint, Some(vec!["/bin/sh".to_string()]));
    }

    #[test]
    fn ports_are_merged_sorted_and_checked() {
        let (spec, _) = parse(
            r#"{"Image":"b","ExposedPorts":{"9000/tcp":{},"80":{}},
                "HostConfig":{"PortBindings":{"53/udp":[{"HostIp":"","HostPort":""}],"8080/tcp":null}}}"#,
        )
        .unwrap();
        let tcp = |p| ContainerPort {
            port: p,
            protocol: PortProtocol::Tcp,
        };
        let udp53 = ContainerPort {
            port: 53,
            protocol: PortProtocol::Udp,
        };
        assert_eq!(
            spec.exposed_ports,
            vec![udp53, tcp(80), tcp(8080), tcp(9000)]
        );
        assert_eq!(
            spec.port_bindings,
            vec![PortBinding {
                container: udp53,
                host_ip: String::new(),
                host_port: None
            }]
        );
        assert!(err(r#"{"Image":"b","ExposedPorts":{"http":{}}}"#).starts_with("invalid port"));
        assert!(err(
            r#"{"Image":"b","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"x"}]}}}"#
        )
        .starts_with("invalid port"));
        assert!(err(
            r#"{"Image":"b","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"8000-8001"}]}}}"#
        )
        .contains("not supported"));
    }

    #[test]
    fn network_modes() {
        let net = |m: &str| {
            parse(&format!(
                r#"{{"Image":"b","HostConfig":{{"NetworkMode":"{m}"}}}}"#
            ))
        };
        assert_eq!(net("default").unwrap().0.network, NetworkMode::Bridge);
        assert_eq!(net("bridge").unwrap().0.network, NetworkMode::Bridge);
        assert_eq!(net("host").unwrap().0.network, NetworkMode::Host);
        assert_eq!(net("none").unwrap().0.network, NetworkMode::None);
        assert_eq!(
            net("net1").unwrap().0.network,
            NetworkMode::User("net1".into())
        );
        let e = net("container:web").unwrap_err();
        assert_eq!(e.status, http::StatusCode::BAD_REQUEST);
        assert!(
            e.message.contains("not supported under Mesos"),
            "{}",
            e.message
        );
        let (spec, _) = parse(r#"{"Image":"b","NetworkDisabled":true}"#).unwrap();
        assert_eq!(spec.network, NetworkMode::None);
    }

    #[test]
    fn resources_are_checked_like_dockerd() {
        let hc = |h: &str| format!(r#"{{"Image":"b","HostConfig":{h}}}"#);
        assert_eq!(
            err(&hc(r#"{"NanoCpus":1000000000,"CpuPeriod":100000}"#)),
            "Conflicting options: Nano CPUs and CPU Period cannot both be set"
        );
        assert_eq!(
            err(&hc(r#"{"NanoCpus":1000000000,"CpuQuota":50000}"#)),
            "Conflicting options: Nano CPUs and CPU Quota cannot both be set"
        );
        assert_eq!(
            err(&hc(r#"{"Memory":-1}"#)),
            "Minimum memory limit allowed is 6MB"
        );
        assert_eq!(
            err(&hc(r#"{"Memory":1024}"#)),
            "Minimum memory limit allowed is 6MB"
        );
        assert!(err(&hc(r#"{"NanoCpus":-1}"#)).contains("must not be negative"));
        assert!(err(&hc(r#"{"CpuShares":-5}"#)).contains("must not be negative"));
        assert!(err(&hc(r#"{"CpuPeriod":10}"#)).starts_with("CPU cfs period"));
        assert!(err(&hc(r#"{"CpuQuota":10}"#)).starts_with("CPU cfs quota"));
        let (spec, _) =
            parse(&hc(r#"{"CpuQuota":-1,"CpuPeriod":100000,"CpuShares":512}"#)).unwrap();
        assert_eq!(spec.resources.cpu_quota, 0);
        assert_eq!(spec.resources.cpu_period, 100000);
        assert_eq!(spec.resources.cpu_shares, 512);
    }

    #[test]
    fn restart_policies() {
        let rp = |p: &str| format!(r#"{{"Image":"b","HostConfig":{{"RestartPolicy":{p}}}}}"#);
        let (spec, warnings) = parse(&rp(r#"{"Name":"always"}"#)).unwrap();
        assert_eq!(
            spec.restart_policy,
            RestartPolicy {
                name: "always".into(),
                maximum_retry_count: 0
            }
        );
        assert!(
            warnings[0].contains("Mesos does not restart tasks"),
            "{warnings:?}"
        );
        let (_, warnings) = parse(&rp(r#"{"Name":"no"}"#)).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(
            err(&rp(r#"{"Name":"sometimes"}"#)),
            "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', \
             'on-failure', or 'unless-stopped'"
        );
        assert_eq!(
            err(&rp(r#"{"Name":"always","MaximumRetryCount":2}"#)),
            "invalid restart policy: maximum retry count can only be used with 'on-failure'"
        );
        assert_eq!(
            err(
                r#"{"Image":"b","HostConfig":{"AutoRemove":true,"RestartPolicy":{"Name":"always"}}}"#
            ),
            "can't create 'AutoRemove' container with restart policy"
        );
    }

    #[test]
    fn stop_signal_is_validated_but_kept_as_given() {
        let (spec, _) = parse(r#"{"Image":"b","StopSignal":"TERM","StopTimeout":3}"#).unwrap();
        assert_eq!(spec.stop_signal.as_deref(), Some("TERM"));
        assert_eq!(spec.stop_timeout_secs, Some(3));
        assert_eq!(
            err(r#"{"Image":"b","StopSignal":"BOGUS"}"#),
            "Invalid signal: BOGUS"
        );
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let (spec, _) =
            parse(r#"{"Image":"b","Bogus":{"x":1},"HostConfig":{"Whatever":true}}"#).unwrap();
        assert_eq!(spec.image, "b");
    }
}
