//! Joins of two keyed streams: window join (equal window bounds) and interval join.
//!
//! **Window join** (Nexmark q8): each side is aggregated per key and window with its own
//! aggregate (for example the distinct names of a person id, the count of a seller's
//! auctions); when a window fires, every key present on both sides yields one result
//! `(key, window, left, right)`. Both sides fire the same windows at the same frontier, since
//! they share the window spec.
//!
//! **Interval join**: a left record at `t` joins every right record of its key at `t'` with
//! `t + lower <= t' <= t + upper`, both bounds inclusive (q7: `lower = -10 s`, `upper = 0`
//! joins a window's max price, stamped with `window_end`, to the bids of
//! `[window_end - 10 s, window_end]`). Each pair is emitted once, by whichever record arrives
//! second. With frontier `F` and allowed lateness `L`, records below `F - L` are late; a left
//! record is kept while a right record may still match (`t + upper >= F - L`), a right record
//! while `t' - lower >= F - L`. Per-key buffers are pruned by a timer queue, so a frontier
//! advance costs only the keys it prunes.

use std::collections::BTreeMap;
use std::hash::Hash;

use super::aggregate::Aggregate;
use super::panes::SlidingWindows;
use super::types::{
    Admission, FastMap, Window, WindowError, WindowStats, check_lateness, fast_map,
};
use crate::time::Timestamp;

/// A keyed window join: both sides aggregated per key and window, joined when it fires.
///
/// # Examples
///
/// ```
/// use weir_engine::window::{Count, Distinct, WindowJoin};
///
/// // q8's shape: person names per id, joined with auctions per seller, 10 s tumbling.
/// let mut join = WindowJoin::new(10_000, 10_000, 0, Distinct::new(), Count).expect("spec");
/// join.insert_left(1001_u64, 500, &"alice");
/// join.insert_right(1001_u64, 9_000, &());
/// join.insert_right(1002_u64, 9_000, &()); // no person 1002 in this window
/// let mut out = Vec::new();
/// join.advance(10_000, |id, window, names, auctions| out.push((id, window.start, names, auctions)));
/// assert_eq!(out, vec![(1001, 0, vec!["alice"], 1)]);
/// ```
pub struct WindowJoin<K, VL, VR, AL: Aggregate<VL>, AR: Aggregate<VR>> {
    left: SlidingWindows<K, VL, AL>,
    right: SlidingWindows<K, VR, AR>,
    /// Left results of the windows being fired, waiting for their right side.
    pending: FastMap<(K, Timestamp), AL::Out>,
    emitted: u64,
}

impl<K, VL, VR, AL, AR> WindowJoin<K, VL, VR, AL, AR>
where
    K: Hash + Eq + Clone,
    AL: Aggregate<VL>,
    AR: Aggregate<VR>,
{
    /// A join over windows of `size` ms every `slide` ms (`slide == size`: tumbling), firing
    /// at `end + lateness`.
    ///
    /// # Errors
    ///
    /// As [`SlidingWindows::new`].
    pub fn new(
        size: i64,
        slide: i64,
        lateness: i64,
        left: AL,
        right: AR,
    ) -> Result<Self, WindowError> {
        Ok(WindowJoin {
            left: SlidingWindows::new(size, slide, lateness, left)?,
            right: SlidingWindows::new(size, slide, lateness, right)?,
            pending: fast_map(),
            emitted: 0,
        })
    }

    /// Adds a left record; [`Admission::Late`] when all its windows have fired.
    #[inline]
    pub fn insert_left(&mut self, key: K, ts: Timestamp, value: &VL) -> Admission {
        self.left.insert(key, ts, value)
    }

    /// Adds a right record; [`Admission::Late`] when all its windows have fired.
    #[inline]
    pub fn insert_right(&mut self, key: K, ts: Timestamp, value: &VR) -> Admission {
        self.right.insert(key, ts, value)
    }

    /// Advances the frontier (the minimum over both inputs): fires the complete windows and
    /// calls `emit(key, window, left, right)` for every key present on both sides.
    pub fn advance(
        &mut self,
        frontier: Timestamp,
        mut emit: impl FnMut(K, Window, AL::Out, AR::Out),
    ) {
        let pending = &mut self.pending;
        self.left.advance(frontier, |key, window, out| {
            pending.insert((key, window.start), out);
        });
        let emitted = &mut self.emitted;
        self.right.advance(frontier, |key, window, right| {
            let probe = (key, window.start);
            if let Some(left) = pending.remove(&probe) {
                *emitted += 1;
                emit(probe.0, window, left, right);
            }
        });
        // Keys only on the left side have no partner (inner join).
        pending.clear();
    }

    /// Number of live accumulators on both sides.
    pub fn state_len(&self) -> usize {
        self.left.state_len() + self.right.state_len()
    }

    /// Entries of released panes on both sides not emptied yet.
    #[cfg(test)]
    pub(super) fn unreclaimed(&self) -> usize {
        self.left.unreclaimed() + self.right.unreclaimed()
    }

    /// Empties released panes on both sides (see [`SlidingWindows::reclaim`]): up to `budget`
    /// entries each; returns how many entries it freed. The operator calls it once per batch.
    pub fn reclaim(&mut self, budget: usize) -> usize {
        self.left.reclaim(budget) + self.right.reclaim(budget)
    }

    /// Counts of both sides together (`emitted` counts joined results).
    pub fn stats(&self) -> WindowStats {
        let (l, r) = (self.left.stats(), self.right.stats());
        WindowStats {
            accepted: l.accepted + r.accepted,
            late: l.late + r.late,
            emitted: self.emitted,
        }
    }
}

