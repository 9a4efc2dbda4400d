//! The figures of a comparison, as data: what `report.json`'s `summary` holds and every
//! output reads. [`Summary`] per query ([`QuerySummary`]: each engine's [`Spread`]s, the
//! ratios, the winners, the [`DigestCheck`]) and, with `--baseline`, the [`BaselineSummary`].
//!
//! These types only hold and serialise figures (plus the small queries on them that every
//! reader needs: [`Spread::of`], [`Spread::overlaps`], [`QuerySummary::winner`]). The rules
//! that compute them live in [`stats`](super::stats) (from the runs) and
//! [`baseline`](super::baseline) (against an earlier report); changing a field here changes the
//! `report.json` schema.
//!
//! **Layer.** Base: imports nothing from the crate.

use serde::{Deserialize, Serialize};

/// Figures derived from the runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// One entry per query that has at least one measured run.
    pub queries: Vec<QuerySummary>,
    /// Whether every comparable query's runs all produced the same digest.
    pub digests_agree: bool,
    /// Changes against `--baseline`, when given.
    pub baseline: Option<BaselineSummary>,
}

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
    /// Paced runs: the offered rate, events/s (with `--load`, each engine's own).
    #[serde(default)]
    pub offered_eps: Option<Spread>,
    /// Paced runs that fell behind their offered rate (achieved below 95 % of it): their
    /// latency describes an overload.
    #[serde(default)]
    pub fell_behind: usize,
    /// Paced runs that kept up but had no headroom (a worker busy at least 95 % of the run):
    /// their latency includes queueing at the engine's limit.
    #[serde(default)]
    pub no_headroom: usize,
    /// Events per CPU-second (user + system) over the runs that measured CPU; `None` when none
    /// did.
    #[serde(default)]
    pub events_per_cpu_s: Option<Spread>,
    /// CPU-seconds per million events over the same runs.
    #[serde(default)]
    pub cpu_s_per_million_events: Option<Spread>,
    /// The end-of-input flush: the latest result fired by the end of input in each run that
    /// had one (ns; not part of `latency_ns`); `None` when no run had one.
    #[serde(default)]
    pub end_of_input_max_ns: Option<Spread>,
    /// Results fired by the end of input, per run that had any (its median).
    #[serde(default)]
    pub end_of_input_results: Option<Spread>,
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
    /// Whether the gap is within the noise (the rule is in [`stats`](super::stats)).
    pub too_close: bool,
}

/// weir against one other engine, by the per-round ratio `throughput(weir) / throughput(E)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersusSummary {
    /// The other engine, E.
    pub engine: String,
    /// Per-round `throughput(weir) / throughput(E)`: below 1 where weir was slower.
    pub ratio: Spread,
    /// `max(max - median, median - min)` of the ratio.
    pub plus_minus: f64,
    /// Rounds in which both engines ran.
    pub rounds: usize,
    /// Median throughput of weir, events/s.
    pub weir_eps: f64,
    /// Median throughput of E, events/s.
    pub other_eps: f64,
    /// Whether the gap is within the noise: the throughput ranges overlap, or the ratio's range
    /// reaches 1 (in some round the order flipped).
    pub too_close: bool,
}

impl VersusSummary {
    /// In words: "weir is faster", "`E` is faster" or "too close to call".
    pub fn outcome(&self) -> String {
        if self.too_close {
            "too close to call".to_string()
        } else if self.ratio.median < 1.0 {
            format!("{} is faster", self.engine)
        } else {
            "weir is faster".to_string()
        }
    }
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
    /// Whether this query's digests can be compared at all (see
    /// [`stats::comparable`](super::stats::comparable)).
    pub comparable: bool,
    /// Whether all runs produced one digest (with `per_engine`, one per engine).
    pub agree: bool,
    /// `--load`: every engine ran at its own rate, so on its own input (the event rate is the
    /// rate); digests are compared between the runs of each engine only.
    #[serde(default)]
    pub per_engine: bool,
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
    /// When weir ran but was not the fastest: weir against each other engine (the ratios above
    /// only compare the fastest). Empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weir_vs: Vec<VersusSummary>,
    /// Winner of each metric.
    pub winners: Vec<MetricWinner>,
    /// Digest agreement.
    pub digest: DigestCheck,
    /// The physical ceiling measured beside the engines, when one was.
    #[serde(default)]
    pub ceiling: Option<CeilingSummary>,
    /// How often the query's windows closed during each measured run (the smallest over
    /// engines), when it has windows: below 10 its figures describe the final flush more than
    /// windows closing.
    #[serde(default)]
    pub window_closings: Option<u64>,
}

/// The physical ceiling of a query's input over the rounds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CeilingSummary {
    /// `memory-read` or `generator-only`.
    pub kind: String,
    /// Input events per second, one measurement per round.
    pub throughput_eps: Spread,
    /// With `--load`: the ceiling measured right after the calibration runs, events/s. Against
    /// the rounds' it tells how the machine's speed moved between measuring the engines'
    /// maxima and offering them a fraction of those ([`CeilingSummary::speed_change`]).
    #[serde(default)]
    pub at_calibration_eps: Option<f64>,
}

/// How far the machine's speed may move between the calibration and the rounds of `--load`
/// (the ceiling's median over the rounds against its value at calibration) before the
/// comparison says that the load the engines ran at was not the one offered.
pub const SPEED_CHANGE_WARN: f64 = 0.10;

impl CeilingSummary {
    /// The rounds' median ceiling against the ceiling at calibration, minus 1: -0.14 when the
    /// machine ran the rounds 14 % slower than it ran the calibration. `None` without `--load`.
    pub fn speed_change(&self) -> Option<f64> {
        let at_calibration = self.at_calibration_eps.filter(|&c| c > 0.0)?;
        Some(self.throughput_eps.median / at_calibration - 1.0)
    }

    /// The share of its maximum an engine offered `load` of its calibrated maximum ran at,
    /// if its maximum moved with the ceiling: `load / (1 + speed change)`.
    pub fn effective_load(&self, load: f64) -> Option<f64> {
        let change = self.speed_change()?;
        (change > -1.0).then(|| load / (1.0 + change))
    }
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

    /// Each engine's median throughput as a share of the ceiling's median ("weir 42 %, ..."),
    /// when a ceiling was measured.
    pub fn ceiling_shares(&self) -> Option<String> {
        let c = self.ceiling.as_ref()?;
        let shares: Vec<String> = self
            .engines
            .iter()
            .map(|e| {
                format!(
                    "{} {:.0} %",
                    e.engine,
                    100.0 * e.throughput_eps.median / c.throughput_eps.median.max(1.0)
                )
            })
            .collect();
        Some(shares.join(", "))
    }
}

/// Changes against a baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineSummary {
    /// When the baseline comparison started.
    pub baseline_started_at: String,
    /// The baseline's command line.
    pub baseline_command: String,
    /// Differences in setup that make the comparison less meaningful.
    pub setup_differences: Vec<String>,
    /// The noise threshold used, as a fraction.
    pub noise_threshold: f64,
    /// One entry per (query, engine) present in both.
    pub changes: Vec<BaselineChange>,
}

/// One (query, engine) against its baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineChange {
    /// The query.
    pub query: String,
    /// The engine.
    pub engine: String,
    /// Throughput then, events/s.
    pub old_eps: Spread,
    /// Throughput now, events/s.
    pub new_eps: Spread,
    /// `new median / old median - 1`.
    pub change: f64,
    /// `improved`, `regressed` or `within noise`.
    pub verdict: String,
    /// Median p99 latency then and now, ns, when both observed it.
    pub p99_ns: Option<(f64, f64)>,
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
