//! The simulated master at its HTTP-level API, as `mesoswarm dev` serves it: the real
//! master's statuses and order of checks, subscription and failover, offers and filters,
//! ACCEPT validation, status updates and acknowledgements, KILL and reconciliation.

mod support;

use mesoswarm_proto::scheduler::{call, event};
use mesoswarm_proto::v1::{task_status, AgentId, Filters, TaskId, TaskState};
use mesoswarm_sim::resources::Res;
use support::*;

#[test]
fn subscribe_gives_subscribed_then_a_heartbeat_then_offers_and_master_info() {
    let mut c = cluster(3);
    let (fw, stream, s) = subscribe(&mut c, 0);
    assert_eq!(stream.len(), 36);
    assert!(
        fw.starts_with(c.master_id()) && fw.ends_with("-0000"),
        "{fw}"
    );
    let sub = s.events[0].1.subscribed.as_ref().unwrap();
    assert_eq!(sub.heartbeat_interval_seconds, Some(15.0));
    let mi = sub.master_info.as_ref().unwrap();
    assert_eq!(mi.version.as_deref(), Some("1.11.0"));
    assert_eq!(mi.ip, 16_777_343, "127.0.0.1 in network byte order");
    c.handle_timeout(t(1));
    let s2 = drain(&mut c);
    let all: Vec<event::Type> = kinds(&s, &stream)
        .into_iter()
        .chain(kinds(&s2, &stream))
        .collect();
    assert_eq!(
        &all[..3],
        &[
            event::Type::Subscribed,
            event::Type::Heartbeat,
            event::Type::Offers
        ]
    );
    let offers = offers_of(&s2);
    assert_eq!(offers.len(), 3, "one offer per agent");
    assert!(offers[0]
        .id
        .value
        .starts_with(&format!("{}-O", c.master_id())));
    assert_eq!(
        offers[0].allocation_info.as_ref().unwrap().role.as_deref(),
        Some("*")
    );
    // Heartbeats every 15 s.
    c.handle_timeout(t(15_001));
    assert_eq!(kinds(&drain(&mut c), &stream), vec![event::Type::Heartbeat]);
    c.set_master_address("dev.example", 5051);
    assert_eq!(c.master_info().port, 5051);
    assert_eq!(c.master_info().hostname.as_deref(), Some("dev.example"));
}

#[test]
fn non_subscribe_calls_follow_the_real_masters_order_of_checks() {
    let mut c = cluster(1);
    let (fw, stream, _) = subscribe(&mut c, 0);
    // Validation first: no framework id.
    let mut no_fw = call_of(&fw, call::Type::Revive);
    no_fw.framework_id = None;
    let e = c.http_call(t(1), Some(&stream), no_fw).unwrap_err();
    assert_eq!(
        (e.status, e.message.as_str()),
        (
            400,
            "Failed to validate scheduler::Call: Expecting 'framework_id' to be present"
        )
    );
    // A missing sub-message.
    let e = c
        .http_call(t(1), Some(&stream), call_of(&fw, call::Type::Accept))
        .unwrap_err();
    assert_eq!(
        e.message,
        "Failed to validate scheduler::Call: Expecting 'accept' to be present"
    );
    // Unknown framework before anything about streams.
    let e = c
        .http_call(t(1), None, call_of("nope", call::Type::Revive))
        .unwrap_err();
    assert_eq!(
        (e.status, e.message.as_str()),
        (400, "Framework cannot be found")
    );
    // Missing, then stale stream id.
    let e = c
        .http_call(t(1), None, call_of(&fw, call::Type::Revive))
        .unwrap_err();
    assert_eq!(
        (e.status, e.message.as_str()),
        (
            400,
            "All non-subscribe calls should include the 'Mesos-Stream-Id' header"
        )
    );
    let e = c
        .http_call(t(1), Some("other"), call_of(&fw, call::Type::Revive))
        .unwrap_err();
    assert_eq!(e.status, 400);
    assert!(
        e.message
            .starts_with("The stream ID 'other' included in this request didn't match"),
        "{}",
        e.message
    );
    assert_eq!(
        c.http_call(t(1), Some(&stream), call_of(&fw, call::Type::Revive)),
        Ok(202)
    );
    // Disconnected: 403.
    c.http_disconnected(t(2), &stream);
    let e = c
        .http_call(t(3), Some(&stream), call_of(&fw, call::Type::Revive))
        .unwrap_err();
    assert_eq!(
        (e.status, e.message.as_str()),
        (403, "Framework is not subscribed")
    );
    // SUBSCRIBE with a stream id header.
    let e = c
        .http_call(t(3), Some(&stream), subscribe_call(None))
        .unwrap_err();
    assert_eq!(
        e.message,
        "Subscribe calls should not include the 'Mesos-Stream-Id' header"
    );
}

