//! Flink's job vertices reach the snapshots (real JVM, MiniCluster, parallelism 2): the final
//! snapshot of a DataStream query (q5) and of a SQL query (q15) carries one operator per job
//! vertex on every worker, forming a graph from a source vertex, with Flink's record counts and
//! busy time, and an output-buffer fill only on the vertices whose outputs shuffle.

use weir_engine::{MetricsSnapshot, OperatorMetrics};
use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::job::{RunLength, RunSpec};
use weir_workloads::nexmark::{Event, NexmarkConfig, NexmarkSplit};
use weir_workloads::runner;
use weir_workloads::split::WorkerSplit;

const EVENTS: u64 = 20_000;

fn spec(query: &str) -> RunSpec {
    RunSpec {
        workers: 2,
        length: RunLength::Events(EVENTS),
        event_rate: 1_000,
        command: format!("test {query}"),
        ..RunSpec::new(
            Query::parse(Workload::Nexmark, query).expect("a catalog query"),
            EngineKind::Flink,
        )
    }
}

/// Runs `query` and returns the final snapshot.
fn final_snapshot(query: &str) -> MetricsSnapshot {
    let job = runner::start(&spec(query)).unwrap_or_else(|e| panic!("{e}"));
    let collector = job.collector.clone();
    job.wait().unwrap_or_else(|e| panic!("{e}"));
    let last = collector.latest();
    assert!(last.finished);
    last
}

/// The bids among the run's events (what q5's and q15's sources emit).
fn bids() -> u64 {
    let mut config = NexmarkConfig::with_events(EVENTS);
    config.event_rate = 1_000;
    NexmarkSplit::new(&config, WorkerSplit::SINGLE)
        .expect("valid")
        .filter(|e| matches!(e, Event::Bid(_)))
        .count() as u64
}

/// Checks the graph shared by every worker; returns worker 0's operators.
fn graph(last: &MetricsSnapshot) -> Vec<OperatorMetrics> {
    assert_eq!(last.workers.len(), 2);
    let ops = last.workers[0].operators.clone();
    assert!(
        ops.len() >= 2,
        "a shuffling query has at least two vertices: {ops:#?}"
    );
    for w in &last.workers {
        let shape: Vec<(&str, &[usize])> = w
            .operators
            .iter()
            .map(|o| (o.name.as_str(), o.inputs.as_slice()))
            .collect();
        let first: Vec<(&str, &[usize])> = ops
            .iter()
            .map(|o| (o.name.as_str(), o.inputs.as_slice()))
            .collect();
        assert_eq!(shape, first, "every worker has the same graph");
    }
    for (i, o) in ops.iter().enumerate() {
        assert!(
            o.inputs.iter().all(|&j| j < i),
            "inputs come first: {ops:#?}"
        );
        assert_eq!(o.state_records, None, "Flink reports no state size here");
    }
    assert!(
        ops[0].inputs.is_empty() && ops[0].name.starts_with("Source:"),
        "the graph starts at a source vertex: {ops:#?}"
    );
    assert!(
        ops.iter().skip(1).all(|o| !o.inputs.is_empty()),
        "one source vertex: {ops:#?}"
    );
    let busy: u64 = last
        .workers
        .iter()
        .flat_map(|w| &w.operators)
        .map(|o| o.busy_ns)
        .sum();
    assert!(busy > 0, "some vertex was busy");
    for w in &last.workers {
        let own: u64 = w.operators.iter().map(|o| o.busy_ns).sum();
        // The vertices' busy time is the worker's split by vertex: the same gauges, read one
        // after the other. Flink computes a task's busy time from the wall clock until its
        // metrics are removed, so a task still winding down may add a few ms in between.
        let slack = (w.busy_ns / 20).max(100_000_000);
        assert!(
            own.abs_diff(w.busy_ns) <= slack,
            "vertices {own} ns, worker {} ns: {w:#?}",
            w.busy_ns
        );
    }
    ops
}

/// Over all workers: (records in, records out) of operator `i`.
fn records(last: &MetricsSnapshot, i: usize) -> (u64, u64) {
    last.workers.iter().fold((0, 0), |(a, b), w| {
        (
            a + w.operators[i].records_in.unwrap_or(0),
            b + w.operators[i].records_out.unwrap_or(0),
        )
    })
}

#[test]
fn q5_reports_its_job_vertices_with_their_records_and_busy_time() {
    let last = final_snapshot("q5");
    let ops = graph(&last);
    let bids = bids();
    let window = ops
        .iter()
        .position(|o| o.name.contains("q5-count-per-auction"))
        .unwrap_or_else(|| panic!("a window vertex: {ops:#?}"));
    assert_eq!(ops[window].inputs, [0], "the source feeds the window");
    assert_eq!(
        records(&last, 0).1,
        bids,
        "the source vertex emits the bids"
    );
    assert_eq!(
        records(&last, window).0,
        bids,
        "every bid enters a window subtask"
    );
    // The source's only output is hashed by auction: its output pool usage is the exchange's
    // fill, on every worker; the last vertex (the sink) has no output and no fill.
    for w in &last.workers {
        let fill = w.operators[0].fill.expect("the source's output shuffles");
        assert!((0.0..=1.0).contains(&fill), "{fill}");
        assert_eq!(w.operators.last().and_then(|o| o.fill), None);
    }
}

#[test]
fn a_sql_query_reports_its_job_vertices() {
    let last = final_snapshot("q15");
    let ops = graph(&last);
    let fed: Vec<usize> = (1..ops.len())
        .filter(|&i| records(&last, i).0 > 0)
        .collect();
    assert!(
        !fed.is_empty(),
        "records reach the aggregate past the source: {ops:#?}"
    );
    assert!(records(&last, 0).1 > 0 && records(&last, 0).1 <= bids());
}
