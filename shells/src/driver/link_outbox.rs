//! Commands for the Mesos client, queued so that a slow client never stalls the driver.
//!
//! The driver hands commands over with `try_send`; when the channel is full they wait here
//! (at most `DriverLimits::max_link_outbox`) and one send is kept in flight, driven from the
//! driver's poll loop. Beyond the limit new commands are dropped with a warning: the core
//! treats the link as lossy.

use std::collections::VecDeque;
use std::task::{Context, Poll};

use crate::driver::LinkCommand;
use crate::runtime::BoxFuture;

type SendFuture = BoxFuture<'static, Result<(), async_channel::SendError<LinkCommand>>>;

/// The queue in front of the Mesos client's command channel.
pub(crate) struct LinkOutbox {
    tx: async_channel::Sender<LinkCommand>,
    queue: VecDeque<LinkCommand>,
    in_flight: Option<SendFuture>,
    max: usize,
    closed: bool,
}

impl LinkOutbox {
    /// An outbox holding at most `max` commands.
    pub(crate) fn new(tx: async_channel::Sender<LinkCommand>, max: usize) -> LinkOutbox {
        LinkOutbox {
            tx,
            queue: VecDeque::new(),
            in_flight: None,
            max: max.max(1),
            closed: false,
        }
    }

    /// Queues a command (sending it at once when the channel has room).
    pub(crate) fn push(&mut self, cmd: LinkCommand) {
        if self.closed {
            return;
        }
        if self.in_flight.is_none() && self.queue.is_empty() {
            match self.tx.try_send(cmd) {
                Ok(()) => return,
                Err(async_channel::TrySendError::Full(cmd)) => self.queue.push_back(cmd),
                Err(async_channel::TrySendError::Closed(_)) => self.on_closed(),
            }
            return;
        }
        if self.queue.len() >= self.max {
            tracing::warn!(
                "the Mesos client is {} commands behind; dropping {}",
                self.queue.len(),
                describe(&cmd)
            );
            return;
        }
        self.queue.push_back(cmd);
    }

    /// Moves queued commands into the channel as it makes room; registers `cx` to be woken
    /// when it can go on.
    pub(crate) fn poll_progress(&mut self, cx: &mut Context<'_>) {
        loop {
            if let Some(sending) = self.in_flight.as_mut() {
                match sending.as_mut().poll(cx) {
                    Poll::Pending => return,
                    Poll::Ready(Ok(())) => self.in_flight = None,
                    Poll::Ready(Err(_)) => {
                        self.in_flight = None;
                        self.on_closed();
                        return;
                    }
                }
            }
            let Some(cmd) = self.queue.pop_front() else {
                return;
            };
            match self.tx.try_send(cmd) {
                Ok(()) => {}
                Err(async_channel::TrySendError::Full(cmd)) => {
                    let tx = self.tx.clone();
                    self.in_flight = Some(Box::pin(async move { tx.send(cmd).await }));
                }
                Err(async_channel::TrySendError::Closed(_)) => {
                    self.on_closed();
                    return;
                }
            }
        }
    }

    fn on_closed(&mut self) {
        if !self.closed {
            tracing::warn!("the Mesos client's command channel is closed; Mesos calls are dropped");
        }
        self.closed = true;
        self.queue.clear();
    }
}

fn describe(cmd: &LinkCommand) -> String {
    match cmd {
        LinkCommand::Call(call) => {
            let kind = call
                .r#type
                .and_then(|t| mesoswarm_proto::scheduler::call::Type::try_from(t).ok())
                .map_or("UNKNOWN", |t| t.as_str_name());
            format!("a {kind} call")
        }
        LinkCommand::Reconnect { reason } => format!("a reconnect ({reason})"),
    }
}
