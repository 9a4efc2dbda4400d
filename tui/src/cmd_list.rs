//! `weir list`: the workloads, their queries, the engines, and which engine runs which query,
//! all drawn from the catalog (`weir_workloads::catalog`) and the runner's registry, so this
//! table, `weir run`'s query check and the adapters cannot drift apart.
//!
//! Three formats: `text` (the default, for people), `json` (for scripts: `scripts/bench.sh`
//! reads it) and `markdown` (the query table of the README and `docs/WORKLOADS.md`; a test
//! checks that both hold exactly this output).

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde::Serialize;
use weir_workloads::catalog::{
    CATALOG, Comparability, EngineKind, Latency, Query, QueryDef, Support, Workload,
};
use weir_workloads::runner;

/// Output formats of `weir list`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table for people.
    #[default]
    Text,
    /// Machine-readable JSON.
    Json,
    /// The query table as Markdown (the README's and docs/WORKLOADS.md's).
    Markdown,
}

/// Flags of `weir list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Output format: text, json or markdown.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

/// The engines this build lacks.
fn missing() -> Vec<EngineKind> {
    EngineKind::ALL
        .iter()
        .copied()
        .filter(|e| !e.is_built())
        .collect()
}

/// How the text table marks an engine's support: `yes`, the API for Flink (whose queries are
/// written either in SQL through the Table API or on the DataStream API: its first word, so the
/// mark is one column), `-` when it does not run the query.
fn mark(engine: EngineKind, support: Support) -> &'static str {
    match support {
        Support::Runs(api) if engine == EngineKind::Flink => {
            api.split_whitespace().next().unwrap_or(api)
        }
        Support::Runs(_) => "yes",
        Support::Not(_) => "-",
    }
}

/// The text `weir list` prints.
pub fn text() -> String {
    let mut out = String::new();
    let workloads: Vec<&str> = Workload::ALL.iter().map(|w| w.as_str()).collect();
    let engines: Vec<String> = runner::engines()
        .iter()
        .map(|e| match e.kind() {
            EngineKind::Sim => "sim".to_string(),
            _ => format!("{} {}", e.name(), e.version()),
        })
        .collect();
    let _ = writeln!(out, "workloads: {}", workloads.join(", "));
    let _ = writeln!(
        out,
        "engines:   {} (sim: a deterministic fake for demos and tests)",
        engines.join(", ")
    );
    let missing = missing();
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|e| e.as_str()).collect();
        let features: Vec<String> = missing
            .iter()
            .filter_map(|e| e.feature())
            .map(|f| format!("'{f}'"))
            .collect();
        let _ = writeln!(
            out,
            "not in this build: {} (cargo features {}; the default build has every engine)",
            names.join(", "),
            features.join(", ")
        );
    }
    let _ = writeln!(out);
    // Each engine's column is as wide as its widest mark, plus two spaces.
    let width = |engine: EngineKind| {
        CATALOG
            .iter()
            .map(|d| mark(engine, d.engines.of(engine)).len())
            .chain([engine.as_str().len()])
            .max()
            .unwrap_or(0)
            + 2
    };
    let _ = write!(out, "{:<18}", "query");
    for engine in EngineKind::ALL {
        let _ = write!(out, "{:<w$}", engine.as_str(), w = width(*engine));
    }
    let _ = writeln!(out, "what it computes");
    for def in CATALOG {
        let _ = write!(out, "{:<18}", format!("{} {}", def.workload, def.name));
        for engine in EngineKind::ALL {
            let m = mark(*engine, def.engines.of(*engine));
            let _ = write!(out, "{m:<w$}", w = width(*engine));
        }
        let _ = writeln!(out, "{}", def.computes);
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "flink: DataStream = a DataStream API job; SQL = Flink SQL through the Table API"
    );
    let _ = writeln!(out, "-: the engine does not run the query:");
    for (why, who) in reasons() {
        let _ = writeln!(out, "  {who}: {why}");
    }
    let _ = writeln!(
        out,
        "\nrun one with: weir run <workload> --query <query> --engine <engine>"
    );
    out
}

/// The distinct reasons why engines do not run queries, each with the queries and engines it
/// covers ("nexmark gen, gen-bids, ysb gen on timely, differential, flink").
fn reasons() -> Vec<(&'static str, String)> {
    let mut by_reason: Vec<(&'static str, Vec<String>, Vec<&'static str>)> = Vec::new();
    for def in CATALOG {
        for engine in EngineKind::real() {
            if let Support::Not(why) = def.engines.of(engine) {
                let query = format!("{} {}", def.workload, def.name);
                match by_reason.iter_mut().find(|(w, ..)| *w == why) {
                    Some((_, queries, engines)) => {
                        if !queries.contains(&query) {
                            queries.push(query);
                        }
                        if !engines.contains(&engine.as_str()) {
                            engines.push(engine.as_str());
                        }
                    }
                    None => by_reason.push((why, vec![query], vec![engine.as_str()])),
                }
            }
        }
    }
    by_reason
        .into_iter()
        .map(|(why, queries, engines)| {
            (
                why,
                format!("{} on {}", queries.join(", "), engines.join(", ")),
            )
        })
        .collect()
}

