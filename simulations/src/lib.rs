//! A deterministic simulated Mesos cluster (being written).
#![forbid(unsafe_code)]
