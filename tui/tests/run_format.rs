//! `--format` on `weir run` and `weir compare` (YSB's JSON lines, weir only), and the latency
//! that `weir run` now reports for the un-windowed Nexmark queries on weir.

use assert_cmd::Command;
use predicates::str::contains;
use weir_workloads::nexmark::EventKind;
use weir_workloads::report::RunReport;

fn weir() -> Command {
    let mut cmd = Command::cargo_bin("weir").expect("the weir binary is built for tests");
    cmd.env_remove("WEIR_SIM_PANIC_AFTER_MS")
        .env_remove("NO_COLOR");
    cmd
}

fn report_of(args: &[&str]) -> RunReport {
    let out = weir()
        .args(["run"])
        .args(args)
        .args(["--no-tui", "--no-pin", "--json", "-"])
        .assert()
        .success()
        .get_output()
        .clone();
    serde_json::from_slice(&out.stdout).expect("stdout is one RunReport")
}

#[test]
fn format_errors_name_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "nexmark", "--query", "q1", "--format", "json"],
            "--format json is for ysb only",
        ),
        (
            &["run", "ysb", "--engine", "timely", "--format", "json"],
            "--format json is implemented on weir only; timely reads YSB as in-memory records",
        ),
        (
            &["run", "ysb", "--format", "xml"],
            "unknown event format 'xml'; valid values: records, json",
        ),
        (
            &["compare", "nexmark", "--format", "json"],
            "--format json is for ysb only",
        ),
        (
            &[
                "compare",
                "ysb",
                "--engines",
                "weir,flink",
                "--format",
                "json",
            ],
            "--format json is implemented on weir only; --engines lists flink",
        ),
        (&["compare", "ysb", "--format", "csv"], "--format"),
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
fn ysb_json_on_weir_gives_the_records_digest() {
    let common = [
        "ysb",
        "--events",
        "50000",
        "--event-rate",
        "1000",
        "--workers",
        "2",
    ];
    let records = report_of(&common);
    let mut json_args = common.to_vec();
    json_args.extend(["--format", "json", "--source", "replay"]);
    let json = report_of(&json_args);
    assert!(records.digest.rows > 0);
    assert_eq!(json.digest, records.digest);
    assert!(json.command.contains("--format json"), "{}", json.command);
}

#[test]
fn paced_q1_on_weir_reports_latency() {
    let events: u64 = 50_000;
    let report = report_of(&[
        "nexmark",
        "--query",
        "q1",
        "--events",
        "50000",
        "--rate",
        "500000",
        "--workers",
        "2",
    ]);
    let sampled_bids = (0..events)
        .step_by(1024)
        .filter(|&id| EventKind::of_id(id) == EventKind::Bid)
        .count() as u64;
    let latency = report.latency_ns.expect("q1 on weir reports latency");
    assert_eq!(latency.samples, sampled_bids);
    assert!(latency.p50 <= latency.p99 && latency.p99 <= latency.max);
}
