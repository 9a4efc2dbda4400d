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
pub mod exchange;
pub mod fmt;
pub mod header;
pub mod help;
pub mod hints;
pub mod latency;
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watched {
    /// Whether the user stopped the job (`q`, Ctrl-C) before it ended on its own.
    pub stopped_early: bool,
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
    guard.restore()?;
    Ok(Watched {
        stopped_early: stop_sent,
    })
}
