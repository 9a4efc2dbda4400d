//! Progress without a terminal: lines on stderr (stdout stays for the verdict).
//!
//! One line when a run starts, one about every `interval` while it runs (events so far and the
//! current rate), one when it ends (its throughput and digest), then the query's results so far.
//!
//! **Layer.** An [`Observer`] of the loop, above it: imports the loop's traits ([`super`]),
//! [`plan`](super::plan), [`record`](super::record) and [`fmt`](super::fmt); nothing in
//! `compare` imports it back.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use weir_engine::MetricsSnapshot;
use weir_workloads::report::RunReport;

use super::fmt::{fmt_count, fmt_eps};
use super::plan::RunSlot;
use super::record::CompareReport;
use super::{Flow, Observer};

/// Writes progress lines to a writer (stderr in the CLI).
#[derive(Debug)]
pub struct LineProgress<W> {
    out: W,
    rounds: usize,
    interval: Duration,
    last_line: Option<Instant>,
    last_point: (f64, u64),
    interrupt: Arc<AtomicBool>,
}

impl<W: std::io::Write> LineProgress<W> {
    /// Progress lines into `out` every `interval`; the comparison stops when `interrupt` is
    /// raised (Ctrl-C).
    pub fn new(out: W, rounds: usize, interval: Duration, interrupt: Arc<AtomicBool>) -> Self {
        Self {
            out,
            rounds,
            interval,
            last_line: None,
            last_point: (0.0, 0),
            interrupt,
        }
    }

    /// The writer back (tests read what was written).
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// One line per engine of `query`: median throughput so far and how many runs it rests on.
pub fn so_far(report: &CompareReport, query: &str) -> Option<String> {
    let q = report.summary.queries.iter().find(|q| q.query == query)?;
    let mut line = format!("  so far on {query}:");
    for (i, e) in q.engines.iter().enumerate() {
        let _ = write!(
            line,
            "{} {} {} ({} run{})",
            if i == 0 { "" } else { " ·" },
            e.engine,
            fmt_eps(e.throughput_eps.median),
            e.runs,
            if e.runs == 1 { "" } else { "s" }
        );
    }
    if !q.digest.agree && q.digest.comparable {
        line.push_str(" · DIGESTS DISAGREE");
    }
    Some(line)
}

impl<W: std::io::Write> Observer for LineProgress<W> {
    fn run_started(
        &mut self,
        slot: &RunSlot,
        _spec: &weir_workloads::job::RunSpec,
        _report: &CompareReport,
    ) {
        self.last_line = Some(Instant::now());
        self.last_point = (0.0, 0);
        let _ = writeln!(
            self.out,
            "[{}/{}] {} ...",
            slot.index,
            slot.total,
            slot.label(self.rounds)
        );
    }

    fn snapshot(&mut self, _slot: &RunSlot, snap: &MetricsSnapshot) -> Flow {
        if self.interrupt.load(Ordering::Relaxed) {
            return Flow::Stop;
        }
        let due = self.last_line.is_none_or(|t| t.elapsed() >= self.interval);
        if due && !snap.finished {
            self.last_line = Some(Instant::now());
            let t = snap.elapsed_ns as f64 / 1e9;
            let events = snap.events_in();
            let dt = t - self.last_point.0;
            let rate = if dt > 0.0 {
                events.saturating_sub(self.last_point.1) as f64 / dt
            } else {
                0.0
            };
            self.last_point = (t, events);
            let total = snap
                .events_total
                .map_or_else(String::new, |n| format!(" of {}", fmt_count(n)));
            let _ = writeln!(
                self.out,
                "      {t:6.1} s  {}{total} events  {}",
                fmt_count(events),
                fmt_eps(rate)
            );
        }
        Flow::Continue
    }

    fn run_finished(
        &mut self,
        slot: &RunSlot,
        result: Result<&RunReport, &str>,
        report: &CompareReport,
    ) {
        let label = slot.label(self.rounds);
        let _ = match result {
            Ok(run) => writeln!(
                self.out,
                "[{}/{}] {label}: {} in {:.3} s (+{:.3} s start-up), digest {} rows {}",
                slot.index,
                slot.total,
                fmt_eps(run.throughput_eps),
                run.wall_s,
                run.startup_s,
                fmt_count(run.digest.rows),
                &run.digest.hash[..run.digest.hash.len().min(12)]
            ),
            Err(message) => writeln!(
                self.out,
                "[{}/{}] {label}: {message}",
                slot.index, slot.total
            ),
        };
        if let Some(line) = so_far(report, &slot.query) {
            let _ = writeln!(self.out, "{line}");
        }
        let _ = self.out.flush();
    }
}
