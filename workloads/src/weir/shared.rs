//! What every worker's build closure shares in a weir run ([`Shared`]): the query, the
//! generator configurations, the source settings, each worker's replay input (taken once by
//! its worker), the per-worker digests and the `--output` file. Its methods build a worker's
//! source of the kind a query reads and its result sink.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use weir_engine::file_sink::PartitionedFileSink;
use weir_engine::joins::LookupTable;
use weir_engine::{Stream, Worker};

use super::json::{JsonChunks, JsonLine, JsonSplit, ParseErrors};
use super::sink::{OutputFile, ResultSink, RunFailure};
use super::source::{EventSource, Input, Sampler, SourceSettings, Stamped, StampedSource};
use crate::catalog::Query;
use crate::digest::Digest;
use crate::inputs::WorkerInput;
use crate::nexmark::{Bid, BidSplit, Event, EventKind, NexmarkConfig, NexmarkSplit};
use crate::split::{InputIds, Split, WorkerSplit};
use crate::ysb::{YsbConfig, YsbEvent, YsbSplit};

/// Pre-generated replay input of one worker.
#[derive(Debug)]
pub(crate) enum ReplayData {
    Events(Vec<Event>),
    Bids(Vec<Bid>),
    Ysb(Vec<YsbEvent>),
    YsbJson(JsonChunks),
    /// The worker's share of an `--input` file, with its sampled positions.
    FileEvents(WorkerInput<Event>),
    /// The worker's bids of an `--input` file, with their sampled positions.
    FileBids(WorkerInput<Bid>),
}

/// What every worker's build closure shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) query: Query,
    /// YSB sources hand over JSON lines (`--format json`).
    pub(crate) json: bool,
    pub(crate) nexmark: NexmarkConfig,
    pub(crate) ysb: YsbConfig,
    pub(crate) settings: SourceSettings,
    pub(crate) replay: Mutex<Vec<Option<ReplayData>>>,
    pub(crate) digests: Vec<Arc<Mutex<Digest>>>,
    pub(crate) output: Option<Arc<OutputFile>>,
    /// The job clock's zero, taken from worker 0.
    pub(crate) epoch: OnceLock<Instant>,
    /// JSON lines that did not parse (`--format json`).
    pub(crate) parse_errors: Arc<ParseErrors>,
    /// q13's side table, loaded before the job (q13 only).
    pub(crate) side_table: Option<Arc<LookupTable<u64, &'static str>>>,
    /// q10's partitioned file sink, its directory checked before the job (q10 only).
    pub(crate) file_sink: Option<PartitionedFileSink>,
    /// A failure a worker found (q17's sum beyond 64 bits); fails the run at its end.
    pub(crate) failure: RunFailure,
}

impl Shared {
    fn split(worker: &Worker) -> WorkerSplit {
        WorkerSplit::new(worker.index(), worker.peers())
            .expect("the engine numbers workers 0..peers")
    }

    fn take_replay(&self, worker: &Worker) -> Option<ReplayData> {
        let mut replay = self.replay.lock().unwrap_or_else(PoisonError::into_inner);
        replay.get_mut(worker.index()).and_then(Option::take)
    }

    fn source<S>(&self, worker: &mut Worker, input: Input<S>, ids: InputIds) -> Stream<S::Event>
    where
        S: Split + 'static,
        S::Event: crate::split::Timestamped + Clone + 'static,
    {
        worker.source(EventSource::new(input, self.settings.clone(), ids))
    }

    /// Counts the Nexmark ids a source of `kinds` consumes.
    fn nexmark_ids(&self, worker: &Worker, kinds: &'static [EventKind]) -> InputIds {
        InputIds::new(Self::split(worker), self.nexmark.events, |r| {
            kinds.contains(&EventKind::of_id(r))
        })
    }

    /// Counts the YSB ids a source consumes (it emits every one).
    fn ysb_ids(&self, worker: &Worker) -> InputIds {
        InputIds::every(Self::split(worker), self.ysb.events)
    }

    /// The worker's bids, and the sampled positions when they come from a file.
    fn bid_input(&self, worker: &Worker) -> (Input<BidSplit>, Option<Vec<u64>>) {
        match self.take_replay(worker) {
            Some(ReplayData::Bids(bids)) => (Input::Replay(bids), None),
            Some(ReplayData::FileBids(share)) => (Input::Replay(share.events), Some(share.sampled)),
            _ => (
                Input::Generate(
                    BidSplit::new(&self.nexmark, Self::split(worker))
                        .expect("the configuration was validated before the job started"),
                ),
                None,
            ),
        }
    }

