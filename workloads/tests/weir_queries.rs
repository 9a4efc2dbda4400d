//! Every query on the weir engine against its sequential reference: 1, 2 and 3 workers, in
//! `generate` and `replay` mode, on 100,000 events at 1,000 events/s of event time (100 s:
//! ten 10 s tumbling windows, fifty hopping windows, many sessions and q4 auctions), plus
//! paced runs, `--output` rows and q12's invariants.

#[path = "support/common.rs"]
mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use weir_workloads::catalog::{EngineKind, Query, Support, Workload};
use weir_workloads::digest::ResultRow;
use weir_workloads::job::{RunLength, RunSpec, SourceMode};
use weir_workloads::nexmark::reference::{q5, q8, q12_check, q18, q19};
use weir_workloads::nexmark::{Event, NexmarkConfig, NexmarkSplit, Q12Row};
use weir_workloads::references::{self, ReferenceInput};
use weir_workloads::report::{DigestSummary, RunReport};
use weir_workloads::runner;
use weir_workloads::split::{Split, WorkerSplit};

const EVENTS: u64 = 100_000;
const EVENT_RATE: u64 = 1_000;

fn spec(workload: Workload, query: &str, workers: usize, source: SourceMode) -> RunSpec {
    RunSpec {
        workers,
        length: RunLength::Events(EVENTS),
        event_rate: EVENT_RATE,
        source,
        command: format!("test {workload} {query}"),
        ..RunSpec::new(
            Query::parse(workload, query).expect("a catalog query"),
            EngineKind::Weir,
        )
    }
}

fn run(spec: &RunSpec) -> RunReport {
    runner::start(spec)
        .unwrap_or_else(|e| panic!("{} {}: cannot start: {e}", spec.workload(), spec.query))
        .wait()
        .unwrap_or_else(|e| panic!("{} {}: failed: {e}", spec.workload(), spec.query))
}

fn generate_all<S: Split>(mut split: S) -> Vec<S::Event> {
    let mut out = Vec::new();
    while split.fill(&mut out, 1 << 16) {}
    out
}

fn nexmark_events() -> &'static [Event] {
    static EVENTS_CELL: OnceLock<Vec<Event>> = OnceLock::new();
    EVENTS_CELL.get_or_init(|| {
        let config = NexmarkConfig {
            event_rate: EVENT_RATE,
            ..NexmarkConfig::with_events(EVENTS)
        };
        generate_all(NexmarkSplit::new(&config, WorkerSplit::SINGLE).expect("valid config"))
    })
}

/// Runs `query` at 1, 2, 3 workers in both source modes; every digest must equal `expected`.
fn check_all(workload: Workload, query: &str, expected: &DigestSummary) {
    assert!(
        expected.rows > 0,
        "{query}: the reference must produce rows"
    );
    for source in [SourceMode::Generate, SourceMode::Replay] {
        for workers in 1..=3 {
            let report = run(&spec(workload, query, workers, source));
            assert_eq!(
                &report.digest, expected,
                "{workload} {query} at {workers} workers, {source}"
            );
            assert_eq!(report.events, EVENTS, "{query}: the whole input ran");
            assert_eq!(
                (report.late, report.dropped),
                (0, 0),
                "{query}: nothing late"
            );
            assert_eq!(report.per_worker.len(), workers);
            assert_eq!(report.query, query);
            assert_eq!(report.source, source.as_str());
        }
    }
}

/// Every query the catalog says weir runs whose digest is comparable.
#[test]
fn every_comparable_query_matches_its_reference() {
    let input = ReferenceInput::generate(EVENTS, EVENT_RATE).expect("a valid configuration");
    let mut checked = Vec::new();
    let mut skipped = Vec::new();
    for query in Query::all() {
        if let Support::Not(why) = query.support(EngineKind::Weir) {
            skipped.push(format!("{} {query}: {why}", query.workload()));
            continue;
        }
        if let Some(expected) = references::digest(query, &input).expect("no overflow") {
            check_all(query.workload(), query.name(), &expected);
            checked.push(query);
        }
    }
    common::report_skipped("weir, generated input", &skipped);
    assert!(
        checked.contains(&Query::Q5) && checked.contains(&Query::Ysb),
        "{checked:?}"
    );
}

/// Events of the tie input read from a file.
const TIE_EVENTS: u64 = 20_000;

