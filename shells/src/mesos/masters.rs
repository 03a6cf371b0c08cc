//! Master addresses: the static list tried in turn, and the `Location` of a `307`.

use std::fmt;

/// A master's `host:port`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MasterAddr {
    /// Host name or IP literal (an IPv6 literal without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl MasterAddr {
    /// A master address.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        MasterAddr {
            host: host.into(),
            port,
        }
    }

    /// The host as it goes before `:port` (IPv6 literals in brackets).
    pub(crate) fn host_for_authority(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }
}

impl fmt::Display for MasterAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host_for_authority(), self.port)
    }
}

/// The configured masters, tried in turn; the last master that worked (or the leader a
/// redirect led to) is tried first next time.
#[derive(Debug)]
pub(crate) struct MasterList {
    masters: Vec<MasterAddr>,
    next: usize,
    preferred: Option<MasterAddr>,
}

impl MasterList {
    pub(crate) fn new(masters: Vec<MasterAddr>) -> Self {
        MasterList {
            masters,
            next: 0,
            preferred: None,
        }
    }

    /// How many connection failures in a row make a full round (then the link backs off).
    pub(crate) fn round_len(&self) -> usize {
        self.masters.len().max(1)
    }

    /// The next master to try, or `None` if the list is empty.
    pub(crate) fn next_candidate(&mut self) -> Option<MasterAddr> {
        if let Some(p) = self.preferred.take() {
            return Some(p);
        }
        let m = self.masters.get(self.next)?.clone();
        self.next = (self.next + 1) % self.masters.len();
        Some(m)
    }

    /// `addr` works (we subscribed there): try it first after the next disconnection.
    pub(crate) fn prefer(&mut self, addr: MasterAddr) {
        self.preferred = Some(addr);
    }
}

/// The master a `307` points to. The real master answers
/// `Location: //<leader-hostname>:<port><original path>` (protocol-relative); absolute
/// `http://` URLs are accepted too. Without a port, HTTP's 80 applies.
pub(crate) fn parse_location(location: &str) -> Result<MasterAddr, String> {
    let rest = location
        .strip_prefix("//")
        .or_else(|| location.strip_prefix("http://"))
        .ok_or_else(|| format!("unsupported redirect Location {location:?}"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("bad IPv6 host in redirect Location {location:?}"))?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(format!("no host in redirect Location {location:?}"));
    }
    let port = match port {
        None | Some("") => 80,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| format!("bad port in redirect Location {location:?}"))?,
    };
    Ok(MasterAddr::new(host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        let ok = |s: &str| parse_location(s).unwrap().to_string();
        assert_eq!(ok("//m2:5050/master/api/v1/scheduler"), "m2:5050");
        assert_eq!(ok("//10.0.0.2:15050"), "10.0.0.2:15050");
        assert_eq!(ok("http://m3:5051/api/v1/scheduler?x=1"), "m3:5051");
        assert_eq!(ok("//[::1]:5050/master/api/v1/scheduler"), "[::1]:5050");
        assert_eq!(ok("//m4/master/api/v1/scheduler"), "m4:80");
        assert!(parse_location("/master/api/v1/scheduler").is_err());
        assert!(parse_location("https://m:5050/").is_err());
        assert!(parse_location("//:5050/").is_err());
        assert!(parse_location("//m:http/").is_err());
    }

    #[test]
    fn list_rotates_and_prefers_what_worked() {
        let a = MasterAddr::new("a", 1);
        let b = MasterAddr::new("b", 2);
        let mut l = MasterList::new(vec![a.clone(), b.clone()]);
        assert_eq!(l.round_len(), 2);
        assert_eq!(l.next_candidate(), Some(a.clone()));
        assert_eq!(l.next_candidate(), Some(b.clone()));
        assert_eq!(l.next_candidate(), Some(a.clone()));
        let leader = MasterAddr::new("leader", 3);
        l.prefer(leader.clone());
        assert_eq!(l.next_candidate(), Some(leader));
        assert_eq!(l.next_candidate(), Some(b));
        assert_eq!(MasterList::new(vec![]).next_candidate(), None);
    }
}
