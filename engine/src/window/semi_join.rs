//! Window semi-join: the distinct left values of a key in a window that has a right record of
//! the same key in the same window, emitted as soon as both are there.
//!
//! Nexmark q8 asks, per 10 s window, for the persons (id, name) who also opened an auction as
//! a seller in that window. Computed at the window's end (as [`WindowJoin`](super::WindowJoin)
//! does, and Flink's `coGroup`), every result of a window is produced between the watermark
//! and the sink, in one burst proportional to the window's state. But each result here is
//! *final* the moment both of its inputs have arrived: later records can add results to a
//! window, never change or retract one. So this operator emits a result as soon as it exists:
//! a left value of key `k` when the right side already has `k` in the window, or, on the
//! first right record of `k` in the window, every left value of `k` seen so far. The results
//! (and their multiset, and so the digest) are exactly those of the join computed at the end;
//! only their time differs, and when the window fires there is nothing left to do but free
//! its state.
//!
//! **Latency.** A result emitted while a batch is processed is stamped with the time that
//! processing began (job clock), so the sink records how long the result took to reach it
//! after it existed. The window-result latency of BENCHMARKING.md (sink time minus the moment
//! the window became complete) is negative for these results; the stamp overstates it, never
//! hides a delay.
//!
//! **State.** Per window (tumbling windows: one per record; sliding: `size / slide`) and key:
//! the distinct left values so far (the first inline, the others in a short list searched
//! linearly: cost linear in a key's distinct values per window; q8 has one, and so allocates
//! nothing per key) and whether a right record was seen. A window's
//! state is released when it fires (`end + lateness <= frontier`); records for fired windows
//! are late (counted). A window's keys live in a [`SteadyMap`], emptied a budget of positions at
//! a time as batches arrive ([`SlotStore`](super::store::SlotStore)) and then reused, table
//! and memory, by a later window: after the first windows, a window of the usual size neither
//! grows a table nor faults in fresh memory (with a map consumed per window, each window grew
//! its table from nothing, and each growth stalled the worker for up to 0.8 s at q8's 80 %
//! load).

use std::hash::Hash;
use std::rc::Rc;

use super::dataflow::{Kind, WindowSpec, hold_back, key_hash};
use super::panes::{last_due, pane_layout, window_bounds};
use super::steady_map::SteadyMap;
use super::store::{SlotStore, reclaim_budget};
use super::types::{Admission, Window, WindowError, WindowStats};
use crate::operator::{BinaryOperator, Output};
use crate::stream::Stream;
use crate::time::{Clock, Timestamp, Watermark};

/// One key's state in one window.
struct Side<V> {
    /// The first distinct left value, kept inline: most keys have one value per window (q8: a
    /// person's name), and a key's state then allocates nothing.
    first: Option<V>,
    /// The other distinct left values, in arrival order.
    more: Vec<V>,
    /// A right record was seen: every left value has been (or is at once) emitted.
    matched: bool,
}

impl<V> Default for Side<V> {
    fn default() -> Self {
        Self {
            first: None,
            more: Vec::new(),
            matched: false,
        }
    }
}

impl<V: PartialEq> Side<V> {
    /// Adds `value` unless the key has it already; whether it was new.
    fn add(&mut self, value: &V) -> bool
    where
        V: Clone,
    {
        match &self.first {
            None => self.first = Some(value.clone()),
            Some(first) if first == value || self.more.contains(value) => return false,
            Some(_) => self.more.push(value.clone()),
        }
        true
    }

    /// The distinct left values, in arrival order.
    fn values(&self) -> impl Iterator<Item = &V> {
        self.first.iter().chain(&self.more)
    }
}

