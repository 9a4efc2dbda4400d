//! `weir run` without a terminal (assert_cmd gives it pipes): flag validation, the progress
//! line on stderr, the summary on stdout, `--quiet`, `--json`.

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;
use weir_workloads::report::RunReport;

fn weir() -> Command {
    let mut cmd = Command::cargo_bin("weir").expect("the weir binary is built for tests");
    cmd.env_remove("WEIR_SIM_PANIC_AFTER_MS")
        .env_remove("NO_COLOR");
    cmd
}

fn sim(extra: &[&str]) -> Command {
    let mut cmd = weir();
    cmd.args(["run", "nexmark", "--engine", "sim", "--workers", "2"])
        .args(extra);
    cmd
}

#[test]
fn bad_flags_name_the_flag_and_the_valid_values() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "nexmark", "--query", "q23"],
            "unknown query 'q23' for nexmark (--query); valid values: gen, gen-bids, q0, q1, q2, q3, q4, q5, q6, q7, q8, q9, q10, q11, q12, q13, q14, q15, q16, q17, q18, q19, q20, q21, q22",
        ),
        (
            &[
                "run", "nexmark", "--query", "gen", "--engine", "timely", "--no-tui",
            ],
            "engine 'timely' cannot run nexmark query 'gen' (--engine timely --query gen): a \
             generator-only baseline measures weir's own source",
        ),
        (
            &["run", "nexmark", "--input", "/no/such/events.jsonl"],
            "--input /no/such/events.jsonl: cannot read it",
        ),
        (
            &["run", "ysb", "--input", "/no/such/events.jsonl"],
            "--input reads Nexmark events; ysb events are generated",
        ),
        (
            &[
                "run", "nexmark", "--input", "x.jsonl", "--source", "generate",
            ],
            "--input reads the file into memory before the clock starts",
        ),
        (
            &["run", "ysb", "--query", "q5"],
            "unknown query 'q5' for ysb (--query); valid values: gen, ysb",
        ),
        (
            &["run", "tpch"],
            "unknown workload 'tpch'; valid values: nexmark, ysb",
        ),
        (
            &["run", "--engine", "spark"],
            "unknown engine 'spark'; valid values: weir, timely, differential, flink, sim",
        ),
        (&["run", "--events", "0"], "--events must be at least 1"),
        (&["run", "--workers", "0"], "--workers must be at least 1"),
        (
            &["run", "--events", "10", "--duration", "5"],
            "'--events <N>' cannot be used with '--duration <TIME>'",
        ),
        (
            &["run", "--rate", "1000", "--event-rate", "2000"],
            "--rate 1000 and --event-rate 2000 disagree",
        ),
        (&["run", "--rate", "0"], "--rate must be at least 1"),
        (&["run", "--duration", "soon"], "invalid --duration 'soon'"),
        (
            &["run", "--duration", "0"],
            "--duration must be more than 0",
        ),
        (
            &["run", "--fps", "0"],
            "--fps 0 is out of range: use 1 to 60",
        ),
        (
            &["run", "--json", "/no/such/dir/r.json"],
            "--json /no/such/dir/r.json: the directory /no/such/dir does not exist",
        ),
        (
            &["run", "--source", "disk"],
            "unknown source mode 'disk'; valid values: generate, replay",
        ),
        (
            &["run", "--color", "sometimes"],
            "[possible values: auto, always, never]",
        ),
        (
            &["run", "--pretouch", "lots"],
            "'lots' is not a memory size: give a number of bytes with an optional unit",
        ),
        (
            &[
                "run",
                "--engine",
                "flink",
                "--flink-cluster",
                "127.0.0.1:8081",
                "--pretouch",
                "1G",
                "--no-tui",
            ],
            "--pretouch cannot reach a Flink cluster's task managers, which the cluster starts: \
             set -XX:+AlwaysPreTouch in their JVM options (env.java.opts.taskmanager), and \
             leave --pretouch out",
        ),
        (
            &["run", "--pretouch", "1000000T", "--no-tui"],
            "--pretouch 1024000000.00 GiB: that is ",
        ),
        (
            &["run", "--pretouch", "1000000T", "--no-tui"],
            "in whole blocks of 896 MiB, and this machine has only",
        ),
    ];
    for (args, message) in cases {
        weir()
            .args(*args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(contains(*message));
    }
}

