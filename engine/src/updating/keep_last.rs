//! Keep-last deduplication: per key, the last row in a total order, as a changelog.
//!
//! **State.** One row per distinct key seen, never freed: the result is a table over an
//! unbounded input (Nexmark q18: one bid per (bidder, auction) pair). The rows live in chunks
//! of 4,096 entries that never move (`chunked.rs`). Neither keys nor order keys are stored
//! beside them: both are computed again from the kept row when a row of its key arrives, so
//! q18 keeps 72 bytes per key in its rows (not 88 with the order key) and 8 in its index (not
//! 24 with the key). The index is a hash table of (32 bits of the key's hash, position)
//! pairs: a lookup compares the key with the kept row's only where those 32 bits match, and a
//! growing table moves the pairs without reading the rows. One worker holds at most 2^32
//! keys. A row that is not later
//! than its key's current row is dropped at once. During a mini-batch the operator also
//! remembers the row each key the mini-batch replaced had before it, and forgets it when the
//! mini-batch's changes are emitted.
//!
//! **Changes.** Once per mini-batch and changed key (as
//! [`TableAggregator`](super::TableAggregator), [`Config::mini_batch`](crate::Config::mini_batch):
//! a key replaced by ten rows of one mini-batch emits one update): a key's first row is
//! inserted; a key whose row the mini-batch replaced retracts the row it had before it, then
//! inserts its last. "Last" is by the order key, not by arrival, so the result does not depend
//! on the order in which the workers' rows meet; for equal order keys the row that arrived
//! first stays (the order should be total: Nexmark breaks ties on the event id).

use std::hash::{BuildHasher, Hash};
use std::rc::Rc;

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use super::changelog::Change;
use super::chunked::Chunked;
use super::mini_batch::{MiniBatched, Updating};
use crate::operator::Output;
use crate::stream::Stream;
use crate::window::dataflow::key_hash;

/// The keep-last operator ([`Stream::keep_last`]).
pub struct KeepLast<T, K, O> {
    key: Rc<dyn Fn(&T) -> K>,
    order: Box<dyn Fn(&T) -> O>,
    /// Each key's position in `rows`, found by [`Slot::hash`] and the kept row's key.
    index: HashTable<Slot>,
    /// Hashes keys for `index`, seeded apart from the exchange's partitioning hash (which
    /// picks a key's worker from some of its bits, so those bits vary little within a
    /// worker).
    hasher: FixedState,
    rows: Chunked<Last<T>>,
    /// The keys the current mini-batch changed (positions in `rows`), with their row before
    /// it (`None`: the mini-batch inserted the key's first row); a key whose `batch` is the
    /// current mini-batch's number is here.
    touched: Vec<(usize, Option<T>)>,
}

/// A key's entry in [`KeepLast::index`]: the high 32 bits of its hash and its row's position.
#[derive(Clone, Copy)]
struct Slot {
    hash: u32,
    at: u32,
}

/// The seed of [`KeepLast::hasher`].
const INDEX_SEED: u64 = 0x6b65_6570_6c61_7374;

/// The hash table's 64-bit hash of a slot's 32: the same bits in both halves, so that the
/// bucket (low bits) and the tag (high bits) both come from the key's hash.
fn table_hash(hash: u32) -> u64 {
    u64::from(hash) * 0x1_0000_0001
}

/// One key's current row.
struct Last<T> {
    row: T,
    /// The last mini-batch that changed the key.
    batch: u64,
}

impl<T, K, O> std::fmt::Debug for KeepLast<T, K, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeepLast")
            .field("keys", &self.rows.len())
            .finish_non_exhaustive()
    }
}

