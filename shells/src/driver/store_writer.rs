//! The store's own thread: redb does blocking file I/O, so the driver never calls it on the
//! async executor. The driver queues records (in sequence order); the thread commits
//! everything queued so far in one transaction, publishes the highest durable sequence
//! number and wakes the driver, which reports `Input::Persisted { up_to }` to the core.
//!
//! The queue itself is bounded by the driver, which stops taking new work while more than
//! `DriverLimits::max_unpersisted_records` wait here.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use mesoswarm_core::Record;

use crate::store::Store;

/// First wait before a failed commit is tried again; it doubles up to [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(100);
/// The longest wait between two tries of a failing commit.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(5);
/// Tries of a failing commit after shutdown was asked, before the thread gives up.
const TRIES_AFTER_CLOSE: u32 = 3;

#[derive(Default)]
struct Queue {
    records: VecDeque<(u64, Record)>,
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
    durable: AtomicU64,
    /// Set once the thread has closed the store and is about to end.
    stopped: AtomicBool,
    wake: async_channel::Sender<()>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The driver's end of the store thread.
pub(crate) struct StoreWriter {
    shared: Arc<Shared>,
    /// Never joined (the driver runs on the executor); kept to document ownership.
    _thread: JoinHandle<()>,
}

impl std::fmt::Debug for StoreWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreWriter")
            .field("durable", &self.durable())
            .finish()
    }
}

impl StoreWriter {
    /// Starts the thread. The receiver gets a message whenever more records became durable.
    pub(crate) fn start(
        store: Store,
        max_records_per_commit: usize,
    ) -> std::io::Result<(StoreWriter, async_channel::Receiver<()>)> {
        let (wake, woken) = async_channel::bounded(1);
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
            durable: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
            wake,
        });
        let thread_shared = shared.clone();
        let max = max_records_per_commit.max(1);
        let thread = std::thread::Builder::new()
            .name("mesoswarm-store".into())
            .spawn(move || run(store, thread_shared, max))?;
        Ok((
            StoreWriter {
                shared,
                _thread: thread,
            },
            woken,
        ))
    }

    /// Queues a record; it is written with the next commit.
    pub(crate) fn push(&self, seq: u64, record: Record) {
        self.shared.lock().records.push_back((seq, record));
        self.shared.ready.notify_one();
    }

    /// The highest sequence number known durable.
    pub(crate) fn durable(&self) -> u64 {
        self.shared.durable.load(Ordering::Acquire)
    }

    /// Asks the thread to write what is queued and stop; does not wait for it (the driver
    /// is woken when it has).
    pub(crate) fn close(&self) {
        self.shared.lock().closed = true;
        self.shared.ready.notify_one();
    }

    /// Whether the thread has closed the store and stopped (after [`StoreWriter::close`],
    /// or if it gave up).
    pub(crate) fn is_finished(&self) -> bool {
        self.shared.stopped.load(Ordering::Acquire)
    }
}

impl Drop for StoreWriter {
    fn drop(&mut self) {
        // The thread finishes what is queued on its own; it is not joined here, because
        // the driver runs on the async executor.
        self.close();
    }
}

fn run(store: Store, shared: Arc<Shared>, max_records_per_commit: usize) {
    write_until_closed(&store, &shared, max_records_per_commit);
    // Close the file before saying so: whoever waits for the driver may open it next.
    drop(store);
    shared.stopped.store(true, Ordering::Release);
    // Wake the driver once more: it may be waiting for this thread to finish.
    let _ = shared.wake.try_send(());
}

fn write_until_closed(store: &Store, shared: &Shared, max_records_per_commit: usize) {
    loop {
        let batch: Vec<(u64, Record)> = {
            let mut q = shared.lock();
            while q.records.is_empty() && !q.closed {
                q = shared.ready.wait(q).unwrap_or_else(|p| p.into_inner());
            }
            if q.records.is_empty() {
                return;
            }
            let n = q.records.len().min(max_records_per_commit);
            q.records.drain(..n).collect()
        };
        let Some(up_to) = batch.last().map(|(seq, _)| *seq) else {
            continue;
        };
        let records: Vec<Record> = batch.into_iter().map(|(_, r)| r).collect();
        if !commit(store, shared, &records) {
            return;
        }
        shared.durable.fetch_max(up_to, Ordering::AcqRel);
        let _ = shared.wake.try_send(());
    }
}

/// Commits `records`, trying again with backoff while it fails. False if it gave up (only
/// after shutdown was asked).
fn commit(store: &Store, shared: &Shared, records: &[Record]) -> bool {
    let mut delay = FIRST_RETRY_DELAY;
    let mut tries_after_close = 0;
    loop {
        match store.write_batch(records) {
            Ok(()) => return true,
            Err(e) => {
                if shared.lock().closed {
                    tries_after_close += 1;
                    if tries_after_close >= TRIES_AFTER_CLOSE {
                        tracing::error!(
                            "{e}; giving up at shutdown: {} records were not persisted",
                            records.len()
                        );
                        return false;
                    }
                }
                tracing::error!(
                    "{e}; {} records wait, trying again in {} ms (requests that need them wait too)",
                    records.len(),
                    delay.as_millis()
                );
                std::thread::sleep(delay);
                delay = (delay * 2).min(MAX_RETRY_DELAY);
            }
        }
    }
}
