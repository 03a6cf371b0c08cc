//! Resources as the simulated master counts them: scalars in Mesos fixed point (thousandths)
//! and ranges, each per `(name, role)`, where the role is the reservation role (`*` for
//! unreserved resources).
//!
//! Mesos compares resources by name, type and reservation; `contains` here does the same
//! (scalars by fixed point, ranges by inclusion), which is what ACCEPT validation and the
//! allocator's refusal filters need.

use std::fmt;

use mesoswarm_core::resources::Milli;
use mesoswarm_proto::v1::{resource, value, Resource};

/// Sorted, disjoint, merged inclusive ranges (`ports`).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ranges(Vec<(u64, u64)>);

impl Ranges {
    /// Ranges from any list of inclusive pairs (overlaps and order are fine; empty pairs dropped).
    pub fn new(pairs: impl IntoIterator<Item = (u64, u64)>) -> Ranges {
        let mut v: Vec<(u64, u64)> = pairs.into_iter().filter(|(b, e)| b <= e).collect();
        v.sort_unstable();
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(v.len());
        for (b, e) in v {
            match out.last_mut() {
                Some(last) if b <= last.1.saturating_add(1) => last.1 = last.1.max(e),
                _ => out.push((b, e)),
            }
        }
        Ranges(out)
    }

    /// The ranges, sorted and disjoint.
    pub fn pairs(&self) -> &[(u64, u64)] {
        &self.0
    }

    /// True when no value is in the set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many values the set holds.
    pub fn count(&self) -> u64 {
        self.0.iter().map(|(b, e)| e - b + 1).sum()
    }

    /// Every value of `other` is in `self`.
    pub fn contains(&self, other: &Ranges) -> bool {
        other.0.iter().all(|&(b, e)| {
            let i = self.0.partition_point(|&(_, end)| end < b);
            self.0.get(i).is_some_and(|&(sb, se)| sb <= b && e <= se)
        })
    }

    /// The union of both sets.
    pub fn union(&self, other: &Ranges) -> Ranges {
        Ranges::new(self.0.iter().chain(other.0.iter()).copied())
    }

    /// The values of `self` that are not in `other`.
    pub fn difference(&self, other: &Ranges) -> Ranges {
        let mut out = Vec::new();
        for &(b, e) in &self.0 {
            let mut start = b;
            for &(ob, oe) in &other.0 {
                if oe < start || ob > e {
                    continue;
                }
                if ob > start {
                    out.push((start, ob - 1));
                }
                if oe >= e {
                    start = e.saturating_add(1);
                    break;
                }
                start = oe + 1;
            }
            if start <= e && start >= b {
                out.push((start, e));
            }
        }
        Ranges::new(out)
    }

    /// Whether the two sets share a value.
    pub fn overlaps(&self, other: &Ranges) -> bool {
        self.difference(other).count() != self.count()
    }

    /// Removes and returns the lowest value.
    pub fn take_lowest(&mut self) -> Option<u64> {
        let v = self.0.first()?.0;
        *self = self.difference(&Ranges(vec![(v, v)]));
        Some(v)
    }
}

impl fmt::Display for Ranges {
    /// Mesos' text: `[31000-31099, 32000-32000]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, (b, e)) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{b}-{e}")?;
        }
        write!(f, "]")
    }
}

/// How resources are written into protobuf for one framework.
#[derive(Copy, Clone, Debug, Default)]
pub struct ProtoFormat<'a> {
    /// `allocation_info.role` (set for MULTI_ROLE frameworks, `None` otherwise).
    pub allocation_role: Option<&'a str>,
    /// The framework has RESERVATION_REFINEMENT: reservations go in `reservations`, not
    /// in the deprecated `role`.
    pub refinement: bool,
}

/// A resource name; the standard ones need no allocation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Name {
    Cpus,
    Mem,
    Disk,
    Gpus,
    Ports,
    Other(Box<str>),
}

