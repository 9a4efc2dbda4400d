//! YSB with `--format json` on weir: the sources hand over JSON lines (generated, or replayed
//! from bytes made before the clock started) and the query parses them; the result is the
//! records mode's, at 1, 2 and 3 workers. Other engines refuse the format with a clear error.

use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::digest::Digest;
use weir_workloads::job::{EventFormat, RunError, RunLength, RunSpec, SourceMode};
use weir_workloads::report::{DigestSummary, RunReport};
use weir_workloads::runner;
use weir_workloads::split::{Split, WorkerSplit};
use weir_workloads::ysb::{self, YsbConfig, YsbSplit};

const EVENTS: u64 = 100_000;
const EVENT_RATE: u64 = 1_000;

fn spec(query: &str, workers: usize, source: SourceMode, format: EventFormat) -> RunSpec {
    RunSpec {
        workers,
        length: RunLength::Events(EVENTS),
        event_rate: EVENT_RATE,
        source,
        format,
        command: format!("test ysb {query} --format {format}"),
        ..RunSpec::new(
            Query::parse(Workload::Ysb, query).expect("a catalog query"),
            EngineKind::Weir,
        )
    }
}

fn run(spec: &RunSpec) -> RunReport {
    runner::start(spec)
        .unwrap_or_else(|e| panic!("{spec:?}: cannot start: {e}"))
        .wait()
        .unwrap_or_else(|e| panic!("{spec:?}: failed: {e}"))
}

fn reference(event_rate: u64, events: u64) -> DigestSummary {
    let config = YsbConfig {
        event_rate,
        ..YsbConfig::with_events(events)
    };
    let mut split = YsbSplit::new(&config, WorkerSplit::SINGLE).expect("valid config");
    let mut all = Vec::new();
    while split.fill(&mut all, 1 << 16) {}
    let mut d = Digest::new();
    for row in ysb::reference(&all) {
        d.add(&row);
    }
    d.summary()
}

#[test]
fn json_lines_give_the_records_result() {
    let expected = reference(EVENT_RATE, EVENTS);
    assert!(expected.rows > 0);
    for source in [SourceMode::Generate, SourceMode::Replay] {
        for workers in 1..=3 {
            let json = run(&spec("ysb", workers, source, EventFormat::Json));
            let what = format!("{workers} workers, {source}");
            assert_eq!(json.digest, expected, "json, {what}");
            assert_eq!(json.events, EVENTS, "json, {what}");
            assert_eq!((json.late, json.dropped), (0, 0), "json, {what}");
            assert!(json.command.contains("--format json"));
        }
        let records = run(&spec("ysb", 2, source, EventFormat::Records));
        assert_eq!(records.digest, expected, "records, {source}");
    }
}

#[test]
fn paced_json_run_gives_the_result() {
    let (rate, events) = (500_000, 50_000);
    let mut s = spec("ysb", 2, SourceMode::Generate, EventFormat::Json);
    s.rate = Some(rate);
    s.event_rate = rate;
    s.length = RunLength::Events(events);
    let report = run(&s);
    assert_eq!(report.digest, reference(rate, events));
    // 0.1 s of event time: the end of input closes the only window, and its results carry
    // their latency apart from the stream's, one sample per row.
    assert_eq!(report.latency_ns, None);
    let end = report
        .end_of_input_latency_ns
        .expect("window latency is recorded");
    assert_eq!(end.samples, report.digest.rows);
}

#[test]
fn json_generator_baseline_counts_every_line() {
    let report = run(&spec("gen", 2, SourceMode::Generate, EventFormat::Json));
    assert_eq!(report.events, EVENTS);
    assert_eq!(report.digest.rows, 0);
    let produced: u64 = report.per_worker.iter().map(|w| w.records).sum();
    assert_eq!(produced, EVENTS, "one record per JSON line");
}

#[test]
fn json_is_refused_where_it_is_not_implemented() {
    let nexmark = RunSpec {
        format: EventFormat::Json,
        ..RunSpec::new(Query::Q1, EngineKind::Weir)
    };
    let Err(RunError::Config(msg)) = runner::start(&nexmark) else {
        panic!("nexmark --format json must be a configuration error");
    };
    assert!(
        msg.contains("--format json") && msg.contains("ysb"),
        "{msg}"
    );
    for engine in [
        EngineKind::Timely,
        EngineKind::Differential,
        EngineKind::Flink,
    ] {
        let mut s = spec("ysb", 1, SourceMode::Generate, EventFormat::Json);
        s.engine = engine;
        let Err(RunError::Config(msg)) = runner::start(&s) else {
            panic!("{engine} --format json must be a configuration error");
        };
        assert!(
            msg.contains("--format json is implemented on weir only"),
            "{msg}"
        );
    }
}