impl<K, VL, VR, AL: Aggregate<VL>, AR: Aggregate<VR>> std::fmt::Debug
    for WindowJoin<K, VL, VR, AL, AR>
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowJoin")
            .field("left", &self.left)
            .field("right", &self.right)
            .field("emitted", &self.emitted)
            .finish_non_exhaustive()
    }
}

/// Bounds of an interval join: right `t'` joins left `t` when `t + lower <= t' <= t + upper`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntervalSpec {
    /// Lower bound (inclusive), relative to the left timestamp; may be negative.
    pub lower: i64,
    /// Upper bound (inclusive), relative to the left timestamp.
    pub upper: i64,
    /// Allowed lateness (ms) of both inputs.
    pub lateness: i64,
}

/// One key's buffered records.
#[derive(Debug)]
struct Buffers<L, R> {
    left: Vec<(Timestamp, L)>,
    right: Vec<(Timestamp, R)>,
    /// The prune time at which this key's timer is registered.
    timer: Timestamp,
}

/// A keyed interval join.
///
/// # Examples
///
/// ```
/// use weir_engine::window::{IntervalJoin, IntervalSpec};
///
/// // q7's shape: a window's max price at window_end joins the bids of
/// // [window_end - 10 s, window_end], keyed by price.
/// let spec = IntervalSpec { lower: -10_000, upper: 0, lateness: 0 };
/// let mut join = IntervalJoin::new(spec).expect("bounds");
/// let mut out = Vec::new();
/// join.insert_right(500_i64, 10_000, "bid at the end", |_, l: &&str, r| out.push((*l, *r)));
/// join.insert_right(500_i64, 0, "bid at the start", |_, l, r| out.push((*l, *r)));
/// join.insert_left(500_i64, 10_000, "max of [0, 10 s)", |_, l, r| out.push((*l, *r)));
/// assert_eq!(out.len(), 2, "BETWEEN is inclusive at both ends");
/// ```
#[derive(Debug)]
pub struct IntervalJoin<K, L, R> {
    spec: IntervalSpec,
    state: FastMap<K, Buffers<L, R>>,
    timers: BTreeMap<Timestamp, Vec<K>>,
    /// `frontier - lateness`: records below are late, buffers below are pruned.
    bound: Timestamp,
    stats: WindowStats,
}

impl<K: Hash + Eq + Clone, L, R> IntervalJoin<K, L, R> {
    /// A join with the given bounds.
    ///
    /// # Errors
    ///
    /// `lower > upper` or a negative lateness.
    pub fn new(spec: IntervalSpec) -> Result<Self, WindowError> {
        if spec.lower > spec.upper {
            return Err(WindowError::EmptyInterval {
                lower: spec.lower,
                upper: spec.upper,
            });
        }
        check_lateness(spec.lateness)?;
        Ok(IntervalJoin {
            spec,
            state: fast_map(),
            timers: BTreeMap::new(),
            bound: Timestamp::MIN,
            stats: WindowStats::default(),
        })
    }

    /// Adds a left record at `ts`: emits `emit(key, left, right)` for every buffered right
    /// record it matches, and keeps it while later right records may match.
    pub fn insert_left(
        &mut self,
        key: K,
        ts: Timestamp,
        value: L,
        mut emit: impl FnMut(&K, &L, &R),
    ) -> Admission {
        if ts < self.bound {
            self.stats.late += 1;
            return Admission::Late;
        }
        self.stats.accepted += 1;
        let lo = ts.saturating_add(self.spec.lower);
        let hi = ts.saturating_add(self.spec.upper);
        if let Some(buffers) = self.state.get(&key) {
            for (t, right) in &buffers.right {
                if lo <= *t && *t <= hi {
                    self.stats.emitted += 1;
                    emit(&key, &value, right);
                }
            }
        }
        // Right records still to come are at >= bound; keep the record if one may match.
        if hi >= self.bound {
            let prune_at = hi;
            self.buffer(key, prune_at, |b| b.left.push((ts, value)));
        }
        Admission::Accepted
    }

