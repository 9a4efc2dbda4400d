//! Every query on the real Flink (local MiniCluster, JVM subprocess) produces the digest of the
//! sequential reference, at parallelism 1 and 2: every query the catalog says Flink runs, the
//! comparable ones exactly, q12 (processing time) by its invariants.
//!
//! All queries of one parallelism run in one JVM (`weir.flink.Main suite`), so each test pays
//! the JVM start-up once. The tie input (bids sharing price and time, docs/WORKLOADS.md 4.6)
//! is read back from a file with `--input` (JSON lines at parallelism 2, CSV at 1), which also
//! checks the Java reader of event files. q10's partitioned files are read back after every
//! suite, and once more after a run through the runner whose input spans several minutes.
//! Fails, naming the setup command, when `scripts/setup-flink.sh` has not been run.

#[path = "support/common.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use weir_workloads::catalog::{EngineKind, Query, Support, Workload};
use weir_workloads::digest::Digest;
use weir_workloads::flink::{self, protocol::SuiteLine};
use weir_workloads::inputs::read_partitions;
use weir_workloads::job::{Job, RunError, RunLength, RunSpec};
use weir_workloads::nexmark::{Q12Row, reference};
use weir_workloads::references::{self, ReferenceInput};
use weir_workloads::report::DigestSummary;
use weir_workloads::runner;

/// Small enough for CI, with a low event rate so that windows fire many times (50 s of event
/// time: 25 hopping windows for q5, 5 tumbling windows with boundary bids for q7).
const EVENTS: u64 = 50_000;
const EVENT_RATE: u64 = 1_000;
/// Events of the tie input read from a file.
const TIE_EVENTS: u64 = 20_000;

fn q12_rows(path: &std::path::Path) -> Vec<Q12Row> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("bad q12 row ({e}): {l}"));
            let field = |k: &str| {
                v[k].as_u64()
                    .unwrap_or_else(|| panic!("q12 row without integer {k}: {l}"))
            };
            Q12Row {
                bidder: field("bidder"),
                bid_count: field("bid_count"),
                starttime: field("starttime"),
                endtime: field("endtime"),
            }
        })
        .collect()
}

/// Runs every query the catalog says Flink runs (of the Nexmark workload only, with a `file`)
/// in one JVM and returns the failures of the comparable ones against the reference digests.
fn mismatches(
    workers: usize,
    input: &ReferenceInput,
    events: u64,
    file: Option<&Path>,
    dir: &Path,
) -> (Vec<String>, BTreeMap<String, SuiteLine>) {
    let (queries, skipped): (Vec<Query>, Vec<Query>) = Query::all()
        .filter(|q| file.is_none() || q.workload() == Workload::Nexmark)
        .partition(|q| q.support(EngineKind::Flink).runs());
    let skipped: Vec<String> = skipped
        .iter()
        .map(|q| match q.support(EngineKind::Flink) {
            Support::Not(why) => format!("{} {q}: {why}", q.workload()),
            Support::Runs(api) => unreachable!("{q} runs on Flink ({api})"),
        })
        .collect();
    let what = if file.is_some() {
        "the tie input from a file"
    } else {
        "generated input"
    };
    common::report_skipped(&format!("flink at parallelism {workers}, {what}"), &skipped);
    let lines = flink::run_suite(workers, events, EVENT_RATE, &queries, Some(dir), file)
        .unwrap_or_else(|e| panic!("{e}"));
    let got: BTreeMap<String, SuiteLine> =
        lines.into_iter().map(|l| (l.query.clone(), l)).collect();
    let mut failures = Vec::new();
    for &query in &queries {
        let Some(expected) = references::digest(query, input).expect("no overflow") else {
            continue;
        };
        let (rows, hash) = (expected.rows, expected.hash);
        let query = query.name();
        let line = got
            .get(query)
            .unwrap_or_else(|| panic!("Flink printed no result for {query}"));
        assert_eq!(line.events, events, "{query}: events read");
        assert_eq!(line.late, 0, "{query}: late records");
        if (line.rows, line.hash.as_str()) != (rows, hash.as_str()) {
            failures.push(format!(
                "{query} at parallelism {workers} ({what}): Flink {} rows {}, reference {rows} rows {hash}",
                line.rows, line.hash
            ));
        }
    }
    (failures, got)
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("weir-flink-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn check(workers: usize) {
    let dir = temp_dir(&format!("queries-{workers}"));
    let input = ReferenceInput::generate(EVENTS, EVENT_RATE).expect("a valid configuration");
    let (mut failures, got) = mismatches(workers, &input, EVENTS, None, &dir);
    assert!(got.contains_key("q12") && got.contains_key("ysb"));
    let q12 = got.get("q12").expect("Flink printed no result for q12");
    assert_eq!(q12.events, EVENTS);
    let rows = q12_rows(&dir.join("q12.jsonl"));
    assert_eq!(
        rows.len() as u64,
        q12.rows,
        "q12: --output rows vs digest rows"
    );
    if let Err(e) = reference::q12_check(&rows, &input.nexmark) {
        failures.push(format!("q12 at parallelism {workers}: {e}"));
    }
    let q10 = got.get("q10").expect("Flink printed no result for q10");
    check_q10_files(&dir.join("q10"), &emitted(q10), workers);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "digest mismatches:\n{}",
        failures.join("\n")
    );
}

