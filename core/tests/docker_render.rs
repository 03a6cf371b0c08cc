//! What clients read back: inspect, ps, info, events, wait and error bodies.

use std::time::Duration;

use bollard_stubs::models::{ContainerInspectResponse, ContainerSummary, SystemInfo};
use bytes::Bytes;
use http::{Response, StatusCode};
use mesoswarm_core::container::{Container, DockerStatus, TaskRecord};
use mesoswarm_core::docker::parse::parse_create_body;
use mesoswarm_core::docker::render::{
    container_inspect, container_summary, error_response, event_json_line, status_text,
    system_info, to_http, wait_body,
};
use mesoswarm_core::docker::response::{InfoView, OfferView};
use mesoswarm_core::docker::{ApiError, DockerResponse};
use mesoswarm_core::events::DockerEvent;
use mesoswarm_core::ids::ContainerId;
use mesoswarm_core::spec::{ContainerPort, PortProtocol};
use mesoswarm_core::task_state::TaskState;
use mesoswarm_core::time::Instant;
use serde_json::Value;

const CREATED: Instant = Instant::from_unix_nanos(1_795_322_520_123_456_789);

fn at(secs: u64) -> Instant {
    CREATED.saturating_add(Duration::from_secs(secs))
}

fn id(seed: u8) -> ContainerId {
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = seed.wrapping_mul(31).wrapping_add(i as u8 * 7);
    }
    ContainerId(bytes)
}

const WEB_BODY: &str = r#"{"Image":"busybox","Cmd":["httpd","-f","-p","80"],"Env":["A=1"],
  "Labels":{"tier":"web","com.example":"yes"},"ExposedPorts":{"53/udp":{}},"StopSignal":"SIGINT",
  "HostConfig":{"PortBindings":{"80/tcp":[{"HostIp":"","HostPort":""}]},"NanoCpus":500000000,
  "Memory":268435456,"Binds":["/srv:/srv:ro"],"NetworkMode":"net1","CapAdd":["CAP_NET_ADMIN"]}}"#;

fn tcp80() -> ContainerPort {
    ContainerPort {
        port: 80,
        protocol: PortProtocol::Tcp,
    }
}

/// `web`, running for 5 minutes on agent1, port 80 published on 31005.
fn running_web() -> Container {
    let (spec, _) = parse_create_body(WEB_BODY.as_bytes()).unwrap();
    let id = id(1);
    Container {
        id,
        name: "web".into(),
        spec,
        created_at: CREATED,
        status: DockerStatus::Running,
        started_at: Some(at(2)),
        finished_at: None,
        exit_code: 0,
        error: String::new(),
        restart_count: 0,
        task: Some(TaskRecord {
            task_id: format!("{}.1", id.to_hex()),
            generation: 1,
            agent_id: Some("agent-S1".into()),
            agent_hostname: Some("agent1.example".into()),
            agent_docker_port: None,
            state: Some(TaskState::Running),
            docker_id: Some("d0cker".into()),
            host_ports: vec![(tcp80(), 31005)],
            cpus_milli: 500,
            mem_mib: 256,
            message: String::new(),
        }),
    }
}

