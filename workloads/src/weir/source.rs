//! The weir source over a workload split: `generate` (on the fly) or `replay` (pre-generated),
//! optionally paced against each event's scheduled emission time.
//!
//! **Pacing.** With `--rate R` the generator's event rate is `R` too, so event `i` has event
//! time `base + floor(i * 1000 / R)` ms and its scheduled emission time is that many ms after
//! the job's pacing zero (the first poll of any source, shared by all workers). A source emits
//! every event whose scheduled time has come and otherwise answers `Pending` with the wake
//! time of its next event; it never sleeps. The generators make the due events straight into
//! the batch ([`Split::fill_due_with`]: an event's time follows from its id); other splits are
//! made ahead into a buffer, from which each event is copied when due. Schedules are fixed in advance, so a stall makes
//! the source emit a backlog afterwards rather than shift the schedule (no coordinated
//! omission).
//!
//! Paced watermarks are stamped with the scheduled time of the newest emitted event
//! (`Source::watermark_stamp_ns`), so window latency counts from the schedule.
//!
//! **Watermark.** `last emitted timestamp - out_of_orderness` (the split rule of
//! `crate::split`, on the events actually emitted); end of input once the split is exhausted,
//! the run length has passed, or the job was asked to stop.
//!
//! **Latency samples.** [`StampedSource`] wraps an [`EventSource`] for the un-windowed queries
//! (q0-q3): the events whose id is a multiple of [`SAMPLE_EVERY`] (the same events on every
//! engine) carry their ingestion time, job clock ns: the scheduled emission time when paced,
//! the time the source emitted them otherwise. Sources do not see event ids, so a [`Sampler`]
//! works out where in a worker's stream those ids fall from the split rule and the kinds the
//! source produces.

use std::num::NonZeroU64;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use weir_engine::{Clock, NO_PROGRESS, Source, SourcePoll, Timestamp};

use crate::job::StopSignal;
use crate::split::{BLOCK, InputIds, Split, Timestamped, WorkerSplit};

/// Event ids that are multiples of this carry a latency sample (docs/BENCHMARKING.md section 4: 1 in 1024).
pub(crate) const SAMPLE_EVERY: u64 = 1024;

// A sampled id is the first id of a split block: the sampler relies on it.
const _: () = assert!(SAMPLE_EVERY == BLOCK);

/// Event kinds repeat with this period of ids (Nexmark's `id % 50`; YSB has one kind).
const KIND_PERIOD: u64 = 50;

/// A record and, for a sampled one, its ingestion time (job clock ns).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stamped<T> {
    /// The record.
    pub(crate) value: T,
    /// The ingestion time of a sampled record; `None` for the others.
    pub(crate) ingest: Option<NonZeroU64>,
}

impl<T> Stamped<T> {
    /// The same stamp on `f(value)`.
    #[inline]
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Stamped<U> {
        Stamped {
            value: f(self.value),
            ingest: self.ingest,
        }
    }
}

/// Where the sampled event ids fall in one worker's stream of produced events.
///
/// Worker `w` of `W` produces the ids of blocks `w, w + W, w + 2W, ...` in order, keeping the
/// ids whose kind the source produces; a sampled id is the first id of a block, so it is the
/// block's first produced event when its own kind is kept, and its position is the number of
/// kept ids in the worker's earlier blocks. Events read from a file have no kind pattern: their
/// sampled positions are listed ([`Sampler::listed`]).
#[derive(Clone, Debug)]
pub(crate) struct Sampler {
    /// The positions of a file's share, when given as a list (then the rest is unused).
    listed: Option<std::vec::IntoIter<u64>>,
    split: WorkerSplit,
    events: u64,
    /// `prefix[r]`: kept residues `id % KIND_PERIOD` below `r`.
    prefix: [u64; KIND_PERIOD as usize + 1],
    /// The next block to look at.
    block: u64,
    /// The stream position of `block`'s first kept id.
    block_pos: u64,
    /// The stream position of the next sampled event, if there is one.
    next: Option<u64>,
}

impl Sampler {
    /// The sampler of worker `split` over ids `0..events`, for a source that produces the ids
    /// for which `keep` holds (a function of `id % 50`).
    pub(crate) fn new(split: WorkerSplit, events: u64, keep: impl Fn(u64) -> bool) -> Self {
        let mut prefix = [0; KIND_PERIOD as usize + 1];
        for r in 0..KIND_PERIOD {
            prefix[r as usize + 1] = prefix[r as usize] + u64::from(keep(r));
        }
        let mut sampler = Self {
            listed: None,
            split,
            events,
            prefix,
            block: split.worker() as u64,
            block_pos: 0,
            next: None,
        };
        sampler.advance();
        sampler
    }

