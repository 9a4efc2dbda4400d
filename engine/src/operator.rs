//! The operator traits that stateful operators (windows, joins, keyed aggregates) implement.
//!
//! A worker calls an operator with whole batches ([`Operator::on_batch`]) and with every advance
//! of its input frontier ([`Operator::on_watermark`]). The operator writes results into an
//! [`Output`], which forwards them downstream in batches. The value returned from
//! `on_watermark` is the operator's output watermark: its input frontier minus whatever it
//! still holds back (a window operator returns the start of its oldest open window, or simply
//! the input frontier when it has emitted everything that frontier closes).
//!
//! Results pushed during `on_watermark` are stamped with that watermark's `emitted_ns`, so the
//! sink can record the latency from the source emitting the watermark to the result arriving.
//!
//! **Layer.** Operators, directly above the base: imports only [`port`](crate::port) and
//! [`time`](crate::time). The nodes that run operators live in [`stream`](crate::stream).

use std::cell::Cell;

use crate::port::Port;
use crate::time::{END_FIRED, Timestamp, Watermark};

/// A single-input operator on one worker.
///
/// # Examples
///
/// A running count per key (emits `(key, count so far)` for every record):
///
/// ```
/// use std::collections::HashMap;
/// use weir_engine::{Operator, Output, Timestamp, Watermark};
///
/// #[derive(Default)]
/// struct RunningCount(HashMap<u64, u64>);
///
/// impl Operator for RunningCount {
///     type In = u64;
///     type Out = (u64, u64);
///     fn on_batch(&mut self, input: &mut Vec<u64>, out: &mut Output<'_, (u64, u64)>) {
///         for key in input.drain(..) {
///             let n = self.0.entry(key).or_default();
///             *n += 1;
///             out.push((key, *n));
///         }
///     }
///     fn on_watermark(&mut self, wm: Watermark, _out: &mut Output<'_, (u64, u64)>) -> Timestamp {
///         wm.time
///     }
/// }
/// ```
pub trait Operator: 'static {
    /// Input record type.
    type In;
    /// Output record type.
    type Out;

    /// Processes a batch of input records. The operator may drain `input`; whatever it leaves is
    /// cleared afterwards.
    fn on_batch(&mut self, input: &mut Vec<Self::In>, out: &mut Output<'_, Self::Out>);

    /// The input frontier advanced to `watermark.time` (the minimum over the operator's input
    /// channels). Emits what the frontier completes and returns the output watermark, which must
    /// not exceed `watermark.time`. The engine keeps the output watermark monotone.
    fn on_watermark(&mut self, watermark: Watermark, out: &mut Output<'_, Self::Out>) -> Timestamp;

    /// Processing-time hook: called once `now_ns` (job clock) has reached [`Self::next_timer`].
    fn on_timer(&mut self, now_ns: u64, out: &mut Output<'_, Self::Out>) {
        let _ = (now_ns, out);
    }

    /// The job-clock time (ns) at which [`Self::on_timer`] should next run, if any. The worker
    /// parks no longer than this.
    fn next_timer(&self) -> Option<u64> {
        None
    }
}

/// A two-input operator on one worker (joins). Both inputs are usually keyed the same way.
pub trait BinaryOperator: 'static {
    /// Left input record type.
    type Left;
    /// Right input record type.
    type Right;
    /// Output record type.
    type Out;

    /// Processes a batch from the left input.
    fn on_left(&mut self, input: &mut Vec<Self::Left>, out: &mut Output<'_, Self::Out>);

    /// Processes a batch from the right input.
    fn on_right(&mut self, input: &mut Vec<Self::Right>, out: &mut Output<'_, Self::Out>);

    /// The combined frontier (the minimum of both inputs' frontiers) advanced. Returns the
    /// output watermark, as [`Operator::on_watermark`].
    fn on_watermark(&mut self, watermark: Watermark, out: &mut Output<'_, Self::Out>) -> Timestamp;

    /// Processing-time hook, as [`Operator::on_timer`].
    fn on_timer(&mut self, now_ns: u64, out: &mut Output<'_, Self::Out>) {
        let _ = (now_ns, out);
    }

    /// Next processing-time timer, as [`Operator::next_timer`].
    fn next_timer(&self) -> Option<u64> {
        None
    }
}

/// Where an operator writes its results; forwards them downstream in batches.
pub struct Output<'a, T> {
    buf: &'a mut Vec<T>,
    port: &'a Port<T>,
    batch_size: usize,
    stamp: u64,
    late: &'a Cell<u64>,
    state: Option<&'a Cell<Option<u64>>>,
    pushed: u64,
}

impl<'a, T> Output<'a, T> {
    pub(crate) fn new(
        buf: &'a mut Vec<T>,
        port: &'a Port<T>,
        batch_size: usize,
        stamp: u64,
        late: &'a Cell<u64>,
    ) -> Self {
        Self {
            buf,
            port,
            batch_size,
            stamp,
            late,
            state: None,
            pushed: 0,
        }
    }

    /// Where [`Output::set_state_records`] reports (the operator's counters).
    pub(crate) fn with_state_cell(mut self, state: &'a Cell<Option<u64>>) -> Self {
        self.state = Some(state);
        self
    }

    /// Reports how many records the operator holds in its state now. It shows as the
    /// operator's `state_records` in the metrics snapshot (and so in the console and the
    /// Prometheus endpoint); call it whenever the state changed, it costs one store.
    #[inline]
    pub fn set_state_records(&mut self, records: u64) {
        if let Some(state) = self.state {
            state.set(Some(records));
        }
    }

    /// Emits one record.
    #[inline]
    pub fn push(&mut self, record: T) {
        self.buf.push(record);
        if self.buf.len() >= self.batch_size {
            self.flush();
        }
    }

    /// Emits every record of `records`.
    pub fn extend(&mut self, records: impl IntoIterator<Item = T>) {
        for record in records {
            self.push(record);
        }
    }

    /// Counts `n` input records as late (arrived after the frontier passed them). They show in
    /// the worker's `late` metric and in the job's record accounting.
    pub fn count_late(&mut self, n: u64) {
        self.late.set(self.late.get() + n);
    }

    /// The latency stamp results get: the `emitted_ns` of the watermark being processed, of
    /// the batch being processed, or 0 (no latency sample).
    pub fn stamp(&self) -> u64 {
        // Results fired by the end of input carry a marker bit for the sinks; the job clock
        // reading is what callers get.
        self.stamp & !END_FIRED
    }

    /// Stamps the results pushed from now on with `stamp` (job clock ns) instead of the
    /// watermark's or the batch's: for an operator that emits results before their window
    /// closes, the time they became available. Records buffered so far are sent first, with
    /// their own stamp.
    pub fn restamp(&mut self, stamp: u64) {
        if stamp != self.stamp {
            self.flush();
            self.stamp = stamp;
        }
    }

    /// Records emitted through this output so far.
    pub fn pushed(&self) -> u64 {
        self.pushed + self.buf.len() as u64
    }

    /// Sends buffered records downstream now.
    pub fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.pushed += self.buf.len() as u64;
            self.port.push(self.buf, self.stamp);
            self.buf.clear();
        }
    }
}

impl<T> Drop for Output<'_, T> {
    fn drop(&mut self) {
        self.flush();
    }
}

impl<T> std::fmt::Debug for Output<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("buffered", &self.buf.len())
            .field("batch_size", &self.batch_size)
            .field("stamp", &self.stamp)
            .finish_non_exhaustive()
    }
}
