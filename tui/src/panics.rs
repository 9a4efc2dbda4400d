//! weir's one panic hook: keeps the terminal usable and turns known fatal panics into reports.
//!
//! Installed once ([`install`], by every command before anything else runs) and
//! chained to the hook that was there before (Rust's default, which prints the message):
//!
//! - **A timely cluster peer died.** timely's network threads panic when the connection to
//!   another process breaks, and the panic then cascades into the workers and, while unwinding
//!   through timely's channels, into an abort (exit 134 with timely's message only). When
//!   `weir run` runs a cluster process ([`watch_cluster`]), the hook recognises that first
//!   panic ([`weir_workloads::cluster::lost_peer`]), restores the terminal, prints which
//!   process died and where, and exits with status 1 before the cascade starts.
//! - **A panic while the console is up.** On the console's own thread, or when Rust is about
//!   to abort (a panic while unwinding, whose message Rust fixes), the terminal is restored
//!   first (raw mode off, alternate screen left, cursor shown) and the panic printed. On other
//!   threads (engine workers) the message is held by the terminal module and printed once the
//!   console has restored the terminal; the job reports those panics as its error.

use std::sync::{Once, OnceLock};

use weir_workloads::cluster::{TimelyCluster, lost_peer};
use weir_workloads::job::panic_message;

use crate::console::terminal;

/// Exit status of a process whose cluster peer died.
pub const EXIT_PEER_LOST: i32 = 1;

/// Messages of the panics after which Rust aborts instead of unwinding.
const ABORTING: &[&str] = &[
    "panic in a destructor during cleanup",
    "panic in a function that cannot unwind",
];

static INSTALL: Once = Once::new();
static CLUSTER: OnceLock<TimelyCluster> = OnceLock::new();

/// Installs the hook (once per process).
pub fn install() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("<unnamed>");
            let message = panic_message(info.payload());
            if let Some(cluster) = CLUSTER.get()
                && let Some(peer) = lost_peer(name, &message)
            {
                terminal::restore_now();
                eprintln!("error: {}", cluster.describe_loss(peer, &message));
                std::process::exit(EXIT_PEER_LOST);
            }
            let aborting = ABORTING.iter().any(|m| message.starts_with(m));
            if terminal::is_active() && !terminal::on_owner_thread() && !aborting {
                let location = info
                    .location()
                    .map_or_else(String::new, |l| format!(" at {}:{}", l.file(), l.line()));
                terminal::hold_panic(format!("thread '{name}' panicked{location}:\n{message}"));
                return;
            }
            terminal::restore_now();
            previous(info);
        }));
    });
}

/// This process is part of a timely cluster: a broken connection to another process ends it
/// with a report naming that process.
pub fn watch_cluster(cluster: &TimelyCluster) {
    install();
    let _ = CLUSTER.set(cluster.clone());
}