    /// The sampler of a worker whose sampled events are at these stream positions (in order).
    pub(crate) fn listed(positions: Vec<u64>) -> Self {
        let mut sampler = Self::new(WorkerSplit::SINGLE, 0, |_| false);
        sampler.listed = Some(positions.into_iter());
        sampler.advance();
        sampler
    }

    /// Kept ids below `n`.
    fn kept_below(&self, n: u64) -> u64 {
        (n / KIND_PERIOD) * self.prefix[KIND_PERIOD as usize]
            + self.prefix[(n % KIND_PERIOD) as usize]
    }

    /// Moves `next` to the sampled event of the next block that has one.
    fn advance(&mut self) {
        self.next = None;
        if let Some(listed) = &mut self.listed {
            self.next = listed.next();
            return;
        }
        // Block starts step through `id % 50` with a period of at most 25 blocks: a kept
        // sampled id within 50 blocks, or none ever.
        for _ in 0..2 * KIND_PERIOD {
            let Some(first) = self
                .block
                .checked_mul(BLOCK)
                .filter(|&first| first < self.events)
            else {
                return;
            };
            let end = first.saturating_add(BLOCK).min(self.events);
            let pos = self.block_pos;
            let sampled = self.kept_below(first + 1) > self.kept_below(first);
            self.block_pos += self.kept_below(end) - self.kept_below(first);
            self.block += self.split.workers() as u64;
            if sampled {
                self.next = Some(pos);
                return;
            }
        }
    }

    /// Calls `stamp(i)` for every sampled event among the stream positions
    /// `first..first + len`, with `i` relative to `first`; positions must be asked in order.
    pub(crate) fn sampled_in(&mut self, first: u64, len: usize, mut stamp: impl FnMut(usize)) {
        let end = first + len as u64;
        while let Some(pos) = self.next.filter(|&p| p < end) {
            stamp((pos - first) as usize);
            self.advance();
        }
    }
}

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
    /// Paced generate mode makes due events straight into the batch
    /// ([`Split::fill_due_with`]); false once the split said it cannot, and the source
    /// buffers instead.
    direct: bool,
    last_ts: Option<u64>,
    start: Option<u64>,
    /// Counts the input ids consumed (the source may skip kinds it does not read).
    ids: InputIds,
    /// Events emitted so far.
    count: u64,
    /// The input ran to its end (not stopped early).
    exhausted: bool,
}

impl<S: Split> EventSource<S>
where
    S::Event: Timestamped + Clone + 'static,
{
    /// A source over `input`, whose input ids `ids` counts (what the split keeps of them).
    pub(crate) fn new(input: Input<S>, settings: SourceSettings, ids: InputIds) -> Self {
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
            direct: true,
            last_ts: None,
            start: None,
            ids,
            count: 0,
            exhausted: false,
        }
    }

    /// The input has run to its end.
    fn exhausted(&mut self) -> SourcePoll {
        self.exhausted = true;
        SourcePoll::Done
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

    fn emitted(&mut self, count: usize, last_ts: Option<u64>) -> SourcePoll {
        if last_ts.is_some() {
            self.last_ts = last_ts;
        }
        self.count += count as u64;
        SourcePoll::Ready {
            watermark: self.watermark(),
        }
    }

    /// [`Source::poll`] into a batch of `U`: `fill` has the generator append up to `max`
    /// events (with `Some(until_ms)`, only those due by then: [`Split::fill_due_with`], `None`
    /// when the split cannot), `append` copies buffered ones, `ts` reads an appended event's
    /// timestamp. The plain source appends the events themselves; [`StampedSource`] appends
    /// them wrapped, built in place by the generator.
    fn poll_into<U>(
        &mut self,
        out: &mut Vec<U>,
        max: usize,
        now_ns: u64,
        fill: impl FnOnce(&mut S, &mut Vec<U>, usize, Option<u64>) -> Option<bool>,
        append: impl FnOnce(&mut Vec<U>, &[S::Event]),
        ts: impl Fn(&U) -> u64,
    ) -> SourcePoll {
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
                    return self.exhausted();
                }
                self.more = fill(split, out, max, None) == Some(true);
            } else {
                if !self.refill(max) {
                    return self.exhausted();
                }
                let end = (self.pos + max).min(self.buffer.len());
                append(out, &self.buffer[self.pos..end]);
                self.pos = end;
            }
            if out.len() == before && !self.more && self.pos >= self.buffer.len() {
                return self.exhausted();
            }
            return self.emitted(out.len() - before, out[before..].last().map(ts));
        }
        // Paced generate mode: the events due now (event time up to the current millisecond
        // of the run), made straight into the batch rather than made ahead into a buffer and
        // copied out when due (YSB paced at 26.4 M/s: 37-38 instead of 41-45 ns per event).
        if self.direct
            && self.pos >= self.buffer.len()
            && let Input::Generate(split) = &mut self.input
        {
            if !self.more {
                return self.exhausted();
            }
            let until_ms = self.settings.base_time_ms + now_ns.saturating_sub(start) / 1_000_000;
            match fill(split, out, max, Some(until_ms)) {
                Some(more) => {
                    self.more = more;
                    let n = out.len() - before;
                    if n > 0 {
                        return self.emitted(n, out[before..].last().map(ts));
                    }
                    if !self.more {
                        return self.exhausted();
                    }
                    // Nothing due before the next millisecond of event time.
                    return SourcePoll::Pending {
                        watermark: self.watermark(),
                        wake_at: Some(self.due_ns(start, until_ms + 1)),
                    };
                }
                None => self.direct = false,
            }
        }
        if !self.refill(max) {
            return self.exhausted();
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
        append(out, &self.buffer[self.pos..self.pos + due]);
        self.pos += due;
        self.emitted(due, out[before..].last().map(ts))
    }
}

