//! The offer book: offers held right now, what is left of each, and offers already spent.
//!
//! An offer is held from its arrival until it is accepted, declined, rescinded or voided by
//! a re-subscription. Every resource entry of the offer is kept as Mesos sent it (role,
//! reservations, allocation_info) so that the resources a task takes carry the same
//! metadata back in the ACCEPT.

use std::collections::{BTreeMap, VecDeque};

use crate::hash::{Map, Set};

use mesoswarm_proto::v1::{value, Offer, Resource};

use crate::resources::{Milli, PortSet};
use crate::time::Instant;

/// One resource entry of an offer and how much of it is still free.
#[derive(Clone, Debug)]
struct Pool {
    /// The entry as offered.
    resource: Resource,
    /// What is left of a scalar entry.
    scalar_left: Milli,
    /// What is left of a ranges entry.
    ports_left: PortSet,
}

/// Totals of what an offer still has, for a quick "does it fit" check.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Remaining {
    /// `cpus`.
    pub cpus: Milli,
    /// `mem` (MB, in thousandths).
    pub mem: Milli,
    /// `disk` (MB, in thousandths).
    pub disk: Milli,
    /// Free `ports`.
    pub ports: PortSet,
}

/// An offer the manager holds.
#[derive(Clone, Debug)]
pub struct HeldOffer {
    /// `OfferID.value`.
    pub id: String,
    /// `AgentID.value`.
    pub agent_id: String,
    /// The agent's hostname.
    pub hostname: String,
    /// Text and scalar attributes of the agent (`rack:r1`), for constraints.
    pub attributes: Vec<(String, String)>,
    /// When it arrived.
    pub received_at: Instant,
    /// Set once tasks were placed on it and its ACCEPT is waiting to go out: it can take no
    /// more work, and it must not be declined or expire.
    pub launching: bool,
    pools: Vec<Pool>,
    remaining: Remaining,
}

/// Resources taken from one offer for one task: the entries for its `TaskInfo`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Taken {
    /// Resource entries, each a slice of an offered entry with its metadata.
    pub resources: Vec<Resource>,
    /// Host ports taken, in the order they were asked for.
    pub host_ports: Vec<u64>,
}

/// What a task needs from an offer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Demand {
    /// `cpus`.
    pub cpus: Milli,
    /// `mem`.
    pub mem: Milli,
    /// Host ports that must be exactly these.
    pub fixed_ports: Vec<u64>,
    /// How many more host ports, any free ones.
    pub any_ports: usize,
}

impl HeldOffer {
    /// Builds the held form of an offer as Mesos sent it.
    pub fn new(offer: &Offer, now: Instant) -> HeldOffer {
        let mut pools = Vec::with_capacity(offer.resources.len());
        let mut remaining = Remaining::default();
        let mut all_ports = Vec::new();
        for r in &offer.resources {
            // Revocable and shared resources are never taken: we do not declare the
            // capabilities for them, so Mesos should not send them; ignore them if it does.
            if r.revocable.is_some() || r.shared.is_some() {
                continue;
            }
            let scalar_left = r
                .scalar
                .as_ref()
                .map_or(Milli::ZERO, |s| Milli::from_f64(s.value));
            let ports_left = match (&r.ranges, r.name.as_str()) {
                (Some(ranges), "ports") => {
                    PortSet::from_ranges(ranges.range.iter().map(|x| (x.begin, x.end)))
                }
                _ => PortSet::default(),
            };
            match r.name.as_str() {
                "cpus" => remaining.cpus = remaining.cpus + scalar_left,
                "mem" => remaining.mem = remaining.mem + scalar_left,
                "disk" => remaining.disk = remaining.disk + scalar_left,
                "ports" => all_ports.extend_from_slice(ports_left.ranges()),
                _ => {}
            }
            pools.push(Pool {
                resource: r.clone(),
                scalar_left,
                ports_left,
            });
        }
        remaining.ports = PortSet::from_ranges(all_ports);
        let attributes = offer
            .attributes
            .iter()
            .filter_map(|a| {
                let v = if let Some(t) = &a.text {
                    t.value.clone()
                } else if let Some(s) = &a.scalar {
                    Milli::from_f64(s.value).to_string()
                } else {
                    return None;
                };
                Some((a.name.clone(), v))
            })
            .collect();
        HeldOffer {
            id: offer.id.value.clone(),
            agent_id: offer.agent_id.value.clone(),
            hostname: offer.hostname.clone(),
            attributes,
            received_at: now,
            launching: false,
            pools,
            remaining,
        }
    }

