//! The header line: the run's settings (workload, query, engine, workers, source, rate,
//! length) and its status (running, paused, stopping, finished).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use weir_workloads::job::{EventFormat, RunLength, RunSpec};

use super::fmt;
use super::theme::Theme;

/// What the job is doing, as the header shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Events are flowing.
    Running,
    /// The view is frozen (`p`); the job keeps running.
    Paused,
    /// A stop was requested; windows are still firing.
    Stopping,
    /// The job finished.
    Finished,
}

/// The settings of a run as "name value" strings, in display order; `short` drops the names
/// that the values make obvious (for narrow terminals).
pub fn settings(spec: &RunSpec, short: bool) -> Vec<String> {
    let rate = spec
        .rate
        .map_or_else(|| "max".to_string(), |r| fmt::si(r as f64));
    let length = match spec.length {
        RunLength::Events(n) => format!("{} events", fmt::si(n as f64)),
        RunLength::Duration(d) => format!("{} s", d.as_secs_f64()),
    };
    vec![
        format!("{} {}", spec.workload(), spec.query),
        if short {
            spec.engine.to_string()
        } else {
            format!("engine {}", spec.engine)
        },
        format!(
            "{} worker{}",
            spec.workers,
            if spec.workers == 1 { "" } else { "s" }
        ),
        match (short, spec.format) {
            (true, EventFormat::Records) => spec.source.to_string(),
            (true, EventFormat::Json) => format!("{} json", spec.source),
            (false, EventFormat::Records) => format!("source {}", spec.source),
            (false, EventFormat::Json) => format!("source {}, json lines", spec.source),
        },
        format!("rate {rate}"),
        length,
    ]
}

/// Draws the header into one row of `area`.
pub fn render(spec: &RunSpec, status: Status, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let (text, style) = match status {
        Status::Running => ("RUNNING", theme.good()),
        Status::Paused => ("PAUSED (view only)", theme.warn()),
        Status::Stopping => ("STOPPING", theme.warn()),
        Status::Finished => ("FINISHED", theme.title()),
    };
    let status_w = text.len() as u16 + 2;
    let mut spans = vec![Span::styled(
        " weir ",
        theme.title().add_modifier(Modifier::REVERSED),
    )];
    let mut used = 6usize;
    let budget = area.width.saturating_sub(status_w + 1) as usize;
    let sep_w = theme.sep().chars().count();
    let full_w: usize = settings(spec, false)
        .iter()
        .map(|item| item.chars().count() + sep_w)
        .sum();
    let short = used + full_w > budget;
    for (i, item) in settings(spec, short).into_iter().enumerate() {
        let piece = if i == 0 {
            format!(" {item}")
        } else {
            format!("{}{item}", theme.sep())
        };
        let n = piece.chars().count();
        if used + n > budget {
            break;
        }
        used += n;
        spans.push(Span::styled(
            piece,
            if i == 0 { theme.title() } else { Style::new() },
        ));
    }
    Line::from(spans).render(area, buf);
    if area.width > status_w {
        buf.set_string(
            area.right() - status_w + 1,
            area.y,
            text,
            style.add_modifier(Modifier::BOLD),
        );
    }
}
