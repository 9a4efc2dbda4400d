//! The weir engine behind the runner: [`start`] runs a Nexmark or YSB query on
//! `weir_engine::execute` and returns the [`RunReport`] of DESIGN.md.
//!
//! **Clock.** `startup_s` runs from the call to `execute` (thread spawn, dataflow build) to the
//! first poll of any source; `wall_s` from that first poll to the last result reaching its sink
//! (`execute` returning). In `replay` mode the events are generated into per-worker memory
//! before either clock starts.
//!
//! **Queries.** `q0 q1 q2 q3 q4 q5 q7 q8 q11 q12` (Nexmark), `ysb` (YSB), and `gen` for both
//! workloads: the generator-only baseline of BENCHMARKING.md (source -> a sink that only
//! counts; no exchange, no operator, empty digest). Nexmark also has `gen-bids`, the baseline
//! of the bid-only queries (q0-q2, q5, q7, q11, q12), whose source is the bid generator.
//!
//! **Latency.** Window results carry the stamp of the watermark that fired them (the
//! engine's). The un-windowed queries q0-q3 read a `StampedSource`: events with
//! `id % 1024 == 0` carry their ingestion time to the sink, which records sink time minus it.
//!
//! **YSB format.** `--format json` makes the YSB source hand over JSON lines that the query
//! parses (`weir/ysb.rs`); Nexmark has records only.
//!
//! **Events.** The report's `events` is the input size (`--events N`) when the input ran to
//! its end; a run ended early (`--duration`, stop) reports the records its sources produced
//! (for bid-only queries, whose generator skips persons and auctions without producing them,
//! that is the bids).

mod nexmark;
mod sink;
mod source;
mod ysb;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use weir_engine::{Collector, Config, Stream, Worker, execute};

use crate::catalog::{EngineKind, Query, Reads, Workload};
use crate::digest::Digest;
use crate::job::{
    EngineVersions, EventFormat, Job, Outcome, Result, RunError, RunLength, RunSpec, SourceMode,
    StopSignal,
};
use crate::nexmark::{Bid, BidSplit, Event, EventKind, NexmarkConfig, NexmarkSplit};
use crate::report::{LatencySummary, WorkerReport};
use crate::runner::Engine;
use crate::split::{Split, WorkerSplit};
use crate::ysb::{YsbConfig, YsbEvent, YsbSplit};
use sink::{OutputFile, ResultSink};
use source::{EventSource, Input, Sampler, SourceSettings, Stamped, StampedSource};
use ysb::{JsonChunks, JsonLine, JsonSplit, ParseErrors};

/// The exchange latency budget of paced (`--rate`) runs.
pub const PACED_LATENCY_BUDGET: Duration = Duration::from_micros(100);

/// Pre-generated replay input of one worker.
#[derive(Debug)]
enum ReplayData {
    Events(Vec<Event>),
    Bids(Vec<Bid>),
    Ysb(Vec<YsbEvent>),
    YsbJson(JsonChunks),
}

/// What every worker's build closure shares.
#[derive(Debug)]
pub(crate) struct Shared {
    query: Query,
    /// YSB sources hand over JSON lines (`--format json`).
    json: bool,
    nexmark: NexmarkConfig,
    ysb: YsbConfig,
    settings: SourceSettings,
    replay: Mutex<Vec<Option<ReplayData>>>,
    digests: Vec<Arc<Mutex<Digest>>>,
    output: Option<Arc<OutputFile>>,
    /// The job clock's zero, taken from worker 0.
    epoch: OnceLock<Instant>,
    /// JSON lines that did not parse (`--format json`).
    parse_errors: Arc<ParseErrors>,
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

    fn source<S>(&self, worker: &mut Worker, input: Input<S>) -> Stream<S::Event>
    where
        S: Split + 'static,
        S::Event: crate::split::Timestamped + Clone + 'static,
    {
        worker.source(EventSource::new(input, self.settings.clone()))
    }

    fn bid_input(&self, worker: &Worker) -> Input<BidSplit> {
        match self.take_replay(worker) {
            Some(ReplayData::Bids(bids)) => Input::Replay(bids),
            _ => Input::Generate(
                BidSplit::new(&self.nexmark, Self::split(worker))
                    .expect("the configuration was validated before the job started"),
            ),
        }
    }

    fn event_input(&self, worker: &Worker, kinds: &'static [EventKind]) -> Input<NexmarkSplit> {
        if let Some(ReplayData::Events(events)) = self.take_replay(worker) {
            Input::Replay(events)
        } else {
            let split = NexmarkSplit::new(&self.nexmark, Self::split(worker))
                .expect("the configuration was validated before the job started");
            Input::Generate(split.only(kinds))
        }
    }