/// Every comparable Nexmark query weir runs, over the tie input (bids sharing price and time)
/// read with `--input` as JSON lines and as CSV, at 1 and 2 workers, against the reference
/// over the same events.
#[test]
fn the_tie_input_from_a_file_matches_the_reference() {
    let input = ReferenceInput::tied(TIE_EVENTS, EVENT_RATE).expect("a valid configuration");
    let files = [
        common::event_file("weir-ties.jsonl", &input.nexmark, false),
        common::event_file("weir-ties.csv", &input.nexmark, true),
    ];
    let mut skipped = Vec::new();
    let mut checked = Vec::new();
    for query in Query::of(Workload::Nexmark) {
        if let Support::Not(why) = query.support(EngineKind::Weir) {
            skipped.push(format!("{query}: {why}"));
            continue;
        }
        let Some(expected) = references::digest(query, &input).expect("no overflow") else {
            continue;
        };
        for path in &files {
            for workers in [1, 2] {
                let spec = RunSpec {
                    length: RunLength::Events(TIE_EVENTS),
                    input: Some(path.clone()),
                    ..spec(Workload::Nexmark, query.name(), workers, SourceMode::Replay)
                };
                let report = run(&spec);
                assert_eq!(
                    report.digest,
                    expected,
                    "{query} over {} with {workers} workers",
                    path.display()
                );
                assert_eq!(report.events, TIE_EVENTS);
            }
        }
        checked.push(query);
    }
    common::report_skipped("weir, tie input from a file", &skipped);
    for path in &files {
        std::fs::remove_file(path).expect("the test's file can be removed");
    }
    assert!(checked.contains(&Query::Q5), "{checked:?}");
}

#[test]
fn gen_baseline_counts_every_event_and_emits_nothing() {
    for workload in [Workload::Nexmark, Workload::Ysb] {
        for source in [SourceMode::Generate, SourceMode::Replay] {
            let report = run(&spec(workload, "gen", 2, source));
            assert_eq!(report.events, EVENTS);
            let produced: u64 = report.per_worker.iter().map(|w| w.records).sum();
            assert_eq!(
                produced, EVENTS,
                "{workload} gen {source}: every event produced"
            );
            assert_eq!(report.digest.rows, 0);
        }
    }
    // gen-bids generates only the bids (46 ids in 50), yet its input is every id: the persons
    // and auctions it skips are counted as consumed, as every mode and engine counts them.
    let report = run(&spec(Workload::Nexmark, "gen-bids", 3, SourceMode::Replay));
    let consumed: u64 = report.per_worker.iter().map(|w| w.records).sum();
    assert_eq!(
        (report.events, consumed),
        (EVENTS, EVENTS),
        "gen-bids counts every input id"
    );
}

fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("weir-test-{}-{name}", std::process::id()))
}

/// Runs with `--output` and returns the sorted lines.
fn output_lines(query: &str, workers: usize) -> Vec<String> {
    let path = temp_file(&format!("{query}.jsonl"));
    let mut s = spec(Workload::Nexmark, query, workers, SourceMode::Generate);
    s.output = Some(path.clone());
    let report = run(&s);
    let text = std::fs::read_to_string(&path).expect("the output file exists");
    std::fs::remove_file(&path).expect("the output file can be removed");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert_eq!(
        lines.len() as u64,
        report.digest.rows,
        "one line per result row"
    );
    lines.sort();
    lines
}

fn sorted_json<R: ResultRow>(rows: &[R]) -> Vec<String> {
    let mut lines: Vec<String> = rows.iter().map(ResultRow::to_json).collect();
    lines.sort();
    lines
}

#[test]
fn output_rows_equal_the_reference_rows_for_q5_and_q8() {
    let events = nexmark_events();
    let q5_rows = output_lines("q5", 2);
    assert!(q5_rows[0].starts_with("{\"auction\":"), "{}", q5_rows[0]);
    assert_eq!(q5_rows, sorted_json(&q5(events)));
    assert_eq!(output_lines("q8", 3), sorted_json(&q8(events)));
}

/// An updating query's `--output` is its final table; with `--changelog` its changes, which
/// fold (insertions minus retractions) to the same table.
#[test]
fn updating_output_is_the_final_table_or_the_changelog() {
    let events = nexmark_events();
    assert_eq!(output_lines("q18", 2), sorted_json(&q18(events)));
    let want = sorted_json(&q19(events));
    assert_eq!(output_lines("q19", 3), want);
    let path = temp_file("q19-changelog.jsonl");
    let mut s = spec(Workload::Nexmark, "q19", 2, SourceMode::Generate);
    s.output = Some(path.clone());
    s.changelog = true;
    run(&s);
    let text = std::fs::read_to_string(&path).expect("the output file exists");
    std::fs::remove_file(&path).expect("the output file can be removed");
    let mut table: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    let mut retracts = 0;
    for line in text.lines() {
        let (weight, rest) = if let Some(rest) = line.strip_prefix(r#"{"op":"insert","#) {
            (1, rest)
        } else if let Some(rest) = line.strip_prefix(r#"{"op":"retract","#) {
            retracts += 1;
            (-1, rest)
        } else {
            panic!("an untagged changelog line: {line}");
        };
        *table.entry(format!("{{{rest}")).or_default() += weight;
    }
    assert!(retracts > 0, "q19's top 10 changes as bids arrive");
    let mut rows: Vec<String> = table
        .into_iter()
        .inspect(|(row, n)| assert!(*n >= 0, "{row} retracted more than inserted"))
        .flat_map(|(row, n)| std::iter::repeat_n(row, n as usize))
        .collect();
    rows.sort();
    assert_eq!(rows, want);
}

