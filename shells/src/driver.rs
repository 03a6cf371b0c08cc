//! The driver: the one task that owns the [`Manager`] and moves its inputs and outputs.
//!
//! Inputs, in the order the driver looks at them when several are ready:
//!
//! 1. records the store thread made durable → `Input::Persisted { up_to }`;
//! 2. clients that went away ([`Responses`] dropped early) → `Input::DockerGone`;
//! 3. the core's timer ([`Manager::poll_timeout`], slept on the runtime) → `Input::Timeout`;
//! 4. [`LinkEvent`]s from the Mesos client and [`DockerJob`]s from the Docker API server,
//!    taking turns so that neither starves the other.
//!
//! After every input the driver drains [`Manager::poll_output`]: calls and reconnects go to
//! the Mesos client as [`LinkCommand`]s, answers to the request's channel (dropped if the
//! client is gone), events to the `docker events` hub, records to the store thread, log
//! lines to `tracing`. Nothing here blocks: redb runs on its own thread, every queue is
//! bounded by [`DriverLimits`], and a full request queue is a 503 for the client.
//!
//! ## Wiring the daemon
//!
//! ```no_run
//! use mesoswarm_core::{Config, Manager};
//! use mesoswarm_shell::docker_server::{serve_docker_api, ServerLimits};
//! use mesoswarm_shell::driver::{spawn_driver, DriverLimits, LINK_CHANNEL_CAPACITY};
//! use mesoswarm_shell::runtime::{tokio::TokioRuntime, Runtime};
//! use mesoswarm_shell::store::Store;
//!
//! fn main() -> anyhow::Result<()> {
//!     // Blocking file I/O: once, before the runtime starts.
//!     let store = Store::open("/var/lib/mesoswarm/state.redb".as_ref())?;
//!     let manager = Manager::restore(Config::default(), store.load()?);
//!     tokio::runtime::Runtime::new()?.block_on(async move {
//!         let rt = TokioRuntime;
//!         let (commands_tx, commands_rx) = async_channel::bounded(LINK_CHANNEL_CAPACITY);
//!         let (events_tx, events_rx) = async_channel::bounded(LINK_CHANNEL_CAPACITY);
//!         // The Mesos client takes `commands_rx` and sends on `events_tx`.
//!         # drop((commands_rx, events_tx));
//!         let driver = spawn_driver(
//!             &rt, manager, store, commands_tx, events_rx, DriverLimits::default(),
//!         )?;
//!         let listeners = vec![
//!             rt.bind_tcp("127.0.0.1:2375".parse()?).await?,
//!             rt.bind_unix("/run/mesoswarm.sock".as_ref()).await?,
//!         ];
//!         // On SIGTERM call `driver.shutdown()`: the driver answers what is queued, the
//!         // store makes every record durable, and then this returns.
//!         serve_docker_api(rt, listeners, driver, ServerLimits::default()).await;
//!         Ok(())
//!     })
//! }
//! ```

mod events_hub;
mod handle;
mod limits;
mod link_outbox;
mod notice;
mod store_writer;

use std::collections::HashMap;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::StreamExt;
use mesoswarm_core::docker::request::{DockerRequest, EventFilters, RequestId};
use mesoswarm_core::docker::DockerResponse;
use mesoswarm_core::manager::LogLevel;
use mesoswarm_core::time::Instant;
use mesoswarm_core::{Input, Manager, Output};
use mesoswarm_proto::scheduler::{Call, Event};

use crate::clock::Clock;
use crate::runtime::{BoxFuture, Runtime};
use crate::store::Store;

pub use handle::{DockerJob, DriverHandle, Responses};
pub use limits::DriverLimits;

use events_hub::EventsHub;
use link_outbox::LinkOutbox;
use notice::NoticeBoard;
use store_writer::StoreWriter;

/// The shortest sleep for a timer: a deadline that is already due is slept on for this
/// long rather than not at all, so that a core that kept asking for "now" could not spin.
const MIN_TIMER_SLEEP: std::time::Duration = std::time::Duration::from_millis(1);

/// Inputs handled back to back before the driver yields to the executor, so that a flood
/// of ready inputs cannot starve the other tasks on its thread.
const INPUTS_PER_YIELD: u32 = 64;

