//! `--engine flink`: Apache Flink 2.3 in a local MiniCluster, in a JVM subprocess, or on a
//! Flink cluster (`RunSpec::flink_cluster`, see [`cluster`]) from a client JVM subprocess.
//!
//! `scripts/setup-flink.sh` installs Flink's jars (PyPI's `apache-flink-libraries`) into
//! `.flink/site` and compiles weir's Java job (`workloads/flink/src`) into `.flink/classes`.
//! `start` runs `java` with a pinned heap and collector ([`JVM_FLAGS`]) on that class path,
//! reads the job's protocol lines ([`protocol`]) and turns them into live [`MetricsSnapshot`]s
//! (with one operator per job vertex, see [`operators`]) and the final
//! [`RunReport`](crate::report::RunReport).
//!
//! The JVM never outlives its job handle: it watches its stdin and exits when the pipe closes,
//! which happens when the [`Job`] is dropped and when weir itself dies. Raising the job's
//! [`StopSignal`] sends `stop`, which ends the input early (windows still fire, the report is
//! still produced). The JVM runs in its own process group, so a terminal's Ctrl-C reaches only
//! weir, which raises that signal; the JVM does not die of the same SIGINT.

pub mod cluster;
pub mod install;
pub mod operators;
pub mod protocol;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use hdrhistogram::Histogram;
use weir_engine::{Collector, MetricsSnapshot, WorkerMetrics};

use crate::catalog::{EngineKind, Output, Query};
use crate::cpu::CpuTime;
use crate::job::{
    Engine, EngineCpu, EngineVersions, Job, Outcome, Result, RunError, RunLength, RunSpec,
    StopSignal,
};
use crate::report::{DigestSummary, LatencySummary, WorkerReport};

pub use install::{FLINK_VERSION, Install, JVM_FLAGS, PRETOUCH_FLAG, SETUP_HINT, local_jvm_flags};
use protocol::{JobResult, Line, Progress, SuiteLine};

fn spawn_error(e: &std::io::Error) -> RunError {
    if e.kind() == std::io::ErrorKind::NotFound {
        RunError::Setup(format!(
            "java was not found on PATH; install a Java 17 runtime, then {}",
            SETUP_HINT.replace("Flink is not set up: ", "")
        ))
    } else {
        RunError::Failed(format!("cannot start the Flink JVM: {e}"))
    }
}

/// Apache Flink behind the runner's [`Engine`] interface.
#[derive(Debug, Clone, Copy)]
pub struct FlinkEngine;

impl Engine for FlinkEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Flink
    }

    fn version(&self) -> String {
        FLINK_VERSION.to_string()
    }

    fn check(&self, spec: &RunSpec) -> Result<()> {
        if spec.workers > 256 {
            return Err(RunError::Config(
                "--workers must be between 1 and 256 for Flink (its parallelism)".into(),
            ));
        }
        if spec.input.is_some() && spec.flink_cluster.is_some() {
            return Err(RunError::Config(
                "--input runs on Flink's local MiniCluster only: a cluster's task managers cannot \
                 read weir's file (leave out --flink-cluster, or --input)"
                    .into(),
            ));
        }
        if spec.query == Query::Q10 && spec.flink_cluster.is_some() {
            return Err(RunError::Config(Q10_NOT_ON_A_CLUSTER.into()));
        }
        Ok(())
    }

    /// # Errors
    /// [`RunError::Setup`] when Flink or java is missing, [`RunError::Failed`] when the JVM
    /// cannot start.
    fn start(&self, spec: &RunSpec) -> Result<Job> {
        start(spec)
    }
}

/// Why q10 does not run on a Flink cluster (the Java job refuses it with the same words).
const Q10_NOT_ON_A_CLUSTER: &str = "q10 runs on Flink's local MiniCluster only: a cluster's task \
     managers would write its partitioned files on their own machines, where weir cannot \
     commit-check or read them (leave out --flink-cluster)";

