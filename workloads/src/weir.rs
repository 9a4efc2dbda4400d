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

use crate::digest::Digest;
use crate::job::{
    EventFormat, Job, Result, RunError, RunLength, RunSpec, SourceMode, StopSignal, Workload,
};
use crate::nexmark::{Bid, BidSplit, Event, EventKind, NexmarkConfig, NexmarkSplit};
use crate::report::{LatencySummary, Machine, RunReport, Versions, WorkerReport};
use crate::split::{Split, WorkerSplit};
use crate::ysb::{YsbConfig, YsbEvent, YsbSplit};
use sink::{OutputFile, ResultSink};
use source::{EventSource, Input, Sampler, SourceSettings, Stamped, StampedSource};
use ysb::{JsonChunks, JsonLine, JsonSplit, ParseErrors};

/// The exchange latency budget of paced (`--rate`) runs.
pub const PACED_LATENCY_BUDGET: Duration = Duration::from_micros(100);

/// The queries weir runs, per workload (`gen` is the generator-only baseline).
pub const NEXMARK_QUERIES: &[&str] = &[
    "gen", "gen-bids", "q0", "q1", "q2", "q3", "q4", "q5", "q7", "q8", "q11", "q12",
];
/// The YSB queries weir runs.
pub const YSB_QUERIES: &[&str] = &["gen", "ysb"];

/// A Nexmark query (or the baseline).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Query {
    Gen,
    GenBids,
    Q0,
    Q1,
    Q2,
    Q3,
    Q4,
    Q5,
    Q7,
    Q8,
    Q11,
    Q12,
}

/// What a run builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    Nexmark(Query),
    /// YSB; `true` for the generator-only baseline.
    Ysb(bool),
}

