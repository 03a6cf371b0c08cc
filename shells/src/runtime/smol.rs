//! [`Runtime`] on smol: sockets and timers from async-io (smol's reactor), tasks on an
//! async-executor [`Executor`] or on any executor a spawn function hands them to.
//!
//! hyper's IO traits come from smol-hyper's `FuturesIo`, over async-net's streams; their
//! `poll_close` shuts down only the write half, which is what `poll_shutdown` must do for
//! attach and exec to pass a half-close through.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use smol::net::unix::{UnixListener as SmolUnixListener, UnixStream};
use smol::net::{TcpListener as SmolTcpListener, TcpStream};
use smol::{Executor, Timer};
use smol_hyper::rt::FuturesIo;

use super::{BoxFuture, BoxIo, Listener, Runtime};

type Spawner = dyn Fn(BoxFuture<'static, ()>) + Send + Sync;

/// The smol runtime: where its tasks go is chosen at construction.
#[derive(Clone)]
pub struct SmolRuntime {
    spawner: Arc<Spawner>,
}

impl std::fmt::Debug for SmolRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmolRuntime")
    }
}

impl SmolRuntime {
    /// Tasks run on `executor` (whoever drives it: see [`block_on`]).
    pub fn new(executor: Arc<Executor<'static>>) -> Self {
        Self::with_spawner(move |fut| executor.spawn(fut).detach())
    }

    /// Tasks go wherever `spawn` puts them. Sockets and timers need no particular executor
    /// (async-io runs its own reactor thread when no `block_on` drives it), so any executor
    /// that runs `Send` futures will do: smol's global one, or async-std's.
    pub fn with_spawner(spawn: impl Fn(BoxFuture<'static, ()>) + Send + Sync + 'static) -> Self {
        SmolRuntime {
            spawner: Arc::new(spawn),
        }
    }
}

/// Runs `main` on the calling thread with a [`SmolRuntime`] whose tasks run on a fresh
/// executor driven by one worker thread per core, as tokio's multi-threaded runtime does.
/// Returns once `main` has; tasks still running then are dropped with the executor.
pub fn block_on<T, F: Future<Output = T>>(main: impl FnOnce(SmolRuntime) -> F) -> io::Result<T> {
    let executor = Arc::new(Executor::new());
    // Closing this channel tells the workers to stop.
    let (stop_tx, stop_rx) = async_channel::bounded::<()>(1);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut threads = Vec::with_capacity(workers);
    for i in 0..workers {
        let (executor, stop) = (executor.clone(), stop_rx.clone());
        let thread = std::thread::Builder::new()
            .name(format!("mesoswarm-smol-{i}"))
            .spawn(move || {
                // A task that panics unwinds out of `run`: keep the worker (tokio does the
                // same for a panicking task), and stop only when asked.
                while catch_unwind(AssertUnwindSafe(|| {
                    smol::block_on(executor.run(stop.recv()))
                }))
                .is_err()
                {}
            });
        match thread {
            Ok(t) => threads.push(t),
            Err(e) => {
                drop(stop_tx);
                return Err(e);
            }
        }
    }
    let result = smol::block_on(main(SmolRuntime::new(executor)));
    drop(stop_tx);
    for t in threads {
        let _ = t.join();
    }
    Ok(result)
}

struct TcpListener(SmolTcpListener);
struct UnixListener(SmolUnixListener, String);

impl Listener for TcpListener {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<BoxIo>> {
        Box::pin(async move {
            let (s, _) = self.0.accept().await?;
            s.set_nodelay(true)?;
            Ok(Box::new(FuturesIo::new(s)) as BoxIo)
        })
    }
    fn local_addr(&self) -> String {
        self.0
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default()
    }
}

impl Listener for UnixListener {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<BoxIo>> {
        Box::pin(async move {
            let (s, _) = self.0.accept().await?;
            Ok(Box::new(FuturesIo::new(s)) as BoxIo)
        })
    }
    fn local_addr(&self) -> String {
        self.1.clone()
    }
}

impl Runtime for SmolRuntime {
    fn spawn(&self, fut: BoxFuture<'static, ()>) {
        (self.spawner)(fut)
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            Timer::after(d).await;
        })
    }

    fn connect_tcp(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<BoxIo>> {
        let addr = (host.to_string(), port);
        Box::pin(async move {
            let s = TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            Ok(Box::new(FuturesIo::new(s)) as BoxIo)
        })
    }

    fn connect_unix(&self, path: &Path) -> BoxFuture<'static, io::Result<BoxIo>> {
        let path = path.to_path_buf();
        Box::pin(async move {
            let s = UnixStream::connect(path).await?;
            Ok(Box::new(FuturesIo::new(s)) as BoxIo)
        })
    }

    fn bind_tcp(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            let l = SmolTcpListener::bind(addr).await?;
            Ok(Box::new(TcpListener(l)) as Box<dyn Listener>)
        })
    }

    fn bind_unix(&self, path: &Path) -> BoxFuture<'static, io::Result<Box<dyn Listener>>> {
        let path = path.to_path_buf();
        Box::pin(async move {
            if path.exists() {
                std::fs::remove_file(&path)?;
            }
            let l = SmolUnixListener::bind(&path)?;
            Ok(Box::new(UnixListener(l, path.display().to_string())) as Box<dyn Listener>)
        })
    }
}
