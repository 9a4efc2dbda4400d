//! Keyed top-N: per key, the first `n` rows in a total order, with their rank, as a changelog.
//!
//! **State.** Per key at most `n` rows, sorted (a `Vec`, so an insertion moves at most `n`
//! entries). A row that does not enter its key's first `n` is dropped at once, and the row
//! pushed out of the first `n` is freed. Keys are never freed: the result is a table over an
//! unbounded input, so memory is `n` rows per distinct key seen (Nexmark q19: at most 10 bids
//! per auction). The keys' rows live in a vector found through one hash map from key to
//! position. Order keys are not stored: the binary search for an arriving row's rank computes
//! them from the kept rows it compares (about log2 `n` + 1 calls of `order`), which keeps q19's
//! rows at 64 bytes instead of 80.
//!
//! **Changes.** Once per mini-batch and changed key (as
//! [`TableAggregator`](super::TableAggregator), [`Config::mini_batch`](crate::Config::mini_batch)):
//! a row entering at rank `r` shifts the rows at ranks `r..` down by one, so the operator
//! remembers, from the first rank the mini-batch changed, the key's rows as they were before
//! it; when the mini-batch ends it retracts those with their old ranks and inserts the key's
//! rows from that rank on with their new ones (the row pushed beyond `n` is only retracted).
//! Ranks above the first changed one are not touched. A key that received ten better rows in
//! one mini-batch thus emits at most `n` retractions and `n` insertions, not up to `10 n` of
//! each. Ties: the order must be total (Nexmark breaks ties on the event id); for equal order
//! keys the row that arrived first keeps the better rank.
//!
//! [`BestBy`] is the top-1 of a bounded group as an [`Aggregate`]: a window or interval
//! aggregate keeps it per open group and frees it when the group closes (Nexmark q9: the
//! winning bid of each auction, freed once the frontier passes the auction's `expires`).

use std::hash::Hash;
use std::rc::Rc;

use super::changelog::Change;
use super::mini_batch::{MiniBatched, Updating};
use crate::operator::Output;
use crate::stream::Stream;
use crate::window::FastMap;
use crate::window::aggregate::Aggregate;
use crate::window::dataflow::key_hash;

/// A row with its 1-based rank among its key's first `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ranked<T> {
    /// 1 for the first row.
    pub rank: u32,
    /// The row.
    pub row: T,
}

/// An operator over a key's first or last `n` rows given `n == 0` (it would never hold a row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} needs n >= 1 (got 0): it would never hold a row")]
pub struct ZeroN(pub &'static str);

/// The keyed top-N operator ([`Stream::top_n`]).
pub struct TopN<T, K, O> {
    n: usize,
    key: Rc<dyn Fn(&T) -> K>,
    order: Box<dyn Fn(&T) -> O>,
    /// Each key's position in `tops`.
    index: FastMap<K, usize>,
    tops: Vec<Top<T>>,
    /// The keys the current mini-batch changed (a key whose `batch` is the current
    /// mini-batch's number is here).
    touched: Vec<Touched<T>>,
}

/// One key's first `n` rows, best first.
struct Top<T> {
    rows: Vec<T>,
    /// The last mini-batch that changed the key, and its entry in `touched` then.
    batch: u64,
    touched: usize,
}

/// A key the current mini-batch changed: its rows from rank `from + 1` on as they were before.
struct Touched<T> {
    top: usize,
    from: usize,
    before: Vec<T>,
}

impl<T, K, O> std::fmt::Debug for TopN<T, K, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopN")
            .field("n", &self.n)
            .field("keys", &self.tops.len())
            .finish_non_exhaustive()
    }
}

impl<T, K, O> TopN<T, K, O> {
    /// Keys held.
    pub fn keys(&self) -> usize {
        self.tops.len()
    }
}

impl<T, K, O> Updating for TopN<T, K, O>
where
    T: Clone + 'static,
    K: Hash + Eq + 'static,
    O: Ord + 'static,
{
    type In = T;
    type Out = Change<Ranked<T>>;

    fn take(&mut self, input: &mut Vec<T>, batch: u64) {
        for row in input.drain(..) {
            let order = (self.order)(&row);
            let key = (self.key)(&row);
            let k = if let Some(&k) = self.index.get(&key) {
                k
            } else {
                let k = self.tops.len();
                self.index.insert(key, k);
                self.tops.push(Top {
                    rows: Vec::new(),
                    batch: 0,
                    touched: 0,
                });
                k
            };
            let top = &mut self.tops[k];
            // Equal order keys: the earlier row stays ahead.
            let at = top.rows.partition_point(|r| (self.order)(r) <= order);
            if at >= self.n {
                continue;
            }
            if top.batch == batch {
                let touched = &mut self.touched[top.touched];
                if at < touched.from {
                    // The mini-batch changed nothing above `from`: these rows are still as they
                    // were before it.
                    let earlier = top.rows[at..touched.from].iter().cloned();
                    touched.before.splice(0..0, earlier);
                    touched.from = at;
                }
            } else {
                top.batch = batch;
                top.touched = self.touched.len();
                self.touched.push(Touched {
                    top: k,
                    from: at,
                    before: top.rows[at..].to_vec(),
                });
            }
            top.rows.insert(at, row);
            top.rows.truncate(self.n);
        }
    }

    fn pending(&self) -> bool {
        !self.touched.is_empty()
    }

    fn emit(&mut self, out: &mut Output<'_, Self::Out>) {
        for touched in self.touched.drain(..) {
            let rank = |i: usize| (touched.from + i) as u32 + 1;
            for (i, old) in touched.before.into_iter().enumerate() {
                out.push(Change::retract(Ranked {
                    rank: rank(i),
                    row: old,
                }));
            }
            let rows = &self.tops[touched.top].rows[touched.from..];
            for (i, new) in rows.iter().enumerate() {
                out.push(Change::insert(Ranked {
                    rank: rank(i),
                    row: new.clone(),
                }));
            }
        }
    }
}

