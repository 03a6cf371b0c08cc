//! Every seed that ever failed, committed in `simulations/regressions.txt`, passes.

use mesoswarm_sim::run::parse_case;
use mesoswarm_sim::{run, RunConfig};

#[test]
fn every_committed_regression_seed_passes() {
    let text = include_str!("../regressions.txt");
    let base = RunConfig::default();
    let mut failures = Vec::new();
    let mut cases = 0;
    for (n, line) in text.lines().enumerate() {
        let cfg = parse_case(line, &base)
            .unwrap_or_else(|e| panic!("regressions.txt line {}: {e}", n + 1));
        let Some(cfg) = cfg else { continue };
        cases += 1;
        let s = run(&cfg);
        if !s.passed() {
            failures.push(format!("line {}: {s}", n + 1));
        }
    }
    assert!(cases >= 10, "regressions.txt lists {cases} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
