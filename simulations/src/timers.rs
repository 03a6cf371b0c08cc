//! A deadline queue for sans-IO models: entries fire in deadline order, ties in insertion
//! order. Entries are never cancelled; each carries what its handler needs to tell whether
//! it is still current (an epoch, a uuid), so a stale one is simply ignored when it fires.

use std::collections::BTreeMap;

use mesoswarm_core::time::Instant;

/// Timers of type `T`.
#[derive(Clone, Debug)]
pub struct TimerQueue<T> {
    queue: BTreeMap<(Instant, u64), T>,
    next: u64,
}

impl<T> Default for TimerQueue<T> {
    fn default() -> Self {
        TimerQueue {
            queue: BTreeMap::new(),
            next: 0,
        }
    }
}

impl<T> TimerQueue<T> {
    /// Schedules `t` at `at`.
    pub fn push(&mut self, at: Instant, t: T) {
        self.queue.insert((at, self.next), t);
        self.next += 1;
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.queue.keys().next().map(|(at, _)| *at)
    }

    /// Removes and returns the earliest entry due at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, T)> {
        let (&(at, seq), _) = self.queue.iter().next()?;
        if at > now {
            return None;
        }
        self.queue.remove(&(at, seq)).map(|t| (at, t))
    }

    /// How many entries are queued.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        self.queue.clear();
    }
}
