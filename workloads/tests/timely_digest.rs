//! The timely and differential adapters agree with each other at 1 and 2 workers.

use weir_workloads::job::{EngineKind, RunLength, RunSpec, SourceMode, Workload};
use weir_workloads::report::RunReport;
use weir_workloads::runner;

fn spec(engine: EngineKind, query: &str, workers: usize) -> RunSpec {
    RunSpec {
        workload: Workload::Nexmark,
        query: query.to_string(),
        engine,
        workers,
        pinning: false,
        length: RunLength::Events(30_000),
        rate: None,
        event_rate: 5_000,
        source: SourceMode::Generate,
        output: None,
        command: format!("test {engine} {query} {workers}"),
    }
}

fn run(engine: EngineKind, query: &str, workers: usize) -> RunReport {
    runner::start(&spec(engine, query, workers))
        .expect("the job starts")
        .wait()
        .expect("the job finishes")
}

#[test]
fn all_agree() {
    for q in ["q0", "q1", "q2", "q3", "q4", "q5", "q7", "q8", "q11"] {
        let base = run(EngineKind::Timely, q, 1);
        eprintln!("{q}: {:?} events {}", base.digest, base.events);
        for (engine, workers) in [
            (EngineKind::Timely, 2),
            (EngineKind::Differential, 1),
            (EngineKind::Differential, 2),
        ] {
            let r = run(engine, q, workers);
            assert_eq!(
                r.digest, base.digest,
                "{q} on {engine} with {workers} workers"
            );
        }
    }
}