    /// The worker's events of `kinds`, and the sampled positions when they come from a file.
    fn event_input(
        &self,
        worker: &Worker,
        kinds: &'static [EventKind],
    ) -> (Input<NexmarkSplit>, Option<Vec<u64>>) {
        match self.take_replay(worker) {
            Some(ReplayData::Events(events)) => (Input::Replay(events), None),
            Some(ReplayData::FileEvents(share)) => {
                (Input::Replay(share.events), Some(share.sampled))
            }
            _ => {
                let split = NexmarkSplit::new(&self.nexmark, Self::split(worker))
                    .expect("the configuration was validated before the job started");
                (Input::Generate(split.only(kinds)), None)
            }
        }
    }

    /// A source over `input` whose events with sampled ids carry their ingestion time: the
    /// positions `listed` (a file's share), else those of the ids `keep` keeps.
    fn stamped<S>(
        &self,
        worker: &mut Worker,
        (input, listed): (Input<S>, Option<Vec<u64>>),
        keep: impl Fn(u64) -> bool,
    ) -> Stream<Stamped<S::Event>>
    where
        S: Split + 'static,
        S::Event: crate::split::Timestamped + Clone + 'static,
    {
        // A file's kinds need not follow the generator's pattern: its counts mid-run are then
        // approximate, its total (every owned id once the input ends) exact.
        let ids = InputIds::new(Self::split(worker), self.nexmark.events, &keep);
        let sampler = match listed {
            Some(positions) => Sampler::listed(positions),
            None => Sampler::new(Self::split(worker), self.nexmark.events, &keep),
        };
        let source = EventSource::new(input, self.settings.clone(), ids);
        let clock = worker.clock();
        worker.source(StampedSource::new(source, sampler, clock))
    }

    /// This worker's bids (the bid generator: persons and auctions are skipped).
    pub(crate) fn bids(&self, worker: &mut Worker) -> Stream<Bid> {
        let (input, _) = self.bid_input(worker);
        let ids = self.nexmark_ids(worker, &[EventKind::Bid]);
        self.source::<BidSplit>(worker, input, ids)
    }

    /// [`Shared::bids`] with latency samples.
    pub(crate) fn sampled_bids(&self, worker: &mut Worker) -> Stream<Stamped<Bid>> {
        let input = self.bid_input(worker);
        self.stamped(worker, input, |id| EventKind::of_id(id) == EventKind::Bid)
    }

    /// This worker's events of `kinds`.
    pub(crate) fn events(&self, worker: &mut Worker, kinds: &'static [EventKind]) -> Stream<Event> {
        let (input, _) = self.event_input(worker, kinds);
        let ids = self.nexmark_ids(worker, kinds);
        self.source::<NexmarkSplit>(worker, input, ids)
    }

    /// [`Shared::events`] of `kinds` with latency samples.
    pub(crate) fn sampled_events(
        &self,
        worker: &mut Worker,
        kinds: &'static [EventKind],
    ) -> Stream<Stamped<Event>> {
        let input = self.event_input(worker, kinds);
        self.stamped(worker, input, |id| kinds.contains(&EventKind::of_id(id)))
    }

    /// This worker's YSB events.
    pub(crate) fn ysb(&self, worker: &mut Worker) -> Stream<YsbEvent> {
        let input = match self.take_replay(worker) {
            Some(ReplayData::Ysb(events)) => Input::Replay(events),
            _ => Input::Generate(
                YsbSplit::new(&self.ysb, Self::split(worker))
                    .expect("the configuration was validated before the job started"),
            ),
        };
        let ids = self.ysb_ids(worker);
        self.source::<YsbSplit>(worker, input, ids)
    }

    /// This worker's YSB events as JSON lines.
    pub(crate) fn ysb_json(&self, worker: &mut Worker) -> Stream<JsonLine> {
        let input = match self.take_replay(worker) {
            Some(ReplayData::YsbJson(chunks)) => Input::Replay(chunks.into_lines()),
            _ => Input::Generate(JsonSplit::new(
                YsbSplit::new(&self.ysb, Self::split(worker))
                    .expect("the configuration was validated before the job started"),
            )),
        };
        let ids = self.ysb_ids(worker);
        self.source::<JsonSplit>(worker, input, ids)
    }

    /// Worker `index`'s result sink.
    pub(crate) fn sink(&self, index: usize) -> ResultSink {
        ResultSink {
            digest: Arc::clone(&self.digests[index]),
            output: self.output.clone(),
        }
    }
}