#[test]
fn resubscribing_fails_the_old_stream_over_and_voids_its_offers() {
    let mut c = cluster(2);
    let (fw, old, _) = subscribe(&mut c, 0);
    c.handle_timeout(t(1));
    let offers = offers_of(&drain(&mut c));
    assert_eq!(offers.len(), 2);
    let new = c.http_subscribe(t(2), subscribe_call(Some(&fw))).unwrap();
    let s = drain(&mut c);
    assert_eq!(kinds(&s, &old), vec![event::Type::Error]);
    let err = s
        .events
        .iter()
        .find(|(st, _)| *st == old)
        .unwrap()
        .1
        .error
        .clone()
        .unwrap();
    assert_eq!(err.message, "Framework failed over");
    assert!(s.closed.contains(&old));
    assert_eq!(
        kinds(&s, &new)[..2],
        [event::Type::Subscribed, event::Type::Heartbeat]
    );
    // The old offers are gone without RESCIND: accepting one drops the task.
    c.http_call(
        t(3),
        Some(&new),
        accept(
            &fw,
            &offers[0].id.value,
            vec![task("t1", &offers[0].agent_id.value, &small())],
        ),
    )
    .unwrap();
    let u = updates_of(&drain(&mut c));
    assert_eq!(u[0].state, TaskState::TaskDropped as i32);
    assert_eq!(u[0].reason, Some(task_status::Reason::InvalidOffers as i32));
    assert!(u[0].uuid.is_none(), "master updates carry no uuid");
    assert!(u[0]
        .message
        .as_deref()
        .unwrap()
        .starts_with("Task launched with invalid offers: Offer "));
}

#[test]
fn a_launched_task_reports_starting_and_running_with_uuids_retried_until_acknowledged() {
    let mut c = cluster(1);
    let (fw, stream, _) = subscribe(&mut c, 0);
    c.handle_timeout(t(1));
    let o = offers_of(&drain(&mut c)).remove(0);
    assert_eq!(
        c.http_call(
            t(2),
            Some(&stream),
            accept(
                &fw,
                &o.id.value,
                vec![task("t1", &o.agent_id.value, &small())]
            )
        ),
        Ok(202)
    );
    c.handle_timeout(t(2_100));
    let u = updates_of(&drain(&mut c));
    assert_eq!(u.len(), 1, "one update in flight per task");
    assert_eq!(u[0].state, TaskState::TaskStarting as i32);
    assert_eq!(u[0].source, Some(task_status::Source::Executor as i32));
    assert_eq!(u[0].uuid.as_ref().map(Vec::len), Some(16));
    // Not acknowledged: the same update again after 10 s, nothing newer.
    c.handle_timeout(t(12_200));
    let again = updates_of(&drain(&mut c));
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].uuid, u[0].uuid);
    c.http_call(t(12_300), Some(&stream), ack(&fw, &again[0]))
        .unwrap();
    let running = updates_of(&drain(&mut c));
    assert_eq!(running[0].state, TaskState::TaskRunning as i32);
    let data: serde_json::Value =
        serde_json::from_slice(running[0].data.as_ref().unwrap()).unwrap();
    assert_eq!(
        data[0]["Id"].as_str().unwrap().len(),
        64,
        "docker inspect in TaskStatus.data"
    );
    let truth: Vec<_> = c.tasks().collect();
    assert_eq!(truth[0].state, TaskState::TaskRunning);
    // Over-commit is impossible: the task's resources are used.
    assert!(c.check_ground_truth().is_ok());
}

