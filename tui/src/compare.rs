//! `weir compare`: runs engines side by side on the same input and says, honestly, which is
//! faster and by how much.
//!
//! # Method (BENCHMARKING.md)
//!
//! For each query: one warm-up run per engine (its digest is checked, its speed is not
//! reported), then `runs` *rounds*; a round runs every engine once, always in the order given
//! on the command line (A B C A B C ...), so drift of a shared machine hits all engines alike.
//! Ratios are computed pair by pair *within* a round, then summarised by their median and
//! min-max over the rounds ([`stats`]). Every run's digest is compared with every other run of
//! the same query; a disagreement fails the comparison.
//!
//! # Shape
//!
//! The loop ([`run_compare`]) knows nothing of engines or terminals: an [`Executor`] turns a
//! [`RunSpec`] into a [`RunReport`] (the real one, [`RunnerExecutor`], goes through
//! `weir_workloads::runner::start`; [`mock::MockExecutor`] returns fixed reports for tests),
//! an [`Observer`] shows progress (a live console, stderr lines, or nothing), and after every
//! run the whole record ([`record::CompareReport`]) is re-summarised and, when an output
//! directory is given, every export is rewritten atomically ([`export`]), so a later failure
//! loses nothing.

pub mod baseline;
pub mod export;
pub mod live;
pub mod mock;
pub mod plot;
pub mod progress;
pub mod record;
pub mod stats;
pub mod verdict;

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use weir_engine::MetricsSnapshot;
use weir_workloads::job::{
    EngineKind, EventFormat, RunError, RunLength, RunSpec, SourceMode, Workload,
};
use weir_workloads::report::RunReport;

use self::record::{CompareReport, FailureRecord, PlanRecord, RunSeries, WarmupRecord};

/// Whether a run (and the comparison) should go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Keep going.
    Continue,
    /// Stop the current run early and end the comparison (the user pressed `q` or Ctrl-C).
    Stop,
}

/// Runs one [`RunSpec`] to completion.
pub trait Executor {
    /// Runs `spec`, calling `progress` with live snapshots while it runs (about every 100 ms,
    /// and once more at the end). When `progress` returns [`Flow::Stop`] the run is asked to
    /// end its input early; it still returns its (partial) report.
    fn run(
        &mut self,
        spec: &RunSpec,
        progress: &mut dyn FnMut(&MetricsSnapshot) -> Flow,
    ) -> Result<RunReport, RunError>;
}

/// The real executor: starts the job with `weir_workloads::runner::start` and samples its
/// collector.
#[derive(Debug, Clone)]
pub struct RunnerExecutor {
    /// How often the collector is sampled for the live view and the throughput-over-time series.
    pub sample_interval: Duration,
}

impl Default for RunnerExecutor {
    fn default() -> Self {
        Self {
            sample_interval: Duration::from_millis(100),
        }
    }
}

impl Executor for RunnerExecutor {
    fn run(
        &mut self,
        spec: &RunSpec,
        progress: &mut dyn FnMut(&MetricsSnapshot) -> Flow,
    ) -> Result<RunReport, RunError> {
        let job = weir_workloads::runner::start(spec)?;
        let poll = self.sample_interval.min(Duration::from_millis(10));
        let mut next_sample = Instant::now() + self.sample_interval;
        let mut stopped = false;
        while !job.is_finished() {
            thread::sleep(poll);
            if Instant::now() >= next_sample {
                next_sample += self.sample_interval;
                if progress(&job.collector.latest()) == Flow::Stop && !stopped {
                    job.stop.raise();
                    stopped = true;
                }
            }
        }
        progress(&job.collector.latest());
        job.wait()
    }
}

/// What to compare.
#[derive(Clone, Debug, PartialEq)]
pub struct ComparePlan {
    /// The workload.
    pub workload: Workload,
    /// Queries, in order.
    pub queries: Vec<String>,
    /// Engines, in the order each round runs them.
    pub engines: Vec<EngineKind>,
    /// Measured runs (rounds) per engine and query.
    pub runs: usize,
    /// Whether each engine gets one unreported warm-up run per query first.
    pub warmup: bool,
    /// Workers for every engine.
    pub workers: usize,
    /// Pin worker *i* to core *i*.
    pub pinning: bool,
    /// Events per run (the same for every run, so digests are comparable).
    pub events: u64,
    /// Offered rate, events/s of wall time; `None` = as fast as possible.
    pub rate: Option<u64>,
    /// Events per second of event time.
    pub event_rate: u64,
    /// Source mode, the same for every engine.
    pub source: SourceMode,
    /// YSB's event format (`--format`), the same for every engine.
    pub format: EventFormat,
    /// The command line, recorded in every run and in the report.
    pub command: String,
    /// When the comparison started (RFC 3339, UTC).
    pub started_at: String,
    /// Where flink runs: a Flink cluster's REST address (`HOST:PORT`), or `None` for the local
    /// MiniCluster.
    pub flink_cluster: Option<String>,
}

impl ComparePlan {
    /// The spec of one run of `query` on `engine`.
    pub fn spec(&self, query: &str, engine: EngineKind) -> RunSpec {
        RunSpec {
            workload: self.workload,
            query: query.to_string(),
            engine,
            workers: self.workers,
            pinning: self.pinning,
            length: RunLength::Events(self.events),
            rate: self.rate,
            event_rate: self.event_rate,
            source: self.source,
            format: self.format,
            output: None,
            command: self.command.clone(),
            flink_cluster: self
                .flink_cluster
                .clone()
                .filter(|_| engine == EngineKind::Flink),
        }
    }

    /// Runs in the whole comparison, warm-ups included (for progress displays).
    pub fn total_runs(&self) -> usize {
        self.queries.len() * self.engines.len() * (self.runs + usize::from(self.warmup))
    }
}