#[test]
fn q12_keeps_its_invariants() {
    for workers in [1, 3] {
        let path = temp_file(&format!("q12-{workers}.jsonl"));
        let mut s = spec(Workload::Nexmark, "q12", workers, SourceMode::Replay);
        s.output = Some(path.clone());
        let report = run(&s);
        let text = std::fs::read_to_string(&path).expect("the output file exists");
        std::fs::remove_file(&path).expect("the output file can be removed");
        let rows: Vec<Q12Row> = text
            .lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
                let int = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {line}"));
                Q12Row {
                    bidder: int("bidder"),
                    bid_count: int("bid_count"),
                    starttime: int("starttime"),
                    endtime: int("endtime"),
                }
            })
            .collect();
        assert_eq!(rows.len() as u64, report.digest.rows);
        q12_check(&rows, nexmark_events()).unwrap_or_else(|e| panic!("q12 at {workers}: {e}"));
    }
}

#[test]
fn paced_runs_give_the_unpaced_digest() {
    // 100,000 events at 1 M events/s: a 0.1 s paced run.
    for (workload, query) in [
        (Workload::Nexmark, "q5"),
        (Workload::Nexmark, "q7"),
        (Workload::Ysb, "ysb"),
    ] {
        for source in [SourceMode::Generate, SourceMode::Replay] {
            let mut unpaced = spec(workload, query, 2, source);
            unpaced.event_rate = 1_000_000;
            let mut paced = unpaced.clone();
            paced.rate = Some(1_000_000);
            let (a, b) = (run(&unpaced), run(&paced));
            assert!(a.digest.rows > 0);
            assert_eq!(a.digest, b.digest, "{query} {source}: paced vs unpaced");
            assert_eq!(b.rate, Some(1_000_000));
            // The paced run cannot finish before its last event is due (99.999 ms).
            assert!(b.wall_s >= 0.099, "{query}: paced run took {} s", b.wall_s);
            // 0.1 s of event time: no window closes before the end of input, whose results
            // carry latency apart from the stream's, one sample per row.
            assert_eq!(b.latency_ns, None, "{query}: no window closed while it ran");
            let end = b
                .end_of_input_latency_ns
                .unwrap_or_else(|| panic!("{query}: window results carry latency"));
            assert_eq!(end.samples, b.digest.rows, "{query}: one sample per row");
        }
    }
}

#[test]
fn bad_requests_name_the_flag() {
    let e = Query::parse(Workload::Nexmark, "q23")
        .expect_err("q23 is not in the catalog")
        .to_string();
    assert!(e.contains("--query") && e.contains("q5"), "{e}");
    assert!(
        Query::parse(Workload::Nexmark, "ysb").is_err(),
        "ysb is not a Nexmark query"
    );
    let mut s = spec(Workload::Nexmark, "q5", 1, SourceMode::Generate);
    s.rate = Some(5);
    let e = runner::start(&s)
        .expect_err("rate != event rate")
        .to_string();
    assert!(e.contains("--rate") && e.contains("--event-rate"), "{e}");
    s.rate = None;
    s.source = SourceMode::Replay;
    s.length = RunLength::Duration(std::time::Duration::from_secs(1));
    let e = runner::start(&s)
        .expect_err("replay needs --events")
        .to_string();
    assert!(e.contains("--events"), "{e}");
    s.source = SourceMode::Generate;
    s.workers = 0;
    let e = runner::start(&s).expect_err("0 workers").to_string();
    assert!(e.contains("--workers"), "{e}");
}

#[test]
fn duration_runs_and_stops_end_the_input_and_report() {
    let mut s = spec(Workload::Nexmark, "q5", 2, SourceMode::Generate);
    s.length = RunLength::Duration(std::time::Duration::from_millis(200));
    let report = run(&s);
    assert!(report.events > 0);
    assert!(report.wall_s >= 0.2);
    let mut s = spec(Workload::Nexmark, "q0", 2, SourceMode::Generate);
    s.length = RunLength::Events(u64::MAX);
    let job = runner::start(&s).expect("starts");
    job.stop.raise();
    let report = job.wait().expect("a stopped job still reports");
    assert_eq!(report.dropped, 0);
}
