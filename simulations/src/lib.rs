//! mesoswarm's simulator: a deterministic simulated Mesos cluster, fault injection and
//! invariant checking, all in one thread on virtual time.
//!
//! * [`SimCluster`]: a Mesos 1.11 master with agents as one sans-IO state machine. It is
//!   what the simulator drives, and what `mesoswarm dev` serves over real HTTP.
//! * [`run`]: one seeded simulation of the manager against the cluster, with faults, a
//!   Docker workload and every invariant checked after every step; [`sweep`] runs many.
//! * [`bench`]: the core timed against the published figures of `anchors.md` §1.
//!
//! Nothing here does I/O, reads a clock or uses the OS random source: the same seed gives
//! the same run, byte for byte.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bench;
pub mod check;
pub mod cluster;
pub mod config;
pub mod core;
pub mod faults;
pub mod ids;
pub mod network;
pub mod resources;
pub mod run;
pub mod store;
pub mod timers;
pub mod trace;
pub mod workload;
pub mod world;

pub use cluster::{ClusterOutput, ClusterStats, HttpError, SimCluster, TaskChange, TaskTruth};
pub use config::{AgentResources, ClusterConfig, ExecutorMode, Latency, TaskLatency};
pub use core::{CoreKind, SimCore};
pub use faults::FaultProfile;
pub use run::{run, sweep, RunConfig, RunSummary, SweepReport};
