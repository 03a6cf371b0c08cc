//! The scheduler state machine: [`Manager`].
//!
//! Drive it like this, after every input:
//!
//! ```text
//! manager.handle(now, input);
//! while let Some(output) = manager.poll_output() { /* act on it */ }
//! next_wakeup = manager.poll_timeout();
//! ```
//!
//! ## Write-ahead
//!
//! Every change that must survive a crash leaves as [`Output::Persist`] with a sequence
//! number. Outputs that must not happen before that change is durable — the ACCEPT that
//! launches a task, the ACKNOWLEDGE of a status update, the answer to a create — are held
//! back until the shell reports [`Input::Persisted`] up to that number.

pub mod calls;
mod docker_ops;
mod entry;
mod mesos;
mod placement;
mod updates;

use std::collections::{BTreeMap, VecDeque};

use crate::hash::Map;

use mesoswarm_proto::scheduler::{Call, Event};

use crate::config::Config;
use crate::container::Container;
use crate::docker::request::{DockerRequest, RequestId};
use crate::docker::response::DockerResponse;
use crate::events::DockerEvent;
use crate::ids::ContainerId;
use crate::offers::OfferBook;
use crate::rng::Rng;
use crate::time::Instant;
use crate::timers::TimerTable;

use entry::Entry;
pub use entry::{exit_code_of, signal_number};

/// Something that happened, handed to [`Manager::handle`].
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// The shell reached a Mesos master (the leader, as far as it knows): subscribe now.
    Connected {
        /// `host:port` of that master, for `docker info` and logs.
        master: String,
    },
    /// The subscription is gone (EOF, error, or a call rejected for a stale stream).
    Disconnected {
        /// Why, for the log.
        reason: String,
    },
    /// An event from the subscription stream.
    MesosEvent(Box<Event>),
    /// A Docker API request (already routed and parsed).
    Docker {
        /// The shell's handle, echoed on the answer.
        id: RequestId,
        /// The request.
        request: DockerRequest,
    },
    /// The client of a request that was still waiting went away.
    DockerGone {
        /// The request.
        id: RequestId,
    },
    /// Every record up to and including this sequence number is durable.
    Persisted {
        /// The highest durable sequence number.
        up_to: u64,
    },
    /// A deadline from [`Manager::poll_timeout`] has passed.
    Timeout,
}

/// Something the shell must do, from [`Manager::poll_output`].
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// Send this call to the master. A SUBSCRIBE opens the event stream; every other call
    /// goes on another connection with the stream's `Mesos-Stream-Id`.
    Call(Box<Call>),
    /// Drop the subscription and connect again (after a backoff): the master looks dead or
    /// the stream is no longer usable.
    Reconnect {
        /// Why.
        reason: String,
    },
    /// The answer to a Docker request (or a later part of it, for wait).
    Docker {
        /// The request.
        id: RequestId,
        /// The answer.
        response: DockerResponse,
    },
    /// A Docker event for `GET /events` subscribers.
    Event(DockerEvent),
    /// Persist this record (in order), then report [`Input::Persisted`].
    Persist {
        /// Its sequence number, increasing by one from 1.
        seq: u64,
        /// What to persist.
        record: Record,
    },
    /// A line for the log.
    Log {
        /// How much it matters.
        level: LogLevel,
        /// What happened.
        message: String,
    },
}

/// Log levels of [`Output::Log`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Routine progress.
    Debug,
    /// Worth knowing.
    Info,
    /// Something went wrong and was recovered from.
    Warn,
    /// Something went wrong that a person should look at.
    Error,
}

/// A durable record. Records are upserts, so a store may keep only the last one per key.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// The framework id Mesos assigned (`None`: forget it, Mesos removed the framework).
    FrameworkId(Option<String>),
    /// The whole current state of one container (key: its id).
    Container(Box<Container>),
    /// The container is gone (key: its id).
    ContainerRemoved(ContainerId),
}

/// Why the core wants to be woken.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// No event from the master for too long.
    DeadMaster,
    /// Held offer (by arrival number) reached its hold timeout.
    OfferHold(u64),
    /// A container waited too long for an offer.
    TaskTimeout(ContainerId),
    /// A launched task has said nothing yet: reconcile it.
    LaunchSilent(ContainerId, u32),
    /// A killed task is not terminal yet: kill it again.
    KillRetry(ContainerId, u32),
    /// Tasks that did not answer reconciliation are asked again.
    ReconcileRetry,
    /// Periodic implicit reconciliation.
    ImplicitReconcile,
    /// A REVIVE that the rate limit held back.
    Revive,
    /// Nothing has been pending for a while: suppress offers.
    IdleSuppress,
}

/// Output that may only leave once a record is durable.
#[derive(Clone, Debug)]
enum Deferred {
    Output(Output),
    /// The ACCEPT of a held offer; built when released, because tasks may still be added
    /// to it or taken off it until then.
    Accept {
        offer_id: String,
    },
}

/// Where the subscription stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Link {
    Disconnected,
    Subscribing,
    Subscribed,
}

