//! Container lifecycles driven through the manager as a Docker client and a Mesos master
//! would drive them, checking what the client is told and what Mesos is asked.

mod support;

use mesoswarm_core::container::DockerStatus;
use mesoswarm_core::docker::proxy_route::ProxyOp;
use mesoswarm_core::docker::request::{DockerRequest, WaitCondition};
use mesoswarm_core::docker::response::DockerResponse;
use mesoswarm_core::manager::{Input, Manager, Output, Record};
use mesoswarm_core::spec::ResourceRequest;
use mesoswarm_core::Config;
use mesoswarm_proto::scheduler::call::Type;
use mesoswarm_proto::scheduler::Event;
use mesoswarm_proto::v1::TaskState;
use support::*;

fn running(h: &mut Harness, name: &str) -> (String, String) {
    if h.m.held_offer_count() == 0 {
        h.event(offers(vec![offer(&format!("O-{name}"), "S1", 4.0, 4096.0)]));
    }
    let id = h.create(Some(name), spec("busybox"));
    let (start, outs) = h.start(&id);
    let task = launched(&outs).pop().expect("launched").task_id.value;
    let outs = h.event(update(&task, "S1", TaskState::TaskRunning, Some(9), ""));
    assert_eq!(
        response(&outs, start),
        Some(DockerResponse::NoContent),
        "start answers once RUNNING"
    );
    (id, task)
}

fn status_of(h: &Harness, id: &str) -> DockerStatus {
    h.m.containers()
        .find(|c| c.id.to_hex() == id)
        .expect("container")
        .status
}

#[test]
fn create_is_answered_only_once_its_record_is_durable() {
    let mut h = Harness::new(Config::default());
    h.auto_persist = false;
    let (req, outs) = h.docker(DockerRequest::ContainerCreate {
        name: Some("web".into()),
        spec: Box::new(spec("busybox")),
        warnings: Vec::new(),
    });
    assert_eq!(response(&outs, req), None);
    let seq = outs
        .iter()
        .find_map(|o| match o {
            Output::Persist { seq, .. } => Some(*seq),
            _ => None,
        })
        .unwrap();
    let outs = h.input(Input::Persisted { up_to: seq });
    assert!(matches!(
        response(&outs, req),
        Some(DockerResponse::Created { .. })
    ));
}

#[test]
fn launch_waits_for_the_intent_to_be_durable() {
    let mut h = Harness::new(Config::default());
    h.subscribe();
    h.event(offers(vec![offer("O1", "S1", 1.0, 1024.0)]));
    let id = h.create(Some("web"), spec("busybox"));
    h.auto_persist = false;
    let (_, outs) = h.start(&id);
    assert!(
        launched(&outs).is_empty(),
        "no LAUNCH before the intent is persisted"
    );
    let seq = outs
        .iter()
        .rev()
        .find_map(|o| match o {
            Output::Persist { seq, .. } => Some(*seq),
            _ => None,
        })
        .unwrap();
    let outs = h.input(Input::Persisted { up_to: seq });
    assert_eq!(launched(&outs).len(), 1);
}

#[test]
fn start_runs_stop_kills_with_grace_and_wait_reports_the_exit_code() {
    let mut h = Harness::new(Config::default());
    h.subscribe();
    let (id, task) = running(&mut h, "web");
    assert_eq!(status_of(&h, &id), DockerStatus::Running);
    let (wait, outs) = h.docker(DockerRequest::ContainerWait {
        container: "web".into(),
        condition: WaitCondition::NextExit,
    });
    assert_eq!(
        response(&outs, wait),
        Some(DockerResponse::WaitPending),
        "wait headers go out at once"
    );
    let (stop, outs) = h.docker(DockerRequest::ContainerStop {
        container: "web".into(),
        timeout_secs: None,
        signal: None,
    });
    assert_eq!(calls_of(&outs, Type::Kill).len(), 1);
    assert_eq!(
        response(&outs, stop),
        None,
        "stop answers when the task is down"
    );
    let outs = h.event(update(
        &task,
        "S1",
        TaskState::TaskKilled,
        Some(10),
        "Container terminated with signal Terminated",
    ));
    assert_eq!(response(&outs, stop), Some(DockerResponse::NoContent));
    assert_eq!(
        response(&outs, wait),
        Some(DockerResponse::WaitDone {
            status_code: 143,
            error: None
        })
    );
    assert_eq!(status_of(&h, &id), DockerStatus::Exited);
    let (again, outs) = h.docker(DockerRequest::ContainerStop {
        container: "web".into(),
        timeout_secs: None,
        signal: None,
    });
    assert_eq!(response(&outs, again), Some(DockerResponse::NotModified));
}