/// Which run is going on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSlot {
    /// The query.
    pub query: String,
    /// The engine.
    pub engine: EngineKind,
    /// The round, from 1; `None` for the warm-up.
    pub round: Option<usize>,
    /// Position of this run in the whole comparison, from 1.
    pub index: usize,
    /// Runs planned in the whole comparison.
    pub total: usize,
}

impl RunSlot {
    /// "q5 weir round 2/5" or "q5 weir warm-up".
    pub fn label(&self, rounds: usize) -> String {
        match self.round {
            Some(r) => format!("{} {} round {r}/{rounds}", self.query, self.engine),
            None => format!("{} {} warm-up", self.query, self.engine),
        }
    }
}

/// Shows a comparison while it runs.
pub trait Observer {
    /// A run of `spec` is about to start.
    fn run_started(&mut self, _slot: &RunSlot, _spec: &RunSpec, _report: &CompareReport) {}
    /// A live snapshot of the current run; return [`Flow::Stop`] to end the comparison.
    fn snapshot(&mut self, _slot: &RunSlot, _snapshot: &MetricsSnapshot) -> Flow {
        Flow::Continue
    }
    /// A run ended; `report` already holds it (or its failure) and a fresh summary.
    fn run_finished(
        &mut self,
        _slot: &RunSlot,
        _result: Result<&RunReport, &str>,
        _report: &CompareReport,
    ) {
    }
}

/// An observer that shows nothing.
#[derive(Debug, Default)]
pub struct Quiet;

impl Observer for Quiet {}

/// Where the comparison writes its files, and what it compares against.
#[derive(Debug, Default)]
pub struct Outputs {
    /// Directory for `report.json`, `report.csv`, `report.md` and the plots.
    pub dir: Option<PathBuf>,
    /// An earlier `report.json` to compare with.
    pub baseline: Option<CompareReport>,
    /// Noise threshold for baseline changes, as a fraction (0.05 = 5 %).
    pub noise_threshold: f64,
}

/// Errors that end a comparison early.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// Writing an export failed.
    #[error("cannot write the comparison's files: {0}")]
    Export(#[from] export::ExportError),
}

/// Runs the whole comparison and returns its record (also when interrupted: then
/// `report.interrupted` is set).
///
/// # Errors
/// Only when an export cannot be written; engine failures are recorded in the report.
pub fn run_compare(
    plan: &ComparePlan,
    executor: &mut dyn Executor,
    observer: &mut dyn Observer,
    outputs: &Outputs,
) -> Result<CompareReport, CompareError> {
    let mut report = CompareReport::new(PlanRecord::from_plan(plan));
    let total = plan.total_runs();
    let mut index = 0;
    'queries: for query in &plan.queries {
        let mut active: Vec<EngineKind> = plan.engines.clone();
        let first_round = usize::from(!plan.warmup);
        for round in first_round..=plan.runs {
            for engine in active.clone() {
                index += 1;
                let slot = RunSlot {
                    query: query.clone(),
                    engine,
                    round: (round > 0).then_some(round),
                    index,
                    total,
                };
                let spec = plan.spec(query, engine);
                observer.run_started(&slot, &spec, &report);
                let mut series = Vec::new();
                let mut stop = false;
                let result = executor.run(&spec, &mut |snap| {
                    let point = (snap.elapsed_ns as f64 / 1e9, snap.events_in());
                    if series.last() != Some(&point) && snap.elapsed_ns > 0 {
                        series.push(point);
                    }
                    let flow = observer.snapshot(&slot, snap);
                    stop |= flow == Flow::Stop;
                    flow
                });
                if stop {
                    report.interrupted = true;
                    report.failures.push(FailureRecord::new(
                        &slot,
                        "interrupted",
                        "stopped by the user before the run ended; not counted",
                    ));
                    report.refresh(outputs.baseline.as_ref(), outputs.noise_threshold);
                    observer.run_finished(&slot, Err("interrupted"), &report);
                    write_exports(&report, outputs)?;
                    break 'queries;
                }
                let message = match &result {
                    Ok(run) => {
                        match slot.round {
                            Some(round) => {
                                report.runs.push(run.clone());
                                report.series.push(RunSeries {
                                    engine: engine.to_string(),
                                    query: query.clone(),
                                    round,
                                    order: index,
                                    samples: series,
                                });
                            }
                            None => report.warmups.push(WarmupRecord::from_run(run)),
                        }
                        None
                    }
                    Err(e) => {
                        active.retain(|&a| a != engine);
                        let kind = match e {
                            RunError::Config(_) => "unsupported",
                            _ => "failed",
                        };
                        report
                            .failures
                            .push(FailureRecord::new(&slot, kind, &e.to_string()));
                        Some(e.to_string())
                    }
                };
                report.refresh(outputs.baseline.as_ref(), outputs.noise_threshold);
                observer.run_finished(
                    &slot,
                    result
                        .as_ref()
                        .map_err(|_| message.as_deref().unwrap_or("")),
                    &report,
                );
                write_exports(&report, outputs)?;
            }
        }
    }
    Ok(report)
}

fn write_exports(report: &CompareReport, outputs: &Outputs) -> Result<(), CompareError> {
    if let Some(dir) = &outputs.dir {
        export::write_all(report, dir)?;
    }
    Ok(())
}

/// The current time as RFC 3339 UTC (`2026-11-24T20:53:35Z`).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Formats Unix seconds as RFC 3339 UTC (proleptic Gregorian calendar).
pub fn rfc3339(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let rem = unix_s % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_436_918_400), "2015-07-15T00:00:00Z");
        assert_eq!(rfc3339(1_795_553_615), "2026-11-24T20:53:35Z");
    }
}
