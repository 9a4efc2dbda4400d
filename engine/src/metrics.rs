//! The metrics contract: what a running job tells the console, the runner and reports.
//!
//! Every engine adapter (weir itself, timely, differential, Flink through its progress pipe)
//! publishes [`MetricsSnapshot`]s into a [`Collector`]; the console and the runner read the
//! latest one. Counters are cumulative since the job's clock started: readers compute rates by
//! differencing two snapshots. A field an engine cannot observe is `None` (or empty), never a
//! made-up value, so the console can say "not available for this engine".
//!
//! Publishing happens on an interval (default 100 ms), never per record: workers keep plain
//! counters on the hot path and copy them out here.
//!
//! Base layer: imports nothing from the crate.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hdrhistogram::Histogram;

/// Default interval between two snapshots.
pub const DEFAULT_SNAPSHOT_INTERVAL: Duration = Duration::from_millis(100);

/// One operator's counters on one worker.
///
/// Every worker builds the same dataflow, so an operator has the same index (its position in
/// [`WorkerMetrics::operators`]) on every worker, and `inputs` draws the same graph everywhere.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OperatorMetrics {
    /// The operator's name as given when the dataflow was built (for example `"window"`).
    pub name: String,
    /// Indices (in [`WorkerMetrics::operators`]) of the operators feeding this one, in input
    /// order, each once (a union of a side output's two streams has one); empty for sources.
    pub inputs: Vec<usize>,
    /// Records that entered the operator; `None` where the engine does not count them (timely
    /// counts records per channel: an operator with no channel in, a source, has none).
    pub records_in: Option<u64>,
    /// Records the operator emitted; `None` where the engine does not count them (timely: an
    /// operator with no channel out, such as a sink).
    pub records_out: Option<u64>,
    /// Records the operator holds in its state right now (a regular join's buffered rows on
    /// both sides, for example); `None` for operators that keep no state or do not report it.
    pub state_records: Option<u64>,
    /// Time spent in the operator's own code (not in the operators it feeds), ns. Measured
    /// per batch, so the operators' shares of the worker's busy time add up to at most 1.
    pub busy_ns: u64,
    /// Whether records change worker after this operator: weir's exchange operators
    /// (`key_by`, `exchange`, `broadcast`); on an engine whose exchanges are channels rather
    /// than operators (timely), an operator whose records crossed workers on a channel out.
    pub exchange: bool,
    /// Exchanges only: how full this worker's fullest outgoing ring on this edge was at the
    /// snapshot, `0.0..=1.0`. `None` for operators that are not exchanges, and for exchanges
    /// whose engine does not report queue fill (timely).
    pub fill: Option<f32>,
}

/// One worker's cumulative counters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkerMetrics {
    /// Events produced by this worker's sources.
    pub events_in: u64,
    /// Result rows delivered to this worker's sinks.
    pub records_out: u64,
    /// Batches this worker pushed into exchange rings.
    pub batches_sent: u64,
    /// Bytes this worker pushed into exchange rings (estimated from record sizes), if known.
    pub bytes_sent: u64,
    /// Records that arrived after their window closed (sent to the late side output).
    pub late: u64,
    /// Records dropped for any other reason (must be zero in a healthy run).
    pub dropped: u64,
    /// Time spent running operators.
    pub busy_ns: u64,
    /// Time spent with no work (parked or polling empty inputs).
    pub idle_ns: u64,
    /// Time spent unable to push into a full exchange ring.
    pub backpressured_ns: u64,
    /// Time spent with no other work while a source was held back by source alignment
    /// ([`Config::with_source_alignment`](crate::Config::with_source_alignment)): waiting for
    /// a slower worker's share of the input to catch up. Idle time, set apart so that a worker
    /// that waits for a peer does not look like one that lacks input.
    pub held_ns: u64,
    /// Per-operator record counts, in the order the operators were built.
    pub operators: Vec<OperatorMetrics>,
}

