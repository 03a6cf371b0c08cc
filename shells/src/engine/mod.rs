//! Docker engines on the agents: where they are ([`addr`]), and a pooled HTTP client for them
//! ([`client`]), used by the Docker API proxy and by `mesoswarm dev --engine`'s agents.

pub mod addr;
pub mod client;
pub mod error;
pub mod tls;

pub use addr::{EngineAddr, EngineResolver, DEFAULT_DOCKER_PORT, DEFAULT_DOCKER_TLS_PORT};
pub use client::{empty_body, full_body, EngineBody, EngineClient, EngineLimits};
pub use error::EngineError;
