//! The statistics of a comparison, and its exact rules: [`summarise`] derives a report's
//! [`Summary`] from its runs (the loop calls it after every run, through
//! [`refresh`](super::refresh)).
//!
//! - **Spread.** Every figure over runs is a [`Spread`]: median (the mean of the two middle
//!   values for an even count), min and max. No run is dropped as an outlier.
//! - **Ratios.** Per query, engines are ranked by median throughput. For the fastest engine F
//!   and each other engine E, every round in which both ran gives one ratio
//!   `throughput(F) / throughput(E)`, measured side by side; the verdict is the median of those
//!   ratios with their min-max, and `± d` where `d = max(max - median, median - min)`: every
//!   round's ratio lies within `median ± d`.
//! - **weir against each engine.** When weir ran but is not F, the same per-round ratios are
//!   also given as `throughput(weir) / throughput(E)` for every other engine E (below 1 where
//!   weir is slower), too close to call when the ranges overlap or the ratio's range reaches 1.
//! - **Too close to call.** F vs E is too close to call when the throughput ranges
//!   `[min, max]` of F and E overlap, *or* when the ratio's min is at most 1.0 (in some round E
//!   was at least as fast as F). Then no winner is named.
//! - **Winners.** Throughput: the fastest engine, unless it is too close to call against the
//!   runner-up. Latency p50/p99/p99.9/max: the engine with the lowest median, unless its
//!   `[min, max]` overlaps the runner-up's; engines that cannot observe latency do not compete,
//!   and a metric with fewer than two competitors has no winner.
//! - **Digests.** All runs of a query, warm-ups included, must have the same `(rows, hash)`.
//!   Queries whose digests the catalog marks not comparable (q12: processing-time windows)
//!   are listed but cannot fail the comparison ([`comparable`]).
//!
//! **Layer.** Computation, above the data: imports [`record`](super::record) (the runs) and
//! [`summary`](super::summary) (what it computes), nothing else from the crate.

use std::collections::BTreeMap;

use weir_workloads::catalog::{Comparability, EngineKind, Query, Workload};

use super::record::{CeilingRecord, CompareReport};
use super::summary::{
    CeilingSummary, DigestCheck, DigestGroup, EngineSummary, LatencySpread, MetricWinner,
    QuerySummary, RatioSummary, Spread, Summary, VersusSummary,
};

/// Whether digests of `query` of `workload` must agree across runs (the catalog's
/// `digest`); `false` for a query the catalog does not know, e.g. in an old report, and for
/// queries whose result depends on the wall clock (docs/WORKLOADS.md: q12).
pub fn comparable(workload: &str, query: &str) -> bool {
    workload
        .parse::<Workload>()
        .ok()
        .and_then(|w| Query::parse(w, query).ok())
        .is_some_and(|q| q.def().digest == Comparability::Comparable)
}

/// What `engine`'s latency for `query` measures, where it is not the catalog's rule
/// ([`Query::latency_caveat`]); `None` for names this build does not know.
pub fn latency_caveat(workload: &str, query: &str, engine: &str) -> Option<&'static str> {
    let query = Query::parse(workload.parse::<Workload>().ok()?, query).ok()?;
    query.latency_caveat(engine.parse::<EngineKind>().ok()?)
}

/// Why `query`'s digests are not comparable, from the catalog.
pub fn not_comparable_reason(workload: &str, query: &str) -> &'static str {
    workload
        .parse::<Workload>()
        .ok()
        .and_then(|w| Query::parse(w, query).ok())
        .map_or("a query this build does not know", |q| {
            match q.def().digest {
                Comparability::Comparable => "comparable",
                Comparability::NotComparable(why) => why,
            }
        })
}

/// Picks one percentile's spread.
type PickSpread = fn(&LatencySpread) -> Spread;

/// Derives the summary from a report's runs (its `baseline` is `None`: see
/// [`baseline::compare`](super::baseline::compare)).
pub fn summarise(report: &CompareReport) -> Summary {
    let mut queries = Vec::new();
    for query in &report.plan.queries {
        let idx: Vec<usize> = (0..report.runs.len())
            .filter(|&i| report.runs[i].query == *query)
            .collect();
        if idx.is_empty() {
            continue;
        }
        queries.push(summarise_query(report, query, &idx));
    }
    let digests_agree = queries
        .iter()
        .all(|q| q.digest.agree || !q.digest.comparable);
    Summary {
        queries,
        digests_agree,
        baseline: None,
    }
}

