//! Fault profiles and the seeded fault plan of a run.
//!
//! Every knob is drawn from the seed (TigerBeetle-style): how lossy the network is, how
//! often agents are partitioned or restarted, when the master fails over, when the manager
//! crashes. The plan covers the fault phase only; the liveness phase that follows has none.

use std::time::Duration;

use mesoswarm_core::rng::Rng;
use mesoswarm_core::time::Instant;

use crate::config::Latency;
use crate::network::NetConfig;
use crate::timers::TimerQueue;

/// Which faults a run injects.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum FaultProfile {
    /// None: a healthy cluster and network.
    #[default]
    None,
    /// Message loss, delay, duplication and link clogs between manager and master.
    Network,
    /// Agent partitions (healed, or turned unreachable, or marked gone), agent restarts,
    /// maintenance (inverse offers, then the machine goes down), failing launches.
    Agents,
    /// Master failovers: a new leader with empty memory, agents re-registering over time.
    Failover,
    /// Manager crashes at any step (notably between persisting an intent and its ACCEPT),
    /// store stalls.
    Crash,
    /// All of the above.
    All,
}

impl FaultProfile {
    /// Every profile, by name.
    pub const ALL: [(&'static str, FaultProfile); 6] = [
        ("none", FaultProfile::None),
        ("network", FaultProfile::Network),
        ("agents", FaultProfile::Agents),
        ("failover", FaultProfile::Failover),
        ("crash", FaultProfile::Crash),
        ("all", FaultProfile::All),
    ];

    /// The profile with this name.
    pub fn parse(s: &str) -> Result<FaultProfile, String> {
        FaultProfile::ALL
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, p)| *p)
            .ok_or_else(|| {
                format!("unknown fault profile `{s}` (none, network, agents, failover, crash, all)")
            })
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        FaultProfile::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("none", |(n, _)| n)
    }

    fn has(self, other: FaultProfile) -> bool {
        self == FaultProfile::All || self == other
    }
}

/// One fault, applied by the world when due.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Hold every message between manager and master for this long.
    Clog {
        /// How long.
        ms: u64,
    },
    /// Cut an agent off; heal it after `heal_after_ms`, or mark it gone after it turned
    /// unreachable.
    Partition {
        /// When it heals (`None`: it never does; it is marked gone instead).
        heal_after_ms: Option<u64>,
    },
    /// Heal agent `agent` (a follow-up of a partition).
    Heal {
        /// The agent.
        agent: usize,
    },
    /// Mark agent `agent` gone (a follow-up of a partition).
    Gone {
        /// The agent.
        agent: usize,
    },
    /// Restart an agent's process.
    Restart {
        /// How long it is down.
        down_ms: u64,
    },
    /// An agent shuts down and unregisters for good.
    RemoveAgent,
    /// Schedule maintenance of an agent.
    Maintenance {
        /// When the window starts.
        start_in_ms: u64,
        /// How long it lasts.
        duration_ms: u64,
    },
    /// The master fails over.
    MasterFailover {
        /// Leader election time.
        election_ms: u64,
        /// Agents re-register within this long after the election.
        spread_ms: u64,
    },
    /// The manager crashes now.
    Crash {
        /// How long until it is restarted from its store.
        down_ms: u64,
    },
    /// The manager crashes right after it next persists a launch intent.
    CrashAfterIntent {
        /// How long until it is restarted from its store.
        down_ms: u64,
    },
    /// Store writes stall.
    StoreStall {
        /// How long.
        ms: u64,
    },
}

/// The knobs a seed draws for a run, and its schedule of faults.
#[derive(Debug)]
pub struct FaultPlan {
    /// The network during the fault phase.
    pub net: NetConfig,
    /// Share of launches that fail.
    pub launch_failure_rate: f64,
    /// Store write latency during the fault phase.
    pub store_latency: Latency,
    /// The master's `--offer_timeout`, for some seeds.
    pub offer_timeout_ms: Option<u64>,
    /// How long tasks run before they exit by themselves, for some seeds.
    pub run_time: Option<Latency>,
    /// Share of self-exiting tasks that fail.
    pub exit_failure_rate: f64,
    /// The framework's `failover_timeout`, shortened for some seeds so that a long manager
    /// crash gets the framework removed.
    pub failover_timeout_secs: Option<f64>,
    queue: TimerQueue<Fault>,
}

