//! Tumbling and sliding event-time windows, sliced into panes.
//!
//! Windows are `[k * slide, k * slide + size)` for every integer `k` (aligned to the epoch, as
//! Flink aligns them). Time is cut into *panes* of `w = gcd(size, slide)` ms: pane `p` covers
//! `[p * w, (p + 1) * w)`, window `k` covers panes `k * s .. k * s + n` with `s = slide / w`
//! and `n = size / w`. A record updates one accumulator: the one for its key in its pane. A
//! window is fired by merging its `n` panes key by key (tumbling windows have `n = 1` and are
//! drained directly, without merging).
//!
//! Invariants, with `next` the smallest window index not yet fired:
//! * window `k` fires exactly once, in increasing `k`, when the frontier reaches
//!   `k * slide + size + lateness`; every window below `next` has fired (empty ones silently);
//! * pane `p`'s last window is `floor(p / s)`, so once `next * s > p` the pane can receive
//!   nothing more: it is released, and a record for it is late (every window it belongs to has
//!   fired). A record whose pane is still live is accepted even if some of its windows have
//!   fired: it counts in the ones that have not (as in Flink).
//!
//! The panes live in a [`SlotStore`]: released panes' maps are emptied and reused. The
//! emptying is left to [`SlidingWindows::reclaim`], which the operator calls once per input
//! batch, so a firing's results leave before the panes it released are cleared, and entries
//! owning heap memory are freed a budget at a time instead of in one burst.

use std::hash::Hash;
use std::marker::PhantomData;

use super::aggregate::Aggregate;
use super::store::SlotStore;
use super::types::{
    Admission, FastMap, Window, WindowError, WindowStats, check_lateness, check_positive, fast_map,
};
use crate::time::Timestamp;

/// Keyed tumbling or sliding (hopping) windows with an incremental aggregate.
///
/// # Examples
///
/// ```
/// use weir_engine::window::{Count, SlidingWindows};
///
/// // 10 s windows every 2 s, no allowed lateness.
/// let mut windows = SlidingWindows::new(10_000, 2_000, 0, Count).expect("valid spec");
/// windows.insert("a", 1_000, &());
/// windows.insert("a", 3_500, &());
/// let mut out = Vec::new();
/// windows.advance(6_000, |_key, window, count| out.push((window.start, window.end, count)));
/// out.sort_unstable();
/// // The windows ending at or before the frontier are complete and fire, once each.
/// assert_eq!(out, vec![(-8_000, 2_000, 1), (-6_000, 4_000, 2), (-4_000, 6_000, 2)]);
/// ```
pub struct SlidingWindows<K, V, A: Aggregate<V>> {
    agg: A,
    size: i64,
    slide: i64,
    lateness: i64,
    /// Pane width `gcd(size, slide)`.
    width: i64,
    /// Panes per window.
    per_window: i64,
    /// Panes per slide.
    per_slide: i64,
    /// Per-pane keyed accumulators, by pane index.
    panes: SlotStore<K, A::Acc>,
    /// Smallest window index not fired yet (`i64::MIN` before the first fire).
    next: i64,
    /// Accumulators of the window being fired (sliding only), reused.
    scratch: FastMap<K, A::Acc>,
    stats: WindowStats,
    _values: PhantomData<fn(&V)>,
}

impl<K: Hash + Eq + Clone, V, A: Aggregate<V>> SlidingWindows<K, V, A> {
    /// Windows of `size` ms every `slide` ms (`slide == size`: tumbling), firing at
    /// `end + lateness`.
    ///
    /// # Errors
    ///
    /// A size or slide below 1 ms, a slide larger than the size, or a negative lateness.
    pub fn new(size: i64, slide: i64, lateness: i64, agg: A) -> Result<Self, WindowError> {
        let (width, per_window, per_slide) = pane_layout(size, slide, lateness)?;
        Ok(SlidingWindows {
            agg,
            size,
            slide,
            lateness,
            width,
            per_window,
            per_slide,
            panes: SlotStore::new(),
            next: i64::MIN,
            scratch: fast_map(),
            stats: WindowStats::default(),
            _values: PhantomData,
        })
    }

    /// Tumbling windows of `size` ms.
    ///
    /// # Errors
    ///
    /// A size below 1 ms or a negative lateness.
    pub fn tumbling(size: i64, lateness: i64, agg: A) -> Result<Self, WindowError> {
        Self::new(size, size, lateness, agg)
    }

