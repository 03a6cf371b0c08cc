//! Pure helpers for ZooKeeper master detection (no I/O).
//!
//! Every Mesos master creates an ephemeral sequential znode
//! `<path>/json.info_<10-digit sequence>` whose data is its `MasterInfo` as
//! JSON (keys sorted, proto field names). The leader is the candidate with
//! the lowest sequence number. A detector lists the children of the group
//! path, picks the leader with [`leader_child`], reads that node and parses
//! it with [`parse_master_info_json`].
//!
//! Legacy candidates labelled `info_` hold a *binary* protobuf `MasterInfo`
//! (Mesos < 0.24). They are ignored here, like other non-candidate children
//! such as the replicated log's `log_replicas`.

use core::fmt;
use core::net::Ipv4Addr;

use serde::Deserialize;
use thiserror::Error;

/// The znode name prefix of a master candidate whose data is JSON.
pub const MASTER_INFO_JSON_PREFIX: &str = "json.info_";

/// The port Mesos masters use when `MasterInfo` gives none.
pub const DEFAULT_MASTER_PORT: u16 = 5050;

/// Returns the child name of the leading master: the `json.info_<seq>` child
/// with the numerically lowest sequence, or `None` if there is none.
///
/// Children with any other name (`log_replicas`, legacy `info_<seq>`, or a
/// `json.info_` suffix that is not all ASCII digits) are ignored. Sequences
/// are compared as numbers of any length, so `json.info_9` precedes
/// `json.info_0000000010`; on equal numbers the first in `children` wins.
pub fn leader_child(children: &[impl AsRef<str>]) -> Option<&str> {
    children
        .iter()
        .map(AsRef::as_ref)
        .filter_map(|name| json_candidate_sequence(name).map(|seq| (seq, name)))
        .min_by(|(a, _), (b, _)| compare_decimal(a, b))
        .map(|(_, name)| name)
}

/// The sequence digits of a `json.info_<digits>` name, with leading zeros
/// removed (`""` for zero).
fn json_candidate_sequence(name: &str) -> Option<&str> {
    let digits = name.strip_prefix(MASTER_INFO_JSON_PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.trim_start_matches('0'))
}

/// Compares two decimal digit strings without leading zeros numerically.
fn compare_decimal(a: &str, b: &str) -> core::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Where the leading master can be reached, parsed from its `MasterInfo`
/// JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterLocation {
    /// `MasterInfo.id`, the master's UUID (absent only in malformed data).
    pub id: Option<String>,
    /// The host to connect to: `address.hostname`, else `address.ip`, else
    /// `hostname`, else the packed `ip` rendered as dotted quad.
    pub host: String,
    /// The port: `address.port`, else `port`, else 5050.
    pub port: u16,
    /// `MasterInfo.hostname`.
    pub hostname: Option<String>,
    /// `MasterInfo.version`, e.g. `"1.11.0"`.
    pub version: Option<String>,
    /// `MasterInfo.pid`, e.g. `"master@127.0.0.1:5050"`.
    pub pid: Option<String>,
    /// Capability names (`"AGENT_UPDATE"`, ...). Entries without a type, such
    /// as the `{}` a 1.11.0 master emits for QUOTA_V2 in v1 JSON, are
    /// skipped.
    pub capabilities: Vec<String>,
}

impl MasterLocation {
    /// `host:port`, with an IPv6 literal host in brackets (`[::1]:5050`).
    pub fn host_port(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for MasterLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') && !self.host.starts_with('[') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Why a master's znode data could not be turned into a [`MasterLocation`].
#[derive(Debug, Error)]
pub enum ZkError {
    /// The data is not JSON of the `MasterInfo` shape (e.g. a known field
    /// has the wrong type, or it is a legacy binary record).
    #[error("invalid MasterInfo JSON: {0}")]
    InvalidJson(#[from] serde_json::Error),
    /// None of `address.hostname`, `address.ip`, `hostname` or a non-zero
    /// `ip` is present.
    #[error("MasterInfo has no usable address")]
    NoAddress,
    /// The port is not a number from 1 to 65535 (the offending JSON value).
    #[error("MasterInfo port {0} is not a valid TCP port")]
    InvalidPort(String),
}

/// A JSON number, or a string holding one (stout accepts both).
#[derive(Deserialize)]
#[serde(untagged)]
enum Num {
    Int(i64),
    Text(String),
}

impl Num {
    fn value(&self) -> Option<i64> {
        match self {
            Num::Int(n) => Some(*n),
            Num::Text(s) => s.trim().parse().ok(),
        }
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Num::Int(n) => write!(f, "{n}"),
            Num::Text(s) => write!(f, "{s:?}"),
        }
    }
}

#[derive(Deserialize)]
struct RawAddress {
    hostname: Option<String>,
    ip: Option<String>,
    port: Option<Num>,
}

#[derive(Deserialize)]
struct RawMasterInfo {
    id: Option<String>,
    ip: Option<Num>,
    port: Option<Num>,
    pid: Option<String>,
    hostname: Option<String>,
    version: Option<String>,
    address: Option<RawAddress>,
    /// Kept loose: entries may be `{}` or carry types we do not know.
    capabilities: Option<Vec<serde_json::Value>>,
}

/// Decodes `MasterInfo.ip`: an IPv4 address packed in network byte order
/// into a `uint32`, so the octets are the integer's little-endian bytes
/// (`16777343` is `127.0.0.1`).
pub fn master_info_ip(ip: u32) -> Ipv4Addr {
    Ipv4Addr::from(ip.to_le_bytes())
}

/// Parses the `MasterInfo` JSON a master stores in its `json.info_` znode.
///
/// Unknown fields are ignored, `null` means absent, numbers may also be
/// numeric strings, and empty strings count as absent when choosing the
/// host (see [`MasterLocation`] for the order of preference).
pub fn parse_master_info_json(bytes: &[u8]) -> Result<MasterLocation, ZkError> {
    let raw: RawMasterInfo = serde_json::from_slice(bytes)?;
    let non_empty = |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);

    let address = raw.address.as_ref();
    let host = address
        .and_then(|a| non_empty(&a.hostname).or_else(|| non_empty(&a.ip)))
        .or_else(|| non_empty(&raw.hostname))
        .or_else(|| {
            raw.ip
                .as_ref()
                .and_then(Num::value)
                .and_then(|ip| u32::try_from(ip).ok())
                .filter(|&ip| ip != 0)
                .map(|ip| master_info_ip(ip).to_string())
        })
        .ok_or(ZkError::NoAddress)?;

    let port = match address.and_then(|a| a.port.as_ref()).or(raw.port.as_ref()) {
        None => DEFAULT_MASTER_PORT,
        Some(p) => p
            .value()
            .and_then(|p| u16::try_from(p).ok())
            .filter(|&p| p != 0)
            .ok_or_else(|| ZkError::InvalidPort(p.to_string()))?,
    };

    Ok(MasterLocation {
        id: raw.id,
        host,
        port,
        hostname: raw.hostname,
        version: raw.version,
        pid: raw.pid,
        capabilities: raw
            .capabilities
            .unwrap_or_default()
            .iter()
            .filter_map(|c| c.get("type")?.as_str().map(str::to_owned))
            .collect(),
    })
}

#[cfg(test)]
mod tests;
