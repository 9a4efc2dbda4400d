//! The files `weir compare --out DIR` writes, all from the one [`CompareReport`]:
//! `report.json` (the record), `report.csv` (one row per measured run), `report.md` (the
//! verdict as Markdown tables) and the plots ([`super::plot`]).
//!
//! They are rewritten after every run, each atomically ([`write_atomic`]), so a reader or a
//! crash never sees half a file and a later failure loses nothing.
//!
//! **Layer.** Output, the highest below the loop (which alone imports it): imports
//! [`files`](super::files), [`plot`], [`verdict`](super::verdict) (the setup
//! line), [`baseline`] (its block), [`stats`](super::stats) (the catalog's
//! reason a query's digests are not comparable), the data types and [`fmt`](super::fmt).

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use super::baseline;
use super::files::{ExportError, write_atomic};
use super::fmt::{Style, compress_runs, fmt_count, fmt_eps, fmt_ns};
use super::plot;
use super::record::CompareReport;
use super::stats::{latency_caveat, not_comparable_reason};
use super::summary::{LatencySpread, QuerySummary, Spread};
use super::verdict::{end_of_input_note, machine_speed_note, setup_line};

/// Writes every export of `report` into `dir` (created if needed).
///
/// # Errors
/// When a file cannot be written or a plot cannot be drawn.
pub fn write_all(report: &CompareReport, dir: &Path) -> Result<(), ExportError> {
    fs::create_dir_all(dir).map_err(|source| ExportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    write_atomic(&dir.join("report.json"), to_json(report).as_bytes())?;
    write_atomic(&dir.join("report.csv"), to_csv(report).as_bytes())?;
    write_atomic(&dir.join("report.md"), to_markdown(report).as_bytes())?;
    plot::write_plots(report, dir)
}

/// `report.json`: the whole record, pretty-printed.
pub fn to_json(report: &CompareReport) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a report always serialises");
    s.push('\n');
    s
}

/// The columns of `report.csv`.
pub const CSV_HEADER: &str = "workload,query,engine,round,order,workers,pinning,source,events,rate,event_rate,startup_s,wall_s,throughput_eps,latency_p50_ns,latency_p99_ns,latency_p999_ns,latency_max_ns,latency_samples,digest_rows,digest_hash,late,dropped,weir_version,weir_commit,cpu,cores,cpu_user_s,cpu_system_s,events_per_cpu_s,cpu_s_per_million_events,end_of_input_results,end_of_input_max_ns";