    /// What is still free.
    pub fn remaining(&self) -> &Remaining {
        &self.remaining
    }

    /// Whether `demand` fits in what is left.
    pub fn fits(&self, demand: &Demand) -> bool {
        let r = &self.remaining;
        r.cpus >= demand.cpus
            && r.mem >= demand.mem
            && demand.fixed_ports.iter().all(|p| r.ports.contains(*p))
            && r.ports.len() >= (demand.fixed_ports.len() + demand.any_ports) as u64
    }

    /// Takes `demand` out of the offer; `None` (and nothing taken) if it does not fit.
    pub fn take(&mut self, demand: &Demand) -> Option<Taken> {
        if !self.fits(demand) {
            return None;
        }
        let mut taken = Taken::default();
        self.take_scalar("cpus", demand.cpus, &mut taken.resources);
        self.take_scalar("mem", demand.mem, &mut taken.resources);
        let mut ports = demand.fixed_ports.clone();
        for &p in &demand.fixed_ports {
            self.remaining.ports.take(p);
        }
        for _ in 0..demand.any_ports {
            // `fits` checked there are enough ports.
            let p = self.remaining.ports.take_lowest()?;
            ports.push(p);
        }
        if !ports.is_empty() {
            self.take_ports(&ports, &mut taken.resources);
        }
        taken.host_ports = ports;
        Some(taken)
    }

    fn take_scalar(&mut self, name: &str, amount: Milli, out: &mut Vec<Resource>) {
        let mut need = amount;
        for pool in self.pools.iter_mut().filter(|p| p.resource.name == name) {
            if need == Milli::ZERO {
                break;
            }
            let part = need.min(pool.scalar_left);
            if part == Milli::ZERO {
                continue;
            }
            pool.scalar_left = pool.scalar_left - part;
            need = need - part;
            let mut r = pool.resource.clone();
            r.scalar = Some(value::Scalar {
                value: part.to_f64(),
            });
            out.push(r);
        }
        match name {
            "cpus" => self.remaining.cpus = self.remaining.cpus - amount,
            "mem" => self.remaining.mem = self.remaining.mem - amount,
            _ => {}
        }
    }

    fn take_ports(&mut self, ports: &[u64], out: &mut Vec<Resource>) {
        for pool in self.pools.iter_mut().filter(|p| p.resource.name == "ports") {
            let mine: Vec<u64> = ports
                .iter()
                .copied()
                .filter(|&p| pool.ports_left.take(p))
                .collect();
            if mine.is_empty() {
                continue;
            }
            let set = PortSet::from_ranges(mine.iter().map(|&p| (p, p)));
            let mut r = pool.resource.clone();
            r.ranges = Some(value::Ranges {
                range: set
                    .ranges()
                    .iter()
                    .map(|&(begin, end)| value::Range { begin, end })
                    .collect(),
            });
            out.push(r);
        }
    }
}

/// Offers held, in arrival order, by id and by agent; plus a bounded memory of offers that
/// were already accepted, declined or rescinded, so that a duplicated OFFERS event can never
/// make the manager use an offer twice.
#[derive(Clone, Debug, Default)]
pub struct OfferBook {
    by_seq: BTreeMap<u64, HeldOffer>,
    seq_by_id: Map<String, u64>,
    next_seq: u64,
    spent: Set<String>,
    spent_order: VecDeque<String>,
    spent_capacity: usize,
}

/// Why an offer could not be added to the book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddOutcome {
    /// Held now, under this arrival number.
    Held(u64),
    /// Already held or already spent: a duplicate delivery, ignore it.
    Duplicate,
}

impl OfferBook {
    /// An empty book that remembers up to `spent_capacity` spent offer ids.
    pub fn new(spent_capacity: usize) -> Self {
        OfferBook {
            spent_capacity: spent_capacity.max(1),
            ..Default::default()
        }
    }

