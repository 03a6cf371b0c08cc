//! Core bugs the simulator found (its seeds are in `simulations/regressions.txt`), each
//! pinned down here by hand.

mod support;

use mesoswarm_core::docker::request::DockerRequest;
use mesoswarm_core::docker::response::DockerResponse;
use mesoswarm_core::Config;
use mesoswarm_proto::scheduler::call::Type;
use mesoswarm_proto::v1::TaskState;
use support::*;

/// A started container whose task Mesos accepted (no update yet).
fn launched_container(h: &mut Harness) -> (String, String, u64) {
    h.subscribe();
    h.event(offers(vec![offer("O1", "S1", 4.0, 4096.0)]));
    let id = h.create(Some("web"), spec("busybox"));
    let (start, outs) = h.start(&id);
    let task = launched(&outs).pop().expect("launched").task_id.value;
    (id, task, start)
}

#[test]
fn an_unreachable_task_is_reconciled_until_mesos_answers_otherwise() {
    // The launch never reached the partitioned agent: Mesos says UNREACHABLE, and when the
    // agent is back it reports only the tasks it has, so nothing more comes unless we ask.
    let mut h = Harness::new(Config::default());
    let (_, task, start) = launched_container(&mut h);
    let outs = h.event(update(
        &task,
        "S1",
        TaskState::TaskUnreachable,
        None,
        "health check timed out",
    ));
    assert!(calls_of(&outs, Type::Reconcile).is_empty());
    let outs = h.advance_ms(h.m.config().reconcile_retry_min_ms);
    let asked = calls_of(&outs, Type::Reconcile);
    assert_eq!(asked.len(), 1, "{outs:?}");
    let named = &asked[0].reconcile.as_ref().unwrap().tasks;
    assert_eq!(named[0].task_id.value, task);
    assert_eq!(named[0].agent_id.as_ref().unwrap().value, "S1");
    // Still unreachable: asked again later.
    h.event(update(
        &task,
        "S1",
        TaskState::TaskUnreachable,
        None,
        "Reconciliation: Task is unreachable",
    ));
    let outs = h.advance_ms(2 * h.m.config().reconcile_retry_min_ms + 1);
    assert_eq!(calls_of(&outs, Type::Reconcile).len(), 1);
    // The agent came back without it: TASK_GONE, and the container is placed again.
    h.event(offers(vec![offer("O2", "S2", 4.0, 4096.0)]));
    let outs = h.event(update(
        &task,
        "S1",
        TaskState::TaskGone,
        None,
        "Reconciliation: Task is unknown to the agent",
    ));
    let again = launched(&outs);
    assert_eq!(again.len(), 1, "relaunched: {outs:?}");
    assert_ne!(again[0].task_id.value, task);
    let outs = h.event(update(
        &again[0].task_id.value,
        "S2",
        TaskState::TaskRunning,
        Some(3),
        "",
    ));
    assert_eq!(response(&outs, start), Some(DockerResponse::NoContent));
    // Answered: no more reconciliation of the old task.
    let outs = h.advance_ms(h.m.config().reconcile_retry_max_ms + 1);
    assert!(calls_of(&outs, Type::Reconcile).iter().all(|c| c
        .reconcile
        .as_ref()
        .unwrap()
        .tasks
        .iter()
        .all(|t| t.task_id.value != task)));
}

#[test]
fn a_task_mesos_reports_unknown_no_longer_blocks_start_stop_or_rm() {
    // After a master failover, a task on an agent the new master has no record of (it was
    // removed) is TASK_UNKNOWN: it is over for the manager.
    let mut h = Harness::new(Config::default());
    let (id, task, _) = launched_container(&mut h);
    h.event(update(&task, "S1", TaskState::TaskRunning, Some(1), ""));
    h.event(update(
        &task,
        "S1",
        TaskState::TaskUnknown,
        None,
        "Reconciliation: Task is unknown",
    ));
    let c = h.m.containers().find(|c| c.id.to_hex() == id).unwrap();
    assert!(!c.has_live_task());
    // stop: nothing to stop.
    let (stop, outs) = h.docker(DockerRequest::ContainerStop {
        container: id.clone(),
        timeout_secs: Some(1),
        signal: None,
    });
    assert_eq!(response(&outs, stop), Some(DockerResponse::NotModified));
    assert!(calls_of(&outs, Type::Kill).is_empty());
    // start: a new task.
    h.event(offers(vec![offer("O2", "S2", 4.0, 4096.0)]));
    let (_, outs) = h.start(&id);
    let again = launched(&outs);
    assert_eq!(again.len(), 1);
    h.event(update(
        &again[0].task_id.value,
        "S2",
        TaskState::TaskRunning,
        Some(2),
        "",
    ));
    h.docker(DockerRequest::ContainerKill {
        container: id.clone(),
        signal: None,
    });
    h.event(update(
        &again[0].task_id.value,
        "S2",
        TaskState::TaskKilled,
        Some(4),
        "",
    ));
    // rm without -f works once nothing runs.
    let (rm, outs) = h.docker(DockerRequest::ContainerRemove {
        container: id.clone(),
        force: false,
        volumes: false,
    });
    assert_eq!(response(&outs, rm), Some(DockerResponse::NoContent));
    // A late terminal update of the unknown task changes nothing and is not a second exit.
    let outs = h.event(update(&task, "S1", TaskState::TaskGone, None, ""));
    assert!(outs
        .iter()
        .all(|o| !matches!(o, mesoswarm_core::manager::Output::Event(_))));
}