fn summarise_query(report: &CompareReport, query: &str, idx: &[usize]) -> QuerySummary {
    let engines: Vec<EngineSummary> = report
        .plan
        .engines
        .iter()
        .filter_map(|engine| {
            let runs: Vec<_> = idx
                .iter()
                .map(|&i| &report.runs[i])
                .filter(|r| r.engine == *engine)
                .collect();
            let field = |f: fn(&weir_workloads::report::RunReport) -> f64| {
                Spread::of(&runs.iter().map(|r| f(r)).collect::<Vec<_>>())
            };
            let lat: Vec<_> = runs.iter().filter_map(|r| r.latency_ns).collect();
            let pct = |f: fn(&weir_workloads::report::LatencySummary) -> u64| {
                Spread::of(&lat.iter().map(|l| f(l) as f64).collect::<Vec<_>>())
            };
            Some(EngineSummary {
                engine: engine.clone(),
                runs: runs.len(),
                throughput_eps: field(|r| r.throughput_eps)?,
                wall_s: field(|r| r.wall_s)?,
                startup_s: field(|r| r.startup_s)?,
                latency_ns: pct(|l| l.p50).and_then(|p50| {
                    Some(LatencySpread {
                        p50,
                        p99: pct(|l| l.p99)?,
                        p999: pct(|l| l.p999)?,
                        max: pct(|l| l.max)?,
                    })
                }),
                late: runs.iter().map(|r| r.late).sum(),
                dropped: runs.iter().map(|r| r.dropped).sum(),
                offered_eps: Spread::of(
                    &runs
                        .iter()
                        .filter_map(|r| r.rate.map(|r| r as f64))
                        .collect::<Vec<_>>(),
                ),
                fell_behind: runs
                    .iter()
                    .filter(|r| r.fell_behind() == Some(true))
                    .count(),
                no_headroom: runs
                    .iter()
                    .filter(|r| r.no_headroom() == Some(true))
                    .count(),
                events_per_cpu_s: Spread::of(
                    &runs
                        .iter()
                        .filter_map(|r| r.cpu.and_then(|c| c.events_per_cpu_s))
                        .collect::<Vec<_>>(),
                ),
                cpu_s_per_million_events: Spread::of(
                    &runs
                        .iter()
                        .filter_map(|r| r.cpu.and_then(|c| c.cpu_s_per_million_events))
                        .collect::<Vec<_>>(),
                ),
                end_of_input_max_ns: Spread::of(
                    &runs
                        .iter()
                        .filter_map(|r| r.end_of_input_latency_ns.map(|l| l.max as f64))
                        .collect::<Vec<_>>(),
                ),
                end_of_input_results: Spread::of(
                    &runs
                        .iter()
                        .filter_map(|r| r.end_of_input_latency_ns.map(|l| l.samples as f64))
                        .collect::<Vec<_>>(),
                ),
            })
        })
        .collect();

    // Per-round throughput of each engine: (engine, round) -> throughput.
    let mut by_round: BTreeMap<(&str, usize), f64> = BTreeMap::new();
    for &i in idx {
        let round = report.series.get(i).map_or(i, |s| s.round);
        by_round.insert(
            (report.runs[i].engine.as_str(), round),
            report.runs[i].throughput_eps,
        );
    }
    let mut ranked: Vec<&EngineSummary> = engines.iter().collect();
    ranked.sort_by(|a, b| b.throughput_eps.median.total_cmp(&a.throughput_eps.median));
    let ratios: Vec<RatioSummary> = match ranked.split_first() {
        Some((fastest, others)) => others
            .iter()
            .filter_map(|other| ratio(fastest, other, &by_round))
            .collect(),
        None => Vec::new(),
    };

    let weir_vs: Vec<VersusSummary> =
        match (ranked.first(), ranked.iter().find(|e| e.engine == "weir")) {
            (Some(fastest), Some(weir)) if fastest.engine != weir.engine => ranked
                .iter()
                .filter(|other| other.engine != weir.engine)
                .filter_map(|other| versus(weir, other, &by_round))
                .collect(),
            _ => Vec::new(),
        };

    let mut winners = vec![MetricWinner {
        metric: "throughput".to_string(),
        winner: None,
        too_close: false,
    }];
    if let Some(first) = ratios.first() {
        winners[0].too_close = first.too_close;
        winners[0].winner = (!first.too_close).then(|| first.faster.clone());
    }
    let metrics: [(&str, PickSpread); 4] = [
        ("p50", |l| l.p50),
        ("p99", |l| l.p99),
        ("p99.9", |l| l.p999),
        ("max", |l| l.max),
    ];
    for (metric, get) in metrics {
        let mut competitors: Vec<(&str, Spread)> = engines
            .iter()
            .filter_map(|e| e.latency_ns.as_ref().map(|l| (e.engine.as_str(), get(l))))
            .collect();
        competitors.sort_by(|a, b| a.1.median.total_cmp(&b.1.median));
        let (winner, too_close) = match competitors.as_slice() {
            [best, second, ..] if best.1.overlaps(&second.1) => (None, true),
            [best, _, ..] => (Some(best.0.to_string()), false),
            _ => (None, false),
        };
        winners.push(MetricWinner {
            metric: metric.to_string(),
            winner,
            too_close,
        });
    }

    let ceilings: Vec<&CeilingRecord> = report
        .ceilings
        .iter()
        .filter(|c| c.query == query && c.round > 0)
        .collect();
    let at_calibration_eps = report
        .ceilings
        .iter()
        .find(|c| c.query == query && c.round == 0)
        .map(|c| c.throughput_eps);
    let ceiling = ceilings.first().and_then(|first| {
        Some(CeilingSummary {
            kind: first.kind.clone(),
            throughput_eps: Spread::of(
                &ceilings
                    .iter()
                    .map(|c| c.throughput_eps)
                    .collect::<Vec<_>>(),
            )?,
            at_calibration_eps,
        })
    });
    let window_closings = idx
        .iter()
        .filter_map(|&i| window_closings(&report.runs[i]))
        .min();
    QuerySummary {
        query: query.to_string(),
        ratios,
        weir_vs,
        winners,
        digest: digest_check(report, query),
        engines,
        ceiling,
        window_closings,
    }
}

