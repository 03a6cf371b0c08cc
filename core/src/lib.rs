//! mesoswarm's core: one deterministic state machine that turns Mesos events, Docker API
//! requests and timer expiries into Mesos calls, Docker answers and records to persist.
//!
//! The core does no I/O and reads no clock: every input carries `now`, randomness comes from
//! the seed in [`config::Config`]. Drive it with [`Manager::handle`], then drain
//! [`Manager::poll_output`] until it returns `None`, and wake it at [`Manager::poll_timeout`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod container;
pub mod docker;
pub mod events;
pub mod hash;
pub mod ids;
pub mod manager;
pub mod names;
pub mod offers;
pub mod resources;
pub mod rng;
pub mod spec;
pub mod task_state;
pub mod taskinfo;
pub mod time;
pub mod timers;

pub use config::Config;
pub use manager::{Input, Manager, Output, Record};
