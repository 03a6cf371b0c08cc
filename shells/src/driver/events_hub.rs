//! `docker events` subscribers and the fan-out of live events to them.
//!
//! The core answers an events request with the buffered history (`DockerResponse::Events`);
//! the driver then registers the client here, in output order, so that every event the core
//! emits after that answer reaches it exactly once. Each live event goes to the subscribers
//! whose filters match, as `DockerResponse::Events(vec![event])` on the subscriber's own
//! bounded channel; a subscriber whose buffer is full is dropped with a warning (its stream
//! ends) rather than slowing everyone down.

use mesoswarm_core::docker::request::{EventFilters, RequestId};
use mesoswarm_core::docker::{ApiError, DockerResponse};
use mesoswarm_core::events::DockerEvent;
use mesoswarm_core::time::Instant;

struct Subscriber {
    id: RequestId,
    filters: EventFilters,
    until: Option<Instant>,
    tx: async_channel::Sender<DockerResponse>,
}

/// The live `docker events` streams.
pub(crate) struct EventsHub {
    subscribers: Vec<Subscriber>,
    max_subscribers: usize,
}

impl EventsHub {
    /// A hub with room for `max_subscribers` streams.
    pub(crate) fn new(max_subscribers: usize) -> EventsHub {
        EventsHub {
            subscribers: Vec::new(),
            max_subscribers,
        }
    }

    /// Sends the history to a new subscriber and registers it for live events, or answers it
    /// with 503 when there are too many streams already.
    pub(crate) fn subscribe(
        &mut self,
        id: RequestId,
        filters: EventFilters,
        until: Option<Instant>,
        tx: async_channel::Sender<DockerResponse>,
        history: Vec<DockerEvent>,
    ) {
        self.subscribers.retain(|s| !s.tx.is_closed());
        if self.subscribers.len() >= self.max_subscribers {
            let _ = tx.try_send(DockerResponse::Error(ApiError::unavailable(format!(
                "too many `docker events` streams are open (limit {}); try again later",
                self.max_subscribers
            ))));
            return;
        }
        if tx.try_send(DockerResponse::Events(history)).is_err() {
            return;
        }
        self.subscribers.push(Subscriber {
            id,
            filters,
            until,
            tx,
        });
    }

    /// Forgets a subscriber (its client went away).
    pub(crate) fn unsubscribe(&mut self, id: RequestId) {
        self.subscribers.retain(|s| s.id != id);
    }

    /// Sends `event` to every subscriber whose filters match; drops subscribers that are
    /// gone, past their `until`, or too slow.
    pub(crate) fn publish(&mut self, event: &DockerEvent) {
        self.subscribers.retain(|s| {
            if s.until.is_some_and(|until| event.time > until) {
                return false;
            }
            if !s.filters.matches(event) {
                return !s.tx.is_closed();
            }
            match s.tx.try_send(DockerResponse::Events(vec![event.clone()])) {
                Ok(()) => true,
                Err(async_channel::TrySendError::Full(_)) => {
                    tracing::warn!(
                        "a `docker events` client (request {}) fell {} events behind; ending its stream",
                        s.id,
                        s.tx.capacity().unwrap_or(0)
                    );
                    false
                }
                Err(async_channel::TrySendError::Closed(_)) => false,
            }
        });
    }
}
