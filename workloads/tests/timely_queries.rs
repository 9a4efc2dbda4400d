//! Every query on timely and on differential, at 1 and 2 workers, against the sequential
//! reference's digest (docs/WORKLOADS.md, section 7), plus q12's invariants, `--output` rows, the
//! replay source, the stop signal and flag errors.

#[path = "support/common.rs"]
mod common;

use std::path::PathBuf;

use weir_workloads::catalog::{EngineKind, Query, Support, Workload};
use weir_workloads::digest::{Digest, ResultRow};
use weir_workloads::job::{RunLength, RunSpec, SourceMode};
use weir_workloads::nexmark::reference as nx;
use weir_workloads::nexmark::{Event, EventKind, NexmarkConfig, NexmarkSplit, Q12Row};
use weir_workloads::references::{self, ReferenceInput};
use weir_workloads::report::{DigestSummary, RunReport};
use weir_workloads::runner;
use weir_workloads::split::{Split, WorkerSplit};

/// Small input, slow event time: 40 s of event time, so every window kind fires many times.
const EVENTS: u64 = 40_000;
const EVENT_RATE: u64 = 1_000;
const ENGINES: [EngineKind; 2] = [EngineKind::Timely, EngineKind::Differential];

fn spec(workload: Workload, query: &str, engine: EngineKind, workers: usize) -> RunSpec {
    RunSpec {
        workers,
        length: RunLength::Events(EVENTS),
        event_rate: EVENT_RATE,
        command: format!("test {engine} {query} -w {workers}"),
        ..RunSpec::new(
            Query::parse(workload, query).expect("a catalog query"),
            engine,
        )
    }
}

fn run(spec: &RunSpec) -> RunReport {
    runner::start(spec)
        .expect("the job starts")
        .wait()
        .expect("the job finishes")
}

fn nexmark_events() -> Vec<Event> {
    let config = NexmarkConfig {
        event_rate: EVENT_RATE,
        ..NexmarkConfig::with_events(EVENTS)
    };
    let mut split = NexmarkSplit::new(&config, WorkerSplit::SINGLE).expect("valid config");
    let mut events = Vec::new();
    while split.fill(&mut events, 4096) {}
    events
}

fn digest_of<R: ResultRow>(rows: &[R]) -> DigestSummary {
    let mut d = Digest::new();
    for r in rows {
        d.add(r);
    }
    d.summary()
}

fn check(workload: Workload, query: &str, engine: EngineKind, reference: &DigestSummary) {
    assert!(
        reference.rows > 0,
        "{query}: the reference has no rows; the test input is too small"
    );
    {
        for workers in [1, 2] {
            let report = run(&spec(workload, query, engine, workers));
            assert_eq!(
                &report.digest, reference,
                "{query} on {engine} with {workers} workers differs from the reference"
            );
            assert_eq!(report.engine, engine.as_str());
            assert_eq!(
                report.events, EVENTS,
                "a finished run reports the input size"
            );
            assert_eq!(report.late, 0);
            assert_eq!(report.dropped, 0);
            assert_eq!(report.per_worker.len(), workers);
        }
    }
}

/// Every query the catalog says each peer runs whose digest is comparable, at 1 and 2 workers.
#[test]
fn every_comparable_query_matches_its_reference() {
    let input = ReferenceInput::generate(EVENTS, EVENT_RATE).expect("a valid configuration");
    let mut skipped = Vec::new();
    for query in Query::all() {
        let Some(expected) = references::digest(query, &input).expect("no overflow") else {
            continue;
        };
        for engine in ENGINES {
            match query.support(engine) {
                Support::Runs(_) => check(query.workload(), query.name(), engine, &expected),
                Support::Not(why) => {
                    skipped.push(format!("{} {query} on {engine}: {why}", query.workload()));
                }
            }
        }
    }
    common::report_skipped("timely and differential, generated input", &skipped);
}

/// Events of the tie input read from a file.
const TIE_EVENTS: u64 = 20_000;

