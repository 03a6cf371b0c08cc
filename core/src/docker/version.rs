//! The Docker API versions mesoswarm speaks, and the headers every answer carries.
//!
//! mesoswarm claims API [`API_VERSION`] (1.44, the floor of every current client, docker CLI
//! 29.0 included) and accepts requests down to [`MIN_API_VERSION`] (1.24, moby's hard floor and
//! docker-py's minimum). dockerd's version middleware stamps every response with `Server`,
//! `Api-Version` and `Ostype`; [`stamp_headers`] does the same.

use core::fmt;

use bollard_stubs::models::{SystemVersion, SystemVersionComponents, SystemVersionPlatform};
use http::header::{HeaderMap, HeaderName, HeaderValue, SERVER};

use crate::docker::error::ApiError;

/// The highest API version mesoswarm speaks (the `Api-Version` header and `ApiVersion`).
pub const API_VERSION: &str = "1.44";

/// The lowest API version mesoswarm accepts (`MinAPIVersion`).
pub const MIN_API_VERSION: &str = "1.24";

/// The engine version reported as `Version` / `ServerVersion`, e.g. `0.1.0-mesoswarm`.
pub const ENGINE_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "-mesoswarm");

/// The `Server` header: `Docker/<version> (linux)`. The Go client parses the OS out of it
/// with `^Docker/.+\s\((.+)\)$` (for `docker stats`).
pub const SERVER_HEADER: &str = concat!("Docker/", env!("CARGO_PKG_VERSION"), "-mesoswarm (linux)");

/// The operating system every answer reports (`Ostype`, `Os`, `OSType`).
pub const OS_TYPE: &str = "linux";

/// The machine architecture as `uname -m` names it (`docker info`'s `Architecture`):
/// the architecture mesoswarm was compiled for.
pub const ARCH: &str = std::env::consts::ARCH;

/// The architecture as Go names it (`docker version`'s `Arch`: `amd64`, `arm64`, …).
pub const GO_ARCH: &str = match ARCH.as_bytes() {
    b"x86_64" => "amd64",
    b"aarch64" => "arm64",
    b"x86" => "386",
    b"riscv64" => "riscv64",
    b"s390x" => "s390x",
    b"arm" => "arm",
    _ => ARCH,
};

/// A Docker API version `major.minor`, ordered numerically (`1.9 < 1.24 < 1.44`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion(pub u32, pub u32);

impl ApiVersion {
    /// [`API_VERSION`] as a value: what unversioned requests are served as.
    pub const MAX: ApiVersion = ApiVersion(1, 44);
    /// [`MIN_API_VERSION`] as a value.
    pub const MIN: ApiVersion = ApiVersion(1, 24);

    /// The major number (1).
    pub fn major(self) -> u32 {
        self.0
    }

    /// The minor number (44).
    pub fn minor(self) -> u32 {
        self.1
    }

    /// Parses the version of a `/v{version}/...` prefix and checks it against the range
    /// mesoswarm serves, as moby's version middleware does.
    ///
    /// `text` is what matched `[0-9.]+`. Like moby, it is compared component by component
    /// (`1.44.0` equals `1.44`, `1.44.1` is newer, an empty component counts as 0), and the
    /// errors are dockerd's 400 texts: `client version X is too new. Maximum supported API
    /// version is 1.44` and `client version X is too old. Minimum supported API version is
    /// 1.24, please upgrade your client to a newer version`.
    pub fn parse_in_range(text: &str) -> Result<ApiVersion, ApiError> {
        let parts: Vec<u64> = text
            .split('.')
            .map(|p| {
                p.parse::<u64>()
                    .unwrap_or(if p.is_empty() { 0 } else { u64::MAX })
            })
            .collect();
        if compare_parts(&parts, &[1, 44]) == core::cmp::Ordering::Greater {
            return Err(ApiError::bad_request(format!(
                "client version {text} is too new. Maximum supported API version is {API_VERSION}"
            )));
        }
        if compare_parts(&parts, &[1, 24]) == core::cmp::Ordering::Less {
            return Err(ApiError::bad_request(format!(
                "client version {text} is too old. Minimum supported API version is \
                 {MIN_API_VERSION}, please upgrade your client to a newer version"
            )));
        }
        let major = parts.first().copied().unwrap_or(0);
        let minor = parts.get(1).copied().unwrap_or(0);
        Ok(ApiVersion(
            u32::try_from(major).unwrap_or(u32::MAX),
            u32::try_from(minor).unwrap_or(u32::MAX),
        ))
    }
}

