//! S3, the twin of Nomad's C1M: 5,000 agents, 1,000 services of 1,000 containers. Each
//! service is one batch: its creates, its starts (placed at once on the held offers), the
//! master offering the used agents' rest again, and the agents' TASK_RUNNING.
//!
//! C1M's jobs carry one attribute constraint each. The core has no constraints yet (agents'
//! attributes are kept with their offers, unused), so the containers here carry the
//! service's rack as a label only; the offers do carry a `rack` attribute, so parsing it is
//! part of the cost.

use mesoswarm_core::Config;

use super::cluster::BenchCluster;
use super::driver::Driver;
use super::flow::{self, Pair, Req};
use super::gen::{self, Shape};
use super::kernel;
use super::report::{ns_per, per_sec, Better, Figure};

/// Agents (C1M's 5,000 hosts).
const AGENTS: usize = 5_000;
/// Containers per service.
const PER_SERVICE: usize = 1_000;
/// Racks (values of the constraint attribute).
const RACKS: usize = 10;
/// Every container: 0.1 cpus, 128 MB. An agent (24 cpus, 49,152 MB) takes 240.
const SHAPE: Shape = Shape::new(100, 128);

/// Nomad's published rate (C1M: 1,000,000 containers in under 5 minutes).
const ANCHOR_C1M_PER_S: f64 = 3_750.0;

/// Runs S3 with `services` services (1,000 is the published size).
pub fn run(services: usize) -> Vec<Figure> {
    let n = services * PER_SERVICE;
    let mut cluster = BenchCluster::uniform(AGENTS, 24.0, 49_152.0, RACKS);
    let mut req = kernel::Requests::default();
    req.push_n(n, SHAPE.cpus_milli, SHAPE.mem_mb * 1000);
    let (c, m) = cluster.free();
    let k = kernel::best_of(&kernel::Offers::new(c, m), &req, u32::MAX, 3);
    drop(req);

    let config = Config {
        seed: 3,
        ..Config::default()
    };
    let mut d = Driver::new(config);
    d.subscribe();
    let offers = gen::offers_event(cluster.offer_all());
    d.event(offers);
    d.commit();
    drop(d.take());
    // Generated one service at a time, outside the timed steps, so that a million
    // requests do not all sit in memory at once.
    let pairs = (0..n).map(|i| {
        let (service, k) = (i / PER_SERVICE, i % PER_SERVICE);
        let name = format!("svc{service}-{k}");
        let label = format!("r{}", service % RACKS);
        Pair {
            create: Req::Typed(gen::create(
                &name,
                gen::spec(SHAPE, "redis:7", &["redis-server"], ("rack", &label)),
            )),
            start: Req::Typed(gen::start(&name)),
        }
    });
    let (t, _) = flow::run(&mut d, &mut cluster, pairs, PER_SERVICE, false);
    assert_eq!(t.launched, n, "S3 did not place every container");
    let place = t.start_place.total + t.offers.total;
    let core_ns = ns_per(place, n);
    let kernel_ns = ns_per(k.elapsed, k.placed);
    vec![
        Figure::new(
            "S3",
            format!("placements/s (start + place + re-offers), {n} containers"),
            per_sec(n, place),
            "/s",
            Better::Higher,
        )
        .anchor(ANCHOR_C1M_PER_S, "Nomad C1M")
        .target(1_000_000.0),
        Figure::new(
            "S3",
            "containers/s, create → RUNNING acknowledged (all core work)",
            per_sec(n, t.total()),
            "/s",
            Better::Higher,
        )
        .anchor(ANCHOR_C1M_PER_S, "Nomad C1M"),
        Figure::new(
            "S3",
            "  of which create",
            ns_per(t.create.total, n),
            "ns/container",
            Better::Lower,
        ),
        Figure::new(
            "S3",
            "  of which start + place",
            ns_per(t.start_place.total, n),
            "ns/container",
            Better::Lower,
        ),
        Figure::new(
            "S3",
            "  of which re-offers",
            ns_per(t.offers.total, t.offers_handled),
            "ns/offer",
            Better::Lower,
        ),
        Figure::new(
            "S3",
            "  of which TASK_RUNNING + ACK",
            ns_per(t.updates.total, t.updates_handled),
            "ns/update",
            Better::Lower,
        ),
        Figure::new(
            "roofline",
            "S3 kernel time per placement",
            kernel_ns,
            "ns",
            Better::Lower,
        ),
        Figure::new(
            "roofline",
            "S3 core ÷ kernel per placement",
            core_ns / kernel_ns,
            "×",
            Better::Lower,
        )
        .target(4.0),
    ]
}