#[test]
fn accept_validation_gives_task_error_with_the_masters_reasons() {
    let mut c = cluster(1);
    let (fw, stream, _) = subscribe(&mut c, 0);
    c.handle_timeout(t(1));
    let o = offers_of(&drain(&mut c)).remove(0);
    let agent = o.agent_id.value.clone();
    let mut huge = Res::empty();
    huge.add_scalar(
        "cpus",
        "*",
        mesoswarm_core::resources::Milli::from_units(64),
    );
    let mut no_res = task("empty", &agent, &small());
    no_res.resources.clear();
    let tasks = vec![
        task("ok", &agent, &small()),
        task("ok", &agent, &small()),
        task("wrong-agent", "S9", &small()),
        no_res,
        task("too-big", &agent, &huge),
    ];
    c.http_call(t(2), Some(&stream), accept(&fw, &o.id.value, tasks))
        .unwrap();
    let u = updates_of(&drain(&mut c));
    let msgs: Vec<(String, Option<String>)> = u
        .iter()
        .map(|s| (s.task_id.value.clone(), s.message.clone()))
        .collect();
    assert!(u.iter().all(|s| s.state == TaskState::TaskError as i32
        && s.reason == Some(task_status::Reason::TaskInvalid as i32)));
    assert_eq!(
        msgs[0],
        ("ok".into(), Some("Task has duplicate ID: ok".into()))
    );
    assert!(msgs[1]
        .1
        .as_deref()
        .unwrap()
        .starts_with("Task uses invalid agent S9 while agent "));
    assert_eq!(msgs[2].1.as_deref(), Some("Task uses no resources"));
    assert!(msgs[3].1.as_deref().unwrap().starts_with(
        "Total resources cpus(*):64 required by task and its executor is more than available"
    ));
    // The first task launched; the rest of the offer is refused for 5 s, then offered again.
    assert_eq!(c.stats().launched, 1);
    c.handle_timeout(t(3_000));
    assert!(offers_of(&drain(&mut c)).is_empty());
    c.handle_timeout(t(7_100));
    assert_eq!(offers_of(&drain(&mut c)).len(), 1);
}

#[test]
fn decline_filters_suppress_and_revive() {
    let mut c = cluster(2);
    let (fw, stream, _) = subscribe(&mut c, 0);
    c.handle_timeout(t(1));
    let offers = offers_of(&drain(&mut c));
    let mut d = call_of(&fw, call::Type::Decline);
    d.decline = Some(call::Decline {
        offer_ids: offers.iter().map(|o| o.id.clone()).collect(),
        filters: Some(Filters {
            refuse_seconds: Some(60.0),
        }),
    });
    c.http_call(t(2), Some(&stream), d).unwrap();
    c.handle_timeout(t(30_000));
    assert!(offers_of(&drain(&mut c)).is_empty(), "refused for 60 s");
    c.http_call(t(30_001), Some(&stream), call_of(&fw, call::Type::Revive))
        .unwrap();
    c.handle_timeout(t(30_002));
    let again = offers_of(&drain(&mut c));
    assert_eq!(again.len(), 2, "REVIVE clears the filters");
    assert_eq!(c.framework_suppressed(&fw), Some(false));
    c.http_call(t(30_003), Some(&stream), call_of(&fw, call::Type::Suppress))
        .unwrap();
    assert_eq!(c.framework_suppressed(&fw), Some(true));
    // Offers outstanding stay; nothing new comes while suppressed.
    let mut d = call_of(&fw, call::Type::Decline);
    d.decline = Some(call::Decline {
        offer_ids: again.iter().map(|o| o.id.clone()).collect(),
        filters: Some(Filters {
            refuse_seconds: Some(0.0),
        }),
    });
    c.http_call(t(30_004), Some(&stream), d).unwrap();
    c.handle_timeout(t(40_000));
    assert!(offers_of(&drain(&mut c)).is_empty());
}