    /// A source over `input` whose events with sampled ids (those `keep` keeps) carry their
    /// ingestion time.
    fn stamped<S>(
        &self,
        worker: &mut Worker,
        input: Input<S>,
        keep: impl Fn(u64) -> bool,
    ) -> Stream<Stamped<S::Event>>
    where
        S: Split + 'static,
        S::Event: crate::split::Timestamped + Clone + 'static,
    {
        let sampler = Sampler::new(Self::split(worker), self.nexmark.events, keep);
        let source = EventSource::new(input, self.settings.clone());
        let clock = worker.clock();
        worker.source(StampedSource::new(source, sampler, clock))
    }

    /// This worker's bids (the bid generator: persons and auctions are skipped).
    pub(crate) fn bids(&self, worker: &mut Worker) -> Stream<Bid> {
        let input = self.bid_input(worker);
        self.source::<BidSplit>(worker, input)
    }

    /// [`Shared::bids`] with latency samples.
    pub(crate) fn sampled_bids(&self, worker: &mut Worker) -> Stream<Stamped<Bid>> {
        let input = self.bid_input(worker);
        self.stamped(worker, input, |id| EventKind::of_id(id) == EventKind::Bid)
    }

    /// This worker's events of `kinds`.
    pub(crate) fn events(&self, worker: &mut Worker, kinds: &'static [EventKind]) -> Stream<Event> {
        let input = self.event_input(worker, kinds);
        self.source::<NexmarkSplit>(worker, input)
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
        self.source::<YsbSplit>(worker, input)
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
        self.source::<JsonSplit>(worker, input)
    }

    /// Worker `index`'s result sink.
    pub(crate) fn sink(&self, index: usize) -> ResultSink {
        ResultSink {
            digest: Arc::clone(&self.digests[index]),
            output: self.output.clone(),
        }
    }
}

/// weir-engine behind the runner's [`Engine`] interface.
#[derive(Debug, Clone, Copy)]
pub struct WeirEngine;

impl Engine for WeirEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Weir
    }

    fn version(&self) -> String {
        env!("CARGO_PKG_VERSION").to_string()
    }

    /// # Errors
    /// [`RunError::Io`] when `--output` cannot be created; [`RunError::Failed`] when the driver
    /// thread cannot start. The runner has checked the spec.
    fn start(&self, spec: &RunSpec) -> Result<Job> {
        let output = spec
            .output
            .as_deref()
            .map(OutputFile::create)
            .transpose()?
            .map(Arc::new);
        let collector = Collector::new();
        let stop = StopSignal::new();
        let (c, s, owned) = (collector.clone(), stop.clone(), spec.clone());
        let handle = thread::Builder::new()
            .name("weir-driver".into())
            .spawn(move || drive(&owned, output, &c, &s))
            .map_err(|e| RunError::Failed(format!("cannot start the weir driver thread: {e}")))?;
        Ok(Job::new(spec, collector, stop, handle))
    }
}

/// Generates every worker's replay input (one thread per worker), before the clock starts.
fn pregenerate(
    query: Query,
    json: bool,
    nexmark: &NexmarkConfig,
    ysb: &YsbConfig,
    workers: usize,
) -> Vec<Option<ReplayData>> {
    fn all<S: Split>(mut split: S) -> Vec<S::Event> {
        let mut out = Vec::new();
        while split.fill(&mut out, 1 << 16) {}
        out
    }
    thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || {
                    let split = WorkerSplit::new(w, workers).expect("w < workers");
                    let valid = "the configuration was validated before the job started";
                    match query.def().reads {
                        Reads::YsbEvents if json => ReplayData::YsbJson(JsonChunks::generate(
                            YsbSplit::new(ysb, split).expect(valid),
                        )),
                        Reads::YsbEvents => {
                            ReplayData::Ysb(all(YsbSplit::new(ysb, split).expect(valid)))
                        }
                        Reads::Bids => {
                            ReplayData::Bids(all(BidSplit::new(nexmark, split).expect(valid)))
                        }
                        reads => ReplayData::Events(all(NexmarkSplit::new(nexmark, split)
                            .expect(valid)
                            .only(reads.kinds()))),
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                Some(
                    h.join()
                        .expect("generation does not panic on a validated config"),
                )
            })
            .collect()
    })
}

