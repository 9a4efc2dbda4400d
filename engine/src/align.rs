//! Source alignment: no worker's source runs more than a set drift of event time ahead of the
//! same source on the slowest worker ([`Config::source_alignment`](crate::Config)).
//!
//! Each worker reads its own share of the input at its own pace, and nothing else keeps the
//! shares together: over a one-second run a worker 1 % faster than its peer is 10 ms of input
//! ahead. Whatever is keyed downstream then sees each key's rows arrive from two places at
//! two different times. An updating operator that emits once per mini-batch splits a key whose
//! rows straddle a mini-batch end into two updates (a retraction and an insertion more); on
//! two workers without alignment nearly every q17 group was split (570,000 retractions for
//! 600,000 groups, 13,000 on one worker). Windows and joins hold the early rows until the late
//! ones come. Flink calls this watermark alignment (FLIP-182).
//!
//! **Rule.** Worker `w`'s `k`-th source (every worker builds the same sources in the same
//! order) publishes its watermark in the job's table for source `k` after every poll. Before a
//! poll it reads the others': when its own watermark is more than the allowance above their
//! minimum, it does not poll. A source that has ended publishes the end of input, so it never
//! holds the others back; one that has not yet produced a watermark holds them until it does.
//!
//! **Allowance.** The drift, or a few of the source's own polls
//! ([`Config::source_alignment_polls`](crate::Config)) when that is more: the event time one
//! poll covers (how far its watermark moved, per poll, smoothed over recent polls) times that
//! count. A drift in event time alone is right for a dense input (10 M events per second of
//! event time: 1 ms is about five polls of 1,024 events on each of 2 workers) and wrong for a
//! sparse one: a replay of 200 s of event time at full speed moves each source's watermark by
//! 40 ms per poll, so a 1 ms drift held every source after every poll until its peer had
//! polled too, and the workers took turns, each waiting for the other's wake-up (q0 at 2
//! workers ran at 12 M events/s against 36 M on the dense input). In polls, the lead is the
//! same on both inputs: a key's rows stay as close together in batches, which is what the
//! updating operators' mini-batches see.
//!
//! **Parking.** A held source raises its waiting flag (a `SeqCst` store, then it reads the
//! watermarks again: if it may go on after all, it does); a source whose watermark advances
//! stores it (`SeqCst`) and then reads the count of waiting sources, and wakes the waiting
//! workers when it is not zero. Before it parks, the held worker (having announced that it
//! will) asks again whether its source may go on, and it asks while it spins before parking:
//! a peer catching up is seen there or wakes it, so a held worker is never left parked after
//! the watermark it waits for has come; it also re-checks after a millisecond at most (the
//! worker's safety net). The slowest source is never held, so the job always progresses; a
//! held worker keeps running its exchange receivers and operators, so a slow peer blocked on a
//! full ring is drained. Time a worker spends with nothing to do while its source is held is
//! charged to `held_ns` in its metrics, apart from idle time.
//!
//! **Layer.** Base: imports [`time`](crate::time) and [`wake`](crate::wake) only.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};

use crossbeam_utils::CachePadded;

use crate::time::{END_OF_INPUT, NO_PROGRESS, Timestamp};
use crate::wake::Wakers;

/// One worker's slot for one source: its published watermark and whether it waits.
#[derive(Debug)]
struct Slot {
    watermark: AtomicI64,
    waiting: AtomicBool,
}

/// The watermarks of one source (by build order) on every worker.
#[derive(Debug)]
pub(crate) struct SourceWatermarks {
    slots: Vec<CachePadded<Slot>>,
    /// How many slots have their waiting flag raised.
    waiting: AtomicUsize,
}

impl SourceWatermarks {
    pub(crate) fn new(workers: usize) -> Self {
        Self {
            slots: (0..workers)
                .map(|_| {
                    CachePadded::new(Slot {
                        watermark: AtomicI64::new(NO_PROGRESS),
                        waiting: AtomicBool::new(false),
                    })
                })
                .collect(),
            waiting: AtomicUsize::new(0),
        }
    }

    /// The lowest watermark of the other workers' sources (the end of input when there are
    /// none).
    fn others_min(&self, me: usize) -> Timestamp {
        self.slots
            .iter()
            .enumerate()
            .filter(|&(w, _)| w != me)
            .map(|(_, s)| s.watermark.load(Ordering::SeqCst))
            .fold(Timestamp::MAX, Timestamp::min)
    }
}

