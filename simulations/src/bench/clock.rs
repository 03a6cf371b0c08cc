//! The clock every benchmark reads: wall time unless the binary installs a better one (the
//! `mesoswarm-sim` binary installs the thread's CPU time, which a machine busy with other
//! work does not inflate).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A clock and its name in the reports.
type NamedClock = (fn() -> Duration, &'static str);

static CLOCK: OnceLock<NamedClock> = OnceLock::new();
static WALL_ANCHOR: OnceLock<Instant> = OnceLock::new();

fn wall() -> Duration {
    WALL_ANCHOR.get_or_init(Instant::now).elapsed()
}

/// Installs `clock` (named `name` in the reports); only the first call counts.
pub fn set_clock(clock: fn() -> Duration, name: &'static str) {
    let _ = CLOCK.set((clock, name));
}

/// What [`now`] measures.
pub fn clock_name() -> &'static str {
    CLOCK.get().map_or("wall time", |(_, n)| n)
}

/// The clock's reading; only differences mean anything.
#[inline]
pub fn now() -> Duration {
    match CLOCK.get() {
        Some((f, _)) => f(),
        None => wall(),
    }
}
