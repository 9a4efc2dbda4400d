//! Per-window leaders of a monotone keyed aggregate, kept up to date as records arrive.
//!
//! The question "in each window, which keys have the highest aggregate?" (Nexmark q5: the
//! auctions with the most bids in each hopping window) is usually answered when the window
//! fires, by finishing every key's aggregate and taking the maximum: work proportional to the
//! keys in the window, all of it between the watermark and the result. When the aggregate is
//! [`Monotone`] (a key's result in a window only rises), the maximum and the keys at it can be
//! maintained record by record instead: *boards* `(best, keys at best)` are kept, and a record
//! that raises its key's result in a window to `v` offers `(key, v)` to a board the window
//! reads (its pane's or its own, see **State**). An offer below `best` changes nothing, one
//! equal to it adds the key, one above it replaces the keys. Because a key's result rises
//! strictly between two offers to a board, a key is offered at most once per value, and the
//! best of a window's boards holds exactly the keys whose *final* result equals the window's
//! maximum. Firing a window is then emitting that best: the cost at the watermark is
//! proportional to the result, not to the state.
//!
//! **State.** Accumulators are kept per key and *pane* (`gcd(size, slide)` ms, as in
//! [`SlidingWindows`](super::SlidingWindows)): a record updates one accumulator (one hash
//! lookup). A key's result in a window is the merge of its panes in that window. In the common
//! case a key's records fall in one pane only (an auction is bid on for milliseconds); then its
//! result in every window holding that pane is its pane accumulator, and a record that raises
//! it offers it once, to the *pane's* board. A key found in two panes that share a window is
//! marked *shared*, checked once, when the key first appears in a pane: a lookup in each live
//! pane within a window's reach whose key range (its smallest and largest key) holds the key,
//! so keys handed out in time order, as auction ids, skip nearly every lookup. A shared key's
//! offers merge its panes of each window of the record's pane, each to that window's own board.
//! A window's leaders, when it fires, are the best of its own board and its panes' boards: an
//! offer to a pane board is never above the key's result in any window of the pane (results
//! only rise), and the record that gave a key its final result in a window offered exactly that
//! result to a board the window reads. A key is on at most one of those boards at a given value
//! (it offers its pane's board only while unshared, and a board only when its result there
//! rose). The pane of the previous record is cached with its map, board and windows, so a
//! record in the same pane costs no ordered lookup and no division.
//!
//! **Time and lateness** are those of sliding windows: window `k` (`[k * slide, k * slide +
//! size)`) fires once the frontier reaches `end + lateness`, exactly once, in order; a record
//! is late when every window holding it has fired; a pane is released (its map cleared and
//! reused, see [`SlotStore`]) once its last window has fired.

use std::collections::BTreeMap;
use std::hash::Hash;
use std::marker::PhantomData;
use std::rc::Rc;

use super::aggregate::{ArgMaxAll, Monotone};
use super::dataflow::{Kind, WindowSpec, hold_back, key_hash};
use super::panes::{first_window, last_due, pane_layout, window_bounds};
use super::store::{SlotStore, reclaim_budget};
use super::two_phase::GlobalPhase;
use super::types::{Admission, Window, WindowError, WindowStats};
use crate::operator::{Operator, Output};
use crate::stream::Stream;
use crate::time::{Timestamp, Watermark};

/// One key's accumulator in one pane.
struct Entry<Acc> {
    acc: Acc,
    /// The key also has an accumulator in another live pane sharing a window with this one.
    shared: bool,
}

/// What `insert` found for a record's key in its pane.
enum Found<Acc, O> {
    /// An unshared entry; its new result when it rose.
    Plain(Option<O>),
    /// A shared entry, with its accumulator before the record.
    Shared(Acc),
    /// No entry yet.
    New,
}

/// A live pane's board (offers of keys alone in it) and the range of its keys.
struct PaneInfo<K, O> {
    board: Board<K, O>,
    /// The smallest and largest key with an accumulator in the pane.
    keys: Option<(K, K)>,
}

