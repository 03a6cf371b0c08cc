//! Bridging a hijacked client connection and a hijacked engine connection (attach, exec
//! start): bytes flow both ways as they come, and a half-close on one side becomes a
//! half-close on the other, because the docker CLI closes its write side when its stdin ends
//! and keeps reading until the engine closes (`reference/docker-api.md` §4.3).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use hyper::rt::{Read, ReadBuf, Write};

/// The buffer of one direction: one engine write of stdcopy frames or a keystroke fits.
pub const SPLICE_BUFFER_BYTES: usize = 16 * 1024;

/// One direction of the bridge.
struct Pump {
    buf: Box<[u8]>,
    /// Bytes `start..end` of `buf` are read and not yet written.
    start: usize,
    end: usize,
    /// The source ended; the sink's write side is still to be shut down.
    eof: bool,
    /// The source ended and the sink's write side is shut down.
    done: bool,
}

impl Pump {
    fn new() -> Pump {
        Pump {
            buf: vec![0; SPLICE_BUFFER_BYTES].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            done: false,
        }
    }

    /// Moves bytes from `from` to `to` until one of them would block; `Ready` once the
    /// source ended and the sink's write side is shut down.
    fn poll_pump<A: Read + Unpin + ?Sized, B: Write + Unpin + ?Sized>(
        &mut self,
        cx: &mut Context<'_>,
        from: &mut A,
        to: &mut B,
    ) -> Poll<io::Result<()>> {
        loop {
            if self.done {
                return Poll::Ready(Ok(()));
            }
            if self.start < self.end {
                let n = ready!(Pin::new(&mut *to).poll_write(cx, &self.buf[self.start..self.end]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                self.start += n;
                if self.start == self.end {
                    ready!(Pin::new(&mut *to).poll_flush(cx))?;
                }
                continue;
            }
            if self.eof {
                ready!(Pin::new(&mut *to).poll_shutdown(cx))?;
                self.done = true;
                continue;
            }
            let mut rb = ReadBuf::new(&mut self.buf);
            ready!(Pin::new(&mut *from).poll_read(cx, rb.unfilled()))?;
            let n = rb.filled().len();
            self.start = 0;
            self.end = n;
            self.eof = n == 0;
        }
    }
}

/// How a bridge ended.
#[derive(Debug)]
pub enum SpliceEnd {
    /// The engine closed its side (the container exited, or the exec ended); everything it
    /// sent reached the client, whose write side is then shut down.
    EngineClosed,
    /// Reading from or writing to the engine failed.
    EngineFailed(io::Error),
    /// The client went away (a write to it failed, or it closed before the engine).
    ClientGone,
}

/// Bridges `client` and `engine` until the engine side ends (the stream's natural end) or
/// either side fails.
pub fn splice<C, E>(client: C, engine: E) -> Splice<C, E>
where
    C: Read + Write + Unpin,
    E: Read + Write + Unpin,
{
    Splice {
        client,
        engine,
        up: Pump::new(),
        down: Pump::new(),
    }
}

/// The future of [`splice`]. It gives the client connection back, for a last error frame.
pub struct Splice<C, E> {
    client: C,
    engine: E,
    /// client → engine (stdin).
    up: Pump,
    /// engine → client (output).
    down: Pump,
}

impl<C, E> Splice<C, E> {
    /// The client side, for writing a final error frame after [`SpliceEnd::EngineFailed`].
    pub fn into_client(self) -> C {
        self.client
    }
}

impl<C, E> Future for Splice<C, E>
where
    C: Read + Write + Unpin,
    E: Read + Write + Unpin,
{
    type Output = SpliceEnd;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SpliceEnd> {
        let this = self.get_mut();
        // stdin: a failure here means the client is gone or the engine is, which the output
        // direction tells apart below; a finished stdin just half-closes the engine.
        if !this.up.done {
            if let Poll::Ready(Err(e)) = this.up.poll_pump(cx, &mut this.client, &mut this.engine) {
                tracing::debug!("splice: stdin toward the engine ended: {e}");
                this.up.done = true;
            }
        }
        // Output: decides when the bridge ends. Tell a failing engine from a failing client
        // by which side the error came from: poll the engine read first.
        match this
            .down
            .poll_pump(cx, &mut this.engine, &mut WriteSide(&mut this.client))
        {
            Poll::Ready(Ok(())) => Poll::Ready(SpliceEnd::EngineClosed),
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Other && is_client_error(&e) => {
                Poll::Ready(SpliceEnd::ClientGone)
            }
            Poll::Ready(Err(e)) => Poll::Ready(SpliceEnd::EngineFailed(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Marks errors of the client side so [`Splice`] can tell them from the engine's.
struct WriteSide<'a, C>(&'a mut C);

#[derive(Debug)]
struct ClientError(io::Error);

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "client: {}", self.0)
    }
}

impl std::error::Error for ClientError {}

fn client_error(e: io::Error) -> io::Error {
    io::Error::other(ClientError(e))
}

fn is_client_error(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<ClientError>())
}

impl<C: Write + Unpin> Write for WriteSide<'_, C> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0)
            .poll_write(cx, buf)
            .map_err(client_error)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx).map_err(client_error)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0)
            .poll_shutdown(cx)
            .map_err(client_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper_util::rt::TokioIo;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn stdin_half_close_reaches_the_engine_and_the_output_still_flows_back() {
        let (client_near, mut client_far) = tokio::io::duplex(64);
        let (engine_near, mut engine_far) = tokio::io::duplex(64);
        let bridge = tokio::spawn(splice(TokioIo::new(client_near), TokioIo::new(engine_near)));

        // The client sends its stdin and closes its write side, as the docker CLI does at EOF.
        client_far.write_all(b"hello stdin").await.unwrap();
        client_far.shutdown().await.unwrap();
        let mut stdin = Vec::new();
        engine_far.read_to_end(&mut stdin).await.unwrap();
        assert_eq!(stdin, b"hello stdin", "stdin arrives, then EOF");

        // The engine answers after the half-close (more than one buffer's worth), then ends.
        let output = vec![b'x'; 3 * SPLICE_BUFFER_BYTES + 5];
        let writer = tokio::spawn({
            let output = output.clone();
            async move {
                engine_far.write_all(&output).await.unwrap();
                engine_far.shutdown().await.unwrap();
            }
        });
        let mut seen = Vec::new();
        client_far.read_to_end(&mut seen).await.unwrap();
        writer.await.unwrap();
        assert_eq!(
            seen.len(),
            output.len(),
            "every output byte reaches the client"
        );
        assert!(matches!(bridge.await.unwrap(), SpliceEnd::EngineClosed));
    }

    #[tokio::test]
    async fn a_client_that_leaves_ends_the_bridge() {
        let (client_near, client_far) = tokio::io::duplex(64);
        let (engine_near, mut engine_far) = tokio::io::duplex(64);
        let bridge = tokio::spawn(splice(TokioIo::new(client_near), TokioIo::new(engine_near)));
        drop(client_far);
        // The engine keeps talking into a bridge whose client is gone.
        let _ = engine_far.write_all(&[b'y'; 1024]).await;
        let end = tokio::time::timeout(std::time::Duration::from_secs(10), bridge)
            .await
            .expect("the bridge ends")
            .unwrap();
        assert!(matches!(end, SpliceEnd::ClientGone), "{end:?}");
    }
}
