//! The Flink adapter end to end (real JVM): a run becomes a RunReport with the reference's
//! digest and live snapshots; a stop request ends an unbounded run with a report; closing the
//! JVM's stdin (weir dying) ends the JVM; a JVM that pre-touches its heap (`--pretouch`) runs
//! the job as any other; bad requests are clear errors; `--input` and
//! `--side-input` files reach the job, which names the line of a malformed event.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::digest::{Digest, ResultRow};
use weir_workloads::flink::{self, Install};
use weir_workloads::inputs::SideInput;
use weir_workloads::job::{RunError, RunLength, RunSpec, SourceMode};
use weir_workloads::nexmark::{NexmarkConfig, NexmarkSplit, format, reference};
use weir_workloads::references::{self, ReferenceInput};
use weir_workloads::runner;
use weir_workloads::split::WorkerSplit;

fn spec(query: &str, workers: usize, length: RunLength) -> RunSpec {
    RunSpec {
        workers,
        length,
        event_rate: 1_000,
        command: format!("test {query}"),
        ..RunSpec::new(
            Query::parse(Workload::Nexmark, query).expect("a catalog query"),
            EngineKind::Flink,
        )
    }
}

fn digest_of<R: ResultRow>(rows: &[R]) -> (u64, String) {
    let mut d = Digest::new();
    for r in rows {
        d.add(r);
    }
    (d.rows() as u64, d.hash_hex())
}

#[test]
fn a_run_reports_the_reference_digest_with_live_snapshots_and_output_rows() {
    let out = std::env::temp_dir().join(format!("weir-flink-run-{}.jsonl", std::process::id()));
    let mut s = spec("q5", 2, RunLength::Events(20_000));
    s.output = Some(out.clone());
    let job = runner::start(&s).unwrap_or_else(|e| panic!("{e}"));
    let collector = job.collector.clone();
    let report = job.wait().unwrap_or_else(|e| panic!("{e}"));

    let mut config = NexmarkConfig::with_events(20_000);
    config.event_rate = 1_000;
    let events: Vec<_> = NexmarkSplit::new(&config, WorkerSplit::SINGLE)
        .expect("valid")
        .collect();
    let (rows, hash) = digest_of(&reference::q5(&events));
    assert_eq!(
        (report.digest.rows, report.digest.hash.as_str()),
        (rows, hash.as_str())
    );
    assert_eq!(report.engine, "flink");
    assert_eq!(report.events, 20_000);
    assert_eq!((report.late, report.dropped), (0, 0));
    assert!(
        report.startup_s > 0.0,
        "JVM start-up is measured: {}",
        report.startup_s
    );
    assert!(report.wall_s > 0.0 && report.throughput_eps > 0.0);
    assert_eq!(report.versions.flink.as_deref(), Some("2.3.0"));
    assert!(report.versions.java.is_some());
    // Unpaced, the run may end before Flink's periodic watermark (200 ms) closes a window:
    // then every window closes at the end of input, whose results are reported apart.
    let latencies: Vec<_> = [report.latency_ns, report.end_of_input_latency_ns]
        .into_iter()
        .flatten()
        .collect();
    assert!(
        !latencies.is_empty() && latencies.iter().all(|l| l.samples > 0 && l.p50 <= l.max),
        "q5's windows have a measured latency: {latencies:?}"
    );

    let last = collector.latest();
    assert!(last.finished);
    assert_eq!(last.events_in(), 20_000);
    assert_eq!(last.workers.len(), 2);
    assert_eq!(last.watermark_ms, Some(i64::MAX), "the input ended");
    assert_eq!(last.events_total, Some(20_000));
    assert!(
        last.workers.iter().all(|w| w.busy_ns > 0),
        "busy time reaches the snapshots"
    );

    let text = std::fs::read_to_string(&out).expect("--output file written");
    let _ = std::fs::remove_file(&out);
    assert_eq!(text.lines().count() as u64, rows);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        assert!(v["auction"].is_u64() && v["num"].is_u64(), "{line}");
    }
}