/// q10's directory: `given` (`--sink-dir`, created if missing and checked writable, as weir's
/// own file sink does), or a fresh temporary directory, returned a second time as the
/// directory to remove after the run.
///
/// # Errors
/// [`RunError::Config`] naming the directory when it cannot be created or written.
fn q10_sink_dir(given: Option<&Path>) -> Result<(PathBuf, Option<PathBuf>)> {
    let (dir, temporary) = if let Some(dir) = given {
        (dir.to_path_buf(), None)
    } else {
        let dir = crate::weir::fresh_sink_dir();
        (dir.clone(), Some(dir))
    };
    weir_engine::file_sink::PartitionedFileSink::create(&dir)
        .map_err(|e| RunError::Config(format!("--sink-dir {e}")))?;
    Ok((dir, temporary))
}

/// A directory of the run's own for the JVM's temporary files (`-Djava.io.tmpdir`): Flink
/// unpacks its RPC system's jar there (24 MB per JVM) and makes its MiniCluster's working
/// directories, and leaves them behind when the JVM exits. Removed, with all it holds, when
/// dropped (after the JVM is gone).
#[derive(Debug)]
struct JvmTemp(PathBuf);

impl JvmTemp {
    /// A fresh directory under the system's temporary directory.
    ///
    /// # Errors
    /// [`RunError::Config`] when it cannot be created.
    fn create() -> Result<Self> {
        let dir = crate::job::fresh_temp_dir("weir-flink");
        std::fs::create_dir_all(&dir).map_err(|e| {
            RunError::Config(format!(
                "cannot create {} for the Flink JVM's temporary files ({e}); set TMPDIR to a \
                 directory this user can write",
                dir.display()
            ))
        })?;
        Ok(Self(dir))
    }

    /// `install`'s `java` with `flags` and this directory as the JVM's temporary directory.
    fn java(&self, install: &Install, flags: &[&str]) -> Command {
        let tmpdir = format!("-Djava.io.tmpdir={}", self.0.display());
        let flags: Vec<&str> = flags.iter().copied().chain([tmpdir.as_str()]).collect();
        install.java_with(&flags)
    }
}

impl Drop for JvmTemp {
    fn drop(&mut self) {
        // Best effort: what cannot be removed stays under the system's temporary directory.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn start(spec: &RunSpec) -> Result<Job> {
    let install = Install::locate()?;
    let sink_dir = (spec.query == Query::Q10)
        .then(|| q10_sink_dir(spec.sink_dir.as_deref()))
        .transpose()?;
    let cluster = spec
        .flink_cluster
        .as_deref()
        .map(|address| cluster::Cluster::check(address, spec.workers, &install))
        .transpose()?;
    let jvm_temp = JvmTemp::create()?;
    let mut cmd = if cluster.is_some() {
        jvm_temp.java(&install, cluster::CLIENT_JVM_FLAGS)
    } else {
        jvm_temp.java(&install, &local_jvm_flags(spec.jvm_pretouch))
    };
    cmd.args(["run", "--watch-stdin", "--workload"])
        .arg(spec.workload().as_str())
        .args(["--query", spec.query.name()])
        .args(["--workers", &spec.workers.to_string()])
        .args(["--event-rate", &spec.event_rate.to_string()])
        .args(["--source", spec.source.as_str()]);
    match spec.length {
        RunLength::Events(n) => cmd.args(["--events", &n.to_string()]),
        RunLength::Duration(d) => cmd.args(["--duration-ms", &d.as_millis().max(1).to_string()]),
    };
    if let Some(rate) = spec.rate {
        cmd.args(["--rate", &rate.to_string()]);
    }
    if let Some(input) = &spec.input {
        cmd.arg("--input").arg(input);
    }
    if let Some(side) = &spec.side_input {
        cmd.arg("--side-input").arg(side);
    }
    if let Some((dir, _)) = &sink_dir {
        cmd.arg("--sink-dir").arg(dir);
    }
    if let Some(out) = &spec.output {
        cmd.arg("--output").arg(out);
        if spec.query.def().output == Output::FinalTable {
            cmd.args(["--updating", "yes"]);
        }
    }
    if let Some(c) = &cluster {
        c.add_args(&mut cmd);
    }
    // The JVM leads its own process group, so a Ctrl-C at the terminal (SIGINT to the whole
    // foreground group) reaches weir alone: weir turns it into `stop` and the job ends with its
    // report. In weir's group the JVM would exit at once (its default SIGINT handling), a
    // failed run, and a cluster job would be cancelled instead of stopped.
    cmd.process_group(0);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| spawn_error(&e))?;
    let stdin = Arc::new(Mutex::new(child.stdin.take()));
    let collector = Collector::new();
    let stop = StopSignal::new();
    let driver = Driver {
        spec: spec.clone(),
        collector: collector.clone(),
        stop: stop.clone(),
        stdin: Arc::clone(&stdin),
        cluster: cluster.as_ref().map(cluster::Cluster::submission),
        temporary: sink_dir.and_then(|(_, temporary)| temporary),
        _jvm_temp: jvm_temp,
    };
    let handle = thread::Builder::new()
        .name("weir-flink".into())
        .spawn(move || driver.run(child))
        .map_err(|e| RunError::Failed(format!("cannot start the Flink driver thread: {e}")))?;
    Ok(Job::new(spec, collector, stop, handle).with_guard(StdinGuard(stdin)))
}

