//! The live view of `weir compare` in a terminal: the current run (progress, rate now,
//! throughput over time) above the results of every engine so far, with the verdict lines as
//! they firm up.
//!
//! Keys: `q`, Esc or Ctrl-C stop the comparison (the current run is not counted, the files and
//! the verdict still cover every finished run); `p` freezes the view (never the runs).
//! The current run is drawn by `weir run`'s own panels (`crate::console`: progress,
//! throughput, latency); the terminal guard is the console's too, so it is restored on drop
//! and on a panic.
//!
//! **Layer.** An [`Observer`] of the loop, above it: imports the loop's traits
//! ([`super`]), the data types, [`fmt`](super::fmt), [`plot`] (engine colours) and
//! `crate::console`; nothing in `compare` imports it back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Gauge, Paragraph, Row, Table};
use weir_engine::MetricsSnapshot;
use weir_workloads::job::RunSpec;
use weir_workloads::report::RunReport;

use crate::console::terminal::TerminalGuard;
use crate::console::{ConsoleState, Theme, latency, progress, throughput};

use super::fmt::{fmt_count, fmt_eps, fmt_ns, fmt_si};
use super::plan::RunSlot;
use super::plot;
use super::record::CompareReport;
use super::summary::Summary;
use super::{Flow, Observer};

/// What the live view shows; drawing is a pure function of it.
#[derive(Clone, Debug, Default)]
pub struct LiveState {
    /// `weir compare nexmark q5,q7`.
    pub title: String,
    /// Rounds per engine.
    pub rounds: usize,
    /// The run going on.
    pub slot: Option<RunSlot>,
    /// Events produced so far in the current run.
    pub events: u64,
    /// Events the current run will produce.
    pub events_total: Option<u64>,
    /// Seconds since the current run's clock started.
    pub elapsed_s: f64,
    /// Rate between the last two snapshots, events/s.
    pub rate_now: f64,
    /// The current run as `weir run`'s console sees it (its panels draw from this).
    pub run: Option<ConsoleState>,
    /// Colours on.
    pub color: bool,
    /// ASCII glyphs only.
    pub ascii: bool,
    /// Results so far.
    pub summary: Summary,
    /// The last finished runs, newest last.
    pub log: Vec<String>,
    /// Whether the view is frozen.
    pub paused: bool,
    last_point: (f64, u64),
}

impl LiveState {
    /// An empty view.
    pub fn new(title: String, rounds: usize, color: bool, ascii: bool) -> Self {
        Self {
            title,
            rounds,
            color,
            ascii,
            ..Self::default()
        }
    }

    /// A run of `spec` is starting.
    pub fn start(&mut self, slot: &RunSlot, spec: &RunSpec) {
        self.slot = Some(slot.clone());
        self.run = Some(ConsoleState::new(spec.clone()));
        self.events = 0;
        self.events_total = None;
        self.elapsed_s = 0.0;
        self.rate_now = 0.0;
        self.last_point = (0.0, 0);
    }

    /// A live snapshot of the current run.
    pub fn observe(&mut self, snap: &MetricsSnapshot) {
        let t = snap.elapsed_ns as f64 / 1e9;
        let events = snap.events_in();
        let dt = t - self.last_point.0;
        if dt > 0.0 {
            self.rate_now = events.saturating_sub(self.last_point.1) as f64 / dt;
            self.last_point = (t, events);
        }
        if let Some(run) = &mut self.run {
            run.ingest(snap.clone());
        }
        self.events = events;
        self.events_total = snap.events_total;
        self.elapsed_s = t;
    }

    /// A run ended.
    pub fn finish(
        &mut self,
        slot: &RunSlot,
        result: Result<&RunReport, &str>,
        report: &CompareReport,
    ) {
        let label = slot.label(self.rounds);
        self.log.push(match result {
            Ok(run) => format!(
                "{label}: {} in {:.3} s, digest {} rows {}",
                fmt_eps(run.throughput_eps),
                run.wall_s,
                fmt_count(run.digest.rows),
                &run.digest.hash[..run.digest.hash.len().min(12)]
            ),
            Err(message) => format!("{label}: {message}"),
        });
        if self.log.len() > 50 {
            self.log.remove(0);
        }
        self.summary = report.summary.clone();
    }
}