/// Every comparable Nexmark query each peer runs, over the tie input (bids sharing price and
/// time) read with `--input` (JSON lines), at 1 and 2 workers, against the reference over the
/// same events.
#[test]
fn the_tie_input_from_a_file_matches_the_reference() {
    let input = ReferenceInput::tied(TIE_EVENTS, EVENT_RATE).expect("a valid configuration");
    let path = common::event_file("timely-ties.jsonl", &input.nexmark, false);
    let mut skipped = Vec::new();
    for query in Query::of(Workload::Nexmark) {
        let Some(expected) = references::digest(query, &input).expect("no overflow") else {
            continue;
        };
        for engine in ENGINES {
            if let Support::Not(why) = query.support(engine) {
                skipped.push(format!("{query} on {engine}: {why}"));
                continue;
            }
            for workers in [1, 2] {
                let spec = RunSpec {
                    length: RunLength::Events(TIE_EVENTS),
                    source: SourceMode::Replay,
                    input: Some(path.clone()),
                    ..spec(Workload::Nexmark, query.name(), engine, workers)
                };
                let report = run(&spec);
                assert_eq!(
                    report.digest, expected,
                    "{query} on {engine} over the tie file with {workers} workers"
                );
                assert_eq!(report.events, TIE_EVENTS);
            }
        }
    }
    common::report_skipped("timely and differential, tie input from a file", &skipped);
    std::fs::remove_file(&path).expect("the test's file can be removed");
}

fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("weir-{}-{name}", std::process::id()))
}

fn read_lines(path: &PathBuf) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("the output file exists");
    std::fs::remove_file(path).expect("the output file can be removed");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

#[test]
fn q12_keeps_its_invariants() {
    let events = nexmark_events();
    for engine in ENGINES {
        for workers in [1, 2] {
            let path = temp_file(&format!("q12-{engine}-{workers}.jsonl"));
            let mut s = spec(Workload::Nexmark, "q12", engine, workers);
            s.output = Some(path.clone());
            let report = run(&s);
            let rows: Vec<Q12Row> = read_lines(&path)
                .iter()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
                    let int = |k: &str| v[k].as_u64().expect("an integer column");
                    Q12Row {
                        bidder: int("bidder"),
                        bid_count: int("bid_count"),
                        starttime: int("starttime"),
                        endtime: int("endtime"),
                    }
                })
                .collect();
            assert_eq!(rows.len() as u64, report.digest.rows);
            if let Err(e) = nx::q12_check(&rows, &events) {
                panic!("q12 on {engine} with {workers} workers: {e}");
            }
        }
    }
}

/// `--output` writes the final table: for q4 (an updating result, retractions folded) and q7,
/// exactly the reference's rows as JSON lines.
#[test]
fn output_rows_equal_the_reference_rows() {
    let events = nexmark_events();
    let expected_q4: Vec<String> = nx::q4(&events).iter().map(ResultRow::to_json).collect();
    let expected_q7: Vec<String> = nx::q7(&events).iter().map(ResultRow::to_json).collect();
    for engine in ENGINES {
        for (query, expected) in [("q4", &expected_q4), ("q7", &expected_q7)] {
            let path = temp_file(&format!("{query}-{engine}.jsonl"));
            let mut s = spec(Workload::Nexmark, query, engine, 2);
            s.output = Some(path.clone());
            run(&s);
            let mut expected = expected.clone();
            expected.sort();
            assert_eq!(read_lines(&path), expected, "{query} --output on {engine}");
        }
    }
}

#[test]
fn replay_source_gives_the_same_digest() {
    let reference = digest_of(&nx::q5(&nexmark_events()));
    for engine in ENGINES {
        let mut s = spec(Workload::Nexmark, "q5", engine, 2);
        s.source = SourceMode::Replay;
        let report = run(&s);
        assert_eq!(report.digest, reference, "q5 replay on {engine}");
        assert_eq!(report.source, "replay");
    }
}

