//! Keep-last deduplication: per key, the last row in a total order, as a changelog.
//!
//! **State.** One row per distinct key seen, never freed: the result is a table over an
//! unbounded input (Nexmark q18: one bid per (bidder, auction) pair). The rows live in chunks
//! of 4,096 entries that never move (`chunked.rs`), found through one hash map from key to
//! position. A row's order key is not kept beside it: it is computed again from the kept row
//! when a later row of its key arrives, one more call of `order` per row for 16 fewer bytes
//! per key in q18 (72 instead of 88: its order key is two of the bid's fields, and the order
//! key's state was 18 % of the rows'). A row that is not later
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

use std::hash::Hash;
use std::rc::Rc;

use super::changelog::Change;
use super::chunked::Chunked;
use super::mini_batch::{MiniBatched, Updating};
use crate::operator::Output;
use crate::stream::Stream;
use crate::window::FastMap;
use crate::window::dataflow::key_hash;

/// The keep-last operator ([`Stream::keep_last`]).
pub struct KeepLast<T, K, O> {
    key: Rc<dyn Fn(&T) -> K>,
    order: Box<dyn Fn(&T) -> O>,
    /// Each key's position in `rows`.
    index: FastMap<K, usize>,
    rows: Chunked<Last<T>>,
    /// The keys the current mini-batch changed (positions in `rows`), with their row before
    /// it (`None`: the mini-batch inserted the key's first row); a key whose `batch` is the
    /// current mini-batch's number is here.
    touched: Vec<(usize, Option<T>)>,
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
            if let Some(&at) = self.index.get(&key) {
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
                self.index.insert(key, at);
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
    /// `order(row)`. The input is partitioned by key. `order` is called on every arriving row
    /// and again on the row kept for its key (the order key is not stored), so it should be
    /// cheap: a few of the row's fields. See [`KeepLast`] for the state and the changes
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
            index: FastMap::default(),
            rows: Chunked::default(),
            touched: Vec::new(),
        };
        let op = MiniBatched::new(op, self.ctx.mini_batch_ns);
        self.key_by(move |r| key_hash(&route(r)))
            .unary("keep_last", op)
    }
}