/// Compares dotted version components, a missing component counting as 0.
fn compare_parts(a: &[u64], b: &[u64]) -> core::cmp::Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        match x.cmp(&y) {
            core::cmp::Ordering::Equal => continue,
            other => return other,
        }
    }
    core::cmp::Ordering::Equal
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// Adds the headers dockerd puts on every answer: `Api-Version`, `Server`, `Ostype` and
/// `Docker-Experimental: false`. Existing values of these headers are replaced.
pub fn stamp_headers(headers: &mut HeaderMap) {
    headers.insert(
        HeaderName::from_static("api-version"),
        HeaderValue::from_static(API_VERSION),
    );
    headers.insert(SERVER, HeaderValue::from_static(SERVER_HEADER));
    headers.insert(
        HeaderName::from_static("ostype"),
        HeaderValue::from_static(OS_TYPE),
    );
    headers.insert(
        HeaderName::from_static("docker-experimental"),
        HeaderValue::from_static("false"),
    );
}

/// [`stamp_headers`] for a response still being built.
pub fn stamp(mut builder: http::response::Builder) -> http::response::Builder {
    if let Some(headers) = builder.headers_mut() {
        stamp_headers(headers);
    }
    builder
}

/// The body of `GET /version`: `ApiVersion`, `MinAPIVersion`, `Version`, `Os`, `Arch` and one
/// `Engine` component whose details `docker version` prints.
pub fn system_version() -> SystemVersion {
    let details = [
        ("ApiVersion", API_VERSION),
        ("MinAPIVersion", MIN_API_VERSION),
        ("GitCommit", GIT_COMMIT),
        ("GoVersion", GO_VERSION),
        ("Os", OS_TYPE),
        ("Arch", GO_ARCH),
        ("KernelVersion", ""),
        ("Experimental", "false"),
        ("BuildTime", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    SystemVersion {
        platform: Some(SystemVersionPlatform {
            name: "mesoswarm".to_string(),
        }),
        components: Some(vec![SystemVersionComponents {
            name: "Engine".to_string(),
            version: ENGINE_VERSION.to_string(),
            details: Some(details),
        }]),
        version: Some(ENGINE_VERSION.to_string()),
        api_version: Some(API_VERSION.to_string()),
        min_api_version: Some(MIN_API_VERSION.to_string()),
        git_commit: Some(GIT_COMMIT.to_string()),
        go_version: Some(GO_VERSION.to_string()),
        os: Some(OS_TYPE.to_string()),
        arch: Some(GO_ARCH.to_string()),
        kernel_version: Some(String::new()),
        experimental: Some(false),
        build_time: Some(String::new()),
    }
}

/// `GitCommit`: taken from `MESOSWARM_GIT_COMMIT` at compile time when the build sets it.
const GIT_COMMIT: &str = match option_env!("MESOSWARM_GIT_COMMIT") {
    Some(c) => c,
    None => "unknown",
};

/// `GoVersion`: mesoswarm is not written in Go; `docker version` prints this line anyway.
const GO_VERSION: &str = "n/a (mesoswarm is written in Rust)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_numerically() {
        assert!(ApiVersion(1, 9) < ApiVersion(1, 24));
        assert!(ApiVersion(1, 44) > ApiVersion(1, 24));
        assert_eq!(ApiVersion::MAX.to_string(), API_VERSION);
        assert_eq!(ApiVersion::MIN.to_string(), MIN_API_VERSION);
    }

    #[test]
    fn range_check_uses_dockerd_texts() {
        assert_eq!(ApiVersion::parse_in_range("1.44"), Ok(ApiVersion(1, 44)));
        assert_eq!(ApiVersion::parse_in_range("1.24"), Ok(ApiVersion(1, 24)));
        assert_eq!(ApiVersion::parse_in_range("1.44.0"), Ok(ApiVersion(1, 44)));
        let e = ApiVersion::parse_in_range("1.50").unwrap_err();
        assert_eq!(e.status, http::StatusCode::BAD_REQUEST);
        assert_eq!(
            e.message,
            "client version 1.50 is too new. Maximum supported API version is 1.44"
        );
        let e = ApiVersion::parse_in_range("1.12").unwrap_err();
        assert_eq!(
            e.message,
            "client version 1.12 is too old. Minimum supported API version is 1.24, please \
             upgrade your client to a newer version"
        );
        assert!(ApiVersion::parse_in_range("1.44.1").is_err());
        assert!(ApiVersion::parse_in_range("2").is_err());
        assert!(ApiVersion::parse_in_range("99999999999999999999999.1").is_err());
        assert!(ApiVersion::parse_in_range(".").is_err());
    }

    #[test]
    fn headers_name_the_os_for_the_go_client() {
        let mut h = HeaderMap::new();
        stamp_headers(&mut h);
        assert_eq!(h["api-version"], "1.44");
        assert_eq!(h["ostype"], "linux");
        assert_eq!(h["docker-experimental"], "false");
        let server = h["server"].to_str().unwrap();
        assert!(
            server.starts_with("Docker/") && server.ends_with(" (linux)"),
            "{server}"
        );
        assert!(ENGINE_VERSION.ends_with("-mesoswarm"));
    }
}
