//! When the updating operators emit their changes: mini-batches of the job clock.
//!
//! An updating operator ([`TableAggregator`](super::TableAggregator), [`TopN`](super::TopN),
//! [`KeepLast`](super::KeepLast)) remembers, per key it changes, what the key's result was
//! before, and emits the difference (a retraction and an insertion) when the mini-batch ends.
//! A key changed a thousand times within one mini-batch emits one update. Each implements
//! [`Updating`] (taking rows in, emitting what changed); [`MiniBatched`] is the operator that
//! runs it and decides when.
//!
//! A mini-batch ends [`Config::mini_batch`](crate::Config::mini_batch) after the previous one
//! ended (a processing-time timer, so the worker wakes for it when idle), and at the end of
//! input. The first batch after a pause is emitted at once (its mini-batch is overdue). With a
//! zero interval every input batch is its own mini-batch. The final table does not depend on
//! the interval; the number of changes does.

use crate::operator::{Operator, Output};
use crate::time::{Timestamp, Watermark};

/// An updating operator's rows and changes, without the question of when changes leave.
pub(crate) trait Updating: 'static {
    /// Input record type.
    type In;
    /// The changes emitted.
    type Out;
    /// Takes `input` in (it may be drained). A key it changes is marked with `mini_batch`, the
    /// current mini-batch's number (never 0), and its result before that mini-batch is kept
    /// until [`Updating::emit`].
    fn take(&mut self, input: &mut Vec<Self::In>, mini_batch: u64);
    /// Whether changes wait to be emitted.
    fn pending(&self) -> bool;
    /// Emits the current mini-batch's changes and forgets them.
    fn emit(&mut self, out: &mut Output<'_, Self::Out>);
}

/// Runs an [`Updating`] operator, emitting its changes once per mini-batch.
pub(crate) struct MiniBatched<U> {
    op: U,
    /// The current mini-batch's number, from 1 (so a key marked 0 is in none).
    number: u64,
    /// The interval (ns of the job clock); 0: one mini-batch per input batch.
    every_ns: u64,
    /// When the current mini-batch ends (job clock, ns).
    ends_at_ns: u64,
}

impl<U> MiniBatched<U> {
    /// `op` with mini-batches of `every_ns` (0: one per input batch).
    pub(crate) fn new(op: U, every_ns: u64) -> Self {
        Self {
            op,
            number: 1,
            every_ns,
            ends_at_ns: 0,
        }
    }
}

impl<U: Updating> MiniBatched<U> {
    /// Ends the current mini-batch (at `now_ns` when its timer ended it).
    fn end(&mut self, out: &mut Output<'_, U::Out>, now_ns: Option<u64>) {
        self.op.emit(out);
        self.number += 1;
        if let Some(now) = now_ns {
            self.ends_at_ns = now.saturating_add(self.every_ns);
        }
    }
}

impl<U: Updating> Operator for MiniBatched<U> {
    type In = U::In;
    type Out = U::Out;

    fn on_batch(&mut self, input: &mut Vec<U::In>, out: &mut Output<'_, U::Out>) {
        self.op.take(input, self.number);
        if self.every_ns == 0 {
            self.end(out, None);
        }
    }

    fn on_watermark(&mut self, watermark: Watermark, out: &mut Output<'_, U::Out>) -> Timestamp {
        if watermark.is_end() {
            self.end(out, None);
        }
        watermark.time
    }

    fn on_timer(&mut self, now_ns: u64, out: &mut Output<'_, U::Out>) {
        self.end(out, Some(now_ns));
    }

    fn next_timer(&self) -> Option<u64> {
        (self.every_ns > 0 && self.op.pending()).then_some(self.ends_at_ns)
    }
}
