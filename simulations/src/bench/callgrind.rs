//! A fixed, small core scenario for counting instructions with callgrind: 20 agents, 400
//! containers created and started in batches of 50, placed, RUNNING and acknowledged, then
//! a master failover and the reconciliation of every task. Deterministic: the same build
//! executes the same instructions on every run.
//!
//! Only the functions whose names start with `callgrind_phase` are meant to be counted
//! (`--collect-atstart=no --toggle-collect='*callgrind_phase*'`): they drive the core with
//! inputs generated before them, and keep its outputs for later.

use mesoswarm_core::docker::request::DockerRequest;
use mesoswarm_core::manager::{Input, Output};
use mesoswarm_core::Config;
use mesoswarm_proto::scheduler::Event;
use mesoswarm_proto::v1::TaskState;

use super::cluster::BenchCluster;
use super::driver::Driver;
use super::gen::{self, Shape};

/// Containers.
pub const CONTAINERS: usize = 400;
/// Agents.
pub const AGENTS: usize = 20;
/// Requests per batch.
const BATCH: usize = 50;
const SHAPE: Shape = Shape::new(250, 256);

/// What the scenario did, for a quick check that it ran as designed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Tasks launched.
    pub launched: usize,
    /// Acknowledgements sent.
    pub acks: usize,
    /// RECONCILE calls after the failover.
    pub reconciles: usize,
    /// Outputs in all.
    pub outputs: usize,
}

/// One batch of creates and starts, handled and committed.
#[inline(never)]
fn callgrind_phase_requests(
    d: &mut Driver,
    creates: Vec<DockerRequest>,
    starts: Vec<DockerRequest>,
) -> Vec<Output> {
    for c in creates {
        d.docker(c);
    }
    d.commit();
    for s in starts {
        d.docker(s);
    }
    d.commit();
    d.take()
}

/// Mesos events, handled and committed.
#[inline(never)]
fn callgrind_phase_events(d: &mut Driver, events: Vec<Event>) -> Vec<Output> {
    for e in events {
        d.event(e);
    }
    d.commit();
    d.take()
}

/// The failover: disconnect, subscribe to the new leader.
#[inline(never)]
fn callgrind_phase_failover(d: &mut Driver) -> Vec<Output> {
    d.input(Input::Disconnected {
        reason: "leading master failed over".into(),
    });
    d.input(Input::Connected {
        master: "10.0.0.2:5050".into(),
    });
    d.event(gen::subscribed());
    d.commit();
    d.take()
}

/// Tallies a phase's outputs (outside the counted functions).
fn tally(cluster: &mut BenchCluster, outs: Vec<Output>, sum: &mut Summary) -> Vec<(String, usize)> {
    sum.outputs += outs.len();
    let s = cluster.settle(&outs);
    assert!(s.docker_errors.is_empty(), "{:?}", s.docker_errors);
    sum.launched += s.launched.len();
    sum.acks += s.acks;
    sum.reconciles += s.reconciles;
    s.launched
}

/// Runs the scenario.
pub fn run() -> Summary {
    let mut cluster = BenchCluster::uniform(AGENTS, 16.0, 65_536.0, 2);
    let mut d = Driver::new(Config {
        seed: 7,
        ..Config::default()
    });
    let mut sum = Summary::default();
    let subscribe = vec![gen::subscribed()];
    d.input(Input::Connected {
        master: "10.0.0.1:5050".into(),
    });
    let outs = callgrind_phase_events(&mut d, subscribe);
    tally(&mut cluster, outs, &mut sum);
    let offers = vec![gen::offers_event(cluster.offer_all())];
    let outs = callgrind_phase_events(&mut d, offers);
    tally(&mut cluster, outs, &mut sum);
    let names: Vec<String> = (0..CONTAINERS).map(|i| format!("c{i}")).collect();
    let mut all_tasks = Vec::new();
    let mut uuid = 0u64;
    for chunk in names.chunks(BATCH) {
        let creates = chunk
            .iter()
            .map(|n| {
                gen::create(
                    n,
                    gen::spec(SHAPE, "busybox", &["sleep", "1000"], ("bench", "callgrind")),
                )
            })
            .collect();
        let starts = chunk.iter().map(|n| gen::start(n)).collect();
        let outs = callgrind_phase_requests(&mut d, creates, starts);
        let launched = tally(&mut cluster, outs, &mut sum);
        let updates: Vec<Event> = launched
            .iter()
            .map(|(t, a)| {
                uuid += 1;
                gen::update(t, *a, TaskState::TaskRunning, Some(uuid))
            })
            .collect();
        let outs = callgrind_phase_events(&mut d, updates);
        tally(&mut cluster, outs, &mut sum);
        all_tasks.extend(launched);
    }
    sum.reconciles = 0;
    let outs = callgrind_phase_failover(&mut d);
    tally(&mut cluster, outs, &mut sum);
    let answers: Vec<Event> = all_tasks
        .iter()
        .map(|(t, a)| gen::update(t, *a, TaskState::TaskRunning, None))
        .collect();
    let outs = callgrind_phase_events(&mut d, answers);
    tally(&mut cluster, outs, &mut sum);
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scenario_places_everything_and_is_the_same_every_time() {
        let a = run();
        assert_eq!(a.launched, CONTAINERS);
        assert_eq!(a.acks, CONTAINERS);
        assert!(a.reconciles >= 2, "explicit and implicit reconciliation");
        assert_eq!(run(), a);
    }
}
