//! The link task: a small state machine fed by the driver's commands and by reports of the
//! tasks it spawns (connect, subscribe/stream, calls, ZooKeeper, backoff timers).
//!
//! Every spawned task carries the link's *epoch*; moving on (a disconnection, a new
//! attempt) bumps it, so late reports from an abandoned attempt are recognised and ignored,
//! and dropping the attempt's [`Abort`] ends its task and closes its connection.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::{select, Either};
use http::HeaderValue;
use mesoswarm_proto::scheduler::{call, event, Call, Event};
use prost::Message as _;

use super::backoff::Backoff;
use super::calls::{self, call_name, QueuedCall};
use super::http::{self as h, abort_pair, Abort, Conn};
use super::masters::{MasterAddr, MasterList};
use super::subscribe::{self, SubscribeJob};
use super::zk::{self, ZkLeader};
use super::{LinkCommand, LinkEvent, MasterSource, MesosClientConfig, INTERNAL_QUEUE_LIMIT};
use crate::runtime::Runtime;

/// What the link's tasks share, read-only.
#[derive(Debug)]
pub(crate) struct Settings {
    /// The configuration.
    pub(crate) config: MesosClientConfig,
    /// The `Authorization` header, if any.
    pub(crate) auth: Option<HeaderValue>,
}

/// Reports from the link's tasks to the link.
pub(crate) enum Internal {
    /// A TCP connection to `master` was opened (or not).
    Connect {
        epoch: u64,
        master: MasterAddr,
        result: Result<Conn, String>,
    },
    /// A backoff delay is over.
    Retry { epoch: u64 },
    /// SUBSCRIBE was answered 200 by `master`.
    Subscribed {
        epoch: u64,
        master: MasterAddr,
        stream_id: String,
    },
    /// An event from the stream.
    Event { epoch: u64, event: Box<Event> },
    /// SUBSCRIBE did not get a stream.
    SubscribeFailed { epoch: u64, reason: String },
    /// The stream ended or broke.
    StreamEnded { epoch: u64, reason: String },
    /// A call was refused in a way that says the stream is dead.
    StreamDead { epoch: u64, reason: String },
    /// ZooKeeper names a (new) leader, or none.
    Leader(Option<ZkLeader>),
}

/// Where the link is.
enum State {
    /// Waiting for a backoff delay, or for ZooKeeper to name a leader.
    Waiting,
    /// Opening a TCP connection to a candidate.
    Connecting,
    /// `Connected` was emitted; waiting for the core's SUBSCRIBE.
    Connected {
        master: MasterAddr,
        conn: Option<Conn>,
    },
    /// SUBSCRIBE sent; waiting for the answer.
    Subscribing { master: MasterAddr, _task: Abort },
    /// The stream is open.
    Subscribed {
        master: MasterAddr,
        stream_id: String,
        _task: Abort,
    },
}

/// Where candidates come from.
enum Source {
    Static(MasterList),
    Zk {
        /// The latest leader ZooKeeper named.
        leader: Option<ZkLeader>,
        /// The leader the current attempt is for.
        target: Option<ZkLeader>,
        _watcher: Abort,
    },
}

/// The link is over: the driver dropped one of its channels.
struct Stop;

struct Session<R: Runtime> {
    rt: R,
    settings: Arc<Settings>,
    events: async_channel::Sender<LinkEvent>,
    internal: async_channel::Sender<Internal>,
    calls: async_channel::Sender<QueuedCall>,
    epoch: u64,
    shared_epoch: Arc<AtomicU64>,
    backoff: Backoff,
    source: Source,
    state: State,
    connect_failures: usize,
    /// `Connected` events emitted, and SUBSCRIBE calls received: the driver answers each
    /// `Connected` with one SUBSCRIBE, so a SUBSCRIBE that arrives while a later
    /// `Connected` is still unanswered belongs to an abandoned attempt.
    connected_emitted: u64,
    subscribes_received: u64,
}

/// Runs the link until the driver drops `commands` or `events`.
pub(crate) async fn run<R: Runtime>(
    rt: R,
    config: MesosClientConfig,
    commands: async_channel::Receiver<LinkCommand>,
    events: async_channel::Sender<LinkEvent>,
) {
    let auth = config.credential.as_ref().and_then(h::basic_auth);
    let settings = Arc::new(Settings { config, auth });
    let (internal, internal_rx) = async_channel::bounded(INTERNAL_QUEUE_LIMIT);
    let (calls_tx, calls_rx) = async_channel::bounded(settings.config.call_queue_limit.max(1));
    let shared_epoch = Arc::new(AtomicU64::new(0));
    rt.spawn(Box::pin(calls::run(
        rt.clone(),
        settings.clone(),
        calls_rx,
        shared_epoch.clone(),
        internal.clone(),
    )));
    let source = match &settings.config.masters {
        MasterSource::Static(list) => Source::Static(MasterList::new(
            list.iter()
                .map(|(host, port)| MasterAddr::new(host.clone(), *port))
                .collect(),
        )),
        MasterSource::Zk { servers, path } => {
            let (abort, signal) = abort_pair();
            let watch = zk::watch_leader(
                rt.clone(),
                servers.clone(),
                path.clone(),
                settings.config.clone(),
                internal.clone(),
                signal,
            );
            rt.spawn(Box::pin(watch));
            Source::Zk {
                leader: None,
                target: None,
                _watcher: abort,
            }
        }
    };
    let mut session = Session {
        backoff: Backoff::new(settings.config.backoff.clone()),
        rt,
        settings,
        events,
        internal,
        calls: calls_tx,
        epoch: 0,
        shared_epoch,
        source,
        state: State::Waiting,
        connect_failures: 0,
        connected_emitted: 0,
        subscribes_received: 0,
    };
    let _ = session.main(commands, internal_rx).await;
    tracing::debug!("the Mesos link stopped");
}