    /// Adds a record with key `key`, timestamp `ts` and value `value` to every window that
    /// contains `ts` and has not fired yet.
    ///
    /// Returns [`Admission::Late`] (and counts it) when all those windows have fired.
    #[inline]
    pub fn insert(&mut self, key: K, ts: Timestamp, value: &V) -> Admission {
        let Some(map) = self.panes.map_at(ts, self.width) else {
            self.stats.late += 1;
            return Admission::Late;
        };
        self.stats.accepted += 1;
        let agg = &self.agg;
        let acc = map.entry(key).or_insert_with(|| agg.init());
        agg.accumulate(acc, value);
        Admission::Accepted
    }

    /// Advances the frontier to `frontier`: fires, in window order, every window with data
    /// whose `end + lateness <= frontier`, calling `emit(key, window, result)` once per key in
    /// it, and releases their panes (emptied by [`SlidingWindows::reclaim`]).
    /// `Timestamp::MAX` fires everything.
    pub fn advance(&mut self, frontier: Timestamp, mut emit: impl FnMut(K, Window, A::Out)) {
        let last = last_due(frontier, self.size, self.slide, self.lateness);
        while let Some(first_pane) = self.panes.first() {
            // The first unfired window holding the first live pane.
            let k = first_window(first_pane, self.per_window, self.per_slide).max(self.next);
            if i128::from(k) > last {
                break;
            }
            self.fire(k, &mut emit);
            self.next = k.saturating_add(1);
            self.panes
                .release_below(self.next.saturating_mul(self.per_slide));
        }
        if i128::from(self.next) <= last {
            // Windows up to `last` without data fire silently: records for them are late now.
            self.next = i64::try_from(last.saturating_add(1)).unwrap_or(i64::MAX);
            self.panes
                .release_below(self.next.saturating_mul(self.per_slide));
        }
    }

    /// Emits window `k`.
    fn fire(&mut self, k: i64, emit: &mut impl FnMut(K, Window, A::Out)) {
        let window = window_bounds(k, self.slide, self.size);
        let first = k.saturating_mul(self.per_slide);
        if self.per_window == 1 {
            // Tumbling: the window is one pane; drain it in place.
            if let Some(map) = self.panes.get_mut(first) {
                for (key, acc) in map.drain() {
                    self.stats.emitted += 1;
                    emit(key, window, self.agg.finish(acc));
                }
            }
            return;
        }
        let last = first.saturating_add(self.per_window);
        for (_, map) in self.panes.range(first..last) {
            for (key, acc) in map {
                if let Some(total) = self.scratch.get_mut(key) {
                    self.agg.merge(total, acc);
                } else {
                    let mut total = self.agg.init();
                    self.agg.merge(&mut total, acc);
                    self.scratch.insert(key.clone(), total);
                }
            }
        }
        for (key, acc) in self.scratch.drain() {
            self.stats.emitted += 1;
            emit(key, window, self.agg.finish(acc));
        }
    }

    /// Empties released panes: up to `budget` entries of accumulators that own heap memory, or
    /// whole panes of plain accumulators (a memset of their maps' control bytes); returns how
    /// many entries it freed. The window operator calls it once per input batch, so the work
    /// follows the results of the firing that released the panes, and memory is given back as
    /// records arrive rather than in one burst when a window fires.
    pub fn reclaim(&mut self, budget: usize) -> usize {
        self.panes.reclaim(budget)
    }

    /// Entries of released panes not emptied yet.
    #[cfg(test)]
    pub(super) fn unreclaimed(&self) -> usize {
        self.panes.unreclaimed()
    }

    /// The frontier at which the next window holding data fires, if any holds data.
    pub fn next_fire(&self) -> Option<Timestamp> {
        let first_pane = self.panes.first()?;
        let k = first_window(first_pane, self.per_window, self.per_slide).max(self.next);
        Some(
            window_bounds(k, self.slide, self.size)
                .end
                .saturating_add(self.lateness),
        )
    }

    /// Number of live (key, pane) accumulators: the state that firing frees.
    pub fn state_len(&self) -> usize {
        self.panes.len()
    }

    /// Record and result counts so far.
    pub fn stats(&self) -> WindowStats {
        self.stats
    }

    /// The aggregate.
    pub fn aggregate(&self) -> &A {
        &self.agg
    }
}

impl<K, V, A: Aggregate<V>> std::fmt::Debug for SlidingWindows<K, V, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlidingWindows")
            .field("size", &self.size)
            .field("slide", &self.slide)
            .field("lateness", &self.lateness)
            .field("live_panes", &self.panes.slots())
            .field("next_window", &self.next)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Checks a tumbling or sliding spec and returns its pane layout: the pane width
/// `gcd(size, slide)`, panes per window and panes per slide.
pub(super) fn pane_layout(
    size: i64,
    slide: i64,
    lateness: i64,
) -> Result<(i64, i64, i64), WindowError> {
    check_positive("size", size)?;
    check_positive("slide", slide)?;
    if slide > size {
        return Err(WindowError::SlideLargerThanSize { size, slide });
    }
    check_lateness(lateness)?;
    let width = gcd(size, slide);
    Ok((width, size / width, slide / width))
}

