//! S4, the twin of kube-scheduler's `SchedulingBasic/5000Nodes_50000Pods`: 5,000 agents
//! of (4 cpus, 32,768 MB), 5,000 containers already running, then 50,000 containers
//! arriving as the docker CLI's raw HTTP create and start requests, routed and parsed by
//! `mesoswarm_core::docker::route` inside the timed region.
//!
//! Requests arrive in batches of `batch` (the clients in flight); request → LAUNCH latency
//! is per batch: from the batch's first create reaching the core until its ACCEPTs leave
//! it. Sockets, HTTP framing and the store are not included.

use mesoswarm_core::docker::route;
use mesoswarm_core::Config;

use super::cluster::BenchCluster;
use super::driver::Driver;
use super::flow::{self, Pair, Req};
use super::gen::{self, Shape};
use super::kernel;
use super::report::{ns_per, per_sec, percentile, Better, Figure};

/// Agents.
const AGENTS: usize = 5_000;
/// Containers running before the measured ones arrive.
const EXISTING: usize = 5_000;
/// kube-scheduler_perf's default pod: 100m cpus, 500 Mi.
const SHAPE: Shape = Shape::new(100, 500);

/// The upper end of kube-scheduler's CI floors at 5,000 nodes (680–810 pods/s).
const ANCHOR_KUBE_PER_S: f64 = 810.0;
/// classic Swarm's p99 scheduling delay at 1,000 nodes and 30,000 containers.
const ANCHOR_SWARM_P99_MS: f64 = 400.0;

/// Runs S4: `arriving` containers (50,000 is the published size), `batch` in flight.
pub fn run(arriving: usize, batch: usize) -> Vec<Figure> {
    let mut cluster = BenchCluster::uniform(AGENTS, 4.0, 32_768.0, 1);
    let mut d = Driver::new(Config {
        seed: 4,
        ..Config::default()
    });
    d.subscribe();
    d.event(gen::offers_event(cluster.offer_all()));
    d.commit();
    drop(d.take());
    let existing = (0..EXISTING).map(|i| {
        let name = format!("old-{i}");
        Pair {
            create: Req::Typed(gen::create(
                &name,
                gen::spec(SHAPE, "busybox", &["sleep", "1000"], ("bench", "s4")),
            )),
            start: Req::Typed(gen::start(&name)),
        }
    });
    let (t, _) = flow::run(&mut d, &mut cluster, existing, 1000, false);
    assert_eq!(t.launched, EXISTING);

    // The roofline starts from the agents as the arriving containers find them.
    let (c, m) = cluster.free();
    let mut req = kernel::Requests::default();
    req.push_n(arriving, SHAPE.cpus_milli, SHAPE.mem_mb * 1000);
    let k = kernel::best_of(&kernel::Offers::new(c, m), &req, u32::MAX, 5);

    let pairs: Vec<Pair> = (0..arriving)
        .map(|i| {
            let name = format!("web-{i}");
            Pair {
                create: Req::Http(gen::http_create(&name, SHAPE)),
                start: Req::Http(gen::http_start(&name)),
            }
        })
        .collect();
    // Routing and parsing alone, on a copy, for the breakdown.
    let parse_only = {
        let copies: Vec<_> = (0..arriving)
            .map(|i| gen::http_create(&format!("web-{i}"), SHAPE))
            .collect();
        let t0 = super::clock::now();
        for r in &copies {
            std::hint::black_box(route(r));
        }
        super::clock::now().saturating_sub(t0)
    };
    let (mut t, _) = flow::run(&mut d, &mut cluster, pairs, batch, false);
    assert_eq!(t.launched, arriving, "S4 did not place every container");
    let to_launch = t.create.total + t.start_place.total + t.offers.total;
    let core_ns = ns_per(t.start_place.total + t.offers.total, arriving);
    let kernel_ns = ns_per(k.elapsed, k.placed);
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    let (p50, p90, p99) = (
        percentile(&mut t.batch_latency, 50.0),
        percentile(&mut t.batch_latency, 90.0),
        percentile(&mut t.batch_latency, 99.0),
    );
    vec![
        Figure::new(
            "S4",
            "containers/s incl. HTTP parsing, request → LAUNCH",
            per_sec(arriving, to_launch),
            "/s",
            Better::Higher,
        )
        .anchor(ANCHOR_KUBE_PER_S, "kube-scheduler 5k nodes")
        .target(200_000.0),
        Figure::new(
            "S4",
            "containers/s incl. TASK_RUNNING + ACK",
            per_sec(arriving, t.total()),
            "/s",
            Better::Higher,
        )
        .anchor(ANCHOR_KUBE_PER_S, "kube-scheduler 5k nodes"),
        Figure::new(
            "S4",
            format!("request → LAUNCH p50, core only, batch {batch}"),
            ms(p50),
            "ms",
            Better::Lower,
        ),
        Figure::new(
            "S4",
            format!("request → LAUNCH p90, core only, batch {batch}"),
            ms(p90),
            "ms",
            Better::Lower,
        ),
        Figure::new(
            "S4",
            format!("request → LAUNCH p99, core only, batch {batch}"),
            ms(p99),
            "ms",
            Better::Lower,
        )
        .anchor(ANCHOR_SWARM_P99_MS, "classic Swarm p99, end to end"),
        Figure::new(
            "S4",
            "  of which create (route + parse + core)",
            ns_per(t.create.total, arriving),
            "ns/container",
            Better::Lower,
        ),
        Figure::new(
            "S4",
            "    of which route + parse alone",
            ns_per(parse_only, arriving),
            "ns/container",
            Better::Lower,
        ),
        Figure::new(
            "S4",
            "  of which start + place + re-offers",
            core_ns,
            "ns/container",
            Better::Lower,
        ),
        Figure::new(
            "roofline",
            "S4 kernel time per placement",
            kernel_ns,
            "ns",
            Better::Lower,
        ),
        Figure::new(
            "roofline",
            "S4 core ÷ kernel per placement",
            core_ns / kernel_ns,
            "×",
            Better::Lower,
        )
        .target(4.0),
    ]
}
