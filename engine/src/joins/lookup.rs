//! The lookup join: each record of a stream joined with the row of its key in a static table
//! loaded before the job starts (Nexmark q13's side input; Flink's lookup join against a
//! bounded table).
//!
//! **What it keeps.** The table, built once (for example from a file, before the job and its
//! clock start, so a bad file fails the run before anything runs) and shared read-only by every
//! worker through an `Arc`: no exchange, no per-record state, nothing freed during the run. Its
//! row count is reported as the operator's `state_records` metric.
//!
//! **Semantics.** An inner join: a record whose key has no row yields nothing (the operator's
//! `records_in - records_out` counts such records; they are the join's answer, not drops).
//! A record is never held back, so the output watermark is the input's.
//!
//! **Cost.** One hash lookup per record (the table uses the engine's fixed fast hasher), no
//! allocation: the join function gets the record by value and the row by reference.

use std::hash::Hash;
use std::sync::Arc;

use crate::operator::{Operator, Output};
use crate::stream::Stream;
use crate::time::{Timestamp, Watermark};
use crate::window::{FastMap, fast_map};

/// A static keyed table for [`Stream::lookup_join`].
///
/// # Examples
///
/// ```
/// use weir_engine::joins::LookupTable;
///
/// let table: LookupTable<u64, &str> = [(0, "zero"), (1, "one")].into_iter().collect();
/// assert_eq!(table.get(&1), Some(&"one"));
/// assert_eq!(table.get(&2), None);
/// assert_eq!(table.len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct LookupTable<K, V> {
    rows: FastMap<K, V>,
}

impl<K: Hash + Eq, V> LookupTable<K, V> {
    /// The row of `key`.
    #[inline]
    pub fn get(&self, key: &K) -> Option<&V> {
        self.rows.get(key)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl<K: Hash + Eq, V> FromIterator<(K, V)> for LookupTable<K, V> {
    /// The table of `rows`; a later row of a key replaces an earlier one (check uniqueness when
    /// reading the file, where the line can be named).
    fn from_iter<I: IntoIterator<Item = (K, V)>>(rows: I) -> Self {
        let mut map = fast_map();
        map.extend(rows);
        Self { rows: map }
    }
}

/// The lookup join on one worker.
struct LookupJoinOperator<T, K, V, FK, F> {
    table: Arc<LookupTable<K, V>>,
    key: FK,
    join: F,
    _record: std::marker::PhantomData<fn(T)>,
}

impl<T, K, V, O, FK, F> Operator for LookupJoinOperator<T, K, V, FK, F>
where
    T: 'static,
    K: Hash + Eq + 'static,
    V: 'static,
    O: 'static,
    FK: Fn(&T) -> K + 'static,
    F: FnMut(T, &V) -> O + 'static,
{
    type In = T;
    type Out = O;

    fn on_batch(&mut self, input: &mut Vec<T>, out: &mut Output<'_, O>) {
        let table = &*self.table;
        for record in input.drain(..) {
            if let Some(row) = table.get(&(self.key)(&record)) {
                out.push((self.join)(record, row));
            }
        }
    }

    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, O>) -> Timestamp {
        out.set_state_records(self.table.len() as u64);
        wm.time
    }
}

impl<T: Send + 'static> Stream<T> {
    /// Lookup join against a static `table`: every record whose key (`key(record)`) has a row
    /// yields `join(record, row)`; the others yield nothing (an inner join). Every worker
    /// reads the same table, so the stream keeps its partitioning (no exchange). The table's
    /// size is the operator's `state_records` metric.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use weir_engine::joins::LookupTable;
    /// use weir_engine::{Config, IterSource, execute};
    ///
    /// let table: Arc<LookupTable<u64, String>> =
    ///     Arc::new((0..10).map(|k| (k, format!("v{k}"))).collect());
    /// let rows = Arc::new(Mutex::new(Vec::new()));
    /// let sink = Arc::clone(&rows);
    /// execute(Config::new(2).with_pinning(false), move |worker| {
    ///     let mine: Vec<u64> = (0..30).filter(|i| *i as usize % 2 == worker.index()).collect();
    ///     let sink = Arc::clone(&sink);
    ///     worker
    ///         .source(IterSource::new(mine, |_: &u64| 0, 0))
    ///         .lookup_join(Arc::clone(&table), |i| i % 20, |i, v: &String| (i, v.clone()))
    ///         .for_each(move |row| sink.lock().expect("lock").push(row));
    /// })?;
    /// // Keys 10..20 have no row: their records yield nothing.
    /// assert_eq!(rows.lock().expect("lock").len(), 20);
    /// # Ok::<(), weir_engine::EngineError>(())
    /// ```
    pub fn lookup_join<K, V, O>(
        self,
        table: Arc<LookupTable<K, V>>,
        key: impl Fn(&T) -> K + 'static,
        join: impl FnMut(T, &V) -> O + 'static,
    ) -> Stream<O>
    where
        K: Hash + Eq + 'static,
        V: 'static,
        O: 'static,
    {
        self.unary(
            "lookup_join",
            LookupJoinOperator {
                table,
                key,
                join,
                _record: std::marker::PhantomData,
            },
        )
    }
}
