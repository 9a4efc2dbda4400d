//! A hash map for keyed window state whose operations never stall the worker.
//!
//! `hashbrown` (behind [`FastMap`](super::types::FastMap)) is the fastest map for most state,
//! but two of its mechanisms cost a long-lived, churning map whole milliseconds to seconds at
//! once, and a worker that stops for a second delays every window result behind it:
//!
//! - **Growth** moves every entry into a table twice the size in one call, and the new table's
//!   pages are first touched (faulted and zeroed by the kernel) by inserts at random positions,
//!   so nearly all of them fault at once. A map of millions of keys pauses for 0.1-1.3 s.
//! - **Removal** leaves a tombstone wherever a probe sequence may pass. A map whose keys come
//!   and go (sessions that open and fire) fills with tombstones until an insert finds no room
//!   and the whole table is rehashed in place, again in one call.
//!
//! [`SteadyMap`] uses linear probing on the hash's high bits instead, which removes both:
//!
//! - Removal shifts the rest of the entry's cluster back (Knuth's algorithm R), so there are
//!   no tombstones: a map whose size holds steady never rehashes.
//! - Growth is incremental. Once the table is half full, a table twice its size is started and
//!   every insert moves a few positions of the old table into it, front to back. Because a
//!   key's home position is its hash's high bits, old position `i` moves to new positions
//!   `2i` and `2i + 1`: the new table is written front to back, so its memory is touched (and
//!   the old one's freed) a chunk of 4,096 positions at a time, never all at once.
//!
//! During growth a key lives in the new table when its home in the old table lies below the
//! moving boundary, else in the old one; the boundary only stops at an empty position, so no
//! cluster is split between the two. A table grows once it is 9/16 full; an insert moves at
//! least four positions, so the move ends before the old table is 13/16 full, and the new one
//! starts below 13/32. Starting early and moving slowly spreads a growth over as many inserts
//! as the old table can take. The old table's chunks, freed as the move passes them, are reused by the
//! new one, so a growth faults in only the memory the map did not have before.
//!
//! There is no wrap-around: a cluster that runs past the last home position continues into a
//! tail that grows as needed.

use std::hash::{BuildHasher, Hash};

use foldhash::fast::FixedState;

/// Home positions of the smallest table (`1 << MIN_BITS`).
const MIN_BITS: u32 = 4;
/// Positions per chunk of a large table (`1 << MAX_CHUNK_BITS`): the unit in which a table's
/// memory is allocated and freed.
const MAX_CHUNK_BITS: u32 = 12;
/// Old positions moved per insert while the map grows (at least; a cluster is moved whole).
const MOVE_PER_INSERT: usize = 4;
/// A table starts growing once it holds this many sixteenths of its home positions; moving
/// ends before it holds `GROW_AT_SIXTEENTHS + 4` sixteenths (an insert moves at least four
/// positions), and the new table starts below 13/32 full.
const GROW_AT_SIXTEENTHS: usize = 9;

/// An entry; its hash is not stored (recomputed when it moves or shifts), so an entry of an
/// 8-byte key and a 56-byte value fills exactly one cache line.
struct Entry<K, V> {
    key: K,
    value: V,
}

type Chunk<K, V> = Box<[Option<Entry<K, V>>]>;

/// One open-addressing table: `1 << bits` home positions and a tail, in chunks allocated on
/// first use (an unallocated chunk is all empty).
struct Table<K, V> {
    hasher: FixedState,
    chunks: Vec<Option<Chunk<K, V>>>,
    bits: u32,
    chunk_bits: u32,
    len: usize,
}

impl<K, V> Table<K, V> {
    fn new(bits: u32, hasher: FixedState) -> Self {
        let chunk_bits = bits.min(MAX_CHUNK_BITS);
        // One chunk past the home positions holds the clusters that run off the end.
        let chunks = (1_usize << (bits - chunk_bits)) + 1;
        Table {
            hasher,
            chunks: (0..chunks).map(|_| None).collect(),
            bits,
            chunk_bits,
            len: 0,
        }
    }

    fn positions(&self) -> usize {
        self.chunks.len() << self.chunk_bits
    }

