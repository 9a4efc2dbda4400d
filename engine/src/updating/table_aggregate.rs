//! Unbounded keyed aggregation as a changelog (an unwindowed `GROUP BY`): per key an
//! accumulator folded from every row of the key, and its result kept up to date downstream.
//!
//! **State.** One accumulator per distinct key seen, never freed: without windows no group
//! is ever complete before end of input. What an accumulator holds is the aggregate's choice:
//! [`FilteredCounts`] is a few integers; [`FilteredDistinct`] keeps every distinct value of
//! the group once, with a bit mask of the filters it has passed (a `COUNT(DISTINCT x) FILTER
//! (WHERE ...)` family shares one set instead of one set per filter; [`FilteredDistinctIds`]
//! is the same set for integer ids, one 4-byte word per value). The groups (key, accumulator
//! and the number of the mini-batch that last touched it) live in chunks of 4,096 entries
//! that never move (`chunked.rs`: a doubling vector copied them all at each growth), found
//! through one hash map from key to position, so a row costs one hash lookup. During a
//! mini-batch the operator also remembers the previous result of each group the mini-batch
//! touched, and forgets it when the mini-batch's changes are emitted.
//!
//! **Cost.** When the groups or their sets outgrow the caches (q16: 10,000 channels, each with
//! two distinct sets), a row is a chain of cache misses: its group, then the slot of its value
//! in the group's set. A batch is therefore handled in two passes. The first finds every row's
//! group in order (a key's first row creates it) and asks the CPU for the group's memory
//! (software prefetch); the second accumulates the rows, and while it accumulates one row the
//! aggregate's [`TableAggregate::prefetch`] asks for the memory of the row a few places ahead,
//! so the misses of several rows overlap instead of following each other.
//!
//! **Changes.** Once per mini-batch and changed key (a key updated by a thousand rows within
//! one mini-batch, [`Config::mini_batch`](crate::Config::mini_batch), emits one update, not a
//! thousand): the retraction of the key's result before the mini-batch, if it had one, then
//! the insertion of its new result. A result that did not change emits nothing. A mini-batch
//! ends when its interval has passed on the job clock (a processing-time timer) and at the
//! end of input; a zero interval makes every input batch one.

use std::hash::{BuildHasher, Hash};
use std::rc::Rc;

use super::changelog::Change;
use super::chunked::Chunked;
use super::mini_batch::{MiniBatched, Updating};
use crate::operator::Output;
use crate::stream::Stream;
use crate::window::FastMap;
use crate::window::dataflow::key_hash;

/// An aggregate whose result can be read at any time (an updating `GROUP BY`).
pub trait TableAggregate<V: ?Sized> {
    /// The running state of one key.
    type Acc;
    /// The result of one key.
    type Out: PartialEq;
    /// A fresh accumulator for a key whose first row is `first` (not yet accumulated).
    fn init(&self, first: &V) -> Self::Acc;
    /// Adds one row.
    fn accumulate(&self, acc: &mut Self::Acc, value: &V);
    /// The key's current result.
    fn result(&self, acc: &Self::Acc) -> Self::Out;
    /// A hint that `value` will be accumulated into `acc` shortly (a few rows later): an
    /// accumulator too large for the caches, such as a [`FilteredDistinct`], can ask for the
    /// memory the value will touch ([`FilteredDistinct::prefetch`]). The default does nothing.
    fn prefetch(&self, _acc: &Self::Acc, _value: &V) {}
}

/// How many rows ahead of the one it accumulates [`TableAggregator`] asks for the memory of a
/// row (its aggregate's [`TableAggregate::prefetch`]): far enough for a miss to memory to be
/// over when the row comes, near enough for the line to still be cached.
const PREFETCH_AHEAD: usize = 8;

/// The unbounded keyed aggregation operator ([`Stream::table_aggregate`]).
pub struct TableAggregator<T, K, A: TableAggregate<T>> {
    key: Rc<dyn Fn(&T) -> K>,
    agg: A,
    /// Each key's position in `groups`.
    index: FastMap<K, usize>,
    groups: Chunked<Group<K, A::Acc>>,
    /// The groups the current mini-batch changed (positions in `groups`), with their result
    /// before it (`None`: the mini-batch created the group); a group whose `batch` is the
    /// current mini-batch's number is here.
    touched: Vec<(usize, Option<A::Out>)>,
    /// The position in `groups` of each row of the current batch.
    rows_at: Vec<usize>,
}

