//! The source side shared by every workload: how events are divided among workers, the
//! watermark rule, and the `generate` / `replay` source modes (BENCHMARKING.md).
//!
//! **Split rule.** Event ids are cut into blocks of [`BLOCK`] ids; worker `w` of `W` owns the
//! blocks `b` with `b % W == w` and produces their ids in increasing order. The union over
//! workers is the single-worker stream for every `W`, and each worker's timestamps are
//! non-decreasing (timestamps are a non-decreasing function of the id).
//!
//! **Watermark.** After a split has produced events up to timestamp `t` its watermark is
//! `t - out_of_orderness` (saturating at 0; 0 before the first event); once it is exhausted the
//! watermark is [`WATERMARK_END`] (+infinity).

/// Ids per block of the worker split.
pub const BLOCK: u64 = 1024;

/// The watermark of a finished split: every window closes.
pub const WATERMARK_END: u64 = u64::MAX;

/// Errors in a generator configuration; each message names the flag that fixes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A flag has a value the generator cannot use.
    #[error("invalid {flag} {value}: {why}")]
    Invalid {
        /// The flag, for example `--event-rate`.
        flag: &'static str,
        /// The value given.
        value: String,
        /// What is wrong and what to do.
        why: &'static str,
    },
}

/// Which worker of how many; validated (`worker < workers`, `workers >= 1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerSplit {
    worker: u64,
    workers: u64,
}

impl WorkerSplit {
    /// The whole stream on one worker.
    pub const SINGLE: WorkerSplit = WorkerSplit {
        worker: 0,
        workers: 1,
    };

    /// Worker `worker` of `workers`.
    ///
    /// # Errors
    /// When `workers` is 0 or `worker >= workers`.
    pub fn new(worker: usize, workers: usize) -> Result<Self, ConfigError> {
        if workers == 0 {
            return Err(ConfigError::Invalid {
                flag: "--workers",
                value: "0".into(),
                why: "at least one worker is needed",
            });
        }
        if worker >= workers {
            return Err(ConfigError::Invalid {
                flag: "--worker",
                value: worker.to_string(),
                why: "the worker index must be below --workers (workers are numbered from 0)",
            });
        }
        Ok(Self {
            worker: worker as u64,
            workers: workers as u64,
        })
    }

    /// This worker's index.
    pub fn worker(self) -> usize {
        self.worker as usize
    }

    /// The number of workers.
    pub fn workers(self) -> usize {
        self.workers as usize
    }

    /// Whether event `id` belongs to this worker.
    #[inline]
    pub fn owns(self, id: u64) -> bool {
        (id / BLOCK) % self.workers == self.worker
    }

    /// The first id of this worker at or after `id` (may be past the end of the input).
    #[inline]
    pub fn first_owned_from(self, id: u64) -> u64 {
        if self.owns(id) {
            return id;
        }
        let block = id / BLOCK;
        let offset = (self.worker + self.workers - block % self.workers) % self.workers;
        (block + offset) * BLOCK
    }

    /// How many of the ids `0..events` this worker owns.
    pub fn count(self, events: u64) -> u64 {
        let full_blocks = events / BLOCK;
        let rest = events % BLOCK;
        let mut n = (full_blocks / self.workers) * BLOCK;
        if full_blocks % self.workers > self.worker {
            n += BLOCK;
        } else if full_blocks % self.workers == self.worker {
            n += rest;
        }
        n
    }
}

/// Ids per cycle of event kinds: a Nexmark event's kind is a function of `id % 50` (YSB has one
/// kind), so which ids a kind-filtering source keeps repeats with this period.
pub const KIND_PERIOD: u64 = 50;

/// How many input ids a worker's source has consumed, from the number of events it emitted.
///
/// A source that reads only some kinds (bids only, persons and auctions only) skips the other
/// ids without generating them, but those ids are part of the input: a run's `events` counts
/// them, in every source mode and on every engine, so that a throughput is always "input
/// events per second" (docs/BENCHMARKING.md, section 1). After emitting its `n`-th event a
/// source has consumed every owned id up to and including that event's id:
/// [`InputIds::through`]`(n)`.
///
/// Cost: O(1) plus at most [`KIND_PERIOD`] / 2 block steps and a binary search within one
/// block; sources call it once per batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputIds {
    split: WorkerSplit,
    /// The worker's owned ids in the whole input (all consumed once it has ended).
    owned: u64,
    /// `kept[r]`: kept residues (`id % KIND_PERIOD`) below `r`.
    kept: [u8; KIND_PERIOD as usize + 1],
}

