//! The global window: one window per key covering all of event time, fired at end of input.
//!
//! This is the window of a plain `GROUP BY` over a bounded input (Nexmark q4's final table):
//! every record of a key goes into one accumulator, and the result is emitted once, when the
//! frontier reaches end of input ([`Timestamp::MAX`]). No record can be late before that; a
//! record that arrives after it (which a well-behaved source never sends) is counted as late.

use std::hash::Hash;
use std::marker::PhantomData;

use super::aggregate::Aggregate;
use super::types::{Admission, FastMap, Window, WindowStats, fast_map};
use crate::time::Timestamp;

/// Keyed aggregates over the global window, fired once at end of input.
///
/// # Examples
///
/// ```
/// use weir_engine::window::{Avg, GlobalWindows, Window};
///
/// let mut totals = GlobalWindows::new(Avg);
/// totals.insert("books", &10);
/// totals.insert("books", &15);
/// let mut out = Vec::new();
/// totals.advance(1_000_000, |key, window, avg| out.push((key, window, avg)));
/// assert!(out.is_empty(), "only end of input closes the global window");
/// totals.advance(i64::MAX, |key, window, avg| out.push((key, window, avg)));
/// assert_eq!(out, vec![("books", Window::GLOBAL, Some(12))]);
/// ```
pub struct GlobalWindows<K, V, A: Aggregate<V>> {
    agg: A,
    state: FastMap<K, A::Acc>,
    fired: bool,
    stats: WindowStats,
    _values: PhantomData<fn(&V)>,
}

impl<K: Hash + Eq, V, A: Aggregate<V>> GlobalWindows<K, V, A> {
    /// An empty global window per key.
    pub fn new(agg: A) -> Self {
        GlobalWindows {
            agg,
            state: fast_map(),
            fired: false,
            stats: WindowStats::default(),
            _values: PhantomData,
        }
    }

    /// Adds `value` to `key`'s accumulator; [`Admission::Late`] (counted) once the window has
    /// fired at end of input.
    #[inline]
    pub fn insert(&mut self, key: K, value: &V) -> Admission {
        if self.fired {
            self.stats.late += 1;
            return Admission::Late;
        }
        self.stats.accepted += 1;
        let agg = &self.agg;
        let acc = self.state.entry(key).or_insert_with(|| agg.init());
        agg.accumulate(acc, value);
        Admission::Accepted
    }

    /// Advances the frontier: at end of input (`Timestamp::MAX`) emits `(key, Window::GLOBAL,
    /// result)` once per key and frees the state; any other frontier does nothing.
    pub fn advance(&mut self, frontier: Timestamp, mut emit: impl FnMut(K, Window, A::Out)) {
        if frontier < Timestamp::MAX || self.fired {
            return;
        }
        self.fired = true;
        for (key, acc) in self.state.drain() {
            self.stats.emitted += 1;
            emit(key, Window::GLOBAL, self.agg.finish(acc));
        }
        // Give the table's memory back: nothing more can be accepted.
        self.state = fast_map();
    }

    /// Number of live accumulators (one per key seen).
    pub fn state_len(&self) -> usize {
        self.state.len()
    }

    /// Record and result counts so far.
    pub fn stats(&self) -> WindowStats {
        self.stats
    }
}

impl<K, V, A: Aggregate<V>> std::fmt::Debug for GlobalWindows<K, V, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlobalWindows")
            .field("keys", &self.state.len())
            .field("fired", &self.fired)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::Count;

    #[test]
    fn fires_once_at_end_of_input_and_counts_later_records_late() {
        let mut w = GlobalWindows::new(Count);
        for key in [1_u32, 2, 1, 1] {
            assert_eq!(w.insert(key, &()), Admission::Accepted);
        }
        let mut out = Vec::new();
        w.advance(i64::MAX - 1, |k, win, c| out.push((k, win, c)));
        assert!(out.is_empty());
        assert_eq!(w.state_len(), 2);
        w.advance(i64::MAX, |k, win, c| out.push((k, win, c)));
        w.advance(i64::MAX, |k, win, c| out.push((k, win, c)));
        out.sort_unstable();
        assert_eq!(
            out,
            vec![(1, Window::GLOBAL, 3), (2, Window::GLOBAL, 1)],
            "fired exactly once"
        );
        assert_eq!(w.state_len(), 0);
        assert_eq!(w.insert(3, &()), Admission::Late);
        assert_eq!(
            w.stats(),
            WindowStats {
                accepted: 4,
                late: 1,
                emitted: 2
            }
        );
    }
}
