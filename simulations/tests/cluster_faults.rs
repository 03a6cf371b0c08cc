//! The simulated cluster under faults, at its HTTP-level API: partitions, master failover,
//! the framework failover timeout, maintenance, agent removal; and the external executor.

mod support;

use mesoswarm_proto::scheduler::{call, event};
use mesoswarm_proto::v1::{task_status, TaskId, TaskState};
use mesoswarm_sim::{ClusterConfig, ExecutorMode, SimCluster};
use support::*;

#[test]
fn a_partitioned_agent_becomes_unreachable_after_the_ping_timeout_then_comes_back() {
    let mut c = cluster(1);
    let (fw, stream, _) = subscribe(&mut c, 0);
    c.handle_timeout(t(1));
    let o = offers_of(&drain(&mut c)).remove(0);
    c.http_call(
        t(2),
        Some(&stream),
        accept(
            &fw,
            &o.id.value,
            vec![task("t1", &o.agent_id.value, &small())],
        ),
    )
    .unwrap();
    // Let it run (acknowledging everything).
    for step in 0..10u64 {
        let now = t(3 + step * 500);
        c.handle_timeout(now);
        for u in updates_of(&drain(&mut c)) {
            c.http_call(now, Some(&stream), ack(&fw, &u)).unwrap();
        }
    }
    assert!(c.partition_agent(t(10_000), 0));
    c.handle_timeout(t(84_000));
    assert!(updates_of(&drain(&mut c))
        .iter()
        .all(|u| u.state != TaskState::TaskUnreachable as i32));
    c.handle_timeout(t(85_001));
    let s = drain(&mut c);
    let u = updates_of(&s);
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].state, TaskState::TaskUnreachable as i32);
    assert_eq!(u[0].message.as_deref(), Some("health check timed out"));
    assert!(u[0].unreachable_time.is_some());
    assert!(kinds(&s, &stream).contains(&event::Type::Failure));
    assert!(c.heal_agent(t(90_000), 0));
    c.handle_timeout(t(90_001));
    let u = updates_of(&drain(&mut c));
    assert_eq!(u[0].state, TaskState::TaskRunning as i32);
    assert_eq!(
        u[0].message.as_deref(),
        Some("Unreachable agent re-reregistered")
    );
    assert_eq!(
        u[0].reason,
        Some(task_status::Reason::AgentReregistered as i32)
    );
}

#[test]
fn master_failover_ends_streams_forgets_everything_and_learns_tasks_again() {
    let mut c = cluster(2);
    let (fw, stream, _) = subscribe(&mut c, 0);
    c.handle_timeout(t(1));
    let o = offers_of(&drain(&mut c)).remove(0);
    c.http_call(
        t(2),
        Some(&stream),
        accept(
            &fw,
            &o.id.value,
            vec![task("t1", &o.agent_id.value, &small())],
        ),
    )
    .unwrap();
    let old_master = c.master_id().to_string();
    c.master_failover(t(3), 2_000, 0);
    let s = drain(&mut c);
    assert_eq!(s.closed, vec![stream.clone()]);
    assert_ne!(c.master_id(), old_master);
    let e = c
        .http_subscribe(t(4), subscribe_call(Some(&fw)))
        .unwrap_err();
    assert_eq!((e.status, e.message.as_str()), (503, "No leader elected"));
    c.handle_timeout(t(5_001));
    let stream2 = c
        .http_subscribe(t(5_002), subscribe_call(Some(&fw)))
        .unwrap();
    let s = drain(&mut c);
    assert_eq!(kinds(&s, &stream2)[0], event::Type::Subscribed);
    assert_eq!(
        s.events[0]
            .1
            .subscribed
            .as_ref()
            .unwrap()
            .framework_id
            .value,
        fw,
        "the same framework id"
    );
    // The agents re-registered: the task is known again and reconciles.
    let mut r = call_of(&fw, call::Type::Reconcile);
    r.reconcile = Some(call::Reconcile { tasks: vec![] });
    c.http_call(t(5_003), Some(&stream2), r).unwrap();
    let u = updates_of(&drain(&mut c));
    assert_eq!(u.len(), 1);
    assert_eq!(
        u[0].message.as_deref(),
        Some("Reconciliation: Latest task state")
    );
}

#[test]
fn a_framework_gone_past_its_failover_timeout_is_removed() {
    let mut c = cluster(1);
    let (fw, stream, _) = subscribe(&mut c, 0);
    c.http_disconnected(t(1), &stream);
    c.handle_timeout(t(61_002));
    let s2 = c
        .http_subscribe(t(61_003), subscribe_call(Some(&fw)))
        .unwrap();
    let s = drain(&mut c);
    assert_eq!(kinds(&s, &s2), vec![event::Type::Error]);
    let err = s
        .events
        .iter()
        .find(|(st, _)| *st == s2)
        .unwrap()
        .1
        .error
        .clone()
        .unwrap();
    assert_eq!(err.message, "Framework has been removed");
    assert!(s.closed.contains(&s2));
}

