//! The mesoswarm daemon's shell: sockets, timers, the Mesos client, the Docker API server
//! and the store around the sans-IO core (`mesoswarm-core`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod runtime;