    /// Adds a right record at `ts`: emits `emit(key, left, right)` for every buffered left
    /// record it matches, and keeps it while later left records may match.
    pub fn insert_right(
        &mut self,
        key: K,
        ts: Timestamp,
        value: R,
        mut emit: impl FnMut(&K, &L, &R),
    ) -> Admission {
        if ts < self.bound {
            self.stats.late += 1;
            return Admission::Late;
        }
        self.stats.accepted += 1;
        // Left t matches when t + lower <= ts <= t + upper.
        let lo = ts.saturating_sub(self.spec.upper);
        let hi = ts.saturating_sub(self.spec.lower);
        if let Some(buffers) = self.state.get(&key) {
            for (t, left) in &buffers.left {
                if lo <= *t && *t <= hi {
                    self.stats.emitted += 1;
                    emit(&key, left, &value);
                }
            }
        }
        if hi >= self.bound {
            self.buffer(key, hi, |b| b.right.push((ts, value)));
        }
        Admission::Accepted
    }

    /// Stores a record in `key`'s buffers, to be pruned once the bound passes `prune_at`.
    fn buffer(&mut self, key: K, prune_at: Timestamp, store: impl FnOnce(&mut Buffers<L, R>)) {
        let timers = &mut self.timers;
        let buffers = self.state.entry(key.clone()).or_insert_with(|| {
            timers.entry(prune_at).or_default().push(key.clone());
            Buffers {
                left: Vec::new(),
                right: Vec::new(),
                timer: prune_at,
            }
        });
        if prune_at < buffers.timer {
            buffers.timer = prune_at;
            timers.entry(prune_at).or_default().push(key);
        }
        store(buffers);
    }

    /// Advances the frontier (the minimum over both inputs) and prunes records that can match
    /// nothing more. `Timestamp::MAX` frees everything.
    pub fn advance(&mut self, frontier: Timestamp) {
        if frontier == Timestamp::MAX {
            self.bound = Timestamp::MAX;
            self.state.clear();
            self.timers.clear();
            return;
        }
        self.bound = self.bound.max(frontier.saturating_sub(self.spec.lateness));
        let bound = self.bound;
        let (lower, upper) = (self.spec.lower, self.spec.upper);
        while let Some(entry) = self.timers.first_entry() {
            let timer = *entry.key();
            if timer >= bound {
                break;
            }
            for key in entry.remove() {
                let Some(buffers) = self.state.get_mut(&key) else {
                    continue;
                };
                if buffers.timer != timer {
                    continue; // stale: the key re-registered at another time
                }
                buffers
                    .left
                    .retain(|(t, _)| t.saturating_add(upper) >= bound);
                buffers
                    .right
                    .retain(|(t, _)| t.saturating_sub(lower) >= bound);
                let next = buffers
                    .left
                    .iter()
                    .map(|(t, _)| t.saturating_add(upper))
                    .chain(buffers.right.iter().map(|(t, _)| t.saturating_sub(lower)))
                    .min();
                if let Some(next) = next {
                    buffers.timer = next;
                    self.timers.entry(next).or_default().push(key);
                } else {
                    self.state.remove(&key);
                }
            }
        }
    }

    /// Number of buffered records on both sides.
    pub fn state_len(&self) -> usize {
        self.state
            .values()
            .map(|b| b.left.len() + b.right.len())
            .sum()
    }

    /// Record and result counts so far (`emitted` counts joined pairs).
    pub fn stats(&self) -> WindowStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::{Count, Max};
    use proptest::prelude::*;

    #[test]
    fn window_join_hand_computed() {
        let mut join = WindowJoin::new(10, 10, 0, Count, Max::new()).expect("spec");
        join.insert_left(1_u32, 1, &());
        join.insert_left(1, 2, &());
        join.insert_right(1, 5, &7_i64);
        join.insert_right(1, 15, &9); // next window: no left partner there
        join.insert_left(2, 3, &()); // no right partner
        let mut out = Vec::new();
        join.advance(i64::MAX, |k, w, l, r| out.push((k, w.start, l, r)));
        assert_eq!(out, vec![(1, 0, 2, Some(7))]);
        assert_eq!(join.state_len(), 0);
        assert_eq!(join.stats().emitted, 1);
    }