/// The last window index due at `frontier`: the largest `k` with
/// `k * slide + size + lateness <= frontier` (`i128::MAX` at end of input).
pub(super) fn last_due(frontier: Timestamp, size: i64, slide: i64, lateness: i64) -> i128 {
    if frontier == Timestamp::MAX {
        i128::MAX
    } else {
        let room = i128::from(frontier) - i128::from(size) - i128::from(lateness);
        room.div_euclid(i128::from(slide))
    }
}

/// The first window holding pane `pane`: the smallest `k` with `k * per_slide + per_window >
/// pane`.
pub(super) fn first_window(pane: i64, per_window: i64, per_slide: i64) -> i64 {
    let above = i128::from(pane) - i128::from(per_window) + 1;
    let k = -((-above).div_euclid(i128::from(per_slide)));
    i64::try_from(k).unwrap_or(i64::MIN)
}

/// Window `k`'s bounds, clamped to the timestamp range.
pub(super) fn window_bounds(k: i64, slide: i64, size: i64) -> Window {
    let start = i128::from(k) * i128::from(slide);
    let clamp = |t: i128| i64::try_from(t).unwrap_or(if t < 0 { i64::MIN } else { i64::MAX });
    Window {
        start: clamp(start),
        end: clamp(start + i128::from(size)),
    }
}

