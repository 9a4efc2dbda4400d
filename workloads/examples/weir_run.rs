//! Runs one query on the weir engine through the runner and prints its RunReport as one JSON
//! line (the measurement harness of docs/RESULTS.md, "Queries on weir", until `weir run` is
//! on this branch).
//!
//! `cargo run --release -p weir-workloads --example weir_run -- WORKLOAD QUERY WORKERS
//! generate|replay EVENTS [RATE]`

use std::process::ExitCode;

use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::job::{RunLength, RunSpec, SourceMode};
use weir_workloads::nexmark::DEFAULT_EVENT_RATE;
use weir_workloads::runner;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 5 {
        eprintln!("usage: weir_run WORKLOAD QUERY WORKERS generate|replay EVENTS [RATE]");
        return ExitCode::from(2);
    }
    let parsed = (|| -> Result<RunSpec, String> {
        let workload: Workload = args[0].parse().map_err(|e| format!("{e}"))?;
        let workers: usize = args[2].parse().map_err(|e| format!("WORKERS: {e}"))?;
        let source: SourceMode = args[3].parse().map_err(|e| format!("{e}"))?;
        let events: u64 = args[4].parse().map_err(|e| format!("EVENTS: {e}"))?;
        let rate: Option<u64> = args
            .get(5)
            .map(|r| r.parse().map_err(|e| format!("RATE: {e}")))
            .transpose()?;
        Ok(RunSpec {
            workers,
            pinning: true,
            length: RunLength::Events(events),
            rate,
            event_rate: rate.unwrap_or(DEFAULT_EVENT_RATE),
            source,
            command: format!("weir_run {}", args.join(" ")),
            ..RunSpec::new(
                Query::parse(workload, &args[1]).map_err(|e| e.to_string())?,
                EngineKind::Weir,
            )
        })
    })();
    let spec = match parsed {
        Ok(spec) => spec,
        Err(e) => {
            eprintln!("weir_run: {e}");
            return ExitCode::from(2);
        }
    };
    match runner::start(&spec).and_then(weir_workloads::job::Job::wait) {
        Ok(report) => {
            println!(
                "{}",
                serde_json::to_string(&report).expect("a report serialises")
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("weir_run: {e}");
            ExitCode::FAILURE
        }
    }
}
