//! Signal names as dockerd accepts them (`signal=` of kill/stop/restart, `StopSignal`).

use crate::docker::error::ApiError;

/// Linux signal numbers 1–31 and their names, without the `SIG` prefix.
const SIGNALS: [(&str, u8); 31] = [
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("PWR", 30),
    ("SYS", 31),
];

/// Other names Linux (and moby's signal map) has for the same numbers.
const ALIASES: [(&str, &str); 4] = [
    ("IOT", "ABRT"),
    ("CLD", "CHLD"),
    ("POLL", "IO"),
    ("UNUSED", "SYS"),
];

/// Checks a signal as moby's `signal.ParseSignal` does and returns its canonical form.
///
/// Accepted: a name with or without `SIG` in any case (`kill`, `SIGTERM`, `sigusr1`) and a
/// number from 1 to 64. Names and the numbers 1–31 come back as `SIG<NAME>` (`9` →
/// `SIGKILL`); real-time numbers 32–64 come back as the number. Anything else is dockerd's
/// 400 `Invalid signal: <text>`. Real-time names (`RTMIN+3`) are not accepted; use numbers.
pub fn normalize_signal(raw: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::bad_request(format!("Invalid signal: {raw}"));
    if let Ok(n) = raw.parse::<i64>() {
        return match n {
            1..=31 => Ok(format!("SIG{}", SIGNALS[(n - 1) as usize].0)),
            32..=64 => Ok(n.to_string()),
            _ => Err(invalid()),
        };
    }
    let upper = raw.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let name = ALIASES
        .iter()
        .find(|(a, _)| *a == name)
        .map_or(name, |(_, canonical)| canonical);
    SIGNALS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, _)| format!("SIG{n}"))
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_normalise() {
        assert_eq!(normalize_signal("9").unwrap(), "SIGKILL");
        assert_eq!(normalize_signal("kill").unwrap(), "SIGKILL");
        assert_eq!(normalize_signal("SIGTERM").unwrap(), "SIGTERM");
        assert_eq!(normalize_signal("sigusr1").unwrap(), "SIGUSR1");
        assert_eq!(normalize_signal("IOT").unwrap(), "SIGABRT");
        assert_eq!(normalize_signal("40").unwrap(), "40");
    }

    #[test]
    fn unknown_signals_are_dockerds_400() {
        for bad in ["BOGUS", "0", "65", "-1", "", "SIG"] {
            let e = normalize_signal(bad).unwrap_err();
            assert_eq!(e.status, http::StatusCode::BAD_REQUEST);
            assert_eq!(e.message, format!("Invalid signal: {bad}"));
        }
    }
}