impl<R: Runtime> Session<R> {
    async fn main(
        &mut self,
        commands: async_channel::Receiver<LinkCommand>,
        internal: async_channel::Receiver<Internal>,
    ) -> Result<(), Stop> {
        self.attempt();
        loop {
            let command = std::pin::pin!(commands.recv());
            let report = std::pin::pin!(internal.recv());
            match select(command, report).await {
                Either::Left((Ok(command), _)) => self.on_command(command).await?,
                Either::Left((Err(_), _)) => return Err(Stop),
                Either::Right((Ok(report), _)) => self.on_report(report).await?,
                Either::Right((Err(_), _)) => return Err(Stop),
            }
        }
    }

    async fn emit(&self, event: LinkEvent) -> Result<(), Stop> {
        self.events.send(event).await.map_err(|_| Stop)
    }

    /// Starts a new epoch: reports from earlier tasks are ignored from now on.
    fn next_epoch(&mut self) {
        self.epoch += 1;
        self.shared_epoch.store(self.epoch, Ordering::SeqCst);
    }

    // ---- commands ----

    async fn on_command(&mut self, command: LinkCommand) -> Result<(), Stop> {
        match command {
            LinkCommand::Call(call) => self.on_call(call),
            LinkCommand::Reconnect { reason } => {
                if matches!(self.state, State::Waiting | State::Connecting) {
                    tracing::debug!("reconnect requested ({reason}) while already reconnecting");
                } else {
                    let delay = self.backoff.next_delay();
                    self.disconnect(reason, delay).await?;
                }
            }
        }
        Ok(())
    }