#[test]
fn no_arguments_run_nexmark_q5_on_weir_or_say_clearly_why_not() {
    // `weir run` alone is Nexmark q5 on weir. Until the weir engine is wired into the runner
    // this is the runner's clear error (exit 2); once it is, a summary of q5 on weir.
    let out = weir()
        .args(["run", "--no-tui", "--events", "100000"])
        .output()
        .expect("weir runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    match out.status.code() {
        Some(0) => assert!(stdout.contains("weir nexmark q5: "), "{stdout}"),
        Some(2) => assert!(stderr.starts_with("error: engine 'weir'"), "{stderr}"),
        other => panic!("unexpected exit {other:?}: {stderr}"),
    }
}

#[test]
fn without_a_terminal_progress_goes_to_stderr_and_the_summary_to_stdout() {
    // 3 s at a paced 1 M events/s: three progress lines.
    let out = sim(&["--events", "3000000", "--rate", "1000000"])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    assert!(
        stdout.starts_with("weir run: nexmark q5 on sim, 2 workers, source generate, rate 1.00M/s"),
        "{stdout}"
    );
    for needle in [
        "Throughput",
        "Latency        p50",
        "p99.9",
        "Results",
        "digest",
        "Late, dropped  0 late, 0 dropped",
        "busy",
        "backpressured",
        "w1",
        "Machine",
        "Versions       weir",
        "sim nexmark q5: ",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in\n{stdout}");
    }
    // No escape sequences anywhere without a terminal.
    assert!(!stdout.contains('\u{1b}') && !stderr.contains('\u{1b}'));
    let progress: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("of 3.00M events"))
        .collect();
    assert!(
        progress.len() >= 2,
        "expected progress lines on stderr:\n{stderr}"
    );
    assert!(
        progress
            .iter()
            .all(|l| l.contains("ev/s") && l.contains("p99") && l.contains("late 0"))
    );
}

#[test]
fn quiet_prints_only_the_final_line() {
    sim(&["--events", "200000", "--quiet"])
        .assert()
        .success()
        .stderr("")
        .stdout(
            predicate::str::starts_with("sim nexmark q5: ")
                .and(contains("0 late, 0 dropped, digest "))
                .and(predicate::function(|s: &str| s.lines().count() == 1)),
        );
}

#[test]
fn json_to_stdout_is_pure_json_and_matches_the_schema() {
    let out = sim(&["--events", "400000", "--json", "-"])
        .assert()
        .success()
        .get_output()
        .clone();
    let report: RunReport = serde_json::from_slice(&out.stdout).expect("stdout is one RunReport");
    assert_eq!(report.schema_version, 1);
    assert_eq!(report.engine, "sim");
    assert_eq!(report.query, "q5");
    assert_eq!(report.workers, 2);
    assert_eq!(report.events, 400_000);
    assert_eq!(report.per_worker.len(), 2);
    assert_eq!(report.digest.hash.len(), 32);
    assert!(report.command.contains("--json -"), "{}", report.command);
    // The human summary went to stderr instead.
    assert!(String::from_utf8_lossy(&out.stderr).contains("Throughput"));
}

#[test]
fn json_to_a_file_keeps_the_summary_on_stdout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("run.json");
    sim(&["--events", "100000", "--json"])
        .arg(&path)
        .assert()
        .success()
        .stdout(contains("Throughput"));
    let report: RunReport =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("written")).expect("json");
    assert_eq!(report.events, 100_000);
    assert_eq!(report.rate, None);
    assert_eq!(report.event_rate, 10_000_000);
}

#[test]
fn rate_sets_the_event_rate_and_ysb_defaults_to_its_query() {
    let out = weir()
        .args([
            "run",
            "ysb",
            "--engine",
            "sim",
            "--workers",
            "1",
            "--events",
            "20000",
        ])
        .args(["--rate", "100000", "--json", "-", "--quiet"])
        .assert()
        .success()
        .get_output()
        .clone();
    let report: RunReport = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report.query, "ysb");
    assert_eq!(report.rate, Some(100_000));
    assert_eq!(report.event_rate, 100_000);
    assert!(
        out.stderr.is_empty(),
        "quiet with --json - prints nothing else"
    );
}

