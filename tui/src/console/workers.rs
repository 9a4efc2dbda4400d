//! Per-worker time split: busy / backpressured / held / idle over the last second (over the
//! whole run once it finished), as a stacked bar and percentages. Held is time a worker had
//! nothing else to do while its source waited for a slower peer (source alignment).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::fmt;
use super::panel;
use super::state::ConsoleState;
use super::theme::Theme;

/// Draws the workers panel into `area` (with its border).
pub fn render(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let [busy_g, bp_g, held_g, idle_g] = theme.split_glyphs();
    // Held time (weir's source alignment) gets its segment, legend and number only in a run
    // where some worker was held; the legend then shortens "backpressured" to fit the panel.
    let held_shown = state.any_worker_held();
    let bp_label = if held_shown {
        "backpr"
    } else {
        "backpressured"
    };
    let mut legend = vec![
        Span::raw(" workers "),
        Span::styled(format!("{busy_g} busy "), theme.busy()),
        Span::styled(format!("{bp_g} {bp_label} "), theme.backpressured()),
    ];
    if held_shown {
        legend.push(Span::styled(format!("{held_g} held "), theme.held()));
    }
    legend.push(Span::styled(format!("{idle_g} idle "), theme.idle()));
    let title = Line::from(legend);
    let Some(inner) = panel::open(state, theme, title, area, buf) else {
        return;
    };
    let workers = state.worker_count();
    if workers == 0 {
        panel::unavailable(state, theme, "workers", inner, buf);
        return;
    }
    const LABEL: usize = 4;
    // " 80%   5%  15%" (and a held share before idle) with room.
    let numbers = if held_shown { 22 } else { 17 };
    let width = inner.width as usize;
    if width < LABEL + numbers + 4 {
        return;
    }
    let bar_w = width - LABEL - numbers;
    let rows = inner.height as usize;
    let shown = if workers > rows {
        rows.saturating_sub(1)
    } else {
        workers
    };
    for w in 0..shown {
        let y = inner.y + w as u16;
        buf.set_string(inner.x, y, format!("w{w:<3}"), theme.dim());
        let x = inner.x + LABEL as u16;
        let Some(split) = state.worker_split(w) else {
            buf.set_string(x, y, "no time reported yet", theme.dim());
            continue;
        };
        // Segment ends rounded from cumulative shares, so the segments fill the bar exactly.
        let end = |share: f64| (share * bar_w as f64).round() as usize;
        let busy = end(split.busy);
        let bp = end(split.busy + split.backpressured) - busy;
        let held = end(split.busy + split.backpressured + split.held) - busy - bp;
        let idle = bar_w.saturating_sub(busy + bp + held);
        let mut col = x;
        for (n, glyph, style) in [
            (busy, busy_g, theme.busy()),
            (bp, bp_g, theme.backpressured()),
            (held, held_g, theme.held()),
            (idle, idle_g, theme.idle()),
        ] {
            buf.set_string(col, y, glyph.repeat(n), style);
            col += n as u16;
        }
        let bp_style = if split.backpressured >= 0.2 {
            theme.warn()
        } else {
            Style::new()
        };
        let nx = inner.x + (LABEL + bar_w) as u16;
        buf.set_string(nx, y, format!(" {:>4}", fmt::pct(split.busy)), theme.busy());
        buf.set_string(
            nx + 5,
            y,
            format!(" {:>4}", fmt::pct(split.backpressured)),
            bp_style,
        );
        let mut at = nx + 10;
        if held_shown {
            buf.set_string(at, y, format!(" {:>4}", fmt::pct(split.held)), theme.held());
            at += 5;
        }
        buf.set_string(at, y, format!(" {:>4}", fmt::pct(split.idle)), theme.dim());
    }
    if shown < workers {
        buf.set_string(
            inner.x,
            inner.y + shown as u16,
            format!("... {} more (the workers view lists all)", workers - shown),
            theme.dim(),
        );
    }
}
