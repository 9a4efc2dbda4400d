//! `weir list`.

use std::process::ExitCode;

use weir_workloads::job::{EngineKind, Workload};

pub(crate) fn run() -> ExitCode {
    println!(
        "workloads: {}",
        Workload::ALL
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "engines:   {}",
        EngineKind::ALL
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    ExitCode::SUCCESS
}