impl<T, K, O> Updating for KeepLast<T, K, O>
where
    T: Clone + 'static,
    K: Hash + Eq + 'static,
    O: Ord + 'static,
{
    type In = T;
    type Out = Change<T>;

    fn take(&mut self, input: &mut Vec<T>, batch: u64) {
        for row in input.drain(..) {
            let order = (self.order)(&row);
            let key = (self.key)(&row);
            let hash = (self.hasher.hash_one(&key) >> 32) as u32;
            let (rows, key_of) = (&self.rows, &self.key);
            let found = self.index.find(table_hash(hash), |slot| {
                slot.hash == hash && key_of(&rows[slot.at as usize].row) == key
            });
            if let Some(&Slot { at, .. }) = found {
                let at = at as usize;
                let last = &mut self.rows[at];
                if order > (self.order)(&last.row) {
                    let before = std::mem::replace(&mut last.row, row);
                    if last.batch != batch {
                        last.batch = batch;
                        self.touched.push((at, Some(before)));
                    }
                }
            } else {
                let at = self.rows.len();
                let slot = Slot {
                    hash,
                    at: u32::try_from(at)
                        .expect("keep_last holds at most 2^32 keys per worker: run more workers"),
                };
                self.index
                    .insert_unique(table_hash(hash), slot, |s| table_hash(s.hash));
                self.rows.push(Last { row, batch });
                self.touched.push((at, None));
            }
        }
    }

    fn pending(&self) -> bool {
        !self.touched.is_empty()
    }

    fn emit(&mut self, out: &mut Output<'_, Self::Out>) {
        for (at, before) in self.touched.drain(..) {
            if let Some(before) = before {
                out.push(Change::retract(before));
            }
            out.push(Change::insert(self.rows[at].row.clone()));
        }
    }
}

impl<T: Clone + Send + 'static> Stream<T> {
    /// Keep-last deduplication as a changelog: per key `key(row)`, the row with the greatest
    /// `order(row)`. The input is partitioned by key. `key` and `order` are called on every
    /// arriving row and again on the row kept for its key (neither is stored), so they should
    /// be cheap: a few of the row's fields. See [`KeepLast`] for the state and the changes
    /// emitted.
    ///
    /// # Examples
    ///
    /// The latest reading per sensor, whatever order the readings arrive in:
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use weir_engine::updating::Table;
    /// use weir_engine::{Config, IterSource, execute};
    ///
    /// // (sensor, time, value)
    /// let rows = vec![(1_u64, 20_i64, 5_u64), (1, 10, 9), (2, 3, 4), (1, 30, 7)];
    /// let table = Arc::new(Mutex::new(Table::new()));
    /// let sink = Arc::clone(&table);
    /// execute(Config::new(2).with_pinning(false), move |worker| {
    ///     let mine = if worker.index() == 1 { rows.clone() } else { Vec::new() };
    ///     let sink = Arc::clone(&sink);
    ///     worker
    ///         .source(IterSource::new(mine, |_| 0, 0))
    ///         .keep_last(|r: &(u64, i64, u64)| r.0, |r| r.1)
    ///         .table_sink(move |batch| {
    ///             let mut t = sink.lock().unwrap();
    ///             batch.drain(..).for_each(|c| t.apply(c).unwrap());
    ///         });
    /// })?;
    /// let mut rows: Vec<_> = table.lock().unwrap().clone().into_rows().collect();
    /// rows.sort();
    /// assert_eq!(rows, [(1, 30, 7), (2, 3, 4)]);
    /// # Ok::<(), weir_engine::EngineError>(())
    /// ```
    pub fn keep_last<K, O>(
        self,
        key: impl Fn(&T) -> K + 'static,
        order: impl Fn(&T) -> O + 'static,
    ) -> Stream<Change<T>>
    where
        K: Hash + Eq + 'static,
        O: Ord + 'static,
    {
        let key: Rc<dyn Fn(&T) -> K> = Rc::new(key);
        let route = Rc::clone(&key);
        let op = KeepLast {
            key,
            order: Box::new(order),
            index: HashTable::new(),
            hasher: FixedState::with_seed(INDEX_SEED),
            rows: Chunked::default(),
            touched: Vec::new(),
        };
        let op = MiniBatched::new(op, self.ctx.mini_batch_ns);
        self.key_by(move |r| key_hash(&route(r)))
            .unary("keep_last", op)
    }
}
