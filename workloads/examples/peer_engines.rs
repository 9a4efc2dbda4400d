//! Throughput of the peer engines next to weir, interleaved round-robin on the same input.
//!
//! ```text
//! cargo run --release -p weir-workloads --example peer_engines -- \
//!     ENGINES QUERIES WORKERS EVENTS RUNS
//! cargo run --release -p weir-workloads --example peer_engines -- \
//!     weir,timely,differential q0,q5,ysb 1,2 2000000 3
//! ```
//!
//! Prints one line per (query, workers, engine): median throughput, min-max, the digest and
//! whether every engine agreed. An engine this build cannot run is reported and skipped.

use std::collections::BTreeMap;

use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::job::{RunLength, RunSpec};
use weir_workloads::runner;

fn list<T: std::str::FromStr>(arg: Option<String>, what: &str) -> Vec<T> {
    arg.unwrap_or_else(|| panic!("missing {what}; see the header of this example"))
        .split(',')
        .map(|s| {
            s.parse()
                .unwrap_or_else(|_| panic!("bad {what} '{s}'; see the header of this example"))
        })
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let engines: Vec<EngineKind> = list(args.next(), "engine list");
    let queries: Vec<String> = list(args.next(), "query list");
    let workers: Vec<usize> = list(args.next(), "worker counts");
    let events: u64 = list(args.next(), "event count")[0];
    let runs: usize = list(args.next(), "run count")[0];
    println!("| query | workers | engine | median events/s | min | max | rows | digest |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for query in &queries {
        let workload = if query == "ysb" {
            Workload::Ysb
        } else {
            Workload::Nexmark
        };
        for &w in &workers {
            let mut results: BTreeMap<EngineKind, Vec<f64>> = BTreeMap::new();
            let mut digests: BTreeMap<EngineKind, (u64, String)> = BTreeMap::new();
            // Round 0 is the unreported warm-up.
            for round in 0..=runs {
                for &engine in &engines {
                    let spec = RunSpec {
                        workers: w,
                        length: RunLength::Events(events),
                        event_rate: 10_000_000,
                        command: std::env::args().collect::<Vec<_>>().join(" "),
                        ..RunSpec::new(
                            Query::parse(workload, query).expect("a catalog query"),
                            engine,
                        )
                    };
                    match runner::start(&spec).and_then(weir_workloads::job::Job::wait) {
                        Ok(report) => {
                            if round > 0 {
                                results
                                    .entry(engine)
                                    .or_default()
                                    .push(report.throughput_eps);
                            }
                            digests.insert(engine, (report.digest.rows, report.digest.hash));
                        }
                        Err(e) => eprintln!("{engine} {query} -w {w}: {e}"),
                    }
                }
            }
            let agree = digests
                .values()
                .collect::<std::collections::BTreeSet<_>>()
                .len()
                <= 1;
            for (engine, mut tp) in results {
                tp.sort_by(f64::total_cmp);
                let (rows, hash) = &digests[&engine];
                println!(
                    "| {query} | {w} | {engine} | {:.0} | {:.0} | {:.0} | {rows} | {}{} |",
                    tp[tp.len() / 2],
                    tp[0],
                    tp[tp.len() - 1],
                    &hash[..8],
                    if agree { "" } else { " DIFFERS" }
                );
            }
        }
    }
}
