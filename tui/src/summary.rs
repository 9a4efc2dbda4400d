//! What `weir run` prints without the console: the end-of-run summary (stdout), its one-line
//! form (`--quiet`), and the once-a-second progress line (stderr, no terminal or `--no-tui`).

use std::fmt::Write as _;

use weir_workloads::catalog::{MIN_WINDOW_CLOSINGS, Query, Workload};
use weir_workloads::report::RunReport;

use crate::console::ConsoleState;
use crate::console::fmt;

/// CPU seconds (user + system), events per CPU-second and CPU-seconds per million events.
pub fn cpu_line(report: &RunReport) -> String {
    let Some(cpu) = &report.cpu else {
        return format!("not measured for engine '{}' in this run", report.engine);
    };
    let mut line = format!(
        "{:.2} s (user {:.2} s, system {:.2} s)",
        cpu.total_s(),
        cpu.user_s,
        cpu.system_s
    );
    let mut per = Vec::new();
    if let Some(eps) = cpu.events_per_cpu_s {
        per.push(format!("{} per CPU-second", fmt::rate(eps)));
    }
    if let Some(per_m) = cpu.cpu_s_per_million_events {
        per.push(format!("{per_m:.3} CPU-s per million events"));
    }
    if !per.is_empty() {
        let _ = write!(line, "\n{:17}{}", "", per.join(", "));
    }
    line
}

