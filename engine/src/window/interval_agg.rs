//! Interval aggregates: each left record opens an interval on its key, the right records of
//! that key inside it are folded with an [`Aggregate`], and the result is emitted once the
//! frontier has passed the interval's end.
//!
//! This is a regular join with a time-range condition followed by a `GROUP BY` on the left
//! record, computed without materialising the join: Nexmark q4's
//! `auction JOIN bid ON id = auction AND bid.dateTime BETWEEN dateTime AND expires` folded to
//! `MAX(price)` per auction is `interval_aggregate` with intervals `[dateTime, expires]`.
//!
//! The exact rules are on [`IntervalAggregate`].

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::hash::Hash;
use std::rc::Rc;

use hashbrown::hash_map::Entry;

use super::aggregate::Aggregate;
use super::dataflow::{hold_back, key_hash};
use super::types::{Admission, FastMap, WindowError, WindowStats, check_lateness, fast_map};
use crate::operator::{BinaryOperator, Output};
use crate::stream::Stream;
use crate::time::{Timestamp, Watermark};

/// Waiting right records are swept only once at least this many wait.
const SWEEP_MIN: usize = 4096;

/// Settings of an interval aggregate: allowed lateness and whether left keys are unique.
///
/// # Examples
///
/// ```
/// use weir_engine::window::IntervalAggregateSpec;
///
/// // q4: one auction per id, nothing late.
/// let q4 = IntervalAggregateSpec::new().unique_left_keys();
/// assert!(q4.has_unique_left_keys());
/// assert_eq!(q4.allowed_lateness(500).lateness(), 500);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct IntervalAggregateSpec {
    lateness: i64,
    unique_left_keys: bool,
}

impl IntervalAggregateSpec {
    /// No allowed lateness; a key may open any number of intervals.
    pub const fn new() -> Self {
        IntervalAggregateSpec {
            lateness: 0,
            unique_left_keys: false,
        }
    }

    /// Promises that each key opens at most one interval (the left key is a primary key), so
    /// right records need not wait once their key's interval is open (see [`IntervalAggregate`]).
    pub const fn unique_left_keys(mut self) -> Self {
        self.unique_left_keys = true;
        self
    }

    /// Accepts records up to `lateness_ms` behind the frontier; intervals fire that much later.
    pub const fn allowed_lateness(mut self, lateness_ms: i64) -> Self {
        self.lateness = lateness_ms;
        self
    }

    /// The allowed lateness in ms.
    pub const fn lateness(&self) -> i64 {
        self.lateness
    }

    /// Whether left keys were declared unique.
    pub const fn has_unique_left_keys(&self) -> bool {
        self.unique_left_keys
    }
}

/// One open interval with its accumulator.
struct Open<L, Acc> {
    left: L,
    start: Timestamp,
    end: Timestamp,
    acc: Acc,
    matched: bool,
    /// On a key's first interval: the key has further intervals in `IntervalAggregate::more`.
    has_more: bool,
}

impl<L, Acc> Open<L, Acc> {
    #[inline]
    fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t <= self.end
    }

    #[inline]
    fn offer<R, A: Aggregate<R, Acc = Acc>>(&mut self, agg: &A, t: Timestamp, right: &R) {
        if self.contains(t) {
            agg.accumulate(&mut self.acc, right);
            self.matched = true;
        }
    }
}

/// A timer: an interval of `key` ends at `end`. Ordered by `end` only, earliest on top of the
/// (max-)heap.
struct Due<K> {
    end: Timestamp,
    key: K,
}

impl<K> PartialEq for Due<K> {
    fn eq(&self, other: &Self) -> bool {
        self.end == other.end
    }
}

impl<K> Eq for Due<K> {}

impl<K> PartialOrd for Due<K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K> Ord for Due<K> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.end.cmp(&self.end)
    }
}

