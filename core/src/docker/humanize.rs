//! Human-readable texts as the docker tools print them: durations, CPU counts, sizes.

use core::time::Duration;

/// go-units' `HumanDuration`, which dockerd uses for `docker ps`'s STATUS column
/// ("Up 5 minutes", "Exited (0) About an hour ago").
///
/// Seconds and minutes are truncated, hours are rounded to the nearest hour; days, weeks,
/// months (30 days) and years (365 days) are whole divisions of those hours.
pub fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    let minutes = seconds / 60;
    // Go: int(d.Round(time.Hour).Hours()), rounding half away from zero.
    let hours = (d.as_nanos() + 1_800_000_000_000) / 3_600_000_000_000;
    if seconds < 1 {
        "Less than a second".to_string()
    } else if seconds == 1 {
        "1 second".to_string()
    } else if seconds < 60 {
        format!("{seconds} seconds")
    } else if minutes == 1 {
        "About a minute".to_string()
    } else if minutes < 60 {
        format!("{minutes} minutes")
    } else if hours == 1 {
        "About an hour".to_string()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", seconds / 3600 / 24 / 365)
    }
}

/// Thousandths of a CPU as a decimal without trailing zeros: 1500 → `1.5`, 2000 → `2`.
pub fn cpus_text(milli: u64) -> String {
    let whole = milli / 1000;
    let frac = milli % 1000;
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:03}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// MiB in the largest binary unit that keeps the number ≥ 1, with up to two decimals:
/// 512 → `512 MiB`, 2048 → `2 GiB`, 1536 → `1.5 GiB`.
pub fn mib_text(mib: u64) -> String {
    const UNITS: [&str; 4] = ["MiB", "GiB", "TiB", "PiB"];
    let mut value = mib as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} {}", UNITS[unit])
}

/// Inclusive port ranges as `31000-32000, 33000`.
pub fn ranges_text(ranges: &[(u64, u64)]) -> String {
    ranges
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_duration_matches_go_units() {
        let s = Duration::from_secs;
        let table: &[(Duration, &str)] = &[
            (Duration::ZERO, "Less than a second"),
            (Duration::from_millis(999), "Less than a second"),
            (s(1), "1 second"),
            (Duration::from_millis(1999), "1 second"),
            (s(2), "2 seconds"),
            (s(59), "59 seconds"),
            (s(60), "About a minute"),
            (s(119), "About a minute"),
            (s(120), "2 minutes"),
            (s(59 * 60 + 59), "59 minutes"),
            (s(3600), "About an hour"),
            (s(3600 + 29 * 60), "About an hour"),
            (s(3600 + 30 * 60), "2 hours"),
            (s(47 * 3600), "47 hours"),
            (s(47 * 3600 + 30 * 60), "2 days"),
            (s(13 * 86400), "13 days"),
            (s(14 * 86400), "2 weeks"),
            (s(59 * 86400), "8 weeks"),
            (s(60 * 86400), "2 months"),
            (s(729 * 86400), "24 months"),
            (s(730 * 86400), "2 years"),
            (s(3 * 365 * 86400 + 100), "3 years"),
        ];
        for (d, want) in table {
            assert_eq!(human_duration(*d), *want, "{d:?}");
        }
    }

    #[test]
    fn numbers_for_docker_info() {
        assert_eq!(cpus_text(1500), "1.5");
        assert_eq!(cpus_text(2000), "2");
        assert_eq!(cpus_text(1250), "1.25");
        assert_eq!(cpus_text(1), "0.001");
        assert_eq!(mib_text(512), "512 MiB");
        assert_eq!(mib_text(2048), "2 GiB");
        assert_eq!(mib_text(1536), "1.5 GiB");
        assert_eq!(mib_text(10240), "10 GiB");
        assert_eq!(mib_text(0), "0 MiB");
        assert_eq!(
            ranges_text(&[(31000, 32000), (33000, 33000)]),
            "31000-32000, 33000"
        );
    }
}
