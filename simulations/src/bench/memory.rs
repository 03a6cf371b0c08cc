//! Bytes of core state per tracked container: a manager with N running containers (specs
//! as the docker CLI's create body parses, tasks launched and RUNNING with their docker
//! id) is dropped while the benchmark binary's counting allocator counts what it frees.
//! That is exactly the heap the manager owned, whatever the inputs around it cost.

use mesoswarm_core::container::{Container, TaskRecord};
use mesoswarm_core::docker::request::DockerRequest;
use mesoswarm_core::docker::{route, Routed};
use mesoswarm_core::spec::ContainerSpec;
use mesoswarm_core::Config;

use super::cluster::BenchCluster;
use super::flow::{self, Pair, Req};
use super::gen::{self, Shape};
use super::report::{Better, Figure};
use super::{Driver, HeapCounter};

/// Every container: the S4 shape.
const SHAPE: Shape = Shape::new(100, 500);
/// Containers per agent (and agents offered at once).
const PER_AGENT: usize = 10;
const WINDOW: usize = 1_000;

/// The spec of `docker create --cpus 0.1 -m 500m busybox sleep 1000`, parsed from the
/// CLI's body once.
fn cli_create(name: &str) -> DockerRequest {
    match route(&gen::http_create(name, SHAPE)) {
        Routed::Core { request, .. } => request,
        other => panic!("not a create: {other:?}"),
    }
}

/// Measures with `containers` running containers.
pub fn run(containers: usize, heap: Option<&HeapCounter>) -> Vec<Figure> {
    let Some(heap) = heap else {
        println!("memory: needs the counting allocator of the mesoswarm-sim binary; skipped");
        return Vec::new();
    };
    let agents = containers.div_ceil(PER_AGENT);
    let mut cluster = BenchCluster::uniform(agents, 1.0, 5000.0, 1).with_window(WINDOW);
    let mut d = Driver::new(Config {
        seed: 5,
        ..Config::default()
    });
    d.subscribe();
    d.event(gen::offers_event(cluster.offer_all()));
    d.commit();
    drop(d.take());
    let pairs = (0..containers).map(|i| {
        let name = format!("web-{i}");
        Pair {
            create: Req::Typed(cli_create(&name)),
            start: Req::Typed(gen::start(&name)),
        }
    });
    let (t, _) = flow::run(&mut d, &mut cluster, pairs, 1000, false);
    assert_eq!(t.launched, containers);
    let m = d.into_manager();
    let tracked = m.container_count();
    let held = m.held_offer_count();
    // The records alone (what a store holds), for the breakdown: a copy of each.
    let copies: Vec<Container> = m.containers().cloned().collect();
    (heap.start)();
    drop(copies);
    let records = (heap.stop)();
    (heap.start)();
    drop(m);
    let c = (heap.stop)();
    let per = |v: u64| v as f64 / tracked.max(1) as f64;
    let inline = size_of::<Container>() as u64;
    let record_heap = records.freed_bytes.saturating_sub(inline * tracked as u64);
    vec![
        Figure::new(
            "memory",
            format!("core heap per running container ({tracked} tracked)"),
            per(c.freed_bytes),
            "bytes",
            Better::Lower,
        )
        .target(1024.0),
        Figure::new(
            "memory",
            "  same, with malloc's chunk rounding and headers",
            per(c.freed_chunk_bytes),
            "bytes",
            Better::Lower,
        ),
        Figure::new(
            "memory",
            "  heap blocks per container",
            per(c.freed_blocks),
            "blocks",
            Better::Lower,
        ),
        Figure::new(
            "memory",
            format!("  whole manager heap ({held} offers held)"),
            c.freed_bytes as f64 / (1u64 << 20) as f64,
            "MiB",
            Better::Lower,
        ),
        Figure::new(
            "memory",
            "  Container record inline (size_of)",
            inline as f64,
            "bytes",
            Better::Lower,
        ),
        Figure::new(
            "memory",
            "    of which ContainerSpec inline",
            size_of::<ContainerSpec>() as f64,
            "bytes",
            Better::Lower,
        ),
        Figure::new(
            "memory",
            "    of which TaskRecord inline",
            size_of::<TaskRecord>() as f64,
            "bytes",
            Better::Lower,
        ),
        Figure::new(
            "memory",
            "  Container record heap (strings, vecs, labels)",
            per(record_heap),
            "bytes",
            Better::Lower,
        ),
        Figure::new(
            "memory",
            "  the rest: Entry, maps, timers, indexes",
            per(c.freed_bytes) - inline as f64 - per(record_heap),
            "bytes",
            Better::Lower,
        ),
    ]
}
