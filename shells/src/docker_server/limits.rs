//! Named limits of the Docker API server.

use std::time::Duration;

use mesoswarm_core::docker::DEFAULT_MAX_BODY_BYTES;

/// Limits of the Docker API server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// Connections served at once, over all listeners. A connection beyond it is answered
    /// with 503 and closed.
    pub max_connections: usize,
    /// Request bodies longer than this are answered with 413 (and the connection closed
    /// without reading the rest).
    pub max_body_bytes: usize,
    /// Time a client has to send a request's headers, counted from when the server is ready
    /// for them; an idle keep-alive connection is closed after it too.
    pub header_read_timeout: Duration,
    /// Time a client has to send a request's body once its headers arrived (answered with
    /// 408 and closed after it).
    pub body_read_timeout: Duration,
    /// The read buffer of a connection, which bounds the size of a request's headers
    /// (at least 8 KiB).
    pub max_header_bytes: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: 1_024,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(60),
            max_header_bytes: 64 * 1024,
        }
    }
}