#[test]
fn a_task_that_fails_before_running_fails_the_start_with_the_mesos_message() {
    let mut h = Harness::new(Config::default());
    h.subscribe();
    h.event(offers(vec![offer("O1", "S1", 1.0, 1024.0)]));
    let id = h.create(Some("web"), spec("busybox"));
    let (start, outs) = h.start(&id);
    let task = launched(&outs)[0].task_id.value.clone();
    let outs = h.event(update(
        &task,
        "S1",
        TaskState::TaskFailed,
        Some(3),
        "Executor terminated",
    ));
    match response(&outs, start) {
        Some(DockerResponse::Error(e)) => {
            assert_eq!(e.status.as_u16(), 500);
            assert!(
                e.message.contains("TASK_FAILED: Executor terminated"),
                "{}",
                e.message
            );
        }
        other => panic!("expected an error, got {other:?}"),
    }
    let c = h.m.containers().next().unwrap();
    assert_eq!(c.status, DockerStatus::Exited);
    assert_eq!(c.error, "TASK_FAILED: Executor terminated");
    assert_eq!(
        calls_of(&outs, Type::Acknowledge).len(),
        1,
        "the agent's update is acknowledged"
    );
}

#[test]
fn exit_status_comes_from_the_docker_executor_message() {
    let mut h = Harness::new(Config::default());
    h.subscribe();
    let (_, task) = running(&mut h, "job");
    let (wait, _) = h.docker(DockerRequest::ContainerWait {
        container: "job".into(),
        condition: WaitCondition::NotRunning,
    });
    let outs = h.event(update(
        &task,
        "S1",
        TaskState::TaskFailed,
        Some(4),
        "Container exited with status 3",
    ));
    assert_eq!(
        response(&outs, wait),
        Some(DockerResponse::WaitDone {
            status_code: 3,
            error: None
        })
    );
}

#[test]
fn no_offer_fits_within_the_task_timeout() {
    let mut h = Harness::new(Config {
        task_timeout_ms: 5_000,
        ..Config::default()
    });
    h.subscribe();
    let mut s = spec("busybox");
    s.resources = ResourceRequest {
        nano_cpus: 8_000_000_000,
        ..Default::default()
    };
    let id = h.create(Some("big"), s);
    let (start, _) = h.start(&id);
    let outs = h.event(offers(vec![offer("O1", "S1", 1.0, 1024.0)]));
    assert_eq!(
        calls_of(&outs, Type::Decline).len(),
        1,
        "an offer nothing pending fits is declined at once"
    );
    let outs = h.advance_ms(5_000);
    match response(&outs, start) {
        Some(DockerResponse::Error(e)) => assert!(
            e.message
                .contains("no Mesos offer fitted container big (cpus 8"),
            "{}",
            e.message
        ),
        other => panic!("expected a timeout error, got {other:?}"),
    }
    assert_eq!(status_of(&h, &id), DockerStatus::Created);
}