#[test]
fn a_task_that_runs_after_mesos_reported_it_gone_is_killed() {
    // A KILL that overtakes its task's ACCEPT (calls go on separate connections) gets
    // TASK_GONE from the master; then the ACCEPT arrives and the task runs after all.
    let mut h = Harness::new(Config::default());
    let (id, task, _) = launched_container(&mut h);
    let (_, outs) = h.docker(DockerRequest::ContainerKill {
        container: id.clone(),
        signal: None,
    });
    assert_eq!(calls_of(&outs, Type::Kill).len(), 1);
    h.event(update(
        &task,
        "S1",
        TaskState::TaskGone,
        None,
        "Reconciliation: Task is unknown to the agent",
    ));
    let outs = h.event(update(&task, "S1", TaskState::TaskRunning, Some(5), ""));
    let kills = calls_of(&outs, Type::Kill);
    assert_eq!(kills.len(), 1, "{outs:?}");
    assert_eq!(kills[0].kill.as_ref().unwrap().task_id.value, task);
    // It stays ended for the client, and the update is still acknowledged.
    let c = h.m.containers().find(|c| c.id.to_hex() == id).unwrap();
    assert!(!c.has_live_task());
    assert_eq!(calls_of(&outs, Type::Acknowledge).len(), 1);
}

fn last_persist_seq(outs: &[mesoswarm_core::manager::Output]) -> u64 {
    outs.iter()
        .filter_map(|o| match o {
            mesoswarm_core::manager::Output::Persist { seq, .. } => Some(*seq),
            _ => None,
        })
        .max()
        .expect("a record")
}

#[test]
fn an_accept_waits_for_the_newest_intent_even_after_a_cancelled_launch_on_its_offer() {
    // Found by the simulator: a launch stopped before its ACCEPT left emptied the offer's
    // task list but left its release point queued; the next container placed on that offer
    // then left with that earlier point, before its own intent was durable.
    let mut h = Harness::new(Config::default());
    h.subscribe();
    h.event(offers(vec![offer("O1", "S1", 4.0, 4096.0)]));
    let a = h.create(Some("first"), spec("busybox"));
    let b = h.create(Some("second"), spec("busybox"));
    h.auto_persist = false;
    let (_, outs) = h.start(&a);
    assert!(
        launched(&outs).is_empty(),
        "the ACCEPT waits for a's intent"
    );
    let a_intent = last_persist_seq(&outs);
    h.docker(DockerRequest::ContainerStop {
        container: a.clone(),
        timeout_secs: Some(1),
        signal: None,
    });
    let (_, outs) = h.start(&b);
    let b_intent = last_persist_seq(&outs);
    assert!(b_intent > a_intent);
    let outs = h.input(mesoswarm_core::manager::Input::Persisted { up_to: a_intent });
    assert!(
        launched(&outs).is_empty(),
        "b's intent is not durable yet: {outs:?}"
    );
    let outs = h.input(mesoswarm_core::manager::Input::Persisted { up_to: b_intent });
    let sent = launched(&outs);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].task_id.value.starts_with(&b));
}

#[test]
fn inspect_and_ps_show_only_what_is_durable() {
    // Found by the simulator: inspect showed an exit whose record was not durable yet; a
    // crash then brought back the older state, and the client saw time go backwards.
    let mut h = Harness::new(Config::default());
    let (id, task, _) = launched_container(&mut h);
    h.event(update(&task, "S1", TaskState::TaskRunning, Some(1), ""));
    h.auto_persist = false;
    let outs = h.event(update(
        &task,
        "S1",
        TaskState::TaskFailed,
        Some(2),
        "Container exited with status 3",
    ));
    let exit = last_persist_seq(&outs);
    let (inspect, outs) = h.docker(DockerRequest::ContainerInspect {
        container: id.clone(),
        size: false,
    });
    assert_eq!(
        response(&outs, inspect),
        None,
        "not before the exit is durable"
    );
    let (ps, outs) = h.docker(DockerRequest::ContainerList(Default::default()));
    assert_eq!(response(&outs, ps), None);
    let outs = h.input(mesoswarm_core::manager::Input::Persisted { up_to: exit });
    match response(&outs, inspect) {
        Some(DockerResponse::Inspect(i)) => {
            assert_eq!(i.state.unwrap().exit_code, Some(3));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(response(&outs, ps), Some(DockerResponse::List(_))));
}