/// A keyed window semi-join that emits each result as soon as it exists (see the module docs).
///
/// # Examples
///
/// ```
/// use weir_engine::window::WindowSemiJoin;
///
/// // q8's shape: person names per id, sellers' auctions per seller, 10 s tumbling windows.
/// let mut join = WindowSemiJoin::new(10_000, 10_000, 0).expect("valid spec");
/// let mut out = Vec::new();
/// join.insert_left(&1001_u64, 500, &"alice", |id, w, name| out.push((id, w.start, name)));
/// assert!(out.is_empty(), "no auction of seller 1001 yet");
/// join.insert_right(&1001_u64, 9_000, |id, w, name| out.push((id, w.start, name)));
/// assert_eq!(out, vec![(1001, 0, "alice")], "emitted at once, before the window closes");
/// join.insert_right(&1002_u64, 9_000, |id, w, name| out.push((id, w.start, name)));
/// join.advance(10_000);
/// assert_eq!(out.len(), 1);
/// assert_eq!(join.state_len(), 0);
/// ```
pub struct WindowSemiJoin<K, V> {
    size: i64,
    slide: i64,
    lateness: i64,
    /// Windows per record (`size / slide` rounded up; 1 for tumbling windows).
    per_record: i64,
    /// Per window index, per key.
    windows: SlotStore<K, Side<V>, SteadyMap<K, Side<V>>>,
    /// Smallest window index not fired yet.
    next: i64,
    stats: WindowStats,
}

impl<K: Hash + Eq + Clone, V: PartialEq + Clone> WindowSemiJoin<K, V> {
    /// A semi-join over windows of `size` ms every `slide` ms (`slide == size`: tumbling),
    /// releasing each window at `end + lateness`.
    ///
    /// # Errors
    ///
    /// A size or slide below 1 ms, a slide larger than the size, or a negative lateness.
    pub fn new(size: i64, slide: i64, lateness: i64) -> Result<Self, WindowError> {
        pane_layout(size, slide, lateness)?;
        Ok(Self {
            size,
            slide,
            lateness,
            per_record: (size + slide - 1) / slide,
            windows: SlotStore::new(),
            next: i64::MIN,
            stats: WindowStats::default(),
        })
    }

    /// Calls `visit` with the state of `key` in every unfired window holding `ts`; `false`
    /// when there is none (the record is late).
    #[inline]
    fn each_window(
        &mut self,
        key: &K,
        ts: Timestamp,
        mut visit: impl FnMut(Window, &mut Side<V>),
    ) -> bool {
        if self.per_record == 1 {
            // Tumbling: window index = ts div size, found through the store's cache.
            let Some(pos) = self.windows.pos_at(ts, self.size) else {
                return false;
            };
            let k = self.windows.cached_slot();
            let side = entry(self.windows.map(pos), key);
            visit(window_bounds(k, self.slide, self.size), side);
            return true;
        }
        let last = ts.div_euclid(self.slide);
        let first = last.saturating_sub(self.per_record - 1).max(self.next);
        let mut any = false;
        for k in first..=last {
            let window = window_bounds(k, self.slide, self.size);
            if !window.contains(ts) {
                continue;
            }
            let Some(pos) = self.windows.open(k) else {
                continue;
            };
            any = true;
            visit(window, entry(self.windows.map(pos), key));
        }
        any
    }

    /// Asks the CPU to fetch `key`'s state in the window holding `ts`, when that is the window
    /// the last record went to (tumbling windows; a hint, nothing changes): the operator calls
    /// it a few records ahead, so that their cache misses overlap.
    #[inline]
    pub fn prefetch(&self, key: &K, ts: Timestamp) {
        if self.per_record == 1
            && let Some(map) = self.windows.cached_map(ts)
        {
            map.prefetch(key);
        }
    }

    /// Adds a left record of `key` at `ts` with value `value`: emits `emit(key, window,
    /// value)` for each unfired window holding `ts` in which the value is new for the key and
    /// the right side already has the key.
    pub fn insert_left(
        &mut self,
        key: &K,
        ts: Timestamp,
        value: &V,
        mut emit: impl FnMut(K, Window, V),
    ) -> Admission {
        let mut emitted = 0;
        let accepted = self.each_window(key, ts, |window, side| {
            if side.add(value) && side.matched {
                emitted += 1;
                emit(key.clone(), window, value.clone());
            }
        });
        self.account(accepted, emitted)
    }

