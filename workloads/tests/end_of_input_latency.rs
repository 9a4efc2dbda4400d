//! The results fired by the end of input are reported apart from the stream's latency, the
//! same way on every engine. YSB paced over 12 s (event time follows the wall clock, so every
//! engine, Flink with its periodic watermarks included, emits watermarks while the stream
//! runs; 10 s windows, no out-of-orderness): the first window closes on a watermark, the
//! second, [10 s, 20 s), only at the end of input. Each result row is one latency sample, so
//! the two histograms split the rows exactly there.

use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::job::{RunLength, RunSpec};
use weir_workloads::report::RunReport;
use weir_workloads::runner;
use weir_workloads::split::{Split, WorkerSplit};
use weir_workloads::ysb::{self, WINDOW_MS, YsbConfig, YsbSplit};

const RATE: u64 = 5_000;
const EVENTS: u64 = 12 * RATE;

fn spec(engine: EngineKind, workers: usize) -> RunSpec {
    RunSpec {
        workers,
        length: RunLength::Events(EVENTS),
        rate: Some(RATE),
        event_rate: RATE,
        command: format!("test end-of-input latency on {engine}"),
        ..RunSpec::new(
            Query::parse(Workload::Ysb, "ysb").expect("a catalog query"),
            engine,
        )
    }
}

/// Result rows of the windows closed while the stream runs, and of the last window.
fn expected() -> (u64, u64) {
    let config = YsbConfig {
        event_rate: RATE,
        ..YsbConfig::with_events(EVENTS)
    };
    let mut split = YsbSplit::new(&config, WorkerSplit::SINGLE).expect("valid config");
    let mut all = Vec::new();
    while split.fill(&mut all, 1 << 16) {}
    let last_start = config.base_time_ms + WINDOW_MS;
    let rows = ysb::reference(&all);
    let at_end = rows.iter().filter(|r| r.window_start == last_start).count() as u64;
    let before = rows.iter().filter(|r| r.window_start < last_start).count() as u64;
    assert_eq!(
        before + at_end,
        rows.len() as u64,
        "no window past the last"
    );
    assert!(before > 0 && at_end > 0, "both kinds of window have rows");
    (before, at_end)
}

fn check(engine: EngineKind, workers: usize) {
    let spec = spec(engine, workers);
    let report: RunReport = runner::start(&spec)
        .unwrap_or_else(|e| panic!("{engine}: cannot start: {e}"))
        .wait()
        .unwrap_or_else(|e| panic!("{engine}: failed: {e}"));
    let what = format!("{engine} at {workers} workers");
    let (before, at_end) = expected();
    assert_eq!(report.digest.rows, before + at_end, "{what}: the result");
    let stream = report
        .latency_ns
        .unwrap_or_else(|| panic!("{what}: no stream latency"));
    let end = report
        .end_of_input_latency_ns
        .unwrap_or_else(|| panic!("{what}: no end-of-input latency"));
    assert_eq!(
        (stream.samples, end.samples),
        (before, at_end),
        "{what}: rows of windows closed while the stream ran, and of the last window"
    );
    assert!(end.p50 <= end.max && stream.p50 <= stream.max, "{what}");
}

#[test]
fn weir_reports_the_end_of_input_apart() {
    check(EngineKind::Weir, 1);
}

#[test]
fn weir_reports_the_end_of_input_apart_across_exchanges() {
    check(EngineKind::Weir, 2);
}

#[cfg(feature = "timely")]
#[test]
fn timely_reports_the_end_of_input_apart() {
    check(EngineKind::Timely, 2);
}

#[cfg(feature = "differential")]
#[test]
fn differential_reports_the_end_of_input_apart() {
    check(EngineKind::Differential, 2);
}

#[cfg(feature = "flink")]
#[test]
fn flink_reports_the_end_of_input_apart() {
    check(EngineKind::Flink, 2);
}