/// Greatest common divisor of two positive numbers.
fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::{Sum, TopK};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    type Results = BTreeMap<(u32, Window), u64>;

    fn collect<A: Aggregate<(), Out = u64>>(
        w: &mut SlidingWindows<u32, (), A>,
        frontier: i64,
        out: &mut Results,
    ) {
        w.advance(frontier, |k, win, c| {
            assert!(
                out.insert((k, win), c).is_none(),
                "window {win:?} fired twice"
            );
        });
    }

    #[test]
    fn tumbling_hand_computed() {
        let mut w = SlidingWindows::tumbling(10, 0, crate::window::Count).expect("spec");
        for (k, ts) in [(1, 0), (1, 9), (2, 5), (1, 10), (1, -1)] {
            assert_eq!(w.insert(k, ts, &()), Admission::Accepted);
        }
        let mut out = Results::new();
        collect(&mut w, 9, &mut out);
        // Frontier 9: [-10, 0) is complete, [0, 10) is not.
        assert_eq!(out.len(), 1);
        assert_eq!(out[&(1, Window { start: -10, end: 0 })], 1);
        collect(&mut w, 10, &mut out);
        assert_eq!(out[&(1, Window { start: 0, end: 10 })], 2);
        assert_eq!(out[&(2, Window { start: 0, end: 10 })], 1);
        assert_eq!(w.insert(2, 9, &()), Admission::Late);
        assert_eq!(w.insert(2, 10, &()), Admission::Accepted);
        collect(&mut w, i64::MAX, &mut out);
        assert_eq!(out[&(1, Window { start: 10, end: 20 })], 1);
        assert_eq!(out[&(2, Window { start: 10, end: 20 })], 1);
        assert_eq!(w.state_len(), 0);
        assert_eq!(w.stats().late, 1);
        assert_eq!(w.stats().emitted, 5);
    }

    #[test]
    fn sliding_hand_computed_with_gcd_panes() {
        // size 6, slide 4: panes of 2; windows [.., ..) start at multiples of 4.
        let mut w = SlidingWindows::new(6, 4, 0, Sum).expect("spec");
        w.insert(0, 5, &10); // windows [0,6) and [4,10)
        w.insert(0, 7, &1); // [4,10)
        w.insert(0, 3, &100); // [0,6)
        let mut out = Vec::new();
        w.advance(i64::MAX, |k, win, s| out.push((k, win.start, win.end, s)));
        out.sort_unstable();
        assert_eq!(out, vec![(0, 0, 6, 110), (0, 4, 10, 11)]);
    }

    #[test]
    fn lateness_delays_firing_and_partially_late_records_count_where_open() {
        // size 10, slide 5, lateness 3.
        let mut w = SlidingWindows::new(10, 5, 3, crate::window::Count).expect("spec");
        w.insert(7, 2, &()); // windows [-5,5), [0,10)
        let mut out = Results::new();
        collect(&mut w, 8, &mut out); // fires [-5,5) (5 + 3 <= 8)
        assert_eq!(out.len(), 1);
        // ts 4: [-5,5) fired, [0,10) open: accepted, counts in [0,10) only.
        assert_eq!(w.insert(7, 4, &()), Admission::Accepted);
        collect(&mut w, 13, &mut out); // fires [0,10)
        assert_eq!(out[&(7, Window { start: 0, end: 10 })], 2);
        assert_eq!(w.insert(7, 4, &()), Admission::Late);
        assert_eq!(w.insert(7, 5, &()), Admission::Accepted); // [5,15) still open
        assert_eq!(w.next_fire(), Some(18));
        collect(&mut w, i64::MAX, &mut out);
        assert_eq!(out[&(7, Window { start: 5, end: 15 })], 1);
        assert_eq!(w.stats().late, 1);
    }

    #[test]
    fn rejects_bad_specs() {
        let c = crate::window::Count;
        let e = SlidingWindows::<u32, (), _>::new(0, 1, 0, c).expect_err("size 0");
        assert_eq!(
            e,
            WindowError::NotPositive {
                setting: "size",
                value: 0
            }
        );
        assert!(e.to_string().contains("size"));
        assert!(SlidingWindows::<u32, (), _>::new(5, 6, 0, c).is_err());
        assert!(SlidingWindows::<u32, (), _>::new(5, 5, -1, c).is_err());
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        // Size 2, slide 1: the window [i64::MIN - 1, i64::MIN + 1) cannot be represented and
        // is skipped; windows reaching past i64::MAX end at i64::MAX.
        for (size, slide, windows) in [(10, 5, 4), (2, 1, 3), (1, 1, 2)] {
            let mut w = SlidingWindows::new(size, slide, 0, TopK::new(1)).expect("spec");
            w.insert(1, i64::MAX - 1, &1);
            w.insert(1, i64::MIN, &2);
            let mut n = 0;
            w.advance(i64::MAX - 1, |_, _, _| n += 1);
            w.advance(i64::MAX, |_, _, _| n += 1);
            assert_eq!(n, windows, "size {size}, slide {slide}");
            assert_eq!(w.state_len(), 0);
        }
    }

    /// One step of a random run: a record or a frontier advance.
    #[derive(Clone, Debug)]
    enum Step {
        Record(u32, i64),
        Advance(i64),
    }

    fn steps() -> impl Strategy<Value = Vec<Step>> {
        proptest::collection::vec(
            prop_oneof![
                4 => (0_u32..4, -20_i64..120).prop_map(|(k, t)| Step::Record(k, t)),
                1 => (-20_i64..130).prop_map(Step::Advance),
            ],
            0..80,
        )
    }

    /// Sequential reference: a window gets the records that arrived before it fired; a record
    /// is late when every window holding it had fired on arrival.
    fn reference(size: i64, slide: i64, lateness: i64, steps: &[Step]) -> (Results, u64) {
        let mut frontier = i64::MIN;
        let mut records: Vec<(u32, i64, i64)> = Vec::new(); // key, ts, frontier at arrival
        let mut late = 0;
        for step in steps {
            match *step {
                Step::Advance(f) => frontier = frontier.max(f),
                Step::Record(k, ts) => {
                    let last_end = ts.div_euclid(slide) * slide + size;
                    if frontier >= last_end + lateness {
                        late += 1;
                    } else {
                        records.push((k, ts, frontier));
                    }
                }
            }
        }
        let mut out = Results::new();
        for &(k, ts, arrived_at) in &records {
            let mut start = ts.div_euclid(slide) * slide;
            while start + size > ts {
                if arrived_at < start + size + lateness {
                    *out.entry((
                        k,
                        Window {
                            start,
                            end: start + size,
                        },
                    ))
                    .or_default() += 1;
                }
                start -= slide;
            }
        }
        (out, late)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn matches_reference(steps in steps(), size in 1_i64..12, slide_div in 1_i64..4,
                             lateness in 0_i64..6) {
            let slide = (size / slide_div).max(1);
            let mut w = SlidingWindows::new(size, slide, lateness, crate::window::Count)
                .expect("spec");
            let mut out = Results::new();
            let mut frontier = i64::MIN;
            for step in &steps {
                match *step {
                    Step::Record(k, ts) => { w.insert(k, ts, &()); }
                    Step::Advance(f) => {
                        frontier = frontier.max(f);
                        collect(&mut w, frontier, &mut out);
                        // Nothing due is left behind: state is freed as windows fire.
                        prop_assert!(w.next_fire().is_none_or(|due| due > frontier));
                    }
                }
            }
            collect(&mut w, i64::MAX, &mut out);
            let (expected, late) = reference(size, slide, lateness, &steps);
            prop_assert_eq!(out, expected);
            prop_assert_eq!(w.stats().late, late);
            prop_assert_eq!(w.state_len(), 0);
        }
    }
}
