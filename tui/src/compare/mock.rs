//! A deterministic fake executor, in the spirit of hyperfine's mock executor: it returns fixed
//! reports instantly, so the verdict, the exports and the exit code can be snapshot-tested.
//! `weir compare --mock` uses it too (hidden flag, for tests and demos).
//!
//! Every figure is a pure function of the engine, the query, the worker count and how many
//! times that engine has already run that query (call 0 is the warm-up when there is one).
//! Scenarios, by query:
//! - any query: weir ~12 M ev/s per worker, timely ~3.1 M, differential ~2.9 M (reports no
//!   latency), flink ~0.86 M (2.1 s start-up), sim ~2 M; every round jitters by up to ±3 %.
//! - `q7`: flink's second measured run returns a different digest (a disagreement).
//! - `q8`: weir and timely are within each other's noise (too close to call).
//! - a query the catalog says an engine does not run (the `gen` baselines on the peers): that
//!   engine refuses it, as the runner would (unsupported, not an error).
//! - paced runs (`rate`) achieve `min(rate, engine speed)`, so a rate above an engine's speed
//!   makes it fall behind.
//! - the ceiling: memory-read 150 M ev/s per worker (replay), generator-only 20 M ev/s per
//!   worker (generate, for queries with a generator-only baseline).
//!
//! **Layer.** An [`Executor`] of the loop, above it: imports only the loop's traits
//! ([`super`]); nothing in `compare` imports it back.

use std::collections::HashMap;

use weir_engine::{MetricsSnapshot, WorkerMetrics};
use weir_workloads::catalog::EngineKind;
use weir_workloads::catalog::{Query, Support};
use weir_workloads::cpu::CpuTime;
use weir_workloads::job::{EngineCpu, EngineVersions, Outcome, RunError, RunLength, RunSpec};
use weir_workloads::report::{DigestSummary, LatencySummary, Machine, RunReport, WorkerReport};

use super::{Executor, Flow};

/// The fake executor.
#[derive(Debug, Default)]
pub struct MockExecutor {
    calls: HashMap<(EngineKind, Query), usize>,
}

impl MockExecutor {
    /// A fresh mock (no runs yet).
    pub fn new() -> Self {
        Self::default()
    }
}

/// The machine every mock run reports.
pub fn mock_machine() -> Machine {
    Machine {
        cpu: "Mock CPU @ 3.00GHz".to_string(),
        cores: 2,
        memory_gb: 24.0,
        os: "linux 6.1.0-mock".to_string(),
    }
}

fn base_eps(engine: EngineKind, query: Query) -> f64 {
    match (engine, query) {
        (EngineKind::Weir, Query::Q8) => 3.05e6,
        (EngineKind::Weir, _) => 12.0e6,
        (EngineKind::Timely, _) => 3.1e6,
        (EngineKind::Differential, _) => 2.9e6,
        (EngineKind::Flink, _) => 0.86e6,
        (EngineKind::Sim, _) => 2.0e6,
    }
}

fn engine_index(engine: EngineKind) -> usize {
    EngineKind::ALL
        .iter()
        .position(|&e| e == engine)
        .expect("every engine is in ALL")
}