    fn on_call(&mut self, call: Box<Call>) {
        let name = call_name(&call);
        if call.r#type() == call::Type::Subscribe {
            return self.on_subscribe(call);
        }
        let State::Subscribed {
            master, stream_id, ..
        } = &self.state
        else {
            tracing::debug!(call = name, "dropping a {name} call: not subscribed");
            return;
        };
        let queued = QueuedCall {
            epoch: self.epoch,
            master: master.clone(),
            stream_id: stream_id.clone(),
            call,
        };
        if self.calls.try_send(queued).is_err() {
            tracing::error!(
                call = name,
                limit = self.settings.config.call_queue_limit,
                "dropping a {name} call: {} calls are already waiting for the master",
                self.settings.config.call_queue_limit
            );
        }
    }

    fn on_subscribe(&mut self, call: Box<Call>) {
        self.subscribes_received += 1;
        if self.subscribes_received < self.connected_emitted {
            tracing::debug!("dropping a SUBSCRIBE that answers an earlier connection");
            return;
        }
        let (master, conn) = match std::mem::replace(&mut self.state, State::Waiting) {
            State::Connected { master, conn } => (master, conn),
            State::Subscribing { master, .. } | State::Subscribed { master, .. } => {
                tracing::warn!("SUBSCRIBE while subscribed to {master}: starting over");
                self.next_epoch();
                (master, None)
            }
            other => {
                self.state = other;
                tracing::debug!("dropping a SUBSCRIBE call: no master to send it to yet");
                return;
            }
        };
        let (task, signal) = abort_pair();
        let job = SubscribeJob {
            epoch: self.epoch,
            master: master.clone(),
            conn,
            body: Bytes::from(call.encode_to_vec()),
        };
        let run = subscribe::run(
            self.rt.clone(),
            self.settings.clone(),
            job,
            self.internal.clone(),
            signal,
        );
        self.rt.spawn(Box::pin(run));
        self.state = State::Subscribing {
            master,
            _task: task,
        };
    }

    // ---- reports ----

    async fn on_report(&mut self, report: Internal) -> Result<(), Stop> {
        let now = self.epoch;
        let current = |epoch: u64| epoch == now;
        match report {
            Internal::Leader(leader) => return self.on_leader(leader).await,
            Internal::Connect {
                epoch,
                master,
                result,
            } if current(epoch) => return self.on_connect(master, result).await,
            Internal::Retry { epoch } if current(epoch) => {
                if matches!(self.state, State::Waiting) {
                    self.attempt();
                }
            }
            Internal::Subscribed {
                epoch,
                master,
                stream_id,
            } if current(epoch) => self.on_subscribed(master, stream_id),
            Internal::Event { epoch, event } if current(epoch) => {
                if matches!(self.state, State::Subscribed { .. }) {
                    if event.r#type() == event::Type::Subscribed {
                        self.backoff.reset();
                    }
                    self.emit(LinkEvent::Event(event)).await?;
                }
            }
            Internal::SubscribeFailed { epoch, reason }
            | Internal::StreamEnded { epoch, reason }
            | Internal::StreamDead { epoch, reason }
                if current(epoch) =>
            {
                let delay = self.backoff.next_delay();
                self.disconnect(reason, delay).await?;
            }
            _ => tracing::trace!("ignoring a report from an abandoned attempt"),
        }
        Ok(())
    }

    async fn on_connect(
        &mut self,
        master: MasterAddr,
        result: Result<Conn, String>,
    ) -> Result<(), Stop> {
        if !matches!(self.state, State::Connecting) {
            return Ok(());
        }
        match result {
            Ok(conn) => {
                self.connect_failures = 0;
                tracing::info!(master = %master, "connected to Mesos master {master}");
                let name = master.to_string();
                self.connected_emitted += 1;
                self.state = State::Connected {
                    master,
                    conn: Some(conn),
                };
                self.emit(LinkEvent::Connected { master: name }).await
            }
            Err(e) => {
                self.connect_failures += 1;
                let next_in_round = match &self.source {
                    Source::Static(list) => self.connect_failures < list.round_len(),
                    Source::Zk { .. } => false,
                };
                let delay = if next_in_round {
                    Duration::ZERO
                } else {
                    self.connect_failures = 0;
                    self.backoff.next_delay()
                };
                tracing::warn!(master = %master, "cannot reach Mesos master {master}: {e}; retrying in {delay:?}");
                self.wait_then_attempt(delay);
                Ok(())
            }
        }
    }

    fn on_subscribed(&mut self, master: MasterAddr, stream_id: String) {
        let State::Subscribing { _task: task, .. } =
            std::mem::replace(&mut self.state, State::Waiting)
        else {
            return;
        };
        tracing::info!(master = %master, stream_id = %stream_id, "subscribed to Mesos master {master}");
        if let Source::Static(list) = &mut self.source {
            list.prefer(master.clone());
        }
        self.state = State::Subscribed {
            master,
            stream_id,
            _task: task,
        };
    }

    async fn on_leader(&mut self, leader: Option<ZkLeader>) -> Result<(), Stop> {
        let Source::Zk {
            leader: latest,
            target,
            ..
        } = &mut self.source
        else {
            return Ok(());
        };
        *latest = leader.clone();
        if *target == leader {
            return Ok(());
        }
        match &leader {
            Some(l) => {
                tracing::info!(znode = %l.znode, master = %l.addr, "ZooKeeper names {} the leading Mesos master", l.addr)
            }
            None => tracing::warn!("ZooKeeper names no leading Mesos master"),
        }
        let reason = match &leader {
            Some(l) => format!("the leading Mesos master changed to {}", l.addr),
            None => "no Mesos master is leading".to_string(),
        };
        self.disconnect(reason, Duration::ZERO).await
    }

    // ---- moving on ----

    /// Leaves the current attempt (emitting `Disconnected` if the core saw `Connected`)
    /// and tries again after `delay`.
    async fn disconnect(&mut self, reason: String, delay: Duration) -> Result<(), Stop> {
        let was_connected = !matches!(self.state, State::Waiting | State::Connecting);
        self.state = State::Waiting;
        self.next_epoch();
        if was_connected {
            tracing::warn!("Mesos link lost: {reason}; reconnecting in {delay:?}");
            self.emit(LinkEvent::Disconnected { reason }).await?;
        }
        self.wait_then_attempt(delay);
        Ok(())
    }

    fn wait_then_attempt(&mut self, delay: Duration) {
        self.state = State::Waiting;
        self.next_epoch();
        if delay.is_zero() {
            return self.attempt();
        }
        let (rt, internal, epoch) = (self.rt.clone(), self.internal.clone(), self.epoch);
        self.rt.spawn(Box::pin(async move {
            rt.sleep(delay).await;
            let _ = internal.send(Internal::Retry { epoch }).await;
        }));
    }

    /// Picks a candidate and starts connecting to it (or keeps waiting for ZooKeeper).
    fn attempt(&mut self) {
        let candidate = match &mut self.source {
            Source::Static(list) => list.next_candidate(),
            Source::Zk { leader, target, .. } => {
                target.clone_from(leader);
                leader.as_ref().map(|l| l.addr.clone())
            }
        };
        let Some(master) = candidate else {
            tracing::info!("waiting for a Mesos master to be named");
            self.state = State::Waiting;
            return;
        };
        self.state = State::Connecting;
        let (rt, internal, epoch) = (self.rt.clone(), self.internal.clone(), self.epoch);
        let limit = self.settings.config.connect_timeout;
        self.rt.spawn(Box::pin(async move {
            let result = h::connect(&rt, &master, limit).await;
            let _ = internal
                .send(Internal::Connect {
                    epoch,
                    master,
                    result,
                })
                .await;
        }));
    }
}
