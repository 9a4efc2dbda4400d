//! The weir engine behind the runner: `start` runs a Nexmark or YSB query on
//! `weir_engine::execute` and returns its [`RunReport`](crate::report::RunReport) (docs/BENCHMARKING.md, section 6).
//!
//! **Clock.** `startup_s` runs from the call to `execute` (thread spawn, dataflow build) to the
//! first poll of any source; `wall_s` from that first poll to the last result reaching its sink
//! (`execute` returning). In `replay` mode the events are generated into per-worker memory
//! before either clock starts.
//!
//! **Queries.** `q0 q1 q2 q3 q4 q5 q7 q8 q10 q11 q12 q13 q14 q20 q21 q22` (Nexmark), `ysb` (YSB), and `gen` for both
//! workloads: the generator-only baseline (docs/BENCHMARKING.md, section 3) (source -> a sink that only
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
//! **Input files.** With `--input FILE` the sources replay the file's events (the first
//! `--events N`), split among the workers by the generator's rule before the clock starts
//! (`crate::inputs::EventFile`); latency samples are the events with `id % 1024 == 0`.
//!
//! **Events.** The report's `events` is the input size (`--events N`) when the input ran to
//! its end; a run ended early (`--duration`, stop) reports the records its sources produced
//! (for bid-only queries, whose generator skips persons and auctions without producing them,
//! that is the bids).

mod json;
mod nexmark;
mod shared;
mod sink;
mod source;
mod suite_joins;
mod updating;
mod ysb;

pub use suite_joins::fresh_sink_dir;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use weir_engine::{Collector, Config, EngineError, execute};

use crate::catalog::{EngineKind, Query, Reads, Workload};
use crate::digest::Digest;
use crate::inputs::EventFile;
use crate::job::{
    Engine, EngineCpu, EngineVersions, EventFormat, Job, Outcome, Result, RunError, RunLength,
    RunSpec, SourceMode, StopSignal,
};
use crate::nexmark::{BidSplit, NexmarkConfig, NexmarkSplit};
use crate::report::{LatencySummary, WorkerReport};

use crate::split::{Split, WorkerSplit};
use crate::ysb::{YsbConfig, YsbSplit};
use json::JsonChunks;
use shared::{ReplayData, Shared};
use sink::{OutputFile, RunFailure};
use source::SourceSettings;
use suite_joins::QueryFiles;

/// The exchange latency budget of paced (`--rate`) runs.
pub const PACED_LATENCY_BUDGET: Duration = Duration::from_micros(100);

/// How far (ms of event time) one worker's share of the input may run ahead of the slowest
/// worker's ([`Config::source_alignment`]; or the engine's default four polls, when a poll
/// spans more event time, as on a sparse `--event-rate`): each key's rows, which come from
/// every worker's share, then reach their owner close together (docs/ARCHITECTURE.md,
/// "Source alignment").
pub const SOURCE_DRIFT_MS: i64 = 1;

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

    /// Refuses, before anything starts, a worker count whose memory the machine lacks.
    fn check(&self, spec: &RunSpec) -> Result<()> {
        Config::new(spec.workers)
            .check_memory()
            .map_err(|e| match e {
                EngineError::Config { message, .. } => {
                    RunError::Config(format!("--workers: {message}"))
                }
                other => RunError::Config(other.to_string()),
            })
    }

    /// # Errors
    /// [`RunError::Io`] when `--output` cannot be created; [`RunError::Failed`] when the driver
    /// thread cannot start. The runner has checked the spec.
    fn start(&self, spec: &RunSpec) -> Result<Job> {
        // Read before the job starts, so that a bad file is a flag error (the runner has read
        // it once already: this is the process-wide parsed copy).
        let file = spec
            .input
            .as_deref()
            .map(EventFile::load)
            .transpose()
            .map_err(|e| RunError::Config(format!("--input {e}")))?;
        let files = QueryFiles::prepare(spec)?;
        let output = spec
            .output
            .as_deref()
            .map(|path| OutputFile::create(path, spec.changelog))
            .transpose()?
            .map(Arc::new);
        let collector = Collector::new();
        let stop = StopSignal::new();
        let (c, s, owned) = (collector.clone(), stop.clone(), spec.clone());
        let handle = thread::Builder::new()
            .name("weir-driver".into())
            .spawn(move || drive(&owned, file, &files, output, &c, &s))
            .map_err(|e| RunError::Failed(format!("cannot start the weir driver thread: {e}")))?;
        Ok(Job::new(spec, collector, stop, handle))
    }
}

/// Every worker's share of an `--input` file (its first `events` events), before the clock
/// starts.
fn from_file(
    query: Query,
    file: &EventFile,
    events: u64,
    workers: usize,
) -> Vec<Option<ReplayData>> {
    (0..workers)
        .map(|w| {
            let split = WorkerSplit::new(w, workers).expect("w < workers");
            Some(match query.def().reads {
                Reads::Bids => ReplayData::FileBids(file.worker_bids(events, split)),
                reads => ReplayData::FileEvents(file.worker_events(events, split, reads.kinds())),
            })
        })
        .collect()
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
    file: Option<&'static EventFile>,
    files: &QueryFiles,
    output: Option<Arc<OutputFile>>,
    collector: &Collector,
    stop: &StopSignal,
) -> Result<Outcome> {
    let query = spec.query;
    let nexmark = spec.nexmark_config()?;
    let ysb = spec.ysb_config()?;
    let workers = spec.workers;
    let json = spec.format == EventFormat::Json;
    let replay = if let Some(file) = file {
        from_file(query, file, nexmark.events, workers)
    } else if spec.source == SourceMode::Replay {
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
        side_table: files.side_table.clone(),
        file_sink: files.file_sink.clone(),
        failure: RunFailure::default(),
    };
    if let RunLength::Events(n) = spec.length {
        collector.update(|s| s.events_total = Some(n));
    }
    let mut config = Config::new(workers)
        .with_pinning(spec.pinning)
        .with_collector(collector.clone())
        .with_source_alignment(SOURCE_DRIFT_MS);
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
    files.finish()?;
    if let Some(output) = &shared.output {
        output.finish()?;
    }
    if let Some(failure) = shared.failure.take() {
        return Err(RunError::Failed(failure));
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
        end_of_input_latency: snapshot
            .end_of_input_latency_ns
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
                held_s: secs(w.held_ns),
                records: w.events_in,
            })
            .collect(),
        total_workers: None,
        pinned: spec.pinning,
        cpu: EngineCpu::InProcess,
        versions: EngineVersions::default(),
    })
}
