//! The Mesos client: finds the leading master (a static list or ZooKeeper), holds the
//! SUBSCRIBE event stream on its own connection, and sends every other call on a separate
//! keep-alive connection with the stream's `Mesos-Stream-Id`.
//!
//! It is written once against [`Runtime`] and knows nothing of the core: the driver feeds it
//! [`LinkCommand`]s (the core's calls, and its dead-master verdicts) and receives
//! [`LinkEvent`]s (connected, events, disconnected). The rules it follows are those of the
//! v1 scheduler API as a real Mesos 1.11 master applies them (`reference/mesos-v1-api.md`
//! §1.2, §1.6, §1.15, §1.16, §3):
//!
//! * `Connected` is emitted once a TCP connection to a candidate master is open; the core
//!   answers with a SUBSCRIBE, which is POSTed on that connection. A `307` is followed to the
//!   leader (at most [`MesosClientConfig::max_redirects`] times); `200` starts the RecordIO
//!   event stream; anything else ends the attempt.
//! * Every `Connected` is eventually followed by one `Disconnected` (stream EOF or error,
//!   failed SUBSCRIBE, a call refused because the stream is dead, a
//!   [`LinkCommand::Reconnect`], a ZooKeeper leader change), after which the link reconnects
//!   with capped exponential backoff ([`BackoffConfig`]) and emits `Connected` again.
//! * Calls are sent one at a time, in order. Calls that arrive while there is no stream, or
//!   that were still queued when their stream ended, are dropped (the core re-does its work
//!   after re-subscribing); a call the master refuses is logged with its type, status and
//!   body.

mod backoff;
mod calls;
mod http;
mod masters;
mod session;
mod subscribe;
pub mod zk;

use std::time::Duration;

pub use crate::driver::{LinkCommand, LinkEvent};
pub use backoff::{BackoffConfig, DEFAULT_BACKOFF_MAX, DEFAULT_BACKOFF_MIN};
pub use masters::MasterAddr;

use crate::runtime::Runtime;

/// Default bound on the queue of calls waiting for the call connection.
pub const DEFAULT_CALL_QUEUE_LIMIT: usize = 1024;
/// Default timeout of one non-SUBSCRIBE call, response body included (the reference's
/// 5 × 15 s heartbeat interval).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(75);
/// Default timeout for opening a TCP connection to a master.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default timeout from sending SUBSCRIBE to the response headers (the stream itself has no
/// timeout: the core's heartbeat timer covers it).
pub const DEFAULT_SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(75);
/// Default number of `307` redirects followed by one SUBSCRIBE.
pub const DEFAULT_MAX_REDIRECTS: u32 = 4;
/// Default ZooKeeper session timeout (Mesos' own detector uses 10 s).
pub const DEFAULT_ZK_SESSION_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an error response body is kept for the log.
pub const MAX_ERROR_BODY_BYTES: usize = 4096;
/// Bound on the link task's internal queue (stream events, task results).
pub const INTERNAL_QUEUE_LIMIT: usize = 64;

/// Where the masters are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MasterSource {
    /// Masters tried in turn (`host`, `port`); a `307` leads to the leader.
    Static(Vec<(String, u16)>),
    /// Follow the leader registered in ZooKeeper (`zk://servers/path`).
    Zk {
        /// The ZooKeeper connect string, `h1:2181,h2:2181`.
        servers: String,
        /// The znode under which masters register, e.g. `/mesos`.
        path: String,
    },
}

/// HTTP basic authentication towards the master (`--authenticate_http_frameworks`).
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// The principal (also `FrameworkInfo.principal`).
    pub principal: String,
    /// The secret.
    pub secret: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("principal", &self.principal)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// How the Mesos client behaves; every limit is named here.
#[derive(Clone, Debug)]
pub struct MesosClientConfig {
    /// Where the masters are.
    pub masters: MasterSource,
    /// HTTP basic authentication, if the master wants it.
    pub credential: Option<Credential>,
    /// Largest RecordIO record (one event) accepted on the stream.
    pub max_record_bytes: usize,
    /// Timeout for opening a TCP connection to a master.
    pub connect_timeout: Duration,
    /// Timeout from sending SUBSCRIBE to its response headers.
    pub subscribe_timeout: Duration,
    /// Timeout of one non-SUBSCRIBE call.
    pub call_timeout: Duration,
    /// Bound on calls waiting for the call connection; beyond it calls are dropped (logged).
    pub call_queue_limit: usize,
    /// `307` redirects followed by one SUBSCRIBE.
    pub max_redirects: u32,
    /// Reconnection delays.
    pub backoff: BackoffConfig,
    /// ZooKeeper session timeout (for [`MasterSource::Zk`]).
    pub zk_session_timeout: Duration,
}

impl MesosClientConfig {
    /// A configuration with the default limits for `masters`.
    pub fn new(masters: MasterSource) -> Self {
        MesosClientConfig {
            masters,
            credential: None,
            max_record_bytes: mesoswarm_proto::recordio::DEFAULT_MAX_RECORD_BYTES,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            subscribe_timeout: DEFAULT_SUBSCRIBE_TIMEOUT,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            call_queue_limit: DEFAULT_CALL_QUEUE_LIMIT,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            backoff: BackoffConfig::default(),
            zk_session_timeout: DEFAULT_ZK_SESSION_TIMEOUT,
        }
    }
}

/// Starts the Mesos link on `rt`: it finds a master, emits [`LinkEvent`]s on `events` and
/// obeys [`LinkCommand`]s from `commands`, until either channel is closed.
///
/// Both channels should be bounded by the caller; the link waits when `events` is full (so
/// the stream is read no faster than the driver consumes it), so the driver must keep
/// draining `events` while it sends commands.
///
/// The driver must answer every [`LinkEvent::Connected`] with exactly one SUBSCRIBE (the
/// core does): the link counts them, so that a SUBSCRIBE answering a `Connected` that was
/// already superseded (the link moved on before it arrived) is dropped instead of opening a
/// second subscription.
pub fn spawn_link<R: Runtime>(
    rt: R,
    config: MesosClientConfig,
    commands: async_channel::Receiver<LinkCommand>,
    events: async_channel::Sender<LinkEvent>,
) {
    let task_rt = rt.clone();
    rt.spawn(Box::pin(async move {
        session::run(task_rt, config, commands, events).await;
    }));
}
