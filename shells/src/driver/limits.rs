//! Named limits on everything the driver queues.

/// Limits of the driver's queues. Each is a bound on memory; when one is hit the client is
/// told (503) or the slow party is dropped, and the driver never blocks on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverLimits {
    /// Docker requests queued for the driver. When full, a new request is answered with 503
    /// at once.
    pub max_queued_requests: usize,
    /// Records handed to the store and not yet durable. Beyond it the driver stops taking
    /// new Docker requests and Mesos events until the store catches up (back-pressure: the
    /// request queue fills and clients get 503).
    pub max_unpersisted_records: usize,
    /// Records written in one store transaction at most.
    pub max_records_per_commit: usize,
    /// `docker events` streams at once; beyond it the request is answered with 503.
    pub max_event_subscribers: usize,
    /// Events buffered for one `docker events` client. A client that falls this far behind
    /// is dropped (its stream ends) with a warning.
    pub event_subscriber_buffer: usize,
    /// Commands for the Mesos client waiting to be taken. Beyond it new commands are
    /// dropped with a warning: the core treats the link as lossy (it retries kills,
    /// reconciles silent launches, and Mesos re-sends unacknowledged updates).
    pub max_link_outbox: usize,
}

impl Default for DriverLimits {
    fn default() -> Self {
        DriverLimits {
            max_queued_requests: 1_024,
            max_unpersisted_records: 10_000,
            max_records_per_commit: 1_000,
            max_event_subscribers: 1_024,
            event_subscriber_buffer: 1_024,
            max_link_outbox: 4_096,
        }
    }
}
