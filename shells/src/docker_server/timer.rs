//! hyper's timer (header read timeouts) on any [`Runtime`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::runtime::{BoxFuture, Runtime};

/// [`hyper::rt::Timer`] over [`Runtime::sleep`].
#[derive(Clone, Debug)]
pub struct RuntimeTimer<R>(pub R);

impl<R: Runtime> hyper::rt::Timer for RuntimeTimer<R> {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(RuntimeSleep(Mutex::new(self.0.sleep(duration))))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep(deadline.saturating_duration_since(Instant::now()))
    }
}

/// A runtime sleep made `Sync` for hyper (the mutex is never contended: only `&mut`
/// access through `get_mut`).
struct RuntimeSleep(Mutex<BoxFuture<'static, ()>>);

impl Future for RuntimeSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let sleep = self
            .get_mut()
            .0
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        sleep.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for RuntimeSleep {}
