//! A watchdog for test matrices whose cases could hang (a deadlock, a source held forever): if
//! the matrix has not finished within two minutes it aborts the process, naming the case that
//! was running, so CI fails loudly instead of stalling.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// Watches one matrix; [`Watchdog::case`] names the case about to run.
pub(crate) struct Watchdog {
    case: Arc<Mutex<String>>,
    finished: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Watchdog {
    /// Starts watching the matrix called `matrix` (the abort message's first words).
    pub(crate) fn start(matrix: &'static str) -> Self {
        let case = Arc::new(Mutex::new(String::new()));
        let finished = Arc::new(AtomicBool::new(false));
        let thread = {
            let (case, finished) = (Arc::clone(&case), Arc::clone(&finished));
            std::thread::spawn(move || {
                for _ in 0..1200 {
                    std::thread::sleep(Duration::from_millis(100));
                    if finished.load(Ordering::Relaxed) {
                        return;
                    }
                }
                let case = case.lock().unwrap_or_else(PoisonError::into_inner);
                eprintln!("{matrix}: case {case} did not finish");
                std::process::abort();
            })
        };
        Self {
            case,
            finished,
            thread,
        }
    }

    /// Names the case about to run.
    pub(crate) fn case(&self, name: String) {
        *self.case.lock().unwrap_or_else(PoisonError::into_inner) = name;
    }

    /// Every case finished: stops watching.
    pub(crate) fn finish(self) {
        self.finished.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}
