//! Per-record latency of the un-windowed queries (BENCHMARKING.md): the events with
//! `id % 1024 == 0` carry their ingestion time through the dataflow to the sink, which records
//! `sink time - ingestion time`. The same events are sampled on every engine.
//!
//! The split produces a worker's ids in order, block by block (`split.rs`), skipping the ids of
//! kinds the query does not read without generating them; [`Sampler`] computes the *positions*
//! in that output of the sampled ids (the first id of each owned block, when its kind is
//! produced), so the source stamps an event by counting, without the generator's help.

use crate::nexmark::EventKind;
use crate::split::{BLOCK, WorkerSplit};

/// Ids per Nexmark kind cycle: the kind of event `id` is a function of `id % 50`.
const CYCLE: u64 = 50;

/// An event with its ingestion stamp: 0 when not sampled, else 1 + the ingestion time in ns
/// on the job's clock (the scheduled emission time when paced).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sampled<E> {
    /// The event.
    pub(crate) event: E,
    /// See the type's docs.
    pub(crate) stamp: u64,
}

impl<E> Sampled<E> {
    /// `event` with `stamp`.
    pub(crate) fn new(event: E, stamp: u64) -> Self {
        Self { event, stamp }
    }
}

/// The positions, in one worker's output, of the events to sample: worked out from the split
/// rule, or listed (events read from a file have no kind pattern).
#[derive(Clone, Debug)]
pub(crate) struct Sampler {
    /// The listed positions, when given (then the rest is unused).
    listed: Option<std::vec::IntoIter<u64>>,
    split: WorkerSplit,
    events: u64,
    /// Whether an id with this residue mod 50 is produced.
    produced: [bool; CYCLE as usize],
    /// `prefix[r]`: produced residues below `r`.
    prefix: [u64; CYCLE as usize + 1],
    /// The next owned block.
    block: u64,
    /// The output position of the first produced id of `block`.
    position: u64,
}

impl Sampler {
    /// The sampler of worker `split` of an input of `events` events, producing the ids whose
    /// kind is in `kinds` (`None`: every kind).
    pub(crate) fn new(split: WorkerSplit, events: u64, kinds: Option<&[EventKind]>) -> Self {
        let mut produced = [false; CYCLE as usize];
        let mut prefix = [0; CYCLE as usize + 1];
        for r in 0..CYCLE {
            produced[r as usize] = kinds.is_none_or(|k| k.contains(&EventKind::of_id(r)));
            prefix[r as usize + 1] = prefix[r as usize] + u64::from(produced[r as usize]);
        }
        Self {
            listed: None,
            split,
            events,
            produced,
            prefix,
            block: split.worker() as u64,
            position: 0,
        }
    }

    /// The sampler of a worker whose sampled events are at these output positions (in order).
    pub(crate) fn listed(positions: Vec<u64>) -> Self {
        let mut sampler = Self::new(WorkerSplit::SINGLE, 0, None);
        sampler.listed = Some(positions.into_iter());
        sampler
    }

    /// Produced ids in `0..x`.
    fn produced_below(&self, x: u64) -> u64 {
        (x / CYCLE) * self.prefix[CYCLE as usize] + self.prefix[(x % CYCLE) as usize]
    }

    /// The output position of the next sampled event, `None` after the last.
    pub(crate) fn next_position(&mut self) -> Option<u64> {
        if let Some(listed) = &mut self.listed {
            return listed.next();
        }
        loop {
            let first = self.block.checked_mul(BLOCK)?;
            if first >= self.events {
                return None;
            }
            let end = first.saturating_add(BLOCK).min(self.events);
            let position = self.position;
            self.position += self.produced_below(end) - self.produced_below(first);
            self.block += self.split.workers() as u64;
            if self.produced[(first % CYCLE) as usize] {
                return Some(position);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nexmark::{BidSplit, NexmarkConfig, NexmarkSplit};
    use crate::split::Split;

    /// The sampler's positions are exactly where the split emits the ids `id % 1024 == 0`.
    #[test]
    fn positions_are_the_sampled_ids() {
        let config = NexmarkConfig::with_events(20_000);
        for workers in [1, 3] {
            for worker in 0..workers {
                let split = WorkerSplit::new(worker, workers).expect("valid split");
                // All kinds: the generator's events carry their ids through the timestamp
                // order, so compare with the ids the split owns.
                let owned: Vec<u64> = (0..config.events).filter(|&i| split.owns(i)).collect();
                let mut all = NexmarkSplit::new(&config, split).expect("valid config");
                let mut out = Vec::new();
                while all.fill(&mut out, 4096) {}
                assert_eq!(out.len(), owned.len());
                let expected: Vec<u64> = owned
                    .iter()
                    .enumerate()
                    .filter(|&(_, id)| id % BLOCK == 0)
                    .map(|(p, _)| p as u64)
                    .collect();
                assert_eq!(positions(split, config.events, None), expected);
                // Bids only.
                let bids: Vec<u64> = owned.iter().copied().filter(|i| i % 50 >= 4).collect();
                let mut only = BidSplit::new(&config, split).expect("valid config");
                let mut out = Vec::new();
                while only.fill(&mut out, 4096) {}
                assert_eq!(out.len(), bids.len());
                let expected: Vec<u64> = bids
                    .iter()
                    .enumerate()
                    .filter(|&(_, id)| id % BLOCK == 0)
                    .map(|(p, _)| p as u64)
                    .collect();
                assert!(!expected.is_empty());
                assert_eq!(
                    positions(split, config.events, Some(&[EventKind::Bid])),
                    expected
                );
            }
        }
    }

    fn positions(split: WorkerSplit, events: u64, kinds: Option<&[EventKind]>) -> Vec<u64> {
        let mut s = Sampler::new(split, events, kinds);
        std::iter::from_fn(|| s.next_position()).collect()
    }
}
