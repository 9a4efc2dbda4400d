//! Sources: where records enter a worker.
//!
//! Each worker polls its own sources (SPMD: every worker builds the same sources and reads its
//! own share of the input). After each poll the source states its watermark; the worker
//! forwards it downstream when it advances, stamped with the poll's clock time.
//!
//! Base layer: imports only [`time`](crate::time). The driver that polls sources is the
//! worker's (`worker.rs`).

use crate::time::{END_OF_INPUT, NO_PROGRESS, Timestamp};

/// What a [`Source::poll`] produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourcePoll {
    /// Records were appended (possibly none); `watermark` holds after them.
    Ready {
        /// The source's watermark after the appended records.
        watermark: Timestamp,
    },
    /// Nothing to emit now (a paced or idle source); the watermark still advances.
    Pending {
        /// The source's watermark.
        watermark: Timestamp,
        /// Job-clock time (ns) at which to poll again; `None` polls again after a short park.
        wake_at: Option<u64>,
    },
    /// The input has ended (the worker emits the end-of-input watermark).
    Done,
}

/// A source of records on one worker.
pub trait Source: 'static {
    /// The record type.
    type Item;

    /// Appends at most `max` records to `out` and reports the watermark. `now_ns` is the job
    /// clock, for paced sources.
    fn poll(&mut self, out: &mut Vec<Self::Item>, max: usize, now_ns: u64) -> SourcePoll;

    /// The job-clock time (ns) to stamp the watermark reported by the last poll with; latency
    /// of the results it fires is measured from here. Defaults to the poll time. A paced source
    /// returns the *scheduled* emission time instead, so that a late poll (a stalled worker)
    /// shows up in the latency rather than being hidden (coordinated omission).
    fn watermark_stamp_ns(&self, now_ns: u64) -> u64 {
        now_ns
    }

    /// The newest event time among the records emitted so far, if the source knows it. The
    /// worker publishes the maximum over its sources as the metrics snapshot's
    /// `source_time_ms`, from which the console derives the watermark lag (newest event time
    /// minus the job's frontier). Defaults to `None`: not reported.
    fn event_time(&self) -> Option<Timestamp> {
        None
    }

    /// How many input events the source has consumed so far, when that differs from the
    /// records it emitted: a source that reads only some kinds of an input skips the others,
    /// yet they are part of the input. The worker counts this (cumulative, never decreasing)
    /// as its `events_in` metric instead of the records emitted, so that rates are input
    /// events per second whatever the source keeps. Defaults to `None`: every record emitted
    /// is one input event.
    fn input_events(&self) -> Option<u64> {
        None
    }
}

/// A source over an iterator, with watermark `max event time seen - out_of_orderness`.
///
/// # Examples
///
/// ```
/// use weir_engine::IterSource;
/// let source = IterSource::new(vec![(1_i64, "a"), (5, "b")], |r: &(i64, &str)| r.0, 0);
/// # let _ = source;
/// ```
pub struct IterSource<I: Iterator, F> {
    iter: I,
    timestamp: F,
    out_of_orderness: i64,
    max_seen: Timestamp,
    done: bool,
}

impl<I: Iterator, F: FnMut(&I::Item) -> Timestamp> IterSource<I, F> {
    /// A source reading `iter`; `timestamp` extracts each record's event time (ms).
    pub fn new(iter: impl IntoIterator<IntoIter = I>, timestamp: F, out_of_orderness: i64) -> Self {
        Self {
            iter: iter.into_iter(),
            timestamp,
            out_of_orderness,
            max_seen: NO_PROGRESS,
            done: false,
        }
    }
}

impl<I, F> Source for IterSource<I, F>
where
    I: Iterator + 'static,
    F: FnMut(&I::Item) -> Timestamp + 'static,
{
    type Item = I::Item;

    fn event_time(&self) -> Option<Timestamp> {
        (self.max_seen != NO_PROGRESS).then_some(self.max_seen)
    }

    fn poll(&mut self, out: &mut Vec<I::Item>, max: usize, _now_ns: u64) -> SourcePoll {
        if self.done {
            return SourcePoll::Done;
        }
        for _ in 0..max {
            if let Some(record) = self.iter.next() {
                self.max_seen = self.max_seen.max((self.timestamp)(&record));
                out.push(record);
            } else {
                self.done = true;
                break;
            }
        }
        if self.done && out.is_empty() {
            return SourcePoll::Done;
        }
        let watermark = if self.max_seen == NO_PROGRESS || self.max_seen == END_OF_INPUT {
            self.max_seen
        } else {
            self.max_seen.saturating_sub(self.out_of_orderness)
        };
        SourcePoll::Ready { watermark }
    }
}

impl<I: Iterator, F> std::fmt::Debug for IterSource<I, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IterSource")
            .field("max_seen", &self.max_seen)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
