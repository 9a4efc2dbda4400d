//! The four views (overview, workers, latency, dataflow) laid out from the panels, for any terminal
//! size down to 80x24.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};

use super::app::{App, View};
use super::header::{self, Status};
use super::state::ConsoleState;
use super::theme::Theme;
use super::{dataflow, exchange, help, hints, latency, progress, throughput, watermark, workers};

/// Width from which the overview shows three columns (with the heat map) instead of two.
const WIDE: u16 = 120;

/// Draws the whole console for `app` into `area`.
pub fn render(app: &App, stopping: bool, area: Rect, buf: &mut Buffer) {
    let state = app.shown();
    let status = if state.finished() {
        Status::Finished
    } else if stopping || app.quit_requested() {
        Status::Stopping
    } else if app.paused() {
        Status::Paused
    } else {
        Status::Running
    };
    let [head, gauge, body, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    let theme = app.theme();
    header::render(state.spec(), status, theme, head, buf);
    progress::render(state, theme, gauge, buf);
    let scale = app.scale_s();
    match app.view() {
        View::Overview => overview(state, theme, scale, body, buf),
        View::Workers => workers_view(state, theme, scale, body, buf),
        View::Latency => latency_view(state, theme, scale, body, buf),
        View::Dataflow => dataflow::render(state, theme, body, buf),
    }
    hints::render(app, keys, buf);
    if app.help() {
        help::render(theme, area, buf);
    }
}

/// The overview: throughput on top; latency, workers, watermark (and the heat map when wide).
pub fn overview(state: &ConsoleState, theme: &Theme, scale_s: u64, area: Rect, buf: &mut Buffer) {
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(area);
    throughput::render(state, theme, scale_s, top, buf);
    let side_rows = workers_rows(state, bottom.height);
    if area.width >= WIDE {
        let [left, mid, right] = Layout::horizontal([
            Constraint::Percentage(36),
            Constraint::Percentage(34),
            Constraint::Percentage(30),
        ])
        .areas(bottom);
        latency::render(state, theme, left, buf);
        let [w, wm] =
            Layout::vertical([Constraint::Length(side_rows), Constraint::Min(0)]).areas(mid);
        workers::render(state, theme, w, buf);
        watermark::render(state, theme, scale_s, wm, buf);
        exchange::render(state, theme, right, buf);
    } else {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(bottom);
        latency::render(state, theme, left, buf);
        let [w, wm] =
            Layout::vertical([Constraint::Length(side_rows), Constraint::Min(0)]).areas(right);
        workers::render(state, theme, w, buf);
        watermark::render(state, theme, scale_s, wm, buf);
    }
}

/// Rows for the workers panel: one per worker plus borders, at most half of `height`.
fn workers_rows(state: &ConsoleState, height: u16) -> u16 {
    let want = state.worker_count().max(1) as u16 + 2;
    want.min(height / 2).max(3)
}

/// The workers view: per-worker throughput and time split, and the exchange heat map.
pub fn workers_view(
    state: &ConsoleState,
    theme: &Theme,
    scale_s: u64,
    area: Rect,
    buf: &mut Buffer,
) {
    let per_worker = (state.worker_count().max(1) as u16 + 2)
        .min(area.height / 3)
        .max(3);
    let [rates, split, heat] = Layout::vertical([
        Constraint::Length(per_worker),
        Constraint::Length(per_worker),
        Constraint::Min(0),
    ])
    .areas(area);
    throughput::render_workers(state, theme, scale_s, rates, buf);
    workers::render(state, theme, split, buf);
    exchange::render(state, theme, heat, buf);
}

/// The latency view: the full histogram, with the watermark panel beside it.
pub fn latency_view(
    state: &ConsoleState,
    theme: &Theme,
    scale_s: u64,
    area: Rect,
    buf: &mut Buffer,
) {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(area);
    latency::render(state, theme, left, buf);
    watermark::render(state, theme, scale_s, right, buf);
}