#[test]
fn kill_and_reconcile_answer_as_the_master_does() {
    let mut c = cluster(1);
    let (fw, stream, _) = subscribe(&mut c, 0);
    let agent = c.agent_id(0).to_string();
    c.handle_timeout(t(1));
    let o = offers_of(&drain(&mut c)).remove(0);
    // KILL of an unknown task: a reconciliation answer.
    let mut k = call_of(&fw, call::Type::Kill);
    k.kill = Some(call::Kill {
        task_id: TaskId {
            value: "ghost".into(),
        },
        agent_id: None,
        kill_policy: None,
    });
    c.http_call(t(1), Some(&stream), k).unwrap();
    let u = updates_of(&drain(&mut c));
    assert_eq!(u[0].state, TaskState::TaskUnknown as i32);
    assert_eq!(
        u[0].message.as_deref(),
        Some("Reconciliation: Task is unknown")
    );
    assert_eq!(
        u[0].reason,
        Some(task_status::Reason::Reconciliation as i32)
    );
    assert_eq!(u[0].source, Some(task_status::Source::Master as i32));
    // Explicit reconciliation naming a registered agent: TASK_GONE.
    let mut r = call_of(&fw, call::Type::Reconcile);
    r.reconcile = Some(call::Reconcile {
        tasks: vec![call::reconcile::Task {
            task_id: TaskId {
                value: "ghost".into(),
            },
            agent_id: Some(AgentId {
                value: agent.clone(),
            }),
        }],
    });
    c.http_call(t(2), Some(&stream), r).unwrap();
    let u = updates_of(&drain(&mut c));
    assert_eq!(u[0].state, TaskState::TaskGone as i32);
    assert_eq!(
        u[0].message.as_deref(),
        Some("Reconciliation: Task is unknown to the agent")
    );
    // A real task: killed with TASK_KILLING then TASK_KILLED.
    c.http_call(
        t(4),
        Some(&stream),
        accept(&fw, &o.id.value, vec![task("t1", &agent, &small())]),
    )
    .unwrap();
    let mut acked = 0;
    let mut states = Vec::new();
    for step in 0..40u64 {
        let now = t(5 + step * 500);
        if step == 10 {
            let mut k = call_of(&fw, call::Type::Kill);
            k.kill = Some(call::Kill {
                task_id: TaskId { value: "t1".into() },
                agent_id: Some(AgentId {
                    value: agent.clone(),
                }),
                kill_policy: None,
            });
            c.http_call(now, Some(&stream), k).unwrap();
        }
        c.handle_timeout(now);
        for u in updates_of(&drain(&mut c)) {
            states.push(TaskState::try_from(u.state).unwrap());
            c.http_call(now, Some(&stream), ack(&fw, &u)).unwrap();
            acked += 1;
        }
    }
    assert_eq!(
        states,
        vec![
            TaskState::TaskStarting,
            TaskState::TaskRunning,
            TaskState::TaskKilling,
            TaskState::TaskKilled
        ]
    );
    assert_eq!(acked, 4);
    assert_eq!(
        c.tasks().count(),
        0,
        "acknowledged terminal tasks are forgotten"
    );
    // Implicit reconciliation now reports nothing.
    c.http_call(t(30_000), Some(&stream), {
        let mut r = call_of(&fw, call::Type::Reconcile);
        r.reconcile = Some(call::Reconcile { tasks: vec![] });
        r
    })
    .unwrap();
    assert!(updates_of(&drain(&mut c)).is_empty());
}
