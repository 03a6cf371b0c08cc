//! Time as the core sees it: a number the shell hands in, never a clock the core reads.

use core::time::Duration;

/// A point on the manager's clock, in nanoseconds since the Unix epoch.
///
/// The shell anchors a monotonic clock to the wall clock once at start and passes
/// `anchor + elapsed` with every input, so the same value orders events (it never goes
/// backwards within one run) and stamps Docker timestamps (`Created`, `StartedAt`, event
/// `time`). The simulator passes virtual time. The core never reads a clock itself.
#[derive(
    Copy,
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Instant(u64);

impl Instant {
    /// The instant `nanos` nanoseconds after the Unix epoch.
    pub const fn from_unix_nanos(nanos: u64) -> Self {
        Instant(nanos)
    }

    /// The instant `secs` seconds after the Unix epoch.
    pub const fn from_unix_secs(secs: u64) -> Self {
        Instant(secs.saturating_mul(1_000_000_000))
    }

    /// Nanoseconds since the Unix epoch.
    pub const fn unix_nanos(self) -> u64 {
        self.0
    }

    /// Whole seconds since the Unix epoch.
    pub const fn unix_secs(self) -> u64 {
        self.0 / 1_000_000_000
    }

    /// This instant plus `d`, saturating at the far future.
    pub fn saturating_add(self, d: Duration) -> Self {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(nanos))
    }

    /// How long after `earlier` this instant is (zero if it is not later).
    pub fn saturating_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// RFC 3339 text with nanoseconds in UTC, as dockerd writes `Created` and `StartedAt`.
    pub fn to_rfc3339_nanos(self) -> String {
        let secs = self.unix_secs();
        let nanos = self.0 % 1_000_000_000;
        let (year, month, day) = civil_from_days((secs / 86_400) as i64);
        let rem = secs % 86_400;
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        )
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
/// Howard Hinnant's well-known civil-from-days algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The zero time dockerd prints for a timestamp that never happened.
pub const ZERO_RFC3339: &str = "0001-01-01T00:00:00Z";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_dates() {
        assert_eq!(
            Instant::from_unix_nanos(0).to_rfc3339_nanos(),
            "1970-01-01T00:00:00.000000000Z"
        );
        // 2026-11-22T04:42:00.123456789Z
        let t = Instant::from_unix_nanos(1_795_322_520_123_456_789);
        assert_eq!(t.to_rfc3339_nanos(), "2026-11-22T04:42:00.123456789Z");
        // A leap day.
        let t = Instant::from_unix_secs(951_782_400);
        assert_eq!(t.to_rfc3339_nanos(), "2000-02-29T00:00:00.000000000Z");
    }

    #[test]
    fn saturating_arithmetic() {
        let t = Instant::from_unix_secs(10);
        assert_eq!(t.saturating_add(Duration::from_secs(5)).unix_secs(), 15);
        assert_eq!(
            t.saturating_since(Instant::from_unix_secs(20)),
            Duration::ZERO
        );
        assert_eq!(
            Instant::from_unix_nanos(u64::MAX - 1)
                .saturating_add(Duration::from_secs(1))
                .unix_nanos(),
            u64::MAX
        );
    }
}
