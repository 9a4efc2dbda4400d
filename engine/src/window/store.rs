//! Keyed state in numbered slots: the panes of sliding windows, the windows of window joins.
//!
//! A [`SlotStore`] maps a slot number (a pane or window index, ordered like time) to a keyed
//! [`FastMap`]. The map of the slot used last is cached by its time range, so a record whose
//! timestamp falls in the same slot as the previous one costs no ordered lookup, only the hash
//! lookup of its key. Slots below a bound are *released* once their windows have fired; a
//! record for a released slot is late.
//!
//! **Freeing.** A released slot's map is reused for later slots. Emptying it must not be a
//! burst of work proportional to the state at the moment a window fires, nor delay the results
//! that firing emits, so releasing only queues the map and the map type ([`SlotMap`]) decides
//! how it is emptied: a [`FastMap`] whose entries are plain data (no destructor) is cleared in
//! one go (hashbrown only resets its control bytes, a memset of about one byte per bucket); one
//! whose entries own heap memory (sets, vectors) is swapped for a fresh map and its entries are
//! dropped a budget at a time. A [`SteadyMap`] is emptied in place a budget of positions at a
//! time and keeps its table, so a window refilled to the size of the one before neither grows a
//! table nor faults in fresh memory. [`SlotStore::reclaim`] does that work; the window
//! operators call it once per input batch, after the batch's records, with a budget of at least
//! the records that arrived, so the queue cannot grow without bound and the work happens after
//! the results of the firing that released the map have left. A map is reused only once it is
//! empty. Maps still queued at end of input are freed with the operator.
//!
//! Base of the window state machines: imports only [`types`](super::types) and
//! [`steady_map`](super::steady_map).

use std::collections::{BTreeMap, VecDeque};
use std::hash::Hash;
use std::ops::Range;

use super::steady_map::SteadyMap;
use super::types::{FastMap, fast_map};
use crate::time::Timestamp;

/// A map a [`SlotStore`] keeps a slot's keyed state in, and how a released one is emptied
/// (see the module docs).
pub(super) trait SlotMap: Default {
    /// The work left to empty a released map.
    type Emptying;
    /// Entries.
    fn len(&self) -> usize;
    /// Queues the map for emptying: `None` when it is already empty, else the work left for
    /// [`SlotMap::empty_some`].
    fn release(&mut self) -> Option<Self::Emptying>;
    /// Frees up to `budget` entries' worth of the work; returns the entries freed and whether
    /// the map is empty (and reusable) now.
    fn empty_some(&mut self, work: &mut Self::Emptying, budget: usize) -> (usize, bool);
    /// Entries the work has still to free.
    #[cfg(test)]
    fn unfreed(&self, work: &Self::Emptying) -> usize;
}

/// The work left to empty a released [`FastMap`].
pub(super) enum FastEmptying<K, T> {
    /// Plain entries: the map is cleared in one go.
    Clear,
    /// Entries owning heap memory: the released entries, the map itself already swapped for
    /// an empty one.
    Drop(hashbrown::hash_map::IntoIter<K, T>),
}

impl<K, T> SlotMap for FastMap<K, T> {
    type Emptying = FastEmptying<K, T>;

    fn len(&self) -> usize {
        FastMap::len(self)
    }

    fn release(&mut self) -> Option<Self::Emptying> {
        if self.is_empty() {
            None
        } else if std::mem::needs_drop::<(K, T)>() {
            Some(FastEmptying::Drop(
                std::mem::replace(self, fast_map()).into_iter(),
            ))
        } else {
            Some(FastEmptying::Clear)
        }
    }

    fn empty_some(&mut self, work: &mut Self::Emptying, budget: usize) -> (usize, bool) {
        match work {
            FastEmptying::Clear => {
                let freed = FastMap::len(self);
                self.clear();
                (freed, true)
            }
            FastEmptying::Drop(entries) => {
                // Exhausted, the iterator is dropped by the caller, giving the table's memory
                // back.
                let freed = entries.take(budget).count();
                (freed, entries.len() == 0)
            }
        }
    }

