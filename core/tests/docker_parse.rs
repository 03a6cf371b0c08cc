//! Create bodies as real clients send them.

use mesoswarm_core::docker::parse::parse_create_body;
use mesoswarm_core::spec::{ContainerPort, NetworkMode, PortBinding, PortProtocol, RestartPolicy};

/// The exact body docker CLI 28.2.2 sent for a `docker create` with most options
/// (docker-api.md §2.6; only whitespace added there).
const CLI28_CREATE: &str = r#"{
  "Hostname": "h1",
  "Domainname": "",
  "User": "1000",
  "AttachStdin": false,
  "AttachStdout": true,
  "AttachStderr": true,
  "ExposedPorts": {"53/udp": {}, "80/tcp": {}, "9000/tcp": {}},
  "Tty": false,
  "OpenStdin": false,
  "StdinOnce": false,
  "Env": ["A=1"],
  "Cmd": ["-c", "sleep 1000"],
  "Healthcheck": {"Test": ["CMD-SHELL", "true"]},
  "Image": "busybox",
  "Volumes": {"/data": {}},
  "WorkingDir": "/app",
  "Entrypoint": ["/bin/sh"],
  "OnBuild": null,
  "Labels": {"k": "v"},
  "StopSignal": "SIGTERM",
  "StopTimeout": 5,
  "HostConfig": {
    "Binds": ["/host:/ctr:ro"], "ContainerIDFile": "",
    "LogConfig": {"Type": "json-file", "Config": {"max-size": "10m"}}, "NetworkMode": "net1",
    "PortBindings": {"53/udp": [{"HostIp": "", "HostPort": "53"}], "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]},
    "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}, "AutoRemove": false,
    "VolumeDriver": "", "VolumesFrom": null, "ConsoleSize": [0, 0], "CapAdd": ["CAP_NET_ADMIN"],
    "CapDrop": null, "CgroupnsMode": "", "Dns": ["8.8.8.8"], "DnsOptions": [], "DnsSearch": [],
    "ExtraHosts": ["db:10.0.0.1"], "GroupAdd": null, "IpcMode": "", "Cgroup": "", "Links": null,
    "OomScoreAdj": 0, "PidMode": "", "Privileged": false, "PublishAllPorts": false,
    "ReadonlyRootfs": false, "SecurityOpt": null, "UTSMode": "", "UsernsMode": "",
    "ShmSize": 67108864, "Isolation": "", "CpuShares": 512, "Memory": 536870912,
    "NanoCpus": 1500000000, "CgroupParent": "", "BlkioWeight": 0, "BlkioWeightDevice": [],
    "BlkioDeviceReadBps": [], "BlkioDeviceWriteBps": [], "BlkioDeviceReadIOps": [],
    "BlkioDeviceWriteIOps": [], "CpuPeriod": 0, "CpuQuota": 0, "CpuRealtimePeriod": 0,
    "CpuRealtimeRuntime": 0, "CpusetCpus": "0-1", "CpusetMems": "", "Devices": [],
    "DeviceCgroupRules": null, "DeviceRequests": null, "MemoryReservation": 0, "MemorySwap": 0,
    "MemorySwappiness": -1, "OomKillDisable": false, "PidsLimit": 0,
    "Ulimits": [{"Name": "nofile", "Hard": 2048, "Soft": 1024}], "CpuCount": 0, "CpuPercent": 0,
    "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
    "Mounts": [{"Type": "volume", "Source": "vol1", "Target": "/vol"}], "MaskedPaths": null,
    "ReadonlyPaths": null, "Init": true
  },
  "NetworkingConfig": {
    "EndpointsConfig": {
      "net1": {"IPAMConfig": null, "Links": null, "Aliases": ["web"], "MacAddress": "",
               "DriverOpts": null, "GwPriority": 0, "NetworkID": "", "EndpointID": "",
               "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
               "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": null}
    }
  }
}"#;

/// A docker-py 7.1 style body: only the keys it was given, `NetworkDisabled`, a health check
/// with explicit nulls, and a sparse `HostConfig`.
const DOCKER_PY_CREATE: &str = r#"{"ExposedPorts": {"80/tcp": {}}, "Tty": false, "OpenStdin": false, "StdinOnce": false, "AttachStdin": false, "AttachStdout": false, "AttachStderr": false, "Env": ["A=1"], "Cmd": ["echo", "hi"], "Image": "busybox", "NetworkDisabled": false, "Labels": {"app": "web"}, "Healthcheck": {"Test": ["NONE"], "Interval": 1000000000, "Timeout": null, "Retries": null, "StartPeriod": null}, "HostConfig": {"NetworkMode": "default", "Binds": ["/srv:/data:rw"], "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}, "LogConfig": {"Type": "json-file", "Config": {}}, "AutoRemove": true}}"#;

fn tcp(port: u16) -> ContainerPort {
    ContainerPort {
        port,
        protocol: PortProtocol::Tcp,
    }
}

