//! The verdict printed at the end of `weir compare`: per query, each engine's throughput and
//! latency with spread, the relative speed with the absolute numbers next to it, digest
//! agreement, and who won each metric; then the overall result and, with `--baseline`, the
//! changes since the baseline. [`setup_line`] is shared with the Markdown report.
//!
//! **Layer.** Output: imports [`fmt`](super::fmt), the data types
//! ([`record`](super::record), [`summary`](super::summary)), [`stats`](super::stats) (the
//! catalog's reason a query's digests are not comparable) and [`baseline`]
//! (its block); never the loop.

use std::fmt::Write as _;

use super::baseline;
use super::fmt::{Style, compress_runs, fmt_count, fmt_eps, fmt_ns, fmt_si};
use super::record::{CompareReport, FailureRecord};
use super::stats::{latency_caveat, not_comparable_reason};
use super::summary::{LatencySpread, QuerySummary, SPEED_CHANGE_WARN, Spread};
use weir_workloads::catalog::MIN_WINDOW_CLOSINGS;

/// The one-line description of the setup every query shares.
pub fn setup_line(report: &CompareReport) -> String {
    let p = &report.plan;
    let rate = match (p.load, p.rate) {
        (Some(load), _) => format!(
            "each engine offered {:.0} % of its own maximum (2 calibration runs, no warm-up)",
            100.0 * load
        ),
        (None, Some(r)) => format!("rate {}", fmt_eps(r as f64)),
        (None, None) => "max rate".to_string(),
    };
    let length = match p.duration_s {
        Some(d) if p.load.is_some() || p.rate.is_some() => format!("{d} s of events per run"),
        _ => format!("{} events", fmt_count(p.events)),
    };
    let warmup = if p.load.is_some() {
        String::new()
    } else {
        format!(" after {} warm-up", p.warmup_runs)
    };
    let pretouch = match (p.pretouch_bytes, p.flink_pretouch) {
        (0, false) => String::new(),
        (0, true) => {
            ", Flink's heap pre-touched by each run's JVM (-XX:+AlwaysPreTouch)".to_string()
        }
        (bytes, flink) => format!(
            ", {} pre-touched before the first run{}",
            super::memory::gib(bytes),
            if flink {
                " (Flink: its heap, by each run's JVM)"
            } else {
                ""
            }
        ),
    };
    format!(
        "{} worker{}, {length}, source {}, {rate}, {} run{} per engine{warmup}, round-robin{pretouch}",
        p.workers,
        if p.workers == 1 { "" } else { "s" },
        p.source,
        p.runs,
        if p.runs == 1 { "" } else { "s" },
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
        let _ = writeln!(out, "\n{}", failure_line(report, f, style));
    }
    out.push('\n');
    render_footer(&mut out, report, style);
    out
}

/// A failure, with when it happened: its round, or before the rounds (the warm-up, or with
/// `--load` the calibration).
fn failure_line(report: &CompareReport, f: &FailureRecord, style: Style) -> String {
    let before = if report.plan.load.is_some() {
        "calibration"
    } else {
        "warm-up"
    };
    let when = f
        .round
        .map_or_else(|| before.to_string(), |r| format!("round {r}"));
    let text = format!("{} {} {when}: {}: {}", f.query, f.engine, f.kind, f.message);
    if f.kind == "failed" {
        style.red(&text)
    } else {
        style.yellow(&text)
    }
}

