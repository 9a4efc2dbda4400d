//! Operating weir as a process: SIGINT and SIGTERM stop `weir run` and `weir compare`
//! gracefully (summary, reports, exit 130 / 143) and a second one ends weir at once; a worker
//! count the machine cannot hold is refused at once; the live metrics can be scraped in the
//! Prometheus text format; engines whose process dies mid-run are named in the error, and the
//! Flink JVM does not outlive a killed weir.
//!
//! Deadlines below only stop a broken test from hanging; nothing asserts on speed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use weir_workloads::report::RunReport;

const DEADLINE: Duration = Duration::from_mins(1);

fn weir() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weir"));
    for var in [
        "WEIR_SIM_PANIC_AFTER_MS",
        "WEIR_SIM_PANIC_KIND",
        "WEIR_SIM_STOP_DELAY_MS",
        "NO_COLOR",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("RUST_BACKTRACE", "0");
    cmd
}

/// A running `weir` whose stderr lines arrive on a channel (so a test can wait for one).
struct Running {
    child: Child,
    stderr: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn spawn(cmd: &mut Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("weir starts");
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().expect("stderr is piped");
        thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stderr: rx,
            seen: Vec::new(),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for a stderr line containing `needle`; returns it.
    fn wait_line(&mut self, needle: &str) -> String {
        let start = Instant::now();
        while start.elapsed() < DEADLINE {
            match self.stderr.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!(
            "no stderr line with {needle:?}; saw:\n{}",
            self.seen.join("\n")
        );
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill -{name} {}", self.pid());
    }

    /// Waits for the exit (panics at the deadline); returns the status, stdout and stderr.
    fn finish(mut self, within: Duration) -> (ExitStatus, String, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if start.elapsed() > within {
                let _ = self.child.kill();
                panic!(
                    "weir did not exit within {within:?}; stderr so far:\n{}",
                    self.seen.join("\n")
                );
            }
            thread::sleep(Duration::from_millis(20));
        };
        let mut out = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            let _ = stdout.read_to_string(&mut out);
        }
        let mut err = self.seen.join("\n");
        for line in self.stderr.try_iter() {
            err.push('\n');
            err.push_str(&line);
        }
        (status, out, err)
    }
}

fn sim_run(extra: &[&str]) -> Command {
    let mut cmd = weir();
    cmd.args([
        "run",
        "nexmark",
        "--engine",
        "sim",
        "--workers",
        "2",
        "--duration",
        "120",
        "--no-tui",
    ])
    .args(extra);
    cmd
}

#[test]
fn sigint_stops_gracefully_with_the_summary_the_report_and_exit_130() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let json = dir.path().join("run.json");
    let mut run = Running::spawn(sim_run(&["--json"]).arg(&json));
    run.wait_line(" ev/s");
    run.signal("INT");
    let (status, out, err) = run.finish(Duration::from_secs(30));
    assert_eq!(status.code(), Some(130), "stderr:\n{err}");
    assert!(err.contains("SIGINT: stopping"), "{err}");
    assert!(
        out.contains("stopped early"),
        "the summary of what ran:\n{out}"
    );
    let report: RunReport =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("--json is written"))
            .expect("the report parses");
    assert!(report.events > 0);
}

#[test]
fn sigterm_stops_gracefully_with_exit_143() {
    let mut run = Running::spawn(&mut sim_run(&[]));
    run.wait_line(" ev/s");
    run.signal("TERM");
    let (status, out, err) = run.finish(Duration::from_secs(30));
    assert_eq!(status.code(), Some(143), "stderr:\n{err}");
    assert!(err.contains("SIGTERM: stopping"), "{err}");
    assert!(out.contains("stopped early"), "{out}");
}

