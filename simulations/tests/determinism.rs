//! The same seed gives a byte-identical trace (hash); other seeds give other traces.

use mesoswarm_sim::{run, FaultProfile, RunConfig};

fn config(seed: u64) -> RunConfig {
    RunConfig {
        seed,
        agents: 50,
        containers: 30,
        faults: FaultProfile::All,
        duration_ms: 4 * 60_000,
        liveness_ms: 10 * 60_000,
        ..RunConfig::default()
    }
}

#[test]
fn a_seed_run_twice_gives_the_same_trace_hash() {
    for seed in [1, 2, 3] {
        let a = run(&config(seed));
        let b = run(&config(seed));
        assert!(a.steps > 100, "seed {seed} did something: {a}");
        assert_eq!(a.trace_hash, b.trace_hash, "seed {seed}: {a}\n{b}");
        assert_eq!(a.steps, b.steps);
        assert_eq!(a.last_inputs, b.last_inputs);
    }
}

#[test]
fn different_seeds_give_different_traces() {
    let hashes: std::collections::BTreeSet<u64> =
        (10..14).map(|seed| run(&config(seed)).trace_hash).collect();
    assert_eq!(hashes.len(), 4);
}

#[test]
fn a_fault_free_run_places_everything() {
    let s = run(&RunConfig {
        seed: 5,
        agents: 20,
        containers: 40,
        faults: FaultProfile::None,
        duration_ms: 3 * 60_000,
        liveness_ms: 5 * 60_000,
        ..RunConfig::default()
    });
    assert!(s.passed(), "{s}");
    assert_eq!(
        s.workload.created, 45,
        "40 containers, then 5 more after the faults"
    );
    assert!(s.containers_ever_running >= 45, "{s}");
    assert!(s.time_to_all_running.is_some());
}