/// A keyed interval aggregate: each left record opens an interval `[start, end]` on its key,
/// the right records of that key inside it are folded with an [`Aggregate`], and the result
/// is emitted once the frontier has passed the interval's end.
///
/// **Time.** An interval `[start, end]` includes both ends. A left record's event time is its
/// interval's `start`: the frontier `F` promises no more intervals starting below it. With
/// allowed lateness `L` and `bound = F - L`:
/// * a left record with `start < bound`, or a right record with `t < bound`, is *late*: it is
///   refused and counted (right records behind the bound may already have been freed, so a
///   late interval could miss some of them);
/// * an interval fires once `end < bound`: every right record it can hold has arrived. It is
///   emitted as `(left, Some(result))`, or `(left, None)` when no right record fell inside, and
///   its state is freed;
/// * a right record waits for left records that have not arrived yet while one may still
///   contain it (`t >= bound`, since later intervals start at or above the bound). Waiting
///   records behind the bound are freed in bulk, whenever the waiting records have doubled
///   since the last sweep (and number at least 4096): the cost is amortised constant per
///   record, and the waiting records never exceed twice what the last sweep left (or 4096).
///
/// **Unique left keys.** In general a right record must wait even when it has matched an open
/// interval (another left record of its key may still come). When every key opens at most one
/// interval ([`IntervalAggregateSpec::unique_left_keys`], a primary key such as q4's auction
/// id), a right record whose key's interval has
/// arrived is folded and dropped at once, and the right records waiting for a key are freed
/// when its interval arrives. If the promise is broken, a repeated key's later interval misses
/// the right records that arrived while an earlier one was open.
///
/// # Examples
///
/// ```
/// use weir_engine::window::{IntervalAggregate, IntervalAggregateSpec, Max, on};
///
/// let spec = IntervalAggregateSpec::new().unique_left_keys();
/// let mut max_bid = IntervalAggregate::new(spec, on(|price: &u64| *price, Max::new()))
///     .expect("valid spec");
/// max_bid.insert_right(7_u64, 105, 30); // before its auction arrives: waits
/// max_bid.insert_left(7, 100, 200, "auction 7 open [100, 200]");
/// max_bid.insert_right(7, 150, 50);
/// max_bid.insert_right(7, 250, 99); // after the auction's end: no match
/// max_bid.insert_left(8, 120, 130, "auction 8, no bids");
/// let mut out = Vec::new();
/// max_bid.advance(200, |auction, max| out.push((auction, max)));
/// assert_eq!(out, vec![("auction 8, no bids", None)]);
/// max_bid.advance(201, |auction, max| out.push((auction, max)));
/// assert_eq!(out[1], ("auction 7 open [100, 200]", Some(Some(50))));
/// ```
pub struct IntervalAggregate<K, L, R, A: Aggregate<R>> {
    agg: A,
    spec: IntervalAggregateSpec,
    /// Each key's first open interval (the only one with unique keys).
    first: FastMap<K, Open<L, A::Acc>>,
    /// Further open intervals of keys with several (never used with unique keys).
    more: FastMap<K, Vec<Open<L, A::Acc>>>,
    /// Right records that may still match an interval that has not arrived.
    waiting: FastMap<K, Vec<(Timestamp, R)>>,
    due: BinaryHeap<Due<K>>,
    /// `frontier - lateness`: records below are late, intervals ending below fire.
    bound: Timestamp,
    /// Open intervals.
    open: usize,
    /// Waiting right records (stale ones included until the next sweep).
    waiting_len: usize,
    /// Sweep once `waiting_len` reaches this.
    sweep_at: usize,
    stats: WindowStats,
}

impl<K: Hash + Eq + Clone, L, R, A: Aggregate<R>> IntervalAggregate<K, L, R, A> {
    /// An empty interval aggregate.
    ///
    /// # Errors
    ///
    /// A negative allowed lateness.
    pub fn new(spec: IntervalAggregateSpec, agg: A) -> Result<Self, WindowError> {
        check_lateness(spec.lateness)?;
        Ok(IntervalAggregate {
            agg,
            spec,
            first: fast_map(),
            more: fast_map(),
            waiting: fast_map(),
            due: BinaryHeap::new(),
            bound: Timestamp::MIN,
            open: 0,
            waiting_len: 0,
            sweep_at: SWEEP_MIN,
            stats: WindowStats::default(),
        })
    }

