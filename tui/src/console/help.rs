//! The `?` overlay: keys and how to read each panel.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget, Wrap};

use super::theme::Theme;

const KEYS: [(&str, &str); 6] = [
    (
        "q, Ctrl-C",
        "stop the job; windows still fire, the summary is printed",
    ),
    ("p, Space", "pause the view (the job keeps running)"),
    (
        "Tab, S-Tab",
        "next / previous view: overview, workers, latency, dataflow",
    ),
    ("1 2 3 4", "jump to a view"),
    ("+ / -", "shorter / longer chart time scale (5 s .. 10 min)"),
    ("?, h", "this help; Esc or ? closes it"),
];

const READING: [&str; 7] = [
    "throughput: events/s of all sources per column of time; now = last second",
    "latency: from an event's scheduled time to its result at the sink, since start",
    "workers: share of the last second busy / backpressured / held / idle",
    "exchange: fullest ring per producer -> consumer pair; a hot column is a slow consumer",
    "watermark lag: newest event time minus the frontier (event time)",
    "late: records after their window closed (counted, never silently dropped)",
    "dataflow: records/s and own busy time per operator; the busiest one is the bottleneck",
];

/// Draws the help overlay centred in `area`.
pub fn render(theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let width = area.width.saturating_sub(4).min(96);
    let height = area.height.saturating_sub(2).min(18);
    let popup = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    Clear.render(popup, buf);
    let mut lines: Vec<Line<'static>> = KEYS
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!("{k:<11}"), theme.key()),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.extend(READING.iter().map(|l| Line::styled(*l, theme.dim())));
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(theme.block(" help (? or Esc to close) "))
        .render(popup, buf);
}