impl Name {
    fn of(s: &str) -> Name {
        match s {
            "cpus" => Name::Cpus,
            "mem" => Name::Mem,
            "disk" => Name::Disk,
            "gpus" => Name::Gpus,
            "ports" => Name::Ports,
            other => Name::Other(other.into()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Name::Cpus => "cpus",
            Name::Mem => "mem",
            Name::Disk => "disk",
            Name::Gpus => "gpus",
            Name::Ports => "ports",
            Name::Other(s) => s,
        }
    }
}

/// A reservation role; unreserved (`*`) needs no allocation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Any,
    Named(Box<str>),
}

impl Role {
    fn of(s: &str) -> Role {
        if s == "*" {
            Role::Any
        } else {
            Role::Named(s.into())
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Role::Any => "*",
            Role::Named(s) => s,
        }
    }
}

type Key = (Name, Role);

/// A bag of resources, per `(name, role)`, kept as small sorted vectors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Res {
    scalars: Vec<(Key, Milli)>,
    ranges: Vec<(Key, Ranges)>,
}

fn find<V>(v: &[(Key, V)], k: &Key) -> Result<usize, usize> {
    v.binary_search_by(|(key, _)| key.cmp(k))
}

impl Res {
    /// No resources.
    pub fn empty() -> Res {
        Res::default()
    }

    fn add_scalar_key(&mut self, k: &Key, amount: Milli) {
        if amount <= Milli::ZERO {
            return;
        }
        match find(&self.scalars, k) {
            Ok(i) => self.scalars[i].1 = self.scalars[i].1 + amount,
            Err(i) => self.scalars.insert(i, (k.clone(), amount)),
        }
    }

    fn add_ranges_key(&mut self, k: &Key, r: &Ranges) {
        if r.is_empty() {
            return;
        }
        match find(&self.ranges, k) {
            Ok(i) => self.ranges[i].1 = self.ranges[i].1.union(r),
            Err(i) => self.ranges.insert(i, (k.clone(), r.clone())),
        }
    }

    /// Adds a scalar amount.
    pub fn add_scalar(&mut self, name: &str, role: &str, amount: Milli) {
        self.add_scalar_key(&(Name::of(name), Role::of(role)), amount);
    }

    /// Adds ranges.
    pub fn add_ranges(&mut self, name: &str, role: &str, r: &Ranges) {
        self.add_ranges_key(&(Name::of(name), Role::of(role)), r);
    }

    /// `self + other`.
    pub fn add(&mut self, other: &Res) {
        for (k, v) in &other.scalars {
            self.add_scalar_key(k, *v);
        }
        for (k, v) in &other.ranges {
            self.add_ranges_key(k, v);
        }
    }

    /// `self - other`, never below zero; empty entries vanish.
    pub fn sub(&mut self, other: &Res) {
        for (k, v) in &other.scalars {
            if let Ok(i) = find(&self.scalars, k) {
                let left = self.scalars[i].1.saturating_sub(*v);
                if left == Milli::ZERO {
                    self.scalars.remove(i);
                } else {
                    self.scalars[i].1 = left;
                }
            }
        }
        for (k, v) in &other.ranges {
            if let Ok(i) = find(&self.ranges, k) {
                let left = self.ranges[i].1.difference(v);
                if left.is_empty() {
                    self.ranges.remove(i);
                } else {
                    self.ranges[i].1 = left;
                }
            }
        }
    }

    /// Every resource of `other` is in `self` (same name and role; scalars by fixed point,
    /// ranges by inclusion).
    pub fn contains(&self, other: &Res) -> bool {
        other
            .scalars
            .iter()
            .all(|(k, v)| find(&self.scalars, k).is_ok_and(|i| self.scalars[i].1 >= *v))
            && other
                .ranges
                .iter()
                .all(|(k, v)| find(&self.ranges, k).is_ok_and(|i| self.ranges[i].1.contains(v)))
    }