    #[cfg(test)]
    fn unfreed(&self, work: &Self::Emptying) -> usize {
        match work {
            FastEmptying::Clear => FastMap::len(self),
            FastEmptying::Drop(entries) => entries.len(),
        }
    }
}

impl<K, T> SlotMap for SteadyMap<K, T> {
    /// The position the emptying has reached.
    type Emptying = usize;

    fn len(&self) -> usize {
        SteadyMap::len(self)
    }

    fn release(&mut self) -> Option<usize> {
        (!self.is_empty()).then_some(0)
    }

    fn empty_some(&mut self, cursor: &mut usize, budget: usize) -> (usize, bool) {
        // The budget counts positions scanned: at most as many entries are freed.
        let freed = self.clear_part(cursor, budget);
        (freed, self.is_empty())
    }

    #[cfg(test)]
    fn unfreed(&self, _: &usize) -> usize {
        self.len()
    }
}

/// The budget a window operator passes to [`SlotStore::reclaim`] after a batch of `records`
/// records: twice the batch and at least 256, so released state is emptied faster than new
/// state arrives.
pub(super) fn reclaim_budget(records: usize) -> usize {
    2 * records.max(128)
}

/// Keyed maps in numbered slots (see the module docs): [`FastMap`]s unless the slots' maps
/// are `M`.
pub(super) struct SlotStore<K, T, M = FastMap<K, T>>
where
    M: SlotMap,
{
    /// Live slots: slot number -> position in `maps`.
    index: BTreeMap<i64, usize>,
    maps: Vec<M>,
    /// Positions in `maps` free for reuse (their maps are empty).
    free: Vec<usize>,
    /// The slot used last covers timestamps `[cache_start, cache_end)` and lives at
    /// `cache_pos`; the range is empty when nothing is cached.
    cache_start: Timestamp,
    cache_end: Timestamp,
    cache_pos: usize,
    /// The cached slot's number.
    cache_slot: i64,
    /// Slots below this are released.
    min_live: i64,
    /// Released maps being emptied (position in `maps`, the work left), a budget at a time.
    emptying: VecDeque<(usize, M::Emptying)>,
    _entries: std::marker::PhantomData<fn(K, T)>,
}

impl<K, T, M: SlotMap> SlotStore<K, T, M> {
    /// Live slots.
    pub(super) fn slots(&self) -> usize {
        self.index.len()
    }
}

impl<K: Hash + Eq, T, M: SlotMap> SlotStore<K, T, M> {
    pub(super) fn new() -> Self {
        Self {
            index: BTreeMap::new(),
            maps: Vec::new(),
            free: Vec::new(),
            cache_start: Timestamp::MAX,
            cache_end: Timestamp::MIN,
            cache_pos: 0,
            cache_slot: i64::MIN,
            min_live: i64::MIN,
            emptying: VecDeque::new(),
            _entries: std::marker::PhantomData,
        }
    }

    /// The map of the slot of width `width` holding `ts` (slot `ts div width`), opened if
    /// needed; `None` when that slot is released.
    #[inline]
    pub(super) fn map_at(&mut self, ts: Timestamp, width: i64) -> Option<&mut M> {
        let pos = self.pos_at(ts, width)?;
        Some(&mut self.maps[pos])
    }

    /// As [`SlotStore::map_at`], returning the map's storage position (see [`SlotStore::map`]).
    #[inline]
    pub(super) fn pos_at(&mut self, ts: Timestamp, width: i64) -> Option<usize> {
        if self.caches(ts) {
            return Some(self.cache_pos);
        }
        let slot = ts.div_euclid(width);
        let pos = self.open(slot)?;
        self.cache_start = slot.saturating_mul(width);
        self.cache_end = slot.saturating_add(1).saturating_mul(width);
        self.cache_pos = pos;
        self.cache_slot = slot;
        Some(pos)
    }

    /// The map of the slot `pos_at` resolved last, if it holds `ts` (no lookup, no division):
    /// where a record a few places ahead most likely goes, for prefetching.
    #[inline]
    pub(super) fn cached_map(&self, ts: Timestamp) -> Option<&M> {
        self.caches(ts).then(|| &self.maps[self.cache_pos])
    }

