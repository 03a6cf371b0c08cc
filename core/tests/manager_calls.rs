//! Snapshots of the exact Mesos calls the manager emits in the scenarios that matter most.
//! A change here changes what a real master receives: review it as a protocol change.

mod support;

use mesoswarm_core::docker::request::DockerRequest;
use mesoswarm_core::docker::response::DockerResponse;
use mesoswarm_core::manager::Input;
use mesoswarm_core::spec::{ContainerPort, PortBinding, PortProtocol, ResourceRequest};
use mesoswarm_core::Config;
use mesoswarm_proto::scheduler::call::Type;
use mesoswarm_proto::v1::TaskState;
use support::*;

fn config() -> Config {
    Config {
        seed: 42,
        ..Config::default()
    }
}

#[test]
fn first_subscribe() {
    let mut h = Harness::new(config());
    let outs = h.input(Input::Connected {
        master: "127.0.0.1:5050".into(),
    });
    insta::assert_debug_snapshot!(calls(&outs));
}

#[test]
fn create_and_start_placed_on_an_offer() {
    let mut h = Harness::new(config());
    h.subscribe();
    h.event(offers(vec![offer("O1", "S1", 4.0, 4096.0)]));
    let mut s = spec("busybox");
    s.cmd = Some(vec!["sh".into(), "-c".into(), "sleep 1000".into()]);
    s.env = vec!["A=1".into()];
    s.labels.insert("team".into(), "infra".into());
    s.resources = ResourceRequest {
        nano_cpus: 500_000_000,
        memory_bytes: 256 << 20,
        ..Default::default()
    };
    let p80 = ContainerPort {
        port: 80,
        protocol: PortProtocol::Tcp,
    };
    s.exposed_ports = vec![p80];
    s.port_bindings = vec![PortBinding {
        container: p80,
        host_ip: String::new(),
        host_port: None,
    }];
    let id = h.create(Some("web"), s);
    let (_, outs) = h.start(&id);
    let accepts = calls_of(&outs, Type::Accept);
    assert_eq!(accepts.len(), 1);
    insta::assert_debug_snapshot!(accepts);
}

#[test]
fn two_containers_packed_into_one_offer() {
    let mut h = Harness::new(config());
    h.subscribe();
    // Both starts arrive before the offer: one pass places both, one ACCEPT carries both.
    let a = h.create(Some("ca"), spec("busybox"));
    let b = h.create(Some("cb"), spec("busybox"));
    h.start(&a);
    h.start(&b);
    let outs = h.event(offers(vec![offer("O1", "S1", 1.0, 1024.0)]));
    let accepts = calls_of(&outs, Type::Accept);
    assert_eq!(accepts.len(), 1, "one ACCEPT per offer");
    assert_eq!(launched(&outs).len(), 2);
    insta::assert_debug_snapshot!(accepts);
}

#[test]
fn decline_on_hold_timeout() {
    let mut h = Harness::new(config());
    h.subscribe();
    h.event(offers(vec![offer("O1", "S1", 1.0, 1024.0)]));
    assert!(
        calls_of(&h.advance_ms(29_000), Type::Decline).is_empty(),
        "held until the timeout"
    );
    let outs = h.advance_ms(1_000);
    let declines = calls_of(&outs, Type::Decline);
    insta::assert_debug_snapshot!(declines);
}

#[test]
fn stop_sends_kill_with_grace() {
    let mut h = Harness::new(config());
    h.subscribe();
    h.event(offers(vec![offer("O1", "S1", 1.0, 1024.0)]));
    let id = h.create(Some("web"), spec("busybox"));
    let (_, outs) = h.start(&id);
    let task = launched(&outs)[0].task_id.value.clone();
    h.event(update(&task, "S1", TaskState::TaskRunning, Some(1), ""));
    let (_, outs) = h.docker(DockerRequest::ContainerStop {
        container: "web".into(),
        timeout_secs: Some(7),
        signal: None,
    });
    let kills = calls_of(&outs, Type::Kill);
    insta::assert_debug_snapshot!(kills);
}

#[test]
fn resubscribe_reconciles() {
    let mut h = Harness::new(config());
    h.subscribe();
    h.event(offers(vec![offer("O1", "S1", 1.0, 1024.0)]));
    let id = h.create(Some("web"), spec("busybox"));
    let (start, outs) = h.start(&id);
    let task = launched(&outs)[0].task_id.value.clone();
    let outs = h.event(update(&task, "S1", TaskState::TaskRunning, Some(1), ""));
    assert_eq!(response(&outs, start), Some(DockerResponse::NoContent));
    h.input(Input::Disconnected {
        reason: "stream ended".into(),
    });
    let mut outs = h.input(Input::Connected {
        master: "127.0.0.1:5050".into(),
    });
    outs.extend(h.event(subscribed(FRAMEWORK_ID)));
    insta::assert_debug_snapshot!(calls(&outs));
}
