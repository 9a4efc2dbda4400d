//! Event time, watermarks and the job clock.
//!
//! Event time is an `i64` count of milliseconds ([`Timestamp`]). A [`Watermark`] with time `t`
//! promises that no further record with an event time below `t` arrives on that channel; records
//! that do arrive below it are *late*. `i64::MIN` means "no progress yet" and `i64::MAX` means
//! "end of input": every window fires and the job ends.
//!
//! Base layer: imports nothing from the crate. Every other module may use it.

use std::time::Instant;

/// Event time in milliseconds.
pub type Timestamp = i64;

/// The watermark before any source has made progress.
pub const NO_PROGRESS: Timestamp = Timestamp::MIN;

/// The watermark that marks the end of input.
pub const END_OF_INPUT: Timestamp = Timestamp::MAX;

/// A promise that no record with an event time below `time` follows on this channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watermark {
    /// The event time the stream has advanced to.
    pub time: Timestamp,
    /// Wall-clock nanoseconds on the job's [`Clock`] at which the source emitted this watermark.
    /// Results produced because of it are stamped with this value, and the sink records
    /// `sink time - emitted_ns` as their latency.
    pub emitted_ns: u64,
}

impl Watermark {
    /// A watermark at `time` emitted at `emitted_ns`.
    pub const fn new(time: Timestamp, emitted_ns: u64) -> Self {
        Self { time, emitted_ns }
    }

    /// Whether this watermark marks the end of input.
    pub const fn is_end(&self) -> bool {
        self.time == END_OF_INPUT
    }

    /// The latency stamp of the results this watermark fires: `emitted_ns`, with
    /// [`END_FIRED`] set when it is the end of input (and it has a stamp at all).
    pub(crate) const fn fired_stamp(&self) -> u64 {
        if self.is_end() && self.emitted_ns != 0 {
            self.emitted_ns | END_FIRED
        } else {
            self.emitted_ns
        }
    }
}

/// The bit of a latency stamp that marks results fired by the end of input: the flush that
/// closes every window still open at once. Sinks record their latency apart from the
/// stream's (a stream that never ends has no such flush, and its size is the state left open,
/// not the load). A job clock reading never reaches this bit (2^63 ns is 292 years); a stamp
/// carrying it is larger than every plain stamp, so where batches with different stamps merge
/// (the exchange keeps the smallest), a plain stamp wins and the results count as the
/// stream's.
pub(crate) const END_FIRED: u64 = 1 << 63;

/// Merges the frontiers of several inputs: the minimum, forwarded when it advances.
///
/// `wms[idx]` is raised to `time` (never lowered); returns the new minimum over `wms` when that
/// minimum advanced. Used wherever channels merge: exchange receivers, `union`, `binary`.
pub(crate) fn advance_frontier(
    wms: &mut [Timestamp],
    idx: usize,
    time: Timestamp,
) -> Option<Timestamp> {
    let before = wms.iter().copied().min().unwrap_or(NO_PROGRESS);
    if time > wms[idx] {
        wms[idx] = time;
    }
    let after = wms.iter().copied().min().unwrap_or(NO_PROGRESS);
    (after > before).then_some(after)
}

/// The job's wall clock: nanoseconds since the job started (shared by all workers).
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    epoch: Instant,
}

impl Clock {
    /// A clock whose zero is now.
    pub fn start() -> Self {
        Self {
            epoch: Instant::now(),
        }
    }

    /// Nanoseconds since the clock started.
    pub fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// The instant the clock started.
    pub fn epoch(&self) -> Instant {
        self.epoch
    }
}
