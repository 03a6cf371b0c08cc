//! Capped exponential backoff between reconnection attempts, jittered from a seed (or not
//! at all): no clock and no OS randomness, so the delays are reproducible.

use std::time::Duration;

/// Reconnection delays: `min`, doubling per consecutive failure, capped at `max`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackoffConfig {
    /// The first delay (and the floor of every jittered delay).
    pub min: Duration,
    /// The longest delay.
    pub max: Duration,
    /// With a seed, each delay is drawn from the upper half of the current step (between
    /// half and all of it, never below `min`) by a generator seeded with it; without one the
    /// delays are exact.
    pub jitter_seed: Option<u64>,
}

/// Default first reconnection delay.
pub const DEFAULT_BACKOFF_MIN: Duration = Duration::from_millis(500);
/// Default longest reconnection delay (the Mesos docs suggest capping around 15 s).
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(15);

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            min: DEFAULT_BACKOFF_MIN,
            max: DEFAULT_BACKOFF_MAX,
            jitter_seed: None,
        }
    }
}

/// The backoff state: consecutive failures and the jitter generator.
#[derive(Clone, Debug)]
pub(crate) struct Backoff {
    config: BackoffConfig,
    failures: u32,
    rng: Option<u64>,
}

impl Backoff {
    pub(crate) fn new(config: BackoffConfig) -> Self {
        let rng = config.jitter_seed;
        Backoff {
            config,
            failures: 0,
            rng,
        }
    }

    /// The delay before the next attempt; each call counts one more failure.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let BackoffConfig { min, max, .. } = self.config;
        let factor = 1u32 << self.failures.min(31);
        let step = min.saturating_mul(factor).min(max);
        self.failures = self.failures.saturating_add(1);
        let Some(state) = self.rng.as_mut() else {
            return step;
        };
        let half = step / 2;
        let span = u64::try_from((step - half).as_nanos()).unwrap_or(u64::MAX);
        let extra = splitmix64(state) % span.saturating_add(1);
        (half + Duration::from_nanos(extra)).clamp(min.min(max), max)
    }

    /// A connection worked: the next failure starts again from `min`.
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }
}

/// One step of SplitMix64.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(seed: Option<u64>) -> BackoffConfig {
        BackoffConfig {
            min: Duration::from_millis(100),
            max: Duration::from_millis(1000),
            jitter_seed: seed,
        }
    }

    #[test]
    fn doubles_caps_and_resets() {
        let mut b = Backoff::new(config(None));
        let ms: Vec<u128> = (0..6).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1000, 1000]);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(100));
        for _ in 0..100 {
            assert!(b.next_delay() <= Duration::from_millis(1000));
        }
        assert_eq!(b.next_delay(), Duration::from_millis(1000));
    }

    #[test]
    fn jitter_is_bounded_and_reproducible() {
        let mut a = Backoff::new(config(Some(7)));
        let mut b = Backoff::new(config(Some(7)));
        for i in 0..40 {
            let (da, db) = (a.next_delay(), b.next_delay());
            assert_eq!(da, db);
            let step = Duration::from_millis(100 * (1u64 << i.min(4))).min(Duration::from_secs(1));
            assert!(
                da <= step && da >= (step / 2).max(Duration::from_millis(100)),
                "{da:?}"
            );
        }
        let mut c = Backoff::new(config(Some(7)));
        let mut d = Backoff::new(config(Some(8)));
        let differs = (0..10).any(|_| c.next_delay() != d.next_delay());
        assert!(differs);
    }

    #[test]
    fn zero_min_means_no_delay() {
        let mut b = Backoff::new(BackoffConfig {
            min: Duration::ZERO,
            max: Duration::from_secs(1),
            jitter_seed: Some(1),
        });
        assert_eq!(b.next_delay(), Duration::ZERO);
        assert_eq!(b.next_delay(), Duration::ZERO);
    }
}