    /// The cached slot holds `ts`.
    #[inline]
    fn caches(&self, ts: Timestamp) -> bool {
        self.cache_start <= ts && ts < self.cache_end
    }

    /// The slot number `pos_at` resolved last (the cached one), without a division.
    pub(super) fn cached_slot(&self) -> i64 {
        self.cache_slot
    }

    /// The storage position of `slot`, opened if needed; `None` when it is released.
    pub(super) fn open(&mut self, slot: i64) -> Option<usize> {
        if slot < self.min_live {
            return None;
        }
        if let Some(&pos) = self.index.get(&slot) {
            return Some(pos);
        }
        let pos = self.free.pop().unwrap_or_else(|| {
            self.maps.push(M::default());
            self.maps.len() - 1
        });
        self.index.insert(slot, pos);
        Some(pos)
    }

    /// The map at storage position `pos`.
    #[inline]
    pub(super) fn map(&mut self, pos: usize) -> &mut M {
        &mut self.maps[pos]
    }

    /// The map of a live slot.
    #[cfg(test)]
    pub(super) fn get(&self, slot: i64) -> Option<&M> {
        self.index.get(&slot).map(|&pos| &self.maps[pos])
    }

    /// The map of a live slot, mutably.
    pub(super) fn get_mut(&mut self, slot: i64) -> Option<&mut M> {
        self.index.get(&slot).map(|&pos| &mut self.maps[pos])
    }

