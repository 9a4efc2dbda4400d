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
//!    [`memory`] (`--max-memory`), [`plan`] ([`ComparePlan`], [`RunSlot`]), [`summary`] (the
//!    figures as data: `Spread`, `QuerySummary`, `Summary`, `BaselineSummary`, ...), [`files`]
//!    (`write_atomic`, `ExportError`).
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
pub mod memory;
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

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use weir_engine::MetricsSnapshot;
use weir_workloads::catalog::EngineKind;
use weir_workloads::job::{RunError, RunSpec};
use weir_workloads::report::RunReport;

pub use self::plan::{ComparePlan, RunSlot};

use self::files::ExportError;
use self::memory::MemoryLimit;
use self::record::{
    CalibrationRecord, CeilingRecord, CompareReport, FailureRecord, PlanRecord, RunSeries,
    WarmupRecord,
};
use crate::flamegraph::Sampler;

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

    /// Measures the physical ceiling of `spec`'s input (its query, workers, events, event rate
    /// and source): its kind and input events/s, or why the measurement failed; `None` when
    /// there is none to measure. The default measures nothing.
    fn ceiling(&mut self, spec: &RunSpec) -> Option<(&'static str, Result<f64, String>)> {
        let _ = spec;
        None
    }
}

/// The real executor: starts the job with `weir_workloads::runner::start` and samples its
/// collector.
#[derive(Debug)]
pub struct RunnerExecutor {
    /// How often the collector is sampled for the live view and the throughput-over-time series.
    pub sample_interval: Duration,
    /// `--flamegraph DIR`: the flame graphs to take, and those taken.
    pub flamegraphs: Option<FlameGraphs>,
    /// `--max-memory`: a run whose process holds more is stopped and recorded as failed.
    pub memory_limit: MemoryLimit,
}

impl Default for RunnerExecutor {
    fn default() -> Self {
        Self {
            sample_interval: Duration::from_millis(100),
            flamegraphs: None,
            memory_limit: MemoryLimit::Auto,
        }
    }
}

/// `weir compare --flamegraph DIR`: one flame graph per engine and query, of the first run of
/// each, which is the unmeasured warm-up (with `--load`, the calibration run; with
/// `--no-warmup`, the first measured run, whose figures then include the sampler's cost, under
/// 1 %: docs/RESULTS.md). Files are `DIR/<workload>-<query>-<engine>-w<workers>-<source>.svg`.
/// Flink runs in its own JVM, which the sampler cannot see: it is named in the notes with
/// where Flink's own flame graphs are ([`crate::flamegraph::FLINK_HINT`]).
#[derive(Debug, Default)]
pub struct FlameGraphs {
    dir: PathBuf,
    sampled: BTreeSet<(String, EngineKind)>,
    /// One line per graph written (or not), for after the comparison (the live console owns
    /// the terminal while it runs).
    pub notes: Vec<String>,
}

impl FlameGraphs {
    /// Flame graphs into `dir`, which is created now.
    ///
    /// # Errors
    /// A message naming `dir` when it cannot be created or written.
    pub fn new(dir: PathBuf) -> Result<Self, String> {
        let unusable = |e: std::io::Error| {
            format!(
                "--flamegraph {}: cannot write flame graphs there ({e}); give a directory this \
                 user can create and write",
                dir.display()
            )
        };
        std::fs::create_dir_all(&dir).map_err(unusable)?;
        let probe = dir.join(format!(".weir-probe-{}", std::process::id()));
        std::fs::File::create(&probe).map_err(unusable)?;
        std::fs::remove_file(&probe).map_err(unusable)?;
        Ok(Self {
            dir,
            ..Self::default()
        })
    }

    /// Starts sampling when `spec` is the first run of its engine and query.
    fn start(&mut self, spec: &RunSpec) -> Option<(Sampler, PathBuf)> {
        if !self.sampled.insert((spec.query.to_string(), spec.engine)) {
            return None;
        }
        let (workload, query, engine) = (spec.workload(), spec.query.name(), spec.engine);
        let (workers, source) = (spec.workers, spec.source);
        let path = self.dir.join(format!(
            "{workload}-{query}-{engine}-w{workers}-{source}.svg"
        ));
        let title = format!(
            "weir compare: {workload} {query} on {engine}, {workers} worker(s), {source} source"
        );
        match Sampler::start(engine, title) {
            Ok(Some(sampler)) => return Some((sampler, path)),
            Ok(None) => self.notes.push(format!(
                "{query} on {engine}: no flame graph. {}",
                crate::flamegraph::FLINK_HINT
            )),
            Err(e) => self.notes.push(format!("{query} on {engine}: {e}")),
        }
        None
    }