#[test]
fn a_second_sigint_ends_weir_at_once() {
    // The stopped job takes 10 minutes to drain: only the second Ctrl-C can end it in time.
    let mut run = Running::spawn(sim_run(&[]).env("WEIR_SIM_STOP_DELAY_MS", "600000"));
    run.wait_line(" ev/s");
    run.signal("INT");
    run.wait_line("SIGINT: stopping");
    run.signal("INT");
    let (status, out, err) = run.finish(Duration::from_secs(20));
    assert_eq!(status.code(), Some(130), "stderr:\n{err}");
    assert!(err.contains("SIGINT again: exiting at once"), "{err}");
    assert!(
        !out.contains("Throughput"),
        "no summary after the second Ctrl-C:\n{out}"
    );
}

#[test]
fn sigterm_stops_weir_compare_keeps_what_finished_and_exits_143() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut run = Running::spawn(
        weir()
            .args(["compare", "nexmark", "--engines", "sim", "--runs", "3"])
            .args(["--events", "6000000", "--workers", "1", "--no-tui", "--out"])
            .arg(dir.path()),
    );
    run.wait_line("[2/");
    run.signal("TERM");
    let (status, _out, err) = run.finish(Duration::from_mins(1));
    assert_eq!(status.code(), Some(143), "stderr:\n{err}");
    let text = std::fs::read_to_string(dir.path().join("report.json")).expect("report.json");
    assert!(text.contains("\"interrupted\": true"), "{text}");
}

#[test]
fn a_worker_count_the_machine_cannot_hold_is_refused_at_once() {
    let started = Instant::now();
    let out = weir()
        .args(["run", "nexmark", "--workers", "1000000", "--events", "1000"])
        .args(["--no-tui", "--quiet"])
        .output()
        .expect("weir runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr:\n{err}");
    assert!(
        err.contains("1000000 workers need about") && err.contains("use at most"),
        "{err}"
    );
    // "At once": no thread was started (a million would take minutes, or never end).
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

fn scrape(addr: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("the metrics server accepts");
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n").expect("send");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    text
}

/// The value of the first sample line starting with `name` (labels included in `name`).
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_of_a_live_weir_run_can_be_scraped() {
    let mut run = Running::spawn(weir().args([
        "run",
        "nexmark",
        "--engine",
        "weir",
        "--query",
        "q5",
        "--workers",
        "2",
        "--rate",
        "200000",
        "--duration",
        "60",
        "--no-tui",
        "--no-pin",
        "--metrics-addr",
        "127.0.0.1:0",
    ]));
    let line = run.wait_line("metrics: http://");
    let addr = line
        .trim_start_matches("metrics: http://")
        .trim_end_matches("/metrics")
        .to_string();
    // Wait until the first windows fired (results and latency exist), scraping as we go.
    let start = Instant::now();
    let text = loop {
        let text = scrape(&addr);
        if sample(&text, "weir_results_total").is_some_and(|v| v > 0.0)
            && text.contains("weir_latency_seconds{quantile=\"0.99\"}")
        {
            break text;
        }
        assert!(start.elapsed() < DEADLINE, "no results yet:\n{text}");
        thread::sleep(Duration::from_millis(300));
    };
    assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
    assert!(
        text.contains("Content-Type: text/plain; version=0.0.4"),
        "{text}"
    );
    for name in [
        "weir_events_total",
        "weir_late_records_total",
        "weir_dropped_records_total",
        "weir_worker_busy_seconds_total{worker=\"0\"}",
        "weir_worker_idle_seconds_total{worker=\"1\"}",
        "weir_worker_backpressured_seconds_total{worker=\"1\"}",
        "weir_worker_held_seconds_total{worker=\"1\"}",
        "weir_watermark_lag_seconds",
        "weir_latency_seconds{quantile=\"0.5\"}",
        "weir_latency_seconds{quantile=\"1\"}",
    ] {
        assert!(sample(&text, name).is_some(), "{name} missing in\n{text}");
    }
    // Counters count: a later scrape has more events.
    let events = sample(&text, "weir_events_total").unwrap_or_default();
    thread::sleep(Duration::from_millis(500));
    let later = sample(&scrape(&addr), "weir_events_total").unwrap_or_default();
    assert!(later > events, "{later} after {events}");
    run.signal("INT");
    let (status, _, err) = run.finish(Duration::from_mins(1));
    assert_eq!(status.code(), Some(130), "{err}");
}

#[test]
fn a_metrics_address_that_cannot_be_bound_is_a_flag_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = weir()
        .args(["run", "--engine", "sim", "--duration", "1", "--no-tui"])
        .args(["--metrics-addr", &addr])
        .output()
        .expect("weir runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--metrics-addr"));
}

