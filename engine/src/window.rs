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
//! phases, per worker and then per window on one worker.
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
//! All keyed state lives in `hashbrown` maps with the fixed `foldhash` hasher ([`FastMap`]).

pub mod aggregate;
mod dataflow;
mod global;
mod interval_agg;
mod join;
mod panes;
mod proctime;
mod session;
mod two_phase;

pub use aggregate::{
    Aggregate, ArgMaxAll, Avg, Collect, Count, Distinct, DistinctCount, Max, Min, On, Sum, TopK, on,
};
pub use dataflow::WindowSpec;
pub use global::GlobalWindows;
pub use interval_agg::{IntervalAggregate, IntervalAggregateSpec};
pub use join::{IntervalJoin, IntervalSpec, WindowJoin};
pub use panes::SlidingWindows;
pub use proctime::ProcessingTimeWindows;
pub use session::SessionWindows;

pub use crate::time::Timestamp;

/// The hash map every keyed state uses: `hashbrown` with a fixed (unseeded) fast hasher, so
/// runs are reproducible and a key costs a few nanoseconds to hash.
pub type FastMap<K, V> = hashbrown::HashMap<K, V, foldhash::fast::FixedState>;

/// Creates an empty [`FastMap`].
pub(crate) fn fast_map<K, V>() -> FastMap<K, V> {
    FastMap::with_hasher(foldhash::fast::FixedState::default())
}

/// A time window `[start, end)` in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window {
    /// First millisecond inside the window.
    pub start: Timestamp,
    /// First millisecond after the window (exclusive).
    pub end: Timestamp,
}

impl Window {
    /// The global window: all of event time, `[i64::MIN, i64::MAX)`. Results of
    /// [`WindowSpec::global`] windows carry it.
    pub const GLOBAL: Window = Window {
        start: Timestamp::MIN,
        end: Timestamp::MAX,
    };

    /// Whether `ts` lies in `[start, end)`.
    pub fn contains(&self, ts: Timestamp) -> bool {
        self.start <= ts && ts < self.end
    }
}

/// What a state machine did with a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// The record was added to the state.
    Accepted,
    /// Every window the record belongs to has already fired: the record was not added, it was
    /// counted as late, and the caller must hand it to the late side output.
    Late,
}

impl Admission {
    /// Whether the record was late.
    pub fn is_late(self) -> bool {
        self == Admission::Late
    }
}

/// A window or join setting that cannot work.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// A window size, slide or gap was zero or negative.
    #[error("window {setting} must be at least 1 ms (got {value} ms); pass a positive duration")]
    NotPositive {
        /// The setting's name (`size`, `slide`, `gap`).
        setting: &'static str,
        /// The value given.
        value: i64,
    },
    /// A sliding window's slide was larger than its size (records would fall between windows).
    #[error(
        "window slide ({slide} ms) is larger than its size ({size} ms): records between windows \
         would belong to none; use a slide <= size"
    )]
    SlideLargerThanSize {
        /// The window size.
        size: i64,
        /// The slide.
        slide: i64,
    },
    /// A window join was given session windows (two streams' sessions do not share bounds).
    #[error(
        "window joins need tumbling or sliding windows (both sides must share window bounds); \
         got session windows"
    )]
    SessionJoin,
    /// An operator was given a kind of window it cannot compute.
    #[error("{operator} does not support {windows} windows; {instead}")]
    Unsupported {
        /// The operator (`window_join`, `window_all`).
        operator: &'static str,
        /// The kind of window given (`session`, `global`).
        windows: &'static str,
        /// What to use instead.
        instead: &'static str,
    },
    /// Allowed lateness was negative.
    #[error("allowed lateness must be >= 0 ms (got {0} ms)")]
    NegativeLateness(i64),
    /// An interval join's lower bound was above its upper bound.
    #[error(
        "interval join bounds are empty: lower ({lower} ms) > upper ({upper} ms); pass \
         lower <= upper"
    )]
    EmptyInterval {
        /// The lower bound.
        lower: i64,
        /// The upper bound.
        upper: i64,
    },
}

/// Checks an allowed lateness.
pub(crate) fn check_lateness(lateness: i64) -> Result<(), WindowError> {
    if lateness < 0 {
        return Err(WindowError::NegativeLateness(lateness));
    }
    Ok(())
}

/// Checks that a duration setting is positive.
pub(crate) fn check_positive(setting: &'static str, value: i64) -> Result<(), WindowError> {
    if value <= 0 {
        return Err(WindowError::NotPositive { setting, value });
    }
    Ok(())
}

/// Counters every state machine keeps (per instance, so per worker).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowStats {
    /// Records added to the state.
    pub accepted: u64,
    /// Records refused as late (handed to the late side output).
    pub late: u64,
    /// Results emitted (one per key and window for aggregates; one per pair for joins).
    pub emitted: u64,
}
