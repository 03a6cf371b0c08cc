//! The roofline: a minimal fit-and-commit kernel over the same offers and requests a
//! scenario gives the core, with the core's policy (first come first served, next-fit from
//! the offer last used, shapes that failed everywhere skipped, a cap on tasks per offer).
//!
//! Offers are a struct of arrays of fixed-point integers; a placement is one compare per
//! resource per candidate and two subtractions. Nothing else: no ids, no maps, no protobuf.
//! The core's time per placement divided by this one says how much of the core's cost is
//! bookkeeping rather than the decision itself.

use std::time::Duration;

use super::clock;

/// Offers as columns: what is left of each, thousandths.
#[derive(Clone, Debug, Default)]
pub struct Offers {
    /// `cpus` left.
    pub cpus: Vec<i64>,
    /// `mem` left.
    pub mem: Vec<i64>,
    /// Tasks placed on each.
    pub tasks: Vec<u32>,
}

impl Offers {
    /// Offers of these free amounts (thousandths), none used yet.
    pub fn new(cpus: &[i64], mem: &[i64]) -> Offers {
        Offers {
            cpus: cpus.to_vec(),
            mem: mem.to_vec(),
            tasks: vec![0; cpus.len()],
        }
    }
}

/// Requests as columns, in arrival order, thousandths.
#[derive(Clone, Debug, Default)]
pub struct Requests {
    /// `cpus` asked.
    pub cpus: Vec<i64>,
    /// `mem` asked.
    pub mem: Vec<i64>,
}

impl Requests {
    /// Adds `n` requests of one shape.
    pub fn push_n(&mut self, n: usize, cpus_milli: i64, mem_milli: i64) {
        self.cpus.extend(std::iter::repeat_n(cpus_milli, n));
        self.mem.extend(std::iter::repeat_n(mem_milli, n));
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.cpus.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.cpus.is_empty()
    }
}

/// Sentinel in [`Outcome::placed_on`]: not placed.
pub const UNPLACED: u32 = u32::MAX;

/// What one run of the kernel decided.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The offer each request went to, or [`UNPLACED`].
    pub placed_on: Vec<u32>,
    /// How many were placed.
    pub placed: usize,
    /// Candidate checks made (one per offer looked at).
    pub checks: u64,
    /// Time of the decision loop.
    pub elapsed: Duration,
}

/// Failed shapes remembered per pass, as the core does (`FAILED_SHAPES_KEPT`).
const FAILED_SHAPES_KEPT: usize = 16;

/// Places `requests` on `offers` (next-fit, first come first served) and subtracts what
/// each placement takes.
pub fn place(offers: &mut Offers, requests: &Requests, max_per_offer: u32) -> Outcome {
    let n = offers.cpus.len();
    let mut placed_on = vec![UNPLACED; requests.len()];
    let t0 = clock::now();
    let mut cursor = 0usize;
    let mut placed = 0usize;
    let mut checks = 0u64;
    let mut failed: [(i64, i64); FAILED_SHAPES_KEPT] = [(0, 0); FAILED_SHAPES_KEPT];
    let mut failed_len = 0usize;
    let (ocpu, omem, otasks) = (&mut offers.cpus, &mut offers.mem, &mut offers.tasks);
    for (r, slot) in placed_on.iter_mut().enumerate() {
        let (c, m) = (requests.cpus[r], requests.mem[r]);
        if failed[..failed_len]
            .iter()
            .any(|&(fc, fm)| c >= fc && m >= fm)
        {
            continue;
        }
        let mut found = None;
        // Next-fit: from the offer last used, wrapping around once.
        for k in 0..n {
            let i = if cursor + k < n {
                cursor + k
            } else {
                cursor + k - n
            };
            if ocpu[i] >= c && omem[i] >= m && otasks[i] < max_per_offer {
                checks += k as u64 + 1;
                found = Some(i);
                break;
            }
        }
        match found {
            Some(i) => {
                ocpu[i] -= c;
                omem[i] -= m;
                otasks[i] += 1;
                *slot = i as u32;
                cursor = i;
                placed += 1;
            }
            None => {
                checks += n as u64;
                if failed_len < FAILED_SHAPES_KEPT {
                    failed[failed_len] = (c, m);
                    failed_len += 1;
                }
            }
        }
    }
    let elapsed = clock::now().saturating_sub(t0);
    std::hint::black_box(&placed_on);
    Outcome {
        placed_on,
        placed,
        checks,
        elapsed,
    }
}

/// Runs [`place`] `repeat` times on fresh copies of `offers` and keeps the fastest run
/// (the kernel is tiny, so one run is at the mercy of the scheduler on a shared machine).
pub fn best_of(offers: &Offers, requests: &Requests, max_per_offer: u32, repeat: usize) -> Outcome {
    let mut best: Option<Outcome> = None;
    for _ in 0..repeat.max(1) {
        let mut o = offers.clone();
        let out = place(&mut o, requests, max_per_offer);
        if best.as_ref().is_none_or(|b| out.elapsed < b.elapsed) {
            best = Some(out);
        }
    }
    best.expect("at least one run")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_fit_packs_then_moves_on_and_skips_shapes_that_failed() {
        let mut offers = Offers::new(&[1000, 1000], &[1000, 1000]);
        let mut req = Requests::default();
        req.push_n(3, 600, 100); // one per offer, the third fits nowhere
        req.push_n(1, 700, 100); // dominated by a failed shape: not even tried
        req.push_n(2, 400, 100); // fills what is left of both
        let out = place(&mut offers, &req, 10);
        assert_eq!(out.placed_on, vec![0, 1, UNPLACED, UNPLACED, 1, 0]);
        assert_eq!(out.placed, 4);
        assert_eq!(offers.cpus, vec![0, 0]);
    }

    #[test]
    fn the_cap_per_offer_holds() {
        let mut offers = Offers::new(&[10_000], &[10_000]);
        let mut req = Requests::default();
        req.push_n(5, 1, 1);
        assert_eq!(place(&mut offers, &req, 3).placed, 3);
    }
}