#[test]
fn a_worker_panic_is_a_job_error_and_a_non_zero_exit() {
    sim(&["--duration", "30"])
        .env("WEIR_SIM_PANIC_AFTER_MS", "200")
        .env("RUST_BACKTRACE", "0")
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains(
            "error: the job failed: the job's driver panicked: injected worker panic",
        ));
}

#[test]
fn pretouch_runs_before_the_clock_and_is_recorded_in_the_command() {
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("r.json");
    let out = weir()
        .args([
            "run",
            "nexmark",
            "--query",
            "q1",
            "--workers",
            "1",
            "--events",
            "100000",
        ])
        .args(["--no-tui", "--pretouch", "64M", "--json"])
        .arg(&json)
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    assert!(
        stderr.contains("pre-touched 896 MiB (--pretouch 64 MiB in whole blocks of 896 MiB) in ")
            && stderr.contains("before the run's clock"),
        "{stderr}"
    );
    let report: RunReport =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json written"))
            .expect("a RunReport");
    assert!(
        report.command.contains("--pretouch 64M"),
        "{}",
        report.command
    );
    assert_eq!(report.events, 100_000);
}

#[test]
fn help_lists_every_run_flag() {
    let out = weir()
        .args(["run", "--help"])
        .assert()
        .success()
        .get_output()
        .clone();
    let help = String::from_utf8(out.stdout).expect("utf-8");
    for flag in [
        "--query",
        "--engine",
        "--workers",
        "--events",
        "--duration",
        "--rate",
        "--event-rate",
        "--source",
        "--no-tui",
        "--json",
        "--output",
        "--quiet",
        "--color",
        "--ascii",
        "--fps",
        "--pretouch",
    ] {
        assert!(help.contains(flag), "missing {flag} in\n{help}");
    }
}

#[test]
fn no_arguments_mean_nexmark_q5_on_weir_one_worker_per_core_for_ten_seconds() {
    use clap::Parser;
    use weir_tui::cli::{Cli, Command as Sub};
    use weir_workloads::catalog::{EngineKind, Query, Workload};
    use weir_workloads::job::{RunLength, SourceMode};
    let cli = Cli::try_parse_from(["weir", "run"]).expect("no flags are needed");
    let Sub::Run(args) = cli.command else {
        panic!("`weir run` parses as the run command");
    };
    let spec = weir_tui::cmd_run::build_spec(&args, "weir run".into()).expect("valid defaults");
    assert_eq!(spec.workload(), Workload::Nexmark);
    assert_eq!(spec.query, Query::Q5);
    assert_eq!(spec.engine, EngineKind::Weir);
    assert_eq!(
        spec.workers,
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    );
    assert_eq!(
        spec.length,
        RunLength::Duration(std::time::Duration::from_secs(10))
    );
    assert_eq!(spec.rate, None);
    assert_eq!(
        spec.event_rate,
        weir_tui::cmd_run::DEMO_EVENT_RATE,
        "the demo's event rate, so that its windows fire within the 10 s"
    );
    assert_eq!(spec.source, SourceMode::Generate);
    assert!(spec.pinning);
    assert_eq!(spec.output, None);
}

#[test]
fn durations_accept_seconds_milliseconds_and_minutes() {
    use std::time::Duration;
    use weir_tui::cmd_run::parse_duration;
    assert_eq!(parse_duration("10"), Some(Duration::from_secs(10)));
    assert_eq!(parse_duration("2.5s"), Some(Duration::from_millis(2500)));
    assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
    assert_eq!(parse_duration("2m"), Some(Duration::from_mins(2)));
    assert_eq!(parse_duration("-1"), None);
    assert_eq!(parse_duration("ten"), None);
}

