//! `weir compare` as a user runs it: flags, errors, exit codes, stdout/stderr, files.

use std::fs;

use assert_cmd::Command;
use predicates::prelude::*;
use weir_tui::compare::record::CompareReport;

/// The engines of the "real small compare" on q5: every real engine, Flink included (the test
/// command installs Flink before the tests run), so the test checks that they all agree on q5's
/// digest and that every export is written.
const REAL_ENGINES: &str = "weir,timely,differential,flink";

fn weir() -> Command {
    let mut cmd =
        Command::cargo_bin("weir").expect("the weir binary is built for integration tests");
    cmd.env_remove("NO_COLOR").env("COLUMNS", "100");
    cmd
}

#[test]
fn real_small_compare_on_q5_agrees_and_writes_every_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("cmp");
    let assert = weir()
        .args([
            "compare",
            "nexmark",
            "--query",
            "q5",
            "--engines",
            REAL_ENGINES,
        ])
        .args([
            "--runs",
            "2",
            "--workers",
            "1",
            "--events",
            "200000",
            // 10 s of event time: q5's windows close while the stream runs, so the runs have
            // latency to plot (not only the end-of-input flush, which is reported apart).
            "--event-rate",
            "20000",
            "--no-tui",
        ])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stdout.contains("digests agree"), "{stdout}");
    assert!(
        !stdout.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    assert!(
        stderr.contains("round 2/2"),
        "progress goes to stderr: {stderr}"
    );

    let report =
        CompareReport::from_json(&fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let engines = REAL_ENGINES.split(',').count();
    assert_eq!(report.runs.len(), 2 * engines);
    assert_eq!(report.warmups.len(), engines);
    assert!(report.summary.digests_agree);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let first = &report.runs[0].digest;
    assert!(
        report
            .runs
            .iter()
            .all(|r| r.digest == *first && r.events == 200_000)
    );
    for file in [
        "report.json",
        "report.csv",
        "report.md",
        "throughput.svg",
        "throughput.png",
        "cpu.svg",
        "cpu.png",
        "latency-q5.svg",
        "latency-q5.png",
        "timeline-q5.svg",
        "timeline-q5.png",
    ] {
        let len = fs::metadata(out.join(file)).unwrap().len();
        assert!(len > 200, "{file} has {len} bytes");
    }
}

#[test]
fn flamegraph_dir_gets_one_graph_per_engine_and_query_of_the_warm_up() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("flames");
    let assert = weir()
        .args(["compare", "nexmark", "--query", "q1,q2"])
        .args(["--engines", "weir,differential", "--runs", "2"])
        .args(["--workers", "1", "--events", "2000000", "--no-tui"])
        .arg("--flamegraph")
        .arg(&dir)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // One per engine and query, not one per run (three runs each: the warm-up and two).
    assert_eq!(
        names,
        [
            "nexmark-q1-differential-w1-generate.svg",
            "nexmark-q1-weir-w1-generate.svg",
            "nexmark-q2-differential-w1-generate.svg",
            "nexmark-q2-weir-w1-generate.svg",
        ]
    );
    for name in &names {
        let svg = fs::read_to_string(dir.join(name)).unwrap();
        assert!(svg.contains("<svg"), "{name} is not an SVG");
        assert!(
            stderr.contains(name.as_str()),
            "{name} not reported: {stderr}"
        );
    }
}

#[test]
fn an_unwritable_flamegraph_dir_is_refused_before_any_run() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    fs::write(&file, "").unwrap();
    let assert = weir()
        .args(["compare", "nexmark", "--query", "q1", "--engines", "weir"])
        .args(["--runs", "1", "--events", "1000", "--no-tui"])
        .arg("--flamegraph")
        .arg(file.join("sub"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("--flamegraph"), "{stderr}");
    assert!(!stderr.contains("round 1"), "no run started: {stderr}");
}

#[test]
fn mock_compare_snapshot_and_exit_code_on_disagreement() {
    let tmp = tempfile::tempdir().unwrap();
    let assert = weir()
        .args(["compare", "nexmark", "--mock", "--query", "q5,q7"])
        .args([
            "--runs",
            "3",
            "--workers",
            "2",
            "--events",
            "1000000",
            "--no-tui",
        ])
        .args(["--color", "never", "--out"])
        .arg(tmp.path())
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    insta::assert_snapshot!("cli_mock_q5_q7", stdout);
}

#[test]
fn mock_compare_with_colour_always_is_red_on_disagreement() {
    weir()
        .args([
            "compare", "nexmark", "--mock", "--query", "q7", "--runs", "3",
        ])
        .args(["--workers", "1", "--no-tui", "--color", "always"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "\x1b[1;31mDIGEST DISAGREEMENT on q7",
        ));
}

#[test]
fn agreeing_mock_compare_exits_zero_and_compares_with_its_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("first");
    weir()
        .args([
            "compare",
            "ysb",
            "--mock",
            "--engines",
            "weir,timely",
            "--runs",
            "3",
        ])
        .args(["--workers", "1", "--no-tui", "--out"])
        .arg(&first)
        .assert()
        .success();
    weir()
        .args([
            "compare",
            "ysb",
            "--mock",
            "--engines",
            "weir,timely",
            "--runs",
            "3",
        ])
        .args(["--workers", "1", "--no-tui", "--baseline"])
        .arg(first.join("report.json"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "against the baseline of 2026-01-01T00:00:00Z",
        ))
        .stdout(predicate::str::contains("ysb weir").and(predicate::str::contains("within noise")));
}