/// The full summary of a finished run, like hyperfine's or oha's: throughput first, then
/// latency percentiles, the digest, late/dropped, per-worker time split, machine, versions.
pub fn text(report: &RunReport, stopped_early: bool) -> String {
    let mut out = String::new();
    let rate = report
        .rate
        .map_or_else(|| "max".to_string(), |r| format!("{}/s", fmt::si(r as f64)));
    let _ = writeln!(
        out,
        "weir run: {} {} on {}, {} worker{}, source {}, rate {}",
        report.workload,
        report.query,
        report.engine,
        report.workers,
        if report.workers == 1 { "" } else { "s" },
        report.source,
        rate,
    );
    if stopped_early {
        let _ = writeln!(
            out,
            "  (stopped early on request: the numbers cover the events processed until then)"
        );
    }
    let _ = writeln!(out);
    let row = |out: &mut String, name: &str, value: String| {
        let _ = writeln!(out, "  {name:<15}{value}");
    };
    row(
        &mut out,
        "Throughput",
        format!(
            "{}  ({} events in {})",
            fmt::rate(report.throughput_eps),
            fmt::count(report.events),
            fmt::nanos((report.wall_s * 1e9) as u64, false),
        ),
    );
    row(&mut out, "CPU", cpu_line(report));
    if let Some(line) = pace_line(report) {
        row(&mut out, "Offered", line);
    }
    if let Some(line) = windows_line(report) {
        row(&mut out, "Windows", line);
    }
    row(
        &mut out,
        "Start-up",
        format!(
            "{} (engine start, not in the wall time above)",
            fmt::nanos((report.startup_s * 1e9) as u64, false)
        ),
    );
    row(
        &mut out,
        "Latency",
        report.latency_ns.map_or_else(
            || {
                if report.end_of_input_latency_ns.is_some() {
                    "no window closed before the end of input".to_string()
                } else {
                    format!("not reported by engine '{}'", report.engine)
                }
            },
            |l| {
                format!(
                    "p50 {}  p99 {}  p99.9 {}  max {}\n{:17}{} samples",
                    fmt::nanos(l.p50, false),
                    fmt::nanos(l.p99, false),
                    fmt::nanos(l.p999, false),
                    fmt::nanos(l.max, false),
                    "",
                    fmt::count(l.samples),
                )
            },
        ),
    );
    if let Some(l) = report.end_of_input_latency_ns {
        row(
            &mut out,
            "End of input",
            format!(
                "p50 {}  max {}  ({} results)\n{:17}the windows still open, fired at once by the \
                 end of input;\n{:17}not in the latency above",
                fmt::nanos(l.p50, false),
                fmt::nanos(l.max, false),
                fmt::count(l.samples),
                "",
                "",
            ),
        );
    }
    row(
        &mut out,
        "Results",
        format!(
            "{} rows, digest {}",
            fmt::count(report.digest.rows),
            report.digest.hash
        ),
    );
    let flag = if report.late > 0 || report.dropped > 0 {
        "   <- check these"
    } else {
        ""
    };
    row(
        &mut out,
        "Late, dropped",
        format!(
            "{} late, {} dropped{flag}",
            fmt::count(report.late),
            fmt::count(report.dropped)
        ),
    );
    if report.per_worker.is_empty() {
        row(
            &mut out,
            "Workers",
            format!("not reported by engine '{}'", report.engine),
        );
    } else {
        // The held column (sources waiting for a slower peer's, weir's source alignment) only
        // where some worker was held: other engines' sources are never aligned.
        let held = report.per_worker.iter().any(|w| w.held_s > 0.0);
        let mut header = format!("{:>7} {:>14}", "busy", "backpressured");
        if held {
            let _ = write!(header, " {:>7}", "held");
        }
        let _ = write!(header, " {:>7} {:>15}", "idle", "events");
        row(&mut out, "Workers", header);
        for (i, w) in report.per_worker.iter().enumerate() {
            let total = w.accounted_s().max(f64::MIN_POSITIVE);
            let _ = write!(
                out,
                "    w{i:<11}{:>7.1}% {:>13.1}%",
                100.0 * w.busy_s / total,
                100.0 * w.backpressured_s / total,
            );
            if held {
                let _ = write!(out, " {:>6.1}%", 100.0 * w.held_s / total);
            }
            let _ = writeln!(
                out,
                " {:>6.1}% {:>15}",
                100.0 * w.idle_s / total,
                fmt::count(w.records),
            );
        }
    }
    let m = &report.machine;
    row(
        &mut out,
        "Machine",
        format!("{}, {} cores, {} GiB", m.cpu, m.cores, m.memory_gb),
    );
    row(&mut out, "OS", m.os.clone());
    let v = &report.versions;
    let mut versions = format!("weir {}", v.weir);
    if let Some(c) = &v.weir_commit {
        let _ = write!(versions, " ({c})");
    }
    for (name, value) in [
        ("rustc", &v.rustc),
        ("timely", &v.timely),
        ("differential", &v.differential),
        ("flink", &v.flink),
        ("java", &v.java),
    ] {
        if let Some(value) = value {
            let value = value.strip_prefix(name).unwrap_or(value).trim();
            let _ = write!(versions, ", {name} {value}");
        }
    }
    row(&mut out, "Versions", versions);
    let _ = writeln!(out);
    out.push_str(&final_line(report));
    out.push('\n');
    out
}

/// The busiest worker's share of a paced run that kept up without headroom
/// ([`RunReport::no_headroom`]); `None` for any other run.
fn no_headroom_share(report: &RunReport) -> Option<f64> {
    report
        .busiest_worker_share()
        .filter(|_| report.no_headroom() == Some(true))
}

/// A paced run's offered and achieved rates, and whether it kept up; `None` unpaced.
pub fn pace_line(report: &RunReport) -> Option<String> {
    let (rate, achieved) = (report.rate?, report.achieved_fraction()?);
    let verdict = if report.fell_behind() == Some(true) {
        "  <- FELL BEHIND: the engine did not sustain the offered rate, so its latency \
         describes an overload (queueing that grows with the run), not the engine at this rate"
            .to_string()
    } else if let Some(share) = no_headroom_share(report) {
        format!(
            ", sustained  <- NO HEADROOM: a worker was busy {:.0} % of the run, so the engine \
             ran at its limit and its latency includes queueing (the machine may be slower \
             than when the rate was chosen)",
            100.0 * share
        )
    } else {
        ", sustained".to_string()
    };
    Some(format!(
        "{} offered, {} achieved ({:.0} %){verdict}",
        fmt::rate(rate as f64),
        fmt::rate(report.throughput_eps),
        100.0 * achieved
    ))
}