/// One key's state.
struct Group<K, Acc> {
    key: K,
    acc: Acc,
    /// The last mini-batch that touched the group.
    batch: u64,
}

impl<T, K, A: TableAggregate<T>> std::fmt::Debug for TableAggregator<T, K, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableAggregator")
            .field("keys", &self.groups.len())
            .finish_non_exhaustive()
    }
}

impl<T, K, A> Updating for TableAggregator<T, K, A>
where
    T: 'static,
    K: Hash + Eq + Clone + 'static,
    A: TableAggregate<T> + 'static,
{
    type In = T;
    type Out = Change<(K, A::Out)>;

    fn take(&mut self, input: &mut Vec<T>, batch: u64) {
        // First each row's group, in order (a key's first row creates it), asking for the
        // group's memory; then the rows are accumulated, each a few rows after its
        // accumulator's memory was asked for, so the cache misses overlap.
        self.rows_at.clear();
        for row in input.iter() {
            let key = (self.key)(row);
            let at = if let Some(&at) = self.index.get(&key) {
                at
            } else {
                let at = self.groups.len();
                self.index.insert(key.clone(), at);
                let acc = self.agg.init(row);
                self.groups.push(Group { key, acc, batch });
                self.touched.push((at, None));
                at
            };
            crate::prefetch::read(&self.groups[at]);
            self.rows_at.push(at);
        }
        for (i, row) in input.iter().enumerate() {
            if let Some(&ahead) = self.rows_at.get(i + PREFETCH_AHEAD) {
                self.agg
                    .prefetch(&self.groups[ahead].acc, &input[i + PREFETCH_AHEAD]);
            }
            let at = self.rows_at[i];
            let group = &mut self.groups[at];
            if group.batch != batch {
                group.batch = batch;
                self.touched.push((at, Some(self.agg.result(&group.acc))));
            }
            self.agg.accumulate(&mut group.acc, row);
        }
        input.clear();
    }

    fn pending(&self) -> bool {
        !self.touched.is_empty()
    }

    fn emit(&mut self, out: &mut Output<'_, Self::Out>) {
        for (at, before) in self.touched.drain(..) {
            let group = &self.groups[at];
            let now = self.agg.result(&group.acc);
            match before {
                Some(before) if before == now => {}
                Some(before) => {
                    out.push(Change::retract((group.key.clone(), before)));
                    out.push(Change::insert((group.key.clone(), now)));
                }
                None => out.push(Change::insert((group.key.clone(), now))),
            }
        }
    }
}

impl<T: Send + 'static> Stream<T> {
    /// Unbounded keyed aggregation as a changelog of `(key, result)` rows: per key `key(row)`,
    /// the result of `agg` over every row of the key so far, updated once per mini-batch
    /// ([`Config::mini_batch`](crate::Config::mini_batch)) in which it changes. The input is
    /// partitioned by key. See [`TableAggregator`] for the state.
    ///
    /// # Examples
    ///
    /// Rows per key and distinct values per key among the even rows:
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use weir_engine::updating::{FilteredCounts, FilteredDistinct, Table, TableAggregate};
    /// use weir_engine::{Config, IterSource, execute};
    ///
    /// struct Stats;
    /// impl TableAggregate<(u64, u64)> for Stats {
    ///     type Acc = (FilteredCounts<1>, FilteredDistinct<u64, 1>);
    ///     type Out = (u64, u64);
    ///     fn init(&self, _: &(u64, u64)) -> Self::Acc {
    ///         Default::default()
    ///     }
    ///     fn accumulate(&self, acc: &mut Self::Acc, r: &(u64, u64)) {
    ///         acc.0.add(0b1);
    ///         acc.1.add(r.1, u32::from(r.1 % 2 == 0));
    ///     }
    ///     fn result(&self, acc: &Self::Acc) -> (u64, u64) {
    ///         (acc.0.get(0), acc.1.get(0))
    ///     }
    /// }
    ///
    /// let rows = vec![(1_u64, 2_u64), (1, 2), (1, 3), (1, 4), (2, 6)];
    /// let table = Arc::new(Mutex::new(Table::new()));
    /// let sink = Arc::clone(&table);
    /// execute(Config::new(2).with_pinning(false), move |worker| {
    ///     let mine = if worker.index() == 0 { rows.clone() } else { Vec::new() };
    ///     let sink = Arc::clone(&sink);
    ///     worker
    ///         .source(IterSource::new(mine, |_| 0, 0))
    ///         .table_aggregate(|r: &(u64, u64)| r.0, Stats)
    ///         .table_sink(move |batch| {
    ///             let mut t = sink.lock().unwrap();
    ///             batch.drain(..).for_each(|c| t.apply(c).unwrap());
    ///         });
    /// })?;
    /// let mut rows: Vec<_> = table.lock().unwrap().clone().into_rows().collect();
    /// rows.sort();
    /// assert_eq!(rows, [(1, (4, 2)), (2, (1, 1))]);
    /// # Ok::<(), weir_engine::EngineError>(())
    /// ```
    pub fn table_aggregate<K, A>(
        self,
        key: impl Fn(&T) -> K + 'static,
        agg: A,
    ) -> Stream<Change<(K, A::Out)>>
    where
        K: Hash + Eq + Clone + 'static,
        A: TableAggregate<T> + 'static,
    {
        let key: Rc<dyn Fn(&T) -> K> = Rc::new(key);
        let route = Rc::clone(&key);
        let op = TableAggregator {
            key,
            agg,
            index: FastMap::default(),
            groups: Chunked::default(),
            touched: Vec::new(),
            rows_at: Vec::new(),
        };
        let op = MiniBatched::new(op, self.ctx.mini_batch_ns);
        self.key_by(move |r| key_hash(&route(r)))
            .unary("table_aggregate", op)
    }
}