    /// Adds an offer unless it is a duplicate.
    pub fn add(&mut self, offer: HeldOffer) -> AddOutcome {
        if self.seq_by_id.contains_key(&offer.id) || self.spent.contains(&offer.id) {
            return AddOutcome::Duplicate;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.seq_by_id.insert(offer.id.clone(), seq);
        self.by_seq.insert(seq, offer);
        AddOutcome::Held(seq)
    }

    /// Removes an offer and remembers it as spent.
    pub fn remove(&mut self, id: &str) -> Option<HeldOffer> {
        let seq = self.seq_by_id.remove(id)?;
        let offer = self.by_seq.remove(&seq)?;
        self.mark_spent(id);
        Some(offer)
    }

    /// Remembers an offer id as spent without it ever having been held.
    pub fn mark_spent(&mut self, id: &str) {
        if self.spent.insert(id.to_string()) {
            self.spent_order.push_back(id.to_string());
            while self.spent_order.len() > self.spent_capacity {
                if let Some(old) = self.spent_order.pop_front() {
                    self.spent.remove(&old);
                }
            }
        }
    }

    /// Whether this id was accepted, declined or rescinded (as far as memory goes back).
    pub fn is_spent(&self, id: &str) -> bool {
        self.spent.contains(id)
    }

    /// Drops every held offer (a re-subscription voids them all) and returns them.
    pub fn clear(&mut self) -> Vec<HeldOffer> {
        self.seq_by_id.clear();
        let all: Vec<HeldOffer> = std::mem::take(&mut self.by_seq).into_values().collect();
        for o in &all {
            self.mark_spent(&o.id);
        }
        all
    }

    /// The offer with this id.
    pub fn get(&self, id: &str) -> Option<&HeldOffer> {
        self.seq_by_id.get(id).and_then(|s| self.by_seq.get(s))
    }

    /// The offer with this id, to change.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut HeldOffer> {
        let seq = *self.seq_by_id.get(id)?;
        self.by_seq.get_mut(&seq)
    }

    /// The offer with this arrival number, to change.
    pub fn get_seq_mut(&mut self, seq: u64) -> Option<&mut HeldOffer> {
        self.by_seq.get_mut(&seq)
    }

    /// Held offers in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &HeldOffer)> {
        self.by_seq.iter().map(|(s, o)| (*s, o))
    }

    /// Held offers from arrival number `start` on, then wrapping around to the ones before.
    pub fn offers_from(&self, start: u64) -> impl Iterator<Item = (u64, &HeldOffer)> + '_ {
        self.by_seq
            .range(start..)
            .chain(self.by_seq.range(..start))
            .map(|(s, o)| (*s, o))
    }

    /// Ids of the offers held on `agent_id`.
    pub fn ids_on_agent(&self, agent_id: &str) -> Vec<String> {
        self.by_seq
            .values()
            .filter(|o| o.agent_id == agent_id)
            .map(|o| o.id.clone())
            .collect()
    }

    /// How many offers are held.
    pub fn len(&self) -> usize {
        self.by_seq.len()
    }

    /// True when no offer is held.
    pub fn is_empty(&self) -> bool {
        self.by_seq.is_empty()
    }
}

#[cfg(test)]
#[allow(deprecated)] // Resource.role: Mesos still sends it to frameworks without RESERVATION_REFINEMENT
pub(crate) mod tests {
    use super::*;
    use mesoswarm_proto::v1::{resource::AllocationInfo, AgentId, FrameworkId, OfferId};

    pub(crate) fn scalar(name: &str, v: f64, role: &str) -> Resource {
        Resource {
            name: name.into(),
            r#type: value::Type::Scalar as i32,
            scalar: Some(value::Scalar { value: v }),
            role: Some(role.into()),
            allocation_info: Some(AllocationInfo {
                role: Some(role.into()),
            }),
            ..Default::default()
        }
    }

    pub(crate) fn ports(ranges: &[(u64, u64)]) -> Resource {
        Resource {
            name: "ports".into(),
            r#type: value::Type::Ranges as i32,
            ranges: Some(value::Ranges {
                range: ranges
                    .iter()
                    .map(|&(begin, end)| value::Range { begin, end })
                    .collect(),
            }),
            role: Some("*".into()),
            allocation_info: Some(AllocationInfo {
                role: Some("*".into()),
            }),
            ..Default::default()
        }
    }

