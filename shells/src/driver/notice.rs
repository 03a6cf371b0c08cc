//! A notice board: other threads and tasks pin notices on it without ever blocking or
//! losing one, and the driver takes them all when woken.
//!
//! A bounded channel cannot carry these notices: a client that went away must be reported
//! from a `Drop` (which cannot wait), and a full queue would lose the notice and leak the
//! core's waiter. Here the notices sit in a vector (bounded by what produces them: one per
//! request in flight) and the wake-up is a channel of capacity one, where a wake already
//! pending stands for any number of notices.

use std::sync::Mutex;

/// Notices of type `T`, and the driver's wake-up.
#[derive(Debug)]
pub(crate) struct NoticeBoard<T> {
    notices: Mutex<Vec<T>>,
    wake: async_channel::Sender<()>,
}

impl<T> NoticeBoard<T> {
    /// A board, and the receiver the driver waits on.
    pub(crate) fn new() -> (NoticeBoard<T>, async_channel::Receiver<()>) {
        let (wake, woken) = async_channel::bounded(1);
        (
            NoticeBoard {
                notices: Mutex::new(Vec::new()),
                wake,
            },
            woken,
        )
    }

    /// Pins a notice and wakes the driver. Never blocks for more than the lock.
    pub(crate) fn post(&self, notice: T) {
        self.notices
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(notice);
        // Full means a wake-up is already pending; closed means the driver is gone.
        let _ = self.wake.try_send(());
    }

    /// Takes every notice posted so far.
    pub(crate) fn take(&self) -> Vec<T> {
        std::mem::take(
            &mut *self
                .notices
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}
