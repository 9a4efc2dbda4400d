//! Events are counted by one rule in every mode and on every engine: a run's `events` (and each
//! worker's `records`, the live `events_in`) are the input ids its sources consumed, including
//! the ids of kinds a query does not read (docs/BENCHMARKING.md, section 1). A paced run ended
//! by `--duration` therefore counts persons, auctions and bids alike, whether the query reads
//! bids only (q5) or persons and auctions only (q8), as an unpaced run to the end of its input
//! does.

use std::time::Duration;

use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::job::{RunLength, RunSpec};
use weir_workloads::report::RunReport;
use weir_workloads::runner;

/// Offered rate of the timed runs, events/s (so event time advances 1 ms per event).
const RATE: u64 = 1_000;
/// Length of the timed runs.
const SECONDS: f64 = 1.5;

fn spec(query: &str, engine: EngineKind, workers: usize, length: RunLength) -> RunSpec {
    let paced = matches!(length, RunLength::Duration(_));
    RunSpec {
        workers,
        length,
        rate: paced.then_some(RATE),
        event_rate: if paced { RATE } else { 10_000_000 },
        command: format!("test events {query}"),
        ..RunSpec::new(
            Query::parse(Workload::Nexmark, query).expect("a catalog query"),
            engine,
        )
    }
}

fn run(spec: &RunSpec) -> RunReport {
    runner::start(spec)
        .unwrap_or_else(|e| panic!("{} on {}: cannot start: {e}", spec.query, spec.engine))
        .wait()
        .unwrap_or_else(|e| panic!("{} on {}: failed: {e}", spec.query, spec.engine))
}

/// A paced run of `SECONDS` consumes about `RATE * SECONDS` ids whatever kinds it reads: the
/// schedule releases id `i` at `i / RATE` s. The lower bound leaves room for a late start or
/// a stalled worker on a busy, shared machine (fewer ids), never for counting only the kinds
/// read (q8 reads 4 ids in 50: about 120 here, 8 % of the ids).
fn check_timed(engine: EngineKind) {
    let expected = RATE as f64 * SECONDS;
    for query in ["q5", "q8"] {
        for workers in [1, 2] {
            let length = RunLength::Duration(Duration::from_secs_f64(SECONDS));
            let report = run(&spec(query, engine, workers, length));
            let events = report.events as f64;
            assert!(
                (0.3 * expected..=1.4 * expected).contains(&events),
                "{query} on {engine}, {workers} worker(s): {events} events in a {SECONDS} s run \
                 offered {RATE} events/s (about {expected} input ids)"
            );
            let records: u64 = report.per_worker.iter().map(|w| w.records).sum();
            if !report.per_worker.is_empty() {
                assert_eq!(
                    records, report.events,
                    "{query} on {engine}: the workers' input events add up to the run's"
                );
            }
        }
    }
}

/// A run to the end of its input counts every id, and so do its workers' live counters (the
/// console's progress reaches 100 % for q8 too).
fn check_to_end(engine: EngineKind) {
    const EVENTS: u64 = 50_000;
    for query in ["q5", "q8"] {
        let report = run(&spec(query, engine, 3, RunLength::Events(EVENTS)));
        assert_eq!(report.events, EVENTS, "{query} on {engine}");
        let records: u64 = report.per_worker.iter().map(|w| w.records).sum();
        assert_eq!(
            records, EVENTS,
            "{query} on {engine}: workers' input events"
        );
    }
}

#[test]
fn weir_counts_input_ids() {
    check_timed(EngineKind::Weir);
    check_to_end(EngineKind::Weir);
}

#[cfg(feature = "timely")]
#[test]
fn timely_counts_input_ids() {
    check_timed(EngineKind::Timely);
    check_to_end(EngineKind::Timely);
}

#[cfg(feature = "differential")]
#[test]
fn differential_counts_input_ids() {
    check_timed(EngineKind::Differential);
    check_to_end(EngineKind::Differential);
}

/// Flink's source generates every id and counts each (the query filters the kinds).
#[cfg(feature = "flink")]
#[test]
fn flink_counts_input_ids() {
    check_timed(EngineKind::Flink);
}
