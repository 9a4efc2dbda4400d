//! The verdict printed at the end of `weir compare` (and the figure formatting shared with
//! the exports): per query, each engine's throughput and latency with spread, the relative
//! speed with the absolute numbers next to it, digest agreement, and who won each metric.

use std::fmt::Write as _;

use super::record::CompareReport;
use super::stats::{QuerySummary, Spread, not_comparable_reason};

/// How the verdict is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    /// ANSI colours.
    pub color: bool,
    /// Unicode symbols (`×`, `…`, `★`, `✓`); plain ASCII otherwise.
    pub unicode: bool,
}

impl Style {
    /// No colour, Unicode symbols: the form snapshot tests and files use.
    pub const PLAIN: Style = Style {
        color: false,
        unicode: true,
    };

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn red(self, t: &str) -> String {
        self.paint("1;31", t)
    }
    fn green(self, t: &str) -> String {
        self.paint("32", t)
    }
    fn yellow(self, t: &str) -> String {
        self.paint("33", t)
    }
    fn bold(self, t: &str) -> String {
        self.paint("1", t)
    }
    fn dim(self, t: &str) -> String {
        self.paint("2", t)
    }
    fn times(self) -> &'static str {
        if self.unicode { "×" } else { "x" }
    }
    fn ellipsis(self) -> &'static str {
        if self.unicode { "…" } else { ".." }
    }
    fn star(self) -> &'static str {
        if self.unicode { "★" } else { "*" }
    }
    fn check(self) -> &'static str {
        if self.unicode { "✓" } else { "ok" }
    }
    fn cross(self) -> &'static str {
        if self.unicode { "✗" } else { "XX" }
    }
    fn pm(self) -> &'static str {
        if self.unicode { "±" } else { "+-" }
    }
}

/// A rate in events/s with four significant digits: `12.31 M ev/s`.
pub fn fmt_eps(eps: f64) -> String {
    format!("{} ev/s", fmt_si(eps))
}

/// A number with an SI prefix and four significant digits: `12.31 M`, `862.0 k`, `950`.
pub fn fmt_si(x: f64) -> String {
    let (v, unit) = if x >= 1e9 {
        (x / 1e9, " G")
    } else if x >= 1e6 {
        (x / 1e6, " M")
    } else if x >= 1e3 {
        (x / 1e3, " k")
    } else {
        (x, "")
    };
    format!("{}{unit}", sig4(v))
}

fn sig4(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.1}")
    } else if v >= 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// A duration in nanoseconds, in the unit that reads best: `850 µs`, `1.23 ms`, `2.10 s`.
pub fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{} s", sig3(ns / 1e9))
    } else if ns >= 1e6 {
        format!("{} ms", sig3(ns / 1e6))
    } else if ns >= 1e3 {
        format!("{} µs", sig3(ns / 1e3))
    } else {
        format!("{ns:.0} ns")
    }
}

fn sig3(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// An integer with thousands separators: `10,000,000`.
pub fn fmt_count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The one-line description of the setup every query shares.
pub fn setup_line(report: &CompareReport) -> String {
    let p = &report.plan;
    let rate = p.rate.map_or_else(
        || "max rate".to_string(),
        |r| format!("rate {}", fmt_eps(r as f64)),
    );
    format!(
        "{} worker{}, {} events, source {}, {rate}, {} run{} per engine after {} warm-up, round-robin",
        p.workers,
        if p.workers == 1 { "" } else { "s" },
        fmt_count(p.events),
        p.source,
        p.runs,
        if p.runs == 1 { "" } else { "s" },
        p.warmup_runs
    )
}

/// The whole verdict, one block per query, then the overall result.
pub fn render(report: &CompareReport, style: Style) -> String {
    let mut out = String::new();
    let p = &report.plan;
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!(
            "weir compare: {} {}",
            p.workload,
            p.queries.join(",")
        ))
    );
    let _ = writeln!(out, "{}", setup_line(report));
    if let Some(run) = report.runs.first() {
        let m = &run.machine;
        let v = &run.versions;
        let _ = writeln!(
            out,
            "{}",
            style.dim(&format!(
                "machine: {}, {} cores, {} GiB, {}; weir {}{}{}",
                m.cpu,
                m.cores,
                m.memory_gb,
                m.os,
                v.weir,
                v.weir_commit
                    .as_deref()
                    .map_or_else(String::new, |c| format!(" ({c})")),
                v.rustc
                    .as_deref()
                    .map_or_else(String::new, |r| format!(", {r}")),
            ))
        );
    }
    for q in &report.summary.queries {
        out.push('\n');
        render_query(&mut out, report, q, style);
    }
    for f in &report.failures {
        if report.summary.queries.iter().any(|q| q.query == f.query) {
            continue; // already shown under its query
        }
        let _ = writeln!(out, "\n{}", failure_line(f, style));
    }
    out.push('\n');
    render_footer(&mut out, report, style);
    out
}

