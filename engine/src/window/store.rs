//! Keyed state in numbered slots: the panes of sliding windows, the windows of window joins.
//!
//! A [`SlotStore`] maps a slot number (a pane or window index, ordered like time) to a keyed
//! [`FastMap`]. The map of the slot used last is cached by its time range, so a record whose
//! timestamp falls in the same slot as the previous one costs no ordered lookup, only the hash
//! lookup of its key. Slots below a bound are *released* once their windows have fired; a
//! record for a released slot is late.
//!
//! **Freeing.** A released slot's map is reused for later slots, so steady state allocates
//! nothing. When its entries are plain data (no destructor), releasing it clears it at once:
//! hashbrown then only resets its control bytes, a memset of about one byte per bucket. When
//! the entries own heap memory (sets, vectors), dropping them one by one would be a burst of
//! work proportional to the state at the moment a window fires; instead the released map is
//! queued and [`SlotStore::reclaim`] frees a budget of entries at a time, which the window
//! operators call once per input batch (freeing at least as many entries as records arrive,
//! so the queue cannot grow without bound). End of input frees everything.
//!
//! Base of the window state machines: imports only [`types`](super::types).

use std::collections::{BTreeMap, VecDeque};
use std::hash::Hash;
use std::ops::Range;

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
    /// Released maps whose entries own heap memory, freed a budget at a time.
    freeing: VecDeque<hashbrown::hash_map::IntoIter<K, T>>,
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
            freeing: VecDeque::new(),
        }
    }

    /// The map of the slot of width `width` holding `ts` (slot `ts div width`), opened if
    /// needed; `None` when that slot is released.
    #[inline]
    pub(super) fn map_at(&mut self, ts: Timestamp, width: i64) -> Option<&mut FastMap<K, T>> {
        let pos = self.pos_at(ts, width)?;
        Some(&mut self.maps[pos])
    }

    /// As [`SlotStore::map_at`], returning the map's storage position (see [`SlotStore::map`]).
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
            self.maps.len() - 1
        });
        self.index.insert(slot, pos);
        Some(pos)
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
        let map = &mut self.maps[pos];
        if std::mem::needs_drop::<(K, T)>() && !map.is_empty() {
            let full = std::mem::replace(map, fast_map());
            self.freeing.push_back(full.into_iter());
        } else {
            map.clear();
        }
        self.free.push(pos);
    }

    /// Frees up to `budget` entries of released slots; returns how many it freed.
    pub(super) fn reclaim(&mut self, budget: usize) -> usize {
        let mut freed = 0;
        while freed < budget {
            let Some(entries) = self.freeing.front_mut() else {
                break;
            };
            match entries.next() {
                Some(entry) => {
                    drop(entry);
                    freed += 1;
                }
                None => {
                    // Exhausted: dropping the iterator gives the table's memory back.
                    self.freeing.pop_front();
                }
            }
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
        self.freeing.iter().map(ExactSizeIterator::len).sum()
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
        *s.map_at(25, 10).expect("slot 2").entry(3).or_default() += 1;
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
}