#[test]
fn replay_gives_the_same_digest_as_generate() {
    let mut config = NexmarkConfig::with_events(30_000);
    config.event_rate = 1_000;
    let events: Vec<_> = NexmarkSplit::new(&config, WorkerSplit::SINGLE)
        .expect("valid")
        .collect();
    let (rows, hash) = digest_of(&reference::q11(&events));
    let mut s = spec("q11", 2, RunLength::Events(30_000));
    s.source = SourceMode::Replay;
    let report = runner::start(&s)
        .and_then(weir_workloads::job::Job::wait)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.source, "replay");
    assert_eq!(report.events, 30_000);
    assert_eq!(
        (report.digest.rows, report.digest.hash.as_str()),
        (rows, hash.as_str())
    );
}

/// `--pretouch` for Flink: the JVM starts with -XX:+AlwaysPreTouch (an option it would refuse
/// to start with if misspelt), writes its heap, and the job gives the reference's answer.
#[test]
fn a_run_whose_jvm_pre_touches_its_heap_gives_the_reference_digest() {
    let mut config = NexmarkConfig::with_events(20_000);
    config.event_rate = 1_000;
    let events: Vec<_> = NexmarkSplit::new(&config, WorkerSplit::SINGLE)
        .expect("valid")
        .collect();
    let (rows, hash) = digest_of(&reference::q11(&events));
    let s = RunSpec {
        jvm_pretouch: true,
        ..spec("q11", 1, RunLength::Events(20_000))
    };
    let report = runner::start(&s)
        .and_then(weir_workloads::job::Job::wait)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (report.digest.rows, report.digest.hash.as_str()),
        (rows, hash.as_str())
    );
}

#[test]
fn stop_ends_an_unbounded_run_with_a_report() {
    let mut s = spec("q0", 1, RunLength::Duration(Duration::from_hours(1)));
    s.rate = Some(5_000);
    s.event_rate = 5_000;
    let job = runner::start(&s).unwrap_or_else(|e| panic!("{e}"));
    let deadline = Instant::now() + Duration::from_mins(2);
    while job.collector.latest().events_in() == 0 {
        assert!(Instant::now() < deadline, "no progress from the Flink job");
        std::thread::sleep(Duration::from_millis(50));
    }
    job.stop.raise();
    let report = job.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(report.events > 0);
    assert!(
        report.events < 5_000 * 3600,
        "the stop ended the input early"
    );
    // q0 keeps every bid: 46 of every 50 ids, and the split stops at block boundaries.
    assert!(report.digest.rows > 0 && report.digest.rows <= report.events);
}

#[test]
fn the_jvm_exits_when_its_stdin_closes() {
    let install = Install::locate().unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = install.java();
    cmd.args(["run", "--watch-stdin", "--query", "q0", "--workers", "1"])
        .args([
            "--duration-ms",
            "3600000",
            "--rate",
            "1000",
            "--event-rate",
            "1000",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("java starts");
    let stdout = child.stdout.take().expect("piped");
    // Wait until the job runs, then close stdin as a dying parent would.
    let first = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("PROGRESS "));
    assert!(first.is_some(), "the job printed progress");
    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_mins(2);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            assert!(
                !status.success(),
                "the JVM halted, it did not finish the hour-long job"
            );
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the JVM kept running after its stdin closed");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn bad_requests_are_clear_errors() {
    let err = runner::start(&spec("gen", 1, RunLength::Events(10)))
        .expect_err("the baselines are weir's");
    assert!(
        matches!(&err, RunError::Config(m) if m.contains("--query gen") && m.contains("q11")),
        "{err}"
    );
    let mut s = spec("q0", 1, RunLength::Duration(Duration::from_secs(5)));
    s.source = SourceMode::Replay;
    let err = runner::start(&s).expect_err("replay of an unbounded input");
    assert!(
        matches!(&err, RunError::Config(m) if m.contains("--source replay")),
        "{err}"
    );
    let err = runner::start(&spec("q0", 0, RunLength::Events(10))).expect_err("0 workers");
    assert!(
        matches!(&err, RunError::Config(m) if m.contains("--workers")),
        "{err}"
    );
    assert!(Install::at(&std::env::temp_dir().join("no-flink-here")).is_none());
    assert!(flink::SETUP_HINT.contains("scripts/setup-flink.sh"));
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("weir-flink-run-{}-{name}", std::process::id()))
}

