//! Stopping on SIGINT and SIGTERM: the first asks for a graceful stop, the second ends weir at
//! once.
//!
//! [`install`] starts one thread (`weir-signals`) that receives SIGINT and SIGTERM through
//! `signal-hook`'s self-pipe (nothing runs in the signal handler itself). The first signal is
//! recorded ([`received`]); `weir run` and `weir compare` poll it, raise the job's stop
//! signal (the input ends, open windows fire, the report is still made), print the summary and
//! write their reports, then exit with `128 + signal` ([`exit_code`]: 130 for SIGINT, 143 for
//! SIGTERM). A second signal (or a second Ctrl-C typed into the console, which reads keys in
//! raw mode and reports them through [`interrupt_key`]) means the user will not wait: the
//! thread restores the terminal and exits at once with the first signal's code. Nothing weir
//! started outlives that exit: the Flink JVM watches its stdin, which closes with weir.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::{Arc, Once, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::console::terminal;

/// The first stop signal received (0: none).
static FIRST: AtomicI32 = AtomicI32::new(0);
/// Stop requests so far (signals and Ctrl-C keys).
static COUNT: AtomicU32 = AtomicU32::new(0);
static INSTALL: Once = Once::new();
static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// A stop request from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// SIGINT, or Ctrl-C in the console.
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl Stop {
    /// The process exit code for a run ended by this request: `128 + signal number`.
    pub fn exit_code(self) -> u8 {
        match self {
            Stop::Interrupt => 130,
            Stop::Terminate => 143,
        }
    }

    /// The signal's name.
    pub fn name(self) -> &'static str {
        match self {
            Stop::Interrupt => "SIGINT",
            Stop::Terminate => "SIGTERM",
        }
    }

    fn of(signal: i32) -> Option<Self> {
        match signal {
            SIGINT => Some(Stop::Interrupt),
            SIGTERM => Some(Stop::Terminate),
            _ => None,
        }
    }
}

/// Starts receiving SIGINT and SIGTERM (once per process). Until this is called they keep
/// their default action (ending the process).
///
/// # Errors
/// When the handlers cannot be registered; the caller says that stopping will be abrupt.
pub fn install() -> std::io::Result<()> {
    let mut result = Ok(());
    INSTALL.call_once(|| {
        result = Signals::new([SIGINT, SIGTERM]).and_then(|mut signals| {
            std::thread::Builder::new()
                .name("weir-signals".into())
                .spawn(move || {
                    for signal in signals.forever() {
                        request(signal);
                    }
                })
                .map(|_| ())
        });
    });
    result
}

/// Ctrl-C typed into the console (raw mode turns it into a key, not a signal): the same as
/// SIGINT.
pub fn interrupt_key() {
    request(SIGINT);
}

fn request(signal: i32) {
    let _ = FIRST.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
    stop_flag().store(true, Ordering::SeqCst);
    let n = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
    if n >= 2 {
        end_now();
    }
}

/// The second request: restore the terminal and exit without waiting for the job.
fn end_now() -> ! {
    terminal::restore_now();
    let stop = received().unwrap_or(Stop::Interrupt);
    eprintln!(
        "\n{} again: exiting at once, without waiting for the job or printing its summary",
        stop.name()
    );
    std::process::exit(i32::from(stop.exit_code()));
}

/// The first stop request received, if any.
pub fn received() -> Option<Stop> {
    Stop::of(FIRST.load(Ordering::SeqCst))
}

/// Whether a stop was requested.
pub fn stop_requested() -> bool {
    received().is_some()
}

/// The exit code of a run ended by a stop request, if one came.
pub fn exit_code() -> Option<u8> {
    received().map(Stop::exit_code)
}

/// A flag raised with the first stop request, for code that polls an `AtomicBool`.
pub fn stop_flag() -> Arc<AtomicBool> {
    Arc::clone(FLAG.get_or_init(|| Arc::new(AtomicBool::new(stop_requested()))))
}

/// The line printed when the first request arrives outside the console.
pub fn stopping_line(stop: Stop) -> String {
    let hint = if std::io::stdin().is_terminal() {
        "; press Ctrl-C again to exit at once"
    } else {
        ""
    };
    format!(
        "{}: stopping; the job finishes its open windows, then the summary follows{hint}",
        stop.name()
    )
}

#[cfg(test)]
mod tests {
    use super::Stop;

    #[test]
    fn exit_codes_are_128_plus_the_signal() {
        assert_eq!(Stop::Interrupt.exit_code(), 128 + 2);
        assert_eq!(Stop::Terminate.exit_code(), 128 + 15);
        assert_eq!(Stop::of(2), Some(Stop::Interrupt));
        assert_eq!(Stop::of(15), Some(Stop::Terminate));
        assert_eq!(Stop::of(1), None);
    }
}
