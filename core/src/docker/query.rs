//! Query strings as dockerd reads them: Go's `url.ParseQuery` and moby's `BoolValue`.

use crate::docker::error::ApiError;

/// The decoded `key=value` pairs of a query string, in the order they came.
///
/// Like Go's `url.Values.Get`, [`Query::get`] returns the first value of a key. Keys are
/// case-sensitive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses a raw query string (without the `?`), decoding `%XX` escapes and `+` as a
    /// space in keys and values, as Go's `url.ParseQuery` does. An invalid escape is a 400
    /// with Go's text (`invalid URL escape "%zz"`), which moby answers for a bad form.
    /// Decoded bytes that are not UTF-8 are replaced with U+FFFD.
    pub fn parse(raw: &str) -> Result<Query, ApiError> {
        let mut pairs = Vec::new();
        for part in raw.split('&') {
            if part.is_empty() {
                continue;
            }
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode_component(k, true)?, decode_component(v, true)?));
        }
        Ok(Query { pairs })
    }

    /// The first value of `key`, if the key is present (possibly with an empty value).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every `(key, value)` pair, decoded, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The first value of `key`, with an absent key and an empty value both `None`, which is
    /// how dockerd treats most parameters (`r.Form.Get(k) != ""`).
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// moby's `BoolValue`: true unless absent or one of `""`, `0`, `no`, `false`, `none`
    /// (case-insensitive, surrounding spaces ignored).
    pub fn bool_value(&self, key: &str) -> bool {
        self.get(key).is_some_and(bool_value)
    }
}

/// moby's `BoolValue` rule for one value: false for `""`, `0`, `no`, `false`, `none` in any
/// case (after trimming spaces), true for anything else (`1`, `true`, `True`, `yes`, …).
pub fn bool_value(v: &str) -> bool {
    let v = v.trim().to_ascii_lowercase();
    !matches!(v.as_str(), "" | "0" | "no" | "false" | "none")
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`, as in form values).
///
/// Errors with Go's text, `invalid URL escape "%zz"`, as a 400.
pub fn decode_component(s: &str, plus_is_space: bool) -> Result<String, ApiError> {
    if !s.bytes().any(|b| b == b'%' || (plus_is_space && b == b'+')) {
        return Ok(s.to_string());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_value);
                let lo = bytes.get(i + 2).copied().and_then(hex_value);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi << 4 | lo);
                        i += 3;
                    }
                    _ => {
                        let end = bytes.len().min(i + 3);
                        let bad = String::from_utf8_lossy(&bytes[i..end]);
                        return Err(ApiError::bad_request(format!("invalid URL escape {bad:?}")));
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_go_forms() {
        let q =
            Query::parse("filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D&name=a+b&x&all=1&all=0")
                .unwrap();
        assert_eq!(q.get("filters"), Some(r#"{"label":["a=b"]}"#));
        assert_eq!(q.get("name"), Some("a b"));
        assert_eq!(q.get("x"), Some(""));
        assert_eq!(q.non_empty("x"), None);
        assert_eq!(q.get("all"), Some("1"), "the first value wins");
        assert_eq!(q.get("missing"), None);
    }

    #[test]
    fn bad_escapes_are_400_with_gos_text() {
        let e = Query::parse("a=%zz").unwrap_err();
        assert_eq!(e.status, http::StatusCode::BAD_REQUEST);
        assert_eq!(e.message, r#"invalid URL escape "%zz""#);
        assert_eq!(
            Query::parse("a=%4").unwrap_err().message,
            r#"invalid URL escape "%4""#
        );
        assert_eq!(
            Query::parse("a=%").unwrap_err().message,
            r#"invalid URL escape "%""#
        );
    }

    #[test]
    fn bool_values_follow_moby() {
        for v in ["", "0", "no", "false", "none", "FALSE", "No", "None", " 0 "] {
            assert!(!bool_value(v), "{v:?}");
        }
        for v in ["1", "true", "True", "yes", "anything"] {
            assert!(bool_value(v), "{v:?}");
        }
        let q = Query::parse("a=1&b=False&c=").unwrap();
        assert!(q.bool_value("a"));
        assert!(!q.bool_value("b"));
        assert!(!q.bool_value("c"));
        assert!(!q.bool_value("d"));
    }
}