#[test]
fn color_follows_the_flag_and_no_color() {
    let bold = "\u{1b}[1m";
    sim(&["--events", "100000", "--color", "always"])
        .assert()
        .success()
        .stdout(contains(bold));
    sim(&["--events", "100000", "--color", "never"])
        .assert()
        .success()
        .stdout(contains('\u{1b}').not());
    // auto without a terminal: no colour, whatever NO_COLOR says.
    sim(&["--events", "100000"])
        .env("NO_COLOR", "1")
        .assert()
        .success()
        .stdout(contains('\u{1b}').not());
}

#[test]
fn run_help_snapshot() {
    let out = weir()
        .args(["run", "--help"])
        .env("COLUMNS", "100")
        .assert()
        .success()
        .get_output()
        .clone();
    insta::assert_snapshot!("run_help", String::from_utf8(out.stdout).expect("utf-8"));
}

#[test]
fn sigint_without_a_terminal_stops_the_job_and_still_prints_the_summary() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command as Std, Stdio};
    let mut child = Std::new(env!("CARGO_BIN_EXE_weir"))
        .args([
            "run",
            "nexmark",
            "--engine",
            "sim",
            "--workers",
            "2",
            "--duration",
            "120",
        ])
        .env_remove("WEIR_SIM_PANIC_AFTER_MS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weir starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
    let mut line = String::new();
    // The first progress line proves the job runs (and the handler is installed).
    while line.is_empty() || !line.contains("ev/s") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).expect("stderr") > 0,
            "stderr closed early"
        );
    }
    let kill = Std::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let status = child.wait().expect("weir exits");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut stdout)
        .expect("stdout");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).expect("stderr");
    assert_eq!(
        status.code(),
        Some(130),
        "SIGINT ends with 128 + 2; stderr: {rest}"
    );
    assert!(rest.contains("stopping"), "{rest}");
    assert!(stdout.contains("stopped early"), "{stdout}");
    assert!(stdout.contains("Throughput"), "{stdout}");
}

