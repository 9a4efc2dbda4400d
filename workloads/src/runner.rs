//! The runner: turns a [`RunSpec`] into a running [`Job`] on the engine it names.

use crate::job::{EngineKind, EventFormat, Job, Result, RunError, RunSpec};

/// Starts `spec` on its engine.
///
/// # Errors
/// A [`RunError::Config`] when the spec is invalid or the engine cannot run the query, a
/// [`RunError::Setup`] when the engine needs installing first.
pub fn start(spec: &RunSpec) -> Result<Job> {
    check_format(spec.format, spec.engine)?;
    match spec.engine {
        EngineKind::Sim => crate::sim::start(spec),
        EngineKind::Weir => crate::weir::start(spec),
        EngineKind::Timely => crate::timely::start(spec),
        EngineKind::Differential => crate::differential::start(spec),
        EngineKind::Flink => crate::flink::start(spec),
    }
}

/// `--format json` (YSB's JSON lines, parsed inside the job) is implemented on weir only (and
/// accepted by the `sim` fake, which generates no events).
///
/// # Errors
/// A [`RunError::Config`] naming the flag for any other engine.
pub fn check_format(format: EventFormat, engine: EngineKind) -> Result<()> {
    match (format, engine) {
        (EventFormat::Records, _) | (EventFormat::Json, EngineKind::Weir | EngineKind::Sim) => {
            Ok(())
        }
        (EventFormat::Json, engine) => Err(RunError::Config(format!(
            "--format json is implemented on weir only; {engine} reads YSB as in-memory records \
             (leave --format out, or use --engine weir)"
        ))),
    }
}