/// How a process ended, in words: "was killed by signal 9 (SIGKILL)", "exited with status 1".
pub fn describe_exit(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(signal) = status.signal() {
        let name = match signal {
            1 => " (SIGHUP)",
            2 => " (SIGINT)",
            6 => " (SIGABRT)",
            9 => " (SIGKILL)",
            11 => " (SIGSEGV)",
            15 => " (SIGTERM)",
            _ => "",
        };
        format!("was killed by signal {signal}{name}")
    } else if let Some(code) = status.code() {
        format!("exited with status {code}")
    } else {
        format!("ended ({status})")
    }
}

/// Closes the JVM's stdin when the [`Job`] is dropped: the JVM's watchdog then exits at once.
struct StdinGuard(Arc<Mutex<Option<ChildStdin>>>);

impl Drop for StdinGuard {
    fn drop(&mut self) {
        drop(lock(&self.0).take());
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The last lines of the JVM's stderr, for error messages.
#[derive(Clone, Default)]
struct StderrTail(Arc<Mutex<VecDeque<String>>>);

impl StderrTail {
    const LINES: usize = 40;

    fn follow(&self, stderr: impl std::io::Read + Send + 'static) -> thread::JoinHandle<()> {
        let tail = self.clone();
        thread::spawn(move || {
            for line in BufReader::new(stderr)
                .lines()
                .map_while(std::io::Result::ok)
            {
                let mut t = lock(&tail.0);
                if t.len() == Self::LINES {
                    t.pop_front();
                }
                t.push_back(line);
            }
        })
    }

    fn text(&self) -> String {
        let t = lock(&self.0);
        if t.is_empty() {
            "(the JVM printed nothing on stderr)".into()
        } else {
            t.iter().cloned().collect::<Vec<_>>().join("\n")
        }
    }
}

/// What [`Driver::read`] returns: the result, the latency histograms, the last progress and
/// the JVM's CPU over the job.
type ReadOutcome = (JobResult, Latencies, Progress, Option<CpuTime>);

/// The latency samples of a run so far, ns: the stream's, and those of the results fired by
/// the end of input.
struct Latencies {
    stream: Histogram<u64>,
    end_of_input: Histogram<u64>,
}

impl Latencies {
    fn new() -> Self {
        let histogram = || {
            Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3)
                .expect("static histogram bounds are valid")
        };
        Self {
            stream: histogram(),
            end_of_input: histogram(),
        }
    }

    /// Adds a progress line's samples.
    fn add(&mut self, p: &Progress) {
        for &ns in &p.latency_ns {
            self.stream.saturating_record(ns);
        }
        for &ns in &p.end_of_input_latency_ns {
            self.end_of_input.saturating_record(ns);
        }
    }
}

struct Driver {
    spec: RunSpec,
    collector: Collector,
    stop: StopSignal,
    stdin: Arc<Mutex<Option<ChildStdin>>>,
    /// The submitted job of a cluster run, cancelled if the client dies without ending it.
    cluster: Option<cluster::Submission>,
    /// q10's temporary directory (the spec named none): removed once the JVM is gone.
    temporary: Option<PathBuf>,
    /// The JVM's temporary directory, removed when the driver is dropped (the JVM is gone).
    _jvm_temp: JvmTemp,
}

impl Driver {
    fn run(self, mut child: Child) -> Result<Outcome> {
        let pid = child.id();
        let tail = StderrTail::default();
        let stderr_thread = child.stderr.take().map(|e| tail.follow(e));
        let done = Arc::new(AtomicBool::new(false));
        let stopper = {
            let (stop, stdin, done) = (
                self.stop.clone(),
                Arc::clone(&self.stdin),
                Arc::clone(&done),
            );
            thread::spawn(move || {
                while !done.load(Ordering::Acquire) {
                    if stop.is_raised() {
                        if let Some(pipe) = lock(&stdin).as_mut() {
                            // A failed write means the JVM is already gone; the driver reports that.
                            let _ = pipe.write_all(b"stop\n").and_then(|()| pipe.flush());
                        }
                        break;
                    }
                    thread::sleep(Duration::from_millis(20));
                }
            })
        };
        let outcome = self.read(&mut child);
        done.store(true, Ordering::Release);
        let _ = stopper.join();
        // The job is over (or failed): close stdin so the JVM cannot linger, then reap it.
        drop(lock(&self.stdin).take());
        let status = child.wait();
        if let Some(t) = stderr_thread {
            let _ = t.join();
        }
        if let Some(dir) = &self.temporary {
            // Best effort: a leftover temporary directory is harmless.
            let _ = std::fs::remove_dir_all(dir);
        }
        let mut snapshot = self.collector.latest();
        snapshot.finished = true;
        self.collector.publish(snapshot);
        match outcome {
            Ok((result, latencies, last, cpu)) => {
                let mut outcome = Self::outcome(&result, &latencies, &last);
                outcome.cpu = match (cpu, &self.cluster) {
                    // A remote cluster's task managers are not this JVM.
                    (_, Some(_)) | (None, None) => EngineCpu::Unknown,
                    (Some(cpu), None) => EngineCpu::Measured(cpu),
                };
                Ok(outcome)
            }
            Err(message) => {
                let how =
                    status.map_or_else(|e| format!("could not be waited for ({e})"), describe_exit);
                let cancelled = self
                    .cluster
                    .as_ref()
                    .map(cluster::Submission::cancel_orphan)
                    .unwrap_or_default();
                Err(RunError::Failed(format!(
                    "engine flink: the Flink JVM (pid {pid}) {how}; the job failed: {message}{cancelled}\n\
                     --- JVM stderr (last lines) ---\n{}",
                    tail.text()
                )))
            }
        }
    }