    #[inline]
    fn home(&self, hash: u64) -> usize {
        // `bits` is at least MIN_BITS, so the shift is below 64.
        (hash >> (64 - self.bits)) as usize
    }

    #[inline]
    fn at(&self, i: usize) -> Option<&Entry<K, V>> {
        // Past the last chunk is empty: a cluster may run off the end, and the tail grows.
        let chunk = self.chunks.get(i >> self.chunk_bits)?.as_ref()?;
        chunk[i & ((1 << self.chunk_bits) - 1)].as_ref()
    }

    /// The occupied position `i`.
    #[inline]
    fn occupied_mut(&mut self, i: usize) -> &mut Option<Entry<K, V>> {
        let mask = (1 << self.chunk_bits) - 1;
        let chunk = self.chunks[i >> self.chunk_bits]
            .as_mut()
            .expect("an occupied position's chunk is allocated");
        &mut chunk[i & mask]
    }

    /// Position `i`, its chunk allocated (from `spare` when it holds one of the right size)
    /// if it is not yet.
    #[inline]
    fn slot_mut(&mut self, i: usize, spare: &mut Vec<Chunk<K, V>>) -> &mut Option<Entry<K, V>> {
        let size = 1_usize << self.chunk_bits;
        while i >= self.positions() {
            self.chunks.push(None);
        }
        let chunk = self.chunks[i >> self.chunk_bits].get_or_insert_with(|| match spare.pop() {
            Some(chunk) if chunk.len() == size => chunk,
            _ => (0..size).map(|_| None).collect(),
        });
        &mut chunk[i & (size - 1)]
    }

    /// The position of `key`, if the table holds it.
    #[inline]
    fn find(&self, hash: u64, key: &K) -> Option<usize>
    where
        K: Eq,
    {
        let mut i = self.home(hash);
        while i < self.positions() {
            match self.at(i) {
                None => return None,
                Some(e) if e.key == *key => return Some(i),
                Some(_) => i += 1,
            }
        }
        None
    }

    /// Puts an entry whose key the table does not hold at the first empty position from its
    /// home.
    fn place(&mut self, hash: u64, entry: Entry<K, V>, spare: &mut Vec<Chunk<K, V>>) -> usize {
        let mut i = self.home(hash);
        while self.at(i).is_some() {
            i += 1;
        }
        *self.slot_mut(i, spare) = Some(entry);
        self.len += 1;
        i
    }

    /// Drops the entries from position `from` on, until `budget` is spent (a position costs
    /// one, a whole unallocated chunk one) or the table is empty; returns the next position
    /// (past the end once the table is empty) and the entries dropped. The chunks stay
    /// allocated.
    fn clear_from(&mut self, from: usize, budget: &mut usize) -> (usize, usize) {
        let mask = (1_usize << self.chunk_bits) - 1;
        let mut i = from;
        let mut dropped = 0;
        while i < self.positions() && *budget > 0 && self.len > dropped {
            let c = i >> self.chunk_bits;
            let chunk_end = (c + 1) << self.chunk_bits;
            match self.chunks[c].as_mut() {
                None => {
                    i = chunk_end;
                    *budget -= 1;
                }
                Some(chunk) => {
                    let end = chunk_end.min(i.saturating_add(*budget));
                    for slot in &mut chunk[i & mask..=(end - 1) & mask] {
                        dropped += usize::from(slot.take().is_some());
                    }
                    *budget -= end - i;
                    i = end;
                }
            }
        }
        self.len -= dropped;
        if self.len == 0 {
            i = self.positions();
        }
        (i, dropped)
    }

    fn entries(&self) -> impl Iterator<Item = &Entry<K, V>> {
        self.chunks
            .iter()
            .flatten()
            .flat_map(|chunk| chunk.iter().flatten())
    }

    fn entries_mut(&mut self) -> impl Iterator<Item = &mut Entry<K, V>> {
        self.chunks
            .iter_mut()
            .flatten()
            .flat_map(|chunk| chunk.iter_mut().flatten())
    }
}