impl Executor for MockExecutor {
    fn run(
        &mut self,
        spec: &RunSpec,
        progress: &mut dyn FnMut(&MetricsSnapshot) -> Flow,
    ) -> Result<RunReport, RunError> {
        if let Support::Not(why) = spec.query.support(spec.engine) {
            return Err(RunError::Config(format!(
                "engine '{}' cannot run {} query '{}': {why} (see `weir list`)",
                spec.engine,
                spec.workload(),
                spec.query
            )));
        }
        let call = {
            let n = self.calls.entry((spec.engine, spec.query)).or_default();
            *n += 1;
            *n - 1
        };
        let events = match spec.length {
            RunLength::Events(n) => n,
            RunLength::Duration(d) => (d.as_secs_f64() * 1e6) as u64,
        };
        let e = engine_index(spec.engine);
        let jitter = 1.0 + (((call * (e + 2) + e) % 7) as f64 - 3.0) * 0.01;
        let max_eps = base_eps(spec.engine, spec.query) * spec.workers as f64 * jitter;
        let eps = spec.rate.map_or(max_eps, |r| max_eps.min(0.99 * r as f64));
        let wall_s = events as f64 / eps;
        let workers = spec.workers as u64;
        for k in 1..=5u64 {
            let done = events * k / 5;
            let snapshot = MetricsSnapshot {
                elapsed_ns: (wall_s * 1e9) as u64 * k / 5,
                workers: (0..workers)
                    .map(|w| WorkerMetrics {
                        events_in: done / workers + u64::from(w < done % workers),
                        ..WorkerMetrics::default()
                    })
                    .collect(),
                events_total: Some(events),
                finished: k == 5,
                ..MetricsSnapshot::default()
            };
            progress(&snapshot);
        }
        let ms = |x: f64| (x * 1e6 * jitter) as u64;
        let latency_ns = match spec.engine {
            EngineKind::Differential => None,
            EngineKind::Weir => Some((ms(0.8), ms(2.1), ms(3.4), ms(5.0))),
            EngineKind::Timely if spec.query == Query::Q8 => {
                Some((ms(0.8), ms(2.2), ms(3.5), ms(5.2)))
            }
            EngineKind::Timely => Some((ms(1.5), ms(4.0), ms(6.0), ms(9.0))),
            EngineKind::Flink => Some((ms(4.0), ms(12.0), ms(20.0), ms(40.0))),
            EngineKind::Sim => Some((ms(0.7), ms(1.1), ms(1.2), ms(1.2))),
        }
        .map(|(p50, p99, p999, max)| LatencySummary {
            p50,
            p99,
            p999,
            max,
            samples: events / 1024,
        });
        let disagree = spec.engine == EngineKind::Flink && spec.query == Query::Q7 && call == 2;
        let seed: u128 = spec
            .query
            .name()
            .bytes()
            .fold(u128::from(events), |h, b| {
                h.wrapping_mul(0x0100_0000_01B3).wrapping_add(u128::from(b))
            })
            .wrapping_add(u128::from(disagree));
        let rows = events / 46 - u64::from(disagree);
        let hash = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835);
        let engine_versions = match spec.engine {
            EngineKind::Timely => EngineVersions {
                timely: Some("0.32.0".to_string()),
                ..EngineVersions::default()
            },
            EngineKind::Differential => EngineVersions {
                timely: Some("0.32.0".to_string()),
                differential: Some("0.26.0".to_string()),
                ..EngineVersions::default()
            },
            EngineKind::Flink => EngineVersions {
                flink: Some("2.3.0".to_string()),
                java: Some("17.0.16".to_string()),
                ..EngineVersions::default()
            },
            _ => EngineVersions::default(),
        };
        let outcome = Outcome {
            events,
            startup_s: match spec.engine {
                EngineKind::Flink => 2.1,
                EngineKind::Sim => 0.0,
                _ => 0.002 * (e + 1) as f64,
            },
            wall_s,
            latency: latency_ns,
            // q11's sessions all close at the end of input: a flush reported apart.
            end_of_input_latency: (spec.query == Query::Q11 && latency_ns.is_some()).then(|| {
                LatencySummary {
                    p50: ms(150.0),
                    p99: ms(350.0),
                    p999: ms(358.0),
                    max: ms(360.0),
                    samples: events / 10,
                }
            }),
            digest: DigestSummary {
                rows,
                hash: format!("{hash:032x}"),
            },
            late: 0,
            dropped: 0,
            per_worker: (0..workers)
                .map(|w| WorkerReport {
                    busy_s: wall_s * 0.9,
                    idle_s: wall_s * 0.1,
                    backpressured_s: 0.0,
                    held_s: 0.0,
                    records: events / workers + u64::from(w < events % workers),
                })
                .collect(),
            total_workers: None,
            pinned: spec.pinning,
            versions: engine_versions,
            // Deterministic: 85 % user and 5 % system time on every worker over the run.
            cpu: EngineCpu::Measured(CpuTime {
                user_s: wall_s * workers as f64 * 0.85,
                system_s: wall_s * workers as f64 * 0.05,
            }),
        };
        let mut report = outcome.into_report(spec);
        // Fixed machine and weir versions, so snapshots do not depend on the build.
        report.machine = mock_machine();
        report.versions.weir = "0.1.0".to_string();
        report.versions.weir_commit = Some("0000000".to_string());
        report.versions.rustc = Some("rustc 1.95.0 (mock)".to_string());
        Ok(report)
    }

    fn ceiling(&mut self, spec: &RunSpec) -> Option<(&'static str, Result<f64, String>)> {
        let per_worker = match spec.source {
            weir_workloads::job::SourceMode::Replay => ("memory-read", 150e6),
            weir_workloads::job::SourceMode::Generate => {
                spec.query.def().baseline?;
                ("generator-only", 20e6)
            }
        };
        Some((per_worker.0, Ok(per_worker.1 * spec.workers as f64)))
    }
}