/// `job`, killed 90 seconds before `at(400)`.
fn exited_job() -> Container {
    let (spec, _) =
        parse_create_body(br#"{"Image":"alpine:3.10","Entrypoint":["sh","-c"],"Cmd":["exit 3"]}"#)
            .unwrap();
    Container {
        id: id(2),
        name: "job".into(),
        spec,
        created_at: CREATED,
        status: DockerStatus::Exited,
        started_at: Some(at(10)),
        finished_at: Some(at(310)),
        exit_code: 137,
        error: String::new(),
        restart_count: 1,
        task: Some(TaskRecord {
            task_id: format!("{}.2", id(2).to_hex()),
            generation: 2,
            agent_id: Some("agent-S2".into()),
            agent_hostname: Some("agent2.example".into()),
            agent_docker_port: None,
            state: Some(TaskState::Killed),
            docker_id: None,
            host_ports: vec![],
            cpus_milli: 100,
            mem_mib: 32,
            message: "killed".into(),
        }),
    }
}

fn info_view(connected: bool) -> InfoView {
    InfoView {
        containers_running: 1,
        containers_stopped: 2,
        containers_paused: 0,
        connected,
        master: connected.then(|| "master1:5050".to_string()),
        framework_id: connected.then(|| "7b1c-0001".to_string()),
        pending: 1,
        offers: if connected {
            vec![
                OfferView {
                    id: "7b1c-O1".into(),
                    hostname: "agent1.example".into(),
                    cpus_milli: 1500,
                    mem_mib: 2048,
                    disk_mib: 10240,
                    ports: vec![(31000, 32000)],
                },
                OfferView {
                    id: "7b1c-O2".into(),
                    hostname: "agent2.example".into(),
                    cpus_milli: 1000,
                    mem_mib: 512,
                    disk_mib: 0,
                    ports: vec![(31000, 31009), (31100, 31100)],
                },
            ]
        } else {
            vec![]
        },
        name: "mesoswarm-1".into(),
    }
}

fn die_event() -> DockerEvent {
    DockerEvent {
        action: "die",
        container_id: id(2),
        name: "job".into(),
        image: "alpine:3.10".into(),
        labels: vec![("tier".into(), "batch".into())],
        extra: vec![("exitCode", "137".into())],
        time: at(310),
    }
}

/// A response body as pretty JSON, for snapshots.
fn pretty(r: &Response<Bytes>) -> String {
    let v: Value = serde_json::from_slice(r.body()).unwrap();
    serde_json::to_string_pretty(&v).unwrap()
}

/// [`pretty`] for `docker info`, with the values that depend on the build (architecture,
/// crate version) replaced so the snapshot holds on every machine and release.
fn pretty_info(r: &Response<Bytes>) -> String {
    let mut v: Value = serde_json::from_slice(r.body()).unwrap();
    assert_eq!(v["Architecture"], std::env::consts::ARCH);
    assert!(v["ServerVersion"].as_str().unwrap().ends_with("-mesoswarm"));
    v["Architecture"] = "[arch]".into();
    v["ServerVersion"] = "[version]".into();
    serde_json::to_string_pretty(&v).unwrap()
}

fn body_json(r: &Response<Bytes>) -> Value {
    serde_json::from_slice(r.body()).unwrap()
}

#[test]
fn inspect_snapshot() {
    let r = to_http(&DockerResponse::Inspect(Box::new(container_inspect(
        &running_web(),
        at(305),
    ))));
    insta::assert_snapshot!("inspect_running", pretty(&r));
    let r = to_http(&DockerResponse::Inspect(Box::new(container_inspect(
        &exited_job(),
        at(400),
    ))));
    insta::assert_snapshot!("inspect_exited", pretty(&r));
}

#[test]
fn inspect_never_omits_what_the_cli_dereferences() {
    for c in [running_web(), exited_job()] {
        let r = to_http(&DockerResponse::Inspect(Box::new(container_inspect(
            &c,
            at(400),
        ))));
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/json");
        let v = body_json(&r);
        for key in ["State", "Config", "HostConfig", "NetworkSettings"] {
            assert!(v[key].is_object(), "{key} must be a non-null object: {v}");
        }
        assert_eq!(v["Id"].as_str().unwrap().len(), 64);
        assert_eq!(v["Name"], format!("/{}", c.name));
        assert!(
            v["NetworkSettings"]["Networks"].is_object(),
            "compose looks networks up in it"
        );
        assert_eq!(
            v["HostConfig"]["LogConfig"]["Type"], "json-file",
            "docker-py run() needs it"
        );
        let parsed: ContainerInspectResponse =
            serde_json::from_slice(r.body()).expect("parses as bollard's model");
        assert!(parsed.state.is_some() && parsed.config.is_some());
    }
}

#[test]
fn inspect_shows_published_ports_on_the_agent() {
    let v = body_json(&to_http(&DockerResponse::Inspect(Box::new(
        container_inspect(&running_web(), at(5)),
    ))));
    let ports = &v["NetworkSettings"]["Ports"];
    assert_eq!(ports["80/tcp"][0]["HostIp"], "agent1.example");
    assert_eq!(ports["80/tcp"][0]["HostPort"], "31005");
    assert!(ports["53/udp"].is_null(), "exposed but not published");
    assert_eq!(v["State"]["Running"], true);
    assert_eq!(v["State"]["FinishedAt"], "0001-01-01T00:00:00Z");
    assert_eq!(v["Created"], "2026-11-22T04:42:00.123456789Z");
    assert_eq!(v["Path"], "httpd");
    assert_eq!(v["Args"], serde_json::json!(["-f", "-p", "80"]));
    // A stopped container shows no ports, as dockerd.
    let v = body_json(&to_http(&DockerResponse::Inspect(Box::new(
        container_inspect(&exited_job(), at(400)),
    ))));
    assert_eq!(v["NetworkSettings"]["Ports"], serde_json::json!({}));
    assert_eq!(v["State"]["ExitCode"], 137);
}

#[test]
fn ps_snapshot() {
    let list = vec![
        container_summary(&running_web(), at(305)),
        container_summary(&exited_job(), at(400)),
    ];
    let r = to_http(&DockerResponse::List(list));
    insta::assert_snapshot!("ps", pretty(&r));
    let parsed: Vec<ContainerSummary> =
        serde_json::from_slice(r.body()).expect("parses as bollard's model");
    assert_eq!(parsed.len(), 2);
    let v = body_json(&r);
    assert_eq!(v[0]["Status"], "Up 5 minutes");
    assert_eq!(v[0]["Command"], "httpd -f -p 80");
    assert_eq!(v[0]["Ports"][1]["IP"], "agent1.example");
    assert_eq!(v[0]["Ports"][1]["PublicPort"], 31005);
    assert_eq!(v[1]["Status"], "Exited (137) About a minute ago");
    assert_eq!(v[1]["Command"], "sh -c exit 3");
    assert_eq!(v[1]["State"], "exited");
}

#[test]
fn ps_status_texts_match_dockerd() {
    let mut c = running_web();
    let text = |c: &Container, now| status_text(c, now);
    c.started_at = Some(at(0));
    assert_eq!(text(&c, at(0)), "Up Less than a second");
    assert_eq!(text(&c, at(5)), "Up 5 seconds");
    assert_eq!(text(&c, at(90)), "Up About a minute");
    assert_eq!(text(&c, at(300)), "Up 5 minutes");
    assert_eq!(text(&c, at(3600)), "Up About an hour");
    assert_eq!(text(&c, at(3 * 3600)), "Up 3 hours");
    assert_eq!(text(&c, at(2 * 86400)), "Up 2 days");
    c.status = DockerStatus::Created;
    assert_eq!(text(&c, at(50)), "Created");
    c.status = DockerStatus::Exited;
    c.exit_code = 0;
    c.finished_at = Some(at(10));
    assert_eq!(text(&c, at(13)), "Exited (0) 3 seconds ago");
    c.exit_code = 137;
    assert_eq!(text(&c, at(100)), "Exited (137) About a minute ago");
    c.status = DockerStatus::Restarting;
    c.exit_code = 1;
    assert_eq!(text(&c, at(12)), "Restarting (1) 2 seconds ago");
    c.status = DockerStatus::Removing;
    assert_eq!(text(&c, at(12)), "Removal In Progress");
    c.status = DockerStatus::Dead;
    assert_eq!(text(&c, at(12)), "Dead");
}

#[test]
fn info_snapshot() {
    let r = to_http(&DockerResponse::Info(Box::new(system_info(&info_view(
        true,
    )))));
    insta::assert_snapshot!("info_connected", pretty_info(&r));
    let parsed: SystemInfo = serde_json::from_slice(r.body()).expect("parses as bollard's model");
    assert_eq!(parsed.ncpu, Some(2), "2.5 offered cpus round down");
    assert_eq!(parsed.mem_total, Some(2560 << 20));
    assert_eq!(parsed.warnings, Some(vec![]));
    let r = to_http(&DockerResponse::Info(Box::new(system_info(&info_view(
        false,
    )))));
    insta::assert_snapshot!("info_not_connected", pretty_info(&r));
    let v = body_json(&r);
    let rows = v["DriverStatus"].as_array().unwrap();
    assert!(
        rows.contains(&serde_json::json!(["Status", "not connected"])),
        "{rows:?}"
    );
    assert!(
        rows.iter().all(|r| r.as_array().unwrap().len() == 2),
        "the CLI prints pair[0], pair[1]"
    );
    assert_eq!(v["Swarm"]["LocalNodeState"], "inactive");
    assert!(v["RegistryConfig"].is_object());
}

#[test]
fn event_line_snapshot() {
    let line = event_json_line(&die_event());
    assert!(
        line.ends_with(b"\n") && !line[..line.len() - 1].contains(&b'\n'),
        "one line"
    );
    insta::assert_snapshot!("event_die", String::from_utf8(line.to_vec()).unwrap());
    let v: Value = serde_json::from_slice(&line).unwrap();
    assert_eq!(v["status"], "die", "compose 1.29 reads status");
    assert_eq!(v["id"], v["Actor"]["ID"]);
    assert_eq!(v["from"], "alpine:3.10");
    assert_eq!(v["Actor"]["Attributes"]["exitCode"], "137");
    assert_eq!(v["timeNano"].as_u64(), Some(at(310).unix_nanos()));
    let r = to_http(&DockerResponse::Events(vec![die_event(), die_event()]));
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.body().iter().filter(|b| **b == b'\n').count(), 2);
}