fn drive(
    spec: &RunSpec,
    output: Option<Arc<OutputFile>>,
    collector: &Collector,
    stop: &StopSignal,
) -> Result<Outcome> {
    let query = spec.query;
    let nexmark = spec.nexmark_config()?;
    let ysb = spec.ysb_config()?;
    let workers = spec.workers;
    let json = spec.format == EventFormat::Json;
    let replay = if spec.source == SourceMode::Replay {
        pregenerate(query, json, &nexmark, &ysb, workers)
    } else {
        (0..workers).map(|_| None).collect()
    };
    let (base_time_ms, out_of_orderness_ms) = match query.workload() {
        Workload::Nexmark => (nexmark.base_time_ms, nexmark.out_of_orderness_ms),
        Workload::Ysb => (ysb.base_time_ms, ysb.out_of_orderness_ms),
    };
    let start_ns = Arc::new(AtomicU64::new(u64::MAX));
    let shared = Shared {
        query,
        json,
        nexmark,
        ysb,
        settings: SourceSettings {
            base_time_ms,
            out_of_orderness_ms,
            paced: spec.rate.is_some(),
            duration_ns: match spec.length {
                RunLength::Events(_) => None,
                RunLength::Duration(d) => Some(d.as_nanos().min(u128::from(u64::MAX)) as u64),
            },
            stop: stop.clone(),
            start_ns: Arc::clone(&start_ns),
        },
        replay: Mutex::new(replay),
        digests: (0..workers)
            .map(|_| Arc::new(Mutex::new(Digest::new())))
            .collect(),
        output,
        epoch: OnceLock::new(),
        parse_errors: Arc::default(),
    };
    if let RunLength::Events(n) = spec.length {
        collector.update(|s| s.events_total = Some(n));
    }
    let mut config = Config::new(workers)
        .with_pinning(spec.pinning)
        .with_collector(collector.clone());
    if spec.rate.is_some() {
        // A paced run measures latency: partial batches and watermarks wait in an exchange at
        // most this long (the default 1 ms budget alone would be the whole latency goal).
        config = config.with_latency_budget(PACED_LATENCY_BUDGET);
    }
    let launched = Instant::now();
    execute(config, |worker| {
        if worker.index() == 0 {
            let _ = shared.epoch.set(worker.clock().epoch());
        }
        match shared.query.workload() {
            Workload::Nexmark => nexmark::build(shared.query, worker, &shared),
            Workload::Ysb => ysb::build(shared.query.is_baseline(), shared.json, worker, &shared),
        }
    })
    .map_err(|e| RunError::Failed(format!("weir job failed: {e}")))?;
    let finished = Instant::now();
    if let Some(output) = &shared.output {
        output.finish()?;
    }
    if let Some((count, first)) = shared.parse_errors.summary() {
        return Err(RunError::Failed(format!(
            "{count} YSB JSON line(s) did not parse, so their events are missing from the \
             result; the first: {first}"
        )));
    }
    let first = start_ns.load(std::sync::atomic::Ordering::Acquire);
    let started = match shared.epoch.get() {
        Some(epoch) if first != u64::MAX => *epoch + Duration::from_nanos(first),
        _ => finished,
    };
    let startup_s = started.saturating_duration_since(launched).as_secs_f64();
    let wall_s = finished
        .saturating_duration_since(started)
        .as_secs_f64()
        .max(1e-9);
    let snapshot = collector.latest();
    let ran_to_end = !stop.is_raised() && matches!(spec.length, RunLength::Events(_));
    let mut digest = Digest::new();
    for d in &shared.digests {
        digest.merge(&d.lock().unwrap_or_else(PoisonError::into_inner));
    }
    if digest.rows() < 0 {
        return Err(RunError::Failed(
            "the result digest has a negative row count (a retraction without its row)".into(),
        ));
    }
    let secs = |ns: u64| ns as f64 / 1e9;
    Ok(Outcome {
        events: spec.events_processed(ran_to_end, snapshot.events_in()),
        startup_s,
        wall_s,
        latency: snapshot
            .latency_ns
            .as_ref()
            .and_then(LatencySummary::from_histogram),
        digest: digest.summary(),
        late: snapshot.late(),
        dropped: snapshot.dropped(),
        per_worker: snapshot
            .workers
            .iter()
            .map(|w| WorkerReport {
                busy_s: secs(w.busy_ns),
                idle_s: secs(w.idle_ns),
                backpressured_s: secs(w.backpressured_ns),
                records: w.events_in,
            })
            .collect(),
        total_workers: None,
        pinned: spec.pinning,
        versions: EngineVersions::default(),
    })
}
