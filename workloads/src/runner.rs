//! The runner: one interface every engine adapter implements ([`Engine`]), the registry of the
//! adapters this build has ([`engines`]), and [`start`], which checks a [`RunSpec`] against
//! the catalog and starts it on its engine.
//!
//! Callers (the `weir` command, `weir compare`, tests) talk to the runner only, never to an
//! adapter: a spec is checked here once (flags that no engine accepts, a query the engine does
//! not run, an engine this build lacks), and every adapter's [`Job`] returns the same
//! [`crate::report::RunReport`], assembled by [`crate::job::Outcome::into_report`].

use crate::catalog::{EngineKind, Query, Support, Workload};
use crate::cpu::CpuMark;
use crate::inputs::{EventFile, SideInput};
pub use crate::job::Engine;
use crate::job::{EventFormat, Job, Result, RunError, RunLength, RunSpec, SourceMode};

/// The engines this build has, in [`EngineKind::ALL`] order.
pub fn engines() -> Vec<&'static dyn Engine> {
    let mut engines: Vec<&'static dyn Engine> = vec![&crate::weir::WeirEngine];
    #[cfg(feature = "timely")]
    engines.push(&crate::timely::TimelyEngine);
    #[cfg(feature = "differential")]
    engines.push(&crate::differential::DifferentialEngine);
    #[cfg(feature = "flink")]
    engines.push(&crate::flink::FlinkEngine);
    engines.push(&crate::sim::SimEngine);
    engines
}

/// The adapter of `kind`.
///
/// # Errors
/// A [`RunError::Config`] naming the cargo feature when this build lacks the engine.
pub fn engine(kind: EngineKind) -> Result<&'static dyn Engine> {
    engines()
        .into_iter()
        .find(|e| e.kind() == kind)
        .ok_or_else(|| {
            let feature = kind.feature().unwrap_or(kind.as_str());
            RunError::Config(format!(
                "this weir was built without the {kind} engine (--engine {kind}); rebuild with \
                 the cargo feature '{feature}' (`cargo build --release -p weir-tui --features \
                 {feature}`; the default build has every engine)"
            ))
        })
}

/// Checks `spec` against the catalog and starts it on its engine.
///
/// # Errors
/// A [`RunError::Config`] when the spec is invalid, the engine does not run the query or this
/// build lacks the engine; otherwise what the engine's [`Engine::start`] returns.
pub fn start(spec: &RunSpec) -> Result<Job> {
    let engine = engine(spec.engine)?;
    check(spec, engine)?;
    engine.check(spec)?;
    let mark = CpuMark::now();
    Ok(engine.start(spec)?.with_cpu_mark(mark))
}

/// The checks every engine shares.
fn check(spec: &RunSpec, engine: &dyn Engine) -> Result<()> {
    let config = |message: String| Err(RunError::Config(message));
    if let Support::Not(why) = engine.runs(spec.query) {
        let runs: Vec<&str> = Query::of(spec.workload())
            .filter(|q| engine.runs(*q).runs())
            .map(Query::name)
            .collect();
        return config(format!(
            "engine '{e}' cannot run {w} query '{q}' (--engine {e} --query {q}): {why}; {e} \
             runs: {} (see `weir list`)",
            runs.join(", "),
            e = engine.name(),
            w = spec.workload(),
            q = spec.query,
        ));
    }
    if spec.workers == 0 {
        return config("--workers must be at least 1".into());
    }
    if spec.event_rate == 0 {
        return config("--event-rate must be at least 1 event/s".into());
    }
    if let RunLength::Events(0) = spec.length {
        return config("--events must be at least 1".into());
    }
    if let Some(rate) = spec.rate {
        if rate == 0 {
            return config(
                "--rate must be at least 1 event/s (leave it out to run as fast as possible)"
                    .into(),
            );
        }
        if rate != spec.event_rate {
            return config(format!(
                "--rate {rate} and --event-rate {} disagree: a paced run's event time follows \
                 the wall clock, so --event-rate must equal --rate",
                spec.event_rate
            ));
        }
    }
    if spec.source == SourceMode::Replay && matches!(spec.length, RunLength::Duration(_)) {
        return config(
            "--source replay pre-generates the input, so it needs --events N (not --duration)"
                .into(),
        );
    }
    check_format(spec.format, spec.workload(), spec.engine)?;
    if spec.flink_cluster.is_some() && spec.engine != EngineKind::Flink {
        return config(format!(
            "--flink-cluster runs Flink on a cluster; engine '{}' runs here (use --engine \
             flink, or leave --flink-cluster out)",
            spec.engine
        ));
    }
    check_changelog(spec)?;
    if spec.cluster.is_some() && spec.engine != EngineKind::Timely {
        return config(format!(
            "--processes, --process and --hostfile are timely's cluster mode; engine '{}' runs \
             in one process (use --engine timely, or leave them out)",
            spec.engine
        ));
    }
    check_files(spec)
}

/// `--changelog`: an updating query's changelog into the `--output` file, on weir.
fn check_changelog(spec: &RunSpec) -> Result<()> {
    if !spec.changelog {
        return Ok(());
    }
    let why = if spec.output.is_none() {
        "it says what --output writes: add --output FILE".to_string()
    } else if spec.query.def().output != crate::catalog::Output::FinalTable {
        format!(
            "{} is not an updating query (its --output rows are never retracted, so they are \
             its changelog already); leave --changelog out",
            spec.query
        )
    } else if spec.engine != EngineKind::Weir {
        format!(
            "engine '{}' writes the final table only; use --engine weir, or leave --changelog \
             out",
            spec.engine
        )
    } else {
        return Ok(());
    };
    Err(RunError::Config(format!("--changelog: {why}")))
}

