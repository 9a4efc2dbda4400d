//! The runner: turns a [`RunSpec`] into a running [`Job`] on the engine it names.

use crate::job::{EngineKind, Job, Result, RunSpec};

/// Starts `spec` on its engine.
///
/// # Errors
/// A [`RunError::Config`](crate::job::RunError::Config) when the spec is invalid or the engine cannot run the query, a
/// [`RunError::Setup`](crate::job::RunError::Setup) when the engine needs installing first.
pub fn start(spec: &RunSpec) -> Result<Job> {
    match spec.engine {
        EngineKind::Sim => crate::sim::start(spec),
        EngineKind::Weir => crate::weir::start(spec),
        EngineKind::Timely => crate::timely::start(spec),
        EngineKind::Differential => crate::differential::start(spec),
        EngineKind::Flink => crate::flink::start(spec),
    }
}
