//! Cluster mode: one timely job across several processes, over timely's own TCP networking.
//!
//! The description of the cluster lives here, outside the timely adapter, so a build without
//! the `timely` feature still parses the flags (and refuses them with a clear message). Every
//! process runs the same command with its own `--process I`; process `I` listens on the
//! `I`-th address of the hostfile and connects to the others. Worker `w` of process `I` is
//! global worker `I * workers + w`, so the generator's split (and the digest) is the same as a
//! single process with `processes * workers` workers.

use std::path::Path;

/// A cluster description that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The flags are inconsistent (the message names them).
    #[error("{0}")]
    Config(String),
    /// The hostfile cannot be read.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The address of a Flink cluster's REST API (`--flink-cluster`). It lives here, outside the
/// `flink` feature, so a weir-only build still parses the flag (and refuses it clearly).
///
/// Checks that `text` is `HOST:PORT` (`[v6]:PORT` for IPv6) with a port from 1 to 65535.
///
/// # Errors
/// [`ClusterError::Config`] naming `--flink-cluster` and the expected form.
pub fn parse_flink_address(text: &str) -> Result<String> {
    let bad = || {
        ClusterError::Config(format!(
            "--flink-cluster '{text}': expected HOST:PORT, the REST address of the cluster's \
             JobManager (scripts/flink-cluster.sh start prints it, e.g. localhost:8081)"
        ))
    };
    let (host, port) = text.trim().rsplit_once(':').ok_or_else(bad)?;
    let bracketed = host.starts_with('[') && host.ends_with(']');
    if host.is_empty() || (host.contains(':') && !bracketed) || host.contains('/') {
        return Err(bad());
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(format!("{host}:{p}")),
        _ => Err(bad()),
    }
}

type Result<T> = std::result::Result<T, ClusterError>;

/// First port used when no hostfile is given (timely's own default).
pub const DEFAULT_BASE_PORT: u16 = 2101;

/// Where the processes of a cluster-mode run are and which one this is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelyCluster {
    /// Number of processes (`--processes`).
    pub processes: usize,
    /// This process's index, `0..processes` (`--process`).
    pub process: usize,
    /// `host:port` of every process, in process order.
    pub addresses: Vec<String>,
    /// Failure injection for tests: local worker 0 panics after this many events.
    panic_after_events: Option<u64>,
}

impl TimelyCluster {
    /// A cluster on this machine: process `i` listens on `localhost:2101 + i`.
    ///
    /// # Errors
    /// A [`ClusterError::Config`] naming `--processes` / `--process` when they are inconsistent.
    pub fn localhost(processes: usize, process: usize) -> Result<Self> {
        let addresses = (0..processes)
            .map(|i| format!("localhost:{}", usize::from(DEFAULT_BASE_PORT) + i))
            .collect();
        Self::new(processes, process, addresses)
    }

    /// A cluster whose addresses are the lines `host:port` of `hostfile`, in process order.
    ///
    /// # Errors
    /// A [`ClusterError::Io`] when the file cannot be read, a [`ClusterError::Config`] when it has fewer
    /// lines than `--processes` or a line is not `host:port`.
    pub fn from_hostfile(processes: usize, process: usize, hostfile: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(hostfile).map_err(|source| ClusterError::Io {
            context: format!("reading --hostfile {}", hostfile.display()),
            source,
        })?;
        let addresses: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect();
        for line in &addresses {
            let port = line.rsplit_once(':').map(|(_, p)| p.parse::<u16>());
            if !matches!(port, Some(Ok(_))) {
                return Err(ClusterError::Config(format!(
                    "--hostfile {}: line '{line}' is not host:port",
                    hostfile.display()
                )));
            }
        }
        if addresses.len() < processes {
            return Err(ClusterError::Config(format!(
                "--hostfile {} lists {} addresses but --processes is {processes}; give one host:port line per process",
                hostfile.display(),
                addresses.len()
            )));
        }
        Self::new(processes, process, addresses[..processes].to_vec())
    }

    /// A cluster from explicit addresses.
    ///
    /// # Errors
    /// A [`ClusterError::Config`] when `process` is not below `processes`, or the address count
    /// differs from `processes`.
    pub fn new(processes: usize, process: usize, addresses: Vec<String>) -> Result<Self> {
        if processes == 0 {
            return Err(ClusterError::Config(
                "--processes must be at least 1".into(),
            ));
        }
        if process >= processes {
            return Err(ClusterError::Config(format!(
                "--process {process} must be below --processes {processes} (processes are numbered from 0)"
            )));
        }
        if addresses.len() != processes {
            return Err(ClusterError::Config(format!(
                "{} addresses for --processes {processes}; give one host:port per process",
                addresses.len()
            )));
        }
        Ok(Self {
            processes,
            process,
            addresses,
            panic_after_events: None,
        })
    }

    /// Failure injection, for tests of failure handling: this process's first worker panics
    /// once its source has produced `events` events (as `WEIR_TIMELY_PANIC_AFTER_EVENTS` does
    /// from the command line).
    #[doc(hidden)]
    #[must_use]
    pub fn with_injected_panic(mut self, events: u64) -> Self {
        self.panic_after_events = Some(events);
        self
    }

    /// The injected failure, if any.
    #[doc(hidden)]
    pub fn injected_panic(&self) -> Option<u64> {
        self.panic_after_events
    }

    /// The report of losing process `peer`: which process, where, and that this one stops.
    pub fn describe_loss(&self, peer: usize, detail: &str) -> String {
        let address = self.addresses.get(peer).map_or("?", String::as_str);
        format!(
            "engine timely: process {peer} of the cluster ({address}) died or was killed: its \
             connection to this process ({}) closed ({detail}); the job cannot finish, so this \
             process stops",
            self.process
        )
    }
}

/// Whether a panic is timely's report that the TCP connection to another process of the
/// cluster broke, and if so which process: timely's network threads are named
/// `timely:recv-P` / `timely:send-P` after the remote process `P` and panic with a message
/// starting "timely communication error:" (a prefix timely keeps stable for callers to match).
/// A process that ends normally shuts its connections down cleanly, without this panic.
pub fn lost_peer(thread: &str, message: &str) -> Option<usize> {
    let peer = thread
        .strip_prefix("timely:recv-")
        .or_else(|| thread.strip_prefix("timely:send-"))?;
    if !message.starts_with("timely communication error:") {
        return None;
    }
    peer.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::{TimelyCluster, lost_peer};

    #[test]
    fn a_broken_connection_names_the_remote_process() {
        let msg = "timely communication error: reading data: socket closed";
        assert_eq!(lost_peer("timely:recv-1", msg), Some(1));
        assert_eq!(lost_peer("timely:send-3", msg), Some(3));
        assert_eq!(lost_peer("timely:work-0", msg), None);
        assert_eq!(lost_peer("timely:recv-1", "index out of bounds"), None);
        let cluster = TimelyCluster::localhost(2, 0).expect("valid cluster");
        let text = cluster.describe_loss(1, "socket closed");
        assert!(
            text.contains("process 1 of the cluster (localhost:2102) died"),
            "{text}"
        );
        assert!(text.contains("this process (0)"), "{text}");
    }
}
