//! The network between the manager's shell and the master, with seeded faults.
//!
//! Calls travel in order on one connection per subscription, as the Mesos scheduler library
//! sends them: delayed, lost (the connection breaks; the shell sends the call and those
//! after it again, in order), or duplicated (a call whose answer was lost, sent again; never
//! an ACCEPT). Answers to calls may be lost. A SUBSCRIBE may be lost (the shell reconnects). The subscription is one TCP stream:
//! events arrive in order, delayed; a "dropped" event breaks the stream (the manager sees
//! EOF, the master sees the connection close); an event may be delivered twice. A clog
//! holds every message until it ends.

use std::collections::{BTreeMap, BTreeSet};

use mesoswarm_core::rng::Rng;
use mesoswarm_core::time::Instant;
use mesoswarm_proto::scheduler::{call::Type as CallType, Call, Event};

use crate::cluster::HttpError;
use crate::config::Latency;
use crate::timers::TimerQueue;

/// Something in flight between the manager's shell and the master.
#[derive(Clone, Debug)]
pub enum Packet {
    /// Manager → master: a SUBSCRIBE on connection attempt `conn`.
    Subscribe {
        /// The shell's connection attempt.
        conn: u64,
        /// The call.
        call: Box<Call>,
    },
    /// Manager → master: any other call, with the stream id header it was sent with.
    Call {
        /// `Mesos-Stream-Id`.
        stream: String,
        /// The call.
        call: Box<Call>,
    },
    /// Manager → master: the subscription connection was closed by the client.
    Hangup {
        /// The stream.
        stream: String,
    },
    /// Master → manager: the answer to a SUBSCRIBE (200 with a stream id, or an error).
    Subscribed {
        /// The shell's connection attempt.
        conn: u64,
        /// The stream id, or the HTTP error.
        result: Result<String, HttpError>,
    },
    /// Master → manager: an event on a stream.
    Event {
        /// The stream.
        stream: String,
        /// The event.
        event: Box<Event>,
    },
    /// Master → manager: the stream ended.
    Close {
        /// The stream.
        stream: String,
    },
    /// Master → manager: the HTTP answer to a call.
    Answer {
        /// The stream id the call carried.
        stream: String,
        /// 202/200 or the error.
        result: Result<u16, HttpError>,
    },
}

/// Fault knobs of the network.
#[derive(Clone, Debug, PartialEq)]
pub struct NetConfig {
    /// One-way delay of every message.
    pub delay: Latency,
    /// Share (0..=1) of messages lost (on the stream: the stream breaks).
    pub drop_rate: f64,
    /// Share (0..=1) of messages delivered twice.
    pub dup_rate: f64,
}

impl NetConfig {
    /// A fast, lossless network (loopback).
    pub fn perfect() -> NetConfig {
        NetConfig {
            delay: Latency::between(1, 5),
            drop_rate: 0.0,
            dup_rate: 0.0,
        }
    }
}

/// Counters of what the network did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Messages sent.
    pub sent: u64,
    /// Messages lost (streams broken included).
    pub dropped: u64,
    /// Messages duplicated.
    pub duplicated: u64,
}

/// The link between the manager's shell and the master.
#[derive(Debug)]
pub struct Network {
    cfg: NetConfig,
    rng: Rng,
    queue: TimerQueue<Packet>,
    stream_tail: BTreeMap<String, Instant>,
    broken: BTreeSet<String>,
    clog_until: Instant,
    stats: NetStats,
}

impl Network {
    /// A network with these knobs, its randomness from `seed`.
    pub fn new(cfg: NetConfig, seed: u64) -> Network {
        Network {
            cfg,
            rng: Rng::new(seed),
            queue: TimerQueue::default(),
            stream_tail: BTreeMap::new(),
            broken: BTreeSet::new(),
            clog_until: Instant::default(),
            stats: NetStats::default(),
        }
    }

    /// Changes the knobs (messages in flight keep their times).
    pub fn set_config(&mut self, cfg: NetConfig) {
        self.cfg = cfg;
    }

    /// Holds every message sent from now until `until`.
    pub fn clog(&mut self, until: Instant) {
        self.clog_until = self.clog_until.max(until);
    }

    /// Ends any clog now.
    pub fn unclog(&mut self) {
        self.clog_until = Instant::default();
    }

    /// What the network did so far.
    pub fn stats(&self) -> &NetStats {
        &self.stats
    }