#[test]
fn names_are_unique_and_bad_references_are_404() {
    let mut h = Harness::new(Config::default());
    h.create(Some("web"), spec("busybox"));
    let (req, outs) = h.docker(DockerRequest::ContainerCreate {
        name: Some("web".into()),
        spec: Box::new(spec("busybox")),
        warnings: Vec::new(),
    });
    match response(&outs, req) {
        Some(DockerResponse::Error(e)) => {
            assert_eq!(e.status.as_u16(), 409);
            assert!(e.message.starts_with(
                "Conflict. The container name \"/web\" is already in use by container \""
            ));
        }
        other => panic!("{other:?}"),
    }
    let (req, outs) = h.docker(DockerRequest::ContainerInspect {
        container: "nope".into(),
        size: false,
    });
    match response(&outs, req) {
        Some(DockerResponse::Error(e)) => assert_eq!(
            (e.status.as_u16(), e.message.as_str()),
            (404, "No such container: nope")
        ),
        other => panic!("{other:?}"),
    }
    let generated = h.create(None, spec("busybox"));
    let c =
        h.m.containers()
            .find(|c| c.id.to_hex() == generated)
            .unwrap();
    assert!(c.name.contains('_'));
    // An id prefix resolves.
    let (req, outs) = h.docker(DockerRequest::ContainerInspect {
        container: generated[..12].into(),
        size: false,
    });
    assert!(matches!(
        response(&outs, req),
        Some(DockerResponse::Inspect(_))
    ));
}

#[test]
fn rm_of_a_running_container_needs_force_and_kills_through_mesos() {
    let mut h = Harness::new(Config::default());
    h.subscribe();
    let (id, task) = running(&mut h, "web");
    let (rm, outs) = h.docker(DockerRequest::ContainerRemove {
        container: "web".into(),
        force: false,
        volumes: false,
    });
    match response(&outs, rm) {
        Some(DockerResponse::Error(e)) => assert_eq!(
            e.message,
            "cannot remove container \"/web\": container is running: stop the container before removing or force remove"
        ),
        other => panic!("{other:?}"),
    }
    let (removed_wait, _) = h.docker(DockerRequest::ContainerWait {
        container: "web".into(),
        condition: WaitCondition::Removed,
    });
    let (rm, outs) = h.docker(DockerRequest::ContainerRemove {
        container: "web".into(),
        force: true,
        volumes: false,
    });
    assert_eq!(calls_of(&outs, Type::Kill).len(), 1);
    assert_eq!(status_of(&h, &id), DockerStatus::Removing);
    let outs = h.event(update(&task, "S1", TaskState::TaskKilled, Some(2), ""));
    assert_eq!(response(&outs, rm), Some(DockerResponse::NoContent));
    assert!(matches!(
        response(&outs, removed_wait),
        Some(DockerResponse::WaitDone { .. })
    ));
    assert_eq!(h.m.container_count(), 0);
    assert!(outs.iter().any(|o| matches!(
        o,
        Output::Persist {
            record: Record::ContainerRemoved(_),
            ..
        }
    )));
}

#[test]
fn restart_kills_then_launches_a_new_task() {
    let mut h = Harness::new(Config::default());
    h.subscribe();
    let (_, task) = running(&mut h, "web");
    let (restart, outs) = h.docker(DockerRequest::ContainerRestart {
        container: "web".into(),
        timeout_secs: Some(1),
        signal: None,
    });
    assert_eq!(calls_of(&outs, Type::Kill).len(), 1);
    h.event(offers(vec![offer("O2", "S2", 2.0, 2048.0)]));
    let outs = h.event(update(&task, "S1", TaskState::TaskKilled, Some(5), ""));
    let relaunched = launched(&outs);
    assert_eq!(relaunched.len(), 1);
    assert!(
        relaunched[0].task_id.value.ends_with(".2"),
        "task ids are never reused"
    );
    let outs = h.event(update(
        &relaunched[0].task_id.value,
        "S2",
        TaskState::TaskRunning,
        Some(6),
        "",
    ));
    assert_eq!(response(&outs, restart), Some(DockerResponse::NoContent));
    assert_eq!(h.m.containers().next().unwrap().restart_count, 1);
}