impl<K: Hash, V> Table<K, V> {
    /// Takes the entry at `i` and shifts later entries of its cluster back into the gap, so
    /// every remaining entry is still reachable from its home without tombstones.
    fn take(&mut self, mut i: usize) -> Entry<K, V> {
        let taken = self
            .occupied_mut(i)
            .take()
            .expect("take() is given an occupied position");
        self.len -= 1;
        let mut j = i + 1;
        while let Some(e) = self.at(j) {
            if self.home(self.hasher.hash_one(&e.key)) <= i {
                let shifted = self.occupied_mut(j).take();
                *self.occupied_mut(i) = shifted;
                i = j;
            }
            j += 1;
        }
        taken
    }
}

/// Of a map's current table and the one it is moving from, the one that holds (or would hold)
/// a key of this hash: the old one when the key's old home is at or past the boundary.
fn route<'a, K, V>(
    table: &'a mut Table<K, V>,
    growing: &'a mut Option<Moving<K, V>>,
    hash: u64,
) -> &'a mut Table<K, V> {
    match growing {
        Some(g) if g.table.home(hash) >= g.moved => &mut g.table,
        _ => table,
    }
}

/// A table being moved into a larger one: positions below `moved` are moved (and empty).
struct Moving<K, V> {
    table: Table<K, V>,
    moved: usize,
}

/// A hash map whose inserts and removals never pause for a rehash or a burst of page faults:
/// linear probing without tombstones, and growth moved a few positions per insert into a table
/// written front to back. For keyed state that lives long and churns, such as open sessions.
/// Keys are hashed with the same fixed hasher as [`FastMap`](super::types::FastMap), so runs
/// are reproducible.
///
/// # Examples
///
/// ```
/// use weir_engine::window::{MapEntry, SteadyMap};
///
/// let mut open: SteadyMap<u64, u32> = SteadyMap::new();
/// for bidder in 0..10_000 {
///     open.insert(bidder, 1);
/// }
/// match open.entry(42) {
///     MapEntry::Occupied(mut bids) => *bids.get_mut() += 1,
///     MapEntry::Vacant(vacant) => drop(vacant.insert(1)),
/// }
/// assert_eq!(open.get(&42), Some(&2));
/// assert_eq!(open.remove(&42), Some(2));
/// assert_eq!(open.get(&42), None);
/// assert_eq!(open.len(), 9_999);
/// ```
pub struct SteadyMap<K, V> {
    hasher: FixedState,
    table: Table<K, V>,
    growing: Option<Moving<K, V>>,
    /// Chunks freed by a move, for the new table to reuse (at most one or two at a time).
    spare: Vec<Chunk<K, V>>,
}

impl<K, V> Default for SteadyMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V> SteadyMap<K, V> {
    /// An empty map (it allocates on the first insert).
    pub fn new() -> Self {
        SteadyMap {
            hasher: FixedState::default(),
            table: Table::new(MIN_BITS, FixedState::default()),
            growing: None,
            spare: Vec::new(),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.table.len + self.growing.as_ref().map_or(0, |g| g.table.len)
    }

    /// Whether the map holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        let old = self.growing.iter().flat_map(|g| g.table.entries());
        self.table.entries().chain(old).map(|e| (&e.key, &e.value))
    }

    /// Every value, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }

    /// Every value, mutably, in no particular order.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        let old = self.growing.iter_mut().flat_map(|g| g.table.entries_mut());
        self.table.entries_mut().chain(old).map(|e| &mut e.value)
    }
}