/// `--input`, `--side-input` and `--sink-dir`: which runs take them, and that their files are
/// usable (read here, before any job starts; a fault names the file and the line).
fn check_files(spec: &RunSpec) -> Result<()> {
    let config = |message: String| Err(RunError::Config(message));
    if let Some(path) = &spec.input {
        if spec.workload() != Workload::Nexmark {
            return config(format!(
                "--input reads Nexmark events; {} events are generated (leave --input out)",
                spec.workload()
            ));
        }
        let RunLength::Events(n) = spec.length else {
            return config(
                "--input reads a bounded file: give --events N (at most the file's events) or \
                 leave --duration out"
                    .into(),
            );
        };
        if spec.rate.is_some() {
            return config(
                "--rate paces the generator's timeline; a file's events carry their own times \
                 and run unpaced (leave --rate out)"
                    .into(),
            );
        }
        if spec.source != SourceMode::Replay {
            return config(
                "--input reads the file into per-worker memory before the clock starts (the \
                 replay mode): use --source replay, or leave --source out"
                    .into(),
            );
        }
        let file = EventFile::load(path).map_err(|e| RunError::Config(format!("--input {e}")))?;
        if n > file.len() {
            return config(format!(
                "--events {n}: --input {} holds only {} events",
                path.display(),
                file.len()
            ));
        }
    }
    if let Some(path) = &spec.side_input {
        if spec.query != Query::Q13 {
            return config(format!(
                "--side-input is q13's side table; {} {} does not read it (leave it out)",
                spec.workload(),
                spec.query
            ));
        }
        SideInput::load(path).map_err(|e| RunError::Config(format!("--side-input {e}")))?;
    }
    if let Some(dir) = &spec.sink_dir {
        if spec.query != Query::Q10 {
            return config(format!(
                "--sink-dir is where q10 writes its partitioned files; {} {} writes none \
                 (leave it out)",
                spec.workload(),
                spec.query
            ));
        }
        if dir.exists() {
            let empty = std::fs::read_dir(dir)
                .map_err(|e| RunError::Io {
                    context: format!("--sink-dir {}", dir.display()),
                    source: e,
                })?
                .next()
                .is_none();
            if !empty {
                return config(format!(
                    "--sink-dir {}: the directory is not empty; give a new or empty one (q10's \
                     files are read back to check them, so old files would count)",
                    dir.display()
                ));
            }
        }
    }
    Ok(())
}

/// `--format json` (YSB's JSON lines, parsed inside the job) is for YSB, and implemented on
/// weir only (and accepted by the `sim` fake, which generates no events).
///
/// # Errors
/// A [`RunError::Config`] naming the flag.
pub fn check_format(format: EventFormat, workload: Workload, engine: EngineKind) -> Result<()> {
    match (format, workload, engine) {
        (EventFormat::Records, ..)
        | (EventFormat::Json, Workload::Ysb, EngineKind::Weir | EngineKind::Sim) => Ok(()),
        (EventFormat::Json, Workload::Nexmark, _) => Err(RunError::Config(format!(
            "--format json is for ysb only: {workload} events are in-memory records (leave \
             --format out)"
        ))),
        (EventFormat::Json, Workload::Ysb, engine) => Err(RunError::Config(format!(
            "--format json is implemented on weir only; {engine} reads YSB as in-memory records \
             (leave --format out, or use --engine weir)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_has_the_built_engines_in_order() {
        let kinds: Vec<EngineKind> = engines().iter().map(|e| e.kind()).collect();
        let built: Vec<EngineKind> = EngineKind::ALL
            .iter()
            .copied()
            .filter(|k| k.is_built())
            .collect();
        assert_eq!(kinds, built);
        for engine in engines() {
            assert_eq!(engine.name(), engine.kind().as_str());
            assert!(!engine.version().is_empty(), "{}", engine.name());
        }
    }

    #[test]
    fn a_query_an_engine_does_not_run_is_refused_with_the_reason() {
        let spec = RunSpec::new(Query::NexmarkGen, EngineKind::Flink);
        let err = match start(&spec) {
            Err(RunError::Config(message)) => message,
            other => panic!("expected a config error, got {other:?}"),
        };
        if EngineKind::Flink.is_built() {
            assert!(
                err.contains("engine 'flink' cannot run nexmark query 'gen'"),
                "{err}"
            );
            assert!(err.contains("weir's own source"), "{err}");
            assert!(err.contains("q0, q1"), "{err}");
        } else {
            assert!(err.contains("feature 'flink'"), "{err}");
        }
    }

    #[test]
    fn shared_checks_name_their_flag() {
        let base = RunSpec::new(Query::Q5, EngineKind::Sim);
        let message = |spec: RunSpec| match start(&spec) {
            Err(RunError::Config(m)) => m,
            other => panic!("expected a config error, got {other:?}"),
        };
        assert!(
            message(RunSpec {
                workers: 0,
                ..base.clone()
            })
            .contains("--workers")
        );
        assert!(
            message(RunSpec {
                rate: Some(5),
                ..base.clone()
            })
            .contains("--event-rate must equal --rate")
        );
        assert!(
            message(RunSpec {
                format: EventFormat::Json,
                ..base.clone()
            })
            .contains("--format json is for ysb only")
        );
        let cluster = crate::cluster::TimelyCluster::localhost(2, 0).expect("valid");
        assert!(
            message(RunSpec {
                cluster: Some(cluster),
                ..base
            })
            .contains("timely's cluster mode")
        );
    }
}
