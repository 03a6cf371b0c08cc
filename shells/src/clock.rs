//! The core's clock: the runtime's monotonic clock mapped onto [`Instant`] (nanoseconds since
//! the Unix epoch).
//!
//! The wall clock is read once, when the [`Clock`] is made; from then on time is that anchor
//! plus the monotonic time elapsed since, so a wall-clock step (NTP, a user changing the date)
//! neither moves the core's timers nor makes time go backwards. The same value stamps Docker
//! timestamps (`Created`, event `time`), which therefore stay close to the wall clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mesoswarm_core::time::Instant;

/// Maps the monotonic clock to the core's [`Instant`]. Never goes backwards.
#[derive(Debug)]
pub struct Clock {
    anchor: Instant,
    start: std::time::Instant,
    /// The latest value handed out, so that `now` is monotonic even across threads.
    last_nanos: AtomicU64,
}

impl Clock {
    /// A clock anchored at the wall-clock time of now.
    pub fn new() -> Clock {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        let nanos = u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX);
        Clock::anchored_at(Instant::from_unix_nanos(nanos))
    }

    /// A clock that reads `anchor` now and moves on with the monotonic clock.
    pub fn anchored_at(anchor: Instant) -> Clock {
        Clock {
            anchor,
            start: std::time::Instant::now(),
            last_nanos: AtomicU64::new(anchor.unix_nanos()),
        }
    }

    /// The current time: the anchor plus the monotonic time elapsed since the clock was made.
    pub fn now(&self) -> Instant {
        let t = self
            .anchor
            .saturating_add(self.start.elapsed())
            .unix_nanos();
        let before = self.last_nanos.fetch_max(t, Ordering::AcqRel);
        Instant::from_unix_nanos(t.max(before))
    }

    /// How long from now until `at` (zero if `at` has passed).
    pub fn until(&self, at: Instant) -> Duration {
        at.saturating_since(self.now())
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_the_wall_clock_and_never_goes_back() {
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let clock = Clock::new();
        let first = clock.now();
        assert!(first.unix_nanos() >= u64::try_from(wall.as_nanos()).unwrap());
        let mut prev = first;
        for _ in 0..1000 {
            let t = clock.now();
            assert!(t >= prev);
            prev = t;
        }
    }

    #[test]
    fn until_counts_down_to_zero() {
        let clock = Clock::anchored_at(Instant::from_unix_secs(100));
        let soon = Instant::from_unix_secs(105);
        let d = clock.until(soon);
        assert!(d <= Duration::from_secs(5) && d > Duration::from_secs(4));
        assert_eq!(clock.until(Instant::from_unix_secs(99)), Duration::ZERO);
    }
}
