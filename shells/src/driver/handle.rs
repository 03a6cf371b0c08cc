//! How the Docker API server talks to the driver: [`DriverHandle::submit`] queues a request
//! and gives back its [`Responses`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use mesoswarm_core::docker::request::{DockerRequest, RequestId};
use mesoswarm_core::docker::{ApiError, DockerResponse};

use crate::clock::Clock;
use crate::driver::notice::NoticeBoard;

/// Room in the answer channel of an ordinary request: a wait gets `WaitPending` (an attach
/// `LocatePending`), then
/// `WaitDone`; everything else gets one answer.
const ANSWERS_PER_REQUEST: usize = 2;

/// A Docker request on its way to the driver.
#[derive(Debug)]
pub struct DockerJob {
    /// The request's id (assigned by [`DriverHandle::submit`]).
    pub id: RequestId,
    /// The request.
    pub request: DockerRequest,
    /// Where its answers go. A wait gets `WaitPending` then `WaitDone`; an events request
    /// gets `Events(history)` and then `Events(vec![event])` per live event; everything else
    /// one answer. The driver drops the answers of a client that is gone.
    pub reply: async_channel::Sender<DockerResponse>,
}

/// A cloneable handle on a running driver.
#[derive(Clone, Debug)]
pub struct DriverHandle {
    pub(crate) jobs: async_channel::Sender<DockerJob>,
    pub(crate) gone: Arc<NoticeBoard<RequestId>>,
    pub(crate) next_id: Arc<AtomicU64>,
    pub(crate) clock: Arc<Clock>,
    pub(crate) event_buffer: usize,
    pub(crate) done: async_channel::Receiver<()>,
}

impl DriverHandle {
    /// Queues `request` for the core. Never waits: when the queue is full (or the driver is
    /// shutting down) the answer is a Docker-style 503 to send back at once.
    pub fn submit(&self, request: DockerRequest) -> Result<Responses, DockerResponse> {
        let capacity = match request {
            // The history, then the live events the client may fall behind on.
            DockerRequest::Events(_) => self.event_buffer.saturating_add(1),
            _ => ANSWERS_PER_REQUEST,
        };
        let (reply, answers) = async_channel::bounded(capacity.max(1));
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        match self.jobs.try_send(DockerJob { id, request, reply }) {
            Ok(()) => Ok(Responses {
                id,
                answers,
                gone: self.gone.clone(),
                finished: false,
            }),
            Err(async_channel::TrySendError::Full(_)) => {
                Err(DockerResponse::Error(ApiError::unavailable(format!(
                    "mesoswarm is busy: {} requests are already queued; try again",
                    self.jobs.capacity().unwrap_or(0)
                ))))
            }
            Err(async_channel::TrySendError::Closed(_)) => Err(DockerResponse::Error(
                ApiError::unavailable("mesoswarm is shutting down"),
            )),
        }
    }

    /// The clock the driver feeds the core with (the same one stamps event times, so the
    /// server uses it to end `docker events --until` streams).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Stops taking requests. The driver answers what is already queued, waits for the
    /// store to make every record durable, and stops; [`DriverHandle::closed`] then
    /// completes.
    pub fn shutdown(&self) {
        self.jobs.close();
    }

    /// Completes once the driver has stopped.
    pub async fn closed(&self) {
        while self.done.recv().await.is_ok() {}
    }
}

/// The answers to one submitted request. Dropping it before the last answer tells the
/// driver the client is gone (`Input::DockerGone`), so the core forgets its waiter.
#[derive(Debug)]
pub struct Responses {
    id: RequestId,
    answers: async_channel::Receiver<DockerResponse>,
    gone: Arc<NoticeBoard<RequestId>>,
    finished: bool,
}

impl Responses {
    /// The request's id.
    pub fn id(&self) -> RequestId {
        self.id
    }

    /// The next answer, or `None` when there will be no more (the driver stopped, or ended
    /// an events stream). Every answer but `WaitPending` and `Events` is the last.
    pub async fn next(&mut self) -> Option<DockerResponse> {
        match self.answers.recv().await {
            Ok(answer) => {
                if !matches!(
                    answer,
                    DockerResponse::WaitPending
                        | DockerResponse::Events(_)
                        | DockerResponse::LocatePending { .. }
                ) {
                    self.finished = true;
                }
                Some(answer)
            }
            Err(_) => {
                self.finished = true;
                None
            }
        }
    }
}

impl Drop for Responses {
    fn drop(&mut self) {
        if !self.finished {
            // Close first: a driver that has not taken the job yet sees the closed channel.
            self.answers.close();
            self.gone.post(self.id);
        }
    }
}
