//! Changes, changelog sinks and the sequential fold of a changelog.
//!
//! A [`Change`] inserts or retracts one row of a table. Operators emit, for one key, the
//! retraction of a row before the insertion that replaces it, so a table folded in arrival
//! order never holds a row a negative number of times; the final table does not depend on
//! the order of different keys' changes, nor on how many intermediate updates an operator
//! emitted.

use std::collections::HashMap;
use std::hash::Hash;
use std::rc::Rc;

use crate::counters::WorkerCounters;
use crate::stream::Stream;

/// Whether a change adds a row to the table or takes one away.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Diff {
    /// The row enters the table (weight +1).
    Insert,
    /// The row leaves the table (weight -1).
    Retract,
}

impl Diff {
    /// +1 for an insertion, -1 for a retraction.
    pub const fn weight(self) -> i64 {
        match self {
            Diff::Insert => 1,
            Diff::Retract => -1,
        }
    }

    /// `"insert"` or `"retract"`.
    pub const fn name(self) -> &'static str {
        match self {
            Diff::Insert => "insert",
            Diff::Retract => "retract",
        }
    }
}

/// One change of a table: `row` inserted or retracted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Change<T> {
    /// Insertion or retraction.
    pub diff: Diff,
    /// The row.
    pub row: T,
}

impl<T> Change<T> {
    /// `row` enters the table.
    pub const fn insert(row: T) -> Self {
        Change {
            diff: Diff::Insert,
            row,
        }
    }

    /// `row` leaves the table.
    pub const fn retract(row: T) -> Self {
        Change {
            diff: Diff::Retract,
            row,
        }
    }

    /// The same change of `f(row)`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Change<U> {
        Change {
            diff: self.diff,
            row: f(self.row),
        }
    }
}

impl<T: 'static> Stream<Change<T>> {
    /// Consumes a changelog: delivers its batches to `f` (as [`Stream::sink`]) and counts its
    /// insertions and retractions into the job's [`TableMetrics`](crate::TableMetrics), so the
    /// table's live row count and rate of change show while the job runs.
    pub fn table_sink(self, mut f: impl FnMut(&mut Vec<Change<T>>) + 'static) {
        let counters = Rc::clone(&self.ctx.counters);
        counters.table_sink.set(true);
        self.sink(move |batch| {
            let retracts = batch.iter().filter(|c| c.diff == Diff::Retract).count() as u64;
            WorkerCounters::add(&counters.table_inserts, batch.len() as u64 - retracts);
            WorkerCounters::add(&counters.table_retracts, retracts);
            f(batch);
        });
    }
}

/// A retraction of a row the table did not hold: the changelog is wrong (an operator bug).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a changelog retracted a row the table did not hold: {row}")]
pub struct NegativeRow {
    /// The row, as `Debug` prints it.
    pub row: String,
}

/// A table folded from a changelog, sequentially: each row with its multiplicity.
///
/// Keeps one entry per distinct live row; a row whose multiplicity falls to zero is removed.
#[derive(Clone, Debug)]
pub struct Table<T> {
    rows: HashMap<T, u64>,
    len: u64,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            rows: HashMap::new(),
            len: 0,
        }
    }
}

impl<T: Hash + Eq + std::fmt::Debug> Table<T> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one change.
    ///
    /// # Errors
    /// [`NegativeRow`] when a retraction finds no such row; the table is left unchanged.
    pub fn apply(&mut self, change: Change<T>) -> Result<(), NegativeRow> {
        match change.diff {
            Diff::Insert => {
                *self.rows.entry(change.row).or_default() += 1;
                self.len += 1;
            }
            Diff::Retract => {
                let Some(n) = self.rows.get_mut(&change.row) else {
                    return Err(NegativeRow {
                        row: format!("{:?}", change.row),
                    });
                };
                *n -= 1;
                if *n == 0 {
                    self.rows.remove(&change.row);
                }
                self.len -= 1;
            }
        }
        Ok(())
    }

    /// Rows in the table, counting multiplicity.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The rows with their multiplicities, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&T, u64)> {
        self.rows.iter().map(|(r, &n)| (r, n))
    }

    /// The rows, each repeated by its multiplicity, in no particular order.
    pub fn into_rows(self) -> impl Iterator<Item = T>
    where
        T: Clone,
    {
        self.rows
            .into_iter()
            .flat_map(|(r, n)| std::iter::repeat_n(r, n as usize))
    }
}