    /// Adds a right record of `key` at `ts`: in each unfired window holding `ts` where it is
    /// the key's first right record, emits `emit(key, window, value)` for every left value of
    /// the key so far.
    pub fn insert_right(
        &mut self,
        key: &K,
        ts: Timestamp,
        mut emit: impl FnMut(K, Window, V),
    ) -> Admission {
        let mut emitted = 0;
        let accepted = self.each_window(key, ts, |window, side| {
            if !side.matched {
                side.matched = true;
                for value in side.values() {
                    emitted += 1;
                    emit(key.clone(), window, value.clone());
                }
            }
        });
        self.account(accepted, emitted)
    }

    fn account(&mut self, accepted: bool, emitted: u64) -> Admission {
        self.stats.emitted += emitted;
        if accepted {
            self.stats.accepted += 1;
            Admission::Accepted
        } else {
            self.stats.late += 1;
            Admission::Late
        }
    }

    /// Advances the frontier (the minimum over both inputs): releases every window with
    /// `end + lateness <= frontier` (their results are all out already); records for them are
    /// late from now on. `Timestamp::MAX` releases everything (emptied by
    /// [`WindowSemiJoin::reclaim`](Self::reclaim) or dropped with the state).
    pub fn advance(&mut self, frontier: Timestamp) {
        let last = last_due(frontier, self.size, self.slide, self.lateness);
        if i128::from(self.next) <= last {
            self.next = i64::try_from(last.saturating_add(1)).unwrap_or(i64::MAX);
            self.windows.release_below(self.next);
        }
    }

    /// Frees up to `budget` entries of released windows (see `SlotStore`); the operator
    /// calls it once per batch.
    pub fn reclaim(&mut self, budget: usize) -> usize {
        self.windows.reclaim(budget)
    }

    /// Live (key, window) states.
    pub fn state_len(&self) -> usize {
        self.windows.len()
    }

    /// Counts of both sides together (`emitted` counts results).
    pub fn stats(&self) -> WindowStats {
        self.stats
    }
}

/// `key`'s state in a window's map, created empty.
#[inline]
fn entry<'m, K: Hash + Eq + Clone, V>(
    map: &'m mut SteadyMap<K, Side<V>>,
    key: &K,
) -> &'m mut Side<V> {
    map.entry(key.clone()).or_default()
}

impl<K, V> std::fmt::Debug for WindowSemiJoin<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowSemiJoin")
            .field("size", &self.size)
            .field("slide", &self.slide)
            .field("lateness", &self.lateness)
            .field("live_windows", &self.windows.slots())
            .field("next_window", &self.next)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Records ahead of the current one whose state the operator prefetches: far enough for a
/// miss (~100 ns) to complete while the records between are processed.
const PREFETCH_AHEAD: usize = 8;

/// The operator: one [`WindowSemiJoin`] per worker over the keys it owns.
struct SemiJoinOperator<L, R, K, V, FL, FR> {
    state: WindowSemiJoin<K, V>,
    left: FL,
    right: FR,
    lateness: i64,
    clock: Clock,
    _inputs: std::marker::PhantomData<fn(&L, &R)>,
}

/// Inserts every record of a batch into `state` with `insert`, first prefetching the state of
/// the record `PREFETCH_AHEAD` places ahead (`key_of` gives its key and time), so that the
/// batch's cache misses overlap; empties the batch, frees a budget of released windows, and
/// returns how many records were late.
fn each_record<I, K, V>(
    state: &mut WindowSemiJoin<K, V>,
    input: &mut Vec<I>,
    key_of: impl Fn(&I) -> (K, Timestamp),
    mut insert: impl FnMut(&mut WindowSemiJoin<K, V>, &I) -> Admission,
) -> u64
where
    K: Hash + Eq + Clone,
    V: PartialEq + Clone,
{
    let n = input.len();
    let mut late = 0;
    for i in 0..n {
        if let Some(ahead) = input.get(i + PREFETCH_AHEAD) {
            let (key, ts) = key_of(ahead);
            state.prefetch(&key, ts);
        }
        late += u64::from(insert(state, &input[i]).is_late());
    }
    input.clear();
    state.reclaim(reclaim_budget(n));
    late
}