impl<K, O> Default for PaneInfo<K, O> {
    fn default() -> Self {
        PaneInfo {
            board: Board::default(),
            keys: None,
        }
    }
}

/// A window's best result so far and the keys at it (unsorted).
struct Board<K, O> {
    best: Option<(O, Vec<K>)>,
}

impl<K, O> Default for Board<K, O> {
    fn default() -> Self {
        Board { best: None }
    }
}

impl<K: Clone, O: Ord> Board<K, O> {
    #[inline]
    fn offer(&mut self, key: &K, value: O) {
        match &mut self.best {
            Some((best, keys)) => match value.cmp(best) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => keys.push(key.clone()),
                std::cmp::Ordering::Greater => {
                    *best = value;
                    keys.clear();
                    keys.push(key.clone());
                }
            },
            None => self.best = Some((value, vec![key.clone()])),
        }
    }

    /// Takes in another board's best: the higher one, or both key lists when they tie.
    fn absorb(&mut self, other: &Self)
    where
        O: Clone,
    {
        let Some((value, at)) = &other.best else {
            return;
        };
        match &mut self.best {
            Some((best, keys)) => match value.cmp(best) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => keys.extend(at.iter().cloned()),
                std::cmp::Ordering::Greater => {
                    *best = value.clone();
                    keys.clone_from(at);
                }
            },
            None => self.best.clone_from(&other.best),
        }
    }
}

/// A free position of a slab (`free`), or a new one at its end.
fn slab_slot<T: Default>(slab: &mut Vec<T>, free: &mut Vec<usize>) -> usize {
    free.pop().unwrap_or_else(|| {
        slab.push(T::default());
        slab.len() - 1
    })
}

/// Keyed tumbling or sliding windows of a [`Monotone`] aggregate that emit, per window, the
/// highest result over all keys and every key that has it.
///
/// # Examples
///
/// ```
/// use weir_engine::window::{Count, WindowLeaders};
///
/// // The most frequent keys per 10 ms window sliding by 5 ms.
/// let mut leaders = WindowLeaders::new(10, 5, 0, Count).expect("valid spec");
/// for (key, ts) in [("a", 1), ("b", 2), ("b", 6), ("a", 7), ("c", 8), ("c", 9)] {
///     leaders.insert(key, ts, &());
/// }
/// let mut out = Vec::new();
/// leaders.advance(i64::MAX, |window, best, keys| out.push((window.start, best, keys)));
/// // [-5, 5): a and b once; [0, 10): a, b and c twice; [5, 15): c twice.
/// assert_eq!(out, vec![(-5, 1, vec!["a", "b"]), (0, 2, vec!["a", "b", "c"]), (5, 2, vec!["c"])]);
/// ```
pub struct WindowLeaders<K, V, A: Monotone<V>> {
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
    panes: SlotStore<K, Entry<A::Acc>>,
    /// Live panes' boards and key ranges, in a slab indexed by `pane_index`.
    pane_infos: Vec<PaneInfo<K, A::Out>>,
    pane_index: BTreeMap<i64, usize>,
    free_infos: Vec<usize>,
    /// Boards of unfired windows with data, in a slab indexed by `board_index`.
    boards: Vec<Board<K, A::Out>>,
    board_index: BTreeMap<i64, usize>,
    free_boards: Vec<usize>,
    /// The pane of the previous record covers timestamps `[cache_start, cache_end)` (empty:
    /// none cached); its number, its map's storage position, its info's slab position, and
    /// `(window index, board position)` of its unfired windows.
    cache_start: Timestamp,
    cache_end: Timestamp,
    cache_pane: i64,
    cache_pos: usize,
    cache_info: usize,
    cache_windows: Vec<(i64, usize)>,
    /// `(pane, storage position)` of the panes that may share a window with a pane (scratch).
    neighbours: Vec<(i64, usize)>,
    /// A shared key's accumulators in the live panes of a pane's unfired windows, by pane
    /// (scratch).
    shared_accs: Vec<(i64, A::Acc)>,
    /// Smallest window index not fired yet.
    next: i64,
    stats: WindowStats,
    _values: PhantomData<fn(&V)>,
}

