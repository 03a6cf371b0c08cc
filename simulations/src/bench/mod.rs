//! Benchmarks of the core against the published figures of `anchors.md` §1.
//!
//! Each scenario generates its inputs first (offers as `mesoswarm_proto` messages, Docker
//! requests typed or as raw HTTP), then drives one `Manager` in this thread and times only
//! the core's work: `handle`, `poll_output` and the group commits of the store. Each prints
//! our figure, the anchor's and the ratio; the roofline kernel ([`kernel`]) runs over the
//! same data in the same process. Run them in release mode:
//!
//! ```text
//! cargo run -p mesoswarm-sim --release -- bench all
//! cargo run -p mesoswarm-sim --release -- bench s2 s4 --repeat 5
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*callgrind_phase*' \
//!     target/release/mesoswarm-sim bench callgrind-scenario
//! ```
//!
//! No figure here is a test threshold: the tests only check that the generators, the
//! kernel and the flows do what they claim.

pub mod callgrind;
pub mod clock;
pub mod cluster;
pub mod driver;
pub mod flow;
pub mod gen;
pub mod inspect;
pub mod kernel;
pub mod memory;
pub mod report;
pub mod s1;
pub mod s2;
pub mod s3;
pub mod s4;
pub mod s6;

pub use clock::{clock_name, set_clock};
pub use driver::Driver;
pub use report::Figure;

/// Mesos' allocator after apache/mesos 86653356: one cycle of 10,000 offers in 1.06 s.
pub const ANCHOR_MESOS_BATCH_MS: f64 = 1060.0;
/// The same, per offer.
pub const ANCHOR_MESOS_US_PER_OFFER: f64 = 106.0;

/// Heap traffic counted by the benchmark binary's global allocator.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct HeapCount {
    /// Bytes handed out (as asked for).
    pub alloc_bytes: u64,
    /// Blocks handed out.
    pub alloc_blocks: u64,
    /// Bytes taken back (as asked for when allocated).
    pub freed_bytes: u64,
    /// Blocks taken back.
    pub freed_blocks: u64,
    /// Bytes taken back, counted as glibc malloc chunks (header and 16-byte rounding).
    pub freed_chunk_bytes: u64,
}

/// How the library reaches the binary's counting allocator (the library itself has no
/// unsafe code and cannot install one).
#[derive(Copy, Clone, Debug)]
pub struct HeapCounter {
    /// Zeroes the counts and starts counting.
    pub start: fn(),
    /// Stops counting and returns the counts.
    pub stop: fn() -> HeapCount,
}

/// What `bench` runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Which {
    /// S1, Mesos `MultiFrameworkAllocations`.
    S1,
    /// S2, Mesos `DeclineOffers`.
    S2,
    /// S3, Nomad C1M.
    S3,
    /// S4, kube `SchedulingBasic/5000Nodes_50000Pods`.
    S4,
    /// S5, Swarm 30k: end to end only, not measured here.
    S5,
    /// S6, failover and restart.
    S6,
    /// Bytes of core state per container.
    Memory,
    /// The fixed scenario for callgrind.
    CallgrindScenario,
}

impl Which {
    /// Every scenario `all` runs, in order.
    pub const ALL: [Which; 7] = [
        Which::S1,
        Which::S2,
        Which::S3,
        Which::S4,
        Which::S5,
        Which::S6,
        Which::Memory,
    ];

    /// Parses a name: `s1` … `s6`, `memory`, `callgrind-scenario` (`all` is the caller's).
    pub fn parse(s: &str) -> Result<Which, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "s1" => Which::S1,
            "s2" => Which::S2,
            "s3" => Which::S3,
            "s4" => Which::S4,
            "s5" => Which::S5,
            "s6" => Which::S6,
            "memory" | "mem" => Which::Memory,
            "callgrind-scenario" => Which::CallgrindScenario,
            other => {
                return Err(format!(
                    "unknown benchmark `{other}` (s1 s2 s3 s4 s5 s6 memory callgrind-scenario all)"
                ))
            }
        })
    }
}

/// Sizes and repetitions.
#[derive(Copy, Clone, Debug)]
pub struct Options {
    /// Repetitions of the short scenarios (S1, S2); the best (S1) or median (S2) counts.
    pub repeat: usize,
    /// S3's services of 1,000 containers (1,000 is C1M's size).
    pub s3_services: usize,
    /// S4's containers arriving (50,000 in the published run).
    pub s4_containers: usize,
    /// S4's requests in flight per batch.
    pub s4_batch: usize,
    /// S6's tasks (100,000 or 400,000 in the published runs).
    pub s6_tasks: usize,
    /// Containers tracked for the memory figure.
    pub memory_containers: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            repeat: 3,
            s3_services: 100,
            s4_containers: 50_000,
            s4_batch: 100,
            s6_tasks: 100_000,
            memory_containers: 100_000,
        }
    }
}

/// Runs one benchmark and returns its figures (printing progress as it goes).
pub fn run(which: Which, opts: &Options, heap: Option<&HeapCounter>) -> Vec<Figure> {
    match which {
        Which::S1 => s1::run(opts.repeat),
        Which::S2 => s2::run(opts.repeat),
        Which::S3 => s3::run(opts.s3_services),
        Which::S4 => s4::run(opts.s4_containers, opts.s4_batch),
        Which::S5 => {
            println!("S5 (1,000 serial `docker run -d` and `docker info` over HTTP, 30,000 containers) is end to end: not measured yet");
            Vec::new()
        }
        Which::S6 => s6::run(opts.s6_tasks),
        Which::Memory => memory::run(opts.memory_containers, heap),
        Which::CallgrindScenario => {
            let s = callgrind::run();
            println!(
                "callgrind scenario: {} containers on {} agents: {} launched, {} acknowledged, {} RECONCILE calls after failover, {} outputs",
                callgrind::CONTAINERS,
                callgrind::AGENTS,
                s.launched,
                s.acks,
                s.reconciles,
                s.outputs
            );
            Vec::new()
        }
    }
}
