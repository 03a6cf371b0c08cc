//! The mesoswarm daemon's shell: sockets, timers, the Mesos client, the Docker API server
//! and the store around the sans-IO core (`mesoswarm-core`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
pub mod clock;
pub mod daemon;
pub mod dev;
pub mod docker_server;
pub mod driver;
pub mod engine;
pub mod mesos;
pub mod options;
pub mod runtime;
pub mod store;