impl<K, V, A> WindowLeaders<K, V, A>
where
    K: Hash + Eq + Ord + Clone,
    A: Monotone<V>,
    A::Acc: Clone,
    A::Out: Ord + Clone,
{
    /// Leaders of windows of `size` ms every `slide` ms (`slide == size`: tumbling), firing at
    /// `end + lateness`.
    ///
    /// # Errors
    ///
    /// A size or slide below 1 ms, a slide larger than the size, or a negative lateness.
    pub fn new(size: i64, slide: i64, lateness: i64, agg: A) -> Result<Self, WindowError> {
        let (width, per_window, per_slide) = pane_layout(size, slide, lateness)?;
        Ok(Self {
            agg,
            size,
            slide,
            lateness,
            width,
            per_window,
            per_slide,
            panes: SlotStore::new(),
            pane_infos: Vec::new(),
            pane_index: BTreeMap::new(),
            free_infos: Vec::new(),
            boards: Vec::new(),
            board_index: BTreeMap::new(),
            free_boards: Vec::new(),
            cache_start: Timestamp::MAX,
            cache_end: Timestamp::MIN,
            cache_pane: i64::MIN,
            cache_pos: 0,
            cache_info: 0,
            cache_windows: Vec::new(),
            neighbours: Vec::new(),
            shared_accs: Vec::new(),
            next: i64::MIN,
            stats: WindowStats::default(),
            _values: PhantomData,
        })
    }

    /// Adds a record to every unfired window holding `ts` and updates their boards.
    ///
    /// Returns [`Admission::Late`] (and counts it) when all those windows have fired.
    #[inline]
    pub fn insert(&mut self, key: K, ts: Timestamp, value: &V) -> Admission {
        if !(self.cache_start..self.cache_end).contains(&ts) && !self.open_pane(ts) {
            self.stats.late += 1;
            return Admission::Late;
        }
        self.stats.accepted += 1;
        let (pane, pos) = (self.cache_pane, self.cache_pos);
        let found = match self.panes.map(pos).get_mut(&key) {
            Some(entry) if !entry.shared => {
                let before = self.agg.current(&entry.acc);
                self.agg.accumulate(&mut entry.acc, value);
                let now = self.agg.current(&entry.acc);
                Found::Plain((now > before).then_some(now))
            }
            Some(entry) => {
                let old = entry.acc.clone();
                self.agg.accumulate(&mut entry.acc, value);
                Found::Shared(old)
            }
            None => Found::New,
        };
        match found {
            Found::Plain(Some(now)) => self.pane_infos[self.cache_info].board.offer(&key, now),
            Found::Plain(None) => {}
            Found::Shared(old) => self.offer_shared(pane, &key, Some(&old)),
            Found::New => self.insert_new(pos, pane, key, value),
        }
        Admission::Accepted
    }

    /// The first record of `key` in `pane` (storage position `pos`).
    fn insert_new(&mut self, pos: usize, pane: i64, key: K, value: &V) {
        // The key's first record in this pane: does it share a window with another pane?
        let shared = self.mark_neighbours(pane, &key);
        let keys = &mut self.pane_infos[self.cache_info].keys;
        match keys {
            Some((low, high)) => {
                if key < *low {
                    *low = key.clone();
                } else if key > *high {
                    *high = key.clone();
                }
            }
            None => *keys = Some((key.clone(), key.clone())),
        }
        let mut acc = self.agg.init();
        self.agg.accumulate(&mut acc, value);
        if shared {
            // `mark_neighbours` found the key's accumulators in the other panes.
            let at = self.shared_accs.partition_point(|&(slot, _)| slot < pane);
            self.shared_accs.insert(at, (pane, acc.clone()));
            self.panes
                .map(pos)
                .insert(key.clone(), Entry { acc, shared });
            self.offer_found(pane, &key, None);
        } else {
            let now = self.agg.current(&acc);
            self.pane_infos[self.cache_info].board.offer(&key, now);
            self.panes.map(pos).insert(key, Entry { acc, shared });
        }
    }

    /// Opens the pane holding `ts` (its map, its info, its unfired windows' boards) and caches
    /// it; `false` when the pane is released (the record is late).
    fn open_pane(&mut self, ts: Timestamp) -> bool {
        let pane = ts.div_euclid(self.width);
        let Some(pos) = self.panes.open(pane) else {
            return false;
        };
        let info = *self
            .pane_index
            .entry(pane)
            .or_insert_with(|| slab_slot(&mut self.pane_infos, &mut self.free_infos));
        self.cache_windows.clear();
        let first = first_window(pane, self.per_window, self.per_slide).max(self.next);
        let last = pane.div_euclid(self.per_slide);
        for k in first..=last {
            let board = *self
                .board_index
                .entry(k)
                .or_insert_with(|| slab_slot(&mut self.boards, &mut self.free_boards));
            self.cache_windows.push((k, board));
        }
        self.cache_start = pane.saturating_mul(self.width);
        self.cache_end = pane.saturating_add(1).saturating_mul(self.width);
        self.cache_pane = pane;
        self.cache_pos = pos;
        self.cache_info = info;
        true
    }

    /// Marks `key`'s entries in the live panes that share a window with `pane` as shared and
    /// lists their accumulators in `shared_accs`; returns whether there was one.
    fn mark_neighbours(&mut self, pane: i64, key: &K) -> bool {
        self.shared_accs.clear();
        if self.per_window == 1 {
            return false; // tumbling: no two panes share a window
        }
        let span = self.per_window - 1;
        self.neighbours.clear();
        let near = pane.saturating_sub(span)..pane.saturating_add(span).saturating_add(1);
        let infos = &self.pane_infos;
        // A pane whose keys' range does not hold the key cannot hold it: no lookup.
        let holds = |slot: i64| {
            let info = self.pane_index.get(&slot).map(|&i| &infos[i]);
            info.and_then(|info| info.keys.as_ref())
                .is_some_and(|(low, high)| low <= key && key <= high)
        };
        self.neighbours.extend(
            self.panes
                .positions(near)
                .filter(|&(slot, _)| slot != pane && holds(slot)),
        );
        for &(slot, pos) in &self.neighbours {
            if let Some(entry) = self.panes.map(pos).get_mut(key) {
                entry.shared = true;
                self.shared_accs.push((slot, entry.acc.clone()));
            }
        }
        !self.shared_accs.is_empty()
    }

    /// Offers a shared key that already had a record in `pane` (`old`: its accumulator there
    /// before this one): looks the key up once in each live pane of the pane's unfired
    /// windows, not once per window and pane, then offers it as [`Self::offer_found`] does.
    fn offer_shared(&mut self, pane: i64, key: &K, old: Option<&A::Acc>) {
        let (Some(&(first_k, _)), Some(&(last_k, _))) =
            (self.cache_windows.first(), self.cache_windows.last())
        else {
            return;
        };
        self.shared_accs.clear();
        let span = first_k.saturating_mul(self.per_slide)
            ..last_k
                .saturating_mul(self.per_slide)
                .saturating_add(self.per_window);
        for (slot, map) in self.panes.range(span) {
            if let Some(entry) = map.get(key) {
                self.shared_accs.push((slot, entry.acc.clone()));
            }
        }
        self.offer_found(pane, key, old);
    }

    /// Offers a shared key whose accumulators, by pane, are in `shared_accs`: per unfired
    /// window of `pane`, its result merged over the window's panes, when it rose (`old` is its
    /// accumulator in `pane` before the record, `None` when the record opened it). A new
    /// pane's first records are mostly such keys, and they come just as the windows that end
    /// there fire.
    fn offer_found(&mut self, pane: i64, key: &K, old: Option<&A::Acc>) {
        let found = std::mem::take(&mut self.shared_accs);
        for &(k, board) in &self.cache_windows {
            let first = k.saturating_mul(self.per_slide);
            let panes = first..first.saturating_add(self.per_window);
            let mut now = self.agg.init();
            let mut before = self.agg.init();
            let mut present_before = false;
            for (slot, acc) in found.iter().filter(|(slot, _)| panes.contains(slot)) {
                self.agg.merge(&mut now, acc);
                if *slot != pane {
                    self.agg.merge(&mut before, acc);
                    present_before = true;
                } else if let Some(old) = old {
                    self.agg.merge(&mut before, old);
                    present_before = true;
                }
            }
            let now = self.agg.current(&now);
            if !present_before || now > self.agg.current(&before) {
                self.boards[board].offer(key, now);
            }
        }
        self.shared_accs = found;
    }

    /// Advances the frontier: fires, in order, every window with data whose
    /// `end + lateness <= frontier`, calling `emit(window, best, keys)` with its keys sorted,
    /// and releases the panes no unfired window holds. `Timestamp::MAX` fires everything.
    pub fn advance(&mut self, frontier: Timestamp, mut emit: impl FnMut(Window, A::Out, Vec<K>)) {
        let last = last_due(frontier, self.size, self.slide, self.lateness);
        while let Some(entry) = self.board_index.first_entry() {
            let k = *entry.key();
            if i128::from(k) > last {
                break;
            }
            let pos = entry.remove();
            self.free_boards.push(pos);
            // The window's own board, then its panes' boards.
            let mut board = std::mem::take(&mut self.boards[pos]);
            let first = k.saturating_mul(self.per_slide);
            for (_, &i) in self
                .pane_index
                .range(first..first.saturating_add(self.per_window))
            {
                board.absorb(&self.pane_infos[i].board);
            }
            if let Some((best, mut keys)) = board.best {
                keys.sort_unstable();
                debug_assert!(
                    keys.windows(2).all(|pair| pair[0] < pair[1]),
                    "a key on two of a window's boards at its best"
                );
                self.stats.emitted += 1;
                emit(window_bounds(k, self.slide, self.size), best, keys);
            }
        }
        if i128::from(self.next) <= last {
            self.next = i64::try_from(last.saturating_add(1)).unwrap_or(i64::MAX);
            let min_live = self.next.saturating_mul(self.per_slide);
            self.panes.release_below(min_live);
            while let Some(entry) = self.pane_index.first_entry() {
                if *entry.key() >= min_live {
                    break;
                }
                let i = entry.remove();
                self.pane_infos[i] = PaneInfo::default();
                self.free_infos.push(i);
            }
            // The cached pane's windows have changed, or the pane is released.
            self.cache_start = Timestamp::MAX;
            self.cache_end = Timestamp::MIN;
        }
    }

    /// Empties released panes, up to `budget` entries (see
    /// [`SlidingWindows::reclaim`](super::SlidingWindows::reclaim)); the operator calls it
    /// once per batch, after the batch's records.
    pub fn reclaim(&mut self, budget: usize) -> usize {
        self.panes.reclaim(budget)
    }

    /// The frontier at which the next window with data fires, if any has data.
    pub fn next_fire(&self) -> Option<Timestamp> {
        let (&k, _) = self.board_index.first_key_value()?;
        Some(
            window_bounds(k, self.slide, self.size)
                .end
                .saturating_add(self.lateness),
        )
    }

    /// Live (key, pane) accumulators plus open boards: the state firing frees.
    pub fn state_len(&self) -> usize {
        self.panes.len() + self.board_index.len()
    }

    /// Record counts so far; `emitted` counts windows emitted.
    pub fn stats(&self) -> WindowStats {
        self.stats
    }
}