    pub(crate) fn offer(id: &str, agent: &str, resources: Vec<Resource>) -> Offer {
        Offer {
            id: OfferId { value: id.into() },
            framework_id: FrameworkId { value: "fw".into() },
            agent_id: AgentId {
                value: agent.into(),
            },
            hostname: format!("{agent}.example"),
            resources,
            ..Default::default()
        }
    }

    #[test]
    fn takes_exactly_in_fixed_point_across_reserved_and_unreserved_entries() {
        let o = offer(
            "o1",
            "a1",
            vec![
                scalar("cpus", 0.3, "eng"),
                scalar("cpus", 0.2, "*"),
                scalar("mem", 1024.0, "*"),
                ports(&[(31000, 31002)]),
            ],
        );
        let mut held = HeldOffer::new(&o, Instant::default());
        assert_eq!(held.remaining().cpus, Milli(500));
        let d = Demand {
            cpus: Milli(100),
            mem: Milli::from_units(128),
            fixed_ports: vec![],
            any_ports: 0,
        };
        for _ in 0..5 {
            assert!(held.take(&d).is_some());
        }
        // 0.1 taken five times from 0.3 + 0.2 leaves exactly nothing: no float drift.
        assert_eq!(held.remaining().cpus, Milli::ZERO);
        assert!(held.take(&d).is_none());
        assert_eq!(held.remaining().mem, Milli::from_units(1024 - 640));
    }

    #[test]
    fn taken_resources_keep_role_and_allocation_info() {
        let o = offer(
            "o1",
            "a1",
            vec![
                scalar("cpus", 0.3, "eng"),
                scalar("cpus", 1.0, "*"),
                scalar("mem", 64.0, "*"),
            ],
        );
        let mut held = HeldOffer::new(&o, Instant::default());
        let t = held
            .take(&Demand {
                cpus: Milli(500),
                mem: Milli::from_units(32),
                fixed_ports: vec![],
                any_ports: 0,
            })
            .unwrap();
        let cpus: Vec<(f64, Option<String>)> = t
            .resources
            .iter()
            .filter(|r| r.name == "cpus")
            .map(|r| (r.scalar.unwrap().value, r.role.clone()))
            .collect();
        assert_eq!(
            cpus,
            vec![(0.3, Some("eng".into())), (0.2, Some("*".into()))]
        );
        assert!(t.resources.iter().all(|r| r.allocation_info.is_some()));
    }

    #[test]
    fn ports_fixed_must_be_offered_and_any_takes_the_lowest_free() {
        let o = offer(
            "o1",
            "a1",
            vec![
                scalar("cpus", 1.0, "*"),
                scalar("mem", 64.0, "*"),
                ports(&[(31000, 31001), (31005, 31005)]),
            ],
        );
        let mut held = HeldOffer::new(&o, Instant::default());
        let outside = Demand {
            fixed_ports: vec![8080],
            ..Default::default()
        };
        assert!(held.take(&outside).is_none());
        let t = held
            .take(&Demand {
                fixed_ports: vec![31001],
                any_ports: 1,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(t.host_ports, vec![31001, 31000]);
        let r = t.resources.iter().find(|r| r.name == "ports").unwrap();
        assert_eq!(
            r.ranges.as_ref().unwrap().range,
            vec![value::Range {
                begin: 31000,
                end: 31001
            }]
        );
        assert!(held
            .take(&Demand {
                any_ports: 2,
                ..Default::default()
            })
            .is_none());
        assert_eq!(
            held.take(&Demand {
                any_ports: 1,
                ..Default::default()
            })
            .unwrap()
            .host_ports,
            vec![31005]
        );
    }

    #[test]
    fn duplicates_and_spent_offers_are_refused() {
        let mut book = OfferBook::new(2);
        let o = HeldOffer::new(&offer("o1", "a1", vec![]), Instant::default());
        assert!(matches!(book.add(o.clone()), AddOutcome::Held(_)));
        assert_eq!(book.add(o.clone()), AddOutcome::Duplicate);
        book.remove("o1");
        assert_eq!(book.add(o), AddOutcome::Duplicate);
        // The memory is bounded: old ids fall out.
        book.mark_spent("o2");
        book.mark_spent("o3");
        assert!(!book.is_spent("o1"));
    }
}
