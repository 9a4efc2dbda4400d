//! `--baseline FILE`: how this comparison's figures moved since an earlier `report.json`.
//!
//! For every (query, engine) present in both, the change of median throughput
//! `new / old - 1` is reported. Like criterion, a change is only called an improvement or a
//! regression when it is larger than the noise threshold (`--noise-threshold`, default 5 %)
//! *and* the two runs' throughput ranges `[min, max]` do not overlap; otherwise it is
//! "within noise". Setup differences (workers, events, source, rate, machine) are listed,
//! because a change across setups is not a change of the code.
//!
//! [`compare`] reads both reports' summaries, so `current.summary` must be fresh
//! ([`stats::summarise`](super::stats::summarise)); [`render`] is the block the verdict and
//! `report.md` print.
//!
//! **Layer.** Computation, above the data: imports [`record`](super::record),
//! [`summary`](super::summary) and [`fmt`](super::fmt), nothing else from the crate.

use std::fmt::Write as _;

use super::fmt::{Style, fmt_eps, fmt_ns};
use super::record::CompareReport;
use super::summary::{BaselineChange, BaselineSummary};

/// Compares `current` with `baseline`.
pub fn compare(
    baseline: &CompareReport,
    current: &CompareReport,
    noise_threshold: f64,
) -> BaselineSummary {
    let (b, c) = (&baseline.plan, &current.plan);
    let mut setup_differences = Vec::new();
    let mut differ = |what: &str, old: String, new: String| {
        if old != new {
            setup_differences.push(format!("{what}: {old} then, {new} now"));
        }
    };
    differ("workload", b.workload.clone(), c.workload.clone());
    differ("workers", b.workers.to_string(), c.workers.to_string());
    differ("events", b.events.to_string(), c.events.to_string());
    differ("source", b.source.clone(), c.source.clone());
    differ("rate", format!("{:?}", b.rate), format!("{:?}", c.rate));
    differ("pinning", b.pinning.to_string(), c.pinning.to_string());
    if let (Some(old), Some(new)) = (baseline.runs.first(), current.runs.first()) {
        differ("cpu", old.machine.cpu.clone(), new.machine.cpu.clone());
        differ(
            "cores",
            old.machine.cores.to_string(),
            new.machine.cores.to_string(),
        );
    }
    let mut changes = Vec::new();
    for q in &current.summary.queries {
        let Some(old_q) = baseline.summary.queries.iter().find(|o| o.query == q.query) else {
            continue;
        };
        for e in &q.engines {
            let Some(old) = old_q.engine(&e.engine) else {
                continue;
            };
            let change = e.throughput_eps.median / old.throughput_eps.median - 1.0;
            let verdict = if change.abs() <= noise_threshold
                || e.throughput_eps.overlaps(&old.throughput_eps)
            {
                "within noise"
            } else if change > 0.0 {
                "improved"
            } else {
                "regressed"
            };
            changes.push(BaselineChange {
                query: q.query.clone(),
                engine: e.engine.clone(),
                old_eps: old.throughput_eps,
                new_eps: e.throughput_eps,
                change,
                verdict: verdict.to_string(),
                p99_ns: old
                    .latency_ns
                    .zip(e.latency_ns)
                    .map(|(o, n)| (o.p99.median, n.p99.median)),
            });
        }
    }
    BaselineSummary {
        baseline_started_at: b.started_at.clone(),
        baseline_command: b.command.clone(),
        setup_differences,
        noise_threshold,
        changes,
    }
}

/// The baseline block of the verdict.
pub fn render(b: &BaselineSummary, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "against the baseline of {} (noise threshold {:.1} %):",
        b.baseline_started_at,
        b.noise_threshold * 100.0
    );
    for d in &b.setup_differences {
        let _ = writeln!(out, "  setup differs: {d}");
    }
    if b.changes.is_empty() {
        let _ = writeln!(out, "  no query and engine in common with the baseline");
    }
    for c in &b.changes {
        let speed = if c.change >= 0.0 { "faster" } else { "slower" };
        let text = format!(
            "{:+.1} % {speed} ({} then, {} now)",
            c.change * 100.0,
            fmt_eps(c.old_eps.median),
            fmt_eps(c.new_eps.median),
        );
        let verdict = match c.verdict.as_str() {
            "improved" => style.green(&c.verdict),
            "regressed" => style.red(&c.verdict),
            other => other.to_string(),
        };
        let p99 = c.p99_ns.map_or_else(String::new, |(o, n)| {
            format!("; p99 {} then, {} now", fmt_ns(o), fmt_ns(n))
        });
        let _ = writeln!(out, "  {} {:<12} {text}: {verdict}{p99}", c.query, c.engine);
    }
    out
}