fn udp(port: u16) -> ContainerPort {
    ContainerPort {
        port,
        protocol: PortProtocol::Udp,
    }
}

#[test]
fn the_cli28_create_body_maps_onto_the_spec() {
    let (spec, warnings) = parse_create_body(CLI28_CREATE.as_bytes()).expect("CLI 28 body parses");
    assert_eq!(spec.image, "busybox");
    assert_eq!(
        spec.cmd,
        Some(vec!["-c".to_string(), "sleep 1000".to_string()])
    );
    assert_eq!(spec.entrypoint, Some(vec!["/bin/sh".to_string()]));
    assert_eq!(spec.env, vec!["A=1"]);
    assert_eq!(spec.labels.get("k").map(String::as_str), Some("v"));
    assert_eq!(
        (
            spec.hostname.as_str(),
            spec.user.as_str(),
            spec.working_dir.as_str()
        ),
        ("h1", "1000", "/app")
    );
    assert!(spec.attach_stdout && spec.attach_stderr && !spec.attach_stdin && !spec.tty);
    assert_eq!(spec.stop_signal.as_deref(), Some("SIGTERM"));
    assert_eq!(spec.stop_timeout_secs, Some(5));
    assert_eq!(spec.exposed_ports, vec![udp(53), tcp(80), tcp(9000)]);
    assert_eq!(
        spec.port_bindings,
        vec![
            PortBinding {
                container: udp(53),
                host_ip: String::new(),
                host_port: Some(53)
            },
            PortBinding {
                container: tcp(80),
                host_ip: "127.0.0.1".into(),
                host_port: Some(8080)
            },
        ]
    );
    assert_eq!(spec.network, NetworkMode::User("net1".into()));
    assert_eq!(spec.resources.nano_cpus, 1_500_000_000);
    assert_eq!(spec.resources.memory_bytes, 536_870_912);
    assert_eq!(spec.resources.cpu_shares, 512);
    assert_eq!(
        (spec.resources.cpu_period, spec.resources.cpu_quota),
        (0, 0)
    );
    assert_eq!(spec.binds, vec!["/host:/ctr:ro"]);
    assert_eq!(
        spec.restart_policy,
        RestartPolicy {
            name: "on-failure".into(),
            maximum_retry_count: 3
        }
    );
    assert_eq!(spec.cap_add, vec!["CAP_NET_ADMIN"]);
    assert!(spec.cap_drop.is_empty());
    assert_eq!(spec.dns, vec!["8.8.8.8"]);
    assert_eq!(spec.extra_hosts, vec!["db:10.0.0.1"]);
    assert_eq!(spec.log_driver, "json-file");
    assert!(!spec.privileged && !spec.auto_remove && !spec.publish_all_ports);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("Mesos does not restart tasks") && w.contains("on-failure")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("HostConfig.Mounts")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("Volumes")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("Healthcheck")),
        "{warnings:?}"
    );
}

#[test]
fn a_docker_py_sparse_body_parses() {
    let (spec, warnings) =
        parse_create_body(DOCKER_PY_CREATE.as_bytes()).expect("docker-py body parses");
    assert_eq!(spec.image, "busybox");
    assert_eq!(spec.cmd, Some(vec!["echo".to_string(), "hi".to_string()]));
    assert_eq!(spec.entrypoint, None);
    assert_eq!(spec.network, NetworkMode::Bridge);
    assert_eq!(spec.exposed_ports, vec![tcp(80)]);
    assert_eq!(
        spec.port_bindings,
        vec![PortBinding {
            container: tcp(80),
            host_ip: String::new(),
            host_port: Some(8080)
        }]
    );
    assert_eq!(spec.binds, vec!["/srv:/data:rw"]);
    assert!(spec.auto_remove);
    assert_eq!(spec.labels.get("app").map(String::as_str), Some("web"));
    assert!(
        warnings.is_empty(),
        "Healthcheck NONE and no restart policy: {warnings:?}"
    );
}

#[test]
fn bad_ports_are_rejected_with_400() {
    for (body, fragment) in [
        (
            r#"{"Image":"b","ExposedPorts":{"80/xyz":{}}}"#,
            "invalid port",
        ),
        (
            r#"{"Image":"b","ExposedPorts":{"99999/tcp":{}}}"#,
            "invalid port",
        ),
        (
            r#"{"Image":"b","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"web"}]}}}"#,
            "invalid port",
        ),
        (
            r#"{"Image":"b","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"8000-8001"}]}}}"#,
            "not supported",
        ),
        (
            r#"{"Image":"b","HostConfig":{"PortBindings":{"8000-8001/tcp":[]}}}"#,
            "not supported",
        ),
    ] {
        let e = parse_create_body(body.as_bytes()).unwrap_err();
        assert_eq!(e.status, http::StatusCode::BAD_REQUEST, "{body}");
        assert!(e.message.contains(fragment), "{body}: {}", e.message);
    }
}
