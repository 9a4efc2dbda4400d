//! The dataflow view: the job's operators in build order, drawn as a tree from the sources
//! down, each with its records in and out per second and the share of wall time spent in its
//! own code on its busiest worker (and on every worker when the terminal is wide enough);
//! exchanges with the fill of their fullest ring; and the bottleneck named in one line.
//!
//! The numbers come from [`ConsoleState::dataflow`] (see [`super::operators`]); an engine that
//! reports no operators gets a message saying so, never an invented graph, and a figure an
//! engine does not report is drawn `n/a` with a line saying what is missing (timely's log,
//! behind timely's and differential's operators, has no queue fill, and no record count for
//! an operator with no channel out, such as a sink).

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use weir_workloads::catalog::EngineKind;
use weir_workloads::job::TIMELY_OPERATORS_ENV;

use super::fmt;
use super::operators::{Dataflow, OperatorView, QUEUE_FULL};
use super::panel;
use super::state::ConsoleState;
use super::theme::Theme;

/// How the view shows a figure the engine does not report.
const NA: &str = "n/a";

/// Width of the busy bar, cells.
const BAR: usize = 8;
/// Width of one per-worker busy column (" 100%").
const WORKER_COL: usize = 5;

/// Draws the dataflow view into `area` (with its border).
pub fn render(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let title = Line::from(vec![
        Span::raw(" dataflow "),
        Span::styled("busy = own code, share of wall time ", theme.dim()),
    ]);
    let Some(inner) = panel::open(state, theme, title, area, buf) else {
        return;
    };
    let Some(flow) = state.dataflow() else {
        let engine = state.spec().engine;
        if matches!(engine, EngineKind::Timely | EngineKind::Differential) {
            let text = format!(
                "engine '{engine}' reports no operators yet: they come from timely's log, \
                 published every 100 ms (off when {TIMELY_OPERATORS_ENV}=off)"
            );
            panel::message(theme, &text, inner, buf);
        } else {
            panel::unavailable(
                state,
                theme,
                "per-operator metrics (the workers view shows its per-worker time)",
                inner,
                buf,
            );
        }
        return;
    };
    let query = state.spec().query.name();
    let mut y = inner.y;
    let bottom = inner.bottom();
    let width = inner.width as usize;
    if let Some(b) = &flow.bottleneck {
        let style = if b.holds_back() {
            theme.warn().add_modifier(Modifier::BOLD)
        } else {
            theme.good()
        };
        let label = if b.holds_back() { "bottleneck: " } else { "" };
        buf.set_stringn(
            inner.x,
            y,
            format!("{label}{}", b.line(query)),
            width,
            style,
        );
        y += 1;
    }
    let span = if flow.whole_run {
        format!("rates over the whole run ({})", fmt::secs(flow.span_s))
    } else {
        format!("rates over the last {}", fmt::secs(flow.span_s))
    };
    if y < bottom {
        buf.set_stringn(inner.x, y, span, width, theme.dim());
        y += 1;
    }
    if flow.has_unreported() && y < bottom {
        let note = unreported(state.spec().engine);
        buf.set_stringn(inner.x, y, note, width, theme.dim());
        y += 1;
    }
    let workers = flow.in_operators.len();
    let layout = Columns::fit(width, workers);
    if y < bottom {
        buf.set_stringn(inner.x, y, layout.header(workers), width, theme.title());
        y += 1;
    }
    // Keep the last row for the per-worker summary when there is room.
    let rows_left = bottom.saturating_sub(y) as usize;
    let room = if rows_left > flow.ops.len() {
        flow.ops.len()
    } else {
        rows_left.saturating_sub(1)
    };
    for (i, op) in flow.ops.iter().enumerate().take(room) {
        let culprit = flow
            .bottleneck
            .as_ref()
            .is_some_and(|b| b.holds_back() && b.operator == i);
        row(theme, &layout, i, op, culprit, inner.x, y, buf);
        y += 1;
    }
    if room < flow.ops.len() && y < bottom {
        buf.set_stringn(
            inner.x,
            y,
            format!(
                "... {} more operators (a taller terminal shows them)",
                flow.ops.len() - room
            ),
            width,
            theme.dim(),
        );
        y += 1;
    }
    if y < bottom {
        buf.set_stringn(
            inner.x,
            y,
            summary(state.spec().engine, &flow),
            width,
            theme.dim(),
        );
    }
}