/// An offer's LAUNCH being assembled.
#[derive(Clone, Debug, Default)]
struct PendingAccept {
    tasks: Vec<(ContainerId, mesoswarm_proto::v1::TaskInfo)>,
}

/// The scheduler state machine. See the module docs for how to drive it.
#[derive(Debug)]
pub struct Manager {
    config: Config,
    rng: Rng,
    now: Instant,

    link: Link,
    master: Option<String>,
    framework_id: Option<String>,
    heartbeat_interval_ms: u64,
    suppressed: bool,
    last_revive_at: Option<Instant>,
    revive_wanted: bool,
    reconcile_waiting: Map<String, Option<String>>,
    reconcile_backoff_ms: u64,

    offers: OfferBook,
    accepts: BTreeMap<String, PendingAccept>,
    declines: Vec<String>,
    next_fit_cursor: u64,

    containers: BTreeMap<ContainerId, Entry>,
    names: Map<String, ContainerId>,
    pending: VecDeque<ContainerId>,
    pending_count: usize,
    placement_dirty: bool,
    waiting: Map<RequestId, ContainerId>,

    events: VecDeque<DockerEvent>,

    out: VecDeque<Output>,
    persist_out: VecDeque<Output>,
    next_seq: u64,
    durable_seq: u64,
    deferred: VecDeque<(u64, Deferred)>,
    timers: TimerTable<Timer>,
}

impl Manager {
    /// A manager with no containers, not connected to Mesos.
    pub fn new(config: Config) -> Manager {
        let rng = Rng::new(config.seed);
        let spent = config.limits.max_held_offers.saturating_mul(4).max(1024);
        let heartbeat_interval_ms = config.default_heartbeat_interval_ms;
        let reconcile_backoff_ms = config.reconcile_retry_min_ms;
        Manager {
            config,
            rng,
            now: Instant::default(),
            link: Link::Disconnected,
            master: None,
            framework_id: None,
            heartbeat_interval_ms,
            suppressed: false,
            last_revive_at: None,
            revive_wanted: false,
            reconcile_waiting: Map::default(),
            reconcile_backoff_ms,
            offers: OfferBook::new(spent),
            accepts: BTreeMap::new(),
            declines: Vec::new(),
            next_fit_cursor: 0,
            containers: BTreeMap::new(),
            names: Map::default(),
            pending: VecDeque::new(),
            pending_count: 0,
            placement_dirty: false,
            waiting: Map::default(),
            events: VecDeque::new(),
            out: VecDeque::new(),
            persist_out: VecDeque::new(),
            next_seq: 1,
            durable_seq: 0,
            deferred: VecDeque::new(),
            timers: TimerTable::default(),
        }
    }

    /// A manager rebuilt from what an earlier one persisted (the latest record per key, in
    /// any order). It reconciles every task it knows once it is subscribed.
    pub fn restore(config: Config, records: impl IntoIterator<Item = Record>) -> Manager {
        let mut m = Manager::new(config);
        for record in records {
            match record {
                Record::FrameworkId(id) => m.framework_id = id,
                Record::Container(c) => {
                    let demand = crate::taskinfo::demand(&c.spec, &m.config);
                    m.names.insert(c.name.clone(), c.id);
                    let mut e = Entry::new(*c, demand);
                    // A launch the crash interrupted: Mesos may or may not have it, and
                    // reconciliation will say. Until then the container wants to run.
                    e.want_running = e.c.has_live_task();
                    e.refresh_status();
                    m.containers.insert(e.c.id, e);
                }
                Record::ContainerRemoved(id) => {
                    if let Some(e) = m.containers.remove(&id) {
                        m.names.remove(&e.c.name);
                    }
                }
            }
        }
        m
    }

    /// Feeds one input at time `now` (which must not go backwards).
    pub fn handle(&mut self, now: Instant, input: Input) {
        if now > self.now {
            self.now = now;
        }
        match input {
            Input::Connected { master } => self.on_connected(master),
            Input::Disconnected { reason } => self.on_disconnected(&reason),
            Input::MesosEvent(event) => self.on_event(*event),
            Input::Docker { id, request } => self.on_docker(id, request),
            Input::DockerGone { id } => self.on_docker_gone(id),
            Input::Persisted { up_to } => self.on_persisted(up_to),
            Input::Timeout => {}
        }
        self.fire_due_timers();
        self.after_input();
    }