impl<S> Source for EventSource<S>
where
    S: Split + 'static,
    S::Event: Timestamped + Clone + 'static,
{
    type Item = S::Event;

    fn poll(&mut self, out: &mut Vec<S::Event>, max: usize, now_ns: u64) -> SourcePoll {
        self.poll_into(
            out,
            max,
            now_ns,
            |split, out, max, until| match until {
                None => Some(split.fill(out, max)),
                Some(ms) => split.fill_due_with(out, max, ms, |e| e),
            },
            Vec::extend_from_slice,
            Timestamped::timestamp,
        )
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

    /// The input ids consumed, skipped kinds included (see [`InputIds`]).
    fn input_events(&self) -> Option<u64> {
        Some(self.ids.consumed(self.count, self.exhausted))
    }
}

/// An [`EventSource`] whose sampled events carry their ingestion time (see the module docs).
pub(crate) struct StampedSource<S: Split> {
    inner: EventSource<S>,
    sampler: Sampler,
    clock: Clock,
    /// Events emitted so far (the stream position of the next one).
    emitted: u64,
}

impl<S: Split> std::fmt::Debug for StampedSource<S>
where
    EventSource<S>: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StampedSource")
            .field("inner", &self.inner)
            .field("emitted", &self.emitted)
            .finish_non_exhaustive()
    }
}

impl<S: Split> StampedSource<S>
where
    S::Event: Timestamped + Clone + 'static,
{
    pub(crate) fn new(inner: EventSource<S>, sampler: Sampler, clock: Clock) -> Self {
        Self {
            inner,
            sampler,
            clock,
            emitted: 0,
        }
    }
}