#[test]
fn created_has_an_id_and_an_array_of_warnings() {
    let r = to_http(&DockerResponse::Created {
        id: id(1),
        warnings: vec![],
    });
    assert_eq!(r.status(), StatusCode::CREATED);
    let v = body_json(&r);
    assert_eq!(v["Warnings"], serde_json::json!([]), "an array, never null");
    assert_eq!(v["Id"], id(1).to_hex());
}

#[test]
fn status_only_answers() {
    for (resp, status) in [
        (DockerResponse::NoContent, StatusCode::NO_CONTENT),
        (DockerResponse::NotModified, StatusCode::NOT_MODIFIED),
    ] {
        let r = to_http(&resp);
        assert_eq!(r.status(), status);
        assert!(r.body().is_empty());
        assert!(r.headers().get("content-type").is_none());
        assert_eq!(r.headers()["api-version"], "1.44");
    }
    let r = to_http(&DockerResponse::WaitPending);
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert!(r.body().is_empty(), "the wait body follows later");
    let r = to_http(&DockerResponse::WaitDone {
        status_code: 3,
        error: None,
    });
    assert_eq!(&r.body()[..], &wait_body(3, None)[..]);
    let v: Value = serde_json::from_slice(&wait_body(3, None)).unwrap();
    assert_eq!(v, serde_json::json!({"StatusCode": 3, "Error": null}));
    let v: Value = serde_json::from_slice(&wait_body(1, Some("lost"))).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"StatusCode": 1, "Error": {"Message": "lost"}})
    );
}

#[test]
fn errors_have_the_exact_json_content_type() {
    let e = ApiError::conflict("container is running");
    for r in [
        error_response(&e),
        to_http(&DockerResponse::Error(e.clone())),
    ] {
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(
            body_json(&r),
            serde_json::json!({"message": "container is running"})
        );
    }
}

#[test]
fn rendering_is_deterministic() {
    let a = to_http(&DockerResponse::Inspect(Box::new(container_inspect(
        &running_web(),
        at(5),
    ))));
    for _ in 0..5 {
        let b = to_http(&DockerResponse::Inspect(Box::new(container_inspect(
            &running_web(),
            at(5),
        ))));
        assert_eq!(a.body(), b.body(), "labels and ports come from hash maps");
    }
}