/// `report.csv`: one row per measured run, in the order they ran.
pub fn to_csv(report: &CompareReport) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for (i, r) in report.runs.iter().enumerate() {
        let (round, order) = report
            .series
            .get(i)
            .map_or((String::new(), String::new()), |s| {
                (s.round.to_string(), s.order.to_string())
            });
        let summary =
            |l: Option<&weir_workloads::report::LatencySummary>,
             f: fn(&weir_workloads::report::LatencySummary) -> u64| {
                l.map_or(String::new(), |l| f(l).to_string())
            };
        let lat = |f| summary(r.latency_ns.as_ref(), f);
        let end = |f| summary(r.end_of_input_latency_ns.as_ref(), f);
        let cpu = |f: fn(&weir_workloads::report::CpuReport) -> Option<f64>| {
            r.cpu
                .as_ref()
                .and_then(f)
                .map_or(String::new(), |x| x.to_string())
        };
        let fields = [
            r.workload.clone(),
            r.query.clone(),
            r.engine.clone(),
            round,
            order,
            r.workers.to_string(),
            r.pinning.to_string(),
            r.source.clone(),
            r.events.to_string(),
            r.rate.map_or(String::new(), |x| x.to_string()),
            r.event_rate.to_string(),
            r.startup_s.to_string(),
            r.wall_s.to_string(),
            r.throughput_eps.to_string(),
            lat(|l| l.p50),
            lat(|l| l.p99),
            lat(|l| l.p999),
            lat(|l| l.max),
            lat(|l| l.samples),
            r.digest.rows.to_string(),
            r.digest.hash.clone(),
            r.late.to_string(),
            r.dropped.to_string(),
            r.versions.weir.clone(),
            r.versions.weir_commit.clone().unwrap_or_default(),
            r.machine.cpu.clone(),
            r.machine.cores.to_string(),
            cpu(|c| Some(c.user_s)),
            cpu(|c| Some(c.system_s)),
            cpu(|c| c.events_per_cpu_s),
            cpu(|c| c.cpu_s_per_million_events),
            end(|l| l.samples),
            end(|l| l.max),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn spread_md(s: &Spread, f: fn(f64) -> String) -> String {
    format!("{} ({} – {})", f(s.median), f(s.min), f(s.max))
}

/// `report.md`: setup, one table per query, ratios, digests, and every run.
pub fn to_markdown(report: &CompareReport) -> String {
    let mut out = String::new();
    let p = &report.plan;
    let _ = writeln!(
        out,
        "# weir compare: {} {}\n\n{}.\n",
        p.workload,
        p.queries.join(", "),
        setup_line(report)
    );
    let _ = writeln!(
        out,
        "Command: `{}`  \nStarted: {}  ",
        p.command, p.started_at
    );
    if let Some(run) = report.runs.first() {
        let m = &run.machine;
        let v = &run.versions;
        let _ = writeln!(
            out,
            "Machine: {}, {} cores, {} GiB, {}  \nweir {} (commit {}), {}",
            m.cpu,
            m.cores,
            m.memory_gb,
            m.os,
            v.weir,
            v.weir_commit.as_deref().unwrap_or("unknown"),
            v.rustc.as_deref().unwrap_or("rustc unknown")
        );
    }
    let _ = writeln!(
        out,
        "\nFigures are medians over the measured runs with (min – max); ratios are computed within \
         each round, then their median is taken. ★ marks the winner of a metric; none is named \
         when the best two are within each other's range (too close to call)."
    );
    for q in &report.summary.queries {
        markdown_query(&mut out, report, q);
    }
    if report
        .summary
        .queries
        .iter()
        .any(|q| q.engines.iter().any(|e| e.latency_ns.is_some()))
        && p.rate.is_none()
        && p.load.is_none()
    {
        let _ = writeln!(
            out,
            "\nLatency was measured at maximum throughput (no `--rate`), so it includes queueing; \
             compare latency at a fixed `--rate`."
        );
    }
    if !report.failures.is_empty() {
        let _ = writeln!(out, "\n## Runs without a report\n");
        for f in &report.failures {
            let when = f
                .round
                .map_or_else(|| "warm-up".to_string(), |r| format!("round {r}"));
            let _ = writeln!(
                out,
                "- {} {} {when}: **{}**: {}",
                f.query, f.engine, f.kind, f.message
            );
        }
    }
    if report.interrupted {
        let _ = writeln!(
            out,
            "\n**Interrupted**: only the runs that finished are counted."
        );
    }
    if let Some(b) = &report.summary.baseline {
        let _ = writeln!(out, "\n## Against the baseline\n\n```text");
        out.push_str(&baseline::render(b, Style::PLAIN));
        let _ = writeln!(out, "```");
    }
    let _ = writeln!(
        out,
        "\n## Plots\n\n![throughput per engine](throughput.svg)"
    );
    if report
        .summary
        .queries
        .iter()
        .flat_map(|q| &q.engines)
        .any(|e| e.events_per_cpu_s.is_some())
    {
        let _ = writeln!(out, "![events per CPU-second per engine](cpu.svg)");
    }
    for q in &report.summary.queries {
        let _ = writeln!(
            out,
            "![latency {q}](latency-{q}.svg)\n![throughput over time {q}](timeline-{q}.svg)",
            q = q.query
        );
    }
    let _ = writeln!(
        out,
        "\n## Every run\n\n| # | query | engine | round | events | wall s | throughput | p99 | digest |\n|---:|---|---|---:|---:|---:|---:|---:|---|"
    );
    for (i, r) in report.runs.iter().enumerate() {
        let (round, order) = report.series.get(i).map_or((0, 0), |s| (s.round, s.order));
        let _ = writeln!(
            out,
            "| {order} | {} | {} | {round} | {} | {:.3} | {} | {} | {} / {} |",
            r.query,
            r.engine,
            fmt_count(r.events),
            r.wall_s,
            fmt_eps(r.throughput_eps),
            r.latency_ns
                .map_or_else(|| "n/a".to_string(), |l| fmt_ns(l.p99 as f64)),
            fmt_count(r.digest.rows),
            &r.digest.hash[..r.digest.hash.len().min(8)]
        );
    }
    out
}

fn markdown_query(out: &mut String, report: &CompareReport, q: &QuerySummary) {
    let _ = writeln!(
        out,
        "\n## {} {}\n\n| engine | runs | throughput | p50 | p99 | p99.9 | max | events/CPU-s | late | dropped |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        report.plan.workload, q.query
    );
    let ns = |x: f64| fmt_ns(x);
    for e in &q.engines {
        let star = |metric: &str| {
            if q.winner(metric) == Some(e.engine.as_str()) {
                " ★"
            } else {
                ""
            }
        };
        let lat = |f: fn(&LatencySpread) -> Spread, metric: &str| {
            e.latency_ns.as_ref().map_or_else(
                || "n/a".to_string(),
                |l| format!("{}{}", spread_md(&f(l), ns), star(metric)),
            )
        };
        let _ = writeln!(
            out,
            "| {} | {} | {}{} | {} | {} | {} | {} | {} | {} | {} |",
            e.engine,
            e.runs,
            spread_md(&e.throughput_eps, fmt_eps),
            star("throughput"),
            lat(|l| l.p50, "p50"),
            lat(|l| l.p99, "p99"),
            lat(|l| l.p999, "p99.9"),
            lat(|l| l.max, "max"),
            e.events_per_cpu_s
                .as_ref()
                .map_or_else(|| "n/a".to_string(), |s| spread_md(s, fmt_eps)),
            e.late,
            e.dropped
        );
    }
    out.push('\n');
    for e in &q.engines {
        let Some(offered) = e.offered_eps else {
            continue;
        };
        let achieved = e.throughput_eps.median / offered.median.max(1.0);
        let behind = if e.fell_behind > 0 {
            format!(
                ": **FELL BEHIND in {} of {} runs** (below 95 % of the offered rate; their latency \
                 describes an overload)",
                e.fell_behind, e.runs
            )
        } else if e.no_headroom > 0 {
            format!(
                ", sustained in every run, but with **no headroom in {} of {}** (a worker busy at \
                 least 95 % of the run; their latency includes queueing at the engine's limit)",
                e.no_headroom, e.runs
            )
        } else {
            ", sustained in every run".to_string()
        };
        let _ = writeln!(
            out,
            "- {}: offered {}, achieved {} ({:.0} %){behind}",
            e.engine,
            fmt_eps(offered.median),
            fmt_eps(e.throughput_eps.median),
            100.0 * achieved
        );
    }
    for e in q.engines.iter().filter(|e| e.latency_ns.is_some()) {
        if let Some(caveat) = latency_caveat(&report.plan.workload, &q.query, &e.engine) {
            let _ = writeln!(out, "- latency: {caveat}");
        }
    }
    if let Some(note) = end_of_input_note(q) {
        let _ = writeln!(out, "- {note}");
    }
    for c in report.calibrations.iter().filter(|c| c.query == q.query) {
        let _ = writeln!(
            out,
            "- {} maximum {} (probe {}, steady-state run at {} events/s of event time{}), offered {}",
            c.engine,
            fmt_eps(c.max_eps),
            fmt_eps(c.probe_eps),
            fmt_count(c.steady_event_rate),
            c.window_closings
                .map_or_else(String::new, |n| format!(", windows closed {n} times")),
            fmt_eps(c.offered_eps as f64)
        );
    }
    if let Some((note, warn)) = machine_speed_note(report, q, Style::PLAIN) {
        let mark = if warn { "**Speed moved.** " } else { "" };
        // The verdict's line starts in lower case; a Markdown bullet starts a sentence.
        let _ = writeln!(out, "- {mark}M{}.", note.strip_prefix('m').unwrap_or(&note));
    }
    if let (Some(c), Some(shares)) = (&q.ceiling, q.ceiling_shares()) {
        let _ = writeln!(
            out,
            "- Ceiling ({}): {}; engines at {}.",
            c.kind,
            spread_md(&c.throughput_eps, fmt_eps),
            shares
        );
    }
    if let Some(n) = q
        .window_closings
        .filter(|&n| n < weir_workloads::catalog::MIN_WINDOW_CLOSINGS)
    {
        let _ = writeln!(
            out,
            "- The windows closed only {n} time(s) per run before the end of input: the figures \
             mostly describe the final flush, not windows closing while the stream runs."
        );
    }
    for r in &q.ratios {
        if r.too_close {
            let _ = writeln!(
                out,
                "- {} and {}: **too close to call**, {:.2}× ({:.2}× – {:.2}× over {} rounds; {} vs {})",
                r.faster,
                r.slower,
                r.ratio.median,
                r.ratio.min,
                r.ratio.max,
                r.rounds,
                fmt_eps(r.faster_eps),
                fmt_eps(r.slower_eps)
            );
        } else {
            let _ = writeln!(
                out,
                "- **{} {:.2}× ± {:.2} faster than {}** ({:.2}× – {:.2}× over {} rounds; {} vs {})",
                r.faster,
                r.ratio.median,
                r.plus_minus,
                r.slower,
                r.ratio.min,
                r.ratio.max,
                r.rounds,
                fmt_eps(r.faster_eps),
                fmt_eps(r.slower_eps)
            );
        }
    }
    for v in &q.weir_vs {
        let _ = writeln!(
            out,
            "- weir {:.2}× ± {:.2} vs {}: {} ({:.2}× – {:.2}× over {} rounds; {} vs {})",
            v.ratio.median,
            v.plus_minus,
            v.engine,
            v.outcome(),
            v.ratio.min,
            v.ratio.max,
            v.rounds,
            fmt_eps(v.weir_eps),
            fmt_eps(v.other_eps)
        );
    }
    let d = &q.digest;
    if d.agree {
        if let Some(g) = d.groups.first() {
            let _ = writeln!(
                out,
                "- Digests agree: all {} runs give {} rows, hash `{}`.",
                g.runs.len(),
                fmt_count(g.rows),
                g.hash
            );
        }
    } else {
        let not_comparable = format!(
            "Digests differ ({}, not comparable)",
            not_comparable_reason(&report.plan.workload, &q.query)
        );
        let _ = writeln!(
            out,
            "- **{}**: {} different digests:",
            if d.comparable {
                "DIGEST DISAGREEMENT"
            } else {
                &not_comparable
            },
            d.groups.len()
        );
        for g in &d.groups {
            let _ = writeln!(
                out,
                "  - {} rows, hash `{}`: {}",
                fmt_count(g.rows),
                g.hash,
                compress_runs(&g.runs)
            );
        }
    }
}