#[test]
fn a_rescinded_offer_is_never_used_and_its_tasks_are_placed_again() {
    let mut h = Harness::new(Config::default());
    h.subscribe();
    h.event(offers(vec![offer("O1", "S1", 1.0, 1024.0)]));
    let id = h.create(Some("web"), spec("busybox"));
    h.auto_persist = false;
    let (_, outs) = h.start(&id);
    assert!(launched(&outs).is_empty());
    let seq = outs
        .iter()
        .rev()
        .find_map(|o| match o {
            Output::Persist { seq, .. } => Some(*seq),
            _ => None,
        })
        .unwrap();
    h.event(rescind("O1"));
    let outs = h.input(Input::Persisted { up_to: seq });
    assert!(calls(&outs).is_empty(), "no ACCEPT of a rescinded offer");
    h.auto_persist = true;
    let outs = h.event(offers(vec![offer("O2", "S2", 1.0, 1024.0)]));
    let t = launched(&outs);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].agent_id.value, "S2");
}

#[test]
fn duplicate_updates_change_nothing_but_are_acknowledged_each_time() {
    let mut h = Harness::new(Config::default());
    h.subscribe();
    let (_, task) = running(&mut h, "web");
    let before: Vec<_> = h.m.containers().cloned().collect();
    let outs = h.event(update(&task, "S1", TaskState::TaskRunning, Some(9), ""));
    assert_eq!(calls_of(&outs, Type::Acknowledge).len(), 1);
    assert!(
        !outs.iter().any(|o| matches!(o, Output::Event(_))),
        "no second start event"
    );
    let after: Vec<_> = h.m.containers().cloned().collect();
    assert_eq!(before, after);
    // A stale STARTING after RUNNING does not move the task back.
    h.event(update(&task, "S1", TaskState::TaskStarting, Some(8), ""));
    assert_eq!(
        h.m.containers().next().unwrap().status,
        DockerStatus::Running
    );
}

#[test]
fn dropped_launches_are_placed_again_and_orphans_are_killed() {
    let mut h = Harness::new(Config::default());
    h.subscribe();
    h.event(offers(vec![
        offer("O1", "S1", 1.0, 1024.0),
        offer("O2", "S2", 1.0, 1024.0),
    ]));
    let id = h.create(Some("web"), spec("busybox"));
    let (_, outs) = h.start(&id);
    let task = launched(&outs)[0].task_id.value.clone();
    let outs = h.event(update(
        &task,
        "S1",
        TaskState::TaskDropped,
        None,
        "Task launched with invalid offers",
    ));
    assert_eq!(launched(&outs).len(), 1, "placed again on the other offer");
    assert!(
        calls_of(&outs, Type::Acknowledge).is_empty(),
        "master updates carry no uuid: no ACK"
    );
    let outs = h.event(update(
        "someone-elses-task",
        "S9",
        TaskState::TaskRunning,
        Some(1),
        "",
    ));
    let kills = calls_of(&outs, Type::Kill);
    assert_eq!(kills.len(), 1);
    assert_eq!(
        kills[0].kill.as_ref().unwrap().task_id.value,
        "someone-elses-task"
    );
}

#[test]
fn a_silent_master_makes_the_manager_reconnect_and_errors_are_recovered_from() {
    let mut h = Harness::new(Config::default());
    h.subscribe();
    h.advance_ms(60_000);
    h.event(heartbeat());
    let outs = h.advance_ms(74_000);
    assert!(
        !outs.iter().any(|o| matches!(o, Output::Reconnect { .. })),
        "heartbeats keep it alive"
    );
    let outs = h.advance_ms(1_000);
    assert!(
        outs.iter().any(|o| matches!(o, Output::Reconnect { .. })),
        "75 s of silence is a dead master"
    );
    assert!(!h.m.is_subscribed());
    h.subscribe();
    let outs = h.event(error_event("Framework has been removed"));
    assert!(outs.iter().any(|o| matches!(o, Output::Reconnect { .. })));
    assert_eq!(
        h.m.framework_id(),
        None,
        "a removed framework id is forgotten"
    );
}

#[test]
fn idle_suppresses_and_new_work_revives() {
    let mut h = Harness::new(Config::default());
    h.subscribe();
    let outs = h.advance_ms(30_000);
    assert_eq!(calls_of(&outs, Type::Suppress).len(), 1);
    let id = h.create(Some("web"), spec("busybox"));
    let (_, outs) = h.start(&id);
    assert_eq!(calls_of(&outs, Type::Revive).len(), 1);
}