/// Which columns fit: the name takes what the numbers leave.
struct Columns {
    name: usize,
    per_worker: bool,
}

impl Columns {
    /// `#  ` + name + ` in/s` + ` out/s` + bar + `100% w12` + per worker + ` fill`.
    const FIXED: usize = 3 + 9 + 9 + 1 + BAR + 9 + 6;

    fn fit(width: usize, workers: usize) -> Self {
        let name = width.saturating_sub(Self::FIXED + workers * WORKER_COL);
        if name >= 18 && workers > 1 {
            return Self {
                name: name.min(34),
                per_worker: true,
            };
        }
        Self {
            name: width.saturating_sub(Self::FIXED).clamp(8, 34),
            per_worker: false,
        }
    }

    fn header(&self, workers: usize) -> String {
        let mut h = format!(
            "{:<3}{:<name$}{:>9}{:>9} {:<bar$}{:>9}",
            "#",
            "operator",
            "in/s",
            "out/s",
            "busy",
            "(max)",
            name = self.name,
            bar = BAR
        );
        if self.per_worker {
            for w in 0..workers {
                let _ = write!(h, "{:>WORKER_COL$}", format!("w{w}"));
            }
        }
        let _ = write!(h, "{:>6}", "fill");
        h
    }
}

/// The operator's name, indented by its depth under a tree glyph, and what follows it: the
/// exchange marker and its inputs when they are not simply the row above.
fn label(theme: &Theme, i: usize, op: &OperatorView) -> (String, String) {
    let indent = "  ".repeat(op.depth.saturating_sub(1));
    let branch = match (op.depth, theme.ascii()) {
        (0, _) => "",
        (_, true) => "`-",
        (_, false) => "└─",
    };
    let name = format!("{indent}{branch}{}", op.name);
    let mut tail = String::new();
    if op.exchange {
        tail.push_str(if theme.ascii() { " <>" } else { " ⇄" });
    }
    let from_above = op.inputs.len() == 1 && op.inputs[0] + 1 == i;
    if !op.inputs.is_empty() && !from_above {
        let list: Vec<String> = op.inputs.iter().map(|j| format!("#{j}")).collect();
        let _ = write!(
            tail,
            " {} {}",
            if theme.ascii() { "<-" } else { "←" },
            list.join(",")
        );
    }
    (name, tail)
}

/// `name` then `tail` in `width` cells: a name too long is cut (marked `~`) before the tail,
/// so the exchange marker and the inputs stay visible; only a tail that leaves no room for a
/// name is cut itself.
fn fit_label(name: &str, tail: &str, width: usize) -> String {
    let (n, t) = (name.chars().count(), tail.chars().count());
    if n + t <= width {
        return format!("{name}{tail}");
    }
    if t + 2 <= width {
        let kept: String = name.chars().take(width - t - 1).collect();
        return format!("{kept}~{tail}");
    }
    let whole: String = name
        .chars()
        .chain(tail.chars())
        .take(width.saturating_sub(1))
        .collect();
    whole + "~"
}

