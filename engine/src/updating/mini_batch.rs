//! When the updating operators emit their changes: mini-batches of the job clock.
//!
//! An updating operator ([`TableAggregator`](super::TableAggregator), [`TopN`](super::TopN),
//! [`KeepLast`](super::KeepLast)) remembers, per key it changes, what the key's result was
//! before, and emits the difference (a retraction and an insertion) when the mini-batch ends.
//! A key changed a thousand times within one mini-batch emits one update. Each implements
//! [`Updating`] (taking rows in, emitting what changed); [`MiniBatched`] is the operator that
//! runs it and decides when.
//!
//! A mini-batch ends at the next multiple of [`Config::mini_batch`](crate::Config::mini_batch)
//! on the job clock after the previous one ended (a processing-time timer, so the worker wakes
//! for it when idle), and at the end of input. The job clock is shared by every worker, so
//! every worker's mini-batches end at the same moments: with timers of their own phase, one
//! worker emitting its changes while its peer read on put the peer's source ahead, and the
//! peer then waited for it ([`Config::source_alignment`](crate::Config::source_alignment)),
//! each worker in turn. The first batch after a pause is emitted at once (its mini-batch is
//! overdue). With a zero interval every input batch is its own mini-batch. The final table
//! does not depend on the interval; the number of changes does.

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
    /// Ends the current mini-batch (at `now_ns` when its timer ended it): the next one ends at
    /// the first multiple of the interval after `now_ns`.
    fn end(&mut self, out: &mut Output<'_, U::Out>, now_ns: Option<u64>) {
        self.op.emit(out);
        self.number += 1;
        if let Some(now) = now_ns {
            self.ends_at_ns = next_multiple(now, self.every_ns);
        }
    }
}

/// The first multiple of `every_ns` after `now_ns` (`now_ns` itself for a zero interval).
fn next_multiple(now_ns: u64, every_ns: u64) -> u64 {
    now_ns
        .checked_div(every_ns)
        .map_or(now_ns, |k| k.saturating_add(1).saturating_mul(every_ns))
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

#[cfg(test)]
mod tests {
    use super::{MiniBatched, Updating, next_multiple};
    use crate::counters::WorkerCounters;
    use crate::operator::{Operator, Output};
    use crate::port::Port;
    use std::cell::Cell;
    use std::rc::Rc;

    const MS: u64 = 1_000_000;

    #[test]
    fn a_mini_batch_ends_on_the_interval_grid_of_the_job_clock() {
        assert_eq!(next_multiple(0, 10), 10);
        assert_eq!(next_multiple(9, 10), 10);
        assert_eq!(next_multiple(10, 10), 20, "strictly after now");
        assert_eq!(next_multiple(10_000_017, 10_000_000), 20_000_000);
        assert_eq!(next_multiple(u64::MAX - 3, 10), u64::MAX, "saturates");
        assert_eq!(next_multiple(17, 0), 17, "no interval: no grid");
    }

    /// Holds the rows of the current mini-batch; emits how many there were.
    #[derive(Default)]
    struct Count(u64);

    impl Updating for Count {
        type In = u64;
        type Out = u64;
        fn take(&mut self, input: &mut Vec<u64>, _mini_batch: u64) {
            self.0 += input.len() as u64;
            input.clear();
        }
        fn pending(&self) -> bool {
            self.0 > 0
        }
        fn emit(&mut self, out: &mut Output<'_, u64>) {
            out.push(std::mem::take(&mut self.0));
        }
    }

    /// Every worker's operator ends its mini-batches at the same multiples of the interval,
    /// whenever its own timer happened to run: a timer that ran 3 ms late does not move the
    /// next end 3 ms later.
    #[test]
    fn a_late_timer_does_not_shift_the_next_mini_batch_end() {
        let port = Port::new(Rc::new(WorkerCounters::new(None)));
        let late = Cell::new(0);
        let mut buf = Vec::new();
        let mut op = MiniBatched::new(Count::default(), 10 * MS);
        let mut out = Output::new(&mut buf, &port, 1024, 0, &late);
        assert_eq!(op.next_timer(), None, "nothing pending, no timer");
        op.on_batch(&mut vec![1, 2], &mut out);
        assert_eq!(op.next_timer(), Some(0), "the first mini-batch is overdue");
        for (fired_at, next_end) in [(13, 20), (20, 30), (47, 50), (50, 60)] {
            op.on_timer(fired_at * MS, &mut out);
            op.on_batch(&mut vec![3], &mut out);
            assert_eq!(
                op.next_timer(),
                Some(next_end * MS),
                "after a timer at {fired_at} ms"
            );
        }
    }
}
