//! `weir list`: workloads, engines, and the query x engine support matrix, taken from the
//! adapters' own support lists.

use assert_cmd::Command;
use weir_tui::cmd_list;
use weir_workloads::job::{EngineKind, Workload};

fn list() -> String {
    let out = Command::cargo_bin("weir")
        .expect("the weir binary is built for tests")
        .arg("list")
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
fn lists_workloads_engines_and_the_header() {
    let text = list();
    assert!(text.starts_with("workloads: nexmark, ysb\n"), "{text}");
    assert!(
        text.contains("engines:   weir, timely, differential, flink, sim"),
        "{text}"
    );
    let header = text
        .lines()
        .find(|l| l.starts_with("query"))
        .expect("a header row");
    let columns: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        &columns[..6],
        &["query", "weir", "timely", "differential", "flink", "sim"]
    );
}

#[test]
fn matrix_marks_which_engine_runs_which_query() {
    let text = list();
    let yes = |n: usize| vec!["yes".to_string(); n];
    // Every peer engine runs the real queries.
    assert_eq!(row(&text, "nexmark q5"), yes(5));
    assert_eq!(row(&text, "nexmark q12"), yes(5));
    assert_eq!(row(&text, "ysb ysb"), yes(5));
    // The baselines are weir's (and the sim's, which stands in for it).
    let baseline = ["yes", "-", "-", "-", "yes"].map(str::to_string).to_vec();
    assert_eq!(row(&text, "nexmark gen"), baseline);
    assert_eq!(row(&text, "nexmark gen-bids"), baseline);
    assert_eq!(row(&text, "ysb gen"), baseline);
    assert!(!text.contains("nexmark q6"), "{text}");
}

#[test]
fn matrix_agrees_with_the_adapters() {
    let text = list();
    for workload in Workload::ALL {
        for query in cmd_list::queries(*workload) {
            let marks = row(&text, &format!("{workload} {query}"));
            for (engine, mark) in EngineKind::ALL.iter().zip(&marks) {
                let expected = match engine {
                    EngineKind::Flink => weir_workloads::flink::supports(*workload, query),
                    EngineKind::Timely | EngineKind::Differential => {
                        weir_workloads::timely::QUERIES.contains(query) || *query == "ysb"
                    }
                    EngineKind::Weir | EngineKind::Sim => true,
                };
                assert_eq!(
                    mark == "yes",
                    expected,
                    "{workload} {query} on {engine}: '{mark}'"
                );
            }
        }
    }
}
