//! What can go wrong talking to an agent's Docker engine, worded for the Docker user.

use std::fmt;
use std::time::Duration;

use crate::engine::addr::EngineAddr;

/// A failure to reach or talk to an engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineError {
    /// The connection could not be made.
    Connect {
        /// The engine.
        addr: EngineAddr,
        /// The operating system's reason.
        error: String,
    },
    /// Connecting, or the answer's head, took too long.
    Timeout {
        /// The engine.
        addr: EngineAddr,
        /// `connection` or `answer`.
        what: &'static str,
        /// The limit.
        after: Duration,
    },
    /// The HTTP exchange failed (the engine closed the connection, sent garbage, …).
    Http {
        /// The engine.
        addr: EngineAddr,
        /// hyper's reason.
        error: String,
    },
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Connect { addr, error } => write!(
                f,
                "cannot reach the Docker engine of the container's agent at {addr}: {error}"
            ),
            EngineError::Timeout { addr, what, after } => write!(
                f,
                "the Docker engine of the container's agent at {addr} did not answer: the {what} \
                 timed out after {} ms",
                after.as_millis()
            ),
            EngineError::Http { addr, error } => write!(
                f,
                "the Docker engine of the container's agent at {addr} failed: {error}"
            ),
        }
    }
}

impl std::error::Error for EngineError {}
