//! The pure Docker Engine API layer: route an `http::Request` to a typed request, parse its
//! body and query, and render typed answers as dockerd would. No sockets here: the shells
//! move the bytes.

pub mod error;
pub mod filter_args;
pub mod filters;
pub mod humanize;
pub mod parse;
pub mod pattern;
pub mod ports;
pub mod proxy_route;
pub mod query;
pub mod render;
pub mod render_container;
pub mod render_event;
pub mod render_info;
pub mod request;
pub mod response;
pub mod route;
pub mod signal;
pub mod version;

pub use error::ApiError;
pub use request::{DockerRequest, RequestId};
pub use response::DockerResponse;
pub use route::{route, route_with_limits, RouteLimits, Routed, DEFAULT_MAX_BODY_BYTES};
pub use version::ApiVersion;