    /// Opens the interval `[start, end]` (inclusive) on `key` for `left`, folding in the
    /// waiting right records it contains. [`Admission::Late`] (counted, `left` dropped) when
    /// `start` is behind the bound. An empty interval (`end < start`) matches nothing and is
    /// emitted with `None` when the frontier passes `end`.
    pub fn insert_left(&mut self, key: K, start: Timestamp, end: Timestamp, left: L) -> Admission {
        if start < self.bound {
            self.stats.late += 1;
            return Admission::Late;
        }
        self.stats.accepted += 1;
        let mut open = Open {
            left,
            start,
            end,
            acc: self.agg.init(),
            matched: false,
            has_more: false,
        };
        if self.spec.unique_left_keys {
            // No other interval of this key will come: nothing else can use them.
            if let Some(waiting) = self.waiting.remove(&key) {
                self.waiting_len -= waiting.len();
                for (t, right) in &waiting {
                    open.offer(&self.agg, *t, right);
                }
            }
        } else if let Some(waiting) = self.waiting.get(&key) {
            for (t, right) in waiting {
                open.offer(&self.agg, *t, right);
            }
        }
        self.due.push(Due {
            end,
            key: key.clone(),
        });
        self.open += 1;
        match self.first.entry(key) {
            Entry::Vacant(slot) => {
                slot.insert(open);
            }
            Entry::Occupied(mut slot) => {
                slot.get_mut().has_more = true;
                self.more.entry(slot.key().clone()).or_default().push(open);
            }
        }
        Admission::Accepted
    }

    /// Folds `right` at `ts` into every open interval of `key` that contains `ts`, and keeps
    /// it while an interval that has not arrived yet may contain it. [`Admission::Late`]
    /// (counted, dropped) when `ts` is behind the bound.
    #[inline]
    pub fn insert_right(&mut self, key: K, ts: Timestamp, right: R) -> Admission {
        if ts < self.bound {
            self.stats.late += 1;
            return Admission::Late;
        }
        self.stats.accepted += 1;
        if let Some(first) = self.first.get_mut(&key) {
            first.offer(&self.agg, ts, &right);
            if first.has_more {
                for open in self.more.get_mut(&key).into_iter().flatten() {
                    open.offer(&self.agg, ts, &right);
                }
            }
            if self.spec.unique_left_keys {
                return Admission::Accepted;
            }
        }
        self.waiting.entry(key).or_default().push((ts, right));
        self.waiting_len += 1;
        Admission::Accepted
    }

    /// Advances the frontier: emits `emit(left, result)` for every interval with
    /// `end < frontier - lateness`, in end order (`None` when no right record fell inside),
    /// frees them, and sweeps waiting right records that can match nothing more.
    /// `Timestamp::MAX` emits every interval and frees everything.
    pub fn advance(&mut self, frontier: Timestamp, mut emit: impl FnMut(L, Option<A::Out>)) {
        let end_of_input = frontier == Timestamp::MAX;
        self.bound = if end_of_input {
            Timestamp::MAX
        } else {
            self.bound.max(frontier.saturating_sub(self.spec.lateness))
        };
        while let Some(due) = self.due.peek() {
            if due.end >= self.bound && !end_of_input {
                break;
            }
            let Due { end, key } = self.due.pop().expect("peeked just above");
            let Some(open) = self.take(&key, end) else {
                continue;
            };
            self.open -= 1;
            self.stats.emitted += 1;
            let result = open.matched.then(|| self.agg.finish(open.acc));
            emit(open.left, result);
        }
        if end_of_input {
            self.first = fast_map();
            self.more = fast_map();
            self.waiting = fast_map();
            self.due = BinaryHeap::new();
            self.waiting_len = 0;
        } else if self.waiting_len >= self.sweep_at {
            self.sweep();
        }
    }

    /// Removes one interval of `key` ending at `end`.
    fn take(&mut self, key: &K, end: Timestamp) -> Option<Open<L, A::Acc>> {
        let Entry::Occupied(mut first) = self.first.entry(key.clone()) else {
            return None;
        };
        if !first.get().has_more {
            return (first.get().end == end).then(|| first.remove());
        }
        let more = self.more.get_mut(key)?;
        let taken = if first.get().end == end {
            let mut next = more
                .pop()
                .expect("has_more means at least one more interval");
            next.has_more = true;
            Some(std::mem::replace(first.get_mut(), next))
        } else {
            let i = more.iter().position(|o| o.end == end)?;
            Some(more.swap_remove(i))
        };
        if more.is_empty() {
            self.more.remove(key);
            first.get_mut().has_more = false;
        }
        taken
    }

    /// Frees the waiting right records behind the bound.
    fn sweep(&mut self) {
        let bound = self.bound;
        let mut waiting_len = 0;
        self.waiting.retain(|_, waiting| {
            waiting.retain(|(t, _)| *t >= bound);
            waiting_len += waiting.len();
            !waiting.is_empty()
        });
        self.waiting_len = waiting_len;
        self.sweep_at = (2 * waiting_len).max(SWEEP_MIN);
    }