/// `--max-memory`: a run whose process holds more is stopped and recorded as failed with the
/// memory it held, and the comparison goes on with the next engine (exit status 1).
#[test]
fn a_run_over_the_memory_limit_is_stopped_and_reported_and_the_others_go_on() {
    let assert = weir()
        .args([
            "compare",
            "nexmark",
            "--engines",
            "weir,timely",
            "--query",
            "q5",
        ])
        .args([
            "--runs",
            "1",
            "--workers",
            "1",
            "--events",
            "100000",
            "--no-tui",
        ])
        .args(["--max-memory", "1M"])
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    for engine in ["weir", "timely"] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("q5 {engine} warm-up: failed: stopped with ")))
            .unwrap_or_else(|| panic!("no stopped warm-up of {engine}: {stdout}"));
        assert!(
            line.contains("over the limit of 1 MiB (--max-memory 1 MiB)"),
            "{line}"
        );
    }
}

/// The memory the weir process touched for its engines, and Flink's heap touched by each
/// run's JVM, as the setup line and report.json state them for each mix of engines.
#[test]
fn pretouch_is_stated_in_the_setup_line_and_the_report() {
    let compare = |engines: &str| {
        let tmp = tempfile::tempdir().unwrap();
        let assert = weir()
            .args([
                "compare", "nexmark", "--mock", "--query", "q7", "--runs", "1",
            ])
            .args(["--engines", engines, "--no-tui", "--color", "never"])
            .args(["--pretouch", "1.5G", "--out"])
            .arg(tmp.path())
            .assert()
            .success();
        let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
        let json = std::fs::read_to_string(tmp.path().join("report.json")).expect("report.json");
        (stdout, json)
    };
    let touched = format!("\"pretouch_bytes\": {}", 1792_u64 << 20);

    let (stdout, json) = compare("weir,timely");
    assert!(
        stdout.contains("round-robin, 1.75 GiB pre-touched before the first run\n"),
        "{stdout}"
    );
    assert!(json.contains(&touched), "{json}");
    assert!(json.contains("\"flink_pretouch\": false"), "{json}");

    let (stdout, json) = compare("weir,flink");
    assert!(
        stdout.contains(
            "round-robin, 1.75 GiB pre-touched before the first run (Flink: its heap, by each \
             run's JVM)"
        ),
        "{stdout}"
    );
    assert!(json.contains(&touched), "{json}");
    assert!(json.contains("\"flink_pretouch\": true"), "{json}");

    // Flink alone: nothing runs in the weir process, so nothing is touched there.
    let (stdout, json) = compare("flink");
    assert!(
        stdout.contains(
            "round-robin, Flink's heap pre-touched by each run's JVM (-XX:+AlwaysPreTouch)"
        ),
        "{stdout}"
    );
    assert!(json.contains("\"pretouch_bytes\": 0"), "{json}");
    assert!(json.contains("\"flink_pretouch\": true"), "{json}");
}

#[test]
fn bad_flags_name_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (&["--runs", "0"], "--runs must be at least 1"),
        (&["--workers", "0"], "--workers must be at least 1"),
        (&["--events", "0"], "--events must be at least 1"),
        (
            &["--engines", "weir,spark"],
            "--engines: unknown engine 'spark'",
        ),
        (&["--engines", "weir,weir"], "--engines lists 'weir' twice"),
        (
            &["--query", "q55"],
            "unknown query 'q55' for nexmark (--query)",
        ),
        (
            &["--source", "disk"],
            "--source: unknown source mode 'disk'",
        ),
        (
            &["--rate", "1000", "--event-rate", "5"],
            "--event-rate (5) must equal --rate (1000)",
        ),
        (
            &["--baseline", "/nonexistent/report.json"],
            "--baseline /nonexistent/report.json",
        ),
        (&["--noise-threshold", "120"], "--noise-threshold"),
        (&["--max-memory", "12X"], "'12X' is not a memory size"),
        (&["--pretouch", "auto"], "'auto' is not a memory size"),
    ];
    for (args, message) in cases {
        weir()
            .args(["compare", "nexmark", "--mock", "--no-tui"])
            .args(*args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(*message));
    }
    weir()
        .args(["compare", "tpch", "--mock"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown workload 'tpch'"));
}

#[test]
fn an_engine_that_cannot_run_is_reported_not_hidden() {
    // `flink` does not run the generator-only baseline (the catalog says why); the verdict
    // says so, and with nothing measured at all the exit code is 1.
    weir()
        .args([
            "compare",
            "nexmark",
            "--mock",
            "--query",
            "gen",
            "--engines",
            "flink",
        ])
        .args(["--runs", "1", "--no-tui"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "unsupported: engine 'flink' cannot run nexmark query 'gen'",
        ))
        .stdout(predicate::str::contains(
            "no engine completed a measured run",
        ));
}

#[test]
fn help_snapshot() {
    let out = weir().args(["compare", "--help"]).assert().success();
    insta::assert_snapshot!(
        "cli_help",
        String::from_utf8_lossy(&out.get_output().stdout).into_owned()
    );
}