fn engine_color(engine: &str) -> Color {
    let c = plot::engine_color(engine);
    Color::Rgb(c.0, c.1, c.2)
}

/// Draws the whole view.
pub fn draw(frame: &mut Frame<'_>, s: &LiveState) {
    // The results take what their rows need (at least a few lines); the current run's panels
    // get the rest.
    let result_lines: usize = s
        .summary
        .queries
        .iter()
        .map(|q| q.engines.len() + q.ratios.len().min(6))
        .sum();
    let results_h = (result_lines as u16 + 3).clamp(6, frame.area().height / 2);
    let [header, gauges, spark, results, log] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Min(7),
        Constraint::Length(results_h),
        Constraint::Length(4),
    ])
    .areas(frame.area());

    let keys = if s.paused {
        "PAUSED · p resume · q stop"
    } else {
        "p pause view · q stop"
    };
    let run = s.slot.as_ref().map_or_else(String::new, |slot| {
        format!(
            "run {}/{}: {}",
            slot.index,
            slot.total,
            slot.label(s.rounds)
        )
    });
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(
                format!(" {} ", s.title),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!(" {run}  ")),
            Span::styled(keys, Style::new().fg(Color::DarkGray)),
        ])),
        header,
    );

    let [run_gauge, all_gauge] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(gauges);
    let ratio = s
        .events_total
        .map_or(0.0, |n| (s.events as f64 / n.max(1) as f64).clamp(0.0, 1.0));
    let color = s
        .slot
        .as_ref()
        .map_or(Color::Gray, |slot| engine_color(slot.engine.as_str()));
    if let (Some(run), Some(slot)) = (&s.run, &s.slot) {
        let theme = Theme::new(slot.engine, s.color, s.ascii);
        progress::render(run, &theme, run_gauge, frame.buffer_mut());
    } else {
        frame.render_widget(
            Gauge::default()
                .gauge_style(Style::new().fg(color))
                .ratio(ratio)
                .label(format!("this run: {} events", fmt_count(s.events))),
            run_gauge,
        );
    }
    let (done, total) = s.slot.as_ref().map_or((0, 1), |slot| {
        (slot.index.saturating_sub(1), slot.total.max(1))
    });
    frame.render_widget(
        Gauge::default()
            .gauge_style(Style::new().fg(Color::DarkGray))
            .ratio((done as f64 / total as f64).clamp(0.0, 1.0))
            .label(format!("comparison: {done} of {total} runs done")),
        all_gauge,
    );

    if let (Some(run), Some(slot)) = (&s.run, &s.slot) {
        // The current run, drawn by `weir run`'s own panels.
        let theme = Theme::new(slot.engine, s.color, s.ascii);
        let buf = frame.buffer_mut();
        if spark.width >= 100 {
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)])
                    .areas(spark);
            throughput::render(run, &theme, 30, left, buf);
            latency::render(run, &theme, right, buf);
        } else {
            throughput::render(run, &theme, 30, spark, buf);
        }
    }

    let mut rows = Vec::new();
    let mut verdicts: Vec<Line<'_>> = Vec::new();
    for q in &s.summary.queries {
        for e in &q.engines {
            let digest = if q.digest.agree {
                Span::styled("agree", Style::new().fg(Color::Green))
            } else if q.digest.comparable {
                Span::styled(
                    "DISAGREE",
                    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
                )
            } else {
                Span::raw("n/c")
            };
            rows.push(Row::new(vec![
                Line::raw(q.query.clone()),
                Line::styled(e.engine.clone(), Style::new().fg(engine_color(&e.engine))),
                Line::raw(e.runs.to_string()),
                Line::raw(fmt_eps(e.throughput_eps.median)),
                Line::raw(format!(
                    "{} – {}",
                    fmt_si(e.throughput_eps.min),
                    fmt_si(e.throughput_eps.max)
                )),
                Line::raw(
                    e.latency_ns
                        .map_or_else(|| "n/a".to_string(), |l| fmt_ns(l.p99.median)),
                ),
                Line::from(digest),
            ]));
        }
        for r in &q.ratios {
            verdicts.push(if r.too_close {
                Line::styled(
                    format!(
                        "{}: {} and {} too close to call ({:.2}×)",
                        q.query, r.faster, r.slower, r.ratio.median
                    ),
                    Style::new().fg(Color::Yellow),
                )
            } else {
                Line::raw(format!(
                    "{}: {} {:.2}× ± {:.2} faster than {} ({} vs {})",
                    q.query,
                    r.faster,
                    r.ratio.median,
                    r.plus_minus,
                    r.slower,
                    fmt_eps(r.faster_eps),
                    fmt_eps(r.slower_eps)
                ))
            });
        }
    }
    let [table_area, verdict_area] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(verdicts.len().min(6) as u16),
    ])
    .areas(results);
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(6),
                Constraint::Length(13),
                Constraint::Length(5),
                Constraint::Length(14),
                Constraint::Length(18),
                Constraint::Length(9),
                Constraint::Length(9),
            ],
        )
        .header(
            Row::new([
                "query",
                "engine",
                "runs",
                "throughput",
                "min – max",
                "p99",
                "digest",
            ])
            .style(Style::new().add_modifier(Modifier::BOLD)),
        )
        .block(Block::bordered().title(" results so far (medians) ")),
        table_area,
    );
    frame.render_widget(Paragraph::new(verdicts), verdict_area);

    let skip = s
        .log
        .len()
        .saturating_sub(log.height.saturating_sub(1) as usize);
    frame.render_widget(
        Paragraph::new(
            s.log[skip..]
                .iter()
                .map(|l| Line::styled(l.clone(), Style::new().fg(Color::DarkGray)))
                .collect::<Vec<_>>(),
        )
        .block(Block::new().title(" finished runs ")),
        log,
    );
}