    /// The live slots in `range`, in order, with their storage positions.
    pub(super) fn positions(&self, range: Range<i64>) -> impl Iterator<Item = (i64, usize)> + '_ {
        self.index.range(range).map(|(&slot, &pos)| (slot, pos))
    }

    /// The live slots in `range`, in order, with their maps.
    pub(super) fn range(&self, range: Range<i64>) -> impl Iterator<Item = (i64, &M)> {
        self.index
            .range(range)
            .map(|(&slot, &pos)| (slot, &self.maps[pos]))
    }

    /// The first live slot.
    pub(super) fn first(&self) -> Option<i64> {
        self.index.first_key_value().map(|(&slot, _)| slot)
    }

    /// Releases every slot below `slot`: records for them are late from now on.
    pub(super) fn release_below(&mut self, slot: i64) {
        self.min_live = self.min_live.max(slot);
        while let Some(entry) = self.index.first_entry() {
            if *entry.key() >= slot {
                break;
            }
            let pos = entry.remove();
            self.release(pos);
        }
        // The cached slot may be gone.
        self.cache_start = Timestamp::MAX;
        self.cache_end = Timestamp::MIN;
    }

    /// Starts emptying the map at `pos`; it is reusable once empty (see the module docs).
    fn release(&mut self, pos: usize) {
        match self.maps[pos].release() {
            None => self.free.push(pos),
            Some(work) => self.emptying.push_back((pos, work)),
        }
    }

    /// Frees up to `budget` entries' worth of released maps; returns the entries it freed.
    pub(super) fn reclaim(&mut self, budget: usize) -> usize {
        let mut freed = 0;
        while freed < budget {
            let Some((pos, work)) = self.emptying.front_mut() else {
                break;
            };
            let (n, empty) = self.maps[*pos].empty_some(work, budget - freed);
            freed += n;
            if !empty {
                // The budget is spent (a budget of positions can free fewer entries).
                break;
            }
            self.free.push(*pos);
            self.emptying.pop_front();
        }
        freed
    }

    /// Entries in live slots.
    pub(super) fn len(&self) -> usize {
        self.index.values().map(|&pos| self.maps[pos].len()).sum()
    }

    /// Released entries not freed yet.
    #[cfg(test)]
    pub(super) fn unreclaimed(&self) -> usize {
        self.emptying
            .iter()
            .map(|(pos, work)| self.maps[*pos].unfreed(work))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_open_release_and_reuse_their_maps() {
        let mut s: SlotStore<u32, u64> = SlotStore::new();
        *s.map_at(5, 10).expect("open").entry(1).or_default() += 1;
        *s.map_at(9, 10).expect("cached").entry(1).or_default() += 1;
        *s.map_at(-1, 10).expect("slot -1").entry(2).or_default() += 1;
        assert_eq!(s.first(), Some(-1));
        assert_eq!(s.get(0).and_then(|m| m.get(&1)), Some(&2));
        assert_eq!(s.len(), 2);
        s.release_below(0);
        assert!(s.map_at(-5, 10).is_none(), "slot -1 is released");
        assert_eq!((s.len(), s.slots()), (1, 1));
        assert_eq!(s.reclaim(usize::MAX), 1);
        *s.map_at(25, 10).expect("slot 2").entry(3).or_default() += 1;
        assert_eq!(s.maps.len(), 2, "the released map is reused");
        assert_eq!(
            s.positions(0..10).map(|(slot, _)| slot).collect::<Vec<_>>(),
            [0, 2]
        );
    }

    #[test]
    fn a_released_map_is_cleared_by_reclaim_not_by_release() {
        let mut s: SlotStore<u32, u64> = SlotStore::new();
        for key in 0..100 {
            s.map_at(0, 10).expect("open").insert(key, 1);
        }
        s.release_below(1);
        // Releasing is O(1): the map waits, full, for the next reclaim.
        assert_eq!((s.len(), s.unreclaimed()), (0, 100));
        s.map_at(10, 10).expect("slot 1").insert(7, 7);
        assert_eq!(s.maps.len(), 2, "a map waiting to be cleared is not reused");
        assert_eq!(s.reclaim(1), 100, "plain entries are cleared in one go");
        assert_eq!(s.unreclaimed(), 0);
        s.map_at(25, 10).expect("slot 2").insert(9, 9);
        assert_eq!(s.maps.len(), 2, "the cleared map is reused");
        assert_eq!(s.get(2).map(FastMap::len), Some(1));
    }

    #[test]
    fn heap_owning_entries_are_freed_a_budget_at_a_time() {
        let mut s: SlotStore<u32, Vec<u8>> = SlotStore::new();
        for key in 0..100 {
            s.map_at(0, 10).expect("open").insert(key, vec![1, 2, 3]);
        }
        s.release_below(1);
        assert_eq!((s.len(), s.unreclaimed()), (0, 100));
        assert_eq!(s.reclaim(30), 30);
        assert_eq!(s.unreclaimed(), 70);
        assert_eq!(s.reclaim(usize::MAX), 70);
        assert_eq!(s.unreclaimed(), 0);
        assert_eq!(s.reclaim(5), 0);
    }

    #[test]
    fn steady_maps_are_emptied_in_place_and_reused_only_once_empty() {
        let mut s: SlotStore<u32, Vec<u8>, SteadyMap<u32, Vec<u8>>> = SlotStore::new();
        for key in 0..1_000 {
            s.map_at(0, 10).expect("open").insert(key, vec![1]);
        }
        s.release_below(1);
        assert_eq!((s.len(), s.unreclaimed()), (0, 1_000));
        // Not empty yet, so slot 1 gets a map of its own.
        s.map_at(10, 10).expect("slot 1").insert(7, vec![7]);
        assert_eq!(s.maps.len(), 2);
        let (mut freed, mut calls) = (0, 0);
        while s.unreclaimed() > 0 {
            let n = s.reclaim(100);
            assert!(n <= 100, "a budget of 100 positions freed {n} entries");
            freed += n;
            calls += 1;
        }
        assert_eq!(freed, 1_000);
        assert!(calls >= 10, "emptied in {calls} parts");
        // Slot 2 reuses the emptied map, which kept its table.
        s.map_at(25, 10).expect("slot 2").insert(9, vec![9]);
        assert_eq!(s.maps.len(), 2, "the emptied map is reused");
        assert_eq!(s.get(2).map(SteadyMap::len), Some(1));
        s.release_below(3);
        assert_eq!(s.reclaim(usize::MAX), 2);
        assert_eq!((s.len(), s.unreclaimed()), (0, 0));
    }
}