/// `N` counts, each of the rows that passed one filter (`COUNT(*) FILTER (WHERE ...)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilteredCounts<const N: usize>([u64; N]);

impl<const N: usize> Default for FilteredCounts<N> {
    fn default() -> Self {
        FilteredCounts([0; N])
    }
}

impl<const N: usize> FilteredCounts<N> {
    /// Counts one row in every filter `i` whose bit `1 << i` is set in `filters`.
    #[inline]
    pub fn add(&mut self, filters: u32) {
        for (i, n) in self.0.iter_mut().enumerate() {
            *n += u64::from(filters >> i & 1);
        }
    }

    /// The count of filter `i`.
    pub fn get(&self, i: usize) -> u64 {
        self.0[i]
    }
}

/// `N` distinct counts of one column, each among the rows that passed one filter
/// (`COUNT(DISTINCT x) FILTER (WHERE ...)`), over one set: each distinct value is kept once
/// with the mask of the filters it has been counted under (`N` at most 32). A value added under
/// no filter counts nowhere and is not kept.
///
/// The set is an open-addressing table (linear probing, at most seven eighths full, as full as
/// a hash map gets, so it takes no more memory than one) whose slots hold the value and its
/// mask side by side, so adding a value costs one cache miss where a map with separate control
/// bytes costs two, and [`prefetch`](Self::prefetch) can ask for that slot ahead of time. The
/// values are hashed with a seed of their own, so a set of values that also route the stream
/// between workers still spreads over its slots.
#[derive(Clone, Debug)]
pub struct FilteredDistinct<V, const N: usize> {
    /// A power of two slots (or none before the first value); a mask of 0 marks an empty slot.
    slots: Vec<(V, u32)>,
    /// Slots in use.
    len: usize,
    /// Per filter, the values counted under it.
    counts: FilteredCounts<N>,
}

/// The hasher of [`FilteredDistinct`]'s slots (a seed unlike the exchange's `key_hash`).
const SLOT_HASH: foldhash::fast::FixedState =
    foldhash::fast::FixedState::with_seed(0x5eed_d157_1c70_0001);

impl<V, const N: usize> Default for FilteredDistinct<V, N> {
    fn default() -> Self {
        FilteredDistinct {
            slots: Vec::new(),
            len: 0,
            counts: FilteredCounts::default(),
        }
    }
}

impl<V: Hash + Eq + Default, const N: usize> FilteredDistinct<V, N> {
    /// Adds `value` under every filter whose bit is set in `filters`.
    #[inline]
    pub fn add(&mut self, value: V, filters: u32) {
        if filters == 0 {
            return;
        }
        if (self.len + 1) * 8 > self.slots.len() * 7 {
            self.grow();
        }
        let at = self.slot_of(&value);
        let slot = &mut self.slots[at];
        if slot.1 == 0 {
            *slot = (value, filters);
            self.len += 1;
            self.counts.add(filters);
        } else {
            let new = filters & !slot.1;
            slot.1 |= new;
            self.counts.add(new);
        }
    }

    /// Asks the CPU for the slot where `value` would go, ahead of an [`add`](Self::add) of it.
    #[inline]
    pub fn prefetch(&self, value: &V) {
        if let Some(slot) = self.slots.get(self.home(value)) {
            crate::prefetch::read(slot);
        }
    }

