//! `weir list`: workloads, engines, and the query x engine support matrix, drawn from the
//! catalog, in its three formats.

use assert_cmd::Command;
use weir_workloads::catalog::{CATALOG, EngineKind, Support};

fn list(format: &str) -> String {
    let out = Command::cargo_bin("weir")
        .expect("the weir binary is built for tests")
        .args(["list", "--format", format])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).expect("utf-8")
}

/// The support marks of the row `workload query`, one per engine in `EngineKind::ALL` order.
fn row(text: &str, label: &str) -> Vec<String> {
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{label} ")))
        .unwrap_or_else(|| panic!("no row '{label}' in:\n{text}"));
    line[label.len()..]
        .split_whitespace()
        .take(EngineKind::ALL.len())
        .map(str::to_string)
        .collect()
}

#[test]
fn lists_workloads_engines_with_versions_and_the_header() {
    let text = list("text");
    assert!(text.starts_with("workloads: nexmark, ysb\n"), "{text}");
    let engines = text
        .lines()
        .find(|l| l.starts_with("engines:"))
        .expect("an engines line");
    assert!(engines.contains("weir 0.1.0"), "{engines}");
    for engine in EngineKind::ALL {
        if engine.is_built() {
            assert!(engines.contains(engine.as_str()), "{engines}");
        }
    }
    let header = text
        .lines()
        .find(|l| l.starts_with("query"))
        .expect("a header row");
    let columns: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        &columns[..6],
        &["query", "weir", "timely", "differential", "flink", "sim"]
    );
    // Every engine of the default build is there, so no "not in this build" line.
    assert_eq!(
        text.contains("not in this build"),
        EngineKind::ALL.iter().any(|e| !e.is_built()),
        "{text}"
    );
}

#[test]
fn matrix_marks_which_engine_runs_which_query_and_flinks_api() {
    let text = list("text");
    let marks = |m: [&str; 5]| m.map(str::to_string).to_vec();
    assert_eq!(
        row(&text, "nexmark q5"),
        marks(["yes", "yes", "yes", "DataStream", "yes"])
    );
    assert_eq!(
        row(&text, "ysb ysb"),
        marks(["yes", "yes", "yes", "DataStream", "yes"])
    );
    // The baselines are weir's (and the sim's, which stands in for it), with the reason.
    let baseline = marks(["yes", "-", "-", "-", "yes"]);
    assert_eq!(row(&text, "nexmark gen"), baseline);
    assert_eq!(row(&text, "nexmark gen-bids"), baseline);
    assert_eq!(row(&text, "ysb gen"), baseline);
    assert!(
        text.contains(
            "nexmark gen, nexmark gen-bids, ysb gen on timely, differential, flink: a \
             generator-only baseline measures weir's own source"
        ),
        "{text}"
    );
    // Flink's SQL queries are marked by their API, explained under the table.
    assert_eq!(
        row(&text, "nexmark q9"),
        marks(["yes", "yes", "yes", "SQL", "yes"])
    );
    assert!(
        text.contains("SQL = Flink SQL through the Table API"),
        "{text}"
    );
    // q10 runs everywhere, on Flink in SQL (its filesystem sink); no query is left not
    // implemented.
    assert_eq!(
        row(&text, "nexmark q10"),
        marks(["yes", "yes", "yes", "SQL", "yes"])
    );
    assert!(!text.contains("not implemented yet"), "{text}");
}

#[test]
fn every_catalog_query_has_its_row_and_marks() {
    let text = list("text");
    for def in CATALOG {
        let marks = row(&text, &format!("{} {}", def.workload, def.name));
        for (engine, mark) in EngineKind::ALL.iter().zip(&marks) {
            let expected = match def.engines.of(*engine) {
                Support::Runs(api) if *engine == EngineKind::Flink => {
                    api.split_whitespace().next().unwrap_or(api)
                }
                Support::Runs(_) => "yes",
                Support::Not(_) => "-",
            };
            assert_eq!(mark, expected, "{} {} on {engine}", def.workload, def.name);
        }
    }
}

#[test]
fn json_lists_every_query_with_its_contract_and_engines() {
    let json: serde_json::Value = serde_json::from_str(&list("json")).expect("valid JSON");
    let queries = json["queries"].as_array().expect("a query array");
    assert_eq!(queries.len(), CATALOG.len());
    let q5 = queries
        .iter()
        .find(|q| q["workload"] == "nexmark" && q["name"] == "q5")
        .expect("q5");
    assert_eq!(q5["columns"], serde_json::json!(["auction", "num"]));
    assert_eq!(q5["time"], "event");
    assert_eq!(q5["digest_comparable"], true);
    assert_eq!(q5["latency"], "window results");
    assert_eq!(q5["baseline"], "gen-bids");
    assert_eq!(q5["engines"]["flink"]["api"], "DataStream");
    let q12 = queries.iter().find(|q| q["name"] == "q12").expect("q12");
    assert_eq!(q12["digest_comparable"], false);
    assert_eq!(q12["digest_note"], "processing-time query");
    let gen_bids = queries
        .iter()
        .find(|q| q["name"] == "gen-bids")
        .expect("gen-bids");
    assert_eq!(gen_bids["engines"]["timely"]["runs"], false);
    let engines = json["engines"].as_array().expect("an engine array");
    assert_eq!(engines.len(), EngineKind::ALL.len());
    assert!(
        engines
            .iter()
            .any(|e| e["name"] == "timely" && e["feature"] == "timely")
    );
}

#[test]
fn markdown_has_a_row_per_query() {
    let md = list("markdown");
    for def in CATALOG {
        assert!(
            md.contains(&format!(
                "| {} {} | {} |",
                def.workload, def.name, def.computes
            )),
            "{} {}:\n{md}",
            def.workload,
            def.name
        );
    }
}