impl<K, V> SteadyMap<K, V> {
    /// Empties the map a part at a time and keeps its memory, so that refilling it to the same
    /// size neither grows a table nor faults in fresh pages. Each call drops the entries of
    /// the next `budget` positions from `*cursor` on (start with 0; a chunk of positions never
    /// written costs one) and returns how many it dropped; the map is empty once
    /// [`SteadyMap::is_empty`] says so, and a growth under way is then abandoned, keeping the
    /// larger table. For a map nothing is inserted into until it is empty: an entry inserted
    /// between calls may land behind the cursor.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_engine::window::SteadyMap;
    ///
    /// let mut window: SteadyMap<u64, Vec<u64>> = SteadyMap::new();
    /// for person in 0..10_000 {
    ///     window.insert(person, vec![person]);
    /// }
    /// let mut cursor = 0;
    /// let mut dropped = 0;
    /// while !window.is_empty() {
    ///     dropped += window.clear_part(&mut cursor, 1_000);
    /// }
    /// assert_eq!(dropped, 10_000);
    /// ```
    pub fn clear_part(&mut self, cursor: &mut usize, budget: usize) -> usize {
        let mut budget = budget.max(1);
        let mut dropped = 0;
        let current = self.table.positions();
        if *cursor < current {
            let (next, n) = self.table.clear_from(*cursor, &mut budget);
            *cursor = next;
            dropped += n;
        }
        if let Some(g) = self.growing.as_mut()
            && *cursor >= current
        {
            let (next, n) = g.table.clear_from(*cursor - current, &mut budget);
            *cursor = current + next;
            dropped += n;
        }
        if self.is_empty() {
            // Nothing is left to move: the old table's chunks go back to the allocator.
            self.growing = None;
        }
        dropped
    }
}

/// A key's place in a [`SteadyMap`], from [`SteadyMap::entry`].
pub enum MapEntry<'a, K, V> {
    /// The map holds the key.
    Occupied(OccupiedEntry<'a, K, V>),
    /// The map does not hold the key.
    Vacant(VacantEntry<'a, K, V>),
}

impl<'a, K: Hash + Eq, V> MapEntry<'a, K, V> {
    /// The value, inserted as `V::default()` first if the map does not hold the key.
    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        match self {
            MapEntry::Occupied(occupied) => occupied.into_mut(),
            MapEntry::Vacant(vacant) => vacant.insert(V::default()),
        }
    }
}

/// A key the map holds, with its value.
pub struct OccupiedEntry<'a, K, V> {
    table: &'a mut Table<K, V>,
    i: usize,
}

impl<'a, K: Hash, V> OccupiedEntry<'a, K, V> {
    fn entry(&self) -> &Entry<K, V> {
        self.table
            .at(self.i)
            .expect("an occupied entry's position is occupied")
    }

    fn entry_mut(&mut self) -> &mut Entry<K, V> {
        self.table
            .occupied_mut(self.i)
            .as_mut()
            .expect("an occupied entry's position is occupied")
    }

    /// The key.
    pub fn key(&self) -> &K {
        &self.entry().key
    }

    /// The value.
    pub fn get(&self) -> &V {
        &self.entry().value
    }

    /// The value, mutably.
    pub fn get_mut(&mut self) -> &mut V {
        &mut self.entry_mut().value
    }

    /// The value, mutably, for as long as the map was borrowed.
    pub fn into_mut(self) -> &'a mut V {
        let entry = self.table.occupied_mut(self.i);
        &mut entry.as_mut().expect("occupied").value
    }

    /// Removes the key, returning it and its value.
    pub fn remove_entry(self) -> (K, V) {
        let entry = self.table.take(self.i);
        (entry.key, entry.value)
    }
}

/// A key the map does not hold.
pub struct VacantEntry<'a, K, V> {
    map: &'a mut SteadyMap<K, V>,
    hash: u64,
    key: K,
}

impl<'a, K: Hash + Eq, V> VacantEntry<'a, K, V> {
    /// The key.
    pub fn key(&self) -> &K {
        &self.key
    }

    /// Inserts the key with `value`.
    pub fn insert(self, value: V) -> &'a mut V {
        let VacantEntry { map, hash, key } = self;
        map.make_room();
        // Moving shifts the boundary, so the key's table is looked up after it.
        let SteadyMap {
            table,
            growing,
            spare,
            ..
        } = map;
        let table = route(table, growing, hash);
        let i = table.place(hash, Entry { key, value }, spare);
        &mut table.occupied_mut(i).as_mut().expect("just placed").value
    }
}

impl<K: Hash + Eq, V> SteadyMap<K, V> {
    /// The table that holds (or would hold) a key of this hash.
    #[inline]
    fn table_of(&self, hash: u64) -> &Table<K, V> {
        match &self.growing {
            Some(g) if g.table.home(hash) >= g.moved => &g.table,
            _ => &self.table,
        }
    }