    /// The distinct count of filter `i`.
    pub fn get(&self, i: usize) -> u64 {
        self.counts.get(i)
    }

    /// Distinct values kept (the state's size).
    pub fn values(&self) -> usize {
        self.len
    }

    /// The first slot `value` may occupy (any number when there is no slot yet).
    #[inline]
    fn home(&self, value: &V) -> usize {
        (SLOT_HASH.hash_one(value) as usize) & self.slots.len().wrapping_sub(1)
    }

    /// The slot holding `value`, else the empty slot where it goes (there are slots, and at
    /// least one of them is empty).
    #[inline]
    fn slot_of(&self, value: &V) -> usize {
        let wrap = self.slots.len() - 1;
        let mut at = self.home(value);
        while self.slots[at].1 != 0 && self.slots[at].0 != *value {
            at = (at + 1) & wrap;
        }
        at
    }

    /// Doubles the slots (8 at first) and puts every value back.
    #[cold]
    fn grow(&mut self) {
        let slots = (self.slots.len() * 2).max(8);
        let old = std::mem::replace(
            &mut self.slots,
            std::iter::repeat_with(|| (V::default(), 0))
                .take(slots)
                .collect(),
        );
        for (value, mask) in old.into_iter().filter(|&(_, mask)| mask != 0) {
            let at = self.slot_of(&value);
            self.slots[at] = (value, mask);
        }
    }
}

/// [`FilteredDistinct`] for integer ids, in a quarter of the memory: each slot is one `u32`
/// word holding the value in its high `32 - N` bits and its filter mask in the low `N` bits
/// (`N` at most 16), where the generic set's `(u64, u32)` slot takes 16 bytes. When the sets
/// outgrow the caches (q16: two per group, about a thousand values each), a quarter of the
/// bytes is fewer cache misses, fewer pages for the kernel to clear and less to copy when a set
/// grows.
///
/// A value too large to share a word with its mask (`2^(32 - N)` or more: 268 million with 4
/// filters, which Nexmark's auction ids pass after about 4 billion events) goes to a generic
/// [`FilteredDistinct`] kept beside the slots, created by the first such value: every value
/// is counted, whatever its size. The slot of a value is found by Fibonacci hashing (one
/// multiplication, the high bits).
#[derive(Clone, Debug)]
pub struct FilteredDistinctIds<const N: usize> {
    /// A power of two words (or none before the first value); 0 marks an empty slot (a kept
    /// value has a mask of at least one filter).
    slots: Vec<u32>,
    /// Slots in use.
    len: usize,
    /// Per filter, the values counted under it (those of `large` included).
    counts: FilteredCounts<N>,
    /// The values too large for a slot word.
    large: Option<Box<FilteredDistinct<u64, N>>>,
}

impl<const N: usize> Default for FilteredDistinctIds<N> {
    fn default() -> Self {
        FilteredDistinctIds {
            slots: Vec::new(),
            len: 0,
            counts: FilteredCounts::default(),
            large: None,
        }
    }
}

impl<const N: usize> FilteredDistinctIds<N> {
    /// The filters' bits of a slot word.
    const MASK: u32 = (1 << N) - 1;
    /// Checked when the type is used: the mask leaves the value at least 16 bits.
    const FITS: () = assert!(
        N >= 1 && N <= 16,
        "FilteredDistinctIds holds 1 to 16 filters"
    );

    /// Adds `value` under every filter whose bit is set in `filters` (bits from `N` on are
    /// ignored).
    #[inline]
    pub fn add(&mut self, value: u64, filters: u32) {
        let () = Self::FITS;
        let filters = filters & Self::MASK;
        if filters == 0 {
            return;
        }
        if value >> (32 - N) != 0 {
            self.add_large(value, filters);
            return;
        }
        if (self.len + 1) * 8 > self.slots.len() * 7 {
            self.grow();
        }
        let at = self.slot_of(value);
        let slot = self.slots[at];
        if slot == 0 {
            // The check above leaves the value 32 - N bits, so the cast keeps all of it.
            self.slots[at] = (value as u32) << N | filters;
            self.len += 1;
            self.counts.add(filters);
        } else {
            let new = filters & !slot;
            self.slots[at] = slot | new;
            self.counts.add(new);
        }
    }

