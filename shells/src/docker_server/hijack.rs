//! Writing on a hijacked (upgraded) connection, without tying the server to a runtime.

use std::future::poll_fn;
use std::pin::Pin;

use hyper::rt::Write;
use hyper::upgrade::Upgraded;

/// stdcopy stream 3: an error of the daemon, which the docker CLI reports as one.
pub const SYSTEMERR: u8 = 3;

/// Writes `message` (plus a newline) as one stdcopy frame on `stream`, or as raw text when
/// the container has a TTY (no framing there), then closes the stream.
pub async fn write_frame_and_close(mut io: Upgraded, message: &str, tty: bool, stream: u8) {
    let text = format!("{message}\n");
    let mut bytes = Vec::with_capacity(text.len() + 8);
    if !tty {
        // stdcopy header: the stream, three zero bytes, big-endian length.
        bytes.extend_from_slice(&[stream, 0, 0, 0]);
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