impl InputIds {
    /// Blocks after which the kept counts of a worker's blocks repeat: block `b` starts at
    /// `b * 1024`, and `1024 * 25 = 512 * 50`.
    const BLOCK_CYCLE: u64 = 25;

    /// The counter of worker `split` of the input `0..events` for a source that keeps the ids
    /// for which `keep(id % 50)` holds.
    pub fn new(split: WorkerSplit, events: u64, keep: impl Fn(u64) -> bool) -> Self {
        let mut kept = [0_u8; KIND_PERIOD as usize + 1];
        for r in 0..KIND_PERIOD {
            kept[r as usize + 1] = kept[r as usize] + u8::from(keep(r));
        }
        Self {
            split,
            owned: split.count(events),
            kept,
        }
    }

    /// The counter of a source that emits every id: `through(n) == n`.
    pub fn every(split: WorkerSplit, events: u64) -> Self {
        Self::new(split, events, |_| true)
    }

    /// Input ids consumed by a source that emitted `emitted` events: every owned id once its
    /// input has `ended` (the ids skipped after the last kept one included), else
    /// [`InputIds::through`]`(emitted)`.
    pub fn consumed(&self, emitted: u64, ended: bool) -> u64 {
        if ended {
            self.owned
        } else {
            self.through(emitted).min(self.owned)
        }
    }

    /// Kept ids in `0..n`.
    fn kept_below(&self, n: u64) -> u64 {
        (n / KIND_PERIOD) * u64::from(self.kept[KIND_PERIOD as usize])
            + u64::from(self.kept[(n % KIND_PERIOD) as usize])
    }

    /// Kept ids in the worker's `j`-th block (ignoring the end of the input).
    fn kept_in_block(&self, j: u64) -> u64 {
        let first = (self.split.worker + j * self.split.workers) * BLOCK;
        self.kept_below(first + BLOCK) - self.kept_below(first)
    }

