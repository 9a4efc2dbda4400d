//! Event-time windows, keyed incremental aggregates and joins of keyed streams.
//!
//! Two layers. The *state machines* ([`SlidingWindows`], [`SessionWindows`], [`GlobalWindows`],
//! [`ProcessingTimeWindows`], [`WindowJoin`], [`IntervalJoin`], [`IntervalAggregate`]) are
//! plain single-threaded structures that take records and frontier advances and emit results;
//! they know nothing of workers or channels. The *operators* wrap one instance per worker and
//! are reached through methods on [`Stream`](crate::Stream): [`window`](crate::Stream::window),
//! [`window_with_late`](crate::Stream::window_with_late),
//! [`processing_time_window`](crate::Stream::processing_time_window),
//! [`window_join`](crate::Stream::window_join),
//! [`interval_join`](crate::Stream::interval_join) and
//! [`interval_aggregate`](crate::Stream::interval_aggregate). Each partitions its input by the
//! window key itself (a key lives on exactly one worker, so each instance sees every record of
//! its keys). [`window_all`](crate::Stream::window_all) has no key: it aggregates in two
//! phases, per worker and then per window on one worker;
//! [`window_two_phase`](crate::Stream::window_two_phase) is its keyed form (per worker, then
//! per key on the key's owner).
//!
//! # Module layout
//!
//! This file only declares the submodules and re-exports their public items (and, for the
//! joins beside `window`, the key hash and map constructor). The submodules import each other one way: `types` (windows, admission, errors,
//! stats, [`FastMap`]) is the base; [`aggregate`] builds on it; the state machines (`panes`,
//! `session`, `global`, `join`, `proctime`) on those; the operators on top: `dataflow` (the
//! [`Stream`](crate::Stream) methods and [`WindowSpec`]), then `interval_agg` (a state machine
//! with its operator) and `two_phase`, which reuse `dataflow`'s helpers.
//!
//! # Time and the frontier
//!
//! Timestamps are milliseconds as [`Timestamp`] (`i64`, the epoch-ms of Nexmark and Flink).
//! A *frontier* `F` is a promise: no more records with timestamp `< F` will arrive (except late
//! ones, which break the promise and are counted). `Timestamp::MAX` is the frontier at end of
//! input: every window fires (the global window, [`WindowSpec::global`], fires only then).
//!
//! A window covers the half-open interval `[start, end)`. Its contents are complete once
//! `F >= end`; with an *allowed lateness* `L` it fires once `F >= end + L`, exactly once, and its
//! state is freed right then. Records that arrive for a window that has already fired are
//! *late*: the state machine refuses them ([`Admission::Late`]), counts them, and the caller
//! hands them to the late side output. Nothing is dropped uncounted.
//!
//! Session windows are the one exception to "complete once `F >= end`": windows that touch
//! merge, so a session `[start, end)` can still grow by a record at exactly `end`; it fires once
//! `F > end + L`. See [`SessionWindows`]. Interval aggregates use inclusive intervals
//! `[start, end]` and fire once `F - L > end`; see [`IntervalAggregate`].
//!
//! # Costs
//!
//! * Tumbling and sliding windows ([`SlidingWindows`]) are sliced into panes of
//!   `gcd(size, slide)` milliseconds; a record updates exactly one accumulator (one hash lookup
//!   in the pane of its timestamp, the pane found by comparing against the last pane used), so
//!   the per-record cost does not depend on `size / slide`. Firing a window merges its
//!   `size / gcd` panes.
//! * Sessions ([`SessionWindows`]) keep per key a short list of open sessions; a record touches
//!   one key's list. Fire times sit in an ordered timer queue, so a frontier advance costs only
//!   the sessions it closes.
//! * Joins ([`WindowJoin`], [`IntervalJoin`]) keep per-key buffers pruned by the frontier.
//! * Interval aggregates ([`IntervalAggregate`]) keep per key the open intervals and the right
//!   records that may still match; a record costs one hash lookup, intervals fire from a heap
//!   of their ends, stale right records are swept in bulk (amortised constant per record).
//!
//! Keyed state lives in `hashbrown` maps with the fixed `foldhash` hasher ([`FastMap`]), except
//! the open sessions: keys there come and go for the whole run, and they live in a
//! [`SteadyMap`] (linear probing without tombstones, growth moved a few positions per insert),
//! whose operations never stop the worker to rehash.

pub mod aggregate;
pub(crate) mod dataflow;
mod global;
mod interval_agg;
mod join;
mod leaders;
mod panes;
mod proctime;
mod semi_join;
mod session;
mod steady_map;
mod store;
mod two_phase;
mod types;

pub use aggregate::{
    Aggregate, ArgMaxAll, Avg, Collect, Count, Distinct, DistinctCount, Max, Min, Monotone, On,
    Sum, TopK, on,
};
pub use dataflow::WindowSpec;
pub use global::GlobalWindows;
pub use interval_agg::{IntervalAggregate, IntervalAggregateSpec};
pub use join::{IntervalJoin, IntervalSpec, WindowJoin};
pub use leaders::{Leaders, WindowLeaders};
pub use panes::SlidingWindows;
pub use proctime::ProcessingTimeWindows;
pub use semi_join::WindowSemiJoin;
pub use session::SessionWindows;
pub use steady_map::{MapEntry, OccupiedEntry, SteadyMap, VacantEntry};
pub use types::{Admission, FastMap, Window, WindowError, WindowStats};

pub(crate) use dataflow::key_hash;
pub(crate) use types::fast_map;

pub use crate::time::Timestamp;