#[test]
fn limits_give_clear_errors() {
    let mut config = Config::default();
    config.limits.max_containers = 1;
    let mut h = Harness::new(config);
    h.create(Some("one"), spec("busybox"));
    let (req, outs) = h.docker(DockerRequest::ContainerCreate {
        name: Some("two".into()),
        spec: Box::new(spec("busybox")),
        warnings: Vec::new(),
    });
    match response(&outs, req) {
        Some(DockerResponse::Error(e)) => {
            assert_eq!(e.status.as_u16(), 503);
            assert!(e.message.contains("max_containers"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_restarted_manager_reconciles_what_it_had_launched() {
    let mut h = Harness::new(Config::default());
    h.subscribe();
    let (_, task) = running(&mut h, "web");
    let records: Vec<Record> = h.records.iter().map(|(_, r)| r.clone()).collect();
    let m = Manager::restore(Config::default(), records);
    assert_eq!(m.framework_id(), Some(FRAMEWORK_ID));
    let mut h2 = Harness::with_manager(m);
    let outs = h2.input(Input::Connected {
        master: "127.0.0.1:5050".into(),
    });
    let sub = calls_of(&outs, Type::Subscribe);
    assert_eq!(
        sub[0].framework_id.as_ref().unwrap().value,
        FRAMEWORK_ID,
        "re-subscribes with its framework id"
    );
    let outs = h2.event(subscribed(FRAMEWORK_ID));
    let rec = calls_of(&outs, Type::Reconcile);
    assert_eq!(rec.len(), 2, "explicit, then implicit");
    assert_eq!(
        rec[0].reconcile.as_ref().unwrap().tasks[0].task_id.value,
        task
    );
    assert!(rec[1].reconcile.as_ref().unwrap().tasks.is_empty());
    assert_eq!(
        h2.m.containers().next().unwrap().status,
        DockerStatus::Running
    );
}

#[test]
fn work_that_fits_nowhere_revives_once_then_lets_refuse_seconds_work() {
    let mut h = Harness::new(Config::default());
    h.subscribe();
    let mut s = spec("busybox");
    s.resources = ResourceRequest {
        nano_cpus: 64_000_000_000,
        ..Default::default()
    };
    let id = h.create(Some("huge"), s);
    let (_, outs) = h.start(&id);
    assert_eq!(calls_of(&outs, Type::Revive).len(), 1, "new work revives");
    let mut revives = 0;
    for n in 0..10 {
        h.advance_ms(1_000);
        let outs = h.event(offers(vec![offer(&format!("O{n}"), "S1", 4.0, 4096.0)]));
        assert_eq!(
            calls_of(&outs, Type::Decline).len(),
            1,
            "declined at once: it fits nothing waiting"
        );
        revives += calls_of(&outs, Type::Revive).len();
    }
    assert_eq!(
        revives, 0,
        "no REVIVE after a decline: it would clear the refuse filter"
    );
}

#[test]
fn rm_is_answered_only_once_the_removal_is_durable() {
    let mut h = Harness::new(Config::default());
    h.create(Some("gone"), spec("busybox"));
    h.auto_persist = false;
    let (rm, outs) = h.docker(DockerRequest::ContainerRemove {
        container: "gone".into(),
        force: false,
        volumes: false,
    });
    assert_eq!(
        response(&outs, rm),
        None,
        "not before the record is durable"
    );
    let seq = outs
        .iter()
        .rev()
        .find_map(|o| match o {
            Output::Persist { seq, .. } => Some(*seq),
            _ => None,
        })
        .unwrap();
    let outs = h.input(Input::Persisted { up_to: seq });
    assert_eq!(response(&outs, rm), Some(DockerResponse::NoContent));
}

/// `update` with the docker inspect JSON Mesos' Docker executor puts in `data`.
fn running_with_inspect(task: &str, agent: &str, uuid: u8, docker_id: &str) -> Event {
    let mut e = update(task, agent, TaskState::TaskRunning, Some(uuid), "");
    if let Some(u) = e.update.as_mut() {
        u.status.data = Some(format!(r#"[{{"Id":"{docker_id}","Name":"/mesos-x"}}]"#).into_bytes());
    }
    e
}

#[test]
fn an_attach_before_start_is_told_where_the_container_runs_once_its_task_runs() {
    let mut h = Harness::new(Config::default());
    h.subscribe();
    let mut o = offer("O1", "S1", 1.0, 1024.0);
    o.attributes.push(text_attribute("docker_port", "4243"));
    h.event(offers(vec![o]));
    let id = h.create(Some("fg"), spec("busybox"));
    let (attach, outs) = h.docker(DockerRequest::Locate {
        container: "fg".into(),
        op: ProxyOp::Attach,
    });
    assert_eq!(
        response(&outs, attach),
        Some(DockerResponse::LocatePending { tty: false }),
        "the client gets its 101 before the container runs"
    );
    let (start, outs) = h.start(&id);
    let task = launched(&outs)[0].task_id.value.clone();
    let outs = h.event(running_with_inspect(&task, "S1", 1, "engine-side-id"));
    assert_eq!(response(&outs, start), Some(DockerResponse::NoContent));
    match response(&outs, attach) {
        Some(DockerResponse::Located(l)) => {
            assert_eq!(l.docker_id, "engine-side-id");
            assert_eq!(l.agent_hostname, "S1.cluster.test");
            assert_eq!(l.agent_docker_port, Some(4243));
            assert!(l.running);
            assert_eq!(l.id.to_hex(), id);
        }
        other => panic!("{other:?}"),
    }
    // Logs of the running container are located at once.
    let (logs, outs) = h.docker(DockerRequest::Locate {
        container: "fg".into(),
        op: ProxyOp::Logs,
    });
    assert!(matches!(
        response(&outs, logs),
        Some(DockerResponse::Located(_))
    ));
}

#[test]
fn an_attach_to_a_task_that_fails_before_running_gets_the_mesos_reason() {
    let mut h = Harness::new(Config::default());
    h.subscribe();
    h.event(offers(vec![offer("O1", "S1", 1.0, 1024.0)]));
    let id = h.create(Some("fg"), spec("no-such-image"));
    let (attach, _) = h.docker(DockerRequest::Locate {
        container: "fg".into(),
        op: ProxyOp::Attach,
    });
    let (_, outs) = h.start(&id);
    let task = launched(&outs)[0].task_id.value.clone();
    let outs = h.event(update(
        &task,
        "S1",
        TaskState::TaskFailed,
        Some(1),
        "Failed to launch container: No such image: no-such-image",
    ));
    match response(&outs, attach) {
        Some(DockerResponse::Error(e)) => {
            assert_eq!(e.status.as_u16(), 409);
            assert!(
                e.message.contains("No such image: no-such-image"),
                "{}",
                e.message
            );
        }
        other => panic!("{other:?}"),
    }
    // A container that never ran has no engine-side container for logs.
    let (logs, outs) = h.docker(DockerRequest::Locate {
        container: "fg".into(),
        op: ProxyOp::Logs,
    });
    assert!(matches!(
        response(&outs, logs),
        Some(DockerResponse::NotOnAgent { .. })
    ));
}

#[test]
fn an_attach_waiter_is_answered_when_its_container_is_removed_and_forgotten_when_it_leaves() {
    let mut h = Harness::new(Config::default());
    h.subscribe();
    let id = h.create(Some("fg"), spec("busybox"));
    let (attach, _) = h.docker(DockerRequest::Locate {
        container: "fg".into(),
        op: ProxyOp::Attach,
    });
    let (rm, outs) = h.docker(DockerRequest::ContainerRemove {
        container: id.clone(),
        force: true,
        volumes: false,
    });
    let mut outs = outs;
    outs.extend(h.drain());
    match response(&outs, attach) {
        Some(DockerResponse::Error(e)) => {
            assert!(e.message.contains("was removed"), "{}", e.message)
        }
        other => panic!("{other:?} (rm: {:?})", response(&outs, rm)),
    }
}
