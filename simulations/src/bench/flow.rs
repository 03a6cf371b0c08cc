//! The steady-state flow most scenarios share: clients create and start containers in
//! batches while every agent's offer is held; each batch is placed at once on the held
//! offers; the master offers the rest of the agents that were used again; the agents report
//! TASK_RUNNING (with the docker inspect JSON), which the manager acknowledges and which
//! answers the starts.
//!
//! A batch stands for the requests in flight together: the store commits them as one group
//! (one `Persisted` per step), as a real store does under load.

use std::time::Duration;

use bytes::Bytes;
use mesoswarm_core::docker::request::DockerRequest;
use mesoswarm_core::docker::{route, Routed};
use mesoswarm_proto::v1::TaskState;

use super::cluster::{BenchCluster, Settled};
use super::driver::{Driver, Stopwatch};
use super::gen;

/// One request as it reaches the manager.
#[derive(Debug)]
pub enum Req {
    /// Already typed (the shell's router is not timed).
    Typed(DockerRequest),
    /// Raw HTTP, routed and parsed inside the timed region.
    Http(http::Request<Bytes>),
}

/// The requests of one container: create, then start.
#[derive(Debug)]
pub struct Pair {
    /// `POST /containers/create`.
    pub create: Req,
    /// `POST /containers/{name}/start`.
    pub start: Req,
}

/// Where the time went, per step of the flow.
#[derive(Clone, Debug, Default)]
pub struct FlowTimes {
    /// Creates (and, for HTTP, their routing and parsing), with their group commit.
    pub create: Stopwatch,
    /// Starts (each placed at once on a held offer), with the group commit that releases
    /// the ACCEPTs.
    pub start_place: Stopwatch,
    /// OFFERS events (the master offering the rest of the agents used).
    pub offers: Stopwatch,
    /// TASK_RUNNING updates, with the commit that releases their acknowledgements.
    pub updates: Stopwatch,
    /// Per batch: from its first create until its ACCEPTs left the core.
    pub batch_latency: Vec<Duration>,
    /// Tasks launched.
    pub launched: usize,
    /// RUNNING updates handled.
    pub updates_handled: usize,
    /// ACKNOWLEDGE calls sent.
    pub acks: usize,
    /// Offers handled.
    pub offers_handled: usize,
}

impl FlowTimes {
    /// Everything the core spent.
    pub fn total(&self) -> Duration {
        self.create.total + self.start_place.total + self.offers.total + self.updates.total
    }
}

/// Hands a request to the core (routing it first if it is raw HTTP; the router's own
/// answers would be a bug in a benchmark).
#[inline]
fn send(d: &mut Driver, req: Req) {
    match req {
        Req::Typed(r) => {
            d.docker(r);
        }
        Req::Http(r) => match route(&r) {
            Routed::Core { request, .. } => {
                d.docker(request);
            }
            other => panic!("benchmark request not routed to the core: {other:?}"),
        },
    }
}

fn check(s: &Settled, step: &str) {
    assert!(
        s.docker_errors.is_empty(),
        "{step}: the core answered with errors: {:?}",
        &s.docker_errors[..s.docker_errors.len().min(3)]
    );
}

/// Runs `pairs` through the flow in batches of `batch`, on a subscribed driver whose
/// cluster's offers are all held. Returns the times and, if `keep_tasks`, every task
/// launched with its agent.
pub fn run(
    d: &mut Driver,
    cluster: &mut BenchCluster,
    pairs: impl IntoIterator<Item = Pair>,
    batch: usize,
    keep_tasks: bool,
) -> (FlowTimes, Vec<(String, usize)>) {
    let mut t = FlowTimes::default();
    let mut tasks = Vec::new();
    let mut uuid = 1u64;
    // Agents whose offer was used or declined: the master offers them again.
    let mut offer_again: Vec<usize> = Vec::new();
    let mut pairs = pairs.into_iter().peekable();
    while pairs.peek().is_some() {
        let (creates, starts): (Vec<Req>, Vec<Req>) = pairs
            .by_ref()
            .take(batch.max(1))
            .map(|p| (p.create, p.start))
            .unzip();
        let ((), dt_create) = t.create.time(|| {
            for r in creates {
                send(d, r);
            }
            d.commit();
        });
        let ((), dt_start) = t.start_place.time(|| {
            for r in starts {
                send(d, r);
            }
            d.commit();
        });
        t.batch_latency.push(dt_create + dt_start);
        // The master's side, not timed: launches take resources from their agents.
        let mut s = cluster.settle(&d.take());
        check(&s, "create/start");
        let mut launched = std::mem::take(&mut s.launched);
        offer_again.append(&mut s.offer_again);
        if !offer_again.is_empty() {
            let offers = cluster.offers(std::mem::take(&mut offer_again));
            t.offers_handled += offers.len();
            let event = gen::offers_event(offers);
            t.offers.time(|| {
                d.event(event);
                d.commit();
            });
            let mut s = cluster.settle(&d.take());
            check(&s, "offers");
            launched.append(&mut s.launched);
            offer_again.append(&mut s.offer_again);
        }
        t.launched += launched.len();
        let updates: Vec<_> = launched
            .iter()
            .map(|(task, agent)| {
                uuid += 1;
                gen::update(task, *agent, TaskState::TaskRunning, Some(uuid))
            })
            .collect();
        t.updates_handled += updates.len();
        t.updates.time(|| {
            for u in updates {
                d.event(u);
            }
            d.commit();
        });
        let s = cluster.settle(&d.take());
        check(&s, "updates");
        t.acks += s.acks;
        if keep_tasks {
            tasks.extend(launched);
        }
        d.advance_ms(1);
    }
    (t, tasks)
}