fn failure_line(f: &super::record::FailureRecord, style: Style) -> String {
    let when = f
        .round
        .map_or_else(|| "warm-up".to_string(), |r| format!("round {r}"));
    let text = format!("{} {} {when}: {}: {}", f.query, f.engine, f.kind, f.message);
    if f.kind == "failed" {
        style.red(&text)
    } else {
        style.yellow(&text)
    }
}

fn render_query(out: &mut String, report: &CompareReport, q: &QuerySummary, style: Style) {
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!("{} {}", report.plan.workload, q.query))
    );
    let group_of = |engine: &str| -> Vec<usize> {
        q.digest
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.runs.iter().any(|r| r.split(' ').next() == Some(engine)))
            .map(|(i, _)| i)
            .collect()
    };
    let header = [
        "engine",
        "runs",
        "throughput",
        "min",
        "max",
        "p50",
        "p99",
        "p99.9",
        "max lat",
        "digest",
    ];
    let mut rows: Vec<Vec<(String, Option<&str>)>> = Vec::new();
    for e in &q.engines {
        let won = |metric: &str| q.winner(metric) == Some(e.engine.as_str());
        let mark = |text: String, metric: &str| {
            if won(metric) {
                (format!("{text} {}", style.star()), Some("32"))
            } else {
                (text, None)
            }
        };
        let lat = |f: fn(&super::stats::LatencySpread) -> Spread, metric: &str| {
            e.latency_ns.as_ref().map_or_else(
                || ("n/a".to_string(), Some("2")),
                |l| mark(fmt_ns(f(l).median), metric),
            )
        };
        let groups = group_of(&e.engine);
        let digest = if q.digest.agree {
            (style.check().to_string(), Some("32"))
        } else {
            let names: Vec<String> = groups.iter().map(|&i| group_name(i)).collect();
            let bad = groups.len() > 1 || groups.first() != Some(&0);
            (
                format!(
                    "{} {}",
                    if bad { style.cross() } else { "" },
                    names.join("+")
                )
                .trim()
                .to_string(),
                q.digest.comparable.then_some("1;31"),
            )
        };
        rows.push(vec![
            (e.engine.clone(), None),
            (e.runs.to_string(), None),
            mark(fmt_eps(e.throughput_eps.median), "throughput"),
            (fmt_si(e.throughput_eps.min), None),
            (fmt_si(e.throughput_eps.max), None),
            lat(|l| l.p50, "p50"),
            lat(|l| l.p99, "p99"),
            lat(|l| l.p999, "p99.9"),
            lat(|l| l.max, "max"),
            digest,
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].0.chars().count())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<(String, Option<&str>)>| {
        let mut s = String::from(" ");
        for (c, (text, code)) in cells.into_iter().enumerate() {
            let pad = widths[c] - text.chars().count();
            let padded = if c == 0 || c == header.len() - 1 {
                format!("{text}{}", " ".repeat(pad))
            } else {
                format!("{}{text}", " ".repeat(pad))
            };
            s.push_str("  ");
            s.push_str(&code.map_or(padded.clone(), |code| style.paint(code, &padded)));
        }
        s.trim_end().to_string()
    };
    let _ = writeln!(
        out,
        "{}",
        style.dim(&line(
            header.iter().map(|h| (h.to_string(), None)).collect()
        ))
    );
    for r in rows {
        let _ = writeln!(out, "{}", line(r));
    }
    for r in &q.ratios {
        let numbers = format!(
            "({} vs {}; {} round{}: {:.2}{t} {} {:.2}{t})",
            fmt_eps(r.faster_eps),
            fmt_eps(r.slower_eps),
            r.rounds,
            if r.rounds == 1 { "" } else { "s" },
            r.ratio.min,
            style.ellipsis(),
            r.ratio.max,
            t = style.times(),
        );
        if r.too_close {
            let _ = writeln!(
                out,
                "  {} {}",
                style.yellow(&format!(
                    "{} and {}: too close to call, {:.2}{}",
                    r.faster,
                    r.slower,
                    r.ratio.median,
                    style.times()
                )),
                numbers
            );
        } else {
            let _ = writeln!(
                out,
                "  {} {}",
                style.bold(&format!(
                    "{} {:.2}{} {} {:.2} faster than {}",
                    r.faster,
                    r.ratio.median,
                    style.times(),
                    style.pm(),
                    r.plus_minus,
                    r.slower
                )),
                numbers
            );
        }
    }
    let winners: Vec<String> = q
        .winners
        .iter()
        .map(|w| {
            let who = match (&w.winner, w.too_close) {
                (Some(name), _) => name.clone(),
                (None, true) => "too close to call".to_string(),
                (None, false) => "n/a".to_string(),
            };
            format!("{} {who}", w.metric)
        })
        .collect();
    if q.engines.len() > 1 {
        let _ = writeln!(out, "  winners: {}", winners.join(" · "));
    }
    render_digest(out, report, q, style);
    for f in report.failures.iter().filter(|f| f.query == q.query) {
        let _ = writeln!(out, "  {}", failure_line(f, style));
    }
    if report.plan.rate.is_none() && q.engines.iter().any(|e| e.latency_ns.is_some()) {
        let _ = writeln!(
            out,
            "  {}",
            style.dim(
                "latency was measured at maximum throughput (no --rate), so it includes queueing; compare latency at a fixed --rate"
            )
        );
    }
}