#[test]
fn output_is_handed_to_the_engine_and_needs_a_file_name() {
    use clap::Parser;
    use weir_tui::cli::{Cli, Command as Sub};
    let parse = |args: &[&str]| {
        let cli = Cli::try_parse_from(args).expect("parses");
        let Sub::Run(run) = cli.command else {
            panic!("the run command");
        };
        weir_tui::cmd_run::build_spec(&run, String::new())
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = dir.path().join("rows.jsonl");
    let rows_arg = rows.to_str().expect("utf-8 path");
    let spec = parse(&["weir", "run", "--output", rows_arg]).expect("valid");
    assert_eq!(spec.output.as_deref(), Some(rows.as_path()));
    let err = parse(&["weir", "run", "--output", "-"]).expect_err("stdout is not a file");
    assert!(err.starts_with("--output needs a file name"), "{err}");
    let err = parse(&["weir", "run", "--output", "/no/such/dir/rows.jsonl"]).expect_err("bad dir");
    assert!(err.contains("--output /no/such/dir/rows.jsonl"), "{err}");
}

#[test]
fn input_files_run_and_a_bad_line_is_named() {
    let dir = std::env::temp_dir().join(format!("weir-run-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ties = dir.join("ties.csv");
    let out = weir()
        .args([
            "gen",
            "nexmark",
            "--events",
            "3000",
            "--event-rate",
            "1000",
            "--ties",
        ])
        .args(["--format", "csv"])
        .output()
        .expect("weir gen runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&ties, &out.stdout).expect("writable");
    weir()
        .args([
            "run",
            "nexmark",
            "--query",
            "q7",
            "--no-tui",
            "--quiet",
            "--workers",
            "2",
        ])
        .arg("--input")
        .arg(&ties)
        .assert()
        .success()
        .stdout(contains("weir nexmark q7: ").and(contains("0 late, 0 dropped")));
    // The same file with its second line cut short.
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1] = "bid,1,2";
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, lines.join("\n")).expect("writable");
    weir()
        .args(["run", "nexmark", "--query", "q7", "--no-tui"])
        .arg("--input")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(contains(format!("--input {}: line 2: ", bad.display())));
    std::fs::remove_dir_all(&dir).expect("removable");
}

/// `weir run nexmark --query q10` needs no other flag: its files go to a fresh temporary
/// directory, named in the summary, where every partition is committed.
#[test]
fn q10_runs_with_no_other_flag_and_names_its_directory() {
    let out = weir()
        .args([
            "run", "nexmark", "--query", "q10", "--events", "20000", "--no-tui",
        ])
        .args(["--event-rate", "100", "--no-pin"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).expect("UTF-8");
    let dir = text
        .lines()
        .find_map(|l| l.strip_prefix("partitioned files: "))
        .unwrap_or_else(|| panic!("no directory in the summary:\n{text}"));
    let dir = std::path::Path::new(dir);
    let rows = weir_workloads::inputs::read_partitions(dir).expect("committed partitions");
    assert_eq!(rows.len(), 20_000 * 46 / 50);
    std::fs::remove_dir_all(dir).expect("clean up");
}

#[test]
fn timely_and_differential_summaries_name_the_bottleneck_from_timely_s_log() {
    for engine in ["timely", "differential"] {
        let out = weir()
            .env_remove("WEIR_TIMELY_OPERATORS")
            .args(["run", "nexmark", "--engine", engine, "--query", "q5"])
            .args(["--workers", "2", "--events", "200000", "--no-tui"])
            .assert()
            .success()
            .get_output()
            .clone();
        let stdout = String::from_utf8(out.stdout).expect("utf-8");
        let line = stdout
            .lines()
            .find(|l| l.starts_with("bottleneck (whole run): "))
            .unwrap_or_else(|| panic!("{engine}: no bottleneck line in\n{stdout}"));
        // Either an operator of the query on a worker, or the verdict that none holds the job
        // back, naming the busiest: both read "<operator>(q5) on w<i>".
        assert!(
            line.contains("(q5) on w0") || line.contains("(q5) on w1"),
            "{engine}: {line}"
        );
        assert!(
            stdout.contains("operators' own time on w"),
            "{engine}: {stdout}"
        );
        if engine == "timely" {
            let named = [
                "Source",
                "FlatMap",
                "Q5PaneCount",
                "Q5GlobalMax",
                "DigestSink",
            ];
            assert!(
                named.iter().any(|n| line.contains(&format!("{n}(q5)"))),
                "{line}"
            );
        }
    }
}

#[test]
fn timely_operator_metrics_turn_off_and_a_bad_value_is_named() {
    let base = [
        "run", "nexmark", "--engine", "timely", "--query", "q5", "--events", "50000", "--no-tui",
    ];
    weir()
        .env("WEIR_TIMELY_OPERATORS", "off")
        .args(base)
        .assert()
        .success()
        .stdout(contains("timely nexmark q5: ").and(contains("bottleneck").not()));
    weir()
        .env("WEIR_TIMELY_OPERATORS", "maybe")
        .args(base)
        .assert()
        .code(2)
        .stderr(contains(
            "WEIR_TIMELY_OPERATORS=maybe: expected 'on' or 'off'",
        ));
}

#[test]
fn run_flamegraph_writes_an_svg_of_the_engine_s_own_frames() {
    let dir = tempfile::tempdir().expect("temp dir");
    let svg = dir.path().join("q5.svg");
    let out = weir()
        .args(["run", "nexmark", "--engine", "weir", "--query", "q5"])
        .args([
            "--workers",
            "1",
            "--events",
            "3000000",
            "--no-tui",
            "--quiet",
        ])
        .arg("--flamegraph")
        .arg(&svg)
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("flame graph: "))
        .unwrap_or_else(|| panic!("no flame graph line in\n{stderr}"));
    let samples: usize = line
        .rsplit_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(" samples)"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a sample count in {line:?}"));
    assert!(samples > 0, "{line}");
    let text = std::fs::read_to_string(&svg).expect("the SVG is written");
    assert!(text.starts_with("<?xml") && text.contains("<svg"), "an SVG");
    assert!(text.contains("weir run nexmark q5 on weir"), "its title");
    // The run's own code is in it: the generator that feeds q5's source.
    assert!(
        text.contains("weir_workloads::nexmark"),
        "the engine's frames are named"
    );
}