impl FaultPlan {
    /// The plan of `profile` for a fault phase of `duration_ms` from `start`.
    pub fn generate(
        profile: FaultProfile,
        seed: u64,
        start: Instant,
        duration_ms: u64,
    ) -> FaultPlan {
        let mut rng = Rng::new(seed ^ 0x6661_756c_7473);
        let mut queue = TimerQueue::default();
        let mut plan = FaultPlan {
            net: NetConfig::perfect(),
            launch_failure_rate: 0.0,
            store_latency: Latency::between(1, 10),
            offer_timeout_ms: None,
            run_time: None,
            exit_failure_rate: 0.0,
            failover_timeout_secs: None,
            queue: TimerQueue::default(),
        };
        if profile != FaultProfile::None {
            // Cluster knobs vary per seed too.
            if rng.below(4) == 0 {
                plan.offer_timeout_ms = Some(10_000 + rng.below(110_000));
            }
            if rng.below(4) == 0 {
                let min = 30_000 + rng.below(300_000);
                plan.run_time = Some(Latency::between(min, min * 2));
                plan.exit_failure_rate = rng.below(500) as f64 / 1000.0;
            }
        }
        let minutes = duration_ms as f64 / 60_000.0;
        // `every` minutes on average, at least once when the phase is long enough.
        let mut schedule = |rng: &mut Rng,
                            every_min: f64,
                            make: &mut dyn FnMut(&mut Rng) -> Fault| {
            let expected = minutes / every_min;
            let n = expected.floor() as u64
                + u64::from((rng.below(1000) as f64) < expected.fract() * 1000.0);
            for _ in 0..n {
                let at = start.saturating_add(Duration::from_millis(rng.below(duration_ms.max(1))));
                let f = make(rng);
                queue.push(at, f);
            }
        };
        if profile.has(FaultProfile::Network) {
            plan.net = NetConfig {
                delay: Latency::between(1, 5 + rng.below(300)),
                drop_rate: rng.below(100) as f64 / 1000.0,
                dup_rate: rng.below(30) as f64 / 1000.0,
            };
            schedule(&mut rng, 2.0, &mut |r| Fault::Clog {
                ms: 1_000 + r.below(20_000),
            });
        }
        if profile.has(FaultProfile::Agents) {
            plan.launch_failure_rate = (20 + rng.below(80)) as f64 / 1000.0;
            schedule(&mut rng, 1.0, &mut |r| Fault::Partition {
                heal_after_ms: match r.below(20) {
                    0..=2 => None,
                    3..=9 => Some(90_000 + r.below(120_000)),
                    _ => Some(1_000 + r.below(60_000)),
                },
            });
            schedule(&mut rng, 1.5, &mut |r| Fault::Restart {
                down_ms: if r.below(5) == 0 {
                    80_000 + r.below(40_000)
                } else {
                    500 + r.below(30_000)
                },
            });
            schedule(&mut rng, 4.0, &mut |r| Fault::Maintenance {
                start_in_ms: 10_000 + r.below(60_000),
                duration_ms: 30_000 + r.below(120_000),
            });
            schedule(&mut rng, 8.0, &mut |_| Fault::RemoveAgent);
        }
        if profile.has(FaultProfile::Failover) {
            schedule(&mut rng, 4.0, &mut |r| Fault::MasterFailover {
                election_ms: 500 + r.below(10_000),
                spread_ms: r.below(120_000),
            });
        }
        if profile.has(FaultProfile::Crash) {
            plan.store_latency = Latency::between(1, 5 + rng.below(200));
            if rng.below(4) == 0 {
                plan.failover_timeout_secs = Some((5 + rng.below(25)) as f64);
            }
            schedule(&mut rng, 3.0, &mut |r| Fault::Crash {
                down_ms: 500 + r.below(30_000),
            });
            schedule(&mut rng, 6.0, &mut |r| Fault::CrashAfterIntent {
                down_ms: 500 + r.below(10_000),
            });
            schedule(&mut rng, 3.0, &mut |r| Fault::StoreStall {
                ms: 500 + r.below(20_000),
            });
        }
        plan.queue = queue;
        plan
    }

    /// Adds a follow-up fault.
    pub fn push(&mut self, at: Instant, f: Fault) {
        self.queue.push(at, f);
    }

    /// When the next fault is due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.queue.next_deadline()
    }

    /// The next fault due at `now`.
    pub fn poll(&mut self, now: Instant) -> Option<Fault> {
        self.queue.pop_due(now).map(|(_, f)| f)
    }

    /// Drops every fault not applied yet.
    pub fn clear(&mut self) {
        self.queue.clear();
    }
}
