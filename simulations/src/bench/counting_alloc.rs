//! The `mesoswarm-sim` binary's global allocator: the system allocator, plus counts of
//! what is allocated and freed while counting is on (`bench memory`). Compiled into the
//! binary only (`main.rs` includes this file), never into the library, whose users keep
//! their own allocator and whose code stays free of `unsafe`.
//!
//! Counting off costs one relaxed load per call, so the timed benchmarks run at full speed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use mesoswarm_sim::bench::{HeapCount, HeapCounter};

/// The system allocator, counting on demand.
pub struct CountingAlloc;

static ON: AtomicBool = AtomicBool::new(false);
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);
static ALLOC_BLOCKS: AtomicU64 = AtomicU64::new(0);
static FREED_BYTES: AtomicU64 = AtomicU64::new(0);
static FREED_BLOCKS: AtomicU64 = AtomicU64::new(0);
static FREED_CHUNK_BYTES: AtomicU64 = AtomicU64::new(0);

/// What glibc's malloc really uses for a request of `size` bytes on 64-bit Linux: an
/// 8-byte header, rounded up to 16, at least 32.
fn chunk_bytes(size: usize) -> u64 {
    ((size as u64 + 8 + 15) & !15).max(32)
}

fn on_alloc(size: usize) {
    if ON.load(Relaxed) {
        ALLOC_BYTES.fetch_add(size as u64, Relaxed);
        ALLOC_BLOCKS.fetch_add(1, Relaxed);
    }
}

fn on_free(size: usize) {
    if ON.load(Relaxed) {
        FREED_BYTES.fetch_add(size as u64, Relaxed);
        FREED_BLOCKS.fetch_add(1, Relaxed);
        FREED_CHUNK_BYTES.fetch_add(chunk_bytes(size), Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to `System`; the counters only observe.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size());
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        on_free(layout.size());
        // SAFETY: `ptr` came from `System` with this layout (all our allocations do).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        on_free(layout.size());
        on_alloc(new_size);
        // SAFETY: as for `dealloc` and `alloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn start() {
    for c in [
        &ALLOC_BYTES,
        &ALLOC_BLOCKS,
        &FREED_BYTES,
        &FREED_BLOCKS,
        &FREED_CHUNK_BYTES,
    ] {
        c.store(0, Relaxed);
    }
    ON.store(true, Relaxed);
}

fn stop() -> HeapCount {
    ON.store(false, Relaxed);
    HeapCount {
        alloc_bytes: ALLOC_BYTES.load(Relaxed),
        alloc_blocks: ALLOC_BLOCKS.load(Relaxed),
        freed_bytes: FREED_BYTES.load(Relaxed),
        freed_blocks: FREED_BLOCKS.load(Relaxed),
        freed_chunk_bytes: FREED_CHUNK_BYTES.load(Relaxed),
    }
}

/// The counter handed to the library's `bench memory`.
pub const COUNTER: HeapCounter = HeapCounter { start, stop };