/// The digest of the rows a suite's query emitted.
fn emitted(line: &SuiteLine) -> DigestSummary {
    DigestSummary {
        rows: line.rows,
        hash: line.hash.clone(),
    }
}

/// q10's files under `dir`, read back: every partition is committed (`_SUCCESS`), every row
/// is in the partition of its `dateTime` and no in-progress or other hidden file is left
/// (`read_partitions`, and the walk here); the rows' digest is `emitted`, the digest of the rows
/// the job emitted. Returns the number of partitions.
fn check_q10_files(dir: &Path, emitted: &DigestSummary, workers: usize) -> usize {
    let rows = read_partitions(dir).unwrap_or_else(|e| panic!("q10 at parallelism {workers}: {e}"));
    let mut digest = Digest::new();
    for row in &rows {
        digest.add(row);
    }
    assert_eq!(
        &digest.summary(),
        emitted,
        "q10 at parallelism {workers}: the files under {} hold the rows emitted",
        dir.display()
    );
    let mut partitions = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).expect("a directory of q10's") {
            let path = entry.expect("an entry").path();
            let name = path.file_name().expect("a name").to_string_lossy();
            if path.is_dir() {
                partitions += usize::from(name.starts_with("hm="));
                stack.push(path);
            } else {
                assert!(
                    !name.starts_with('.') && (!name.starts_with('_') || name == "_SUCCESS"),
                    "q10 at parallelism {workers}: {} is left after the run",
                    path.display()
                );
            }
        }
    }
    partitions
}

// One test per parallelism, each running its JVMs one after another, and the q10 run after the
// one at parallelism 1 (they share `ONE_JVM`): two JVMs at a time at most (each has a 4 GB heap).

/// Held by the tests that would otherwise make a third JVM run at the same time.
static ONE_JVM: Mutex<()> = Mutex::new(());

#[test]
fn every_query_matches_the_reference_at_parallelism_1_also_over_the_tie_input_from_csv() {
    let _jvm = ONE_JVM.lock().unwrap_or_else(PoisonError::into_inner);
    check(1);
    check_ties(1, true);
}

/// q10 through the runner, as `weir run --engine flink --query q10 --sink-dir DIR` runs it: at
/// 200 events/s of event time, 50,000 events span more than four minutes, so several
/// partitions are written by both subtasks and committed by the watermark; read back, they
/// hold exactly the rows the run emitted, which are the reference's.
#[test]
fn q10_files_read_back_hold_exactly_the_rows_emitted_and_every_partition_is_committed() {
    const Q10_EVENTS: u64 = 50_000;
    const Q10_EVENT_RATE: u64 = 200;
    let spec = |sink_dir: Option<PathBuf>, flink_cluster: Option<String>| RunSpec {
        workers: 2,
        length: RunLength::Events(Q10_EVENTS),
        event_rate: Q10_EVENT_RATE,
        sink_dir,
        flink_cluster,
        ..RunSpec::new(Query::Q10, EngineKind::Flink)
    };
    // Refused before any JVM starts: a directory that cannot be made, and a remote cluster.
    let refused = |s: &RunSpec| match runner::start(s) {
        Err(RunError::Config(message)) => message,
        Err(other) => panic!("expected a flag error, got {other}"),
        Ok(_) => panic!("expected a flag error, the job started"),
    };
    let message = refused(&spec(Some("/proc/weir-cannot-write-here".into()), None));
    assert!(
        message.starts_with("--sink-dir /proc/weir-cannot-write-here"),
        "{message}"
    );
    let message = refused(&spec(None, Some("127.0.0.1:1".into())));
    assert!(
        message.contains("q10") && message.contains("--flink-cluster"),
        "{message}"
    );

    let input =
        ReferenceInput::generate(Q10_EVENTS, Q10_EVENT_RATE).expect("a valid configuration");
    let expected = references::digest(Query::Q10, &input)
        .expect("no overflow")
        .expect("q10 is comparable");
    let dir = temp_dir("q10-run").join("files");
    let _jvm = ONE_JVM.lock().unwrap_or_else(PoisonError::into_inner);
    let report = runner::start(&spec(Some(dir.clone()), None))
        .and_then(Job::wait)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.digest, expected, "q10 on flink at parallelism 2");
    let partitions = check_q10_files(&dir, &report.digest, 2);
    assert!(partitions >= 4, "{partitions} partitions");
    let _ = std::fs::remove_dir_all(dir.parent().expect("the test's directory"));
}

#[test]
fn every_query_matches_the_reference_at_parallelism_2_also_over_the_tie_input_from_json_lines() {
    check(2);
    check_ties(2, false);
}

fn check_ties(workers: usize, csv: bool) {
    let input = ReferenceInput::tied(TIE_EVENTS, EVENT_RATE).expect("a valid configuration");
    let name = if csv { "ties.csv" } else { "ties.jsonl" };
    let file = common::event_file(&format!("flink-{workers}-{name}"), &input.nexmark, csv);
    let dir = temp_dir(&format!("ties-{workers}"));
    let (failures, got) = mismatches(workers, &input, TIE_EVENTS, Some(file.as_path()), &dir);
    let q10 = got.get("q10").expect("Flink printed no result for q10");
    check_q10_files(&dir.join("q10"), &emitted(q10), workers);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&file);
    assert!(
        failures.is_empty(),
        "digest mismatches:\n{}",
        failures.join("\n")
    );
}