    #[inline]
    fn table_of_mut(&mut self, hash: u64) -> &mut Table<K, V> {
        route(&mut self.table, &mut self.growing, hash)
    }

    /// Makes room for one more entry: starts a growth once the table is `GROW_AT_SIXTEENTHS`
    /// full, and while growing moves a few more positions.
    fn make_room(&mut self) {
        if self.growing.is_none() {
            if (self.table.len + 1) * 16 <= (1 << self.table.bits) * GROW_AT_SIXTEENTHS {
                return;
            }
            let bigger = Table::new(self.table.bits + 1, self.hasher.clone());
            let old = std::mem::replace(&mut self.table, bigger);
            self.growing = Some(Moving {
                table: old,
                moved: 0,
            });
        }
        self.move_some(MOVE_PER_INSERT);
    }

    /// Moves at least `budget` positions of the old table into the new one, then on to the end
    /// of the cluster it stands in; ends the growth once every position is moved.
    fn move_some(&mut self, budget: usize) {
        let Some(growing) = self.growing.as_mut() else {
            return;
        };
        let old = &mut growing.table;
        let chunk_mask = (1_usize << old.chunk_bits) - 1;
        let mut done = 0;
        loop {
            let i = growing.moved;
            if i >= old.positions() {
                self.growing = None;
                return;
            }
            let occupied = old.at(i).is_some();
            if !occupied && done >= budget {
                return;
            }
            if occupied {
                // Front to back, so nothing behind `moved` needs shifting.
                let entry = old.occupied_mut(i).take().expect("occupied");
                old.len -= 1;
                let hash = self.hasher.hash_one(&entry.key);
                self.table.place(hash, entry, &mut self.spare);
            }
            growing.moved = i + 1;
            done += 1;
            if growing.moved & chunk_mask == 0 {
                // Every position of this chunk is moved (all empty now): hand it on.
                if let Some(chunk) = old.chunks[i >> old.chunk_bits].take() {
                    self.spare.push(chunk);
                }
            }
        }
    }

    /// Asks the CPU to fetch the position where `key` lives or would be placed (its home), so
    /// that a lookup of it a few records later does not wait for the cache miss. A hint only:
    /// nothing changes, and a key whose home is not allocated yet costs nothing.
    #[inline]
    pub fn prefetch(&self, key: &K) {
        let hash = self.hasher.hash_one(key);
        let table = self.table_of(hash);
        let i = table.home(hash);
        if let Some(Some(chunk)) = table.chunks.get(i >> table.chunk_bits) {
            crate::prefetch::read(&chunk[i & ((1 << table.chunk_bits) - 1)]);
        }
    }

    /// The key's place, to read, change, remove or fill it with one lookup.
    pub fn entry(&mut self, key: K) -> MapEntry<'_, K, V> {
        let hash = self.hasher.hash_one(&key);
        match self.table_of(hash).find(hash, &key) {
            Some(i) => MapEntry::Occupied(OccupiedEntry {
                table: self.table_of_mut(hash),
                i,
            }),
            None => MapEntry::Vacant(VacantEntry {
                map: self,
                hash,
                key,
            }),
        }
    }

    /// The place of a key the map holds, to change or remove it with one lookup.
    pub fn occupied(&mut self, key: &K) -> Option<OccupiedEntry<'_, K, V>> {
        let hash = self.hasher.hash_one(key);
        let i = self.table_of(hash).find(hash, key)?;
        Some(OccupiedEntry {
            table: self.table_of_mut(hash),
            i,
        })
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        let hash = self.hasher.hash_one(key);
        let table = self.table_of(hash);
        let i = table.find(hash, key)?;
        table.at(i).map(|e| &e.value)
    }

    /// The value of `key`, mutably.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.occupied(key).map(OccupiedEntry::into_mut)
    }

    /// Whether the map holds `key`.
    pub fn contains_key(&self, key: &K) -> bool {
        self.get(key).is_some()
    }

    /// Sets the value of `key`, returning the value it replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.entry(key) {
            MapEntry::Occupied(mut occupied) => Some(std::mem::replace(occupied.get_mut(), value)),
            MapEntry::Vacant(vacant) => {
                vacant.insert(value);
                None
            }
        }
    }

    /// Removes `key`, returning the key and its value.
    pub fn remove_entry(&mut self, key: &K) -> Option<(K, V)> {
        self.occupied(key).map(OccupiedEntry::remove_entry)
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.remove_entry(key).map(|(_, v)| v)
    }
}

