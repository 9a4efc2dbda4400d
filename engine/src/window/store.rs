//! Keyed state in numbered slots: the panes of sliding windows, the windows of window joins.
//!
//! A [`SlotStore`] maps a slot number (a pane or window index, ordered like time) to a keyed
//! [`FastMap`]. The map of the slot used last is cached by its time range, so a record whose
//! timestamp falls in the same slot as the previous one costs no ordered lookup, only the hash
//! lookup of its key. Slots below a bound are *released* once their windows have fired; a
//! record for a released slot is late.
//!
//! **Freeing.** A released slot's map is reused for later slots, table and all, so steady state
//! allocates nothing and never grows a table again. When its entries are plain data (no
//! destructor), releasing it clears it at once: hashbrown then only resets its control bytes,
//! a memset of about one byte per bucket. When the entries own heap memory (sets, vectors),
//! dropping them one by one would be a burst of work proportional to the state at the moment
//! a window fires; instead the released map is queued and [`SlotStore::reclaim`] removes a
//! budget of entries at a time, which the window operators call once per input batch (freeing
//! at least as many entries as records arrive, so the queue cannot grow without bound). It
//! finds them through the keys [`SlotStore::entry_at`] and [`SlotStore::entry`] recorded as
//! they were inserted, so the map keeps its table and is reused once empty. (Freeing the
//! released map by consuming it instead, and giving its slot a new table, costs the page
//! faults of a fresh table every window: hash inserts touch its pages at random, so nearly
//! all of them fault within the first few thousand inserts, 0.3-0.8 s of zeroing per 10 s
//! window for q8 at 22 M events/s on a 2-core VM, a stall every result waits behind.) End of
//! input frees everything.
//!
//! Base of the window state machines: imports only [`types`](super::types).

use std::collections::{BTreeMap, VecDeque};
use std::hash::Hash;
use std::ops::Range;

use hashbrown::hash_map::Entry;

use super::types::{FastMap, fast_map};
use crate::time::Timestamp;

/// Keyed maps in numbered slots (see the module docs).
pub(super) struct SlotStore<K, T> {
    /// Live slots: slot number -> position in `maps`.
    index: BTreeMap<i64, usize>,
    maps: Vec<FastMap<K, T>>,
    /// Positions in `maps` free for reuse (their maps are empty).
    free: Vec<usize>,
    /// The slot used last covers timestamps `[cache_start, cache_end)` and lives at
    /// `cache_pos`; the range is empty when nothing is cached.
    cache_start: Timestamp,
    cache_end: Timestamp,
    cache_pos: usize,
    /// Slots below this are released.
    min_live: i64,
    /// Per storage position (parallel to `maps`), when entries own heap memory: the keys
    /// inserted through `entry_at`/`entry`, the order in which a released map is freed.
    keys: Vec<Vec<K>>,
    /// Released positions whose heap-owning entries are being freed, oldest first; a position
    /// is freed from its key list's end and becomes reusable once empty.
    draining: VecDeque<usize>,
}

impl<K, T> SlotStore<K, T> {
    /// Live slots.
    pub(super) fn slots(&self) -> usize {
        self.index.len()
    }
}

impl<K: Hash + Eq, T> SlotStore<K, T> {
    pub(super) fn new() -> Self {
        Self {
            index: BTreeMap::new(),
            maps: Vec::new(),
            free: Vec::new(),
            cache_start: Timestamp::MAX,
            cache_end: Timestamp::MIN,
            cache_pos: 0,
            min_live: i64::MIN,
            keys: Vec::new(),
            draining: VecDeque::new(),
        }
    }