impl<T: Clone + Send + 'static> Stream<T> {
    /// Keyed top-N as a changelog: per key `key(row)`, the first `n` rows in ascending
    /// `order(row)` (use `Reverse` for descending), each with its rank (1 = first). The order
    /// should be total (add a unique tie-break such as an event id); for equal order keys the
    /// earlier arrival ranks first. Order keys are not stored: `order` is called on every
    /// arriving row and on the kept rows its rank is searched among, so it should be cheap (a
    /// few of the row's fields). The input is partitioned by key. See [`TopN`] for the state
    /// and the changes emitted.
    ///
    /// # Errors
    /// [`ZeroN`] when `n` is 0.
    ///
    /// # Examples
    ///
    /// The two highest values per key:
    ///
    /// ```
    /// use std::cmp::Reverse;
    /// use std::sync::{Arc, Mutex};
    /// use weir_engine::updating::Table;
    /// use weir_engine::{Config, IterSource, execute};
    ///
    /// let rows = vec![(1_u64, 5_u64), (1, 9), (2, 4), (1, 7)];
    /// let table = Arc::new(Mutex::new(Table::new()));
    /// let sink = Arc::clone(&table);
    /// execute(Config::new(2).with_pinning(false), move |worker| {
    ///     let mine = if worker.index() == 0 { rows.clone() } else { Vec::new() };
    ///     let sink = Arc::clone(&sink);
    ///     worker
    ///         .source(IterSource::new(mine, |_| 0, 0))
    ///         .top_n(2, |r: &(u64, u64)| r.0, |r| Reverse(r.1))
    ///         .expect("n >= 1")
    ///         .table_sink(move |batch| {
    ///             let mut t = sink.lock().unwrap();
    ///             batch.drain(..).for_each(|c| t.apply(c.map(|r| (r.row, r.rank))).unwrap());
    ///         });
    /// })?;
    /// let mut rows: Vec<_> = table.lock().unwrap().clone().into_rows().collect();
    /// rows.sort();
    /// assert_eq!(rows, [((1, 7), 2), ((1, 9), 1), ((2, 4), 1)]);
    /// # Ok::<(), weir_engine::EngineError>(())
    /// ```
    pub fn top_n<K, O>(
        self,
        n: usize,
        key: impl Fn(&T) -> K + 'static,
        order: impl Fn(&T) -> O + 'static,
    ) -> Result<Stream<Change<Ranked<T>>>, ZeroN>
    where
        K: Hash + Eq + 'static,
        O: Ord + 'static,
    {
        if n == 0 {
            return Err(ZeroN("top_n"));
        }
        let key: Rc<dyn Fn(&T) -> K> = Rc::new(key);
        let route = Rc::clone(&key);
        let op = TopN {
            n,
            key,
            order: Box::new(order),
            index: FastMap::default(),
            tops: Vec::new(),
            touched: Vec::new(),
        };
        let op = MiniBatched::new(op, self.ctx.mini_batch_ns);
        Ok(self.key_by(move |r| key_hash(&route(r))).unary("top_n", op))
    }
}

/// The top-1 of a bounded group as an [`Aggregate`]: the value first in ascending
/// `order(value)`; for equal order keys the one accumulated first. Its state is one value per
/// open group, freed with the group.
#[derive(Clone, Copy, Debug)]
pub struct BestBy<F>(pub F);

impl<V, O, F> Aggregate<V> for BestBy<F>
where
    V: Clone,
    O: Ord,
    F: Fn(&V) -> O,
{
    type Acc = Option<V>;
    type Out = Option<V>;

    fn init(&self) -> Option<V> {
        None
    }

    fn accumulate(&self, acc: &mut Option<V>, value: &V) {
        if acc
            .as_ref()
            .is_none_or(|best| (self.0)(value) < (self.0)(best))
        {
            *acc = Some(value.clone());
        }
    }

    fn merge(&self, acc: &mut Option<V>, other: &Option<V>) {
        if let Some(v) = other {
            self.accumulate(acc, v);
        }
    }

    fn finish(&self, acc: Option<V>) -> Option<V> {
        acc
    }
}
