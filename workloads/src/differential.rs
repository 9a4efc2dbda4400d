//! Nexmark and YSB on differential dataflow 0.26: the queries as collections, with
//! `arrange`, `reduce`, `count`, `join` and windows as data (see `differential/queries.rs`).
//!
//! The harness (source, digest sink, metrics, report) is the timely adapter's: differential
//! runs on timely workers, with the same source split, timestamps and watermark capabilities.

pub(crate) mod queries;

use crate::job::{EngineKind, Job, Result, RunSpec};

/// Starts `spec` on differential dataflow in this process.
///
/// # Errors
/// A [`crate::job::RunError::Config`] when the query is unknown or a flag is invalid.
pub fn start(spec: &RunSpec) -> Result<Job> {
    crate::timely::start_engine(spec, EngineKind::Differential, None)
}