/// How often the query's windows closed during the run, when that is too rare for its figures
/// to describe windows closing (see [`MIN_WINDOW_CLOSINGS`]); `None` otherwise.
pub fn windows_line(report: &RunReport) -> Option<String> {
    let closings = window_closings(report)?;
    (closings < MIN_WINDOW_CLOSINGS).then(|| {
        // Two lines of at most 63 characters after the 17-column label, so the summary
        // stays within 80 columns (the Throughput line above gives the events).
        format!(
            "closed {closings} time{} in the input, under {MIN_WINDOW_CLOSINGS}: the figures \
             mostly\n{:17}show the final flush; run longer or lower --event-rate",
            if closings == 1 { "" } else { "s" },
            "",
        )
    })
}

/// How often the query's windows closed before the end of the run's input.
pub fn window_closings(report: &RunReport) -> Option<u64> {
    let workload: Workload = report.workload.parse().ok()?;
    let query = Query::parse(workload, &report.query).ok()?;
    query.window_closings(report.events, report.event_rate)
}

/// The one-line result (`--quiet` prints only this).
pub fn final_line(report: &RunReport) -> String {
    let p99 = match (report.latency_ns, report.end_of_input_latency_ns) {
        (Some(stream), _) => fmt::nanos(stream.p99, false),
        (None, Some(end)) => format!(
            "n/a (every window closed at the end of input, max {})",
            fmt::nanos(end.max, false)
        ),
        (None, None) => "n/a".to_string(),
    };
    let behind = match (report.fell_behind(), report.achieved_fraction()) {
        (Some(true), Some(f)) => format!(" (FELL BEHIND: {:.0} % of the offered rate)", 100.0 * f),
        _ => no_headroom_share(report).map_or_else(String::new, |share| {
            format!(" (NO HEADROOM: a worker busy {:.0} %)", 100.0 * share)
        }),
    };
    format!(
        "{} {} {}: {}{behind}, p99 {}, {} late, {} dropped, digest {}",
        report.engine,
        report.workload,
        report.query,
        fmt::rate(report.throughput_eps),
        p99,
        fmt::count(report.late),
        fmt::count(report.dropped),
        report.digest.hash,
    )
}

/// The progress line printed once a second on stderr when there is no console.
pub fn progress_line(state: &ConsoleState) -> String {
    let latest = state.latest();
    let rate = state
        .current_eps()
        .map_or_else(|| "-".to_string(), fmt::rate);
    let p99 = latest
        .latency_ns
        .as_ref()
        .filter(|h| !h.is_empty())
        .map_or_else(
            || "-".to_string(),
            |h| fmt::nanos(h.value_at_quantile(0.99), true),
        );
    let lag = state.lag_ms().map_or_else(|| "-".to_string(), fmt::millis);
    let behind = state
        .pace()
        .filter(|&p| p < weir_workloads::report::SUSTAINED_FRACTION)
        .map_or_else(String::new, |p| {
            format!("  BEHIND: {:.0} % of the offered rate", 100.0 * p)
        });
    format!(
        "{}  {rate}  p99 {p99}  lag {lag}  late {}  dropped {}{behind}",
        crate::console::progress::text(state),
        fmt::count(latest.late()),
        fmt::count(latest.dropped()),
    )
}

/// Adds terminal styles to a summary from [`text`]: bold row names and a bold final line.
pub fn colorize(text: &str) -> String {
    const BOLD: &str = "\u{1b}[1m";
    const RESET: &str = "\u{1b}[0m";
    let lines: Vec<&str> = text.lines().collect();
    let last = lines.len().saturating_sub(1);
    let mut out = String::with_capacity(text.len() + 16 * lines.len());
    for (i, line) in lines.iter().enumerate() {
        let is_row =
            line.starts_with("  ") && line[2..].starts_with(|c: char| c.is_ascii_uppercase());
        if i == last || i == 0 {
            let _ = write!(out, "{BOLD}{line}{RESET}");
        } else if is_row && line.len() > 17 && line.is_char_boundary(17) {
            let _ = write!(out, "{BOLD}{}{RESET}{}", &line[..17], &line[17..]);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}