    fn finish(&mut self, sampler: Sampler, path: &std::path::Path) {
        self.notes.push(match sampler.finish(path) {
            Ok(samples) => format!("flame graph: {} ({samples} samples)", path.display()),
            Err(e) => format!("warning: {e}"),
        });
    }
}

impl Executor for RunnerExecutor {
    fn run(
        &mut self,
        spec: &RunSpec,
        progress: &mut dyn FnMut(&MetricsSnapshot) -> Flow,
    ) -> Result<RunReport, RunError> {
        let sampling = self.flamegraphs.as_mut().and_then(|f| f.start(spec));
        // Flink runs in its own JVM, which bounds its heap itself.
        let limit = if spec.engine == EngineKind::Flink {
            None
        } else {
            self.memory_limit.resolve()
        };
        let job = weir_workloads::runner::start(spec)?;
        let poll = self.sample_interval.min(Duration::from_millis(10));
        let mut next_sample = Instant::now() + self.sample_interval;
        let mut stopped = false;
        let mut over: Option<u64> = None;
        while !job.is_finished() {
            thread::sleep(poll);
            if let Some(limit) = limit
                && over.is_none()
                && let Some(held) = weir_engine::resident_memory().filter(|&held| held > limit)
            {
                over = Some(held);
                job.stop.raise();
                stopped = true;
            }
            if Instant::now() >= next_sample {
                next_sample += self.sample_interval;
                if progress(&job.collector.latest()) == Flow::Stop && !stopped {
                    job.stop.raise();
                    stopped = true;
                }
            }
        }
        progress(&job.collector.latest());
        let result = job.wait();
        if let (Some((sampler, path)), Some(graphs)) = (sampling, self.flamegraphs.as_mut()) {
            graphs.finish(sampler, &path);
        }
        match (over, limit) {
            (Some(held), Some(limit)) => Err(RunError::Failed(over_limit(
                spec,
                held,
                limit,
                self.memory_limit,
            ))),
            _ => result,
        }
    }

    /// Replay sources: [`weir_workloads::ceiling::memory_read`]; generated ones: the query's
    /// generator-only baseline on weir (none for queries without one, e.g. q3 and q8).
    fn ceiling(&mut self, spec: &RunSpec) -> Option<(&'static str, Result<f64, String>)> {
        match spec.source {
            weir_workloads::job::SourceMode::Replay => Some((
                "memory-read",
                weir_workloads::ceiling::memory_read(spec).map_err(|e| e.to_string()),
            )),
            weir_workloads::job::SourceMode::Generate => {
                let baseline = spec.query.def().baseline?;
                let spec = RunSpec {
                    query: baseline,
                    ..spec.clone()
                };
                let eps = weir_workloads::runner::start(&spec)
                    .and_then(weir_workloads::job::Job::wait)
                    .map(|report| report.throughput_eps)
                    .map_err(|e| e.to_string());
                Some(("generator-only", eps))
            }
        }
    }
}