/// A suggested capacity for the two link channels the caller makes for [`spawn_driver`]
/// (the driver never blocks on them: commands queue in the driver, see
/// [`DriverLimits::max_link_outbox`]).
pub const LINK_CHANNEL_CAPACITY: usize = 1_024;

/// What the Mesos client tells the driver.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkEvent {
    /// Reached a master (the leader as far as the client knows): the core subscribes.
    Connected {
        /// `host:port` of the master.
        master: String,
    },
    /// An event from the subscription stream.
    Event(Box<Event>),
    /// The subscription is gone.
    Disconnected {
        /// Why, for the log.
        reason: String,
    },
}

/// What the driver tells the Mesos client.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkCommand {
    /// Send this call (a SUBSCRIBE opens the event stream).
    Call(Box<Call>),
    /// Drop the subscription and connect again, after a backoff.
    Reconnect {
        /// Why.
        reason: String,
    },
}

/// Starts the driver on `rt` and returns the handle the Docker API server submits to.
///
/// `manager` is new or restored from `store.load()`; `link_commands` / `link_events` are
/// the Mesos client's channels (bounded, made by the caller). Starts the store's thread.
pub fn spawn_driver<R: Runtime>(
    rt: &R,
    manager: Manager,
    store: Store,
    link_commands: async_channel::Sender<LinkCommand>,
    link_events: async_channel::Receiver<LinkEvent>,
    limits: DriverLimits,
) -> std::io::Result<DriverHandle> {
    let (driver, handle) = Driver::new(
        rt.clone(),
        manager,
        store,
        link_commands,
        link_events,
        limits,
    )?;
    rt.spawn(Box::pin(driver.run()));
    Ok(handle)
}

/// A request the driver has handed to the core and not finished answering.
struct Pending {
    reply: async_channel::Sender<DockerResponse>,
    /// For `GET /events`: what the hub needs once the history is answered.
    events: Option<(EventFilters, Option<Instant>)>,
}

/// What woke the driver.
enum Wake {
    Stored,
    Gone,
    Timer,
    Link(Option<LinkEvent>),
    Job(Option<DockerJob>),
}

/// The driver loop. Most callers want [`spawn_driver`]; [`Driver::new`] and
/// [`Driver::run`] are for callers that spawn it themselves.
pub struct Driver<R: Runtime> {
    rt: R,
    manager: Manager,
    clock: Arc<Clock>,
    limits: DriverLimits,
    jobs: Pin<Box<async_channel::Receiver<DockerJob>>>,
    jobs_open: bool,
    gone: Arc<NoticeBoard<RequestId>>,
    gone_woken: Pin<Box<async_channel::Receiver<()>>>,
    link_events: Pin<Box<async_channel::Receiver<LinkEvent>>>,
    link_open: bool,
    link_first: bool,
    outbox: LinkOutbox,
    store: StoreWriter,
    store_woken: Pin<Box<async_channel::Receiver<()>>>,
    /// The highest sequence number handed to the store.
    issued_seq: u64,
    /// The highest sequence number reported durable to the core.
    reported_seq: u64,
    pending: HashMap<RequestId, Pending>,
    hub: EventsHub,
    timer: Option<(Instant, BoxFuture<'static, ()>)>,
    /// Dropped when the loop ends, which completes [`DriverHandle::closed`].
    _done: async_channel::Sender<()>,
}

impl<R: Runtime> Driver<R> {
    /// A driver and its handle. Starts the store's thread.
    pub fn new(
        rt: R,
        manager: Manager,
        store: Store,
        link_commands: async_channel::Sender<LinkCommand>,
        link_events: async_channel::Receiver<LinkEvent>,
        limits: DriverLimits,
    ) -> std::io::Result<(Driver<R>, DriverHandle)> {
        let (store, store_woken) = StoreWriter::start(store, limits.max_records_per_commit)?;
        let (jobs_tx, jobs) = async_channel::bounded(limits.max_queued_requests.max(1));
        let (gone, gone_woken) = NoticeBoard::new();
        let gone = Arc::new(gone);
        let (done_tx, done) = async_channel::bounded(1);
        let clock = Arc::new(Clock::new());
        let handle = DriverHandle {
            jobs: jobs_tx,
            gone: gone.clone(),
            next_id: Arc::new(AtomicU64::new(1)),
            clock: clock.clone(),
            event_buffer: limits.event_subscriber_buffer,
            done,
        };
        let driver = Driver {
            rt,
            manager,
            clock,
            outbox: LinkOutbox::new(link_commands, limits.max_link_outbox),
            hub: EventsHub::new(limits.max_event_subscribers),
            limits,
            jobs: Box::pin(jobs),
            jobs_open: true,
            gone,
            gone_woken: Box::pin(gone_woken),
            link_events: Box::pin(link_events),
            link_open: true,
            link_first: true,
            store,
            store_woken: Box::pin(store_woken),
            issued_seq: 0,
            reported_seq: 0,
            pending: HashMap::new(),
            timer: None,
            _done: done_tx,
        };
        Ok((driver, handle))
    }

