//! Event-time progress: the watermark lag (the newest event time produced by the sources
//! minus the job's frontier) now and over time, the late and dropped counts, and warnings.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::fmt;
use super::panel;
use super::state::ConsoleState;
use super::theme::Theme;
use super::throughput;

/// Draws the watermark panel into `area` (with its border).
pub fn render(state: &ConsoleState, theme: &Theme, scale_s: u64, area: Rect, buf: &mut Buffer) {
    let Some(inner) = panel::open(state, theme, " watermark lag, late, dropped ", area, buf) else {
        return;
    };
    let latest = state.latest();
    let lag = match (latest.watermark_ms, state.lag_ms()) {
        (None, _) => Span::styled("not reported by this engine", theme.dim()),
        (Some(i64::MAX), _) => Span::styled("input ended, every window fired", theme.good()),
        (Some(_), None) => Span::styled("source time not reported", theme.dim()),
        (Some(_), Some(ms)) => Span::raw(fmt::millis(ms)),
    };
    let count_style = |n: u64, bad: Style| if n > 0 { bad } else { theme.good() };
    let mut lines = vec![
        Line::from(vec![Span::styled("lag     ", theme.dim()), lag]),
        Line::from(vec![
            Span::styled("late    ", theme.dim()),
            Span::styled(
                fmt::count(latest.late()),
                count_style(latest.late(), theme.warn()),
            ),
            Span::styled("   dropped ", theme.dim()),
            Span::styled(
                fmt::count(latest.dropped()),
                count_style(latest.dropped(), theme.bad()),
            ),
        ]),
    ];
    for w in state.warnings() {
        lines.push(Line::from(Span::styled(format!("! {w}"), theme.warn())));
    }
    let used = (lines.len() as u16).min(inner.height);
    Paragraph::new(lines).render(inner, buf);
    let chart_h = inner.height.saturating_sub(used);
    if chart_h >= 3 && latest.watermark_ms.is_some() {
        let area = Rect::new(inner.x, inner.y + used, inner.width, chart_h);
        let label: fn(f64) -> String = |ms| fmt::millis(ms as i64);
        throughput::chart(state, theme, scale_s, area, buf, label, |s, cols| {
            s.lag_columns(scale_s as f64, cols)
        });
    }
}
