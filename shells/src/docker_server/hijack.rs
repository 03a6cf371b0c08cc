//! Writing on a hijacked (upgraded) connection, without tying the server to a runtime.

use std::future::poll_fn;
use std::pin::Pin;

use hyper::rt::Write;
use hyper::upgrade::Upgraded;

/// Writes `message` (plus a newline) as the container's stderr — one stdcopy frame, or raw
/// text when the container has a TTY — then closes the stream.
pub async fn write_and_close(mut io: Upgraded, message: &str, tty: bool) {
    let text = format!("{message}\n");
    let mut bytes = Vec::with_capacity(text.len() + 8);
    if !tty {
        // stdcopy header: stream 2 (stderr), three zero bytes, big-endian length.
        bytes.extend_from_slice(&[2, 0, 0, 0]);
        bytes.extend_from_slice(&(text.len() as u32).to_be_bytes());
    }
    bytes.extend_from_slice(text.as_bytes());
    let mut written = 0;
    while written < bytes.len() {
        match poll_fn(|cx| Pin::new(&mut io).poll_write(cx, &bytes[written..])).await {
            Ok(0) | Err(_) => return,
            Ok(n) => written += n,
        }
    }
    let _ = poll_fn(|cx| Pin::new(&mut io).poll_flush(cx)).await;
    let _ = poll_fn(|cx| Pin::new(&mut io).poll_shutdown(cx)).await;
}