#[test]
fn windowed_queries_report_latency_and_others_do_not() {
    let windowed = run(&spec(Workload::Nexmark, "q5", EngineKind::Timely, 2));
    let latency = windowed.latency_ns.expect("q5 results close windows");
    assert!(latency.samples > 0);
    // differential's windows are retracted just after they close; only the final results
    // (one sample per result update) reach the sink, those the end of input fires counted
    // apart (how many of them that is varies between these unpaced runs; the paced split is
    // checked exactly in end_of_input_latency.rs).
    let retracting = run(&spec(Workload::Nexmark, "q5", EngineKind::Differential, 2));
    let latency = retracting.latency_ns.expect("q5 results close windows");
    let end = retracting.end_of_input_latency_ns.map_or(0, |l| l.samples);
    assert_eq!(latency.samples + end, retracting.digest.rows);
    for engine in ENGINES {
        let updating = run(&spec(Workload::Nexmark, "q4", engine, 1));
        assert_eq!(
            updating.latency_ns, None,
            "q4 on {engine}: no window closes its result and no sample carries through"
        );
    }
    let differential_sessions = run(&spec(Workload::Nexmark, "q11", EngineKind::Differential, 1));
    assert_eq!(differential_sessions.latency_ns, None);
    assert_eq!(windowed.versions.timely.as_deref(), Some("0.32.0"));
}

/// The un-windowed queries sample the events with `id % 1024 == 0`: q0 and q1 make one row per
/// bid, so the latency samples are exactly the sampled ids that are bids, at any worker count.
#[test]
fn unwindowed_queries_sample_the_same_events_on_every_engine() {
    let expected = (0..EVENTS)
        .step_by(1024)
        .filter(|id| EventKind::of_id(*id) == EventKind::Bid)
        .count() as u64;
    assert!(expected > 10);
    for engine in ENGINES {
        for (query, workers) in [("q0", 1), ("q1", 2)] {
            let report = run(&spec(Workload::Nexmark, query, engine, workers));
            let latency = report
                .latency_ns
                .unwrap_or_else(|| panic!("{query} on {engine}: per-record latency"));
            assert_eq!(
                latency.samples, expected,
                "{query} on {engine} with {workers} workers"
            );
            assert!(latency.p50 <= latency.max);
        }
        // q2 keeps some bids: no more samples than sampled bids, and the digest is unchanged
        // by the stamps (checked by q2_matches_reference).
        let q2 = run(&spec(Workload::Nexmark, "q2", engine, 2));
        assert!(q2.latency_ns.is_none_or(|l| l.samples <= expected));
    }
}

/// `--pinning` pins timely's workers when the machine has a core for each, and the report
/// says whether it did.
#[test]
fn pinning_is_reported_truthfully() {
    let cores = core_affinity::get_core_ids().unwrap_or_default().len();
    let mut s = spec(Workload::Nexmark, "q0", EngineKind::Timely, 1);
    assert!(!run(&s).pinning, "pinning off");
    s.pinning = true;
    if cores >= 1 {
        assert!(run(&s).pinning, "one worker on {cores} cores is pinned");
    }
    s.workers = cores + 1;
    assert!(
        !run(&s).pinning,
        "{} workers on {cores} cores are not pinned",
        cores + 1
    );
}

#[test]
fn a_stopped_run_still_reports() {
    for engine in ENGINES {
        let mut s = spec(Workload::Nexmark, "q5", engine, 2);
        s.length = RunLength::Events(u64::MAX);
        let job = runner::start(&s).expect("the job starts");
        job.stop.raise();
        let report = job.wait().expect("a stopped job still reports");
        assert!(report.events < u64::MAX);
    }
}

