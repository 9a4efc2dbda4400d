//! `weir list`: the workloads, their queries, the engines, and which engine runs which query.
//!
//! The support lists come from the adapters themselves, so this table and `weir run`'s query
//! check cannot drift apart from what the engines accept.

use std::fmt::Write as _;
use std::process::ExitCode;

use weir_workloads::job::{EngineKind, Workload};
use weir_workloads::{flink, timely, weir};

/// Every query of `workload`, in the order `weir list` shows them: the union of what the
/// engines run (weir's list, which adds the generator-only baselines `gen` and `gen-bids`).
pub fn queries(workload: Workload) -> &'static [&'static str] {
    match workload {
        Workload::Nexmark => weir::NEXMARK_QUERIES,
        Workload::Ysb => weir::YSB_QUERIES,
    }
}

/// Whether `engine` runs `query` of `workload` (`query` in lower case).
pub fn supports(engine: EngineKind, workload: Workload, query: &str) -> bool {
    match engine {
        // The sim accepts any query name; it stands in for weir, so it offers weir's list.
        EngineKind::Weir | EngineKind::Sim => queries(workload).contains(&query),
        EngineKind::Timely | EngineKind::Differential => match workload {
            Workload::Nexmark => timely::QUERIES.contains(&query),
            Workload::Ysb => query == "ysb",
        },
        EngineKind::Flink => flink::supports(workload, query),
    }
}

/// The queries of `workload` that `engine` runs, in [`queries`] order.
pub fn supported(engine: EngineKind, workload: Workload) -> Vec<&'static str> {
    queries(workload)
        .iter()
        .copied()
        .filter(|q| supports(engine, workload, q))
        .collect()
}

/// What a query computes, one short phrase (WORKLOADS.md).
fn describe(query: &str) -> &'static str {
    match query {
        "gen" => "generator-only baseline (source -> counting sink)",
        "gen-bids" => "generator-only baseline, bids only",
        "q0" => "pass-through",
        "q1" => "currency conversion (map)",
        "q2" => "selection (filter)",
        "q3" => "local item suggestion (join)",
        "q4" => "average price per category (join + aggregate)",
        "q5" => "hot items (sliding window)",
        "q7" => "highest bid (tumbling window)",
        "q8" => "new users (window join)",
        "q11" => "user sessions (session window)",
        "q12" => "bids per user (processing-time window)",
        "ysb" => "campaign counts (10 s tumbling window)",
        _ => "",
    }
}

/// The text `weir list` prints.
pub fn text() -> String {
    let mut out = String::new();
    let names = |items: &[String]| items.join(", ");
    let workloads: Vec<String> = Workload::ALL.iter().map(ToString::to_string).collect();
    let engines: Vec<String> = EngineKind::ALL.iter().map(ToString::to_string).collect();
    let _ = writeln!(out, "workloads: {}", names(&workloads));
    let _ = writeln!(
        out,
        "engines:   {} (sim: a deterministic fake for demos and tests)",
        names(&engines)
    );
    let _ = writeln!(out);
    let _ = write!(out, "{:<18}", "query");
    // Each engine's column is as wide as its name, plus two spaces.
    let width = |engine: &EngineKind| engine.to_string().len().max(3) + 2;
    for engine in EngineKind::ALL {
        let _ = write!(out, "{:<w$}", engine.to_string(), w = width(engine));
    }
    let _ = writeln!(out, "what it computes");
    for workload in Workload::ALL {
        for query in queries(*workload) {
            let _ = write!(out, "{:<18}", format!("{workload} {query}"));
            for engine in EngineKind::ALL {
                let mark = if supports(*engine, *workload, query) {
                    "yes"
                } else {
                    "-"
                };
                let _ = write!(out, "{mark:<w$}", w = width(engine));
            }
            let _ = writeln!(out, "{}", describe(query));
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "run one with: weir run <workload> --query <query> --engine <engine>"
    );
    out
}

pub(crate) fn run() -> ExitCode {
    print!("{}", text());
    ExitCode::SUCCESS
}
