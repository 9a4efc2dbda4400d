//! Processing-time tumbling windows (Nexmark q12).
//!
//! A record belongs to the window of the wall-clock time at which it is processed, and windows
//! fire on a timer when the clock passes their end. This is an event-time tumbling window whose
//! "timestamp" is the arrival time and whose frontier is the clock; since the clock the caller
//! passes is made monotone here, no record is ever late. Results depend on timing by nature
//! (docs/WORKLOADS.md, q12: checked by invariants only: per key the counts sum to the records, and
//! window bounds are multiples of the size).

use std::hash::Hash;

use super::aggregate::Aggregate;
use super::panes::SlidingWindows;
use super::types::{Window, WindowError, WindowStats};
use crate::time::Timestamp;

/// Keyed processing-time tumbling windows.
///
/// # Examples
///
/// ```
/// use weir_engine::window::{Count, ProcessingTimeWindows};
///
/// let mut windows = ProcessingTimeWindows::new(10_000, Count).expect("valid size");
/// windows.insert(7_u64, 1_000, &()); // clock 1 000 ms: window [0, 10 000)
/// windows.insert(7_u64, 9_999, &());
/// assert_eq!(windows.next_fire(), Some(10_000));
/// let mut out = Vec::new();
/// windows.on_time(10_000, |key, window, count| out.push((key, window.start, count)));
/// assert_eq!(out, vec![(7, 0, 2)]);
/// ```
pub struct ProcessingTimeWindows<K, V, A: Aggregate<V>> {
    inner: SlidingWindows<K, V, A>,
    /// The latest clock reading seen.
    clock: Timestamp,
}

impl<K: Hash + Eq + Clone, V, A: Aggregate<V>> ProcessingTimeWindows<K, V, A> {
    /// Tumbling windows of `size` ms of wall-clock time.
    ///
    /// # Errors
    ///
    /// A size below 1 ms.
    pub fn new(size: i64, agg: A) -> Result<Self, WindowError> {
        Ok(ProcessingTimeWindows {
            inner: SlidingWindows::tumbling(size, 0, agg)?,
            clock: Timestamp::MIN,
        })
    }

    /// Adds a record processed at wall-clock time `now_ms` (clamped to the latest clock seen).
    pub fn insert(&mut self, key: K, now_ms: Timestamp, value: &V) {
        self.clock = self.clock.max(now_ms);
        let admission = self.inner.insert(key, self.clock, value);
        debug_assert!(!admission.is_late(), "the clock only moves forward");
    }

    /// The timer: the clock reads `now_ms`; fires every window that ended at or before it.
    pub fn on_time(&mut self, now_ms: Timestamp, emit: impl FnMut(K, Window, A::Out)) {
        self.clock = self.clock.max(now_ms);
        self.inner.advance(self.clock, emit);
    }

    /// Fires every open window (end of input).
    pub fn flush(&mut self, emit: impl FnMut(K, Window, A::Out)) {
        self.inner.advance(Timestamp::MAX, emit);
    }

    /// When the next timer is due (the end of the oldest window holding data), if any.
    pub fn next_fire(&self) -> Option<Timestamp> {
        self.inner.next_fire()
    }

    /// Number of live (key, window) accumulators.
    pub fn state_len(&self) -> usize {
        self.inner.state_len()
    }

    /// Record and result counts so far (never any late ones).
    pub fn stats(&self) -> WindowStats {
        self.inner.stats()
    }
}

impl<K, V, A: Aggregate<V>> std::fmt::Debug for ProcessingTimeWindows<K, V, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessingTimeWindows")
            .field("windows", &self.inner)
            .field("clock", &self.clock)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::Count;

    #[test]
    fn a_clock_going_backwards_is_clamped() {
        let mut w = ProcessingTimeWindows::new(10, Count).expect("size");
        w.insert(1_u32, 15, &());
        w.insert(1, 3, &()); // the clock went backwards: counted at 15
        let mut out = Vec::new();
        w.on_time(19, |k, win, c| out.push((k, win, c)));
        assert!(out.is_empty());
        w.on_time(20, |k, win, c| out.push((k, win, c)));
        assert_eq!(out, vec![(1, Window { start: 10, end: 20 }, 2)]);
        w.insert(2, 25, &());
        w.flush(|k, win, c| out.push((k, win, c)));
        assert_eq!(out[1], (2, Window { start: 20, end: 30 }, 1));
        assert_eq!(w.state_len(), 0);
        assert_eq!(w.stats().late, 0);
    }
}
