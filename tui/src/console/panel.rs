//! Small drawing helpers shared by the panels.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::state::ConsoleState;
use super::theme::Theme;

/// A dim, centred message filling `area` (for panels with nothing to draw).
pub(crate) fn message(theme: &Theme, text: &str, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let y = area.y + (area.height - 1) / 2;
    Paragraph::new(text.to_string())
        .style(theme.dim())
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true })
        .render(Rect::new(area.x, y, area.width, area.bottom() - y), buf);
}

/// Writes `left` flush left, `right` flush right and `mid` centred on one row, dropping the
/// middle (then the right) when the row is too narrow.
pub(crate) fn split_label(
    left: &str,
    mid: &str,
    right: &str,
    area: Rect,
    buf: &mut Buffer,
    style: Style,
) {
    let width = area.width as usize;
    let (left_n, mid_n, right_n) = (
        left.chars().count(),
        mid.chars().count(),
        right.chars().count(),
    );
    buf.set_stringn(area.x, area.y, left, width, style);
    if left_n + right_n <= width {
        buf.set_string(area.x + (width - right_n) as u16, area.y, right, style);
    }
    if left_n + mid_n + right_n <= width {
        let start = (width - mid_n) / 2;
        if start >= left_n && start + mid_n <= width - right_n {
            buf.set_string(area.x + start as u16, area.y, mid, style);
        }
    }
}

/// Draws a bordered panel titled `title` and returns its inner area, or `None` when there is no
/// room to draw into or no metrics snapshot has arrived yet (the panel then says it is waiting).
pub(crate) fn open<'a>(
    state: &ConsoleState,
    theme: &Theme,
    title: impl Into<ratatui::text::Line<'a>>,
    area: Rect,
    buf: &mut Buffer,
) -> Option<Rect> {
    let block = theme.block(title);
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.is_empty() {
        return None;
    }
    if !state.has_data() {
        message(
            theme,
            "waiting for the first metrics snapshot...",
            inner,
            buf,
        );
        return None;
    }
    Some(inner)
}

/// Says, inside a panel, that the run's engine does not report `what`.
pub(crate) fn unavailable(
    state: &ConsoleState,
    theme: &Theme,
    what: &str,
    inner: Rect,
    buf: &mut Buffer,
) {
    let engine = state.spec().engine;
    message(
        theme,
        &format!("engine '{engine}' does not report {what}"),
        inner,
        buf,
    );
}