/// The fixed-point scale of [`Alignment`]'s step per poll.
const STEP_SCALE: Timestamp = 256;

/// One worker's handle on one source's alignment.
#[derive(Debug)]
pub(crate) struct Alignment {
    table: Arc<SourceWatermarks>,
    me: usize,
    max_drift: Timestamp,
    /// Polls of lead always allowed (`Config::source_alignment_polls`).
    polls: Timestamp,
    /// The watermark this source last published (`NO_PROGRESS` before the first).
    published: Timestamp,
    /// Polls of the source since it last published a watermark.
    polls_since: u32,
    /// How far one poll moves this source's watermark, in 1/256ths of the timestamp unit (a
    /// dense input moves a millisecond watermark once in several polls), smoothed; 0 before
    /// two watermarks.
    step_256: Timestamp,
    wakers: Arc<Wakers>,
}

impl Alignment {
    pub(crate) fn new(
        table: Arc<SourceWatermarks>,
        me: usize,
        max_drift: Timestamp,
        polls: u32,
        wakers: Arc<Wakers>,
    ) -> Self {
        Self {
            table,
            me,
            max_drift,
            polls: Timestamp::from(polls),
            published: NO_PROGRESS,
            polls_since: 0,
            step_256: 0,
            wakers,
        }
    }

    /// How far above its slowest peer this source may be: the drift, or its polls' worth of
    /// event time when that is more.
    fn allowance(&self) -> Timestamp {
        self.max_drift
            .max(self.step_256.saturating_mul(self.polls) / STEP_SCALE)
    }

    /// Whether a source at `watermark` is more than the allowance above its slowest peer.
    fn ahead(&self, watermark: Timestamp) -> bool {
        watermark != NO_PROGRESS
            && watermark
                > self
                    .table
                    .others_min(self.me)
                    .saturating_add(self.allowance())
    }

    /// Whether a source at `watermark` must wait for its peers. A `true` leaves the waiting
    /// flag raised (the next watermark a peer publishes wakes this worker); a `false` lowers it
    /// and counts the poll it lets through (the step per poll divides by the polls).
    pub(crate) fn must_wait(&mut self, watermark: Timestamp) -> bool {
        let wait = self.hold(watermark);
        if !wait {
            self.polls_since = self.polls_since.saturating_add(1);
        }
        wait
    }

    /// [`Self::must_wait`]'s decision, with the waiting flag raised or lowered to match.
    fn hold(&self, watermark: Timestamp) -> bool {
        let slot = &self.table.slots[self.me];
        if !self.ahead(watermark) {
            self.stop_waiting(slot);
            return false;
        }
        if !slot.waiting.swap(true, Ordering::SeqCst) {
            self.table.waiting.fetch_add(1, Ordering::SeqCst);
        }
        // Read again after the flag is visible: a watermark published in between either is
        // seen here or sees the flag (and wakes this worker).
        if self.ahead(watermark) {
            return true;
        }
        self.stop_waiting(slot);
        false
    }

    /// Whether a source held at `watermark` ([`Self::must_wait`]) may go on now. The worker
    /// asks while it spins before parking and again after announcing that it parks, so a peer
    /// that catches up just then is seen here or wakes the worker.
    pub(crate) fn released(&self, watermark: Timestamp) -> bool {
        self.table.slots[self.me].waiting.load(Ordering::Relaxed) && !self.ahead(watermark)
    }