/// A point-in-time view of a running (or finished) job.
#[derive(Clone, Debug, Default)]
pub struct MetricsSnapshot {
    /// Time since the job's clock started (the first source began producing).
    pub elapsed_ns: u64,
    /// One entry per worker, indexed by worker id. Empty when the engine cannot observe workers.
    pub workers: Vec<WorkerMetrics>,
    /// Fill of the exchange rings, `fill[producer][consumer]` in `0.0..=1.0` (the fullest edge
    /// between that pair). `None` when the engine cannot observe its queues.
    pub exchange_fill: Option<Vec<Vec<f32>>>,
    /// Result latencies in nanoseconds so far (cumulative). `None` when not observable.
    /// Results fired by the end of input are not in it but in `end_of_input_latency_ns`.
    pub latency_ns: Option<Histogram<u64>>,
    /// Latencies (ns) of the results fired by the end of input: the final watermark closes
    /// every window still open at once, so these measure the state left open, not the stream.
    /// `None` until such a result reached a sink (or when not observable).
    pub end_of_input_latency_ns: Option<Histogram<u64>>,
    /// The job's frontier: the lowest watermark (event-time ms) reaching the sinks.
    /// `i64::MAX` once the input has ended. `None` when not observable.
    pub watermark_ms: Option<i64>,
    /// The newest event timestamp (event-time ms) the sources have produced, if known.
    pub source_time_ms: Option<i64>,
    /// Events the job will produce in total, when the input is bounded by a count.
    pub events_total: Option<u64>,
    /// Whether the job has finished (all results delivered, or stopped).
    pub finished: bool,
    /// The changelog that reached the job's table sinks (an updating query), per worker.
    /// `None` when the job has no table sink or the engine cannot observe one.
    pub table: Option<TableMetrics>,
}

/// The changes folded by an updating query's table sinks
/// ([`Stream::table_sink`](crate::Stream::table_sink)), cumulative, indexed by worker.
///
/// The live table has `rows()` rows: insertions minus retractions. A keyed operator keeps each
/// key on one worker, so every worker's own count stays non-negative in a correct run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableMetrics {
    /// Insertions per worker.
    pub inserts: Vec<u64>,
    /// Retractions per worker.
    pub retracts: Vec<u64>,
}

impl TableMetrics {
    /// Rows in the table now: insertions minus retractions over all workers.
    pub fn rows(&self) -> i64 {
        let ins: u64 = self.inserts.iter().sum();
        let ret: u64 = self.retracts.iter().sum();
        ins as i64 - ret as i64
    }

    /// Changes (insertions and retractions) so far over all workers.
    pub fn changes(&self) -> u64 {
        self.inserts.iter().chain(&self.retracts).sum()
    }
}

impl MetricsSnapshot {
    /// Events produced by all sources so far.
    pub fn events_in(&self) -> u64 {
        self.workers.iter().map(|w| w.events_in).sum()
    }

    /// Result rows delivered to all sinks so far.
    pub fn records_out(&self) -> u64 {
        self.workers.iter().map(|w| w.records_out).sum()
    }

    /// Late records over all workers.
    pub fn late(&self) -> u64 {
        self.workers.iter().map(|w| w.late).sum()
    }

    /// Dropped records over all workers.
    pub fn dropped(&self) -> u64 {
        self.workers.iter().map(|w| w.dropped).sum()
    }
}

/// Where a job publishes its snapshots and readers find the latest one.
///
/// Cloning is cheap (shared handle). Writers publish at most every snapshot interval per
/// worker, so the short critical section here is never on a record's path.
#[derive(Clone, Debug, Default)]
pub struct Collector {
    inner: Arc<Mutex<MetricsSnapshot>>,
}

impl Collector {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the whole snapshot (adapters that observe the job from outside).
    pub fn publish(&self, snapshot: MetricsSnapshot) {
        *self.lock() = snapshot;
    }

    /// Applies `f` to the current snapshot in place (workers updating their own entry).
    pub fn update(&self, f: impl FnOnce(&mut MetricsSnapshot)) {
        f(&mut self.lock());
    }

    /// A copy of the latest snapshot.
    pub fn latest(&self) -> MetricsSnapshot {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MetricsSnapshot> {
        // A panicking publisher cannot leave a snapshot half-written in a way that matters to
        // readers (every field is self-contained), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