    /// True when there is nothing.
    pub fn is_empty(&self) -> bool {
        self.scalars.is_empty() && self.ranges.is_empty()
    }

    /// The total of a scalar over every role.
    pub fn scalar(&self, name: &str) -> Milli {
        self.scalars
            .iter()
            .filter(|((n, _), _)| n.as_str() == name)
            .fold(Milli::ZERO, |acc, (_, v)| acc + *v)
    }

    /// The union of a ranges resource over every role.
    pub fn ranges(&self, name: &str) -> Ranges {
        self.ranges
            .iter()
            .filter(|((n, _), _)| n.as_str() == name)
            .fold(Ranges::default(), |acc, (_, v)| acc.union(v))
    }

    /// Whether any resource of this name is present.
    pub fn has(&self, name: &str) -> bool {
        self.scalars.iter().any(|((n, _), _)| n.as_str() == name)
            || self.ranges.iter().any(|((n, _), _)| n.as_str() == name)
    }

    /// Only the entries whose role passes `keep`.
    pub fn with_roles(&self, keep: impl Fn(&str) -> bool) -> Res {
        Res {
            scalars: self
                .scalars
                .iter()
                .filter(|((_, r), _)| keep(r.as_str()))
                .cloned()
                .collect(),
            ranges: self
                .ranges
                .iter()
                .filter(|((_, r), _)| keep(r.as_str()))
                .cloned()
                .collect(),
        }
    }

    /// Parses protobuf resources, validating them as the master does: scalars present,
    /// finite and not negative, ranges well formed, only SCALAR and RANGES types.
    pub fn from_proto(resources: &[Resource]) -> Result<Res, String> {
        let mut out = Res::default();
        for r in resources {
            let key = (Name::of(&r.name), role_key(r));
            match value::Type::try_from(r.r#type) {
                Ok(value::Type::Scalar) => {
                    let Some(s) = r.scalar else {
                        return Err(format!("Invalid scalar resource {}: no scalar", r.name));
                    };
                    if !s.value.is_finite() || s.value < 0.0 {
                        return Err(format!(
                            "Invalid scalar resource {}: {} is not a valid value",
                            r.name, s.value
                        ));
                    }
                    out.add_scalar_key(&key, Milli::from_f64(s.value));
                }
                Ok(value::Type::Ranges) => {
                    let Some(rs) = &r.ranges else {
                        return Err(format!("Invalid ranges resource {}: no ranges", r.name));
                    };
                    if rs.range.iter().any(|x| x.begin > x.end) {
                        return Err(format!(
                            "Invalid ranges resource {}: a range begins after its end",
                            r.name
                        ));
                    }
                    out.add_ranges_key(
                        &key,
                        &Ranges::new(rs.range.iter().map(|x| (x.begin, x.end))),
                    );
                }
                _ => {
                    return Err(format!(
                        "Resource {} has a type the simulated master does not support",
                        r.name
                    ))
                }
            }
        }
        Ok(out)
    }

    /// The resources as protobuf entries, in a stable order (name, then role).
    #[allow(deprecated)] // Resource.role: the old format for frameworks without refinement
    pub fn to_proto(&self, format: ProtoFormat<'_>) -> Vec<Resource> {
        let meta = |name: &Name, role: &Role, kind: value::Type| Resource {
            name: name.as_str().to_string(),
            r#type: kind as i32,
            role: (!format.refinement).then(|| role.as_str().to_string()),
            reservations: match role {
                Role::Named(r) if format.refinement => vec![resource::ReservationInfo {
                    r#type: Some(resource::reservation_info::Type::Static as i32),
                    role: Some(r.to_string()),
                    principal: None,
                    labels: None,
                }],
                _ => Vec::new(),
            },
            allocation_info: format.allocation_role.map(|r| resource::AllocationInfo {
                role: Some(r.to_string()),
            }),
            ..Default::default()
        };
        let mut out = Vec::with_capacity(self.scalars.len() + self.ranges.len());
        for ((name, role), v) in &self.scalars {
            let mut r = meta(name, role, value::Type::Scalar);
            r.scalar = Some(value::Scalar { value: v.to_f64() });
            out.push(r);
        }
        for ((name, role), v) in &self.ranges {
            let mut r = meta(name, role, value::Type::Ranges);
            r.ranges = Some(value::Ranges {
                range: v
                    .pairs()
                    .iter()
                    .map(|&(begin, end)| value::Range { begin, end })
                    .collect(),
            });
            out.push(r);
        }
        out
    }
}