#[test]
fn external_executor_mode_launches_and_kills_through_outputs() {
    let mut c = SimCluster::new(ClusterConfig {
        seed: 1,
        agents: 1,
        executor: ExecutorMode::External,
        ..ClusterConfig::default()
    });
    let (fw, stream, _) = subscribe(&mut c, 0);
    c.handle_timeout(t(1));
    let o = offers_of(&drain(&mut c)).remove(0);
    let agent = o.agent_id.value.clone();
    c.http_call(
        t(2),
        Some(&stream),
        accept(&fw, &o.id.value, vec![task("t1", &agent, &small())]),
    )
    .unwrap();
    let s = drain(&mut c);
    assert_eq!(s.launches.len(), 1);
    assert_eq!(s.launches[0].0, agent);
    c.report_task_status(
        t(3),
        &agent,
        "t1",
        TaskState::TaskRunning,
        None,
        Some(b"[{\"Id\":\"x\"}]".to_vec()),
    );
    let u = updates_of(&drain(&mut c));
    assert_eq!(u[0].state, TaskState::TaskRunning as i32);
    c.http_call(t(4), Some(&stream), ack(&fw, &u[0])).unwrap();
    let mut k = call_of(&fw, call::Type::Kill);
    k.kill = Some(call::Kill {
        task_id: TaskId { value: "t1".into() },
        agent_id: None,
        kill_policy: None,
    });
    c.http_call(t(5), Some(&stream), k).unwrap();
    assert_eq!(drain(&mut c).kills, vec![(agent.clone(), "t1".to_string())]);
    c.report_task_status(
        t(6),
        &agent,
        "t1",
        TaskState::TaskKilled,
        Some("Container exited with status 143".into()),
        None,
    );
    let u = updates_of(&drain(&mut c));
    assert_eq!(u[0].state, TaskState::TaskKilled as i32);
}

#[test]
fn maintenance_sends_inverse_offers_then_the_agent_goes_down() {
    let mut c = cluster(1);
    let (fw, stream, _) = subscribe(&mut c, 0);
    c.handle_timeout(t(1));
    let o = offers_of(&drain(&mut c)).remove(0);
    c.http_call(
        t(2),
        Some(&stream),
        accept(
            &fw,
            &o.id.value,
            vec![task("t1", &o.agent_id.value, &small())],
        ),
    )
    .unwrap();
    drain(&mut c);
    assert!(c.schedule_maintenance(t(3), 0, 10_000, 5_000));
    let s = drain(&mut c);
    assert!(kinds(&s, &stream).contains(&event::Type::InverseOffers));
    c.handle_timeout(t(10_004));
    let s = drain(&mut c);
    let lost: Vec<_> = updates_of(&s)
        .into_iter()
        .filter(|u| u.state == TaskState::TaskLost as i32)
        .collect();
    assert_eq!(lost.len(), 1, "machine DOWN: TASK_LOST for everyone");
    assert!(kinds(&s, &stream).contains(&event::Type::Failure));
    c.handle_timeout(t(15_004));
    assert_eq!(c.agent_count(), 2, "a fresh agent after the window");
}

#[test]
fn a_removed_agent_loses_its_tasks_for_everyone() {
    let mut c = cluster(2);
    let (fw, stream, _) = subscribe(&mut c, 0);
    c.handle_timeout(t(1));
    let o = offers_of(&drain(&mut c))
        .into_iter()
        .find(|o| o.agent_id.value == c.agent_id(0))
        .unwrap();
    c.http_call(
        t(2),
        Some(&stream),
        accept(
            &fw,
            &o.id.value,
            vec![task("t1", &o.agent_id.value, &small())],
        ),
    )
    .unwrap();
    drain(&mut c);
    assert!(c.remove_agent(t(3), 0));
    let s = drain(&mut c);
    let u = updates_of(&s);
    assert_eq!(
        u[0].state,
        TaskState::TaskLost as i32,
        "TASK_LOST even for partition-aware frameworks"
    );
    assert_eq!(u[0].reason, Some(task_status::Reason::AgentRemoved as i32));
    assert!(u[0]
        .message
        .as_deref()
        .unwrap()
        .ends_with("removed: the agent unregistered"));
    assert!(kinds(&s, &stream).contains(&event::Type::Failure));
    assert_eq!(c.agent_health(0), mesoswarm_sim::cluster::AgentHealth::Dead);
    assert!(c.agent_used(0).is_empty());
    assert!(!c.remove_agent(t(4), 0));
}
