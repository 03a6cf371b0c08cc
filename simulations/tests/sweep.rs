//! The CI sweep: 200 seeds with every fault at 1,000 agents, each checked after every step
//! and at the end. Seeds run in parallel on the machine's cores (each run is one thread).

use std::sync::Mutex;

use mesoswarm_sim::{run, FaultProfile, RunConfig, RunSummary};

/// Seeds of the CI sweep.
const SEEDS: std::ops::Range<u64> = 0..200;

fn config(seed: u64) -> RunConfig {
    RunConfig {
        seed,
        agents: 1_000,
        containers: 20,
        faults: FaultProfile::All,
        duration_ms: 2 * 60_000,
        liveness_ms: 10 * 60_000,
        ..RunConfig::default()
    }
}

#[test]
fn sweep_200_seeds_with_all_faults_at_1000_agents() {
    let next = Mutex::new(SEEDS.start);
    let results: Mutex<Vec<RunSummary>> = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let seed = {
                    let mut n = next.lock().unwrap();
                    if *n >= SEEDS.end {
                        return;
                    }
                    *n += 1;
                    *n - 1
                };
                let s = run(&config(seed));
                results.lock().unwrap().push(s);
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|s| s.seed);
    assert_eq!(results.len(), (SEEDS.end - SEEDS.start) as usize);
    let failures: Vec<String> = results
        .iter()
        .filter(|s| !s.passed())
        .map(ToString::to_string)
        .collect();
    let faults = results.iter().fold([0u64; 6], |mut acc, s| {
        let c = &s.faults_applied;
        acc[0] += c.partitions;
        acc[1] += c.agent_restarts;
        acc[2] += c.master_failovers;
        acc[3] += c.crashes;
        acc[4] += c.maintenance;
        acc[5] += c.clogs;
        acc
    });
    println!(
        "{} seeds: {} partitions, {} agent restarts, {} master failovers, {} manager crashes, {} maintenance, {} clogs",
        results.len(),
        faults[0],
        faults[1],
        faults[2],
        faults[3],
        faults[4],
        faults[5]
    );
    assert!(
        faults.iter().all(|n| *n > 0),
        "every kind of fault was injected"
    );
    assert!(
        failures.is_empty(),
        "{} failing seed(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
