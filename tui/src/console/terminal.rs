//! Entering and restoring the terminal (raw mode, alternate screen, hidden cursor).
//!
//! [`TerminalGuard`] restores on `restore()` and on `Drop` (errors, early returns). weir's
//! panic hook (the `panics` module above this one, installed by every command before it can
//! enter the console) restores the terminal before the panic message is printed when the panic happens on the thread that owns
//! the console or when Rust is about to abort. Panics on other threads (engine workers) while
//! the console is up are held back here ([`hold_panic`]) and printed after the terminal is
//! restored (they would be lost on the alternate screen); the job reports them as its error.

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread::ThreadId;

use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

static ACTIVE: AtomicBool = AtomicBool::new(false);
static OWNER: Mutex<Option<ThreadId>> = Mutex::new(None);
static HELD_PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The console's terminal; restores it when dropped.
#[derive(Debug)]
pub struct TerminalGuard {
    terminal: Terminal<CrosstermBackend<Stdout>>,
    restored: bool,
}

impl TerminalGuard {
    /// Switches stdout to raw mode on the alternate screen.
    ///
    /// # Errors
    /// When stdout is not a terminal or cannot be switched (then nothing is left changed).
    pub fn enter() -> io::Result<Self> {
        *OWNER.lock().unwrap_or_else(PoisonError::into_inner) = Some(std::thread::current().id());
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let setup = execute!(io::stdout(), EnterAlternateScreen, Hide)
            .and_then(|()| Terminal::new(CrosstermBackend::new(io::stdout())));
        match setup {
            Ok(terminal) => Ok(Self {
                terminal,
                restored: false,
            }),
            Err(e) => {
                let _ = restore_terminal();
                Err(e)
            }
        }
    }

    /// The ratatui terminal to draw on.
    pub fn terminal(&mut self) -> &mut Terminal<CrosstermBackend<Stdout>> {
        &mut self.terminal
    }

    /// Leaves the alternate screen and raw mode, then prints panics held back meanwhile.
    ///
    /// # Errors
    /// When the terminal cannot be switched back.
    pub fn restore(&mut self) -> io::Result<()> {
        if self.restored {
            return Ok(());
        }
        self.restored = true;
        restore_terminal()
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = self.restore();
    }
}

/// Whether the console currently owns the terminal (raw mode, alternate screen).
pub fn is_active() -> bool {
    ACTIVE.load(Ordering::SeqCst)
}

/// Restores the terminal if the console set it up; idempotent.
fn restore_terminal() -> io::Result<()> {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return Ok(());
    }
    let raw = disable_raw_mode();
    let screen = execute!(io::stdout(), LeaveAlternateScreen, Show);
    let _ = io::stdout().flush();
    let held = std::mem::take(&mut *HELD_PANICS.lock().unwrap_or_else(PoisonError::into_inner));
    for message in held {
        eprintln!("{message}");
    }
    raw.and(screen)
}

/// Whether the calling thread is the one that owns the console.
pub fn on_owner_thread() -> bool {
    *OWNER.lock().unwrap_or_else(PoisonError::into_inner) == Some(std::thread::current().id())
}

/// Keeps a panic message to print once the terminal is restored.
pub fn hold_panic(message: String) {
    HELD_PANICS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(message);
}

/// Restores the terminal now if the console set it up (for paths that exit the process
/// without unwinding: a second Ctrl-C, a fatal panic). Idempotent; errors are ignored, there
/// is nothing left to do about them.
pub fn restore_now() {
    let _ = restore_terminal();
}
