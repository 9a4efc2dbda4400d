//! timely's and differential's operators in the final metrics snapshot, read from timely's own
//! event log (`src/timely/oplog.rs`): real runs of q5 on both engines at 1 and 2 workers.

use std::collections::HashMap;

use weir_engine::{MetricsSnapshot, OperatorMetrics};
use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::job::{RunLength, RunSpec};
use weir_workloads::nexmark::EventKind;
use weir_workloads::report::RunReport;
use weir_workloads::runner;

/// Small input, slow event time (40 s of it), so q5's windows fire many times.
const EVENTS: u64 = 40_000;
const EVENT_RATE: u64 = 1_000;

fn run(query: &str, engine: EngineKind, workers: usize) -> (MetricsSnapshot, RunReport) {
    let spec = RunSpec {
        workers,
        length: RunLength::Events(EVENTS),
        event_rate: EVENT_RATE,
        command: format!("test {engine} {query} -w {workers}"),
        ..RunSpec::new(
            Query::parse(Workload::Nexmark, query).expect("a catalog query"),
            engine,
        )
    };
    let job = runner::start(&spec).expect("the job starts");
    let collector = job.collector.clone();
    let report = job.wait().expect("the job finishes");
    (collector.latest(), report)
}

/// The checks every timely-based run passes: the same graph on every worker, every operator
/// after its inputs (a DAG rooted at the sources), named, with own times that fit in the
/// worker's wall time, some of it non-zero; no queue fill; each exchange's records out equal
/// to the records in of the operator it feeds alone. Returns the operators by name, summed
/// over the workers.
fn check_graph(s: &MetricsSnapshot, workers: usize) -> HashMap<String, (usize, Summed)> {
    assert!(s.finished, "the final snapshot");
    assert_eq!(s.workers.len(), workers);
    let first = &s.workers[0].operators;
    assert!(
        first.len() >= 3,
        "a source, operators and a sink: {first:?}"
    );
    for w in &s.workers {
        let graph: Vec<(&str, &[usize])> = w
            .operators
            .iter()
            .map(|o| (o.name.as_str(), o.inputs.as_slice()))
            .collect();
        let graph0: Vec<(&str, &[usize])> = first
            .iter()
            .map(|o| (o.name.as_str(), o.inputs.as_slice()))
            .collect();
        assert_eq!(graph, graph0, "every worker builds the same dataflow");
        // Listed operators are charged only their own time, between consecutive schedule
        // events of one thread: they fit in the worker's wall time (5 ms for the scheduling
        // before the worker's clock started).
        let own: u64 = w.operators.iter().map(|o| o.busy_ns).sum();
        assert!(
            own <= w.busy_ns + w.idle_ns + 5_000_000,
            "own times {own} ns exceed the worker's wall time {} ns",
            w.busy_ns + w.idle_ns
        );
    }
    for (i, op) in first.iter().enumerate() {
        assert!(!op.name.is_empty(), "operator {i} has a name");
        assert!(
            op.inputs.iter().all(|&j| j < i),
            "{} (#{i}) comes after its inputs {:?}",
            op.name,
            op.inputs
        );
    }
    assert!(first[0].inputs.is_empty(), "the first operator is a source");
    assert!(first.iter().filter(|o| !o.inputs.is_empty()).count() >= 2);
    let busiest = s
        .workers
        .iter()
        .flat_map(|w| &w.operators)
        .map(|o| o.busy_ns)
        .max();
    assert!(busiest > Some(0), "the busiest operator did some work");
    assert!(
        s.workers
            .iter()
            .flat_map(|w| &w.operators)
            .all(|o| o.fill.is_none() && o.state_records.is_none()),
        "timely reports no queue fill or state"
    );
    let summed: Vec<Summed> = (0..first.len()).map(|i| Summed::of(s, i)).collect();
    for (i, op) in first.iter().enumerate() {
        if let [from] = op.inputs[..]
            && first[from].exchange
            && let (Some(sent), Some(received)) = (summed[from].records_out, summed[i].records_in)
        {
            assert_eq!(
                sent, received,
                "{} received what {} sent through the exchange",
                op.name, first[from].name
            );
        }
    }
    first
        .iter()
        .enumerate()
        .map(|(i, o)| (o.name.clone(), (i, summed[i])))
        .collect()
}

/// An operator's counters summed over the workers (`None` if any worker lacks one).
#[derive(Clone, Copy, Debug)]
struct Summed {
    records_in: Option<u64>,
    records_out: Option<u64>,
    busy_ns: u64,
    exchange: bool,
}

impl Summed {
    /// Operator `i` of `s` over its workers.
    fn of(s: &MetricsSnapshot, i: usize) -> Self {
        let ops: Vec<&OperatorMetrics> = s.workers.iter().map(|w| &w.operators[i]).collect();
        Self {
            records_in: ops.iter().map(|o| o.records_in).sum(),
            records_out: ops.iter().map(|o| o.records_out).sum(),
            busy_ns: ops.iter().map(|o| o.busy_ns).sum(),
            exchange: ops.iter().any(|o| o.exchange),
        }
    }
}

