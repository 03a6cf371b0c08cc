//! The core's timers: each has a reason (a key), one deadline, and can be moved or cancelled.

use std::collections::BTreeMap;

use crate::hash::Map;
use std::hash::Hash;

use crate::time::Instant;

/// Deadlines keyed by their reason. Setting a key again moves its deadline.
#[derive(Clone, Debug)]
pub struct TimerTable<K: Clone + Eq + Hash + Ord> {
    by_deadline: BTreeMap<(Instant, K), ()>,
    by_key: Map<K, Instant>,
}

impl<K: Clone + Eq + Hash + Ord> Default for TimerTable<K> {
    fn default() -> Self {
        TimerTable {
            by_deadline: BTreeMap::new(),
            by_key: Map::default(),
        }
    }
}

impl<K: Clone + Eq + Hash + Ord> TimerTable<K> {
    /// Arms `key` to fire at `at`, replacing an earlier deadline of the same key.
    pub fn set(&mut self, key: K, at: Instant) {
        if let Some(old) = self.by_key.insert(key.clone(), at) {
            self.by_deadline.remove(&(old, key.clone()));
        }
        self.by_deadline.insert((at, key), ());
    }

    /// Arms `key` only if it is not armed already.
    pub fn set_if_unset(&mut self, key: K, at: Instant) {
        if !self.by_key.contains_key(&key) {
            self.set(key, at);
        }
    }

    /// Disarms `key`.
    pub fn cancel(&mut self, key: &K) {
        if let Some(at) = self.by_key.remove(key) {
            self.by_deadline.remove(&(at, key.clone()));
        }
    }

    /// When `key` fires, if armed.
    pub fn deadline(&self, key: &K) -> Option<Instant> {
        self.by_key.get(key).copied()
    }

    /// The earliest deadline and its reason.
    pub fn next(&self) -> Option<(Instant, &K)> {
        self.by_deadline.keys().next().map(|(at, k)| (*at, k))
    }

    /// Removes and returns one timer whose deadline is at or before `now`, earliest first.
    pub fn pop_due(&mut self, now: Instant) -> Option<K> {
        let (at, _) = self.next()?;
        if at > now {
            return None;
        }
        let ((_, key), ()) = self.by_deadline.pop_first()?;
        self.by_key.remove(&key);
        Some(key)
    }

    /// How many timers are armed.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// True when no timer is armed.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_in_deadline_order_and_moves_on_reset() {
        let mut t = TimerTable::default();
        t.set("a", Instant::from_unix_secs(5));
        t.set("b", Instant::from_unix_secs(3));
        t.set("a", Instant::from_unix_secs(1));
        t.set_if_unset("a", Instant::from_unix_secs(9));
        assert_eq!(t.len(), 2);
        assert_eq!(t.next(), Some((Instant::from_unix_secs(1), &"a")));
        assert_eq!(t.pop_due(Instant::from_unix_secs(0)), None);
        assert_eq!(t.pop_due(Instant::from_unix_secs(4)), Some("a"));
        assert_eq!(t.pop_due(Instant::from_unix_secs(4)), Some("b"));
        assert!(t.is_empty());
        t.set("c", Instant::from_unix_secs(2));
        t.cancel(&"c");
        assert_eq!(t.pop_due(Instant::from_unix_secs(10)), None);
    }
}
