//! S1, the twin of Mesos' `MultiFrameworkAllocations`: 80 agents of (64 cpus, 488,000 MB)
//! and 19,500 containers of three shapes waiting when the offers arrive. Reports the offer
//! cycles it takes to place them all, µs per offer, tasks per offer, and the roofline.

use std::time::Duration;

use mesoswarm_core::Config;

use super::cluster::BenchCluster;
use super::driver::{Driver, Stopwatch};
use super::gen::{self, Shape, SplitMix};
use super::kernel;
use super::report::{ns_per, Better, Figure};
use super::ANCHOR_MESOS_US_PER_OFFER;

/// The three task shapes and how many of each (at scale 1).
const SHAPES: [(usize, Shape); 3] = [
    (16_000, Shape::new(70, 400)),
    (2_500, Shape::new(100, 4000)),
    (1_000, Shape::new(1000, 1000)),
];

/// Offer cycles tried before giving up.
const MAX_CYCLES: usize = 10;

/// What one run of S1 measured.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Containers.
    pub containers: usize,
    /// Offer cycles until all were placed.
    pub cycles: usize,
    /// Containers placed.
    pub placed: usize,
    /// Offers handled.
    pub offers: usize,
    /// ACCEPT calls.
    pub accepts: usize,
    /// Core time of the offer cycles.
    pub elapsed: Duration,
    /// Core time of creating and starting them before any offer (not part of the figure).
    pub setup: Duration,
    /// Tasks placed on each agent in the first cycle.
    pub first_cycle_per_agent: Vec<usize>,
    /// The kernel on the first cycle's offers.
    pub kernel: kernel::Outcome,
}

fn workload(scale_div: usize) -> Vec<Shape> {
    let mut w: Vec<Shape> = SHAPES
        .iter()
        .flat_map(|&(n, s)| std::iter::repeat_n(s, n / scale_div))
        .collect();
    SplitMix::new(1).shuffle(&mut w);
    w
}

/// One run at `1/scale_div` of the published size.
pub fn measure(scale_div: usize) -> Outcome {
    let agents = (80 / scale_div).max(1);
    let mut cluster = BenchCluster::uniform(agents, 64.0, 488_000.0, 1);
    let shapes = workload(scale_div);
    let mut req = kernel::Requests::default();
    for s in &shapes {
        req.push_n(1, s.cpus_milli, s.mem_mb * 1000);
    }
    let config = Config {
        seed: 1,
        ..Config::default()
    };
    let max_per_offer = config.limits.max_launches_per_offer as u32;
    let (c, m) = cluster.free();
    let kernel = kernel::best_of(&kernel::Offers::new(c, m), &req, max_per_offer, 5);

    let names: Vec<String> = (0..shapes.len()).map(|i| format!("s1-{i}")).collect();
    let creates: Vec<_> = shapes
        .iter()
        .zip(&names)
        .map(|(s, n)| {
            gen::create(
                n,
                gen::spec(*s, "busybox", &["sleep", "1000"], ("bench", "s1")),
            )
        })
        .collect();
    let starts: Vec<_> = names.iter().map(|n| gen::start(n)).collect();
    let mut d = Driver::new(config);
    d.subscribe();
    let mut setup = Stopwatch::default();
    setup.time(|| {
        for r in creates {
            d.docker(r);
        }
        d.commit();
        for r in starts {
            d.docker(r);
        }
        d.commit();
    });
    drop(d.take());

    let mut watch = Stopwatch::default();
    let (mut cycles, mut placed, mut offers, mut accepts) = (0, 0, 0, 0);
    let mut first_cycle_per_agent = vec![0; agents];
    while placed < shapes.len() && cycles < MAX_CYCLES {
        let batch = cluster.offer_all();
        offers += batch.len();
        let event = gen::offers_event(batch);
        watch.time(|| {
            d.event(event);
            d.commit();
        });
        let s = cluster.settle(&d.take());
        assert!(s.docker_errors.is_empty(), "{:?}", s.docker_errors);
        if cycles == 0 {
            for (_, a) in &s.launched {
                first_cycle_per_agent[*a] += 1;
            }
        }
        cycles += 1;
        placed += s.launched.len();
        accepts += s.accepts;
        d.advance_ms(1000);
    }
    Outcome {
        containers: shapes.len(),
        cycles,
        placed,
        offers,
        accepts,
        elapsed: watch.total,
        setup: setup.total,
        first_cycle_per_agent,
        kernel,
    }
}

/// Runs S1 `repeat` times and reports the fastest.
pub fn run(repeat: usize) -> Vec<Figure> {
    let best = (0..repeat.max(1))
        .map(|_| measure(1))
        .min_by_key(|o| o.elapsed)
        .expect("one run");
    figures(&best)
}

fn figures(o: &Outcome) -> Vec<Figure> {
    assert_eq!(o.placed, o.containers, "S1 did not place every container");
    let us_per_offer = o.elapsed.as_secs_f64() * 1e6 / o.offers.max(1) as f64;
    let core_ns = ns_per(o.elapsed, o.placed);
    let kernel_ns = ns_per(o.kernel.elapsed, o.kernel.placed);
    vec![
        Figure::new(
            "S1",
            "offer cycles to place all 19,500",
            o.cycles as f64,
            "cycles",
            Better::Lower,
        ),
        Figure::new(
            "S1",
            "core time per offer (placement cycle)",
            us_per_offer,
            "µs/offer",
            Better::Lower,
        )
        .anchor(ANCHOR_MESOS_US_PER_OFFER, "Mesos allocator, per offer"),
        Figure::new(
            "S1",
            "tasks per offer (per ACCEPT)",
            o.placed as f64 / o.accepts.max(1) as f64,
            "tasks",
            Better::Higher,
        ),
        Figure::new(
            "S1",
            "core time per placement",
            core_ns,
            "ns",
            Better::Lower,
        ),
        Figure::new(
            "S1",
            "create+start before offers (not in the figures)",
            ns_per(o.setup, o.containers),
            "ns/container",
            Better::Lower,
        ),
        Figure::new(
            "roofline",
            "S1 kernel time per placement",
            kernel_ns,
            "ns",
            Better::Lower,
        ),
        Figure::new(
            "roofline",
            "S1 core ÷ kernel per placement",
            core_ns / kernel_ns,
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
    fn the_kernel_and_the_core_place_the_same_containers_on_the_same_agents() {
        // A tenth of S1 (8 agents, 1,950 containers): the same shapes and the same order.
        let o = measure(10);
        assert_eq!(o.cycles, 1);
        assert_eq!(o.placed, o.containers);
        assert_eq!(o.kernel.placed, o.placed);
        let mut per_offer = vec![0usize; o.first_cycle_per_agent.len()];
        for &i in &o.kernel.placed_on {
            per_offer[i as usize] += 1;
        }
        assert_eq!(per_offer, o.first_cycle_per_agent);
    }
}