impl Plan {
    fn parse(workload: Workload, query: &str) -> Result<Self> {
        let q = query.to_ascii_lowercase();
        let plan = match (workload, q.as_str()) {
            (Workload::Nexmark, "gen") => Plan::Nexmark(Query::Gen),
            (Workload::Nexmark, "gen-bids") => Plan::Nexmark(Query::GenBids),
            (Workload::Nexmark, "q0") => Plan::Nexmark(Query::Q0),
            (Workload::Nexmark, "q1") => Plan::Nexmark(Query::Q1),
            (Workload::Nexmark, "q2") => Plan::Nexmark(Query::Q2),
            (Workload::Nexmark, "q3") => Plan::Nexmark(Query::Q3),
            (Workload::Nexmark, "q4") => Plan::Nexmark(Query::Q4),
            (Workload::Nexmark, "q5") => Plan::Nexmark(Query::Q5),
            (Workload::Nexmark, "q7") => Plan::Nexmark(Query::Q7),
            (Workload::Nexmark, "q8") => Plan::Nexmark(Query::Q8),
            (Workload::Nexmark, "q11") => Plan::Nexmark(Query::Q11),
            (Workload::Nexmark, "q12") => Plan::Nexmark(Query::Q12),
            (Workload::Ysb, "gen") => Plan::Ysb(true),
            (Workload::Ysb, "ysb") => Plan::Ysb(false),
            _ => {
                let valid = match workload {
                    Workload::Nexmark => NEXMARK_QUERIES,
                    Workload::Ysb => YSB_QUERIES,
                };
                return Err(RunError::Config(format!(
                    "weir cannot run {workload} query '{query}' (--query); valid values: {}",
                    valid.join(", ")
                )));
            }
        };
        Ok(plan)
    }
}

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
    plan: Plan,
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

    fn event_input(
        &self,
        worker: &Worker,
        kinds: Option<&'static [EventKind]>,
    ) -> Input<NexmarkSplit> {
        if let Some(ReplayData::Events(events)) = self.take_replay(worker) {
            Input::Replay(events)
        } else {
            let split = NexmarkSplit::new(&self.nexmark, Self::split(worker))
                .expect("the configuration was validated before the job started");
            Input::Generate(match kinds {
                Some(kinds) => split.only(kinds),
                None => split,
            })
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

    /// This worker's events of `kinds` (all kinds for `None`).
    pub(crate) fn events(
        &self,
        worker: &mut Worker,
        kinds: Option<&'static [EventKind]>,
    ) -> Stream<Event> {
        let input = self.event_input(worker, kinds);
        self.source::<NexmarkSplit>(worker, input)
    }

    /// [`Shared::events`] of `kinds` with latency samples.
    pub(crate) fn sampled_events(
        &self,
        worker: &mut Worker,
        kinds: &'static [EventKind],
    ) -> Stream<Stamped<Event>> {
        let input = self.event_input(worker, Some(kinds));
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

/// Starts `spec` on weir-engine.
///
/// # Errors
/// [`RunError::Config`] for a query weir does not run, `--source replay` without `--events`,
/// a `--rate` that differs from `--event-rate`, or `--format json` for Nexmark; [`RunError::Io`] when `--output` cannot be
/// created; [`RunError::Failed`] when the driver thread cannot start.
pub fn start(spec: &RunSpec) -> Result<Job> {
    let plan = Plan::parse(spec.workload, &spec.query)?;
    check(spec)?;
    let output = spec
        .output
        .as_deref()
        .map(OutputFile::create)
        .transpose()?
        .map(Arc::new);
    let spec = spec.clone();
    let collector = Collector::new();
    let stop = StopSignal::new();
    let (c, s) = (collector.clone(), stop.clone());
    let handle = thread::Builder::new()
        .name("weir-driver".into())
        .spawn(move || drive(&spec, plan, output, &c, &s))
        .map_err(|e| RunError::Failed(format!("cannot start the weir driver thread: {e}")))?;
    Ok(Job::new(collector, stop, handle))
}

fn check(spec: &RunSpec) -> Result<()> {
    if spec.workers == 0 {
        return Err(RunError::Config("--workers must be at least 1".into()));
    }
    if spec.event_rate == 0 {
        return Err(RunError::Config(
            "--event-rate must be at least 1 event/s".into(),
        ));
    }
    if let Some(rate) = spec.rate {
        if rate == 0 {
            return Err(RunError::Config(
                "--rate must be at least 1 event/s (leave it out to run as fast as possible)"
                    .into(),
            ));
        }
        if rate != spec.event_rate {
            return Err(RunError::Config(format!(
                "--rate {rate} and --event-rate {} disagree: a paced run's event time follows \
                 the wall clock, so --event-rate must equal --rate",
                spec.event_rate
            )));
        }
    }
    if spec.source == SourceMode::Replay && matches!(spec.length, RunLength::Duration(_)) {
        return Err(RunError::Config(
            "--source replay pre-generates the input, so it needs --events N (not --duration)"
                .into(),
        ));
    }
    if let RunLength::Events(0) = spec.length {
        return Err(RunError::Config("--events must be at least 1".into()));
    }
    if spec.format == EventFormat::Json && spec.workload != Workload::Ysb {
        return Err(RunError::Config(format!(
            "--format json is for ysb only: {} events are in-memory records (leave --format out)",
            spec.workload
        )));
    }
    Ok(())
}

/// Generates every worker's replay input (one thread per worker), before the clock starts.
fn pregenerate(
    plan: Plan,
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
                    match plan {
                        Plan::Ysb(_) if json => ReplayData::YsbJson(JsonChunks::generate(
                            YsbSplit::new(ysb, split).expect(valid),
                        )),
                        Plan::Ysb(_) => {
                            ReplayData::Ysb(all(YsbSplit::new(ysb, split).expect(valid)))
                        }
                        Plan::Nexmark(q) => match nexmark::kinds(q) {
                            None => {
                                ReplayData::Bids(all(BidSplit::new(nexmark, split).expect(valid)))
                            }
                            Some(kinds) => {
                                ReplayData::Events(all(NexmarkSplit::new(nexmark, split)
                                    .expect(valid)
                                    .only(kinds)))
                            }
                        },
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
    plan: Plan,
    output: Option<Arc<OutputFile>>,
    collector: &Collector,
    stop: &StopSignal,
) -> Result<RunReport> {
    let events = match spec.length {
        RunLength::Events(n) => n,
        RunLength::Duration(_) => u64::MAX,
    };
    let nexmark = NexmarkConfig {
        events,
        event_rate: spec.event_rate,
        ..NexmarkConfig::default()
    };
    let ysb = YsbConfig {
        events,
        event_rate: spec.event_rate,
        ..YsbConfig::with_events(events)
    };
    let invalid = |e: crate::split::ConfigError| RunError::Config(e.to_string());
    nexmark.validate().map_err(invalid)?;
    ysb.validate().map_err(invalid)?;
    let workers = spec.workers;
    let json = spec.format == EventFormat::Json;
    let replay = if spec.source == SourceMode::Replay {
        pregenerate(plan, json, &nexmark, &ysb, workers)
    } else {
        (0..workers).map(|_| None).collect()
    };
    let (base_time_ms, out_of_orderness_ms) = match plan {
        Plan::Nexmark(_) => (nexmark.base_time_ms, nexmark.out_of_orderness_ms),
        Plan::Ysb(_) => (ysb.base_time_ms, ysb.out_of_orderness_ms),
    };
    let start_ns = Arc::new(AtomicU64::new(u64::MAX));
    let shared = Shared {
        plan,
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
        match shared.plan {
            Plan::Nexmark(q) => nexmark::build(q, worker, &shared),
            Plan::Ysb(gen_only) => ysb::build(gen_only, shared.json, worker, &shared),
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
    let events = if ran_to_end {
        events
    } else {
        snapshot.events_in()
    };
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
    Ok(RunReport {
        schema_version: crate::report::SCHEMA_VERSION,
        engine: spec.engine.to_string(),
        workload: spec.workload.to_string(),
        query: spec.query.to_ascii_lowercase(),
        workers,
        pinning: spec.pinning,
        source: spec.source.to_string(),
        events,
        rate: spec.rate,
        event_rate: spec.event_rate,
        startup_s,
        wall_s,
        throughput_eps: events as f64 / wall_s,
        latency_ns: snapshot
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
        machine: Machine::detect(),
        versions: Versions::weir(),
        command: spec.command.clone(),
    })
}