impl<K, V, A: Monotone<V>> std::fmt::Debug for WindowLeaders<K, V, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowLeaders")
            .field("size", &self.size)
            .field("slide", &self.slide)
            .field("lateness", &self.lateness)
            .field("live_panes", &self.panes.slots())
            .field("open_boards", &self.board_index.len())
            .field("next_window", &self.next)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// One window's leaders: the window, the highest result and the keys at it (sorted).
pub type Leaders<K, O> = (Window, O, Vec<K>);

/// The local phase: one [`WindowLeaders`] per worker over the keys it owns.
struct LeadersOperator<T, K, A: Monotone<T>, FK, FT> {
    state: WindowLeaders<K, T, A>,
    key: FK,
    time: FT,
    lateness: i64,
}

impl<T, K, A, FK, FT> Operator for LeadersOperator<T, K, A, FK, FT>
where
    T: 'static,
    K: Hash + Eq + Ord + Clone + 'static,
    A: Monotone<T> + 'static,
    A::Acc: Clone,
    A::Out: Ord + Clone + 'static,
    FK: Fn(&T) -> K + 'static,
    FT: Fn(&T) -> Timestamp + 'static,
{
    type In = T;
    type Out = (Window, Option<(A::Out, Vec<K>)>);

    fn on_batch(&mut self, input: &mut Vec<T>, out: &mut Output<'_, Self::Out>) {
        let n = input.len();
        let mut late = 0;
        for record in input.drain(..) {
            let key = (self.key)(&record);
            late += u64::from(
                self.state
                    .insert(key, (self.time)(&record), &record)
                    .is_late(),
            );
        }
        if late > 0 {
            out.count_late(late);
        }
        // Free released state at least as fast as records arrive.
        self.state.reclaim(reclaim_budget(n));
    }

    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, Self::Out>) -> Timestamp {
        self.state.advance(wm.time, |window, best, keys| {
            out.push((window, Some((best, keys))));
        });
        hold_back(wm.time, self.lateness)
    }
}