    /// The next thing for the shell to do, or `None` when there is nothing more until the
    /// next input. Records to persist come first.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.persist_out
            .pop_front()
            .or_else(|| self.out.pop_front())
    }

    /// When the core next needs [`Input::Timeout`], and why. Never earlier than the last
    /// `now` it was given.
    pub fn poll_timeout(&self) -> Option<(Instant, &Timer)> {
        self.timers.next().map(|(at, t)| (at.max(self.now), t))
    }

    /// The framework id, once Mesos assigned one.
    pub fn framework_id(&self) -> Option<&str> {
        self.framework_id.as_deref()
    }

    /// Whether the manager is subscribed to a master right now.
    pub fn is_subscribed(&self) -> bool {
        self.link == Link::Subscribed
    }

    /// How many containers are tracked.
    pub fn container_count(&self) -> usize {
        self.containers.len()
    }

    /// A tracked container, by id.
    pub fn container(&self, id: &ContainerId) -> Option<&Container> {
        self.containers.get(id).map(|e| &e.c)
    }

    /// Every tracked container, in id order.
    pub fn containers(&self) -> impl Iterator<Item = &Container> {
        self.containers.values().map(|e| &e.c)
    }

    /// How many containers wait for an offer.
    pub fn pending_count(&self) -> usize {
        self.pending_count
    }

    /// How many offers are held.
    pub fn held_offer_count(&self) -> usize {
        self.offers.len()
    }

    /// How many armed timers there are (bounded-state checks).
    pub fn timer_count(&self) -> usize {
        self.timers.len()
    }

    /// How many outputs wait for a record to become durable.
    pub fn deferred_count(&self) -> usize {
        self.deferred.len()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    // ---- plumbing shared by the submodules ----

    fn log(&mut self, level: LogLevel, message: String) {
        self.out.push_back(Output::Log { level, message });
    }

    fn send(&mut self, call: Call) {
        self.out.push_back(Output::Call(Box::new(call)));
    }

    fn respond(&mut self, id: RequestId, response: DockerResponse) {
        self.out.push_back(Output::Docker { id, response });
    }

    /// Queues a record and returns its sequence number.
    fn persist(&mut self, record: Record) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.persist_out.push_back(Output::Persist { seq, record });
        seq
    }

    /// Persists the current state of a container.
    fn persist_container(&mut self, id: &ContainerId) -> u64 {
        match self.containers.get(id) {
            Some(e) => {
                let c = Box::new(e.c.clone());
                self.persist(Record::Container(c))
            }
            None => self.persist(Record::ContainerRemoved(*id)),
        }
    }

    /// The sequence number of the latest record issued (0 if none).
    fn latest_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// Emits `output` once everything issued so far is durable.
    fn after_durable(&mut self, output: Output) {
        let seq = self.latest_seq();
        if seq <= self.durable_seq {
            self.out.push_back(output);
        } else {
            self.deferred.push_back((seq, Deferred::Output(output)));
        }
    }

    fn on_persisted(&mut self, up_to: u64) {
        if up_to <= self.durable_seq {
            return;
        }
        self.durable_seq = up_to.min(self.latest_seq());
        while let Some((seq, _)) = self.deferred.front() {
            if *seq > self.durable_seq {
                break;
            }
            let Some((_, d)) = self.deferred.pop_front() else {
                break;
            };
            match d {
                Deferred::Output(o) => self.out.push_back(o),
                Deferred::Accept { offer_id } => self.release_accept(&offer_id),
            }
        }
    }

    fn emit_event(
        &mut self,
        id: &ContainerId,
        action: &'static str,
        extra: Vec<(&'static str, String)>,
    ) {
        let Some(e) = self.containers.get(id) else {
            return;
        };
        let event = DockerEvent {
            action,
            container_id: *id,
            name: e.c.name.clone(),
            image: e.c.spec.image.clone(),
            labels: e
                .c
                .spec
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            extra,
            time: self.now,
        };
        if self.events.len() >= self.config.limits.event_history.max(1) {
            self.events.pop_front();
        }
        self.events.push_back(event.clone());
        self.out.push_back(Output::Event(event));
    }

    fn fire_due_timers(&mut self) {
        while let Some(timer) = self.timers.pop_due(self.now) {
            match timer {
                Timer::DeadMaster => self.on_dead_master(),
                Timer::OfferHold(seq) => self.on_offer_hold_expired(seq),
                Timer::TaskTimeout(id) => self.on_task_timeout(id),
                Timer::LaunchSilent(id, gen) => self.on_launch_silent(id, gen),
                Timer::KillRetry(id, gen) => self.on_kill_retry(id, gen),
                Timer::ReconcileRetry => self.on_reconcile_retry(),
                Timer::ImplicitReconcile => self.on_implicit_reconcile(),
                Timer::Revive => self.maybe_revive(),
                Timer::IdleSuppress => self.on_idle_suppress(),
            }
        }
    }

    /// Work done once per input: place pending containers, send batched declines, keep
    /// SUPPRESS/REVIVE in line with the queue.
    fn after_input(&mut self) {
        if self.placement_dirty {
            self.placement_dirty = false;
            self.place_pending();
        }
        self.flush_declines();
        self.update_offer_interest();
        // Timers armed while handling this input may already be due (a zero timeout).
        if self.timers.next().is_some_and(|(at, _)| at <= self.now) {
            self.fire_due_timers();
            if self.placement_dirty {
                self.placement_dirty = false;
                self.place_pending();
            }
            self.flush_declines();
        }
    }

    fn after_ms(&self, ms: u64) -> Instant {
        self.now
            .saturating_add(core::time::Duration::from_millis(ms))
    }
}