/// `weir run --input FILE --side-input FILE` on Flink: the job reads the events of the file
/// (CSV) and q13's side table from the other file (values that differ from the built-in
/// table's, keys in reverse order), and its digest is the reference's over both.
#[test]
fn q13_reads_events_and_its_side_table_from_files() {
    let config = NexmarkConfig {
        event_rate: 1_000,
        ..NexmarkConfig::with_events(6_000)
    };
    let events: Vec<_> = NexmarkSplit::new(&config, WorkerSplit::SINGLE)
        .expect("valid")
        .collect();
    let mut text = String::new();
    for e in &events {
        format::write_csv(&mut text, e);
    }
    let input = temp_path("q13-events.csv");
    std::fs::write(&input, text).expect("temp file");
    let side = temp_path("q13-side.csv");
    let mut table = String::new();
    for k in (0..10_000).rev() {
        // Quoted values with a comma: the job's CSV reader must unquote them.
        let _ = writeln!(table, "{k},\"v,{k}\"");
    }
    std::fs::write(&side, table).expect("temp file");

    let mut s = spec("q13", 2, RunLength::Events(6_000));
    s.source = SourceMode::Replay;
    s.input = Some(input.clone());
    s.side_input = Some(side.clone());
    let report = runner::start(&s)
        .unwrap_or_else(|e| panic!("{e}"))
        .wait()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut reference_input = ReferenceInput::from_file(&input).expect("the file parses");
    reference_input.side_input = SideInput::load(&side).expect("the table parses");
    let expected = references::digest(Query::Q13, &reference_input)
        .expect("no overflow")
        .expect("q13 is comparable");
    assert_eq!(report.events, 6_000);
    assert_eq!(report.digest, expected);
    let _ = std::fs::remove_file(&input);
    let _ = std::fs::remove_file(&side);
}

/// The job's own reader of event files names the file and the line of a malformed event (the
/// runner checks files first; the job checks again, so a file used directly is no less safe).
#[test]
fn the_jobs_file_reader_names_the_file_and_line() {
    let good = r#"{"kind":"bid","auction":1000,"bidder":1001,"price":5,"channel":"apple","url":"https://a","dateTime":1436918400000,"extra":""}"#;
    let cases = [
        (
            "missing.jsonl",
            format!("{good}\n{{\"kind\":\"bid\",\"auction\":1000}}\n"),
            "line 2: a bid needs the field \"bidder\"",
        ),
        (
            "price.csv",
            "bid,1000,1001,5,apple,https://a,1436918400000,\nbid,1000,1001,-5,apple,https://a,1436918400000,\n"
                .to_string(),
            "line 2: price must be a non-negative whole number",
        ),
        (
            "time.csv",
            "bid,1000,1001,5,apple,https://a,1436918400001,\nbid,1000,1001,5,apple,https://a,1436918400000,\n"
                .to_string(),
            "line 2: dateTime 1436918400000 is before the previous event's",
        ),
    ];
    for (name, text, what) in cases {
        let path = temp_path(name);
        std::fs::write(&path, text).expect("temp file");
        let err = flink::run_suite(1, 2, 1_000, &[Query::Q0], None, Some(path.as_path()))
            .expect_err("a malformed file");
        let message = err.to_string();
        assert!(
            message.contains(&format!("{}: {what}", path.display())),
            "{name}: {message}"
        );
        let _ = std::fs::remove_file(&path);
    }
}
