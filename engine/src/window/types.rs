//! The types every window module shares (the base of `window`: imports only
//! [`time`](crate::time)).
//!
//! Windows ([`Window`]), what a state machine did with a record ([`Admission`]), the setting
//! errors ([`WindowError`]) and their checks, the per-instance counters ([`WindowStats`]) and the
//! keyed-state map ([`FastMap`]). The state machines and operators in the sibling modules import
//! them from here; `window.rs` only re-exports them.

use crate::time::Timestamp;

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
    /// [`WindowSpec::global`](super::WindowSpec::global) windows carry it.
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
