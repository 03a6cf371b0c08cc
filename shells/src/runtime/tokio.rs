//! [`Runtime`] on tokio, the production runtime.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use hyper_util::rt::TokioIo;

use super::{BoxFuture, BoxIo, Listener, Runtime};

/// The tokio runtime (the current tokio runtime handle is used for spawning).
#[derive(Clone, Debug, Default)]
pub struct TokioRuntime;

/// Runs `main` on the calling thread with a [`TokioRuntime`] whose tasks run on a fresh
/// multi-threaded tokio runtime (one worker per core). Returns once `main` has; tasks still
/// running then are dropped with the runtime.
pub fn block_on<T, F: Future<Output = T>>(main: impl FnOnce(TokioRuntime) -> F) -> io::Result<T> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("mesoswarm")
        .build()?;
    Ok(runtime.block_on(main(TokioRuntime)))
}

struct TcpListener(tokio::net::TcpListener);
struct UnixListener(tokio::net::UnixListener, String);

impl Listener for TcpListener {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<BoxIo>> {
        Box::pin(async move {
            let (s, _) = self.0.accept().await?;
            s.set_nodelay(true)?;
            Ok(Box::new(TokioIo::new(s)) as BoxIo)
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
            Ok(Box::new(TokioIo::new(s)) as BoxIo)
        })
    }
    fn local_addr(&self) -> String {
        self.1.clone()
    }
}

impl Runtime for TokioRuntime {
    fn spawn(&self, fut: BoxFuture<'static, ()>) {
        tokio::spawn(fut);
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(d))
    }

    fn connect_tcp(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<BoxIo>> {
        let addr = format!("{host}:{port}");
        Box::pin(async move {
            let s = tokio::net::TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            Ok(Box::new(TokioIo::new(s)) as BoxIo)
        })
    }

    fn connect_unix(&self, path: &Path) -> BoxFuture<'static, io::Result<BoxIo>> {
        let path = path.to_path_buf();
        Box::pin(async move {
            let s = tokio::net::UnixStream::connect(path).await?;
            Ok(Box::new(TokioIo::new(s)) as BoxIo)
        })
    }

    fn bind_tcp(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            let l = tokio::net::TcpListener::bind(addr).await?;
            Ok(Box::new(TcpListener(l)) as Box<dyn Listener>)
        })
    }

    fn bind_unix(&self, path: &Path) -> BoxFuture<'static, io::Result<Box<dyn Listener>>> {
        let path = path.to_path_buf();
        Box::pin(async move {
            if path.exists() {
                std::fs::remove_file(&path)?;
            }
            let l = tokio::net::UnixListener::bind(&path)?;
            Ok(Box::new(UnixListener(l, path.display().to_string())) as Box<dyn Listener>)
        })
    }
}
