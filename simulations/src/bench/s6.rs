//! S6, the core's part of "master failover; manager restart from its store": 20,000 agents
//! with 5 tasks each (100,000 tasks; 400,000 for the larger published size), all running.
//!
//! * failover: the subscription drops, a new leader is subscribed to, the manager asks it
//!   about every task (explicit RECONCILE) and the master answers one TASK_RUNNING per task;
//! * restart: a new manager is rebuilt with `Manager::restore` from the latest record of
//!   every container (what the store holds), subscribes and is answered the same way.
//!
//! Reported: time until every task is reconciled, and core time per status update. The
//! end-to-end row (a real or simulated master over HTTP, the redb store) is not measured.

use std::time::Duration;

use mesoswarm_core::manager::{Input, Manager, Record};
use mesoswarm_core::Config;
use mesoswarm_proto::v1::TaskState;

use super::cluster::BenchCluster;
use super::driver::{Driver, Stopwatch};
use super::flow::{self, Pair, Req};
use super::gen::{self, Shape};
use super::report::{ns_per, Better, Figure};

/// Tasks per agent (Mesos' failover benchmarks: 20,000 agents × 5 tasks).
const PER_AGENT: usize = 5;
/// Every task: 0.1 cpus, 256 MB; an agent of (0.5 cpus, 1,280 MB) takes exactly five.
const SHAPE: Shape = Shape::new(100, 256);
/// Agents offered at once while filling (the rest replace full ones).
const WINDOW: usize = 1_000;

/// A subscribed manager with `tasks` running tasks, and those tasks with their agents.
pub fn fill(tasks: usize, seed: u64) -> (Driver, flow::FlowTimes, Vec<(String, usize)>) {
    let agents = tasks.div_ceil(PER_AGENT);
    let mut cluster = BenchCluster::uniform(agents, 0.5, 1280.0, 1).with_window(WINDOW);
    let mut d = Driver::new(Config {
        seed,
        ..Config::default()
    });
    d.subscribe();
    d.event(gen::offers_event(cluster.offer_all()));
    d.commit();
    drop(d.take());
    let pairs = (0..tasks).map(|i| {
        let name = format!("task-{i}");
        Pair {
            create: Req::Typed(gen::create(
                &name,
                gen::spec(
                    SHAPE,
                    "nginx:1.27",
                    &["nginx", "-g", "daemon off;"],
                    ("bench", "s6"),
                ),
            )),
            start: Req::Typed(gen::start(&name)),
        }
    });
    let (t, launched) = flow::run(&mut d, &mut cluster, pairs, 1000, true);
    assert_eq!(t.launched, tasks, "S6 could not launch every task");
    (d, t, launched)
}

/// Answers every task's reconciliation and returns the core time it took.
fn reconcile_answers(d: &mut Driver, tasks: &[(String, usize)]) -> Duration {
    let answers: Vec<_> = tasks
        .iter()
        .map(|(t, a)| gen::update(t, *a, TaskState::TaskRunning, None))
        .collect();
    let mut w = Stopwatch::default();
    w.time(|| {
        for u in answers {
            d.event(u);
        }
        d.commit();
    });
    w.total
}

fn subscribe_again(d: &mut Driver) -> (Duration, usize) {
    let mut w = Stopwatch::default();
    w.time(|| {
        d.input(Input::Connected {
            master: "10.0.0.2:5050".into(),
        });
        d.event(gen::subscribed());
        d.commit();
    });
    let reconciles = BenchCluster::uniform(0, 0.0, 0.0, 1)
        .settle(&d.take())
        .reconciles;
    (w.total, reconciles)
}

/// Runs S6 with `tasks` tasks.
pub fn run(tasks: usize) -> Vec<Figure> {
    let (mut d, t, launched) = fill(tasks, 6);
    let n = launched.len();

    // Master failover: the stream drops, a new leader answers.
    d.advance_ms(1000);
    d.input(Input::Disconnected {
        reason: "leading master failed over".into(),
    });
    drop(d.take());
    let (fail_sub, fail_calls) = subscribe_again(&mut d);
    let fail_answers = reconcile_answers(&mut d, &launched);
    let s = BenchCluster::uniform(0, 0.0, 0.0, 1).settle(&d.take());
    assert_eq!(s.kills, 0, "reconciliation must not find orphans");

    // Restart: what the store holds is the latest record of every container.
    let config = d.m.config().clone();
    let records: Vec<Record> = std::iter::once(Record::FrameworkId(Some(gen::FRAMEWORK_ID.into())))
        .chain(
            d.m.containers()
                .map(|c| Record::Container(Box::new(c.clone()))),
        )
        .collect();
    drop(d);
    let mut w = Stopwatch::default();
    let (m, restore) = w.time(|| Manager::restore(config, records));
    assert_eq!(m.container_count(), n);
    let mut d = Driver::with_manager(m);
    let (restart_sub, restart_calls) = subscribe_again(&mut d);
    let restart_answers = reconcile_answers(&mut d, &launched);
    let s = BenchCluster::uniform(0, 0.0, 0.0, 1).settle(&d.take());
    assert_eq!(
        s.kills, 0,
        "reconciliation after a restart must not find orphans"
    );

    let secs = |d: Duration| d.as_secs_f64();
    vec![
        Figure::new(
            "S6",
            format!("failover → {n} tasks reconciled (core)"),
            secs(fail_sub + fail_answers),
            "s",
            Better::Lower,
        ),
        Figure::new(
            "S6",
            format!("  re-subscribe + {fail_calls} RECONCILE calls"),
            secs(fail_sub) * 1e3,
            "ms",
            Better::Lower,
        ),
        Figure::new(
            "S6",
            "  core time per reconciliation answer",
            ns_per(fail_answers, n) / 1e3,
            "µs/update",
            Better::Lower,
        ),
        Figure::new(
            "S6",
            format!("restart: Manager::restore of {n} records"),
            secs(restore) * 1e3,
            "ms",
            Better::Lower,
        ),
        Figure::new(
            "S6",
            "  per record",
            ns_per(restore, n) / 1e3,
            "µs/record",
            Better::Lower,
        ),
        Figure::new(
            "S6",
            format!("restart → {n} tasks reconciled (core)"),
            secs(restore + restart_sub + restart_answers),
            "s",
            Better::Lower,
        ),
        Figure::new(
            "S6",
            format!("  re-subscribe + {restart_calls} RECONCILE calls"),
            secs(restart_sub) * 1e3,
            "ms",
            Better::Lower,
        ),
        Figure::new(
            "S6",
            "  core time per reconciliation answer",
            ns_per(restart_answers, n) / 1e3,
            "µs/update",
            Better::Lower,
        ),
        Figure::new(
            "S6",
            "TASK_RUNNING from the executor, with ACK (filling)",
            ns_per(t.updates.total, t.updates_handled) / 1e3,
            "µs/update",
            Better::Lower,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filling_launches_every_task_once_on_five_per_agent() {
        let (d, t, launched) = fill(2_000, 6);
        assert_eq!(t.launched, 2_000);
        assert_eq!(t.acks, 2_000);
        assert_eq!(d.m.container_count(), 2_000);
        let mut per_agent = std::collections::HashMap::new();
        for (_, a) in &launched {
            *per_agent.entry(*a).or_insert(0) += 1;
        }
        assert!(per_agent.values().all(|&k| k == PER_AGENT));
    }
}