    /// The storage position (see [`SlotStore::map`]) of the slot of width `width` holding `ts`
    /// (slot `ts div width`), opened if needed; `None` when that slot is released.
    #[inline]
    pub(super) fn pos_at(&mut self, ts: Timestamp, width: i64) -> Option<usize> {
        if self.cache_start <= ts && ts < self.cache_end {
            return Some(self.cache_pos);
        }
        let slot = ts.div_euclid(width);
        let pos = self.open(slot)?;
        self.cache_start = slot.saturating_mul(width);
        self.cache_end = slot.saturating_add(1).saturating_mul(width);
        self.cache_pos = pos;
        Some(pos)
    }

    /// The slot number `pos_at` resolved last (the cached one).
    pub(super) fn cached_slot(&self, width: i64) -> i64 {
        self.cache_start.div_euclid(width)
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
            self.maps.push(fast_map());
            self.keys.push(Vec::new());
            self.maps.len() - 1
        });
        self.index.insert(slot, pos);
        Some(pos)
    }

    /// Whether entries own heap memory, so released maps are freed a budget at a time.
    const OWNS_HEAP: bool = std::mem::needs_drop::<(K, T)>();

    /// The entry of `key` in the map at storage position `pos`, created by `init` when
    /// absent. Insert through this (or [`SlotStore::entry_at`]) rather than through
    /// [`SlotStore::map`]: when entries own heap memory, the store records the new key so
    /// that the released map can be freed a budget at a time and keep its table.
    #[inline]
    pub(super) fn entry(&mut self, pos: usize, key: K, init: impl FnOnce() -> T) -> &mut T
    where
        K: Clone,
    {
        let map = &mut self.maps[pos];
        if !Self::OWNS_HEAP {
            return map.entry(key).or_insert_with(init);
        }
        match map.entry(key) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                self.keys[pos].push(entry.key().clone());
                entry.insert(init())
            }
        }
    }

    /// The entry of `key` in the slot of width `width` holding `ts` (opened if needed),
    /// created by `init` when absent; `None` when that slot is released.
    #[inline]
    pub(super) fn entry_at(
        &mut self,
        ts: Timestamp,
        width: i64,
        key: K,
        init: impl FnOnce() -> T,
    ) -> Option<&mut T>
    where
        K: Clone,
    {
        let pos = self.pos_at(ts, width)?;
        Some(self.entry(pos, key, init))
    }

    /// The map at storage position `pos`.
    #[inline]
    pub(super) fn map(&mut self, pos: usize) -> &mut FastMap<K, T> {
        &mut self.maps[pos]
    }

    /// The map of a live slot.
    #[cfg(test)]
    pub(super) fn get(&self, slot: i64) -> Option<&FastMap<K, T>> {
        self.index.get(&slot).map(|&pos| &self.maps[pos])
    }

    /// The map of a live slot, mutably.
    pub(super) fn get_mut(&mut self, slot: i64) -> Option<&mut FastMap<K, T>> {
        self.index.get(&slot).map(|&pos| &mut self.maps[pos])
    }

    /// The live slots in `range`, in order, with their storage positions.
    pub(super) fn positions(&self, range: Range<i64>) -> impl Iterator<Item = (i64, usize)> + '_ {
        self.index.range(range).map(|(&slot, &pos)| (slot, pos))
    }

    /// The live slots in `range`, in order, with their maps.
    pub(super) fn range(&self, range: Range<i64>) -> impl Iterator<Item = (i64, &FastMap<K, T>)> {
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

    /// Empties the map at `pos` and makes it reusable (see the module docs on freeing).
    fn release(&mut self, pos: usize) {
        if Self::OWNS_HEAP && !self.maps[pos].is_empty() {
            self.draining.push_back(pos);
        } else {
            self.maps[pos].clear();
            self.keys[pos].clear();
            self.free.push(pos);
        }
    }

    /// Frees up to `budget` entries of released slots (removes up to `budget` recorded keys);
    /// returns how many entries it freed.
    pub(super) fn reclaim(&mut self, budget: usize) -> usize {
        let mut freed = 0;
        let mut steps = 0;
        while steps < budget {
            let Some(&pos) = self.draining.front() else {
                break;
            };
            steps += 1;
            if let Some(key) = self.keys[pos].pop() {
                if self.maps[pos].remove(&key).is_some() {
                    freed += 1;
                }
                continue;
            }
            // Every recorded key is gone. Entries inserted without recording their key (through
            // `map`) are dropped here. Draining (unlike `clear`, which skips an empty map) also
            // turns the removals' tombstones back into empty buckets, one memset of the control
            // bytes, so the reused table probes as short as a new one and never has to be
            // rehashed in place to reclaim them.
            let map = &mut self.maps[pos];
            freed += map.drain().count();
            self.draining.pop_front();
            self.free.push(pos);
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
        self.draining.iter().map(|&pos| self.maps[pos].len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_open_release_and_reuse_their_maps() {
        let mut s: SlotStore<u32, u64> = SlotStore::new();
        *s.entry_at(5, 10, 1, || 0).expect("open") += 1;
        *s.entry_at(9, 10, 1, || 0).expect("cached") += 1;
        *s.entry_at(-1, 10, 2, || 0).expect("slot -1") += 1;
        assert_eq!(s.first(), Some(-1));
        assert_eq!(s.get(0).and_then(|m| m.get(&1)), Some(&2));
        assert_eq!(s.len(), 2);
        s.release_below(0);
        assert!(s.pos_at(-5, 10).is_none(), "slot -1 is released");
        assert_eq!((s.len(), s.slots()), (1, 1));
        *s.entry_at(25, 10, 3, || 0).expect("slot 2") += 1;
        assert_eq!(s.maps.len(), 2, "the released map is reused");
        assert_eq!(
            s.positions(0..10).map(|(slot, _)| slot).collect::<Vec<_>>(),
            [0, 2]
        );
    }

    #[test]
    fn heap_owning_entries_are_freed_a_budget_at_a_time() {
        let mut s: SlotStore<u32, Vec<u8>> = SlotStore::new();
        for key in 0..100 {
            s.entry_at(0, 10, key, || vec![1, 2, 3]).expect("open");
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
    fn a_released_map_keeps_its_table_and_is_reused_once_freed() {
        let mut s: SlotStore<u32, Vec<u8>> = SlotStore::new();
        for key in 0..10_000 {
            s.entry_at(0, 10, key, Vec::new).expect("open").push(1);
        }
        let table = s.maps[0].capacity();
        s.release_below(1);
        // Slot 1 opens while slot 0 is still being freed: it gets a map of its own.
        s.entry_at(15, 10, 7, Vec::new).expect("slot 1");
        assert_eq!((s.maps.len(), s.unreclaimed()), (2, 10_000));
        assert_eq!(s.reclaim(4_000), 4_000);
        assert_eq!(s.maps[0].len(), 6_000, "freed in place");
        assert_eq!(s.reclaim(usize::MAX), 6_000);
        assert_eq!(s.maps[0].capacity(), table, "the table is kept, tombstones cleared");
        s.release_below(2);
        assert_eq!(s.reclaim(usize::MAX), 1);
        // Both positions are free; the next slots reuse them, the first with its whole table.
        s.entry_at(25, 10, 1, Vec::new).expect("slot 2");
        s.entry_at(35, 10, 1, Vec::new).expect("slot 3");
        assert_eq!(s.maps.len(), 2, "no new map");
        assert!(s.maps.iter().any(|m| m.capacity() == table));
    }

    #[test]
    fn entries_inserted_without_their_key_recorded_are_freed_too() {
        let mut s: SlotStore<u32, Vec<u8>> = SlotStore::new();
        s.entry_at(0, 10, 1, Vec::new).expect("open");
        let pos = s.pos_at(0, 10).expect("open");
        s.map(pos).insert(2, vec![2]);
        s.release_below(1);
        assert_eq!(s.unreclaimed(), 2);
        assert_eq!(s.reclaim(usize::MAX), 2);
        assert_eq!(s.unreclaimed(), 0);
    }
}