    /// Asks the CPU for the slot where `value` would go, ahead of an [`add`](Self::add) of it.
    #[inline]
    pub fn prefetch(&self, value: u64) {
        if let Some(slot) = self.slots.get(self.home(value)) {
            crate::prefetch::read(slot);
        }
    }

    /// The distinct count of filter `i`.
    pub fn get(&self, i: usize) -> u64 {
        self.counts.get(i)
    }

    /// Distinct values kept (the state's size).
    pub fn values(&self) -> usize {
        self.len + self.large.as_ref().map_or(0, |l| l.values())
    }

    /// The first slot `value` may occupy (0 when there is no slot yet).
    #[inline]
    fn home(&self, value: u64) -> usize {
        let bits = self.slots.len().trailing_zeros();
        if bits == 0 {
            return 0;
        }
        (value.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - bits)) as usize
    }

    /// The slot holding `value`, else the empty slot where it goes (there are slots, and at
    /// least one of them is empty).
    #[inline]
    fn slot_of(&self, value: u64) -> usize {
        let wrap = self.slots.len() - 1;
        let mut at = self.home(value);
        while self.slots[at] != 0 && u64::from(self.slots[at] >> N) != value {
            at = (at + 1) & wrap;
        }
        at
    }

    #[cold]
    fn add_large(&mut self, value: u64, filters: u32) {
        let large = self.large.get_or_insert_with(Box::default);
        let before: [u64; N] = std::array::from_fn(|i| large.get(i));
        large.add(value, filters);
        for (i, before) in before.into_iter().enumerate() {
            self.counts.0[i] += large.get(i) - before;
        }
    }

    /// Doubles the slots (8 at first) and puts every value back.
    #[cold]
    fn grow(&mut self) {
        let slots = (self.slots.len() * 2).max(8);
        let old = std::mem::replace(&mut self.slots, vec![0; slots]);
        for word in old.into_iter().filter(|&w| w != 0) {
            let at = self.slot_of(u64::from(word >> N));
            self.slots[at] = word;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{FilteredDistinct, FilteredDistinctIds};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// The set against a map of each value's mask: counts per filter and values kept after
        /// every add, through growth (up to 2,000 values), repeated values, new filters for a
        /// known value and adds under no filter.
        #[test]
        fn filtered_distinct_matches_a_map_of_masks(
            adds in prop::collection::vec((0_u64..3_000, 0_u32..16), 0..2_000),
        ) {
            let mut set = FilteredDistinct::<u64, 4>::default();
            let mut model: BTreeMap<u64, u32> = BTreeMap::new();
            for (value, filters) in adds {
                set.prefetch(&value);
                set.add(value, filters);
                if filters != 0 {
                    *model.entry(value).or_default() |= filters;
                }
                prop_assert_eq!(set.values(), model.len());
                for i in 0..4 {
                    let want = model.values().filter(|&&m| m >> i & 1 == 1).count() as u64;
                    prop_assert_eq!(set.get(i), want, "filter {}", i);
                }
            }
        }
    }

    proptest! {
        /// The packed set against the generic one: the same counts and values kept after
        /// every add, ids near the limit of a slot word and beyond it (kept beside the slots)
        /// included, through growth.
        #[test]
        fn filtered_distinct_ids_match_the_generic_set(
            adds in prop::collection::vec(
                (prop_oneof![
                    0_u64..3_000,
                    (1_u64 << 28) - 8..(1_u64 << 28) + 8,
                    (1_u64 << 60) - 8..(1_u64 << 60) + 8,
                    Just(u64::MAX),
                 ],
                 0_u32..32),
                0..2_000,
            ),
        ) {
            let mut ids = FilteredDistinctIds::<4>::default();
            let mut set = FilteredDistinct::<u64, 4>::default();
            for (value, filters) in adds {
                ids.prefetch(value);
                ids.add(value, filters);
                set.add(value, filters & 0b1111);
                prop_assert_eq!(ids.values(), set.values());
                for i in 0..4 {
                    prop_assert_eq!(ids.get(i), set.get(i), "filter {}", i);
                }
            }
        }
    }

    /// A set of owned values (moved, not copied, when the set grows) counts as a `u64` one does.
    #[test]
    fn filtered_distinct_keeps_owned_values() {
        let mut set = FilteredDistinct::<String, 2>::default();
        for round in 0..3 {
            for v in 0..100 {
                set.add(
                    format!("v{v}"),
                    1 | u32::from(round == 2 && v % 10 == 0) << 1,
                );
            }
        }
        assert_eq!((set.values(), set.get(0), set.get(1)), (100, 100, 10));
    }
}
