//! The `mesoswarm-sim` binary's clock for the benchmarks: CPU time of the calling thread
//! (`CLOCK_THREAD_CPUTIME_ID`). On a machine shared with builds, wall time also counts the
//! time the thread waited for a core; CPU time counts only the work. Compiled into the
//! binary only (`main.rs` includes this file): the library has no `unsafe`.

use std::time::Duration;

/// CPU time this thread has used so far.
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