impl<L, R, K, V, FL, FR> BinaryOperator for SemiJoinOperator<L, R, K, V, FL, FR>
where
    L: 'static,
    R: 'static,
    K: Hash + Eq + Clone + 'static,
    V: PartialEq + Clone + 'static,
    FL: Fn(&L) -> (K, Timestamp, V) + 'static,
    FR: Fn(&R) -> (K, Timestamp) + 'static,
{
    type Left = L;
    type Right = R;
    type Out = (K, Window, V);

    fn on_left(&mut self, input: &mut Vec<L>, out: &mut Output<'_, Self::Out>) {
        // Results found in this batch exist from now on.
        out.restamp(self.clock.now_ns());
        let left = &self.left;
        let late = each_record(
            &mut self.state,
            input,
            |r| {
                let (key, ts, _) = left(r);
                (key, ts)
            },
            |state, r| {
                let (key, ts, value) = left(r);
                state.insert_left(&key, ts, &value, |k, w, v| out.push((k, w, v)))
            },
        );
        if late > 0 {
            out.count_late(late);
        }
    }

    fn on_right(&mut self, input: &mut Vec<R>, out: &mut Output<'_, Self::Out>) {
        out.restamp(self.clock.now_ns());
        let right = &self.right;
        let late = each_record(&mut self.state, input, right, |state, r| {
            let (key, ts) = right(r);
            state.insert_right(&key, ts, |k, w, v| out.push((k, w, v)))
        });
        if late > 0 {
            out.count_late(late);
        }
    }

    fn on_watermark(&mut self, wm: Watermark, _out: &mut Output<'_, Self::Out>) -> Timestamp {
        self.state.advance(wm.time);
        hold_back(wm.time, self.lateness)
    }
}

