//! Identifiers the manager makes up: container ids, task ids and generated names.

use core::fmt;

/// A Docker container id: 32 random bytes shown as 64 lowercase hex digits.
///
/// Clients slice `Id[:12]` (docker stats), so ids are always the full 64 digits.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerId(pub [u8; 32]);

impl ContainerId {
    /// The 64-digit lowercase hex form.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(HEX[(b >> 4) as usize] as char);
            s.push(HEX[(b & 0xf) as usize] as char);
        }
        s
    }

    /// Parses a full 64-digit lowercase hex id.
    pub fn parse_hex(s: &str) -> Option<ContainerId> {
        let bytes = s.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            out[i] = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
        }
        Some(ContainerId(out))
    }

    /// The 12-digit short form `docker ps` shows.
    pub fn short(&self) -> String {
        let mut s = self.to_hex();
        s.truncate(12);
        s
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Serialized as its 64-digit lowercase hex form (the durable store keeps it so).
impl serde::Serialize for ContainerId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

/// Read from its 64-digit lowercase hex form; anything else is an error.
impl<'de> serde::Deserialize<'de> for ContainerId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        ContainerId::parse_hex(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid container id {text:?}: expected 64 lowercase hex digits"
            ))
        })
    }
}

impl fmt::Debug for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContainerId({})", self.short())
    }
}

/// Docker's rule for container names: `^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$` (the leading
/// slash already stripped by the caller). Returns the reason when the name is invalid.
pub fn validate_container_name(name: &str) -> Result<(), String> {
    let bytes = name.as_bytes();
    let ok = bytes.len() >= 2
        && bytes[0].is_ascii_alphanumeric()
        && bytes[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let id = ContainerId([0xab; 32]);
        let hex = id.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(ContainerId::parse_hex(&hex), Some(id));
        assert_eq!(id.short(), "abababababab");
        assert_eq!(format!("{id}"), hex);
        assert_eq!(ContainerId::parse_hex("ABAB"), None);
    }

    #[test]
    fn serde_uses_the_hex_form() {
        let id = ContainerId([0x0f; 32]);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{}\"", "0f".repeat(32)));
        assert_eq!(serde_json::from_str::<ContainerId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<ContainerId>("\"abc\"").is_err());
        assert!(serde_json::from_str::<ContainerId>("7").is_err());
    }

    #[test]
    fn names_follow_docker_rules() {
        assert!(validate_container_name("web").is_ok());
        assert!(validate_container_name("a_b.c-d9").is_ok());
        assert!(validate_container_name("w").is_err());
        assert!(validate_container_name("-web").is_err());
        assert!(validate_container_name("we b").is_err());
        assert!(validate_container_name("web/x").is_err());
        assert_eq!(
            validate_container_name("bad name").unwrap_err(),
            "Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        );
    }
}
