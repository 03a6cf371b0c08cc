//! Resource arithmetic in Mesos fixed point.
//!
//! Mesos keeps three decimal digits of a scalar (`Value.Scalar`), so the core holds every
//! scalar as an integer number of thousandths and never compares floats. Port ranges are
//! inclusive `(begin, end)` pairs, kept sorted and disjoint.

use core::ops::{Add, Sub};

/// A Mesos scalar in thousandths of its unit (`cpus` 1.5 = `Milli(1500)`, `mem` in MB).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Milli(pub i64);

impl Milli {
    /// Zero.
    pub const ZERO: Milli = Milli(0);

    /// `n` whole units.
    pub const fn from_units(n: i64) -> Milli {
        Milli(n.saturating_mul(1000))
    }

    /// Rounds a Mesos `double` to the nearest thousandth, as Mesos does; NaN and negative
    /// values count as zero.
    pub fn from_f64(v: f64) -> Milli {
        if v.is_nan() || v <= 0.0 {
            return Milli::ZERO;
        }
        let scaled = (v * 1000.0).round();
        if scaled >= i64::MAX as f64 {
            Milli(i64::MAX)
        } else {
            Milli(scaled as i64)
        }
    }

    /// The `double` Mesos expects on the wire.
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// Whole units, rounded down.
    pub fn whole_units(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// `self - other`, never below zero.
    pub fn saturating_sub(self, other: Milli) -> Milli {
        Milli(self.0.saturating_sub(other.0).max(0))
    }
}

impl Add for Milli {
    type Output = Milli;
    fn add(self, rhs: Milli) -> Milli {
        Milli(self.0.saturating_add(rhs.0))
    }
}

impl Sub for Milli {
    type Output = Milli;
    fn sub(self, rhs: Milli) -> Milli {
        Milli(self.0.saturating_sub(rhs.0))
    }
}

impl core::fmt::Display for Milli {
    /// Mesos' own rendering: up to three decimals, trailing zeros dropped.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let whole = self.0.div_euclid(1000);
        let frac = self.0.rem_euclid(1000);
        if frac == 0 {
            write!(f, "{whole}")
        } else {
            let s = format!("{frac:03}");
            write!(f, "{whole}.{}", s.trim_end_matches('0'))
        }
    }
}

/// A set of ports as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortSet {
    ranges: Vec<(u64, u64)>,
}

impl PortSet {
    /// A set from any list of inclusive ranges (overlaps and order are fine).
    pub fn from_ranges(ranges: impl IntoIterator<Item = (u64, u64)>) -> PortSet {
        let mut v: Vec<(u64, u64)> = ranges.into_iter().filter(|(b, e)| b <= e).collect();
        v.sort_unstable();
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(v.len());
        for (b, e) in v {
            match out.last_mut() {
                Some(last) if b <= last.1.saturating_add(1) => last.1 = last.1.max(e),
                _ => out.push((b, e)),
            }
        }
        PortSet { ranges: out }
    }

    /// The ranges, sorted and disjoint.
    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }

    /// How many ports the set holds.
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|(b, e)| e - b + 1).sum()
    }

    /// True when the set holds no port.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether `port` is in the set.
    pub fn contains(&self, port: u64) -> bool {
        let i = self.ranges.partition_point(|&(_, e)| e < port);
        self.ranges.get(i).is_some_and(|&(b, _)| b <= port)
    }

    /// Removes `port`; false if it was not there.
    pub fn take(&mut self, port: u64) -> bool {
        let i = self.ranges.partition_point(|&(_, e)| e < port);
        let Some(&(b, e)) = self.ranges.get(i) else {
            return false;
        };
        if port < b {
            return false;
        }
        match (port == b, port == e) {
            (true, true) => {
                self.ranges.remove(i);
            }
            (true, false) => self.ranges[i].0 = port + 1,
            (false, true) => self.ranges[i].1 = port - 1,
            (false, false) => {
                self.ranges[i].1 = port - 1;
                self.ranges.insert(i + 1, (port + 1, e));
            }
        }
        true
    }

    /// Removes and returns the lowest port.
    pub fn take_lowest(&mut self) -> Option<u64> {
        let first = *self.ranges.first()?;
        self.take(first.0);
        Some(first.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fixed_point_rounds_like_mesos() {
        assert_eq!(Milli::from_f64(0.1), Milli(100));
        assert_eq!(Milli::from_f64(0.07), Milli(70));
        assert_eq!(Milli::from_f64(1.0005), Milli(1001));
        assert_eq!(Milli::from_f64(-1.0), Milli::ZERO);
        assert_eq!(Milli::from_f64(f64::NAN), Milli::ZERO);
        // 0.1 + 0.2 is not 0.3 in floats, but it is in thousandths.
        assert_eq!(
            Milli::from_f64(0.1) + Milli::from_f64(0.2),
            Milli::from_f64(0.3)
        );
        assert_eq!(Milli(1500).to_string(), "1.5");
        assert_eq!(Milli(2000).to_string(), "2");
        assert_eq!(Milli(70).to_string(), "0.07");
    }

    #[test]
    fn port_set_merges_and_takes() {
        let mut s = PortSet::from_ranges([(31005, 31010), (31000, 31004), (32000, 32000)]);
        assert_eq!(s.ranges(), &[(31000, 31010), (32000, 32000)]);
        assert_eq!(s.len(), 12);
        assert!(s.take(31005));
        assert_eq!(
            s.ranges(),
            &[(31000, 31004), (31006, 31010), (32000, 32000)]
        );
        assert!(!s.take(31005));
        assert!(!s.take(30000));
        assert_eq!(s.take_lowest(), Some(31000));
        assert!(s.take(32000));
        assert_eq!(s.ranges(), &[(31001, 31004), (31006, 31010)]);
    }

    proptest! {
        #[test]
        fn taking_ports_removes_exactly_those(
            ranges in proptest::collection::vec((0u64..200, 0u64..20), 0..6),
            takes in proptest::collection::vec(0u64..230, 0..40),
        ) {
            let ranges: Vec<(u64, u64)> = ranges.into_iter().map(|(b, l)| (b, b + l)).collect();
            let mut set = PortSet::from_ranges(ranges.clone());
            let mut model: std::collections::BTreeSet<u64> =
                ranges.iter().flat_map(|&(b, e)| b..=e).collect();
            for p in takes {
                prop_assert_eq!(set.take(p), model.remove(&p));
                prop_assert_eq!(set.len(), model.len() as u64);
            }
            for p in 0..230 {
                prop_assert_eq!(set.contains(p), model.contains(&p));
            }
        }
    }
}