impl<S> Source for StampedSource<S>
where
    S: Split + 'static,
    S::Event: Timestamped + Clone + 'static,
{
    type Item = Stamped<S::Event>;

    fn poll(&mut self, out: &mut Vec<Stamped<S::Event>>, max: usize, now_ns: u64) -> SourcePoll {
        let before = out.len();
        let unstamped = |value| Stamped {
            value,
            ingest: None,
        };
        let poll = self.inner.poll_into(
            out,
            max,
            now_ns,
            |split, out, max, until| match until {
                None => Some(split.fill_with(out, max, unstamped)),
                Some(ms) => split.fill_due_with(out, max, ms, unstamped),
            },
            |out, events| out.extend(events.iter().cloned().map(unstamped)),
            |s| s.value.timestamp(),
        );
        if out.len() == before {
            return poll;
        }
        let batch = &mut out[before..];
        let first = self.emitted;
        self.emitted += batch.len() as u64;
        let (paced, start) = (self.inner.settings.paced, self.inner.start);
        let mut emitted_at = None;
        let (inner, clock) = (&self.inner, self.clock);
        self.sampler.sampled_in(first, batch.len(), |i| {
            let ingest = match (paced, start) {
                (true, Some(start)) => inner.due_ns(start, batch[i].value.timestamp()),
                // Unpaced: the batch leaves the source now.
                _ => *emitted_at.get_or_insert_with(|| clock.now_ns()),
            };
            batch[i].ingest = NonZeroU64::new(ingest.max(1));
        });
        poll
    }

    fn watermark_stamp_ns(&self, now_ns: u64) -> u64 {
        self.inner.watermark_stamp_ns(now_ns)
    }

    fn input_events(&self) -> Option<u64> {
        self.inner.input_events()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stream positions of sampled ids, by walking every id the worker owns.
    fn brute_force(split: WorkerSplit, events: u64, keep: impl Fn(u64) -> bool) -> Vec<u64> {
        (0..events)
            .filter(|&id| split.owns(id) && keep(id))
            .enumerate()
            .filter(|(_, id)| id % SAMPLE_EVERY == 0)
            .map(|(pos, _)| pos as u64)
            .collect()
    }

    fn sampled(split: WorkerSplit, events: u64, keep: impl Fn(u64) -> bool) -> Vec<u64> {
        let mut sampler = Sampler::new(split, events, keep);
        let mut out = Vec::new();
        // Ask in uneven batches, as a source does.
        let (mut first, mut len) = (0, 1);
        while first < events {
            sampler.sampled_in(first, len, |i| out.push(first + i as u64));
            first += len as u64;
            len = len * 3 % 5000 + 1;
        }
        out
    }

    #[test]
    fn sampler_finds_the_sampled_ids() {
        type Keep = fn(u64) -> bool;
        let kinds: [(&str, Keep); 4] = [
            ("all", |_| true),
            ("bids", |id| id % 50 >= 4),
            ("persons and auctions", |id| id % 50 < 4),
            ("persons", |id| id % 50 == 0),
        ];
        for events in [1, 1024, 1025, 300_001] {
            for workers in 1..=4 {
                for worker in 0..workers {
                    let split = WorkerSplit::new(worker, workers).expect("valid split");
                    for (name, keep) in kinds {
                        assert_eq!(
                            sampled(split, events, keep),
                            brute_force(split, events, keep),
                            "{name}, worker {worker} of {workers}, {events} events"
                        );
                    }
                }
            }
        }
    }

    /// A split that cannot tell an event's time before making it (the trait's default
    /// `fill_due_with`), so that a paced source over it buffers.
    struct Buffered<S>(S);

    impl<S: Split> Split for Buffered<S> {
        type Event = S::Event;

        fn fill(&mut self, out: &mut Vec<S::Event>, max: usize) -> bool {
            self.0.fill(out, max)
        }

        fn watermark(&self) -> u64 {
            self.0.watermark()
        }
    }

    /// One poll of a paced source: when, the batch size asked for, and the events it gave.
    struct Poll<E> {
        now: u64,
        max: usize,
        events: Vec<E>,
    }

    /// A paced source over `split` polled at uneven times with uneven batch sizes until its
    /// input ends; also whether it made the due events straight into the batches. Every
    /// event it emits was due.
    fn paced<S>(split: S, base_time_ms: u64) -> (Vec<Poll<S::Event>>, bool)
    where
        S: Split + 'static,
        S::Event: Timestamped + Clone + 'static,
    {
        let settings = SourceSettings {
            base_time_ms,
            out_of_orderness_ms: 0,
            paced: true,
            duration_ns: None,
            stop: StopSignal::new(),
            start_ns: Arc::new(AtomicU64::new(u64::MAX)),
        };
        let ids = InputIds::every(WorkerSplit::SINGLE, u64::MAX);
        let mut source = EventSource::new(Input::Generate(split), settings, ids);
        let (mut now, start) = (5_000, 5_000);
        let mut polls = Vec::new();
        for step in 0_usize.. {
            let max = [1, 7, 1000, 4096, 333][step % 5];
            let mut events = Vec::new();
            let poll = source.poll(&mut events, max, now);
            for e in &events {
                let due = source.due_ns(start, e.timestamp());
                assert!(due <= now, "an event due at {due} emitted at {now}");
            }
            if let SourcePoll::Pending { wake_at, .. } = poll {
                assert!(events.is_empty() && wake_at.is_some_and(|at| at > now));
            }
            if matches!(poll, SourcePoll::Done) {
                break;
            }
            polls.push(Poll { now, max, events });
            now += [37_000, 1_300_000, 0, 250_000, 5_000_000, 999_999][step % 6];
        }
        (polls, source.direct)
    }

    /// The events of all polls, in order.
    fn emitted<E: Clone>(polls: &[Poll<E>]) -> Vec<E> {
        polls
            .iter()
            .flat_map(|p| p.events.iter().cloned())
            .collect()
    }

    /// A paced source that makes its due events straight into the batch gives every event
    /// due by a poll in that poll (up to the batch size): the first event it gives after a
    /// batch that was not full was not due at that batch's poll.
    fn assert_nothing_due_held_back<E: Timestamped>(polls: &[Poll<E>], base_ms: u64, case: &str) {
        let due = |e: &E| 5_000 + (e.timestamp() - base_ms) * 1_000_000;
        for (i, p) in polls.iter().enumerate() {
            if p.events.len() < p.max
                && let Some(next) = polls[i + 1..].iter().find_map(|q| q.events.first())
            {
                assert!(due(next) > p.now, "{case}: poll {i} held back a due event");
            }
        }
    }

    /// A paced source makes due events straight into its batches where the split can tell
    /// their times ahead (the generators): the same events, in the same order, as buffering
    /// them, and none held back once due.
    #[test]
    fn paced_generators_make_due_events_straight_into_the_batch() {
        for (rate, events) in [(1_000, 3_000), (3_333, 20_000), (10_000_000, 200_000)] {
            for (worker, workers) in [(0, 1), (1, 2)] {
                let split = WorkerSplit::new(worker, workers).expect("valid split");
                let case = format!("{rate} events/s, worker {worker} of {workers}");
                let mut config = crate::nexmark::NexmarkConfig::with_events(events);
                config.event_rate = rate;
                let base = config.base_time_ms;
                let all = || crate::nexmark::NexmarkSplit::new(&config, split).expect("valid");
                let (direct, made) = paced(all(), base);
                assert!(made, "{case}: the Nexmark generator tells times ahead");
                let (buffered, made) = paced(Buffered(all()), base);
                assert!(!made, "{case}: a split that cannot buffers");
                assert!(emitted(&direct) == emitted(&buffered), "{case}: all kinds");
                assert_nothing_due_held_back(&direct, base, &case);
                if rate < 10_000 {
                    // Polled faster than events fall due: some polls find none.
                    assert!(
                        direct.iter().any(|p| p.events.is_empty()),
                        "{case}: idle polls"
                    );
                }
                let owned = (0..events).filter(|&id| split.owns(id)).count();
                assert_eq!(emitted(&direct).len(), owned, "{case}");

                let bids = || {
                    crate::nexmark::NexmarkSplit::new(&config, split)
                        .expect("valid")
                        .only(&[crate::nexmark::EventKind::Bid])
                };
                let (direct, _) = paced(bids(), base);
                assert!(
                    emitted(&direct) == emitted(&paced(Buffered(bids()), base).0),
                    "{case}"
                );
                assert_nothing_due_held_back(&direct, base, &case);
                let bids = || crate::nexmark::BidSplit::new(&config, split).expect("valid");
                let (direct, made) = paced(bids(), base);
                assert!(made, "{case}: bids alone");
                assert!(
                    emitted(&direct) == emitted(&paced(Buffered(bids()), base).0),
                    "{case}"
                );
                assert_nothing_due_held_back(&direct, base, &case);

                let ysb = crate::ysb::YsbConfig {
                    event_rate: rate,
                    ..crate::ysb::YsbConfig::with_events(events)
                };
                let ysb_split = || crate::ysb::YsbSplit::new(&ysb, split).expect("valid");
                let (direct, made) = paced(ysb_split(), ysb.base_time_ms);
                assert!(made, "{case}: the YSB generator tells times ahead");
                let buffered = paced(Buffered(ysb_split()), ysb.base_time_ms).0;
                assert!(emitted(&direct) == emitted(&buffered), "{case}: YSB");
                assert_nothing_due_held_back(&direct, ysb.base_time_ms, &case);
                assert_eq!(emitted(&direct).len(), owned, "{case}: YSB");
            }
        }
    }

    #[test]
    fn sampler_without_sampled_kinds_ends() {
        // Block starts are even ids: a source of odd ids only never holds a sampled one.
        let mut sampler = Sampler::new(WorkerSplit::SINGLE, u64::MAX, |id| id % 2 == 1);
        let mut hits = 0;
        sampler.sampled_in(0, 1 << 20, |_| hits += 1);
        assert_eq!(hits, 0);
    }
}