    /// Reads protocol lines until RESULT or an error; publishes snapshots on the way. Also
    /// returns the JVM's CPU from its first progress line (the job is running; the JVM's
    /// start-up is over) to its RESULT line.
    fn read(&self, child: &mut Child) -> Result<ReadOutcome, String> {
        let pid = child.id().to_string();
        let mut cpu_start: Option<CpuTime> = None;
        let mut cpu = None;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| "the JVM's stdout was not captured".to_string())?;
        let mut latencies = Latencies::new();
        let mut result = None;
        let mut last = Progress::default();
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("reading the JVM's stdout: {e}"))?;
            match protocol::parse(&line)? {
                Line::Progress(p) => {
                    if cpu_start.is_none() {
                        cpu_start = CpuTime::of_proc(&pid);
                    }
                    latencies.add(&p);
                    self.collector.publish(self.snapshot(&p, &latencies));
                    last = p;
                }
                Line::Result(r) => {
                    cpu = cpu_start
                        .zip(CpuTime::of_proc(&pid))
                        .map(|(a, b)| b.since(a));
                    result = Some(r);
                }
                Line::Error(f) => return Err(f.message),
                Line::Submitted(s) => {
                    if let Some(c) = &self.cluster {
                        c.submitted(s.job_id);
                    }
                }
                Line::Suite(_) | Line::Other => {}
            }
        }
        result
            .map(|r| (r, latencies, last, cpu))
            .ok_or_else(|| "the JVM exited without printing its RESULT line".to_string())
    }

    fn snapshot(&self, p: &Progress, latencies: &Latencies) -> MetricsSnapshot {
        let ns = |times: &Option<Vec<u64>>, w: usize| {
            times
                .as_ref()
                .and_then(|t| t.get(w))
                .map_or(0, |ms| ms.saturating_mul(1_000_000))
        };
        let mut ops = operators::of_progress(p, self.spec.workers).into_iter();
        let workers = (0..self.spec.workers)
            .map(|w| WorkerMetrics {
                events_in: p.events.get(w).copied().unwrap_or(0),
                records_out: p.rows.get(w).copied().unwrap_or(0),
                // Flink reports late records per job, not per subtask: worker 0 carries them.
                late: if w == 0 { p.late } else { 0 },
                busy_ns: ns(&p.busy_ms, w),
                idle_ns: ns(&p.idle_ms, w),
                backpressured_ns: ns(&p.backpressured_ms, w),
                operators: ops.next().unwrap_or_default(),
                ..WorkerMetrics::default()
            })
            .collect();
        MetricsSnapshot {
            elapsed_ns: p.elapsed_ns,
            workers,
            exchange_fill: None,
            latency_ns: (!latencies.stream.is_empty()).then(|| latencies.stream.clone()),
            end_of_input_latency_ns: (!latencies.end_of_input.is_empty())
                .then(|| latencies.end_of_input.clone()),
            watermark_ms: p.watermark,
            source_time_ms: p.source_time,
            events_total: match self.spec.length {
                RunLength::Events(n) => Some(n),
                RunLength::Duration(_) => None,
            },
            finished: p.finished,
            table: None,
        }
    }

    /// Per-worker times from Flink's task metrics, summed over every task's subtask of that
    /// index (a worker is a slot that runs one subtask of each task), so a worker can show more
    /// than `wall_s` when its tasks overlap; empty when the metrics were not available.
    fn per_worker(last: &Progress) -> Vec<WorkerReport> {
        let (Some(busy), Some(idle), Some(bp)) =
            (&last.busy_ms, &last.idle_ms, &last.backpressured_ms)
        else {
            return Vec::new();
        };
        (0..last.events.len())
            .map(|w| WorkerReport {
                busy_s: busy.get(w).copied().unwrap_or(0) as f64 / 1e3,
                idle_s: idle.get(w).copied().unwrap_or(0) as f64 / 1e3,
                backpressured_s: bp.get(w).copied().unwrap_or(0) as f64 / 1e3,
                held_s: 0.0,
                records: last.events[w],
            })
            .collect()
    }

    fn outcome(r: &JobResult, latencies: &Latencies, last: &Progress) -> Outcome {
        Outcome {
            events: r.events,
            startup_s: r.startup_ms as f64 / 1e3,
            wall_s: r.runtime_ns as f64 / 1e9,
            latency: LatencySummary::from_histogram(&latencies.stream),
            end_of_input_latency: LatencySummary::from_histogram(&latencies.end_of_input),
            digest: DigestSummary {
                rows: r.rows,
                hash: r.hash.clone(),
            },
            late: r.late,
            dropped: r.dropped,
            per_worker: Self::per_worker(last),
            total_workers: None,
            // Flink's task threads are not pinned to cores.
            pinned: false,
            // Read from the JVM by the driver.
            cpu: EngineCpu::Unknown,
            versions: EngineVersions {
                flink: Some(r.flink.clone()),
                java: Some(r.java.clone()),
                ..EngineVersions::default()
            },
        }
    }
}

