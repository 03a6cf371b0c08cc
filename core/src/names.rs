//! Generated container names for containers created without `--name`.
//!
//! Docker's style: `adjective_surname`, the surnames of scientists and engineers. The lists
//! are our own; on a collision a number is appended, as dockerd does.

use crate::rng::Rng;

const ADJECTIVES: &[&str] = &[
    "agile", "amber", "bold", "brave", "bright", "calm", "clever", "cosmic", "crisp", "daring",
    "eager", "fearless", "gentle", "glowing", "happy", "humble", "jolly", "keen", "lively",
    "lucid", "merry", "nimble", "noble", "patient", "quiet", "rapid", "serene", "sharp", "steady",
    "swift", "tidy", "vivid", "warm", "witty", "zesty",
];

const SURNAMES: &[&str] = &[
    "babbage",
    "bohr",
    "cerf",
    "curie",
    "dijkstra",
    "einstein",
    "euler",
    "faraday",
    "fermi",
    "feynman",
    "gauss",
    "goodall",
    "hamilton",
    "hopper",
    "hypatia",
    "johnson",
    "kepler",
    "knuth",
    "lamport",
    "lovelace",
    "maxwell",
    "meitner",
    "noether",
    "pascal",
    "ramanujan",
    "ritchie",
    "shannon",
    "tesla",
    "thompson",
    "turing",
    "wozniak",
    "yalow",
];

/// A random `adjective_surname`; with `attempt` > 0 a number is appended to dodge a clash.
pub fn generate(rng: &mut Rng, attempt: u32) -> String {
    let a = ADJECTIVES[rng.below(ADJECTIVES.len() as u64) as usize];
    let s = SURNAMES[rng.below(SURNAMES.len() as u64) as usize];
    if attempt == 0 {
        format!("{a}_{s}")
    } else {
        format!("{a}_{s}{}", rng.below(1000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::validate_container_name;

    #[test]
    fn generated_names_are_valid_docker_names() {
        let mut rng = Rng::new(3);
        for attempt in 0..200 {
            let n = generate(&mut rng, attempt % 3);
            assert!(validate_container_name(&n).is_ok(), "{n}");
            assert!(n.contains('_'));
        }
    }
}