    /// Owned ids consumed once the source has emitted `emitted` events: the position, in the
    /// worker's owned ids, of its `emitted`-th kept id (0 for 0). A source that keeps no kind
    /// consumes nothing by this count (it reports the end of its input instead).
    pub fn through(&self, emitted: u64) -> u64 {
        if emitted == 0 || self.kept[KIND_PERIOD as usize] == 0 {
            return 0;
        }
        let per_cycle: u64 = (0..Self::BLOCK_CYCLE).map(|j| self.kept_in_block(j)).sum();
        let cycles = (emitted - 1) / per_cycle;
        let mut left = emitted - cycles * per_cycle;
        let mut j = cycles * Self::BLOCK_CYCLE;
        loop {
            let in_block = self.kept_in_block(j);
            if left <= in_block {
                break;
            }
            left -= in_block;
            j += 1;
        }
        // The `left`-th kept id of block `j`: the smallest offset `x` with `left` kept ids in
        // `first..=first + x`.
        let first = (self.split.worker + j * self.split.workers) * BLOCK;
        let base = self.kept_below(first);
        let (mut lo, mut hi) = (0, BLOCK - 1);
        while lo < hi {
            let mid = u64::midpoint(lo, hi);
            if self.kept_below(first + mid + 1) - base >= left {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        j * BLOCK + lo + 1
    }
}

/// A worker's source of events: generated on the fly or replayed from memory.
pub trait Split {
    /// The event type.
    type Event;

    /// Appends up to `max` events to `out`; returns whether more events remain afterwards.
    fn fill(&mut self, out: &mut Vec<Self::Event>, max: usize) -> bool;

    /// [`Split::fill`] with each event wrapped by `wrap` on its way into `out` (a source that
    /// tags its events). Generators override it to build each wrapped event in place; this
    /// default fills a temporary batch and moves its events.
    fn fill_with<U>(
        &mut self,
        out: &mut Vec<U>,
        max: usize,
        wrap: impl FnMut(Self::Event) -> U,
    ) -> bool
    where
        Self: Sized,
    {
        let mut events = Vec::with_capacity(max.min(1 << 16));
        let more = self.fill(&mut events, max);
        out.extend(events.into_iter().map(wrap));
        more
    }

    /// [`Split::fill_with`] that stops before the first event whose timestamp is after
    /// `until_ms`: the events a paced source has due, made straight into `out`. Returns
    /// whether events remain, or `None`, having appended nothing, when the split cannot tell
    /// an event's time before making it (the default): a paced source then makes events ahead
    /// into a buffer of its own and copies each out when it is due.
    fn fill_due_with<U>(
        &mut self,
        out: &mut Vec<U>,
        max: usize,
        until_ms: u64,
        wrap: impl FnMut(Self::Event) -> U,
    ) -> Option<bool>
    where
        Self: Sized,
    {
        let _ = (out, max, until_ms, wrap);
        None
    }

    /// The current watermark (epoch ms): see the module docs.
    fn watermark(&self) -> u64;
}

/// An event with an event-time timestamp (epoch ms).
pub trait Timestamped {
    /// The event time.
    fn timestamp(&self) -> u64;
}

/// The `replay` source mode: a worker's events generated into memory before the clock starts,
/// served in batches by copying (or borrowed with [`Replay::next_slice`]).
#[derive(Debug, Clone)]
pub struct Replay<T> {
    events: Vec<T>,
    pos: usize,
    out_of_orderness_ms: u64,
}

impl<T: Timestamped + Clone> Replay<T> {
    /// Replays `events` (in order) with this out-of-orderness.
    pub fn new(events: Vec<T>, out_of_orderness_ms: u64) -> Self {
        Self {
            events,
            pos: 0,
            out_of_orderness_ms,
        }
    }

    /// Fills a replay buffer from any split (used before the clock starts).
    pub fn record(split: &mut impl Split<Event = T>, out_of_orderness_ms: u64) -> Self {
        let mut events = Vec::new();
        while split.fill(&mut events, 1 << 16) {}
        Self::new(events, out_of_orderness_ms)
    }

    /// The next up to `max` events, without copying; empty when exhausted.
    pub fn next_slice(&mut self, max: usize) -> &[T] {
        let start = self.pos;
        self.pos = (start + max).min(self.events.len());
        &self.events[start..self.pos]
    }

    /// All buffered events.
    pub fn events(&self) -> &[T] {
        &self.events
    }

    /// Bytes held in memory by the buffer (for the `memory-read` baseline).
    pub fn bytes(&self) -> usize {
        self.events.len() * std::mem::size_of::<T>()
    }

    /// Starts over from the first event.
    pub fn rewind(&mut self) {
        self.pos = 0;
    }
}

impl<T: Timestamped + Clone> Split for Replay<T> {
    type Event = T;

    fn fill(&mut self, out: &mut Vec<T>, max: usize) -> bool {
        let end = (self.pos + max).min(self.events.len());
        out.extend_from_slice(&self.events[self.pos..end]);
        self.pos = end;
        self.pos < self.events.len()
    }

    fn watermark(&self) -> u64 {
        if self.pos >= self.events.len() {
            WATERMARK_END
        } else if self.pos == 0 {
            0
        } else {
            self.events[self.pos - 1]
                .timestamp()
                .saturating_sub(self.out_of_orderness_ms)
        }
    }
}

/// The timestamp of event `id` on the shared timeline: `base + floor(id * 1000 / event_rate)`.
#[inline]
pub fn timestamp_of(id: u64, base_time_ms: u64, event_rate: u64) -> u64 {
    let offset = match id.checked_mul(1000) {
        Some(ms) => ms / event_rate,
        None => ((u128::from(id) * 1000) / u128::from(event_rate)) as u64,
    };
    base_time_ms + offset
}

/// The first id whose [`timestamp_of`] is after `until_ms`: ids below it are due by then.
#[inline]
pub fn first_id_after(until_ms: u64, base_time_ms: u64, event_rate: u64) -> u64 {
    let Some(offset) = until_ms.checked_sub(base_time_ms) else {
        return 0; // every event is at base_time_ms or later
    };
    // The least id with floor(id * 1000 / rate) >= offset + 1.
    let first = (u128::from(offset) + 1) * u128::from(event_rate);
    u64::try_from(first.div_ceil(1000)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_id_after_is_the_first_id_past_the_limit() {
        for rate in [1, 3, 7, 999, 1000, 1001, 17_470_000, u64::MAX / 1000] {
            for base in [0_u64, 5, 1 << 40] {
                if base > 0 {
                    assert_eq!(first_id_after(base - 1, base, rate), 0);
                }
                for until in (base..base + 50).chain([base + 123_456]) {
                    let first = first_id_after(until, base, rate);
                    assert!(
                        timestamp_of(first, base, rate) > until,
                        "rate {rate} until {until}"
                    );
                    if first > 0 {
                        assert!(
                            timestamp_of(first - 1, base, rate) <= until,
                            "rate {rate} until {until}: {first} is not the first"
                        );
                    }
                }
            }
        }
        assert_eq!(first_id_after(u64::MAX, 0, u64::MAX), u64::MAX);
    }

    #[test]
    fn first_owned_from_skips_to_the_next_owned_block() {
        let s = WorkerSplit::new(2, 3).expect("valid");
        assert_eq!(s.first_owned_from(0), 2048);
        assert_eq!(s.first_owned_from(2050), 2050);
        assert_eq!(s.first_owned_from(3072), 5120);
        let all = WorkerSplit::SINGLE;
        assert_eq!(all.first_owned_from(77), 77);
    }

    #[test]
    fn count_matches_ownership() {
        for workers in 1..=5 {
            for events in [0, 1, 1023, 1024, 1025, 5000, 9 * 1024] {
                let total: u64 = (0..workers)
                    .map(|w| {
                        let s = WorkerSplit::new(w, workers).expect("valid");
                        let n = s.count(events);
                        assert_eq!(n, (0..events).filter(|&i| s.owns(i)).count() as u64);
                        n
                    })
                    .sum();
                assert_eq!(total, events);
            }
        }
    }

    #[test]
    fn bad_splits_name_the_flag() {
        let e = WorkerSplit::new(0, 0).expect_err("0 workers");
        assert!(e.to_string().contains("--workers"));
        let e = WorkerSplit::new(3, 3).expect_err("index too large");
        assert!(e.to_string().contains("--worker "));
    }

    /// Brute force: walk the owned ids, count kept ones, note the position after each.
    fn consumed(split: WorkerSplit, keep: impl Fn(u64) -> bool, ids: u64) -> Vec<u64> {
        (0..ids)
            .filter(|&id| split.owns(id))
            .enumerate()
            .filter(|&(_, id)| keep(id % KIND_PERIOD))
            .map(|(pos, _)| pos as u64 + 1)
            .collect()
    }

    #[test]
    fn input_ids_count_the_skipped_ids() {
        type Keep = fn(u64) -> bool;
        let kinds: [(&str, Keep); 4] = [
            ("all", |_| true),
            ("bids", |r| r >= 4),
            ("persons and auctions", |r| r < 4),
            ("persons", |r| r == 0),
        ];
        for workers in [1, 2, 3, 5, 8] {
            for worker in 0..workers {
                let split = WorkerSplit::new(worker, workers).expect("valid split");
                for (name, keep) in kinds {
                    let ids = InputIds::new(split, 120_000, keep);
                    assert_eq!(ids.consumed(5, true), split.count(120_000));
                    let expected = consumed(split, keep, 120_000);
                    assert_eq!(ids.through(0), 0);
                    for (i, &pos) in expected.iter().enumerate() {
                        assert_eq!(
                            ids.through(i as u64 + 1),
                            pos,
                            "{name}: event {} of worker {worker} of {workers}",
                            i + 1
                        );
                    }
                }
            }
        }
        let every = InputIds::every(WorkerSplit::new(1, 3).expect("valid split"), u64::MAX);
        assert_eq!(every.through(123_457), 123_457);
        assert_eq!(every.consumed(123_457, false), 123_457);
        assert_eq!(
            InputIds::new(WorkerSplit::SINGLE, 10, |_| false).through(9),
            0
        );
    }

    #[test]
    fn timestamps_are_exact() {
        assert_eq!(timestamp_of(0, 10, 3), 10);
        assert_eq!(timestamp_of(2, 10, 3), 10 + 666);
        // No overflow where id * 1000 exceeds 64 bits.
        assert_eq!(timestamp_of(1 << 60, 0, 1 << 20), 1000 << 40);
    }
}