/// Runs `queries` one after another in one JVM at parallelism `workers`, on events
/// `0..events` (generated at `event_rate` events/s of event time, or the first `events` of the
/// `--input` file `input`), and returns each query's digest. With `output_dir`, each query's
/// rows are also written to `<output_dir>/<query>.jsonl` (an updating query's folded to its
/// final table), and q10's partitioned files go under `<output_dir>/q10/`; without it, under a
/// temporary directory removed afterwards. Used by the tests (one JVM start for all queries).
///
/// # Errors
/// [`RunError::Setup`] without an installation, [`RunError::Failed`] when the job fails (a
/// malformed `input` included: the job names the file and the line).
pub fn run_suite(
    workers: usize,
    events: u64,
    event_rate: u64,
    queries: &[Query],
    output_dir: Option<&Path>,
    input: Option<&Path>,
) -> Result<Vec<SuiteLine>> {
    let names = |keep: fn(&Query) -> bool| {
        queries
            .iter()
            .filter(|q| keep(q))
            .map(|q| q.name())
            .collect::<Vec<_>>()
            .join(",")
    };
    let install = Install::locate()?;
    let jvm_temp = JvmTemp::create()?;
    let mut cmd = jvm_temp.java(&install, JVM_FLAGS);
    cmd.args(["suite", "--workers", &workers.to_string()])
        .args(["--events", &events.to_string()])
        .args(["--event-rate", &event_rate.to_string()])
        .args(["--queries", &names(|_| true)])
        .args([
            "--updating",
            &names(|q| q.def().output == Output::FinalTable),
        ]);
    if let Some(dir) = output_dir {
        cmd.arg("--output-dir").arg(dir);
    }
    if let Some(file) = input {
        // A file is replayed from memory, as `weir run --input` does.
        cmd.arg("--input").arg(file).args(["--source", "replay"]);
    }
    let sink_dir = queries
        .contains(&Query::Q10)
        .then(|| q10_sink_dir(output_dir.map(|dir| dir.join("q10")).as_deref()))
        .transpose()?;
    if let Some((dir, _)) = &sink_dir {
        cmd.arg("--sink-dir").arg(dir);
    }
    let lines = run_lines(cmd, |line| match line {
        Line::Suite(s) => Some(s),
        _ => None,
    });
    if let Some((_, Some(temporary))) = &sink_dir {
        let _ = std::fs::remove_dir_all(temporary);
    }
    lines
}

/// Runs the job's `vectors` mode (the generator's and digest's test vectors) and returns its
/// stdout lines.
///
/// # Errors
/// As [`run_suite`].
pub fn run_vectors(args: &[&str]) -> Result<Vec<String>> {
    let install = Install::locate()?;
    let mut cmd = install.java();
    cmd.arg("vectors").args(args);
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| spawn_error(&e))?;
    if !out.status.success() {
        return Err(RunError::Failed(format!(
            "the Flink job's vectors mode failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect())
}

fn run_lines<T>(mut cmd: Command, mut pick: impl FnMut(Line) -> Option<T>) -> Result<Vec<T>> {
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| spawn_error(&e))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut picked = Vec::new();
    for line in stdout.lines() {
        match protocol::parse(line).map_err(RunError::Failed)? {
            Line::Error(f) => {
                return Err(RunError::Failed(format!(
                    "Flink job failed: {}\n--- JVM stderr ---\n{}",
                    f.message,
                    String::from_utf8_lossy(&out.stderr)
                )));
            }
            other => picked.extend(pick(other)),
        }
    }
    if !out.status.success() {
        return Err(RunError::Failed(format!(
            "the Flink JVM exited with {}\n--- JVM stderr ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(picked)
}