fn group_name(i: usize) -> String {
    char::from_u32(u32::from(b'A') + i as u32).map_or_else(|| format!("#{i}"), String::from)
}

fn render_digest(out: &mut String, report: &CompareReport, q: &QuerySummary, style: Style) {
    let d = &q.digest;
    if d.agree {
        if let Some(g) = d.groups.first() {
            let _ = writeln!(
                out,
                "  {}",
                style.green(&format!(
                    "digests agree: all {} runs give rows {}, hash {}",
                    g.runs.len(),
                    fmt_count(g.rows),
                    g.hash
                ))
            );
        }
        return;
    }
    let head = if d.comparable {
        style.red(&format!(
            "DIGEST DISAGREEMENT on {}: the engines produced {} different results",
            q.query,
            d.groups.len()
        ))
    } else {
        style.yellow(&format!(
            "{}: {} different digests, expected ({}; not comparable)",
            q.query,
            d.groups.len(),
            not_comparable_reason(&report.plan.workload, &q.query)
        ))
    };
    let _ = writeln!(out, "  {head}");
    for (i, g) in d.groups.iter().enumerate() {
        let text = format!(
            "    {}: rows {}, hash {}: {}",
            group_name(i),
            fmt_count(g.rows),
            g.hash,
            compress_runs(&g.runs)
        );
        let _ = writeln!(
            out,
            "{}",
            if d.comparable && i > 0 {
                style.red(&text)
            } else {
                text
            }
        );
    }
}

