//! S2, the twin of Mesos' `DeclineOffers`: 10,000 agents of (24 cpus, 4,096 MB) offered in
//! one batch while 1,000 containers wait that fit none of them. Every offer must be
//! decided (declined, in one DECLINE) within the one input.

use std::time::Duration;

use mesoswarm_core::Config;

use super::cluster::BenchCluster;
use super::driver::Driver;
use super::gen::{self, Shape};
use super::kernel;
use super::report::{ns_per, percentile, Better, Figure};
use super::{ANCHOR_MESOS_BATCH_MS, ANCHOR_MESOS_US_PER_OFFER};

/// Agents (and offers in the batch).
const AGENTS: usize = 10_000;
/// Containers waiting.
const WAITING: usize = 1_000;
/// Shapes that fit no agent: too many cpus, too much mem, both.
const TOO_BIG: [Shape; 3] = [
    Shape::new(32_000, 1024),
    Shape::new(1000, 8192),
    Shape::new(25_000, 5000),
];

/// What S2 measured.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Whole-batch core time of each repetition.
    pub batches: Vec<Duration>,
    /// Offers per batch.
    pub offers: usize,
    /// The kernel over the same batch.
    pub kernel: kernel::Outcome,
}

/// `repeat` batches of `agents` offers against the same waiting containers.
pub fn measure(agents: usize, repeat: usize) -> Outcome {
    let mut cluster = BenchCluster::uniform(agents, 24.0, 4096.0, 1);
    let shapes: Vec<Shape> = (0..WAITING).map(|i| TOO_BIG[i % TOO_BIG.len()]).collect();
    let mut req = kernel::Requests::default();
    for s in &shapes {
        req.push_n(1, s.cpus_milli, s.mem_mb * 1000);
    }
    let (c, m) = cluster.free();
    let kernel = kernel::best_of(&kernel::Offers::new(c, m), &req, 1000, 5);
    assert_eq!(kernel.placed, 0, "S2's containers must fit nowhere");

    let mut d = Driver::new(Config {
        seed: 2,
        ..Config::default()
    });
    d.subscribe();
    for (i, s) in shapes.iter().enumerate() {
        let name = format!("s2-{i}");
        d.docker(gen::create(
            &name,
            gen::spec(*s, "busybox", &["sleep", "1000"], ("bench", "s2")),
        ));
        d.commit();
        d.docker(gen::start(&name));
    }
    d.commit();
    drop(d.take());

    let mut batches = Vec::new();
    for _ in 0..repeat.max(1) {
        let event = gen::offers_event(cluster.offer_all());
        let (_, dt) = super::driver::Stopwatch::default().time(|| {
            d.event(event);
            d.commit();
        });
        let s = cluster.settle(&d.take());
        assert_eq!(
            s.declined, agents,
            "every offer must be declined in the same input"
        );
        assert!(s.launched.is_empty());
        batches.push(dt);
        // Mesos would offer again once the refusal filters expire; the clock barely moves
        // so that the waiting containers' task timeout never fires, however many batches.
        d.advance_ms(1);
    }
    Outcome {
        batches,
        offers: agents,
        kernel,
    }
}

/// Runs S2 with `repeat` batches and reports the median and the best batch.
pub fn run(repeat: usize) -> Vec<Figure> {
    let o = measure(AGENTS, repeat.max(5));
    let mut b = o.batches.clone();
    let median = percentile(&mut b, 50.0);
    let best = b[0];
    let kernel_ns = ns_per(o.kernel.elapsed, o.offers);
    vec![
        Figure::new(
            "S2",
            "10,000-offer batch decided, median",
            median.as_secs_f64() * 1e3,
            "ms",
            Better::Lower,
        )
        .anchor(ANCHOR_MESOS_BATCH_MS, "Mesos DeclineOffers/21, 10k offers")
        .target(10.0),
        Figure::new(
            "S2",
            "10,000-offer batch decided, best",
            best.as_secs_f64() * 1e3,
            "ms",
            Better::Lower,
        )
        .anchor(ANCHOR_MESOS_BATCH_MS, "Mesos DeclineOffers/21, 10k offers")
        .target(10.0),
        Figure::new(
            "S2",
            "core time per offer decided (median)",
            median.as_secs_f64() * 1e6 / o.offers as f64,
            "µs/offer",
            Better::Lower,
        )
        .anchor(ANCHOR_MESOS_US_PER_OFFER, "Mesos allocator, per offer"),
        Figure::new(
            "roofline",
            "S2 kernel time per offer decided",
            kernel_ns,
            "ns",
            Better::Lower,
        ),
        Figure::new(
            "roofline",
            "S2 core ÷ kernel per offer decided",
            ns_per(median, o.offers) / kernel_ns,
            "×",
            Better::Lower,
        )
        .target(4.0),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_fits_and_every_offer_is_declined_at_once() {
        let o = measure(200, 2);
        assert_eq!(o.batches.len(), 2);
        assert_eq!(o.kernel.placed, 0);
    }
}
