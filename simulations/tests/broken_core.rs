//! The checkers bite: a deliberately broken core is caught by the sweep.

use mesoswarm_sim::{sweep, CoreKind, FaultProfile, RunConfig};

fn base(core: CoreKind, faults: FaultProfile) -> RunConfig {
    RunConfig {
        agents: 200,
        containers: 30,
        faults,
        duration_ms: 3 * 60_000,
        liveness_ms: 10 * 60_000,
        core,
        ..RunConfig::default()
    }
}

#[test]
fn a_core_that_uses_an_offer_twice_is_caught() {
    for faults in [FaultProfile::None, FaultProfile::All] {
        let r = sweep(0..4, &base(CoreKind::DoubleAccept, faults), false, |_| {});
        assert_eq!(r.failures.len(), 4, "every seed fails");
        for s in &r.failures {
            let v = s.violation.as_ref().unwrap();
            assert_eq!(v.invariant, "offer used once", "{s}");
        }
    }
}

#[test]
fn a_core_that_drops_acknowledgements_is_caught() {
    for faults in [FaultProfile::None, FaultProfile::All] {
        let r = sweep(0..4, &base(CoreKind::DropAck, faults), false, |_| {});
        assert_eq!(r.failures.len(), 4, "every seed fails");
        for s in &r.failures {
            let v = s.violation.as_ref().unwrap();
            assert!(
                matches!(
                    v.invariant,
                    "every request answered within a bound" | "every update acknowledged"
                ),
                "{s}"
            );
        }
    }
}

#[test]
fn a_core_that_launches_before_its_intent_is_durable_is_caught() {
    for faults in [FaultProfile::None, FaultProfile::All] {
        let r = sweep(0..4, &base(CoreKind::EarlyDurable, faults), false, |_| {});
        assert_eq!(r.failures.len(), 4, "every seed fails");
        for s in &r.failures {
            let v = s.violation.as_ref().unwrap();
            assert_eq!(v.invariant, "intent durable before LAUNCH", "{s}");
        }
    }
}

#[test]
fn the_real_core_passes_the_same_runs() {
    let r = sweep(
        0..4,
        &base(CoreKind::Real, FaultProfile::All),
        false,
        |_| {},
    );
    assert!(
        r.passed(),
        "{:?}",
        r.failures.first().map(ToString::to_string)
    );
}
