//! weir-engine: a thread-per-core streaming dataflow runtime.
//!
//! This crate knows nothing of workloads or terminals. Its public surface is the dataflow API
//! (built by every worker, SPMD) and the [`metrics`] snapshot that the runner, the console and
//! every other engine's adapter share.
//!
//! # Model
//!
//! [`execute`] starts one OS thread per worker (pinned to a core when possible). Each worker
//! calls the same build closure with its [`Worker`] handle, adds [`Source`]s and chains
//! operators on the returned [`Stream`]s. Within a worker, `map` / `filter` / `flat_map` /
//! `inspect` and [`Operator`]s are fused into direct calls over batches; records move between
//! workers only at `key_by` / `exchange` / `broadcast`, through bounded single-producer
//! single-consumer rings of recycled batches. Event-time progress travels in-band as
//! [`Watermark`]s; end of input is the watermark `i64::MAX`, after which every window fires and
//! the job ends.
//!
//! # Example: a keyed tumbling count
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::{Arc, Mutex};
//! use weir_engine::{Config, IterSource, Operator, Output, Timestamp, Watermark, execute};
//!
//! /// Counts records per (key, 10 ms window); emits when the watermark passes the window end.
//! #[derive(Default)]
//! struct TumblingCount(HashMap<(u64, i64), u64>);
//!
//! impl Operator for TumblingCount {
//!     type In = (u64, i64); // (key, event time)
//!     type Out = (u64, i64, u64); // (key, window start, count)
//!     fn on_batch(&mut self, input: &mut Vec<(u64, i64)>, _out: &mut Output<'_, Self::Out>) {
//!         for (key, ts) in input.drain(..) {
//!             *self.0.entry((key, ts - ts.rem_euclid(10))).or_default() += 1;
//!         }
//!     }
//!     fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, Self::Out>) -> Timestamp {
//!         self.0.retain(|&(key, start), count| {
//!             let closed = start.saturating_add(10) <= wm.time;
//!             if closed {
//!                 out.push((key, start, *count));
//!             }
//!             !closed
//!         });
//!         wm.time
//!     }
//! }
//!
//! let results = Arc::new(Mutex::new(Vec::new()));
//! let sink = Arc::clone(&results);
//! execute(Config::new(2).with_pinning(false), move |worker| {
//!     let (me, peers) = (worker.index(), worker.peers());
//!     let events = (0..1000_i64)
//!         .filter(move |t| *t as usize % peers == me)
//!         .map(|t| ((t % 3) as u64, t));
//!     let sink = Arc::clone(&sink);
//!     worker
//!         .source(IterSource::new(events, |e: &(u64, i64)| e.1, 0))
//!         .key_by(|e| e.0)
//!         .unary("tumbling_count", TumblingCount::default())
//!         .sink(move |batch| sink.lock().unwrap().append(batch));
//! })?;
//! let total: u64 = results.lock().unwrap().iter().map(|r| r.2).sum();
//! assert_eq!(total, 1000);
//! # Ok::<(), weir_engine::EngineError>(())
//! ```

#![warn(missing_docs)]

// Module layers, lowest first. A module imports from lower layers only, never from a higher
// one; inside a layer the imports point one way too. `scripts/module-cycles.py engine` (run by
// scripts/test.sh) fails on any import cycle.
//
// 1. Base: the vocabulary shared by the nodes and the loop, no dataflow logic. `time`
//    (Timestamp, Watermark, Clock, frontier merge), `metrics` (the snapshot contract),
//    `config` (Config, EngineError), `wake` (park / wake protocol), `pinning` (worker-to-core
//    plan), `source` (the Source trait), `counters` (per-worker and per-operator Cells),
//    `gate` (a driver's backpressure switch), `port` (Push, Port), `rings` (exchange rings and
//    their registry), and on top of those `context` (BuildCtx, JobShared, and the Driver /
//    SenderDyn / Timed traits through which the loop drives nodes).
// 2. Operators: `operator` (the Operator and BinaryOperator traits, Output).
// 3. Dataflow: `stream` (Stream and the fused nodes), and on Stream `exchange` (key_by /
//    exchange / broadcast) and `window` (its own base `window/types.rs`, then state machines,
//    then window operators); beside `window` and using its key hash and map, `joins` (the
//    regular and lookup joins) and `file_sink` (the partitioned file sink), then `updating`
//    (changelogs and the keyed operators that emit them; it uses `window`'s key hash and
//    aggregate trait).
// 4. Running: `worker` (the Worker handle and the scheduling loop), then `execute` (the job).
mod align;
mod config;
mod context;
mod counters;
mod gate;
pub mod metrics;
pub mod pinning;
mod port;
mod prefetch;
mod rings;
mod source;
mod time;
mod wake;

mod operator;

mod exchange;
pub mod file_sink;
pub mod joins;
mod stream;
pub mod updating;
pub mod window;

mod execute;
mod worker;

pub use config::{
    Config, DEFAULT_BATCH_SIZE, DEFAULT_LATENCY_BUDGET, DEFAULT_MINI_BATCH, DEFAULT_RING_CAPACITY,
    DEFAULT_SOURCE_ALIGNMENT_POLLS, EngineError, MEMORY_PER_PAIR, MEMORY_PER_WORKER,
    available_memory, resident_memory,
};
pub use exchange::worker_for_key;
pub use execute::execute;
pub use metrics::{Collector, MetricsSnapshot, OperatorMetrics, TableMetrics, WorkerMetrics};
pub use operator::{BinaryOperator, Operator, Output};
pub use source::{IterSource, Source, SourcePoll};
pub use stream::{Route, Stream};
pub use time::{Clock, END_OF_INPUT, NO_PROGRESS, Timestamp, Watermark};
pub use worker::{LatencyRecorder, Worker};