/// Why a run was stopped for its memory, and what to do.
fn over_limit(spec: &RunSpec, held: u64, limit: u64, setting: MemoryLimit) -> String {
    let how = match setting {
        MemoryLimit::Auto => format!(
            ", what weir held when the run started plus {:.0} % of the memory available then",
            memory::AUTO_SHARE * 100.0
        ),
        _ => String::new(),
    };
    format!(
        "stopped with {} resident, over the limit of {} (--max-memory {setting}{how}): {} on {} \
         held more state than that; give it fewer events (--events, --duration), a lower \
         --load or --rate, or a higher --max-memory (off: never stop)",
        memory::gib(held),
        memory::gib(limit),
        spec.query,
        spec.engine,
    )
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
/// A run's throughput over time: (seconds since its start, input events so far).
type Series = Vec<(f64, u64)>;

/// With `--load`, each engine's first two runs of a query are its calibration (an unpaced probe,
/// then a steady-state run at about its own speed: [`ComparePlan::steady_spec`]); they replace
/// the warm-up, and the measured runs are offered `load` times the steady-state throughput.
/// After every round the query's physical ceiling is measured once ([`Executor::ceiling`]),
/// and with `--load` once more right after the calibrations, so that the summary can say how
/// the machine's speed moved between measuring the maxima and offering a fraction of them.
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
    let mut cx = Context {
        plan,
        executor,
        observer,
        outputs,
        index: 0,
        total: plan.total_runs(),
    };
    'queries: for &query in &plan.queries {
        let mut active: Vec<EngineKind> = plan.engines.clone();
        let mut rates: BTreeMap<EngineKind, u64> = BTreeMap::new();
        if plan.load.is_some() {
            for engine in active.clone() {
                match calibrate(&mut cx, &mut report, query, engine)? {
                    Step::Done(Some(rate)) => {
                        rates.insert(engine, rate);
                    }
                    Step::Done(None) => active.retain(|&a| a != engine),
                    Step::Stopped => break 'queries,
                }
            }
            // The machine's speed now, beside the rounds' (a VM's can move by a quarter in
            // minutes, and then the load offered is not the load the engines run at).
            if !active.is_empty() {
                measure_ceiling(&mut cx, &mut report, query, 0)?;
            }
        }
        let first_round = usize::from(!plan.warmup || plan.load.is_some());
        for round in first_round..=plan.runs {
            for engine in active.clone() {
                let spec = match rates.get(&engine) {
                    Some(&rate) => plan.paced_spec(query, engine, rate),
                    None => plan.spec(query, engine),
                };
                let slot = cx.slot(query, engine, (round > 0).then_some(round), false);
                match cx.run(&mut report, &slot, &spec)? {
                    Step::Stopped => break 'queries,
                    Step::Done(None) => active.retain(|&a| a != engine),
                    Step::Done(Some((run, series))) => {
                        match slot.round {
                            Some(round) => {
                                report.runs.push(run.clone());
                                report.series.push(RunSeries {
                                    engine: engine.to_string(),
                                    query: query.to_string(),
                                    round,
                                    order: slot.index,
                                    samples: series,
                                });
                            }
                            None => report.warmups.push(WarmupRecord::from_run(&run)),
                        }
                        cx.finish(&mut report, &slot, Ok(&run))?;
                    }
                }
            }
            if round > 0 && !active.is_empty() {
                measure_ceiling(&mut cx, &mut report, query, round)?;
            }
        }
    }
    Ok(report)
}

/// Measures `query`'s physical ceiling once ([`Executor::ceiling`]) and records it for
/// `round` (0: right after the calibration runs of `--load`); an executor without one for
/// this query records nothing.
fn measure_ceiling(
    cx: &mut Context<'_>,
    report: &mut CompareReport,
    query: weir_workloads::catalog::Query,
    round: usize,
) -> Result<(), CompareError> {
    let spec = cx.plan.probe_spec(query, EngineKind::Weir);
    let Some((kind, measured)) = cx.executor.ceiling(&spec) else {
        return Ok(());
    };
    match measured {
        Ok(eps) => report.ceilings.push(CeilingRecord {
            query: query.to_string(),
            kind: kind.to_string(),
            round,
            throughput_eps: eps,
        }),
        // Not an engine's failure (the comparison stands), but never silent.
        Err(message) => report.failures.push(FailureRecord {
            engine: format!("ceiling ({kind})"),
            query: query.to_string(),
            round: (round > 0).then_some(round),
            kind: "not measured".to_string(),
            message,
        }),
    }
    cx.refresh(report)
}

/// What one step of the loop produced.
enum Step<T> {
    /// It finished (`None`: the engine failed or cannot run the query, recorded).
    Done(Option<T>),
    /// The user stopped the comparison (recorded).
    Stopped,
}

/// What every step of the loop needs.
struct Context<'a> {
    plan: &'a ComparePlan,
    executor: &'a mut dyn Executor,
    observer: &'a mut dyn Observer,
    outputs: &'a Outputs,
    index: usize,
    total: usize,
}

