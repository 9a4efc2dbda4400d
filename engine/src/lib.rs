//! weir-engine: a thread-per-core streaming dataflow runtime.
//!
//! This crate knows nothing of workloads or terminals. Its public surface is the dataflow API
//! (built by every worker, SPMD) and the [`metrics`] snapshot that the runner, the console and
//! every other engine's adapter share.

#![warn(missing_docs)]

pub mod metrics;
pub mod window;

pub use metrics::{Collector, MetricsSnapshot, OperatorMetrics, WorkerMetrics};