/// Per-round `throughput(a) / throughput(b)` over the rounds both ran.
fn per_round(a: &str, b: &str, by_round: &BTreeMap<(&str, usize), f64>) -> Vec<f64> {
    by_round
        .iter()
        .filter(|((engine, _), _)| *engine == a)
        .filter_map(|(&(_, round), &f)| {
            let s = *by_round.get(&(b, round))?;
            (s > 0.0).then(|| f / s)
        })
        .collect()
}

fn versus(
    weir: &EngineSummary,
    other: &EngineSummary,
    by_round: &BTreeMap<(&str, usize), f64>,
) -> Option<VersusSummary> {
    let rounds = per_round(&weir.engine, &other.engine, by_round);
    let spread = Spread::of(&rounds)?;
    Some(VersusSummary {
        engine: other.engine.clone(),
        plus_minus: spread.plus_minus(),
        rounds: rounds.len(),
        weir_eps: weir.throughput_eps.median,
        other_eps: other.throughput_eps.median,
        too_close: (spread.min <= 1.0 && spread.max >= 1.0)
            || weir.throughput_eps.overlaps(&other.throughput_eps),
        ratio: spread,
    })
}

/// How often `run`'s windows closed before the end of its input (the catalog's window period
/// over the run's event-time span).
pub fn window_closings(run: &weir_workloads::report::RunReport) -> Option<u64> {
    let workload: Workload = run.workload.parse().ok()?;
    Query::parse(workload, &run.query)
        .ok()?
        .window_closings(run.events, run.event_rate)
}

fn ratio(
    faster: &EngineSummary,
    slower: &EngineSummary,
    by_round: &BTreeMap<(&str, usize), f64>,
) -> Option<RatioSummary> {
    let per_round = per_round(&faster.engine, &slower.engine, by_round);
    let spread = Spread::of(&per_round)?;
    Some(RatioSummary {
        faster: faster.engine.clone(),
        slower: slower.engine.clone(),
        plus_minus: spread.plus_minus(),
        rounds: per_round.len(),
        faster_eps: faster.throughput_eps.median,
        slower_eps: slower.throughput_eps.median,
        too_close: spread.min <= 1.0 || faster.throughput_eps.overlaps(&slower.throughput_eps),
        ratio: spread,
    })
}

fn digest_check(report: &CompareReport, query: &str) -> DigestCheck {
    // With --load every engine ran on its own input: a digest belongs to one engine.
    let per_engine = report.plan.load.is_some();
    let engine_of = |label: &str| label.split(' ').next().unwrap_or_default().to_string();
    let mut groups: Vec<DigestGroup> = Vec::new();
    let mut add = |rows: u64, hash: &str, label: String| {
        if let Some(g) = groups.iter_mut().find(|g| {
            g.rows == rows
                && g.hash == hash
                && (!per_engine || g.runs.first().map(|r| engine_of(r)) == Some(engine_of(&label)))
        }) {
            g.runs.push(label);
        } else {
            groups.push(DigestGroup {
                rows,
                hash: hash.to_string(),
                runs: vec![label],
            });
        }
    };
    for w in report.warmups.iter().filter(|w| w.query == query) {
        add(
            w.digest.rows,
            &w.digest.hash,
            format!("{} warm-up", w.engine),
        );
    }
    for (i, run) in report.runs.iter().enumerate() {
        if run.query == query {
            let round = report.series.get(i).map_or(i + 1, |s| s.round);
            add(
                run.digest.rows,
                &run.digest.hash,
                format!("{} round {round}", run.engine),
            );
        }
    }
    let agree = if per_engine {
        let mut engines: Vec<String> = groups
            .iter()
            .filter_map(|g| g.runs.first().map(|r| engine_of(r)))
            .collect();
        let n = engines.len();
        engines.sort_unstable();
        engines.dedup();
        engines.len() == n
    } else {
        groups.len() <= 1
    };
    DigestCheck {
        comparable: comparable(&report.plan.workload, query),
        agree,
        per_engine,
        groups,
    }
}