#[allow(clippy::too_many_arguments)]
fn row(
    theme: &Theme,
    cols: &Columns,
    i: usize,
    op: &OperatorView,
    culprit: bool,
    x: u16,
    y: u16,
    buf: &mut Buffer,
) {
    let name_style = if culprit {
        theme.bad().add_modifier(Modifier::BOLD)
    } else {
        Style::new()
    };
    let mut col = x;
    let mut put = |text: String, style: Style, buf: &mut Buffer| {
        let n = text.chars().count() as u16;
        buf.set_string(col, y, text, style);
        col += n;
    };
    put(format!("{i:<3}"), theme.dim(), buf);
    let (name, tail) = label(theme, i, op);
    let name = fit_label(&name, &tail, cols.name);
    put(format!("{name:<w$}", w = cols.name), name_style, buf);
    let in_s = if op.inputs.is_empty() {
        "-".to_string()
    } else {
        op.in_per_s().map_or_else(|| NA.to_string(), fmt::si)
    };
    let out_s = op.out_per_s().map_or_else(|| NA.to_string(), fmt::si);
    put(format!("{in_s:>9}"), Style::new(), buf);
    put(format!("{out_s:>9}"), Style::new(), buf);
    put(" ".to_string(), Style::new(), buf);
    let (worker, busy) = op.busiest().unwrap_or((0, 0.0));
    let (full, empty) = theme.hbar();
    let filled = ((busy.clamp(0.0, 1.0) * BAR as f64).round() as usize).min(BAR);
    put(full.repeat(filled), busy_style(theme, busy), buf);
    put(empty.repeat(BAR - filled), theme.idle(), buf);
    put(
        format!("{:>5} w{:<2}", fmt::pct(busy), worker),
        busy_style(theme, busy),
        buf,
    );
    if cols.per_worker {
        for w in &op.workers {
            put(
                format!("{:>WORKER_COL$}", fmt::pct(w.busy)),
                busy_style(theme, w.busy),
                buf,
            );
        }
    }
    if let Some(fill) = op.fill() {
        let (_, style) = theme.shade(fill);
        let style = if fill >= QUEUE_FULL {
            style.add_modifier(Modifier::BOLD)
        } else {
            style
        };
        put(format!("{:>6}", fmt::pct(fill.into())), style, buf);
    } else if op.exchange {
        put(format!("{NA:>6}"), theme.dim(), buf);
    }
}

/// The line under the rates saying what `n/a` stands for on `engine`.
fn unreported(engine: EngineKind) -> String {
    match engine {
        EngineKind::Timely | EngineKind::Differential => {
            "n/a: not in timely's log (queue fill; records without a channel)".to_string()
        }
        _ => format!("n/a: engine '{engine}' does not report it"),
    }
}

fn busy_style(theme: &Theme, busy: f64) -> Style {
    if busy >= 0.8 {
        theme.bad()
    } else if busy >= 0.5 {
        theme.warn()
    } else {
        theme.busy()
    }
}

/// Per worker: the share of wall time inside operators (the rest of the busy time is the
/// worker loop itself). Flink runs each vertex's subtask in a thread of its own, so there the
/// shares of one subtask index are summed over threads and may pass 100 %; the line says so.
fn summary(engine: EngineKind, flow: &Dataflow) -> String {
    let parts: Vec<String> = flow
        .in_operators
        .iter()
        .enumerate()
        .map(|(w, share)| format!("w{w} {}", fmt::pct(*share)))
        .collect();
    let what = if engine == EngineKind::Flink {
        "busy summed over vertices (a thread each)"
    } else {
        "time inside operators"
    };
    format!("{what}: {}", parts.join("  "))
}

#[cfg(test)]
mod tests {
    use super::fit_label;

    #[test]
    fn a_long_name_is_cut_before_its_exchange_marker_and_inputs() {
        assert_eq!(fit_label("└─window", " ⇄", 20), "└─window ⇄");
        assert_eq!(
            fit_label("└─q5-count-per-auction -> late", " ⇄", 20),
            "└─q5-count-per-au~ ⇄"
        );
        assert_eq!(fit_label("  └─join", " ⇄ ← #2,#5", 12), " ~ ⇄ ← #2,#5");
        // A tail that leaves no room for a name is cut itself.
        assert_eq!(fit_label("join", " ← #1,#2,#3,#4,#5", 8), "join ← ~");
        for width in 0..30 {
            let cut = fit_label("└─q5-count-per-auction", " ⇄ ← #3", width);
            assert!(cut.chars().count() <= width.max(1), "{width}: {cut}");
        }
    }
}