/// The pids of `pid`'s children (every thread's), from /proc.
fn children(pid: u32) -> Vec<u32> {
    let mut kids = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return kids;
    };
    for task in tasks.flatten() {
        let text = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        kids.extend(
            text.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    kids
}

fn alive(pid: u32) -> bool {
    // A zombie is dead for our purpose: it runs nothing and holds no memory.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

fn flink_run() -> Running {
    let mut run = Running::spawn(weir().args([
        "run",
        "nexmark",
        "--engine",
        "flink",
        "--query",
        "q5",
        "--workers",
        "1",
        "--rate",
        "20000",
        "--duration",
        "120",
        "--no-tui",
    ]));
    // Flink is running once its first progress line is out.
    run.wait_line(" ev/s");
    run
}

fn jvm_of(run: &Running) -> u32 {
    let kids = children(run.pid());
    assert_eq!(kids.len(), 1, "weir has one child, the JVM: {kids:?}");
    kids[0]
}

#[test]
fn a_killed_flink_jvm_is_named_and_weir_exits_non_zero() {
    let run = flink_run();
    let jvm = jvm_of(&run);
    let ok = Command::new("kill")
        .args(["-KILL", &jvm.to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok);
    let (status, _, err) = run.finish(Duration::from_secs(15));
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "engine flink: the Flink JVM (pid {jvm}) was killed by signal 9 (SIGKILL)"
        )),
        "{err}"
    );
}

#[test]
fn the_flink_jvm_does_not_outlive_a_killed_weir() {
    let run = flink_run();
    let jvm = jvm_of(&run);
    run.signal("KILL");
    let _ = run.finish(Duration::from_secs(10));
    let start = Instant::now();
    while alive(jvm) {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the JVM {jvm} still runs after weir was killed"
        );
        thread::sleep(Duration::from_millis(100));
    }
}

/// The Flink JVM's temporary files (its RPC jar, 24 MB, and the MiniCluster's directories,
/// which Flink leaves behind) go to a directory of the run's own under the temporary directory
/// weir was given, removed after the run: while the job runs, that directory holds Flink's
/// files; once weir has exited (here stopped by SIGINT), nothing is left.
#[test]
fn a_flink_run_leaves_nothing_in_the_temporary_directory() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let mut run = Running::spawn(
        weir()
            .env("TMPDIR", tmp.path())
            .args(["run", "nexmark", "--engine", "flink", "--query", "q5"])
            .args(["--workers", "1", "--rate", "20000", "--duration", "120"])
            .arg("--no-tui"),
    );
    run.wait_line(" ev/s");
    let entries = |dir: &std::path::Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .expect("readable")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    };
    let during = entries(tmp.path());
    assert!(
        during.len() == 1 && during[0].starts_with("weir-flink-"),
        "one directory for the JVM: {during:?}"
    );
    let jvm_files = entries(&tmp.path().join(&during[0]));
    assert!(
        jvm_files.iter().any(|f| f.starts_with("flink-rpc")),
        "Flink unpacks its RPC jar there: {jvm_files:?}"
    );
    run.signal("INT");
    let (status, _, stderr) = run.finish(DEADLINE);
    assert_eq!(status.code(), Some(130), "{stderr}");
    let after = entries(tmp.path());
    assert!(after.is_empty(), "left behind: {after:?}");
}
