//! The weir source over a workload split: `generate` (on the fly) or `replay` (pre-generated),
//! optionally paced against each event's scheduled emission time.
//!
//! **Pacing.** With `--rate R` the generator's event rate is `R` too, so event `i` has event
//! time `base + floor(i * 1000 / R)` ms and its scheduled emission time is that many ms after
//! the job's pacing zero (the first poll of any source, shared by all workers). A source emits
//! every event whose scheduled time has come and otherwise answers `Pending` with the wake
//! time of its next event; it never sleeps. Schedules are fixed in advance, so a stall makes
//! the source emit a backlog afterwards rather than shift the schedule (no coordinated
//! omission).
//!
//! Paced watermarks are stamped with the scheduled time of the newest emitted event
//! (`Source::watermark_stamp_ns`), so window latency counts from the schedule.
//!
//! **Watermark.** `last emitted timestamp - out_of_orderness` (the split rule of
//! `crate::split`, on the events actually emitted); end of input once the split is exhausted,
//! the run length has passed, or the job was asked to stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use weir_engine::{NO_PROGRESS, Source, SourcePoll, Timestamp};

use crate::job::StopSignal;
use crate::split::{Split, Timestamped};

/// Where a source's events come from.
#[derive(Debug)]
pub(crate) enum Input<S: Split> {
    /// Generated on the fly.
    Generate(S),
    /// Pre-generated before the clock started.
    Replay(Vec<S::Event>),
}

/// Settings shared by every source of one job.
#[derive(Clone, Debug)]
pub(crate) struct SourceSettings {
    /// Event time of event 0, epoch ms (the pacing schedule's zero).
    pub(crate) base_time_ms: u64,
    /// Watermark lag behind the newest emitted event, ms.
    pub(crate) out_of_orderness_ms: u64,
    /// Pace against scheduled emission times (`--rate`).
    pub(crate) paced: bool,
    /// End the input this long after the first poll (`--duration`).
    pub(crate) duration_ns: Option<u64>,
    /// Raised by the runner to end the input early.
    pub(crate) stop: StopSignal,
    /// Job-clock time of the first poll of any source (`u64::MAX` before): the run's zero.
    pub(crate) start_ns: Arc<AtomicU64>,
}

/// One worker's source of workload events.
#[derive(Debug)]
pub(crate) struct EventSource<S: Split> {
    input: Input<S>,
    settings: SourceSettings,
    /// Events taken from the input but not emitted yet (paced generate mode), or the replay
    /// buffer itself.
    buffer: Vec<S::Event>,
    pos: usize,
    /// The generator has more events to give.
    more: bool,
    last_ts: Option<u64>,
    start: Option<u64>,
}

impl<S: Split> EventSource<S>
where
    S::Event: Timestamped + Clone + 'static,
{
    pub(crate) fn new(input: Input<S>, settings: SourceSettings) -> Self {
        let (input, buffer, more) = match input {
            Input::Replay(events) => {
                let more = !events.is_empty();
                (Input::Replay(Vec::new()), events, more)
            }
            generate @ Input::Generate(_) => (generate, Vec::new(), true),
        };
        Self {
            input,
            settings,
            buffer,
            pos: 0,
            more,
            last_ts: None,
            start: None,
        }
    }

    fn watermark(&self) -> Timestamp {
        self.last_ts.map_or(NO_PROGRESS, |ts| {
            ts.saturating_sub(self.settings.out_of_orderness_ms) as Timestamp
        })
    }

    /// The job-clock time at which `ts` is due under pacing.
    fn due_ns(&self, start: u64, ts: u64) -> u64 {
        let offset_ms = ts.saturating_sub(self.settings.base_time_ms);
        start.saturating_add(offset_ms.saturating_mul(1_000_000))
    }

    /// Refills the buffer from the generator once it is used up; whether events are buffered.
    fn refill(&mut self, max: usize) -> bool {
        if self.pos < self.buffer.len() {
            return true;
        }
        self.buffer.clear();
        self.pos = 0;
        if let Input::Generate(split) = &mut self.input
            && self.more
        {
            self.more = split.fill(&mut self.buffer, max);
        } else {
            self.more = false;
        }
        !self.buffer.is_empty()
    }

    fn emitted(&mut self, out: &[S::Event]) -> SourcePoll {
        if let Some(last) = out.last() {
            self.last_ts = Some(last.timestamp());
        }
        SourcePoll::Ready {
            watermark: self.watermark(),
        }
    }
}

impl<S> Source for EventSource<S>
where
    S: Split + 'static,
    S::Event: Timestamped + Clone + 'static,
{
    type Item = S::Event;

    fn poll(&mut self, out: &mut Vec<S::Event>, max: usize, now_ns: u64) -> SourcePoll {
        let start = *self.start.get_or_insert_with(|| {
            match self.settings.start_ns.compare_exchange(
                u64::MAX,
                now_ns,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => now_ns,
                Err(first) => first,
            }
        });
        if self.settings.stop.is_raised()
            || self
                .settings
                .duration_ns
                .is_some_and(|d| now_ns.saturating_sub(start) >= d)
        {
            return SourcePoll::Done;
        }
        let before = out.len();
        if !self.settings.paced {
            // Unpaced generate mode fills `out` directly (no intermediate copy).
            if let Input::Generate(split) = &mut self.input
                && self.pos >= self.buffer.len()
            {
                if !self.more {
                    return SourcePoll::Done;
                }
                self.more = split.fill(out, max);
            } else {
                if !self.refill(max) {
                    return SourcePoll::Done;
                }
                let end = (self.pos + max).min(self.buffer.len());
                out.extend_from_slice(&self.buffer[self.pos..end]);
                self.pos = end;
            }
            if out.len() == before && !self.more && self.pos >= self.buffer.len() {
                return SourcePoll::Done;
            }
            let poll = self.emitted(&out[before..]);
            return poll;
        }
        if !self.refill(max) {
            return SourcePoll::Done;
        }
        let available = &self.buffer[self.pos..];
        let due = available
            .iter()
            .take(max)
            .take_while(|e| self.due_ns(start, e.timestamp()) <= now_ns)
            .count();
        if due == 0 {
            let wake_at = self.due_ns(start, available[0].timestamp());
            return SourcePoll::Pending {
                watermark: self.watermark(),
                wake_at: Some(wake_at),
            };
        }
        out.extend_from_slice(&self.buffer[self.pos..self.pos + due]);
        self.pos += due;
        self.emitted(&out[before..])
    }

    /// Paced: the scheduled emission time of the newest emitted event, so that a late poll
    /// shows in the latency of the results this watermark fires (no coordinated omission).
    fn event_time(&self) -> Option<Timestamp> {
        self.last_ts.map(|ts| ts as Timestamp)
    }

    fn watermark_stamp_ns(&self, now_ns: u64) -> u64 {
        match (self.settings.paced, self.start, self.last_ts) {
            (true, Some(start), Some(ts)) => self.due_ns(start, ts).min(now_ns),
            _ => now_ns,
        }
    }
}