impl<K, V> std::fmt::Debug for SteadyMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SteadyMap")
            .field("len", &self.len())
            .field("home_positions", &(1_usize << self.table.bits))
            .field("growing", &self.growing.is_some())
            .finish_non_exhaustive()
    }
}

impl<K, V> std::fmt::Debug for MapEntry<'_, K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MapEntry::Occupied(o) => o.fmt(f),
            MapEntry::Vacant(v) => v.fmt(f),
        }
    }
}

impl<K, V> std::fmt::Debug for OccupiedEntry<'_, K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OccupiedEntry")
            .field("position", &self.i)
            .finish_non_exhaustive()
    }
}

impl<K, V> std::fmt::Debug for VacantEntry<'_, K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VacantEntry")
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u16, u32),
        Remove(u16),
        Get(u16),
        /// Empty the map a part of this many positions at a time.
        Clear(usize),
    }

    /// Checks the structure's invariants: every entry reachable from its home without passing
    /// an empty position, keys of a growing map on the right side of the boundary.
    fn check<K: Hash + Eq, V>(map: &SteadyMap<K, V>) {
        let mut tables = vec![(&map.table, 0)];
        if let Some(g) = &map.growing {
            tables.push((&g.table, g.moved));
        }
        for (t, moved) in tables {
            let mut count = 0;
            for i in 0..t.positions() {
                let Some(e) = t.at(i) else { continue };
                count += 1;
                let home = t.home(map.hasher.hash_one(&e.key));
                assert!(home <= i, "an entry sits before its home");
                assert!(
                    (home..i).all(|j| t.at(j).is_some()),
                    "a gap between home and entry"
                );
                assert!(
                    home >= moved,
                    "an old-table entry below the moving boundary"
                );
            }
            assert_eq!(count, t.len);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn behaves_as_a_hash_map(ops in proptest::collection::vec(prop_oneof![
            5 => (0_u16..400, any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
            3 => (0_u16..400).prop_map(Op::Remove),
            2 => (0_u16..400).prop_map(Op::Get),
            1 => prop_oneof![Just(0), 1_usize..40, Just(usize::MAX)].prop_map(Op::Clear),
        ], 0..1500)) {
            let mut map = SteadyMap::new();
            let mut reference = HashMap::new();
            for (n, op) in ops.iter().enumerate() {
                match *op {
                    Op::Insert(k, v) => prop_assert_eq!(map.insert(k, v), reference.insert(k, v)),
                    Op::Remove(k) => prop_assert_eq!(map.remove(&k), reference.remove(&k)),
                    Op::Get(k) => prop_assert_eq!(map.get(&k), reference.get(&k)),
                    Op::Clear(budget) => {
                        let mut cursor = 0;
                        let mut dropped = 0;
                        while !map.is_empty() {
                            dropped += map.clear_part(&mut cursor, budget);
                        }
                        prop_assert_eq!(dropped, reference.len());
                        reference.clear();
                    }
                }
                prop_assert_eq!(map.len(), reference.len());
                if n % 50 == 0 {
                    check(&map);
                }
            }
            check(&map);
            let mut all: Vec<_> = map.iter().map(|(k, v)| (*k, *v)).collect();
            all.sort_unstable();
            let mut expected: Vec<_> = reference.into_iter().collect();
            expected.sort_unstable();
            prop_assert_eq!(all, expected);
        }
    }

    #[test]
    fn growth_is_spread_over_inserts_and_frees_the_old_table_chunk_by_chunk() {
        let mut map = SteadyMap::new();
        let mut grew_at = Vec::new();
        let mut longest = 0;
        let mut run = 0;
        for k in 0..200_000_u64 {
            let before = map.table.bits;
            map.insert(k, k);
            if map.table.bits != before {
                grew_at.push(k);
            }
            if let Some(g) = &map.growing {
                run += 1;
                longest = longest.max(run);
                // The old table keeps only the chunks not yet moved.
                let freed = g.moved >> g.table.chunk_bits;
                assert!(g.table.chunks[..freed].iter().all(Option::is_none));
                // ... and hands them to the new table, which takes them as it needs them.
                assert!(map.spare.len() <= 2, "{} spare chunks", map.spare.len());
            } else {
                run = 0;
            }
        }
        check(&map);
        assert_eq!(map.len(), 200_000);
        // It doubled from 16 home positions up to 2^19, each time once 9/16 full ...
        assert_eq!(grew_at.len(), 15, "{grew_at:?}");
        assert_eq!(map.table.bits, 19);
        // ... and each move took up to a quarter of the old table's positions in inserts (2^18
        // home positions and a tail chunk for the last one), not one call.
        assert!(
            longest > 10_000 && longest <= 66_600,
            "longest move: {longest} inserts"
        );
        for k in 0..200_000_u64 {
            assert_eq!(map.remove(&k), Some(k));
        }
        assert!(map.is_empty());
        check(&map);
    }

    #[test]
    fn a_cluster_that_runs_past_the_end_grows_the_tail() {
        // 40 keys whose home is the last of 16 positions: their cluster runs past the table's
        // 32 positions (16 and a tail chunk of 16), which must grow rather than panic.
        let hasher = FixedState::default();
        let mut table = Table::new(MIN_BITS, hasher.clone());
        let keys: Vec<u64> = (0..)
            .filter(|k| table.home(hasher.hash_one(k)) == 15)
            .take(40)
            .collect();
        let mut spare = Vec::new();
        for &k in &keys {
            table.place(hasher.hash_one(k), Entry { key: k, value: () }, &mut spare);
        }
        assert!(table.positions() >= 15 + 40);
        for &k in &keys {
            let i = table.find(hasher.hash_one(k), &k).expect("placed");
            assert_eq!(table.take(i).key, k);
        }
        assert_eq!(table.len, 0);
    }

    #[test]
    fn a_map_cleared_in_parts_keeps_its_table_and_refills_without_growing() {
        let mut map: SteadyMap<u64, Vec<u64>> = SteadyMap::new();
        // Stop in the middle of a growth: both tables hold entries.
        let mut k = 0;
        while map.growing.as_ref().is_none_or(|g| g.moved < 1 << 16) {
            map.insert(k, vec![k]);
            k += 1;
        }
        let bits = map.table.bits;
        let (mut cursor, mut dropped, mut calls) = (0, 0, 0_u64);
        while !map.is_empty() {
            let before = map.len();
            dropped += map.clear_part(&mut cursor, 4_096);
            calls += 1;
            assert!(
                before - map.len() <= 4_096,
                "one part drops at most its budget"
            );
        }
        assert_eq!(dropped, k as usize);
        assert!(calls >= k / 4_096, "{calls} calls: cleared in parts");
        assert!(map.growing.is_none(), "the growth is abandoned once empty");
        assert_eq!(map.table.bits, bits, "the larger table is kept");
        check(&map);
        // Refilled to the size it had (below the larger table's growth point), it does not grow.
        for k in 0..k {
            map.insert(k, vec![k]);
            assert!(map.growing.is_none());
        }
        assert_eq!(map.table.bits, bits);
        check(&map);
    }

    #[test]
    fn churn_at_steady_size_never_grows_the_table() {
        // Sessions that open and fire: keys come and go, the size holds at 50,000.
        let mut map = SteadyMap::new();
        for k in 0..50_000_u64 {
            map.insert(k, ());
        }
        while map.growing.is_some() {
            map.insert(u64::MAX, ());
            map.remove(&u64::MAX);
        }
        let bits = map.table.bits;
        for k in 50_000..2_000_000_u64 {
            map.insert(k, ());
            assert_eq!(map.remove(&(k - 50_000)), Some(()));
        }
        assert_eq!(map.len(), 50_000);
        assert_eq!(map.table.bits, bits, "the table grew under churn alone");
        assert!(map.growing.is_none());
        check(&map);
    }
}
