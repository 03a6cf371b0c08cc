//! The two answers that are streamed: a wait's body after its early headers, and the
//! `docker events` stream.
//!
//! Each stream owns the request's [`Responses`]: when the client goes away hyper drops the
//! body, the stream with it, and the driver hears that the client is gone.

use bytes::{Bytes, BytesMut};
use futures_util::future::{select, Either};
use futures_util::stream::{self, BoxStream};
use futures_util::StreamExt;
use mesoswarm_core::docker::render::{event_json_line, wait_body};
use mesoswarm_core::docker::DockerResponse;
use mesoswarm_core::events::DockerEvent;
use mesoswarm_core::time::Instant;

use crate::driver::{DriverHandle, Responses};
use crate::runtime::{BoxFuture, Runtime};

/// The exit code reported when a wait ends in an error after its headers were sent.
const WAIT_ERROR_STATUS_CODE: i64 = -1;

/// The body of a wait whose headers went out with `WaitPending`: one chunk, the
/// [`wait_body`], when the driver sends `WaitDone`.
pub fn wait_stream(responses: Responses) -> BoxStream<'static, Bytes> {
    stream::unfold(Some(responses), |state| async move {
        let mut responses = state?;
        loop {
            match responses.next().await? {
                DockerResponse::WaitPending => continue,
                DockerResponse::WaitDone { status_code, error } => {
                    return Some((wait_body(status_code, error.as_deref()), None));
                }
                DockerResponse::Error(e) => {
                    return Some((wait_body(WAIT_ERROR_STATUS_CODE, Some(&e.message)), None));
                }
                other => {
                    tracing::warn!("a wait got an unexpected answer: {other:?}");
                    return None;
                }
            }
        }
    })
    .boxed()
}

struct EventsState {
    first: Option<Bytes>,
    responses: Responses,
    until: Option<Instant>,
    /// Fires at `until`.
    deadline: Option<BoxFuture<'static, ()>>,
}

/// The `docker events` body: the history, then one JSON line per live event (one chunk
/// each), ending at `until` (or when the driver drops a subscriber that fell behind).
pub fn events_stream<R: Runtime>(
    rt: &R,
    driver: &DriverHandle,
    history: &[DockerEvent],
    until: Option<Instant>,
    responses: Responses,
) -> BoxStream<'static, Bytes> {
    let state = EventsState {
        first: Some(lines(history, until)),
        responses,
        until,
        deadline: until.map(|u| rt.sleep(driver.clock().until(u))),
    };
    stream::unfold(state, |mut s| async move {
        if let Some(first) = s.first.take() {
            return Some((first, s));
        }
        loop {
            let next = match s.deadline.as_mut() {
                None => s.responses.next().await,
                Some(deadline) => {
                    let next = std::pin::pin!(s.responses.next());
                    match select(next, deadline).await {
                        Either::Left((next, _)) => next,
                        Either::Right(((), _)) => return None,
                    }
                }
            };
            match next? {
                DockerResponse::Events(events) => {
                    let chunk = lines(&events, s.until);
                    if !chunk.is_empty() {
                        return Some((chunk, s));
                    }
                }
                other => {
                    tracing::warn!("an events stream got an unexpected answer: {other:?}");
                    return None;
                }
            }
        }
    })
    .boxed()
}

/// The events at or before `until`, one JSON line each.
fn lines(events: &[DockerEvent], until: Option<Instant>) -> Bytes {
    let mut out = BytesMut::new();
    for e in events {
        if until.is_none_or(|u| e.time <= u) {
            out.extend_from_slice(&event_json_line(e));
        }
    }
    out.freeze()
}