/// The role key of a protobuf resource.
#[allow(deprecated)] // Resource.role
fn role_key(r: &Resource) -> Role {
    if let Some(last) = r.reservations.last() {
        return Role::of(last.role.as_deref().unwrap_or("*"));
    }
    Role::of(r.role.as_deref().unwrap_or("*"))
}

/// The reservation role of a protobuf resource: the last refinement, else the old `role`,
/// else `*`.
#[allow(deprecated)] // Resource.role
pub fn role_of(r: &Resource) -> String {
    if let Some(last) = r.reservations.last() {
        return last.role.clone().unwrap_or_else(|| "*".into());
    }
    r.role.clone().unwrap_or_else(|| "*".into())
}

/// `allocation_info.role` of a protobuf resource, if set.
pub fn allocation_role_of(r: &Resource) -> Option<&str> {
    r.allocation_info.as_ref().and_then(|a| a.role.as_deref())
}

impl fmt::Display for Res {
    /// Mesos-like text: `cpus(*):0.5; mem(*):128; ports(*):[31000-31000]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut sep = |f: &mut fmt::Formatter<'_>| {
            if first {
                first = false;
                Ok(())
            } else {
                write!(f, "; ")
            }
        };
        for ((n, r), v) in &self.scalars {
            sep(f)?;
            write!(f, "{}({}):{v}", n.as_str(), r.as_str())?;
        }
        for ((n, r), v) in &self.ranges {
            sep(f)?;
            write!(f, "{}({}):{v}", n.as_str(), r.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_set_operations() {
        let a = Ranges::new([(31000, 31010), (31020, 31030)]);
        let b = Ranges::new([(31005, 31022)]);
        assert_eq!(a.difference(&b).pairs(), &[(31000, 31004), (31023, 31030)]);
        assert!(a.contains(&Ranges::new([(31001, 31003), (31025, 31025)])));
        assert!(!a.contains(&Ranges::new([(31009, 31021)])));
        assert!(a.overlaps(&b));
        assert!(!a.overlaps(&Ranges::new([(31011, 31019)])));
        assert_eq!(a.union(&b).pairs(), &[(31000, 31030)]);
        let mut c = Ranges::new([(5, 6)]);
        assert_eq!(c.take_lowest(), Some(5));
        assert_eq!(c.pairs(), &[(6, 6)]);
    }

    #[test]
    fn fixed_point_contains_and_proto_round_trip() {
        let mut total = Res::empty();
        total.add_scalar("cpus", "*", Milli(300));
        total.add_scalar("cpus", "eng", Milli(200));
        total.add_ranges("ports", "*", &Ranges::new([(31000, 31001)]));
        let mut used = Res::empty();
        for _ in 0..3 {
            used.add_scalar("cpus", "*", Milli(100));
        }
        assert!(total.contains(&used));
        used.add_scalar("cpus", "*", Milli(1));
        assert!(!total.contains(&used));
        let proto = total.to_proto(ProtoFormat {
            allocation_role: Some("*"),
            refinement: false,
        });
        assert_eq!(Res::from_proto(&proto).unwrap(), total);
        let refined = total.to_proto(ProtoFormat {
            allocation_role: None,
            refinement: true,
        });
        assert_eq!(Res::from_proto(&refined).unwrap(), total);
        assert_eq!(total.scalar("cpus"), Milli(500));
    }
}
