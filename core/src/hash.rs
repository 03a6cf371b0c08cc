//! Hash maps with a fixed hasher.
//!
//! std's default hasher is seeded from the OS random source, which the core must not touch,
//! and makes iteration order differ between runs. The core's maps use this small
//! multiply-rotate hasher instead (the FxHash construction used by rustc): deterministic,
//! and fast for the short keys the core hashes. It is not DoS-resistant; the keys it sees
//! are ids the manager or Mesos made, and names bounded by Docker's name rules.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` with the core's deterministic hasher.
pub type Map<K, V> = HashMap<K, V, BuildHasherDefault<FixedHasher>>;
/// A `HashSet` with the core's deterministic hasher.
pub type Set<K> = HashSet<K, BuildHasherDefault<FixedHasher>>;

/// The hasher behind [`Map`] and [`Set`].
#[derive(Default, Clone, Copy, Debug)]
pub struct FixedHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FixedHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FixedHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn same_key_same_hash_across_builders() {
        let a = BuildHasherDefault::<FixedHasher>::default().hash_one("web");
        let b = BuildHasherDefault::<FixedHasher>::default().hash_one("web");
        assert_eq!(a, b);
        assert_ne!(
            a,
            BuildHasherDefault::<FixedHasher>::default().hash_one("wec")
        );
    }
}
