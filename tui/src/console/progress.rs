//! The progress gauge: events done of the total (or time of the duration), elapsed, ETA.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use weir_workloads::job::RunLength;

use super::fmt;
use super::state::ConsoleState;
use super::theme::Theme;

/// The gauge's text: "45% 4.50M of 10.0M events  elapsed 4.5 s  ETA 5.5 s", and for an
/// updating query its table: "  table 12,345 rows, 450k changes/s".
pub fn text(state: &ConsoleState) -> String {
    let p = state.progress();
    let done = fmt::si(state.events() as f64);
    let what = match (state.events_total(), state.spec().length) {
        (Some(total), _) => format!("{done} of {} events", fmt::si(total as f64)),
        (None, RunLength::Duration(d)) => {
            format!(
                "{done} events, {} of {}",
                fmt::secs(state.elapsed_s()),
                fmt::secs(d.as_secs_f64())
            )
        }
        (None, RunLength::Events(_)) => format!("{done} events"),
    };
    let pct = p
        .fraction
        .map_or_else(String::new, |f| format!("{:>3} ", fmt::pct(f)));
    let eta = if state.finished() {
        "done".to_string()
    } else {
        format!("ETA {}", p.eta_s.map_or_else(|| "-".to_string(), fmt::secs))
    };
    let table = state.table().map_or_else(String::new, |(rows, rate)| {
        let rate = rate.map_or_else(|| "-".to_string(), fmt::si);
        format!(
            "  table {} rows, {rate} changes/s",
            fmt::count(rows.max(0) as u64)
        )
    });
    format!(
        "{pct}{what}  elapsed {}  {eta}{table}",
        fmt::secs(state.elapsed_s())
    )
}

/// Draws the gauge into one row of `area`: a bar, then the text.
pub fn render(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let text = text(state);
    let text_w = text.chars().count() as u16 + 1;
    let bar_w = area.width.saturating_sub(text_w + 2).min(area.width / 2);
    let (full, empty) = theme.hbar();
    let x = area.x + 1;
    if bar_w >= 8 {
        let fraction = state.progress().fraction.unwrap_or(0.0);
        let filled = (fraction * f64::from(bar_w)).round() as usize;
        buf.set_string(x, area.y, full.repeat(filled), theme.accent());
        buf.set_string(
            x + filled as u16,
            area.y,
            empty.repeat(bar_w as usize - filled),
            theme.dim(),
        );
        buf.set_stringn(
            x + bar_w + 1,
            area.y,
            &text,
            (area.width.saturating_sub(bar_w + 2)) as usize,
            Style::new(),
        );
    } else {
        buf.set_stringn(
            x,
            area.y,
            &text,
            area.width.saturating_sub(1) as usize,
            Style::new(),
        );
    }
}