    /// Open intervals plus waiting right records (the stale ones until the next sweep).
    pub fn state_len(&self) -> usize {
        self.open + self.waiting_len
    }

    /// Record and result counts so far (`emitted` counts intervals emitted).
    pub fn stats(&self) -> WindowStats {
        self.stats
    }
}

impl<K, L, R, A: Aggregate<R>> std::fmt::Debug for IntervalAggregate<K, L, R, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntervalAggregate")
            .field("spec", &self.spec)
            .field("open", &self.open)
            .field("waiting", &self.waiting_len)
            .field("bound", &self.bound)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// The interval aggregate as a two-input operator.
struct IntervalAggregateOperator<K, L, R, A: Aggregate<R>, FL, FR> {
    state: IntervalAggregate<K, L, R, A>,
    left: Rc<FL>,
    right: Rc<FR>,
    lateness: i64,
}

impl<K, L, R, A, FL, FR> BinaryOperator for IntervalAggregateOperator<K, L, R, A, FL, FR>
where
    K: Hash + Eq + Clone + 'static,
    L: 'static,
    R: 'static,
    A: Aggregate<R> + 'static,
    FL: Fn(&L) -> (K, Timestamp, Timestamp) + 'static,
    FR: Fn(&R) -> (K, Timestamp) + 'static,
{
    type Left = L;
    type Right = R;
    type Out = (L, Option<A::Out>);

    fn on_left(&mut self, input: &mut Vec<L>, out: &mut Output<'_, Self::Out>) {
        let mut late = 0;
        for record in input.drain(..) {
            let (key, start, end) = (self.left)(&record);
            late += u64::from(self.state.insert_left(key, start, end, record).is_late());
        }
        if late > 0 {
            out.count_late(late);
        }
    }

    fn on_right(&mut self, input: &mut Vec<R>, out: &mut Output<'_, Self::Out>) {
        let mut late = 0;
        for record in input.drain(..) {
            let (key, ts) = (self.right)(&record);
            late += u64::from(self.state.insert_right(key, ts, record).is_late());
        }
        if late > 0 {
            out.count_late(late);
        }
    }

    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, Self::Out>) -> Timestamp {
        self.state
            .advance(wm.time, |left, result| out.push((left, result)));
        hold_back(wm.time, self.lateness)
    }
}

