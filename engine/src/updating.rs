//! Updating streams: changelogs of a table, and the keyed operators that produce them.
//!
//! An *updating* query's answer is a table that changes as input arrives (a running `GROUP
//! BY`, a top-N, a deduplication). weir carries it as a changelog: a stream of
//! [`Change`]s, each inserting or retracting one row. Folding the changelog (insertions +1,
//! retractions -1) gives the table at any point; at end of input, the final table. A
//! [`Stream::table_sink`](crate::Stream::table_sink) consumes a changelog and counts its
//! insertions and retractions into the job's [`TableMetrics`](crate::TableMetrics), so the live
//! row count and the rate of change are visible while the job runs; [`Table`] folds a changelog
//! sequentially.
//!
//! The keyed operators, each in its own module with the state it keeps and when it frees it:
//!
//! - [`Stream::top_n`](crate::Stream::top_n) ([`top_n`]): per key the first `n` rows in a total
//!   order, with their rank; [`BestBy`] is the top-1 of a bounded group as an
//!   [`Aggregate`](crate::window::Aggregate) (for an interval aggregate, which frees the group
//!   when its interval closes).
//! - [`Stream::keep_last`](crate::Stream::keep_last) ([`keep_last`]): per key the last row in a
//!   total order (deduplication keeping the last row).
//! - [`Stream::table_aggregate`](crate::Stream::table_aggregate) ([`table_aggregate`]): an
//!   unbounded keyed aggregation whose per-key result is updated as rows arrive, with
//!   [`FilteredCounts`], [`FilteredDistinct`] and [`FilteredDistinctIds`] as building blocks.
//! - [`Stream::last_n_average`](crate::Stream::last_n_average) ([`last_n`]): records released in
//!   event-time order once the frontier passes them, each with the average of its key's last
//!   `n` values.
//!
//! Every operator partitions its input by key (one worker owns each key), so a key's changes
//! are produced, in order, by one worker. `top_n`, `keep_last` and `table_aggregate` emit their
//! changes once per mini-batch ([`Config::mini_batch`](crate::Config::mini_batch), 10 ms of the
//! job clock by default): a key changed many times within one emits one retraction and one
//! insertion.
//!
//! **Layer.** Dataflow, beside [`window`](crate::window): imports the operator traits, the
//! stream, and the window module's key hash and aggregate trait.

pub mod changelog;
mod chunked;
pub mod keep_last;
pub mod last_n;
mod mini_batch;
pub mod table_aggregate;
pub mod top_n;

pub use changelog::{Change, Diff, NegativeRow, Table};
pub use keep_last::KeepLast;
pub use last_n::LastNAverage;
pub use table_aggregate::{
    FilteredCounts, FilteredDistinct, FilteredDistinctIds, TableAggregate, TableAggregator,
};
pub use top_n::{BestBy, Ranked, TopN, ZeroN};
