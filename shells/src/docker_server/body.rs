//! The server's response body: a whole body, or a stream of chunks (wait, events).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use http_body::{Body, Frame, SizeHint};

/// A response body.
pub enum ServerBody {
    /// All of it at once (sent with `Content-Length`).
    Full(Option<Bytes>),
    /// Chunks as they come (sent chunked, each chunk flushed); the stream's end ends the
    /// body. Dropping it (the connection closed) drops whatever the stream holds.
    Stream(BoxStream<'static, Bytes>),
    /// A relayed stream that can fail: an error aborts the response (the client sees a
    /// truncated chunked body, never a complete-looking one).
    Fallible(BoxStream<'static, Result<Bytes, std::io::Error>>),
}

impl ServerBody {
    /// A whole body.
    pub fn full(bytes: Bytes) -> ServerBody {
        ServerBody::Full((!bytes.is_empty()).then_some(bytes))
    }
}

impl Body for ServerBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            ServerBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            ServerBody::Fallible(stream) => loop {
                match stream.poll_next_unpin(cx) {
                    Poll::Ready(Some(Ok(chunk))) if chunk.is_empty() => continue,
                    Poll::Ready(Some(Ok(chunk))) => {
                        return Poll::Ready(Some(Ok(Frame::data(chunk))))
                    }
                    Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                    Poll::Ready(None) => return Poll::Ready(None),
                    Poll::Pending => return Poll::Pending,
                }
            },
            ServerBody::Stream(stream) => loop {
                match stream.poll_next_unpin(cx) {
                    // An empty chunk would read as the end of a chunked body: skip it.
                    Poll::Ready(Some(chunk)) if chunk.is_empty() => continue,
                    Poll::Ready(Some(chunk)) => return Poll::Ready(Some(Ok(Frame::data(chunk)))),
                    Poll::Ready(None) => return Poll::Ready(None),
                    Poll::Pending => return Poll::Pending,
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ServerBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ServerBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            ServerBody::Full(None) => SizeHint::with_exact(0),
            ServerBody::Stream(_) | ServerBody::Fallible(_) => SizeHint::default(),
        }
    }
}
