//! The key hints bar, always on screen.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::app::App;

/// Draws the hints into one row of `area`.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let theme = app.theme();
    let pause = if app.paused() { "resume" } else { "pause" };
    let items = [
        ("q", "quit".to_string()),
        ("p", pause.to_string()),
        ("Tab", format!("view: {}", app.view().name())),
        ("+/-", format!("scale: {} s", app.scale_s())),
        ("?", "help".to_string()),
    ];
    let mut spans = vec![Span::raw(" ")];
    for (key, what) in items {
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::styled(format!(" {what}   "), theme.dim()));
    }
    Line::from(spans).render(area, buf);
}