/// The bids among the first `EVENTS` events: q5 reads bids only, and the generator skips the
/// persons' and auctions' ids without generating them.
fn bids() -> u64 {
    (0..EVENTS)
        .filter(|&id| EventKind::of_id(id) == EventKind::Bid)
        .count() as u64
}

#[test]
fn timely_q5_reports_its_operators_and_what_reached_the_window() {
    let bids = bids();
    for workers in [1, 2] {
        let (s, report) = run("q5", EngineKind::Timely, workers);
        assert_eq!(report.events, EVENTS);
        let ops = check_graph(&s, workers);
        let op = |name: &str| {
            ops.get(name)
                .copied()
                .unwrap_or_else(|| panic!("{name} is listed: {:?}", ops.keys()))
        };
        let (_, source) = op("Source");
        let (flat_map_at, flat_map) = op("FlatMap");
        let (count_at, count) = op("Q5PaneCount");
        let (max_at, max) = op("Q5GlobalMax");
        let (sink_at, sink) = op("DigestSink");
        let graph = &s.workers[0].operators;
        assert_eq!(graph[count_at].inputs, [flat_map_at]);
        assert_eq!(graph[max_at].inputs, [count_at]);
        assert_eq!(graph[sink_at].inputs, [max_at]);
        // Every bid the sources produced reached the pane count, through the exchange.
        assert_eq!(source.records_out, Some(bids), "{workers} workers");
        assert_eq!(flat_map.records_in, Some(bids));
        assert_eq!(
            count.records_in,
            Some(bids),
            "{workers} workers: the window received every bid"
        );
        assert!(count.records_out.is_some_and(|n| n > 0 && n < bids));
        assert_eq!(max.records_in, count.records_out);
        assert_eq!(sink.records_in, max.records_out);
        // A sink has no channel out: its output is unavailable, not zero.
        assert_eq!(sink.records_out, None);
        // Exchanges are seen when records cross workers; at one worker none do.
        let exchanges: Vec<&str> = graph
            .iter()
            .filter(|o| o.exchange)
            .map(|o| o.name.as_str())
            .collect();
        let expected: &[&str] = if workers == 1 {
            &[]
        } else {
            &["FlatMap", "Q5PaneCount"]
        };
        assert_eq!(exchanges, expected);
        assert!(source.busy_ns + count.busy_ns > 0);
    }
}

#[test]
fn differential_q5_reports_its_arrangements_and_reductions() {
    for workers in [1, 2] {
        let (s, report) = run("q5", EngineKind::Differential, workers);
        assert_eq!(report.events, EVENTS);
        let ops = check_graph(&s, workers);
        let names: Vec<&str> = ops.keys().map(String::as_str).collect();
        for name in ["Q5Windows", "Arrange: Count", "Count", "DigestSink"] {
            assert!(ops.contains_key(name), "{name} is listed: {names:?}");
        }
        // Every bid's window updates (at least one per bid) go through the exchange into the
        // count's arrangement: its input was counted, and it is what its feeder sent.
        let (arrange_at, arranged) = ops["Arrange: Count"];
        let [feeder] = s.workers[0].operators[arrange_at].inputs[..] else {
            panic!("the arrangement has one input");
        };
        let fed = Summed::of(&s, feeder);
        assert_eq!(
            fed.exchange,
            workers > 1,
            "the arrangement's input crosses workers when there are several"
        );
        assert!(
            arranged.records_in.is_some_and(|n| n >= bids()),
            "{arranged:?}"
        );
        assert_eq!(arranged.records_in, fed.records_out);
        let (count_at, _) = ops["Count"];
        assert!(
            s.workers[0].operators[count_at]
                .inputs
                .contains(&arrange_at),
            "the count reads its arrangement"
        );
    }
}

#[test]
fn a_spec_without_operator_metrics_installs_no_log_and_gets_the_same_answer() {
    for engine in [EngineKind::Timely, EngineKind::Differential] {
        let (observed, observed_report) = run("q5", engine, 2);
        let spec = RunSpec {
            workers: 2,
            length: RunLength::Events(EVENTS),
            event_rate: EVENT_RATE,
            operator_metrics: false,
            ..RunSpec::new(Query::Q5, engine)
        };
        let job = runner::start(&spec).expect("the job starts");
        let collector = job.collector.clone();
        let report = job.wait().expect("the job finishes");
        let s = collector.latest();
        assert!(s.finished, "{engine}: the final snapshot");
        assert_eq!(s.workers.len(), 2, "{engine}: workers are still reported");
        for w in &s.workers {
            assert!(
                w.operators.is_empty(),
                "{engine}: no operators without the log: {:?}",
                w.operators
            );
        }
        // The run with the log did list operators, so the emptiness above is the switch's.
        assert!(
            observed.workers.iter().all(|w| !w.operators.is_empty()),
            "{engine}"
        );
        assert_eq!(report.events, EVENTS);
        assert_eq!(report.digest, observed_report.digest, "{engine}");
    }
}
