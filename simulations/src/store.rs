//! An in-memory stand-in for the manager's durable store.
//!
//! Records are upserts: the store keeps the latest per key (the framework id; each
//! container by id; `ContainerRemoved` deletes its key). Writes complete in order after a
//! seeded latency (longer while the store stalls); a crash completes a random prefix of
//! the writes in flight and loses the rest.

use std::collections::{BTreeMap, VecDeque};

use mesoswarm_core::container::Container;
use mesoswarm_core::ids::ContainerId;
use mesoswarm_core::manager::Record;
use mesoswarm_core::rng::Rng;
use mesoswarm_core::time::Instant;

use crate::config::Latency;

/// The store.
#[derive(Debug)]
pub struct Store {
    framework_id: Option<String>,
    containers: BTreeMap<ContainerId, Container>,
    in_flight: VecDeque<(u64, Record, Instant)>,
    latency: Latency,
    stall_until: Instant,
    rng: Rng,
    writes: u64,
}

impl Store {
    /// An empty store whose writes take `latency`.
    pub fn new(latency: Latency, seed: u64) -> Store {
        Store {
            framework_id: None,
            containers: BTreeMap::new(),
            in_flight: VecDeque::new(),
            latency,
            stall_until: Instant::default(),
            rng: Rng::new(seed),
            writes: 0,
        }
    }

    /// Starts writing record `seq`.
    pub fn write(&mut self, now: Instant, seq: u64, record: Record) {
        let ms = self.latency.sample(&mut self.rng);
        let mut done = now
            .saturating_add(std::time::Duration::from_millis(ms))
            .max(self.stall_until);
        if let Some((_, _, last)) = self.in_flight.back() {
            done = done.max(*last);
        }
        self.in_flight.push_back((seq, record, done));
    }

    /// Writes complete no earlier than `until`.
    pub fn stall(&mut self, until: Instant) {
        self.stall_until = self.stall_until.max(until);
    }

    /// Changes the write latency; a stall ends, and writes in flight complete no later
    /// than the new latency allows from `now`.
    pub fn set_latency(&mut self, now: Instant, latency: Latency) {
        self.latency = latency;
        self.stall_until = Instant::default();
        let limit = now.saturating_add(std::time::Duration::from_millis(latency.max_ms));
        for (_, _, done) in self.in_flight.iter_mut() {
            *done = (*done).min(limit);
        }
    }

    /// When the next write completes.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.in_flight.front().map(|(_, _, at)| *at)
    }

    /// Completes the writes due at `now`; the highest sequence number now durable.
    pub fn poll(&mut self, now: Instant) -> Option<u64> {
        let mut up_to = None;
        while self.in_flight.front().is_some_and(|(_, _, at)| *at <= now) {
            if let Some((seq, record, _)) = self.in_flight.pop_front() {
                self.apply(record);
                up_to = Some(seq);
            }
        }
        up_to
    }

    /// The manager crashed: a random prefix of the writes in flight completes, the rest is
    /// lost.
    pub fn crash(&mut self) {
        let n = self.in_flight.len() as u64;
        let keep = if n == 0 { 0 } else { self.rng.below(n + 1) };
        for _ in 0..keep {
            if let Some((_, record, _)) = self.in_flight.pop_front() {
                self.apply(record);
            }
        }
        self.in_flight.clear();
    }

    fn apply(&mut self, record: Record) {
        self.writes += 1;
        match record {
            Record::FrameworkId(id) => self.framework_id = id,
            Record::Container(c) => {
                self.containers.insert(c.id, *c);
            }
            Record::ContainerRemoved(id) => {
                self.containers.remove(&id);
            }
        }
    }

    /// The durable state of a container.
    pub fn container(&self, id: &ContainerId) -> Option<&Container> {
        self.containers.get(id)
    }

    /// Every durable container.
    pub fn containers(&self) -> impl Iterator<Item = &Container> {
        self.containers.values()
    }

    /// The durable framework id.
    pub fn framework_id(&self) -> Option<&str> {
        self.framework_id.as_deref()
    }

    /// What a restarted manager is rebuilt from: the latest record per key.
    pub fn records(&self) -> Vec<Record> {
        let mut out = vec![Record::FrameworkId(self.framework_id.clone())];
        out.extend(
            self.containers
                .values()
                .map(|c| Record::Container(Box::new(c.clone()))),
        );
        out
    }
}