impl<T: Send + 'static> Stream<T> {
    /// Window semi-join: for every window of `spec`, every distinct left value of a key (`left`
    /// gives `(key, event time, value)`) that has at least one right record of the same key
    /// (`right` gives `(key, event time)`) in the same window, as `(key, window, value)`, once.
    ///
    /// Each result is emitted as soon as both of its inputs have arrived, before the window
    /// closes: it can never change, so nothing waits for the watermark, which then only frees
    /// the window's state (see the `semi_join` module docs in the source). The results are
    /// those of [`Stream::window_join`] with [`Distinct`](super::Distinct) values on the left,
    /// flattened. Late records (either side, all of whose windows have fired) are counted.
    ///
    /// # Errors
    ///
    /// An invalid, session or global `spec`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use weir_engine::window::WindowSpec;
    /// use weir_engine::{Config, IterSource, execute};
    ///
    /// let results = Arc::new(Mutex::new(Vec::new()));
    /// let sink = Arc::clone(&results);
    /// execute(Config::new(2).with_pinning(false), move |worker| {
    ///     let me = worker.index() as u64;
    ///     // Worker 0 has the people, worker 1 the sellers' auctions.
    ///     let people = if me == 0 { vec![(1_u64, 5_i64, "ann"), (2, 6, "bob"), (1, 15, "ann")] } else { vec![] };
    ///     let sales = if me == 1 { vec![(1_u64, 9_i64), (3, 2)] } else { vec![] };
    ///     let sink = Arc::clone(&sink);
    ///     let people = worker.source(IterSource::new(people, |r: &(u64, i64, &str)| r.1, 0));
    ///     let sales = worker.source(IterSource::new(sales, |r: &(u64, i64)| r.1, 0));
    ///     people
    ///         .window_semi_join(sales, WindowSpec::tumbling(10), |p| (p.0, p.1, p.2), |s| (s.0, s.1))
    ///         .expect("valid window")
    ///         .for_each(move |(id, window, name)| {
    ///             sink.lock().expect("lock").push((id, window.start, name))
    ///         });
    /// })?;
    /// assert_eq!(*results.lock().expect("lock"), vec![(1, 0, "ann")]);
    /// # Ok::<(), weir_engine::EngineError>(())
    /// ```
    pub fn window_semi_join<R, K, V>(
        self,
        other: Stream<R>,
        spec: WindowSpec,
        left: impl Fn(&T) -> (K, Timestamp, V) + 'static,
        right: impl Fn(&R) -> (K, Timestamp) + 'static,
    ) -> Result<Stream<(K, Window, V)>, WindowError>
    where
        R: Send + 'static,
        K: Hash + Eq + Clone + 'static,
        V: PartialEq + Clone + 'static,
    {
        let (size, slide) = match spec.kind {
            Kind::Sliding { size, slide } => (size, slide),
            Kind::Session { .. } => return Err(WindowError::SessionJoin),
            Kind::Global => {
                return Err(WindowError::Unsupported {
                    operator: "window_semi_join",
                    windows: "global",
                    instead: "join over tumbling windows, or use interval_join with unbounded \
                              bounds (a regular join)",
                });
            }
        };
        let state = WindowSemiJoin::new(size, slide, spec.lateness())?;
        let (left, right) = (Rc::new(left), Rc::new(right));
        let (left_route, right_route) = (Rc::clone(&left), Rc::clone(&right));
        let op = SemiJoinOperator {
            state,
            left: move |r: &T| left(r),
            right: move |r: &R| right(r),
            lateness: spec.lateness(),
            clock: self.ctx.clock,
            _inputs: std::marker::PhantomData,
        };
        let lhs = self.key_by(move |r| key_hash(&left_route(r).0));
        let rhs = other.key_by(move |r| key_hash(&right_route(r).0));
        Ok(lhs.binary(rhs, "window_semi_join", op))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::{Count, Distinct, WindowJoin};
    use proptest::prelude::*;

    type Rows = Vec<(u32, Window, u8)>;

    #[derive(Clone, Debug)]
    enum Step {
        Left(u32, i64, u8),
        Right(u32, i64),
        Advance(i64),
    }

    fn steps() -> impl Strategy<Value = Vec<Step>> {
        proptest::collection::vec(
            prop_oneof![
                3 => (0_u32..5, -20_i64..140, 0_u8..3).prop_map(|(k, t, v)| Step::Left(k, t, v)),
                3 => (0_u32..5, -20_i64..140).prop_map(|(k, t)| Step::Right(k, t)),
                1 => (-20_i64..150).prop_map(Step::Advance),
            ],
            0..120,
        )
    }

    /// The reference: the window join computed when windows fire (distinct left values,
    /// right count), flattened to one row per value.
    fn reference(size: i64, slide: i64, lateness: i64, steps: &[Step]) -> (Rows, u64) {
        let mut join =
            WindowJoin::new(size, slide, lateness, Distinct::new(), Count).expect("spec");
        let mut rows = Rows::new();
        let mut collect = |join: &mut WindowJoin<u32, u8, (), Distinct<u8>, Count>, f| {
            join.advance(f, |k, w, values: Vec<u8>, _| {
                rows.extend(values.into_iter().map(|v| (k, w, v)));
            });
        };
        for step in steps {
            match *step {
                Step::Left(k, t, v) => {
                    join.insert_left(k, t, &v);
                }
                Step::Right(k, t) => {
                    join.insert_right(k, t, &());
                }
                Step::Advance(f) => collect(&mut join, f),
            }
        }
        collect(&mut join, i64::MAX);
        rows.sort_unstable();
        (rows, join.stats().late)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn matches_the_join_computed_at_the_end(steps in steps(), size in 1_i64..30,
                                               slide_div in 1_i64..4, lateness in 0_i64..8) {
            let slide = (size / slide_div).max(1);
            let mut join = WindowSemiJoin::new(size, slide, lateness).expect("spec");
            let mut rows = Rows::new();
            let mut frontier = i64::MIN;
            for step in &steps {
                let mut emit = |k, w: Window, v| {
                    // Emitted before the window closes (never after its release).
                    assert!(w.end + lateness > frontier, "{w:?} emitted after it fired");
                    rows.push((k, w, v));
                };
                match *step {
                    Step::Left(k, t, v) => {
                        join.insert_left(&k, t, &v, &mut emit);
                    }
                    Step::Right(k, t) => {
                        join.insert_right(&k, t, &mut emit);
                    }
                    Step::Advance(f) => {
                        frontier = frontier.max(f);
                        join.advance(frontier);
                    }
                }
            }
            join.advance(i64::MAX);
            prop_assert_eq!(join.state_len(), 0);
            rows.sort_unstable();
            let (expected, late) = reference(size, slide, lateness, &steps);
            prop_assert_eq!(join.stats().emitted, expected.len() as u64);
            prop_assert_eq!((rows, join.stats().late), (expected, late));
        }
    }
}
