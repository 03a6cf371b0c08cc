//! Errors a Docker client sees: a status code and `{"message": ...}`, as dockerd sends them.

use http::StatusCode;

/// An error answer to a Docker API request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The status dockerd would use for this class of error.
    pub status: StatusCode,
    /// The text the CLI prints after "Error response from daemon: ".
    pub message: String,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400: the request is malformed or names something invalid.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 `No such container: <ref>`.
    pub fn no_such_container(reference: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("No such container: {reference}"),
        )
    }

    /// 409: the request conflicts with the container's state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 500: something went wrong on our side or in Mesos.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// 503: the manager cannot serve this now (for example, a limit is reached).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// 413: the body is larger than the configured limit.
    pub fn payload_too_large(limit_bytes: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than the limit of {limit_bytes} bytes"),
        )
    }
}

impl core::fmt::Display for ApiError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for ApiError {}