    /// Runs until [`DriverHandle::shutdown`] (or until every handle is dropped) and the
    /// store has made every record durable.
    pub async fn run(mut self) {
        self.drain();
        self.arm_timer();
        let mut handled: u32 = 0;
        loop {
            if !self.jobs_open && self.flushed() {
                break;
            }
            handled = handled.wrapping_add(1);
            if handled % INPUTS_PER_YIELD == 0 {
                yield_now().await;
            }
            match poll_fn(|cx| self.poll_wake(cx)).await {
                Wake::Stored => self.on_stored(),
                Wake::Gone => {
                    for id in self.gone.take() {
                        self.forget(id);
                    }
                }
                Wake::Timer => {
                    self.timer = None;
                    self.feed(Input::Timeout);
                }
                Wake::Link(Some(event)) => self.feed(match event {
                    LinkEvent::Connected { master } => Input::Connected { master },
                    LinkEvent::Event(e) => Input::MesosEvent(e),
                    LinkEvent::Disconnected { reason } => Input::Disconnected { reason },
                }),
                Wake::Link(None) => {
                    self.link_open = false;
                    tracing::warn!("the Mesos client stopped sending events");
                    self.feed(Input::Disconnected {
                        reason: "the Mesos client stopped".into(),
                    });
                }
                Wake::Job(Some(job)) => self.on_job(job),
                Wake::Job(None) => {
                    self.jobs_open = false;
                    tracing::info!(
                        "driver: shutting down once {} records are durable",
                        self.issued_seq.saturating_sub(self.store.durable())
                    );
                    self.store.close();
                }
            }
            self.arm_timer();
        }
        if self.store.durable() < self.issued_seq {
            tracing::error!(
                "driver: stopped with {} records not durable",
                self.issued_seq - self.store.durable()
            );
        }
    }

    /// Whether shutdown may finish: the store thread wrote what it could and closed the
    /// file (it was asked to at the start of the shutdown).
    fn flushed(&self) -> bool {
        self.store.is_finished()
    }