impl Context<'_> {
    fn slot(
        &mut self,
        query: weir_workloads::catalog::Query,
        engine: EngineKind,
        round: Option<usize>,
        calibration: bool,
    ) -> RunSlot {
        self.index += 1;
        RunSlot {
            query: query.to_string(),
            engine,
            round,
            calibration,
            index: self.index,
            total: self.total,
        }
    }

    /// Runs `spec` in `slot`. A stop or a failure is recorded here (and the observer told);
    /// a successful run is returned with its throughput-over-time series, for the caller to
    /// record and then [`Context::finish`].
    fn run(
        &mut self,
        report: &mut CompareReport,
        slot: &RunSlot,
        spec: &RunSpec,
    ) -> Result<Step<(RunReport, Series)>, CompareError> {
        self.observer.run_started(slot, spec, report);
        let mut series = Vec::new();
        let mut stop = false;
        let observer = &mut *self.observer;
        let result = self.executor.run(spec, &mut |snap| {
            let point = (snap.elapsed_ns as f64 / 1e9, snap.events_in());
            if series.last() != Some(&point) && snap.elapsed_ns > 0 {
                series.push(point);
            }
            let flow = observer.snapshot(slot, snap);
            stop |= flow == Flow::Stop;
            flow
        });
        if stop {
            report.interrupted = true;
            report.failures.push(FailureRecord::new(
                slot,
                "interrupted",
                "stopped by the user before the run ended; not counted",
            ));
            self.finish(report, slot, Err("interrupted"))?;
            return Ok(Step::Stopped);
        }
        match result {
            Ok(run) => Ok(Step::Done(Some((run, series)))),
            Err(e) => {
                let kind = match e {
                    RunError::Config(_) => "unsupported",
                    _ => "failed",
                };
                let message = e.to_string();
                report
                    .failures
                    .push(FailureRecord::new(slot, kind, &message));
                self.finish(report, slot, Err(&message))?;
                Ok(Step::Done(None))
            }
        }
    }

    /// Re-summarises, tells the observer and rewrites the exports after a run.
    fn finish(
        &mut self,
        report: &mut CompareReport,
        slot: &RunSlot,
        result: Result<&RunReport, &str>,
    ) -> Result<(), CompareError> {
        refresh(
            report,
            self.outputs.baseline.as_ref(),
            self.outputs.noise_threshold,
        );
        self.observer.run_finished(slot, result, report);
        write_exports(report, self.outputs)
    }

    /// Re-summarises and rewrites the exports (no run ended).
    fn refresh(&mut self, report: &mut CompareReport) -> Result<(), CompareError> {
        refresh(
            report,
            self.outputs.baseline.as_ref(),
            self.outputs.noise_threshold,
        );
        write_exports(report, self.outputs)
    }
}

/// `--load`: measures `engine`'s maximum on `query` (an unpaced probe, then a steady-state run
/// at about the probe's speed) and returns the rate to offer it.
fn calibrate(
    cx: &mut Context<'_>,
    report: &mut CompareReport,
    query: weir_workloads::catalog::Query,
    engine: EngineKind,
) -> Result<Step<u64>, CompareError> {
    let slot = cx.slot(query, engine, None, true);
    let spec = cx.plan.probe_spec(query, engine);
    let probe = match cx.run(report, &slot, &spec)? {
        Step::Done(Some((run, _))) => {
            cx.finish(report, &slot, Ok(&run))?;
            run
        }
        Step::Done(None) => return Ok(Step::Done(None)),
        Step::Stopped => return Ok(Step::Stopped),
    };
    let event_rate = (probe.throughput_eps.round() as u64).max(1);
    let slot = cx.slot(query, engine, None, true);
    let spec = cx.plan.steady_spec(query, engine, event_rate);
    let steady = match cx.run(report, &slot, &spec)? {
        Step::Done(Some((run, _))) => run,
        Step::Done(None) => return Ok(Step::Done(None)),
        Step::Stopped => return Ok(Step::Stopped),
    };
    let offered = cx
        .plan
        .offered(steady.throughput_eps)
        .expect("calibration runs only with --load");
    report.calibrations.push(CalibrationRecord {
        engine: engine.to_string(),
        query: query.to_string(),
        probe_eps: probe.throughput_eps,
        steady_event_rate: event_rate,
        max_eps: steady.throughput_eps,
        window_closings: query.window_closings(steady.events, steady.event_rate),
        offered_eps: offered,
    });
    cx.finish(report, &slot, Ok(&steady))?;
    Ok(Step::Done(Some(offered)))
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