/// The live console: an [`Observer`] that owns the terminal while the comparison runs.
#[derive(Debug)]
pub struct LiveConsole {
    guard: TerminalGuard,
    state: LiveState,
    frame_interval: Duration,
    last_draw: Option<Instant>,
    interrupt: Option<Arc<AtomicBool>>,
}

impl LiveConsole {
    /// Takes over the terminal (alternate screen, raw mode) through the console's guard, which
    /// restores it on drop and on a panic.
    ///
    /// # Errors
    /// When stdout cannot be switched to raw mode (the caller then falls back to lines).
    pub fn new(title: String, rounds: usize, color: bool, ascii: bool) -> std::io::Result<Self> {
        Ok(Self {
            guard: TerminalGuard::enter()?,
            state: LiveState::new(title, rounds, color, ascii),
            frame_interval: Duration::from_millis(100),
            last_draw: None,
            interrupt: None,
        })
    }

    /// Also stops when `flag` is raised (a SIGINT that did not arrive as a key).
    #[must_use]
    pub fn with_interrupt(mut self, flag: Arc<AtomicBool>) -> Self {
        self.interrupt = Some(flag);
        self
    }

    fn redraw(&mut self, force: bool) {
        let due = self
            .last_draw
            .is_none_or(|t| t.elapsed() >= self.frame_interval);
        if (due || force) && !self.state.paused {
            self.last_draw = Some(Instant::now());
            let state = &self.state;
            let _ = self.guard.terminal().draw(|f| draw(f, state));
        }
    }

    fn keys(&mut self) -> Flow {
        if self
            .interrupt
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
        {
            return Flow::Stop;
        }
        while event::poll(Duration::ZERO).unwrap_or(false) {
            let Ok(Event::Key(key)) = event::read() else {
                continue;
            };
            if key.kind != KeyEventKind::Press {
                continue;
            }
            match key.code {
                KeyCode::Char('q') | KeyCode::Esc => return Flow::Stop,
                KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    return Flow::Stop;
                }
                KeyCode::Char('p') => {
                    self.state.paused = !self.state.paused;
                    self.redraw(true);
                }
                _ => {}
            }
        }
        Flow::Continue
    }
}

impl Observer for LiveConsole {
    fn run_started(&mut self, slot: &RunSlot, spec: &RunSpec, _report: &CompareReport) {
        self.state.start(slot, spec);
        self.redraw(true);
    }

    fn snapshot(&mut self, _slot: &RunSlot, snap: &MetricsSnapshot) -> Flow {
        self.state.observe(snap);
        let flow = self.keys();
        self.redraw(false);
        flow
    }

    fn run_finished(
        &mut self,
        slot: &RunSlot,
        result: Result<&RunReport, &str>,
        report: &CompareReport,
    ) {
        self.state.finish(slot, result, report);
        self.redraw(true);
    }
}
