//! The seam between the shell's logic and an async runtime, in the spirit of quinn's
//! runtime module: everything that differs between tokio and smol — spawning, timers,
//! sockets — sits behind [`Runtime`], so the HTTP wiring, the Mesos client, the Docker API
//! server and the proxy pumps are written once. [`tokio`] and [`smol`] implement it; each also
//! has a `block_on` that starts a multi-threaded runtime for `main`.

pub mod smol;
pub mod tokio;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

/// A boxed future, `Send`, for the runtime trait's methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A byte stream hyper can drive (a TCP or unix socket), with a write half that can be
/// shut down on its own (attach and exec pass half-close through).
pub trait Io: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static {}

impl<T: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static> Io for T {}

/// A boxed [`Io`].
pub type BoxIo = Box<dyn Io>;

/// A listening socket.
pub trait Listener: Send + 'static {
    /// The next connection.
    fn accept(&mut self) -> BoxFuture<'_, io::Result<BoxIo>>;
    /// Where it listens, for logs (`127.0.0.1:2375`, `/run/mesoswarm.sock`).
    fn local_addr(&self) -> String;
}

/// What the shell needs from an async runtime.
pub trait Runtime: Clone + Send + Sync + 'static {
    /// Runs a task in the background.
    fn spawn(&self, fut: BoxFuture<'static, ()>);
    /// Completes after `d`.
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()>;
    /// Opens a TCP connection to `host:port` (`host` may be a name).
    fn connect_tcp(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<BoxIo>>;
    /// Opens a connection to a unix socket.
    fn connect_unix(&self, path: &Path) -> BoxFuture<'static, io::Result<BoxIo>>;
    /// Listens on a TCP address.
    fn bind_tcp(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Listener>>>;
    /// Listens on a unix socket path (an existing socket file is replaced).
    fn bind_unix(&self, path: &Path) -> BoxFuture<'static, io::Result<Box<dyn Listener>>>;
}

/// Runs `fut` with a deadline: `None` if it did not finish within `d`.
pub async fn timeout<R: Runtime, T>(
    rt: &R,
    d: Duration,
    fut: impl Future<Output = T>,
) -> Option<T> {
    use futures_util::future::{select, Either};
    let fut = std::pin::pin!(fut);
    match select(fut, rt.sleep(d)).await {
        Either::Left((v, _)) => Some(v),
        Either::Right(_) => None,
    }
}