    fn stop_waiting(&self, slot: &Slot) {
        if slot.waiting.load(Ordering::Relaxed) && slot.waiting.swap(false, Ordering::SeqCst) {
            self.table.waiting.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Publishes this worker's watermark of the source and wakes the workers waiting on it.
    pub(crate) fn publish(&mut self, watermark: Timestamp) {
        if self.published != NO_PROGRESS && watermark != END_OF_INPUT {
            // Per poll since the last watermark; a quarter of the way to each new step, so
            // one poll that jumps (a gap in the input's event time) widens the allowance for
            // a few polls, not for good.
            let polls = Timestamp::from(self.polls_since.max(1));
            let step = watermark
                .saturating_sub(self.published)
                .max(0)
                .saturating_mul(STEP_SCALE)
                / polls;
            self.step_256 = if self.step_256 == 0 {
                step
            } else {
                self.step_256 + (step - self.step_256) / 4
            };
        }
        self.published = watermark;
        self.polls_since = 0;
        self.table.slots[self.me]
            .watermark
            .store(watermark, Ordering::SeqCst);
        if self.table.waiting.load(Ordering::SeqCst) == 0 {
            return;
        }
        for (w, slot) in self.table.slots.iter().enumerate() {
            if w != self.me && slot.waiting.load(Ordering::SeqCst) {
                self.wakers.wake(w);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Alignment, SourceWatermarks};
    use crate::time::{END_OF_INPUT, NO_PROGRESS};
    use crate::wake::Wakers;
    use std::sync::Arc;

    fn three(max_drift: i64, polls: u32) -> Vec<Alignment> {
        let table = Arc::new(SourceWatermarks::new(3));
        let wakers = Arc::new(Wakers::new(3));
        (0..3)
            .map(|w| Alignment::new(Arc::clone(&table), w, max_drift, polls, Arc::clone(&wakers)))
            .collect()
    }

    #[test]
    fn a_source_waits_only_while_it_is_more_than_the_drift_ahead_of_the_slowest() {
        // Worker 0 never publishes, so it has no step and its allowance is the drift.
        let mut a = three(5, 4);
        // Nobody has a watermark yet: the first source may start, but not run ahead of peers
        // that have not begun.
        assert!(!a[0].must_wait(NO_PROGRESS));
        assert!(a[0].must_wait(10));
        a[1].publish(10);
        a[2].publish(3);
        assert!(!a[0].must_wait(8), "8 is within 5 of the slowest (3)");
        assert!(a[0].must_wait(9), "9 is more than 5 ahead of 3");
        assert_eq!(
            a[0].table.waiting.load(std::sync::atomic::Ordering::SeqCst),
            1
        );
        assert!(!a[0].released(9), "still held");
        assert!(!a[1].released(10), "worker 1 was never held");
        a[2].publish(4);
        assert!(
            a[0].released(9),
            "the slowest caught up: the worker has work again"
        );
        assert!(!a[0].must_wait(9));
        assert!(!a[0].released(9), "no longer held");
        assert_eq!(
            a[0].table.waiting.load(std::sync::atomic::Ordering::SeqCst),
            0
        );
        // An ended source holds nobody back.
        a[1].publish(END_OF_INPUT);
        a[2].publish(END_OF_INPUT);
        assert!(!a[0].must_wait(1_000_000));
    }

    /// [`three`] with every source's first watermark, 0, published.
    fn started(max_drift: i64, polls: u32) -> Vec<Alignment> {
        let mut a = three(max_drift, polls);
        for source in &mut a {
            source.publish(0);
        }
        a
    }

    #[test]
    fn a_source_whose_polls_span_more_than_the_drift_may_lead_by_its_polls() {
        let mut a = started(1, 4);
        // Each poll of worker 0 moves its watermark by 40: it may lead by four polls.
        a[0].publish(40);
        assert!(!a[0].must_wait(160), "160 is four polls of 40 ahead of 0");
        assert!(a[0].must_wait(161), "161 is more than four polls ahead");
        // A shorter poll moves the step a quarter of the way: 40 - 36 / 4 = 31.
        a[0].publish(44);
        assert!(!a[0].must_wait(124));
        assert!(a[0].must_wait(125));
        // The end of input is not a step.
        a[0].publish(END_OF_INPUT);
        assert_eq!(a[0].step_256, 31 * 256);

        // A step is per poll: a watermark that moves by 1 once in eight polls (a dense input
        // with millisecond timestamps) is a step of 1/8, and the drift stays the allowance.
        let mut d = started(1, 4);
        for _ in 0..8 {
            // Level with its peers: each call lets a poll through and counts it.
            d[0].must_wait(0);
        }
        d[0].publish(1);
        assert_eq!(d[0].step_256, 32);
        assert!(!d[0].must_wait(1));
        assert!(
            d[0].must_wait(2),
            "four polls of 1/8 are less than the drift of 1"
        );

        // Without polls of lead the drift is exact, whatever a poll spans.
        let mut b = started(1, 0);
        b[0].publish(40);
        assert!(!b[0].must_wait(1));
        assert!(b[0].must_wait(2));
    }
}
