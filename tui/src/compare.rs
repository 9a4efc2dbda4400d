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
//! run the whole record ([`record::CompareReport`]) is re-summarised ([`refresh`]) and, when an
//! output directory is given, every export is rewritten atomically ([`export`]), so a later
//! failure loses nothing.
//!
//! # Modules, lowest layer first
//!
//! A module imports from lower layers only (and inside a layer one way), never from a higher
//! one; `scripts/module-cycles.py tui` (run by `scripts/test.sh`) fails on any import cycle.
//!
//! 1. Base, importing nothing from the crate: [`fmt`] (number and label formatting, [`Style`]),
//!    [`plan`] ([`ComparePlan`], [`RunSlot`]), [`summary`] (the figures as data: `Spread`,
//!    `QuerySummary`, `Summary`, `BaselineSummary`, ...), [`files`] (`write_atomic`,
//!    `ExportError`).
//! 2. Data: [`record`] (`CompareReport`, the record of runs, warm-ups and failures).
//! 3. Computation, from a record: [`stats`] (the summary and its rules), [`baseline`] (the
//!    changes since an earlier report, and their block of text).
//! 4. Output: [`verdict`] (the text printed at the end), [`plot`] (SVG and PNG), then
//!    [`export`] (every file of `--out`, plots included).
//! 5. The loop, this file: [`Flow`], the [`Executor`] and [`Observer`] traits,
//!    [`RunnerExecutor`], [`Quiet`], [`run_compare`], [`refresh`]. It declares every module
//!    and re-exports only from the layers below it.
//! 6. Implementations of the loop's traits, which import it: [`live`] (the terminal view),
//!    [`progress`] (stderr lines), [`mock`] (the deterministic executor). The loop never imports
//!    them; `cmd_compare` picks one.
//!
//! [`Style`]: fmt::Style

pub mod files;
pub mod fmt;
pub mod plan;
pub mod summary;

pub mod record;

pub mod baseline;
pub mod stats;

pub mod export;
pub mod plot;
pub mod verdict;

pub mod live;
pub mod mock;
pub mod progress;

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use weir_engine::MetricsSnapshot;
use weir_workloads::catalog::EngineKind;
use weir_workloads::job::{RunError, RunSpec};
use weir_workloads::report::RunReport;

pub use self::plan::{ComparePlan, RunSlot};

use self::files::ExportError;
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
    Export(#[from] ExportError),
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
    'queries: for &query in &plan.queries {
        let mut active: Vec<EngineKind> = plan.engines.clone();
        let first_round = usize::from(!plan.warmup);
        for round in first_round..=plan.runs {
            for engine in active.clone() {
                index += 1;
                let slot = RunSlot {
                    query: query.to_string(),
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
                    refresh(
                        &mut report,
                        outputs.baseline.as_ref(),
                        outputs.noise_threshold,
                    );
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
                                    query: query.to_string(),
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
                refresh(
                    &mut report,
                    outputs.baseline.as_ref(),
                    outputs.noise_threshold,
                );
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

/// Recomputes `report.summary` from its runs ([`stats::summarise`]) and, when a `baseline` is
/// given, the changes against it ([`baseline::compare`], which reads the fresh summary).
pub fn refresh(report: &mut CompareReport, baseline: Option<&CompareReport>, noise_threshold: f64) {
    report.summary = stats::summarise(report);
    report.summary.baseline = baseline.map(|b| self::baseline::compare(b, report, noise_threshold));
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