#[test]
fn bad_flags_are_errors_naming_the_flag() {
    let mut s = spec(Workload::Nexmark, "gen", EngineKind::Timely, 1);
    let err = runner::start(&s)
        .expect_err("the baselines are weir's")
        .to_string();
    assert!(
        err.contains("cannot run nexmark query 'gen'") && err.contains("q5"),
        "{err}"
    );
    s.query = Query::Q5;
    s.workers = 0;
    let err = runner::start(&s).expect_err("0 workers").to_string();
    assert!(err.contains("--workers"), "{err}");
    s.workers = 1;
    s.rate = Some(5);
    let err = runner::start(&s)
        .expect_err("rate != event rate")
        .to_string();
    assert!(err.contains("--rate"), "{err}");
    s.rate = None;
    s.event_rate = 0;
    let err = runner::start(&s).expect_err("event rate 0").to_string();
    assert!(err.contains("--event-rate"), "{err}");
}

/// q10 writes its partitioned files: read back, they hold exactly the rows the run emitted
/// (same digest), every partition is committed, at 1 and 2 workers on both engines.
#[test]
fn q10_files_hold_exactly_the_emitted_rows() {
    use weir_workloads::inputs::read_partitions;
    let input = ReferenceInput::generate(EVENTS, EVENT_RATE).expect("a valid configuration");
    let expected = references::digest(Query::Q10, &input)
        .expect("no overflow")
        .expect("q10 is comparable");
    for engine in ENGINES {
        for workers in [1, 2] {
            let dir = temp_file(&format!("q10-{engine}-{workers}"));
            let s = RunSpec {
                sink_dir: Some(dir.clone()),
                ..spec(Workload::Nexmark, "q10", engine, workers)
            };
            let report = run(&s);
            assert_eq!(
                report.digest, expected,
                "q10 on {engine}, {workers} workers"
            );
            let rows = read_partitions(&dir).expect("every partition is complete and committed");
            assert_eq!(
                digest_of(&rows),
                report.digest,
                "q10's files on {engine} with {workers} workers hold the emitted rows"
            );
            std::fs::remove_dir_all(&dir).expect("the test's directory can be removed");
        }
    }
}

/// q10 with a `--sink-dir` that cannot be created is a flag error naming it, before any run.
#[test]
fn q10_unwritable_sink_dir_is_a_flag_error() {
    for engine in ENGINES {
        let s = RunSpec {
            sink_dir: Some(PathBuf::from("/proc/weir-cannot-write-here")),
            ..spec(Workload::Nexmark, "q10", engine, 1)
        };
        let Err(err) = runner::start(&s) else {
            panic!("{engine}: an unwritable directory is refused");
        };
        let text = err.to_string();
        assert!(
            text.contains("--sink-dir") && text.contains("/proc/weir-cannot-write-here"),
            "{engine}: {text}"
        );
    }
}

/// q13 with `--side-input`: the table from the file is the one joined, on both engines.
#[test]
fn q13_reads_its_side_input_file() {
    use std::fmt::Write as _;
    use weir_workloads::inputs::SideInput;
    let path = temp_file("side.csv");
    let mut text = String::new();
    for key in 0..10_000 {
        let _ = writeln!(text, "{key},\"v,{}\"", key * 7);
    }
    std::fs::write(&path, text).expect("the test's side file is written");
    let mut input = ReferenceInput::generate(EVENTS, EVENT_RATE).expect("a valid configuration");
    input.side_input = SideInput::load(&path).expect("a valid side file");
    let expected = references::digest(Query::Q13, &input)
        .expect("no overflow")
        .expect("q13 is comparable");
    let builtin = references::digest(
        Query::Q13,
        &ReferenceInput {
            side_input: SideInput::builtin(),
            ..input.clone()
        },
    )
    .expect("no overflow");
    assert_ne!(
        Some(expected.clone()),
        builtin,
        "the test table differs from the built-in one"
    );
    for engine in ENGINES {
        for workers in [1, 2] {
            let s = RunSpec {
                side_input: Some(path.clone()),
                ..spec(Workload::Nexmark, "q13", engine, workers)
            };
            assert_eq!(
                run(&s).digest,
                expected,
                "q13 on {engine}, {workers} workers"
            );
        }
    }
    std::fs::remove_file(&path).expect("the test's side file can be removed");
}
