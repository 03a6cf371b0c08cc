//! Wire-level building blocks for mesoswarm's Mesos v1 scheduler client.
//!
//! * [`v1`] and [`scheduler`]: prost types for the Mesos 1.11 v1 API
//!   (`mesos.v1` and `mesos.v1.scheduler`), generated at build time from
//!   mesoswarm's own `.proto` transcriptions in `proto/proto/`.
//! * [`FILE_DESCRIPTOR_SET`]: the encoded descriptors of those files.
//! * [`recordio`]: the `<decimal length>\n<payload>` framing of the
//!   SUBSCRIBE event stream.
//! * [`zk`]: pure helpers for ZooKeeper master detection.
//!
//! # proto2 `required` fields
//!
//! prost encodes a `required` scalar field unconditionally, even when it
//! holds its default value (`""`, `0`, `false`), and a `required` message
//! field is a plain (non-`Option`) struct that is always encoded as well. So
//! a `FrameworkInfo { user: String::new(), .. }` still carries `user` on the
//! wire, as the master's `IsInitialized` check demands. A required scalar
//! with a `[default=...]` starts at that default (`MasterInfo::default().port`
//! is 5050). prost does not check required fields when *decoding*: a missing
//! one decodes as its default.
//!
//! Fields marked `deprecated` in the proto (e.g. `Resource.role`,
//! `FrameworkInfo.role`) carry `#[deprecated]`, so naming them needs
//! `#[allow(deprecated)]`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod recordio;
pub mod zk;

/// Types of protobuf package `mesos.v1` (`mesos/v1/mesos.proto`).
///
/// Names follow prost's conventions: `FrameworkID` becomes [`v1::FrameworkId`],
/// nested types live in snake_case modules (e.g.
/// [`v1::container_info::DockerInfo`]), enum fields are stored as `i32` with
/// typed getters/setters.
#[allow(clippy::all, missing_docs)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/mesos.v1.rs"));

    /// Types of protobuf package `mesos.v1.scheduler`
    /// (`mesos/v1/scheduler/scheduler.proto`); also re-exported as
    /// [`crate::scheduler`].
    #[allow(clippy::all, missing_docs)]
    pub mod scheduler {
        include!(concat!(env!("OUT_DIR"), "/mesos.v1.scheduler.rs"));
    }
}

pub use v1::scheduler;

/// The encoded `google.protobuf.FileDescriptorSet` (with source info) of
/// `mesos/v1/mesos.proto` and `mesos/v1/scheduler/scheduler.proto`, as
/// compiled by the build script.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/mesos_v1_descriptor_set.bin"));
