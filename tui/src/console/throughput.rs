//! Throughput over time: the total events/s as a bar chart over the chosen time scale, with
//! the current (last second), mean and peak rates; and one sparkline per worker.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::fmt;
use super::panel::{self, split_label};
use super::state::ConsoleState;
use super::theme::Theme;

/// Draws the total throughput chart into `area` (with its border).
pub fn render(state: &ConsoleState, theme: &Theme, scale_s: u64, area: Rect, buf: &mut Buffer) {
    let mut title = vec![Span::raw(" throughput ")];
    if state.has_data() {
        let now = state.current_eps().map_or_else(|| "-".into(), fmt::si);
        let mean = state.mean_eps().map_or_else(|| "-".into(), fmt::si);
        title.push(Span::styled(format!("now {now} ev/s "), theme.accent()));
        title.push(Span::styled(format!("mean {mean} "), theme.dim()));
        title.push(Span::styled(
            format!("peak {} ", fmt::si(state.peak_eps())),
            theme.dim(),
        ));
    }
    let Some(inner) = panel::open(state, theme, Line::from(title), area, buf) else {
        return;
    };
    if state.worker_count() == 0 {
        panel::unavailable(state, theme, "event counts", inner, buf);
        return;
    }
    chart(state, theme, scale_s, inner, buf, fmt::si, |s, cols| {
        s.throughput_columns(scale_s as f64, cols)
    });
}

/// A bar chart with a y-axis gutter and an x-axis row, of values computed per column.
pub(crate) fn chart(
    state: &ConsoleState,
    theme: &Theme,
    scale_s: u64,
    area: Rect,
    buf: &mut Buffer,
    label: fn(f64) -> String,
    columns: impl Fn(&ConsoleState, usize) -> Vec<Option<f64>>,
) {
    const GUTTER: u16 = 7;
    if area.width <= GUTTER + 2 || area.height == 0 {
        return;
    }
    let axis_row = area.height >= 3;
    let plot = Rect {
        x: area.x + GUTTER,
        y: area.y,
        width: area.width - GUTTER,
        height: area.height - u16::from(axis_row),
    };
    let values = columns(state, plot.width as usize);
    let max = values.iter().flatten().copied().fold(0.0_f64, f64::max);
    let top = nice_ceiling(max);
    buf.set_stringn(area.x, area.y, format!("{:>6}", label(top)), 6, theme.dim());
    buf.set_stringn(
        area.x,
        plot.bottom().saturating_sub(1),
        format!("{:>6}", "0"),
        6,
        theme.dim(),
    );
    bars(&values, top, plot, buf, theme, theme.accent());
    if axis_row {
        let (start, end) = state.window(scale_s as f64);
        let y = plot.bottom();
        let left = format!("{} ", fmt::secs(start));
        let right = format!(" {}", fmt::secs(end));
        let mid = format!(" {scale_s} s window ");
        split_label(
            &left,
            &mid,
            &right,
            Rect::new(plot.x, y, plot.width, 1),
            buf,
            theme.dim(),
        );
    }
}

/// Draws `values` as vertical bars scaled so that `top` fills `area`'s height.
pub(crate) fn bars(
    values: &[Option<f64>],
    top: f64,
    area: Rect,
    buf: &mut Buffer,
    theme: &Theme,
    style: Style,
) {
    if top <= 0.0 {
        return;
    }
    let rows = area.height as usize;
    for (i, v) in values.iter().enumerate().take(area.width as usize) {
        let Some(v) = v else { continue };
        let eighths = ((v / top) * (rows * 8) as f64).round() as usize;
        // A non-zero value always shows at least a sliver.
        let eighths = if *v > 0.0 { eighths.max(1) } else { 0 };
        for r in 0..rows {
            let level = eighths.saturating_sub(r * 8).min(8);
            if level == 0 {
                break;
            }
            let y = area.bottom() - 1 - r as u16;
            buf.set_string(area.x + i as u16, y, theme.bar(level), style);
        }
    }
}

/// The smallest of 1, 2, 2.5, 5 x 10^k at or above `v` (a readable axis maximum).
pub(crate) fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 0.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|c| *c >= v * 0.999_999)
        .unwrap_or(10.0 * mag)
}

/// One line per worker: a sparkline of its rate over the time scale and its current rate.
pub fn render_workers(
    state: &ConsoleState,
    theme: &Theme,
    scale_s: u64,
    area: Rect,
    buf: &mut Buffer,
) {
    let Some(inner) = panel::open(state, theme, " per-worker throughput ", area, buf) else {
        return;
    };
    let workers = state.worker_count();
    if workers == 0 {
        panel::unavailable(state, theme, "workers", inner, buf);
        return;
    }
    const LABEL: u16 = 5;
    const RATE: u16 = 13;
    if inner.width <= LABEL + RATE + 2 {
        return;
    }
    let spark_w = inner.width - LABEL - RATE;
    let rows = inner.height as usize;
    let shown = if workers > rows {
        rows.saturating_sub(1)
    } else {
        workers
    };
    let all: Vec<Vec<Option<f64>>> = (0..workers)
        .map(|w| state.worker_columns(w, scale_s as f64, spark_w as usize))
        .collect();
    // One scale for every worker, so their bars compare.
    let top = all
        .iter()
        .flatten()
        .flatten()
        .copied()
        .fold(0.0_f64, f64::max);
    let mean = (0..workers)
        .filter_map(|w| state.worker_current_eps(w))
        .sum::<f64>()
        / workers as f64;
    for (w, values) in all.iter().enumerate().take(shown) {
        let y = inner.y + w as u16;
        buf.set_string(inner.x, y, format!("w{w:<3}"), theme.dim());
        bars(
            values,
            top,
            Rect::new(inner.x + LABEL, y, spark_w, 1),
            buf,
            theme,
            theme.accent(),
        );
        let eps = state.worker_current_eps(w);
        let rate = eps.map_or_else(|| "-".into(), fmt::rate);
        // A worker below half the mean rate is the skew the warnings name.
        let skewed = eps.is_some_and(|r| mean > 0.0 && r < 0.5 * mean);
        buf.set_stringn(
            inner.x + LABEL + spark_w,
            y,
            format!(" {rate:>12}"),
            RATE as usize,
            if skewed { theme.warn() } else { Style::new() },
        );
    }
    if shown < workers {
        let y = inner.y + shown as u16;
        buf.set_string(
            inner.x,
            y,
            format!("... {} more workers (widen the terminal)", workers - shown),
            theme.dim(),
        );
    }
}
