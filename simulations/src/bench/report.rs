//! How a benchmark reports a figure: ours, the anchor it is measured against (from
//! `anchors.md` §1), how many times better or worse that is, and the target, if any.

use std::fmt;
use std::time::Duration;

/// Which way is better for a figure.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Better {
    /// A rate: more is better.
    Higher,
    /// A time or a size: less is better.
    Lower,
}

/// One figure of one scenario.
#[derive(Clone, Debug)]
pub struct Figure {
    /// Scenario id (`S1` … `S6`, `roofline`, `memory`).
    pub scenario: &'static str,
    /// What was measured.
    pub what: String,
    /// Our value, in `unit`.
    pub ours: f64,
    /// The unit (`µs/offer`, `placements/s` …).
    pub unit: &'static str,
    /// Which way is better.
    pub better: Better,
    /// The anchor's value in the same unit and where it comes from, if there is one.
    pub anchor: Option<(f64, &'static str)>,
    /// The target, if the issue sets one.
    pub target: Option<f64>,
}

impl Figure {
    /// A figure without anchor or target.
    pub fn new(
        scenario: &'static str,
        what: impl Into<String>,
        ours: f64,
        unit: &'static str,
        better: Better,
    ) -> Figure {
        Figure {
            scenario,
            what: what.into(),
            ours,
            unit,
            better,
            anchor: None,
            target: None,
        }
    }

    /// With an anchor.
    pub fn anchor(mut self, value: f64, source: &'static str) -> Figure {
        self.anchor = Some((value, source));
        self
    }

    /// With a target.
    pub fn target(mut self, value: f64) -> Figure {
        self.target = Some(value);
        self
    }

    /// How many times better than the anchor (below 1: worse).
    pub fn ratio(&self) -> Option<f64> {
        let (a, _) = self.anchor?;
        Some(match self.better {
            Better::Higher => self.ours / a,
            Better::Lower => a / self.ours,
        })
    }

    /// Whether the target is met (`None` without a target).
    pub fn meets_target(&self) -> Option<bool> {
        let t = self.target?;
        Some(match self.better {
            Better::Higher => self.ours >= t,
            Better::Lower => self.ours <= t,
        })
    }
}

/// A number with three significant digits and thousands separators where it is large.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a >= 1000.0 {
        let s = format!("{:.0}", v.abs());
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        if v < 0.0 {
            out.insert(0, '-');
        }
        out
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<8} {:<52} {:>14} {}",
            self.scenario,
            self.what,
            num(self.ours),
            self.unit
        )?;
        if let (Some((a, src)), Some(r)) = (self.anchor, self.ratio()) {
            let verdict = if r >= 1.0 { "better" } else { "worse" };
            write!(f, " | anchor {} ({src}) | ×{} {verdict}", num(a), num(r))?;
        }
        if let (Some(t), Some(ok)) = (self.target, self.meets_target()) {
            write!(
                f,
                " | target {} {}",
                num(t),
                if ok { "MET" } else { "MISSED" }
            )?;
        }
        Ok(())
    }
}

/// Nanoseconds per item.
pub fn ns_per(d: Duration, n: usize) -> f64 {
    d.as_nanos() as f64 / n.max(1) as f64
}

/// Items per second.
pub fn per_sec(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-12)
}

/// The `p`-th percentile (0–100) of `samples`, nearest rank; zero when empty.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_say_how_many_times_better() {
        let rate = Figure::new("S3", "x", 10.0, "/s", Better::Higher)
            .anchor(5.0, "a")
            .target(20.0);
        assert_eq!(rate.ratio(), Some(2.0));
        assert_eq!(rate.meets_target(), Some(false));
        let time = Figure::new("S2", "x", 5.0, "ms", Better::Lower)
            .anchor(10.0, "a")
            .target(10.0);
        assert_eq!(time.ratio(), Some(2.0));
        assert_eq!(time.meets_target(), Some(true));
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(1_234_567.0), "1,234,567");
        assert_eq!(num(12.345), "12.3");
        assert_eq!(num(0.1234), "0.123");
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let mut s: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&mut s, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&mut s, 50.0), Duration::from_millis(50));
    }
}