    #[test]
    fn interval_join_prunes_and_counts_late() {
        let spec = IntervalSpec {
            lower: -5,
            upper: 0,
            lateness: 0,
        };
        let mut join = IntervalJoin::new(spec).expect("bounds");
        let mut pairs = Vec::new();
        join.insert_right(1_u32, 10, 'a', |_, l: &char, r| pairs.push((*l, *r)));
        join.insert_left(1, 12, 'X', |_, l, r| pairs.push((*l, *r)));
        assert_eq!(pairs, vec![('X', 'a')]);
        join.advance(13);
        // Right at 10 may still match left records up to 15: kept. Left at 12 can match
        // right records up to 12 only: pruned.
        assert_eq!(join.state_len(), 1);
        assert_eq!(join.insert_left(1, 12, 'Y', |_, _, _| {}), Admission::Late);
        join.insert_left(1, 15, 'Z', |_, l, r| pairs.push((*l, *r)));
        assert_eq!(pairs, vec![('X', 'a'), ('Z', 'a')]);
        join.advance(16);
        assert_eq!(join.state_len(), 0);
        assert_eq!(join.stats().late, 1);
        assert!(
            IntervalJoin::<u32, (), ()>::new(IntervalSpec {
                lower: 1,
                upper: 0,
                lateness: 0
            })
            .is_err()
        );
    }

    #[derive(Clone, Debug)]
    enum Step {
        Left(u32, i64),
        Right(u32, i64),
        Advance(i64),
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Against a nested loop over the accepted records.
        #[test]
        fn interval_join_matches_nested_loop(
            steps in proptest::collection::vec(prop_oneof![
                3 => (0_u32..3, 0_i64..60).prop_map(|(k, t)| Step::Left(k, t)),
                3 => (0_u32..3, 0_i64..60).prop_map(|(k, t)| Step::Right(k, t)),
                1 => (0_i64..70).prop_map(Step::Advance),
            ], 0..80),
            lower in -10_i64..5,
            width in 0_i64..10,
            lateness in 0_i64..5,
        ) {
            let spec = IntervalSpec { lower, upper: lower + width, lateness };
            let mut join = IntervalJoin::new(spec).expect("bounds");
            let mut got = Vec::new();
            let (mut lefts, mut rights) = (Vec::new(), Vec::new());
            let mut frontier = i64::MIN;
            let mut late = 0;
            for (id, step) in steps.iter().enumerate() {
                match *step {
                    Step::Left(k, t) => {
                        if t + lateness < frontier { late += 1 } else { lefts.push((k, t, id)) }
                        join.insert_left(k, t, id, |_, l, r| got.push((*l, *r)));
                    }
                    Step::Right(k, t) => {
                        if t + lateness < frontier { late += 1 } else { rights.push((k, t, id)) }
                        join.insert_right(k, t, id, |_, l, r| got.push((*l, *r)));
                    }
                    Step::Advance(f) => {
                        frontier = frontier.max(f);
                        join.advance(frontier);
                    }
                }
            }
            join.advance(i64::MAX);
            let mut expected = Vec::new();
            for &(kl, tl, il) in &lefts {
                for &(kr, tr, ir) in &rights {
                    if kl == kr && tl + lower <= tr && tr <= tl + lower + width {
                        expected.push((il, ir));
                    }
                }
            }
            got.sort_unstable();
            expected.sort_unstable();
            prop_assert_eq!(got, expected);
            prop_assert_eq!(join.stats().late, late);
            prop_assert_eq!(join.state_len(), 0);
        }

        /// Window join against per-window maps of both sides.
        #[test]
        fn window_join_matches_reference(
            left in proptest::collection::vec((0_u32..4, 0_i64..50), 0..40),
            right in proptest::collection::vec((0_u32..4, 0_i64..50), 0..40),
            size in 1_i64..12,
        ) {
            let mut join = WindowJoin::new(size, size, 0, Count, Count).expect("spec");
            for &(k, t) in &left { join.insert_left(k, t, &()); }
            for &(k, t) in &right { join.insert_right(k, t, &()); }
            let mut got = Vec::new();
            join.advance(i64::MAX, |k, w, l, r| got.push((k, w.start, l, r)));
            got.sort_unstable();
            let count = |side: &[(u32, i64)]| {
                let mut m: BTreeMap<(u32, i64), u64> = BTreeMap::new();
                for &(k, t) in side { *m.entry((k, t.div_euclid(size) * size)).or_default() += 1; }
                m
            };
            let (l, r) = (count(&left), count(&right));
            let expected: Vec<_> = l.iter()
                .filter_map(|(&(k, s), &lc)| r.get(&(k, s)).map(|&rc| (k, s, lc, rc)))
                .collect();
            prop_assert_eq!(got, expected);
        }
    }
}