impl<T: Send + 'static> Stream<T> {
    /// Keyed interval aggregate: every record of this (left) stream opens the interval
    /// `[start, end]` (inclusive) on its key, `(key, start, end) = interval(record)`; the
    /// records of `right` (`(key, time) = right_key(record)`) are folded with `agg` into every
    /// interval of their key that contains their time; once the frontier passes an interval's
    /// end the operator emits `(left record, Some(result))`, or `(left record, None)` when no
    /// right record fell inside (an inner join drops those, an outer join keeps them), and
    /// frees it. Right records that arrive before their interval are kept while they may
    /// still match. Both inputs are partitioned by the key.
    ///
    /// A left record's event time is its interval's start; a result stands for the interval's
    /// end, and the output watermark is `frontier - lateness`, so results are never late
    /// downstream. Late records (either side) are counted and dropped. See
    /// [`IntervalAggregate`] for the exact rules and [`IntervalAggregateSpec`] for the settings.
    ///
    /// # Errors
    ///
    /// A negative allowed lateness.
    ///
    /// # Examples
    ///
    /// Nexmark q4's first half: the highest bid on each auction between its start and expiry.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use weir_engine::window::{IntervalAggregateSpec, Max, on};
    /// use weir_engine::{Config, IterSource, execute};
    ///
    /// // (auction id, start, expires) and (auction id, time, price).
    /// let auctions = vec![(1_u64, 100_i64, 200_i64), (2, 150, 160), (3, 300, 400)];
    /// let bids = vec![(1_u64, 90_i64, 7_u64), (1, 120, 9), (2, 155, 4), (1, 201, 50)];
    /// let results = Arc::new(Mutex::new(Vec::new()));
    /// let sink = Arc::clone(&results);
    /// execute(Config::new(2).with_pinning(false), move |worker| {
    ///     let (me, peers) = (worker.index(), worker.peers());
    ///     let share = |n: usize| n % peers == me;
    ///     let a: Vec<_> = auctions.iter().enumerate().filter(|(i, _)| share(*i)).map(|(_, a)| *a).collect();
    ///     let b: Vec<_> = bids.iter().enumerate().filter(|(i, _)| share(*i)).map(|(_, b)| *b).collect();
    ///     let a = worker.source(IterSource::new(a, |a: &(u64, i64, i64)| a.1, 50));
    ///     let b = worker.source(IterSource::new(b, |b: &(u64, i64, u64)| b.1, 50));
    ///     let sink = Arc::clone(&sink);
    ///     a.interval_aggregate(
    ///         b,
    ///         IntervalAggregateSpec::new().unique_left_keys(),
    ///         |a| (a.0, a.1, a.2),
    ///         |b| (b.0, b.1),
    ///         on(|b: &(u64, i64, u64)| b.2, Max::new()),
    ///     )
    ///     .expect("valid spec")
    ///     .for_each(move |(auction, max)| sink.lock().expect("lock").push((auction.0, max.flatten())));
    /// })?;
    /// let mut results = results.lock().expect("lock").clone();
    /// results.sort_unstable();
    /// assert_eq!(results, vec![(1, Some(9)), (2, Some(4)), (3, None)]);
    /// # Ok::<(), weir_engine::EngineError>(())
    /// ```
    #[allow(
        clippy::type_complexity,
        reason = "a stream of (left record, optional result); an alias hides the shape"
    )]
    pub fn interval_aggregate<R, K, A>(
        self,
        right: Stream<R>,
        spec: IntervalAggregateSpec,
        interval: impl Fn(&T) -> (K, Timestamp, Timestamp) + 'static,
        right_key: impl Fn(&R) -> (K, Timestamp) + 'static,
        agg: A,
    ) -> Result<Stream<(T, Option<A::Out>)>, WindowError>
    where
        R: Send + 'static,
        K: Hash + Eq + Clone + 'static,
        A: Aggregate<R> + 'static,
    {
        let state = IntervalAggregate::new(spec, agg)?;
        let (left, right_fn) = (Rc::new(interval), Rc::new(right_key));
        let (left_route, right_route) = (Rc::clone(&left), Rc::clone(&right_fn));
        let op = IntervalAggregateOperator {
            state,
            left,
            right: right_fn,
            lateness: spec.lateness,
        };
        let lhs = self.key_by(move |r| key_hash(&left_route(r).0));
        let rhs = right.key_by(move |r| key_hash(&right_route(r).0));
        Ok(lhs.binary(rhs, "interval_aggregate", op))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::{Count, Max};
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// `(count, max)` of the values folded in.
    fn count_max() -> (Count, Max<i64>) {
        (Count, Max::new())
    }

    #[test]
    fn hand_computed_repeated_keys() {
        let mut agg =
            IntervalAggregate::new(IntervalAggregateSpec::new(), count_max()).expect("valid spec");
        agg.insert_right(1_u32, 12, 5);
        agg.insert_left(1, 10, 20, 'a');
        agg.insert_right(1, 20, 9); // both ends are inclusive
        agg.insert_right(1, 21, 100); // outside 'a', waits for later intervals
        agg.insert_left(1, 15, 30, 'b'); // holds 20 and 21 (12 is before it)
        agg.insert_left(2, 40, 50, 'c');
        let mut out = Vec::new();
        agg.advance(20, |l, r| out.push((l, r)));
        assert!(out.is_empty(), "'a' may still get a record at 20");
        agg.advance(21, |l, r| out.push((l, r)));
        assert_eq!(out, vec![('a', Some((2, Some(9))))]);
        assert_eq!(agg.insert_right(1, 20, 7), Admission::Late);
        assert_eq!(agg.insert_left(1, 20, 40, 'd'), Admission::Late);
        agg.advance(i64::MAX, |l, r| out.push((l, r)));
        assert_eq!(
            out,
            vec![
                ('a', Some((2, Some(9)))),
                ('b', Some((2, Some(100)))),
                ('c', None)
            ]
        );
        assert_eq!(agg.state_len(), 0);
        assert_eq!(agg.stats().late, 2);
        assert_eq!(agg.stats().emitted, 3);
    }

    #[test]
    fn unique_keys_drop_what_cannot_match_and_sweeps_free_stale_waiting_records() {
        let spec = IntervalAggregateSpec::new().unique_left_keys();
        let mut agg = IntervalAggregate::new(spec, Count).expect("valid spec");
        agg.insert_left(0_u64, 0, 10, ());
        agg.insert_right(0, 5, ());
        agg.insert_right(0, 50, ()); // the key's one interval is open: dropped at once
        assert_eq!(agg.state_len(), 1);
        // Bids on auctions that never open: they wait until the frontier passes them.
        for i in 0..10_000_i64 {
            agg.insert_right(1 + i as u64 % 5_000, 100 + i, ());
        }
        assert_eq!(agg.state_len(), 10_001);
        let mut out = Vec::new();
        agg.advance(5_100, |l, r| out.push((l, r)));
        assert_eq!(out, vec![((), Some(1))]);
        assert_eq!(
            agg.state_len(),
            5_000,
            "records behind the frontier are swept"
        );
        agg.insert_left(4_999, 5_200, 10_098, ()); // holds the waiting record at 10_098
        assert_eq!(
            agg.state_len(),
            5_000,
            "the key's waiting records are freed"
        );
        agg.advance(i64::MAX, |l, r| out.push((l, r)));
        assert_eq!(out, vec![((), Some(1)), ((), Some(1))]);
        assert_eq!(agg.state_len(), 0);
    }

    #[test]
    fn negative_lateness_is_an_error() {
        let spec = IntervalAggregateSpec::new().allowed_lateness(-1);
        let err = IntervalAggregate::<u32, (), (), Count>::new(spec, Count).expect_err("bad");
        assert!(err.to_string().contains("lateness"), "{err}");
    }

    #[derive(Clone, Debug)]
    enum Step {
        Left(u32, i64, i64),
        Right(u32, i64, i64),
        Advance(i64),
    }

    fn steps() -> impl Strategy<Value = Vec<Step>> {
        proptest::collection::vec(
            prop_oneof![
                2 => (0_u32..6, 0_i64..100, -3_i64..30).prop_map(|(k, s, len)| Step::Left(k, s, s + len)),
                4 => (0_u32..6, 0_i64..130, -50_i64..50).prop_map(|(k, t, v)| Step::Right(k, t, v)),
                1 => (0_i64..140).prop_map(Step::Advance),
            ],
            0..120,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Against a nested loop over the records the bound admits; every interval emitted
        /// exactly once, at the first advance that puts its end behind the bound.
        #[test]
        fn matches_nested_loop(steps in steps(), lateness in 0_i64..8, unique in any::<bool>()) {
            let mut spec = IntervalAggregateSpec::new().allowed_lateness(lateness);
            if unique {
                spec = spec.unique_left_keys();
            }
            let mut agg = IntervalAggregate::new(spec, count_max()).expect("valid spec");
            let (mut lefts, mut rights) = (Vec::new(), Vec::new());
            let mut used_keys = BTreeSet::new();
            let mut bound = i64::MIN;
            let mut late = 0;
            let mut got = BTreeMap::new();
            for (id, step) in steps.iter().enumerate() {
                match *step {
                    Step::Left(k, start, end) => {
                        if unique && !used_keys.insert(k) {
                            continue;
                        }
                        if start < bound { late += 1 } else { lefts.push((id, k, start, end)) }
                        agg.insert_left(k, start, end, id);
                    }
                    Step::Right(k, t, v) => {
                        if t < bound { late += 1 } else { rights.push((k, t, v)) }
                        agg.insert_right(k, t, v);
                    }
                    Step::Advance(f) => {
                        bound = bound.max(f - lateness);
                        agg.advance(f, |id, r| {
                            assert!(got.insert(id, r).is_none(), "interval {id} emitted twice");
                        });
                        // Exactly the intervals ending behind the bound have been emitted.
                        for &(id, _, _, end) in &lefts {
                            prop_assert_eq!(got.contains_key(&id), end < bound, "interval {}", id);
                        }
                        let open = lefts.iter().filter(|l| l.3 >= bound).count();
                        prop_assert!(agg.state_len() >= open);
                    }
                }
            }
            agg.advance(i64::MAX, |id, r| {
                assert!(got.insert(id, r).is_none(), "interval {id} emitted twice");
            });
            let mut expected = BTreeMap::new();
            for &(id, k, start, end) in &lefts {
                let values: Vec<i64> = rights
                    .iter()
                    .filter(|r| r.0 == k && start <= r.1 && r.1 <= end)
                    .map(|r| r.2)
                    .collect();
                let result = (!values.is_empty())
                    .then(|| (values.len() as u64, values.iter().max().copied()));
                expected.insert(id, result);
            }
            prop_assert_eq!(got, expected);
            prop_assert_eq!(agg.stats().late, late);
            prop_assert_eq!(agg.state_len(), 0);
        }
    }
}
