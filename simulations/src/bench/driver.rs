//! Drives a [`Manager`] the way a shell does, with as little around it as possible: every
//! output is moved into a buffer (looked at later, outside the timed region), and the
//! store is a group commit: [`Driver::commit`] reports every record issued so far durable.

use std::time::Duration;

use mesoswarm_core::docker::request::{DockerRequest, RequestId};
use mesoswarm_core::manager::{Input, Manager, Output};
use mesoswarm_core::time::Instant;
use mesoswarm_core::Config;
use mesoswarm_proto::scheduler::Event;

use super::gen;

/// A manager, its clock and the outputs it produced since the last [`Driver::take`].
#[derive(Debug)]
pub struct Driver {
    /// The manager.
    pub m: Manager,
    /// The time handed in with every input.
    pub now: Instant,
    next_request: RequestId,
    issued_seq: u64,
    durable_seq: u64,
    outs: Vec<Output>,
}

impl Driver {
    /// A fresh manager with `config`.
    pub fn new(config: Config) -> Driver {
        Driver::with_manager(Manager::new(config))
    }

    /// Drives an existing manager (one rebuilt by [`Manager::restore`], say).
    pub fn with_manager(m: Manager) -> Driver {
        Driver {
            m,
            now: Instant::from_unix_secs(1_795_000_000),
            next_request: 1,
            issued_seq: 0,
            durable_seq: 0,
            outs: Vec::with_capacity(4096),
        }
    }

    /// Feeds one input and collects what it led to.
    #[inline]
    pub fn input(&mut self, input: Input) {
        self.m.handle(self.now, input);
        self.drain();
    }

    #[inline]
    fn drain(&mut self) {
        while let Some(o) = self.m.poll_output() {
            if let Output::Persist { seq, .. } = &o {
                self.issued_seq = *seq;
            }
            self.outs.push(o);
        }
    }

    /// A Docker request; returns its handle.
    #[inline]
    pub fn docker(&mut self, request: DockerRequest) -> RequestId {
        let id = self.next_request;
        self.next_request += 1;
        self.input(Input::Docker { id, request });
        id
    }

    /// A Mesos event.
    #[inline]
    pub fn event(&mut self, event: Event) {
        self.input(Input::MesosEvent(Box::new(event)));
    }

    /// The store made everything issued so far durable (and whatever that released, too).
    #[inline]
    pub fn commit(&mut self) {
        while self.durable_seq < self.issued_seq {
            self.durable_seq = self.issued_seq;
            self.input(Input::Persisted {
                up_to: self.durable_seq,
            });
        }
    }

    /// Moves the clock on by `ms` (timers that fall due fire at the next input).
    pub fn advance_ms(&mut self, ms: u64) {
        self.now = self.now.saturating_add(Duration::from_millis(ms));
    }

    /// The outputs collected so far.
    pub fn take(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.outs)
    }

    /// The manager, without the driver (its collected outputs are dropped).
    pub fn into_manager(self) -> Manager {
        self.m
    }

    /// Connects, subscribes as [`gen::FRAMEWORK_ID`] and persists the framework id.
    pub fn subscribe(&mut self) {
        self.input(Input::Connected {
            master: "10.0.0.1:5050".into(),
        });
        self.event(gen::subscribed());
        self.commit();
    }
}

/// Time spent in timed sections (by [`super::clock::now`]), added up.
#[derive(Copy, Clone, Debug, Default)]
pub struct Stopwatch {
    /// The total so far.
    pub total: Duration,
}

impl Stopwatch {
    /// Runs `f`, adds its time to the total and returns what `f` returned and its time.
    #[inline]
    pub fn time<T>(&mut self, f: impl FnOnce() -> T) -> (T, Duration) {
        let t0 = super::clock::now();
        let v = f();
        let dt = super::clock::now().saturating_sub(t0);
        self.total += dt;
        (v, dt)
    }
}
