//! `weir gen` end to end: the printed events are the committed vectors, splits add up, and bad
//! flags get clear errors.

use assert_cmd::Command;
use predicates::prelude::*;

fn weir() -> Command {
    Command::cargo_bin("weir").expect("the weir binary is built for tests")
}

fn testdata(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../workloads/testdata")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn nexmark_jsonl_is_the_committed_first_20() {
    weir()
        .args(["gen", "nexmark", "--events", "20", "--format", "jsonl"])
        .assert()
        .success()
        .stdout(testdata("nexmark_first20.jsonl"));
}

#[test]
fn ysb_json_is_the_committed_first_20() {
    weir()
        .args(["gen", "ysb", "--events", "20", "--format", "json"])
        .assert()
        .success()
        .stdout(testdata("ysb_first20.jsonl"));
}

#[test]
fn csv_has_one_record_per_event() {
    let out = weir()
        .args(["gen", "nexmark", "--events", "100", "--format", "csv"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert_eq!(text.lines().count(), 100);
    assert_eq!(text.lines().filter(|l| l.starts_with("person,")).count(), 2);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("auction,")).count(),
        6
    );
    assert_eq!(text.lines().filter(|l| l.starts_with("bid,")).count(), 92);
}

#[test]
fn worker_shares_add_up_to_the_whole() {
    let whole = weir()
        .args(["gen", "nexmark", "--events", "3000", "--format", "csv"])
        .output()
        .expect("runs")
        .stdout;
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for w in 0..3 {
        let share = weir()
            .args(["gen", "nexmark", "--events", "3000", "--format", "csv"])
            .args(["--workers", "3", "--worker", &w.to_string()])
            .output()
            .expect("runs")
            .stdout;
        lines.extend(share.split(|&b| b == b'\n').map(<[u8]>::to_vec));
    }
    let mut expected: Vec<Vec<u8>> = whole.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    lines.retain(|l| !l.is_empty());
    expected.retain(|l| !l.is_empty());
    lines.sort();
    expected.sort();
    assert_eq!(lines, expected);
}

#[test]
fn bad_flags_are_named() {
    weir()
        .args(["gen", "nexmark", "--events", "5", "--event-rate", "0"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--event-rate"));
    weir()
        .args([
            "gen",
            "nexmark",
            "--events",
            "5",
            "--workers",
            "2",
            "--worker",
            "2",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--worker 2"));
    weir()
        .args([
            "gen",
            "nexmark",
            "--events",
            "5",
            "--workers",
            "0",
            "--worker",
            "0",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--workers"));
    weir()
        .args(["gen", "nexmark", "--events", "5", "--workers", "2"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--worker"));
    weir()
        .args(["gen", "nexmark", "--events", "5", "--format", "xml"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--format"));
    weir()
        .args(["gen", "nexmark"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--events"));
}