/// One engine's entry in the JSON form.
#[derive(Debug, Serialize)]
struct EngineJson {
    name: &'static str,
    built: bool,
    /// The cargo feature that builds it (`null` for engines every build has).
    feature: Option<&'static str>,
    version: Option<String>,
}

/// One engine's support of one query in the JSON form.
#[derive(Debug, Serialize)]
struct SupportJson {
    runs: bool,
    /// The API the query is written with, when it runs.
    api: Option<&'static str>,
    /// Why not, when it does not.
    why_not: Option<&'static str>,
}

/// One query in the JSON form.
#[derive(Debug, Serialize)]
struct QueryJson {
    workload: &'static str,
    name: &'static str,
    computes: &'static str,
    columns: &'static [&'static str],
    time: &'static str,
    output: &'static str,
    digest_comparable: bool,
    digest_note: Option<&'static str>,
    latency: &'static str,
    latency_note: Option<&'static str>,
    reads: &'static str,
    baseline: Option<&'static str>,
    engines: serde_json::Map<String, serde_json::Value>,
}

/// The catalog as JSON (`weir list --format json`).
pub fn json() -> String {
    let engines: Vec<EngineJson> = EngineKind::ALL
        .iter()
        .map(|kind| EngineJson {
            name: kind.as_str(),
            built: kind.is_built(),
            feature: kind.feature(),
            version: runner::engine(*kind).ok().map(runner::Engine::version),
        })
        .collect();
    let queries: Vec<QueryJson> = CATALOG.iter().map(query_json).collect();
    let value = serde_json::json!({
        "workloads": Workload::ALL.iter().map(|w| w.as_str()).collect::<Vec<_>>(),
        "engines": engines,
        "queries": queries,
    });
    let mut text = serde_json::to_string_pretty(&value).expect("plain data serializes");
    text.push('\n');
    text
}

fn query_json(def: &QueryDef) -> QueryJson {
    let mut engines = serde_json::Map::new();
    for engine in EngineKind::real() {
        let support = def.engines.of(engine);
        let entry = SupportJson {
            runs: support.runs(),
            api: match support {
                Support::Runs(api) => Some(api),
                Support::Not(_) => None,
            },
            why_not: match support {
                Support::Runs(_) => None,
                Support::Not(why) => Some(why),
            },
        };
        engines.insert(
            engine.as_str().to_string(),
            serde_json::to_value(entry).expect("plain data serializes"),
        );
    }
    QueryJson {
        workload: def.workload.as_str(),
        name: def.name,
        computes: def.computes,
        columns: def.columns,
        time: def.time.as_str(),
        output: def.output.as_str(),
        digest_comparable: def.digest == Comparability::Comparable,
        digest_note: match def.digest {
            Comparability::Comparable => None,
            Comparability::NotComparable(why) => Some(why),
        },
        latency: def.latency.as_str(),
        latency_note: match def.latency {
            Latency::NotObserved(why) => Some(why),
            _ => None,
        },
        reads: def.reads.as_str(),
        baseline: def.baseline.map(Query::name),
        engines,
    }
}

/// The query table as Markdown (`weir list --format markdown`): one row per query, baselines
/// included.
pub fn markdown() -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| query | what it computes | result columns | time | digest | latency | weir | timely | differential | flink |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
    for def in CATALOG {
        let columns = if def.columns.is_empty() {
            "(none)".to_string()
        } else {
            format!("`{}`", def.columns.join(", "))
        };
        let digest = match def.digest {
            Comparability::Comparable => format!("{}, comparable", def.output.as_str()),
            Comparability::NotComparable(why) => format!("not comparable: {why}"),
        };
        let latency = match def.latency {
            Latency::NotObserved(why) => format!("not observed: {why}"),
            other => other.as_str().to_string(),
        };
        let engines: Vec<&str> = EngineKind::real()
            .map(|e| match def.engines.of(e) {
                Support::Runs(api) => api,
                Support::Not(_) => "-",
            })
            .collect();
        let _ = writeln!(
            out,
            "| {} {} | {} | {columns} | {} | {digest} | {latency} | {} |",
            def.workload,
            def.name,
            def.computes,
            def.time.as_str(),
            engines.join(" | ")
        );
    }
    let _ = writeln!(out);
    for (why, who) in reasons() {
        let _ = writeln!(out, "`-`: {who}: {why}.");
    }
    out
}

pub(crate) fn run(args: &ListArgs) -> ExitCode {
    match args.format {
        ListFormat::Text => print!("{}", text()),
        ListFormat::Json => print!("{}", json()),
        ListFormat::Markdown => print!("{}", markdown()),
    }
    ExitCode::SUCCESS
}
