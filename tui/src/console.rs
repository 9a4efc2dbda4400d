//! The live console of `weir run` (and the panels `weir compare` reuses).
//!
//! Data flows one way, as in tokio-console: the engine's workers publish
//! [`weir_engine::MetricsSnapshot`]s into the job's `Collector`; the UI loop on the main thread
//! reads the latest one every frame (`--fps`, default 10) into an [`App`] (a
//! [`ConsoleState`] with a history ring, plus view, time scale, pause and help); views draw
//! the state with one pure function per panel (`render(state, theme, area, buffer)`), so the
//! panels can be drawn from fixed snapshots in tests and from several jobs by `weir compare`.
//! Keys are pure functions on [`App`]. Drawing never runs on a worker thread.
//!
//! The terminal is restored on every exit path: normal end, `q`, Ctrl-C, an error (the
//! [`terminal`] guard's `Drop`), and a panic on the UI thread (a panic hook that restores,
//! then chains to the previous hook). A panic on a worker thread surfaces as the job's error:
//! the loop sees the job end, restores the terminal, and the error is printed after it.

pub mod app;
pub mod dataflow;
pub mod exchange;
pub mod fmt;
pub mod header;
pub mod help;
pub mod hints;
pub mod latency;
pub mod operators;
mod panel;
pub mod progress;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod throughput;
pub mod view;
pub mod watermark;
pub mod workers;

use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyEventKind};
use weir_workloads::job::{Job, RunSpec};

pub use self::app::{App, KeyOutcome, View};
pub use self::state::ConsoleState;
pub use self::theme::Theme;

/// Default frames per second of the console.
pub const DEFAULT_FPS: u32 = 10;

/// How the console was left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watched {
    /// Whether the user stopped the job (`q`, Ctrl-C) before it ended on its own.
    pub stopped_early: bool,
    /// The last frame as plain text lines (trailing spaces trimmed), to leave on the normal
    /// screen above the summary.
    pub final_frame: Vec<String>,
}

fn is_ctrl_c(key: &event::KeyEvent) -> bool {
    key.modifiers.contains(event::KeyModifiers::CONTROL)
        && matches!(key.code, event::KeyCode::Char('c' | 'C'))
}

/// A buffer's text, one string per row, without styles and with trailing spaces trimmed.
pub fn buffer_lines(buf: &ratatui::buffer::Buffer) -> Vec<String> {
    let area = buf.area;
    (area.top()..area.bottom())
        .map(|y| {
            let mut line = String::new();
            for x in area.left()..area.right() {
                line.push_str(buf[(x, y)].symbol());
            }
            line.trim_end().to_string()
        })
        .collect()
}

/// Shows the console for `job` until it ends (or the user leaves twice), then restores the
/// terminal. `interrupted` reports a SIGINT received outside the terminal's raw mode.
///
/// # Errors
/// Terminal I/O failures (the terminal is restored before returning).
pub fn watch(
    job: &Job,
    spec: &RunSpec,
    theme: Theme,
    fps: u32,
    interrupted: &dyn Fn() -> bool,
) -> std::io::Result<Watched> {
    let mut guard = terminal::TerminalGuard::enter()?;
    let mut app = App::new(spec.clone(), theme);
    let frame = Duration::from_secs_f64(1.0 / f64::from(fps.max(1)));
    let mut stop_sent = false;
    let mut leave = false;
    loop {
        app.ingest(job.collector.latest());
        if interrupted() {
            app.request_quit();
        }
        if app.quit_requested() && !stop_sent {
            job.stop.raise();
            stop_sent = true;
        }
        let finished = job.is_finished();
        if finished {
            // The driver returned: its last snapshot is final.
            app.ingest(job.collector.latest());
        }
        guard
            .terminal()
            .draw(|f| view::render(&app, stop_sent, f.area(), f.buffer_mut()))?;
        if finished || leave {
            break;
        }
        let deadline = Instant::now() + frame;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if !event::poll(left)? {
                break;
            }
            match event::read()? {
                Event::Key(key) if key.kind != KeyEventKind::Release => {
                    if is_ctrl_c(&key) {
                        // Raw mode turns Ctrl-C into a key: it counts as SIGINT (a second one
                        // exits at once).
                        crate::signals::interrupt_key();
                    }
                    match app.handle_key(key) {
                        KeyOutcome::Quit if stop_sent => leave = true,
                        KeyOutcome::Ignored => continue,
                        KeyOutcome::Quit | KeyOutcome::Redraw => {}
                    }
                    break;
                }
                Event::Resize(..) => break,
                _ => {}
            }
        }
    }
    // Draw the final state once more to keep it (the alternate screen is about to go).
    let completed = guard
        .terminal()
        .draw(|f| view::render(&app, stop_sent, f.area(), f.buffer_mut()))?;
    let final_frame = buffer_lines(completed.buffer);
    guard.restore()?;
    Ok(Watched {
        stopped_early: stop_sent,
        final_frame,
    })
}