/// "(A ev/s vs B ev/s; N rounds: min× … max×)": the figures behind a ratio line.
fn ratio_numbers(a_eps: f64, b_eps: f64, rounds: usize, ratio: &Spread, style: Style) -> String {
    format!(
        "({} vs {}; {} round{}: {:.2}{t} {} {:.2}{t})",
        fmt_eps(a_eps),
        fmt_eps(b_eps),
        rounds,
        if rounds == 1 { "" } else { "s" },
        ratio.min,
        style.ellipsis(),
        ratio.max,
        t = style.times(),
    )
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
        "ev/CPU-s",
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
        let lat = |f: fn(&LatencySpread) -> Spread, metric: &str| {
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
            e.events_per_cpu_s.map_or_else(
                || ("n/a".to_string(), Some("2")),
                |s| (fmt_si(s.median), None),
            ),
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
        let numbers = ratio_numbers(r.faster_eps, r.slower_eps, r.rounds, &r.ratio, style);
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
    for v in &q.weir_vs {
        let numbers = ratio_numbers(v.weir_eps, v.other_eps, v.rounds, &v.ratio, style);
        let head = format!(
            "weir {:.2}{} {} {:.2} vs {}",
            v.ratio.median,
            style.times(),
            style.pm(),
            v.plus_minus,
            v.engine
        );
        let head = if v.too_close {
            style.yellow(&head)
        } else {
            style.bold(&head)
        };
        let _ = writeln!(out, "  {head}: {} {numbers}", v.outcome());
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
    render_pace(out, report, q, style);
    if let Some(note) = end_of_input_note(q) {
        let _ = writeln!(out, "  {}", style.dim(&note));
    }
    render_ceiling(out, q, style);
    for e in q.engines.iter().filter(|e| e.latency_ns.is_some()) {
        if let Some(caveat) = latency_caveat(&report.plan.workload, &q.query, &e.engine) {
            let _ = writeln!(out, "  {}", style.yellow(&format!("latency: {caveat}")));
        }
    }
    if let Some(n) = q.window_closings.filter(|&n| n < MIN_WINDOW_CLOSINGS) {
        let _ = writeln!(
            out,
            "  {}",
            style.yellow(&format!(
                "{}'s windows closed only {n} time{} per run before the end of input: the \
                 figures mostly describe the final flush, not windows closing while the stream \
                 runs (run more events, or lower --event-rate, for at least {MIN_WINDOW_CLOSINGS})",
                q.query,
                if n == 1 { "" } else { "s" }
            ))
        );
    }
    render_digest(out, report, q, style);
    for f in report.failures.iter().filter(|f| f.query == q.query) {
        let _ = writeln!(out, "  {}", failure_line(report, f, style));
    }
    if report.plan.rate.is_none()
        && report.plan.load.is_none()
        && q.engines.iter().any(|e| e.latency_ns.is_some())
    {
        let _ = writeln!(
            out,
            "  {}",
            style.dim(
                "latency was measured at maximum throughput (no --rate), so it includes queueing; compare latency at a fixed --rate"
            )
        );
    }
}

/// The end-of-input flush, for the engines whose runs had one: how many results the final
/// watermark fired and the latest of them (not part of the latency columns); `None` when no
/// engine's runs had one.
pub(super) fn end_of_input_note(q: &QuerySummary) -> Option<String> {
    let flushes: Vec<String> = q
        .engines
        .iter()
        .filter_map(|e| {
            let max = e.end_of_input_max_ns?;
            let results = e.end_of_input_results.map_or(0.0, |r| r.median);
            Some(format!(
                "{} {} results within {}",
                e.engine,
                fmt_count(results.round() as u64),
                fmt_ns(max.median)
            ))
        })
        .collect();
    (!flushes.is_empty()).then(|| {
        format!(
            "end of input (every window still open fired at once; not in the latency columns): \
             {}",
            flushes.join(" · ")
        )
    })
}

/// Paced runs: each engine's offered and achieved rate, and the runs that fell behind; with
/// `--load`, how each engine's maximum was measured.
fn render_pace(out: &mut String, report: &CompareReport, q: &QuerySummary, style: Style) {
    for e in &q.engines {
        let Some(offered) = e.offered_eps else {
            continue;
        };
        let achieved = e.throughput_eps.median / offered.median.max(1.0);
        let text = format!(
            "{}: offered {}, achieved {} ({:.0} %)",
            e.engine,
            fmt_eps(offered.median),
            fmt_eps(e.throughput_eps.median),
            100.0 * achieved
        );
        if e.fell_behind > 0 {
            let _ = writeln!(
                out,
                "  {}",
                style.red(&format!(
                    "{text}: FELL BEHIND in {} of {} runs (below 95 % of the offered rate): \
                     their latency describes an overload, not {} at this rate",
                    e.fell_behind, e.runs, e.engine
                ))
            );
        } else if e.no_headroom > 0 {
            let _ = writeln!(
                out,
                "  {}",
                style.yellow(&format!(
                    "{text}, sustained in every run, but with NO HEADROOM in {} of {} (a worker \
                     busy at least 95 % of the run): their latency includes queueing at {}'s \
                     limit",
                    e.no_headroom, e.runs, e.engine
                ))
            );
        } else {
            let _ = writeln!(out, "  {text}, sustained in every run");
        }
    }
    for c in report.calibrations.iter().filter(|c| c.query == q.query) {
        let closings = c
            .window_closings
            .map_or_else(String::new, |n| format!(", windows closed {n} times"));
        let _ = writeln!(
            out,
            "  {}",
            style.dim(&format!(
                "{} maximum {} (probe {}, then a steady-state run at {} events/s of event \
                 time{closings}); offered {}",
                c.engine,
                fmt_eps(c.max_eps),
                fmt_eps(c.probe_eps),
                fmt_si(c.steady_event_rate as f64),
                fmt_eps(c.offered_eps as f64)
            ))
        );
    }
    if let Some((note, warn)) = machine_speed_note(report, q, style) {
        let styled = if warn {
            style.yellow(&note)
        } else {
            style.dim(&note)
        };
        let _ = writeln!(out, "  {styled}");
    }
}

/// With `--load`: the query's ceiling right after the calibration against its ceiling in the
/// rounds, and whether the machine's speed moved by [`SPEED_CHANGE_WARN`] or more (then the
/// note says at about what share of its maximum an engine that moved with it ran); `None`
/// without a
/// ceiling at calibration.
pub(super) fn machine_speed_note(
    report: &CompareReport,
    q: &QuerySummary,
    style: Style,
) -> Option<(String, bool)> {
    let c = q.ceiling.as_ref()?;
    let load = report.plan.load?;
    let (at_calibration, change) = (c.at_calibration_eps?, c.speed_change()?);
    let mut note = format!(
        "machine speed: the {} ceiling was {} right after the calibration, {} ({} {} {}) in \
         the rounds ({:+.0} %)",
        c.kind,
        fmt_eps(at_calibration),
        fmt_eps(c.throughput_eps.median),
        fmt_si(c.throughput_eps.min),
        style.ellipsis(),
        fmt_si(c.throughput_eps.max),
        100.0 * change
    );
    let warn = change.abs() >= SPEED_CHANGE_WARN;
    if warn && let Some(effective) = c.effective_load(load) {
        let _ = write!(
            note,
            ": the machine ran the rounds {:.0} % {} than the calibration; an engine that moved \
             with it ran at about {:.0} % of its maximum, not the {:.0} % offered (one ceiling \
             run is half a second, so this is a warning, not a measurement of each engine); \
             measure again on a quieter machine",
            100.0 * change.abs(),
            if change < 0.0 { "slower" } else { "faster" },
            100.0 * effective,
            100.0 * load
        );
    }
    Some((note, warn))
}

/// The physical ceiling of the query's input, and each engine's share of it.
fn render_ceiling(out: &mut String, q: &QuerySummary, style: Style) {
    let (Some(c), Some(shares)) = (&q.ceiling, q.ceiling_shares()) else {
        return;
    };
    let _ = writeln!(
        out,
        "  {}",
        style.dim(&format!(
            "ceiling ({}): {} ({} {} {}); of it: {}",
            c.kind,
            fmt_eps(c.throughput_eps.median),
            fmt_si(c.throughput_eps.min),
            style.ellipsis(),
            fmt_si(c.throughput_eps.max),
            shares
        ))
    );
}

fn group_name(i: usize) -> String {
    char::from_u32(u32::from(b'A') + i as u32).map_or_else(|| format!("#{i}"), String::from)
}

fn render_digest(out: &mut String, report: &CompareReport, q: &QuerySummary, style: Style) {
    let d = &q.digest;
    if d.agree && d.per_engine {
        let _ = writeln!(
            out,
            "  {}",
            style.green(&format!(
                "digests agree within each engine ({} engines; each ran at its own rate, so on \
                 its own input: not compared across engines)",
                d.groups.len()
            ))
        );
        return;
    }
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
                "note: {} run(s) per engine; docs/BENCHMARKING.md asks for at least 5 before quoting a ratio",
                report.plan.runs
            ))
        );
    }
    if let Some(b) = &s.baseline {
        out.push('\n');
        out.push_str(&baseline::render(b, style));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_groups_are_lettered() {
        assert_eq!(group_name(0), "A");
        assert_eq!(group_name(1), "B");
    }
}
