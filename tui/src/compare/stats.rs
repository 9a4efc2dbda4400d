//! The statistics of a comparison, and its exact rules.
//!
//! - **Spread.** Every figure over runs is a [`Spread`]: median (the mean of the two middle
//!   values for an even count), min and max. No run is dropped as an outlier.
//! - **Ratios.** Per query, engines are ranked by median throughput. For the fastest engine F
//!   and each other engine E, every round in which both ran gives one ratio
//!   `throughput(F) / throughput(E)`, measured side by side; the verdict is the median of those
//!   ratios with their min-max, and `± d` where `d = max(max - median, median - min)`: every
//!   round's ratio lies within `median ± d`.
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

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use weir_workloads::catalog::{Comparability, Query, Workload};

use super::record::CompareReport;

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

/// Median and range of a figure over runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Median.
    pub median: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; `None` when empty.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut v: Vec<f64> = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = match n {
            0 => return None,
            _ if n % 2 == 1 => v[n / 2],
            _ => f64::midpoint(v[n / 2 - 1], v[n / 2]),
        };
        Some(Self {
            median,
            min: v[0],
            max: v[n - 1],
        })
    }

    /// Whether the two ranges `[min, max]` share a point.
    pub fn overlaps(&self, other: &Spread) -> bool {
        self.min <= other.max && other.min <= self.max
    }

    /// The largest distance from the median to either end of the range.
    pub fn plus_minus(&self) -> f64 {
        (self.max - self.median).max(self.median - self.min)
    }
}

/// One engine's figures on one query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EngineSummary {
    /// The engine.
    pub engine: String,
    /// Measured runs.
    pub runs: usize,
    /// Throughput, events/s.
    pub throughput_eps: Spread,
    /// Wall time, seconds.
    pub wall_s: Spread,
    /// Start-up time, seconds (not part of the wall time).
    pub startup_s: Spread,
    /// Latency percentiles over the runs that observed latency; `None` when none did.
    pub latency_ns: Option<LatencySpread>,
    /// Late records over all runs.
    pub late: u64,
    /// Dropped records over all runs.
    pub dropped: u64,
}

/// Latency percentiles over runs, nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatencySpread {
    /// p50 of each run.
    pub p50: Spread,
    /// p99 of each run.
    pub p99: Spread,
    /// p99.9 of each run.
    pub p999: Spread,
    /// Maximum of each run.
    pub max: Spread,
}

/// The fastest engine against another one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RatioSummary {
    /// The engine with the higher median throughput.
    pub faster: String,
    /// The other engine.
    pub slower: String,
    /// Per-round `throughput(faster) / throughput(slower)`.
    pub ratio: Spread,
    /// `max(max - median, median - min)` of the ratio.
    pub plus_minus: f64,
    /// Rounds in which both engines ran.
    pub rounds: usize,
    /// Median throughput of `faster`, events/s.
    pub faster_eps: f64,
    /// Median throughput of `slower`, events/s.
    pub slower_eps: f64,
    /// Whether the gap is within the noise (see the module docs).
    pub too_close: bool,
}

/// Which engine won one metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricWinner {
    /// `throughput`, `p50`, `p99`, `p99.9` or `max`.
    pub metric: String,
    /// The winner; `None` when too close to call or when fewer than two engines compete.
    pub winner: Option<String>,
    /// Whether the best two are too close to call.
    pub too_close: bool,
}

/// Runs that produced one digest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DigestGroup {
    /// Result rows.
    pub rows: u64,
    /// Sum of row hashes, 32 hex digits.
    pub hash: String,
    /// The runs, as `engine round` or `engine warm-up`.
    pub runs: Vec<String>,
}

/// Digest agreement of one query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DigestCheck {
    /// Whether this query's digests can be compared at all (see [`comparable`]).
    pub comparable: bool,
    /// Whether all runs produced one digest.
    pub agree: bool,
    /// The distinct digests, in order of first appearance.
    pub groups: Vec<DigestGroup>,
}

/// Everything measured for one query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuerySummary {
    /// The query.
    pub query: String,
    /// Engines with at least one measured run, in plan order.
    pub engines: Vec<EngineSummary>,
    /// The fastest engine against each other one, fastest-to-slowest.
    pub ratios: Vec<RatioSummary>,
    /// Winner of each metric.
    pub winners: Vec<MetricWinner>,
    /// Digest agreement.
    pub digest: DigestCheck,
}

impl QuerySummary {
    /// The summary of `engine`, if it ran.
    pub fn engine(&self, engine: &str) -> Option<&EngineSummary> {
        self.engines.iter().find(|e| e.engine == engine)
    }

    /// The winner of `metric`, if there is one.
    pub fn winner(&self, metric: &str) -> Option<&str> {
        self.winners
            .iter()
            .find(|w| w.metric == metric)
            .and_then(|w| w.winner.as_deref())
    }
}

/// Derives the summary from a report's runs.
pub fn summarise(report: &CompareReport) -> super::record::Summary {
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
    super::record::Summary {
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

    QuerySummary {
        query: query.to_string(),
        ratios,
        winners,
        digest: digest_check(report, query),
        engines,
    }
}

fn ratio(
    faster: &EngineSummary,
    slower: &EngineSummary,
    by_round: &BTreeMap<(&str, usize), f64>,
) -> Option<RatioSummary> {
    let per_round: Vec<f64> = by_round
        .iter()
        .filter(|((engine, _), _)| *engine == faster.engine)
        .filter_map(|(&(_, round), &f)| {
            let s = *by_round.get(&(slower.engine.as_str(), round))?;
            (s > 0.0).then(|| f / s)
        })
        .collect();
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
    let mut groups: Vec<DigestGroup> = Vec::new();
    let mut add = |rows: u64, hash: &str, label: String| {
        if let Some(g) = groups.iter_mut().find(|g| g.rows == rows && g.hash == hash) {
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
    DigestCheck {
        comparable: comparable(&report.plan.workload, query),
        agree: groups.len() <= 1,
        groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_median_odd_and_even() {
        let s = Spread::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        let s = Spread::of(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.5, 1.0, 4.0));
        assert!(Spread::of(&[]).is_none());
    }

    #[test]
    fn plus_minus_is_the_larger_side() {
        let s = Spread::of(&[10.0, 11.0, 14.0]).unwrap();
        assert!((s.plus_minus() - 3.0).abs() < 1e-12);
    }

    #[test]
    fn overlap_includes_touching_ranges() {
        let a = Spread::of(&[1.0, 2.0]).unwrap();
        let b = Spread::of(&[2.0, 3.0]).unwrap();
        let c = Spread::of(&[2.5, 3.0]).unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c));
    }
}
