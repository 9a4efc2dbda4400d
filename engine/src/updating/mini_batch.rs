//! When the updating operators emit their changes: mini-batches of the job clock.
//!
//! An updating operator ([`TableAggregator`](super::TableAggregator), [`TopN`](super::TopN),
//! [`KeepLast`](super::KeepLast)) remembers, per key it changes, what the key's result was
//! before, and emits the difference (a retraction and an insertion) when the mini-batch ends.
//! A key changed a thousand times within one mini-batch emits one update.
//!
//! A mini-batch ends [`Config::mini_batch`](crate::Config::mini_batch) after the previous one
//! ended (a processing-time timer, so the worker wakes for it when idle), and at the end of
//! input. The first batch after a pause is emitted at once (its mini-batch is overdue). With a
//! zero interval every input batch is its own mini-batch. The final table does not depend on
//! the interval; the number of changes does.

/// The mini-batch clock of one updating operator.
#[derive(Debug)]
pub(crate) struct MiniBatch {
    /// The current mini-batch's number, from 1 (so a key marked 0 is in none).
    number: u64,
    /// The interval (ns of the job clock); 0: one mini-batch per input batch.
    every_ns: u64,
    /// When the current mini-batch ends (job clock, ns).
    ends_at_ns: u64,
}

impl MiniBatch {
    /// Mini-batches of `every_ns` (0: one per input batch).
    pub(crate) fn new(every_ns: u64) -> Self {
        Self {
            number: 1,
            every_ns,
            ends_at_ns: 0,
        }
    }

    /// The current mini-batch's number (never 0).
    pub(crate) fn number(&self) -> u64 {
        self.number
    }

    /// Whether the changes of an input batch are emitted as soon as it is taken in.
    pub(crate) fn per_batch(&self) -> bool {
        self.every_ns == 0
    }

    /// The current mini-batch was emitted at `now_ns` (`None`: at the end of an input batch
    /// or of the input): the next one begins.
    pub(crate) fn next(&mut self, now_ns: Option<u64>) {
        self.number += 1;
        if let Some(now) = now_ns {
            self.ends_at_ns = now.saturating_add(self.every_ns);
        }
    }

    /// The operator's next timer: when the current mini-batch ends, if it holds changes.
    pub(crate) fn due(&self, pending: bool) -> Option<u64> {
        (pending && !self.per_batch()).then_some(self.ends_at_ns)
    }
}