    /// When the next message arrives.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.queue.next_deadline()
    }

    /// The next message due at `now`.
    pub fn poll(&mut self, now: Instant) -> Option<Packet> {
        let (_, p) = self.queue.pop_due(now)?;
        if let Packet::Close { stream } = &p {
            // Late events of an ended stream are dropped (`broken` stays set).
            self.stream_tail.remove(stream);
        }
        Some(p)
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.rng.below(1_000_000) as f64) < p * 1_000_000.0
    }

    fn arrival(&mut self, now: Instant) -> Instant {
        let ms = self.cfg.delay.sample(&mut self.rng);
        now.saturating_add(std::time::Duration::from_millis(ms))
            .max(self.clog_until)
    }

    /// Sends a message from the manager to the master. False if a SUBSCRIBE was lost on
    /// the way (its HTTP request fails: the shell reconnects). Other calls travel in order
    /// on the subscription's call connection, as the Mesos scheduler library sends them:
    /// when one is lost the connection breaks and the shell sends it (and everything after
    /// it) again, later but still in order; a call whose answer was lost may arrive twice.
    pub fn send_up(&mut self, now: Instant, p: Packet) -> bool {
        self.stats.sent += 1;
        match &p {
            Packet::Hangup { .. } => {
                let at = self.arrival(now);
                self.queue.push(at, p);
            }
            Packet::Subscribe { .. } => {
                if self.chance(self.cfg.drop_rate) {
                    self.stats.dropped += 1;
                    return false;
                }
                let at = self.arrival(now);
                self.queue.push(at, p);
            }
            Packet::Call { stream, call } => {
                let channel = format!("calls {stream}");
                if self.chance(self.cfg.drop_rate) {
                    self.stats.dropped += 1;
                    let retry = 200 + self.rng.below(2_000);
                    let tail = self
                        .stream_tail
                        .get(&channel)
                        .copied()
                        .unwrap_or(now)
                        .max(now);
                    self.stream_tail.insert(
                        channel.clone(),
                        tail.saturating_add(std::time::Duration::from_millis(retry)),
                    );
                }
                // Never an ACCEPT twice: Mesos answers a repeated ACCEPT with TASK_DROPPED
                // for the tasks the first one launched, so a shell must not send it again.
                let dup =
                    call.r#type != Some(CallType::Accept as i32) && self.chance(self.cfg.dup_rate);
                if dup {
                    self.stats.duplicated += 1;
                    self.push_in_order(now, &channel, p.clone());
                }
                self.push_in_order(now, &channel, p);
            }
            _ => self.send_down(now, p),
        }
        true
    }

    /// Sends a message from the master to the manager.
    pub fn send_down(&mut self, now: Instant, p: Packet) {
        self.stats.sent += 1;
        match &p {
            Packet::Answer { .. } | Packet::Subscribed { result: Err(_), .. } => {
                if self.chance(self.cfg.drop_rate) {
                    self.stats.dropped += 1;
                    return;
                }
                let at = self.arrival(now);
                self.queue.push(at, p);
            }
            Packet::Subscribed {
                result: Ok(stream), ..
            } => {
                let stream = stream.clone();
                self.push_in_order(now, &stream, p);
            }
            Packet::Event { stream, .. } => {
                let stream = stream.clone();
                if self.broken.contains(&stream) {
                    return;
                }
                if self.chance(self.cfg.drop_rate) {
                    // A lost segment on a TCP stream is a broken connection: both ends
                    // see it close.
                    self.stats.dropped += 1;
                    self.broken.insert(stream.clone());
                    self.push_in_order(
                        now,
                        &stream,
                        Packet::Close {
                            stream: stream.clone(),
                        },
                    );
                    let at = self.arrival(now);
                    self.queue.push(at, Packet::Hangup { stream });
                    return;
                }
                if self.chance(self.cfg.dup_rate) {
                    self.stats.duplicated += 1;
                    self.push_in_order(now, &stream, p.clone());
                }
                self.push_in_order(now, &stream, p);
            }
            Packet::Close { stream } => {
                let stream = stream.clone();
                if self.broken.contains(&stream) {
                    return;
                }
                self.broken.insert(stream.clone());
                self.push_in_order(now, &stream, p);
            }
            Packet::Subscribe { .. } | Packet::Call { .. } | Packet::Hangup { .. } => {
                self.send_up(now, p);
            }
        }
    }

    fn push_in_order(&mut self, now: Instant, stream: &str, p: Packet) {
        let mut at = self.arrival(now);
        if let Some(tail) = self.stream_tail.get(stream) {
            at = at.max(*tail);
        }
        self.stream_tail.insert(stream.to_string(), at);
        self.queue.push(at, p);
    }
}