/// Groups run labels (`weir round 3`, `weir warm-up`) by engine, with rounds as ranges:
/// `weir: warm-up, rounds 1-5; flink: round 2`.
pub fn compress_runs(labels: &[String]) -> String {
    let mut engines: Vec<(&str, bool, Vec<usize>)> = Vec::new();
    for label in labels {
        let (engine, what) = label.split_once(' ').unwrap_or((label.as_str(), ""));
        let idx = engines
            .iter()
            .position(|e| e.0 == engine)
            .unwrap_or_else(|| {
                engines.push((engine, false, Vec::new()));
                engines.len() - 1
            });
        if what == "warm-up" {
            engines[idx].1 = true;
        } else if let Some(r) = what.strip_prefix("round ").and_then(|r| r.parse().ok()) {
            engines[idx].2.push(r);
        }
    }
    let parts: Vec<String> = engines
        .into_iter()
        .map(|(engine, warmup, mut rounds)| {
            rounds.sort_unstable();
            let mut ranges: Vec<String> = Vec::new();
            let mut i = 0;
            while i < rounds.len() {
                let mut j = i;
                while j + 1 < rounds.len() && rounds[j + 1] == rounds[j] + 1 {
                    j += 1;
                }
                ranges.push(if i == j {
                    rounds[i].to_string()
                } else {
                    format!("{}-{}", rounds[i], rounds[j])
                });
                i = j + 1;
            }
            let mut what: Vec<String> = Vec::new();
            if warmup {
                what.push("warm-up".to_string());
            }
            if !rounds.is_empty() {
                let plural = if rounds.len() == 1 { "round" } else { "rounds" };
                what.push(format!("{plural} {}", ranges.join(",")));
            }
            format!("{engine}: {}", what.join(", "))
        })
        .collect();
    parts.join("; ")
}

fn render_footer(out: &mut String, report: &CompareReport, style: Style) {
    let s = &report.summary;
    if s.queries.is_empty() {
        let _ = writeln!(out, "{}", style.red("no engine completed a measured run"));
    } else if s.digests_agree {
        let _ = writeln!(
            out,
            "{}",
            style.green(&format!(
                "{} every run of every query produced the same digest",
                style.check()
            ))
        );
    } else {
        let bad: Vec<&str> = s
            .queries
            .iter()
            .filter(|q| q.digest.comparable && !q.digest.agree)
            .map(|q| q.query.as_str())
            .collect();
        let _ = writeln!(
            out,
            "{}",
            style.red(&format!(
                "{} the engines disagree on {}: the comparison FAILED (exit code 1)",
                style.cross(),
                bad.join(", ")
            ))
        );
    }
    let failed = report
        .failures
        .iter()
        .filter(|f| f.kind == "failed")
        .count();
    if failed > 0 {
        let _ = writeln!(
            out,
            "{}",
            style.red(&format!(
                "{failed} run(s) failed: the comparison FAILED (exit code 1)"
            ))
        );
    }
    if report.interrupted {
        let _ = writeln!(
            out,
            "{}",
            style.yellow("interrupted: the figures above cover only the runs that finished")
        );
    }
    if report.plan.runs < 5 {
        let _ = writeln!(
            out,
            "{}",
            style.dim(&format!(
                "note: {} run(s) per engine; BENCHMARKING.md asks for at least 5 before quoting a ratio",
                report.plan.runs
            ))
        );
    }
    if let Some(b) = &s.baseline {
        out.push('\n');
        out.push_str(&super::baseline::render(b, style));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(fmt_eps(12_314_000.0), "12.31 M ev/s");
        assert_eq!(fmt_eps(862_000.0), "862.0 k ev/s");
        assert_eq!(fmt_si(950.0), "950.0");
        assert_eq!(fmt_si(1.5e9), "1.500 G");
        assert_eq!(fmt_ns(850_000.0), "850 µs");
        assert_eq!(fmt_ns(1_234_000.0), "1.23 ms");
        assert_eq!(fmt_ns(2_100_000_000.0), "2.10 s");
        assert_eq!(fmt_count(10_000_000), "10,000,000");
        assert_eq!(fmt_count(999), "999");
        assert_eq!(group_name(1), "B");
        let labels: Vec<String> = [
            "weir warm-up",
            "weir round 1",
            "flink round 2",
            "weir round 2",
            "weir round 4",
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            compress_runs(&labels),
            "weir: warm-up, rounds 1-2,4; flink: round 2"
        );
    }
}
