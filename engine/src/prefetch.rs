//! Software prefetch: the engine's only `unsafe` code.
//!
//! Keyed operators whose state outgrows the caches spend most of their time waiting for one
//! cache miss after another: the group of a row, then the slot of a value in the group's set.
//! Within a batch the rows are known in advance, so an operator can ask for the memory of a
//! row a few places ahead while it works on the current one, and the misses overlap instead of
//! following each other. A prefetch is a hint: it never faults, never changes what the program
//! reads, and costs one instruction when the line is already cached.

/// Asks the CPU to bring the cache lines of `value` (at most the first four, 256 bytes) into
/// the caches. A no-op on targets other than x86-64.
#[inline]
pub(crate) fn read<T>(value: &T) {
    let start = std::ptr::from_ref(value).cast::<u8>();
    let lines = size_of::<T>().div_ceil(64).clamp(1, 4);
    for line in 0..lines {
        line_at(start.wrapping_add(line * 64));
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn line_at(at: *const u8) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    // SAFETY: `prefetcht0` is a hint: it does not read memory the program can observe and never
    // faults, whatever the address (here one inside a live value, or a zero-sized value's).
    // Its only precondition is the SSE target feature, which every x86-64 CPU has (it is in
    // the x86-64 baseline the engine is compiled for).
    unsafe { _mm_prefetch::<_MM_HINT_T0>(at.cast::<i8>()) }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn line_at(_at: *const u8) {}