impl<T: Send + 'static> Stream<T> {
    /// Per window, the highest result of a [`Monotone`] keyed aggregate over all keys and every
    /// key that has it (ties kept, keys sorted): `(window, best, keys)`, once per window with
    /// records, when the frontier passes the window's end plus the allowed lateness.
    ///
    /// The same answer as [`Stream::window`] followed by [`Stream::window_all`] with
    /// [`ArgMaxAll`], computed incrementally: each worker keeps, for the keys it owns, each
    /// window's best result and keys up to date as records arrive (see the `leaders` module
    /// docs in the source), so firing a window costs nothing beyond emitting one partial per
    /// worker; one worker per window merges the partials. Late records are counted and
    /// dropped.
    ///
    /// # Errors
    ///
    /// An invalid `spec`, or session or global windows (use [`Stream::window`]).
    ///
    /// # Examples
    ///
    /// Nexmark q5's shape, the keys with the most records per hopping window:
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use weir_engine::window::{Count, WindowSpec};
    /// use weir_engine::{Config, IterSource, execute};
    ///
    /// let results = Arc::new(Mutex::new(Vec::new()));
    /// let sink = Arc::clone(&results);
    /// execute(Config::new(2).with_pinning(false), move |worker| {
    ///     let mine: Vec<(u64, i64)> = (0..40_i64)
    ///         .filter(|t| *t as usize % worker.peers() == worker.index())
    ///         .map(|t| (if t < 30 { (t % 3) as u64 } else { 7 }, t))
    ///         .collect();
    ///     let sink = Arc::clone(&sink);
    ///     worker
    ///         .source(IterSource::new(mine, |r: &(u64, i64)| r.1, 0))
    ///         .window_leaders(WindowSpec::sliding(20, 10), |r| r.0, |r| r.1, Count)
    ///         .expect("valid window")
    ///         .for_each(move |(window, best, keys)| {
    ///             sink.lock().expect("lock").push((window.start, best, keys))
    ///         });
    /// })?;
    /// let mut results = results.lock().expect("lock").clone();
    /// results.sort_unstable();
    /// assert_eq!(
    ///     results,
    ///     vec![
    ///         (-10, 4, vec![0]),     // [-10, 10): key 0 four times, keys 1 and 2 three
    ///         (0, 7, vec![0, 1]),    // [0, 20): keys 0 and 1 seven times, key 2 six
    ///         (10, 7, vec![1, 2]),   // [10, 30): keys 1 and 2 seven times, key 0 six
    ///         (20, 10, vec![7]),     // [20, 40): key 7 ten times
    ///         (30, 10, vec![7]),
    ///     ]
    /// );
    /// # Ok::<(), weir_engine::EngineError>(())
    /// ```
    pub fn window_leaders<K, A>(
        self,
        spec: WindowSpec,
        key: impl Fn(&T) -> K + 'static,
        time: impl Fn(&T) -> Timestamp + 'static,
        agg: A,
    ) -> Result<Stream<Leaders<K, A::Out>>, WindowError>
    where
        K: Hash + Eq + Ord + Clone + Send + 'static,
        A: Monotone<T> + 'static,
        A::Acc: Clone,
        A::Out: Ord + Clone + Send + 'static,
    {
        let (size, slide) = match spec.kind {
            Kind::Sliding { size, slide } => (size, slide),
            Kind::Session { .. } | Kind::Global => {
                return Err(WindowError::Unsupported {
                    operator: "window_leaders",
                    windows: if matches!(spec.kind, Kind::Global) {
                        "global"
                    } else {
                        "session"
                    },
                    instead: "use Stream::window, then pick the leaders from its results",
                });
            }
        };
        let state = WindowLeaders::new(size, slide, spec.lateness(), agg)?;
        let key = Rc::new(key);
        let route = Rc::clone(&key);
        let local = LeadersOperator {
            state,
            key: move |r: &T| key(r),
            time,
            lateness: spec.lateness(),
        };
        let peers = self.peers() as i64;
        Ok(self
            .key_by(move |r| key_hash(&route(r)))
            .unary("window_leaders", local)
            .exchange(move |(window, _)| window.start.div_euclid(slide).rem_euclid(peers) as usize)
            .unary(
                "window_leaders_merge",
                GlobalPhase::<(K, A::Out), _>::new(Rc::new(ArgMaxAll::new())),
            )
            .flat_map(|(window, best)| best.map(|(best, keys)| (window, best, keys))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::{Aggregate, Count, Max, SlidingWindows, on};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    type Leaders = BTreeMap<Window, (u64, Vec<u32>)>;

    /// One step of a random run: a record `(key, ts, value)` or a frontier advance.
    #[derive(Clone, Debug)]
    enum Step {
        Record(u32, i64, u64),
        Advance(i64),
    }

    fn steps() -> impl Strategy<Value = Vec<Step>> {
        proptest::collection::vec(
            prop_oneof![
                5 => (0_u32..6, -20_i64..140, 0_u64..5).prop_map(|(k, t, v)| Step::Record(k, t, v)),
                1 => (-20_i64..150).prop_map(Step::Advance),
            ],
            0..120,
        )
    }

    /// The reference: the keyed sliding window (itself checked against a sequential
    /// reference), then per window the largest result and the keys at it.
    fn reference<A>(size: i64, slide: i64, lateness: i64, agg: A, steps: &[Step]) -> (Leaders, u64)
    where
        A: Monotone<(u32, i64, u64), Out = u64>,
    {
        let mut w = SlidingWindows::new(size, slide, lateness, agg).expect("spec");
        let mut per_window: BTreeMap<Window, BTreeMap<u32, u64>> = BTreeMap::new();
        let mut collect = |w: &mut SlidingWindows<u32, (u32, i64, u64), A>, frontier| {
            w.advance(frontier, |k, win, v| {
                per_window.entry(win).or_default().insert(k, v);
            });
        };
        for step in steps {
            match *step {
                Step::Record(k, t, v) => {
                    w.insert(k, t, &(k, t, v));
                }
                Step::Advance(f) => collect(&mut w, f),
            }
        }
        collect(&mut w, i64::MAX);
        let leaders = per_window
            .into_iter()
            .map(|(win, results)| {
                let best = results.values().copied().max().expect("a window with data");
                let keys = results
                    .into_iter()
                    .filter(|&(_, v)| v == best)
                    .map(|(k, _)| k);
                (win, (best, keys.collect()))
            })
            .collect();
        (leaders, w.stats().late)
    }

    fn run<A>(size: i64, slide: i64, lateness: i64, agg: A, steps: &[Step]) -> (Leaders, u64)
    where
        A: Monotone<(u32, i64, u64), Out = u64>,
        A::Acc: Clone,
    {
        let mut w = WindowLeaders::new(size, slide, lateness, agg).expect("spec");
        let mut out = Leaders::new();
        let mut frontier = i64::MIN;
        let emit = |out: &mut Leaders, win: Window, best: u64, keys: Vec<u32>| {
            assert!(
                out.insert(win, (best, keys)).is_none(),
                "{win:?} fired twice"
            );
        };
        for step in steps {
            match *step {
                Step::Record(k, t, v) => {
                    w.insert(k, t, &(k, t, v));
                }
                Step::Advance(f) => {
                    frontier = frontier.max(f);
                    w.advance(frontier, |win, best, keys| emit(&mut out, win, best, keys));
                    assert!(
                        w.next_fire().is_none_or(|due| due > frontier),
                        "a due window is left"
                    );
                }
            }
        }
        w.advance(i64::MAX, |win, best, keys| emit(&mut out, win, best, keys));
        assert_eq!(w.state_len(), 0);
        (out, w.stats().late)
    }

    #[test]
    fn a_key_in_two_panes_of_a_window_counts_once_per_record() {
        // Size 10, slide 5 (panes of 5): key 1 at 4, 6 and 9 spans two panes, as does key 2 at
        // 7, 8 and 11. [0, 10): key 1 three times, key 2 twice; [5, 15): key 1 twice (6, 9),
        // key 2 three times (7, 8, 11).
        let mut w = WindowLeaders::new(10, 5, 0, Count).expect("spec");
        for (k, t) in [(1, 4), (1, 6), (2, 7), (2, 8), (1, 9), (2, 11)] {
            w.insert(k, t, &());
        }
        let mut out = Vec::new();
        w.advance(i64::MAX, |win, best, keys| {
            out.push((win.start, best, keys));
        });
        assert_eq!(
            out,
            vec![
                (-5, 1, vec![1]),
                (0, 3, vec![1]),
                (5, 3, vec![2]),
                (10, 1, vec![2])
            ]
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn counts_match_the_keyed_window_reference(steps in steps(), size in 1_i64..30,
                                                  slide_div in 1_i64..5, lateness in 0_i64..8) {
            let slide = (size / slide_div).max(1);
            let expected = reference(size, slide, lateness, Count, &steps);
            prop_assert_eq!(run(size, slide, lateness, Count, &steps), expected);
        }

        /// A maximum rises only sometimes: equal values must not add a key twice.
        #[test]
        fn maxima_match_the_keyed_window_reference(steps in steps(), size in 1_i64..30,
                                                  slide_div in 1_i64..5, lateness in 0_i64..8) {
            let slide = (size / slide_div).max(1);
            let agg = || on(|r: &(u32, i64, u64)| r.2, Max::new());
            let expected = reference(size, slide, lateness, MaxOrZero(agg()), &steps);
            prop_assert_eq!(run(size, slide, lateness, MaxOrZero(agg()), &steps), expected);
        }
    }

    /// `Max` of the value as a plain `u64` (0 when empty), to share the `u64` harness.
    #[derive(Clone)]
    struct MaxOrZero<A>(A);

    impl<A: Monotone<(u32, i64, u64), Out = Option<u64>>> Aggregate<(u32, i64, u64)> for MaxOrZero<A> {
        type Acc = A::Acc;
        type Out = u64;
        fn init(&self) -> A::Acc {
            self.0.init()
        }
        fn accumulate(&self, acc: &mut A::Acc, value: &(u32, i64, u64)) {
            self.0.accumulate(acc, value);
        }
        fn merge(&self, acc: &mut A::Acc, other: &A::Acc) {
            self.0.merge(acc, other);
        }
        fn finish(&self, acc: A::Acc) -> u64 {
            self.0.finish(acc).unwrap_or(0)
        }
    }

    impl<A: Monotone<(u32, i64, u64), Out = Option<u64>>> Monotone<(u32, i64, u64)> for MaxOrZero<A> {
        fn current(&self, acc: &A::Acc) -> u64 {
            self.0.current(acc).unwrap_or(0)
        }
    }
}