    fn poll_wake(&mut self, cx: &mut Context<'_>) -> Poll<Wake> {
        self.outbox.poll_progress(cx);
        if let Poll::Ready(Some(())) = self.store_woken.poll_next_unpin(cx) {
            return Poll::Ready(Wake::Stored);
        }
        if let Poll::Ready(Some(())) = self.gone_woken.poll_next_unpin(cx) {
            return Poll::Ready(Wake::Gone);
        }
        if !self.jobs_open {
            return Poll::Pending;
        }
        if let Some((_, sleep)) = self.timer.as_mut() {
            if sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Wake::Timer);
            }
        }
        let backlog = self.issued_seq.saturating_sub(self.store.durable());
        if backlog >= self.limits.max_unpersisted_records as u64 {
            // Back-pressure: take no new work until the store catches up (it wakes us).
            return Poll::Pending;
        }
        self.link_first = !self.link_first;
        if self.link_first {
            if let Poll::Ready(w) = self.poll_link(cx) {
                return Poll::Ready(w);
            }
            self.poll_jobs(cx)
        } else {
            if let Poll::Ready(w) = self.poll_jobs(cx) {
                return Poll::Ready(w);
            }
            self.poll_link(cx)
        }
    }

    fn poll_link(&mut self, cx: &mut Context<'_>) -> Poll<Wake> {
        if !self.link_open {
            return Poll::Pending;
        }
        self.link_events.poll_next_unpin(cx).map(Wake::Link)
    }

    fn poll_jobs(&mut self, cx: &mut Context<'_>) -> Poll<Wake> {
        self.jobs.poll_next_unpin(cx).map(Wake::Job)
    }

    fn on_stored(&mut self) {
        let durable = self.store.durable().min(self.issued_seq);
        if durable > self.reported_seq {
            self.reported_seq = durable;
            self.feed(Input::Persisted { up_to: durable });
        }
    }

    fn on_job(&mut self, job: DockerJob) {
        let DockerJob { id, request, reply } = job;
        let events = match &request {
            DockerRequest::Events(q) => Some((q.filters.clone(), q.until)),
            _ => None,
        };
        self.pending.insert(id, Pending { reply, events });
        self.feed(Input::Docker { id, request });
        // A client that left while its request was queued: its notice may have been taken
        // before the request reached the core, so look at its channel now.
        let closed = self.pending.get(&id).is_some_and(|p| p.reply.is_closed());
        if closed {
            self.forget(id);
        }
    }

    /// A client went away: drop its answers and tell the core.
    fn forget(&mut self, id: RequestId) {
        self.pending.remove(&id);
        self.hub.unsubscribe(id);
        self.feed(Input::DockerGone { id });
    }

    /// Hands `input` to the core and acts on everything it outputs.
    fn feed(&mut self, input: Input) {
        self.manager.handle(self.clock.now(), input);
        self.drain();
    }

    fn drain(&mut self) {
        while let Some(output) = self.manager.poll_output() {
            match output {
                Output::Persist { seq, record } => {
                    self.store.push(seq, record);
                    self.issued_seq = self.issued_seq.max(seq);
                }
                Output::Call(call) => self.outbox.push(LinkCommand::Call(call)),
                Output::Reconnect { reason } => self.outbox.push(LinkCommand::Reconnect { reason }),
                Output::Docker { id, response } => self.answer(id, response),
                Output::Event(event) => self.hub.publish(&event),
                Output::Log { level, message } => log(level, &message),
            }
        }
    }

    fn answer(&mut self, id: RequestId, response: DockerResponse) {
        let Some(pending) = self.pending.get(&id) else {
            return; // the client is gone
        };
        if matches!(
            response,
            DockerResponse::WaitPending | DockerResponse::LocatePending { .. }
        ) {
            let _ = pending.reply.try_send(response);
            return;
        }
        let Some(pending) = self.pending.remove(&id) else {
            return;
        };
        match (pending.events, response) {
            (Some((filters, until)), DockerResponse::Events(history)) => {
                self.hub
                    .subscribe(id, filters, until, pending.reply, history);
            }
            (_, response) => {
                // Full cannot happen (room for every answer); closed means the client left.
                let _ = pending.reply.try_send(response);
            }
        }
    }

    /// Sleeps until the core's next deadline (keeping the current sleep if it is the same).
    fn arm_timer(&mut self) {
        let Some((at, _)) = self.manager.poll_timeout() else {
            self.timer = None;
            return;
        };
        if self.timer.as_ref().is_some_and(|(armed, _)| *armed == at) {
            return;
        }
        let sleep = self.clock.until(at).max(MIN_TIMER_SLEEP);
        self.timer = Some((at, self.rt.sleep(sleep)));
    }
}

/// Lets the executor run other tasks once.
async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// Writes a core log line with `tracing` at its level.
fn log(level: LogLevel, message: &str) {
    match level {
        LogLevel::Debug => tracing::debug!(target: "mesoswarm::core", "{message}"),
        LogLevel::Info => tracing::info!(target: "mesoswarm::core", "{message}"),
        LogLevel::Warn => tracing::warn!(target: "mesoswarm::core", "{message}"),
        LogLevel::Error => tracing::error!(target: "mesoswarm::core", "{message}"),
    }
}
