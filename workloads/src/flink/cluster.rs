//! `--flink-cluster HOST:PORT`: the Flink job on a real Flink cluster (a standalone session
//! cluster, e.g. one started by `scripts/flink-cluster.sh`) instead of the local MiniCluster.
//!
//! The job still starts from a local *client* JVM: `weir.flink.Main run --cluster HOST:PORT
//! --jar JAR` builds the same job graph, submits it with weir's job jar through Flink's REST API
//! and prints the same protocol lines as a MiniCluster run (plus `SUBMITTED` with the job id),
//! so `super::start`'s driver reads it unchanged. The tasks run in the TaskManager JVMs and
//! report their counters, digests, latency samples and rows back to the client over one TCP
//! connection per TaskManager (`Uplink`/`Hub` on the Java side; docs/SCALING.md says why).
//!
//! This module is the Rust side's share: before any JVM starts, [`Cluster::check`] parses the
//! address and asks the REST API (`GET /overview`) whether the cluster is reachable, runs the
//! Flink version weir's job is built for, and has `--workers` free task slots, so each of those
//! problems is one clear error instead of a stuck submission. While the job runs,
//! `Submission` remembers its id; if the client JVM dies without ending the job (the client
//! itself cancels on a failure, a stop timeout or the end of its stdin), the driver cancels it
//! over REST (`PATCH /jobs/:id?mode=cancel`) so that nothing keeps running on the cluster.
//!
//! Costs: one small HTTP request per run (two when a cancel is needed), none while it runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;

use super::install::{FLINK_VERSION, Install, SETUP_HINT};
use crate::job::{Result, RunError};

/// JVM flags of the client JVM of a cluster run: it only builds and submits the job graph and
/// merges the tasks' reports, so it needs far less heap than a MiniCluster that runs the job.
pub const CLIENT_JVM_FLAGS: &[&str] = &[
    "-Xms512m",
    "-Xmx512m",
    "-XX:+UseG1GC",
    "-Dfile.encoding=UTF-8",
];

/// The job jar `scripts/setup-flink.sh` packs from the compiled job, relative to `.flink/`.
pub const JOB_JAR: &str = "weir-flink-job.jar";

/// How long a REST request to the cluster may take.
const REST_TIMEOUT: Duration = Duration::from_secs(10);

/// What `GET /overview` says about a cluster.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Overview {
    /// Registered TaskManagers.
    pub taskmanagers: usize,
    /// Task slots of all TaskManagers.
    #[serde(rename = "slots-total")]
    pub slots_total: usize,
    /// Slots no job holds.
    #[serde(rename = "slots-available")]
    pub slots_available: usize,
    /// Jobs running now.
    #[serde(rename = "jobs-running")]
    pub jobs_running: usize,
    /// The cluster's Flink version.
    #[serde(rename = "flink-version")]
    pub flink_version: String,
}

/// One job in `GET /jobs/overview`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct JobSummary {
    /// Flink's job id.
    pub jid: String,
    /// The job's name (`weir nexmark q5` for weir's jobs).
    pub name: String,
    /// `RUNNING`, `FINISHED`, `CANCELED`, `FAILED`, ...
    pub state: String,
}

/// A Flink cluster's REST API.
#[derive(Debug)]
pub struct Rest {
    address: String,
    agent: ureq::Agent,
}

impl Rest {
    /// The REST API at `address` (HOST:PORT, as checked by [`parse_address`]).
    pub fn new(address: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(REST_TIMEOUT))
            .http_status_as_error(false)
            .build()
            .into();
        Self {
            address: address.to_string(),
            agent,
        }
    }

    /// `GET /overview`.
    ///
    /// # Errors
    /// [`RunError::Setup`] when nothing answers at the address, or something that is not a
    /// Flink REST API does.
    pub fn overview(&self) -> Result<Overview> {
        let (status, body) = self.request("GET", "/overview")?;
        if status != 200 {
            return Err(RunError::Setup(format!(
                "{} answered GET /overview with HTTP {status}: is it the REST port of a Flink \
                 JobManager? (scripts/flink-cluster.sh start prints that address)",
                self.address
            )));
        }
        serde_json::from_str(&body).map_err(|e| {
            RunError::Setup(format!(
                "{} answered GET /overview with something that is not Flink's overview ({e}): is \
                 it the REST port of a Flink JobManager?",
                self.address
            ))
        })
    }

    /// Every job the cluster knows (`GET /jobs/overview`), running or ended.
    ///
    /// # Errors
    /// [`RunError::Setup`] when the cluster cannot be reached, [`RunError::Failed`] when it
    /// answers with an error or something unexpected.
    pub fn jobs(&self) -> Result<Vec<JobSummary>> {
        #[derive(Deserialize)]
        struct Jobs {
            jobs: Vec<JobSummary>,
        }
        self.get_json::<Jobs>("/jobs/overview").map(|j| j.jobs)
    }

    /// The state of job `id` (`RUNNING`, `FINISHED`, `CANCELED`, ...).
    ///
    /// # Errors
    /// As [`Rest::jobs`]; an unknown job is an HTTP error.
    pub fn job_state(&self, id: &str) -> Result<String> {
        #[derive(Deserialize)]
        struct Job {
            state: String,
        }
        self.get_json::<Job>(&format!("/jobs/{id}"))
            .map(|j| j.state)
    }

    fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        let (status, body) = self.request("GET", path)?;
        if status != 200 {
            return Err(RunError::Failed(format!(
                "the Flink cluster at {} answered GET {path} with HTTP {status}: {body}",
                self.address
            )));
        }
        serde_json::from_str(&body).map_err(|e| {
            RunError::Failed(format!(
                "unexpected answer to GET {path} from {}: {e}",
                self.address
            ))
        })
    }

    /// Cancels job `id` (`PATCH /jobs/:id?mode=cancel`).
    ///
    /// # Errors
    /// [`RunError::Failed`] when the cluster cannot be asked or refuses.
    pub fn cancel(&self, id: &str) -> Result<()> {
        let (status, body) = self.request("PATCH", &format!("/jobs/{id}?mode=cancel"))?;
        match status {
            200..=299 => Ok(()),
            _ => Err(RunError::Failed(format!(
                "the Flink cluster at {} refused to cancel job {id} (HTTP {status}): {body}",
                self.address
            ))),
        }
    }

    fn request(&self, method: &str, path: &str) -> Result<(u16, String)> {
        let url = format!("http://{}{path}", self.address);
        let sent = if method == "PATCH" {
            self.agent.patch(&url).send_empty()
        } else {
            self.agent.get(&url).call()
        };
        let mut response = sent.map_err(|e| {
            RunError::Setup(format!(
                "cannot reach the Flink cluster's REST API at {} ({e}): is the cluster running? \
                 Start one with scripts/flink-cluster.sh start, which prints the HOST:PORT to \
                 pass to --flink-cluster",
                self.address
            ))
        })?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().map_err(|e| {
            RunError::Failed(format!(
                "reading {method} {path} from {}: {e}",
                self.address
            ))
        })?;
        Ok((status, body))
    }
}

/// Checks a `--flink-cluster` address (see [`crate::cluster::parse_flink_address`]).
///
/// # Errors
/// [`RunError::Config`] naming `--flink-cluster` and the expected form.
pub fn parse_address(text: &str) -> Result<String> {
    Ok(crate::cluster::parse_flink_address(text)?)
}

/// A cluster a run was checked against.
#[derive(Debug)]
pub struct Cluster {
    address: String,
    jar: PathBuf,
    overview: Overview,
}

impl Cluster {
    /// Checks that the cluster at `address` can run a job of parallelism `workers` now, and that
    /// `install` has the job jar.
    ///
    /// # Errors
    /// [`RunError::Config`] for a malformed address or too few free slots; [`RunError::Setup`]
    /// for an unreachable cluster, another Flink version, or a missing job jar.
    pub fn check(address: &str, workers: usize, install: &Install) -> Result<Self> {
        let address = parse_address(address)?;
        let jar = job_jar(install)?;
        let overview = Rest::new(&address).overview()?;
        if overview.flink_version != FLINK_VERSION {
            return Err(RunError::Setup(format!(
                "the Flink cluster at {address} runs Flink {}, but weir's job is built for Flink \
                 {FLINK_VERSION}: start a {FLINK_VERSION} cluster (scripts/flink-cluster.sh start)",
                overview.flink_version
            )));
        }
        if overview.slots_available < workers {
            let busy = if overview.jobs_running > 0 {
                format!(
                    ", wait for its {} running job(s) to end",
                    overview.jobs_running
                )
            } else {
                String::new()
            };
            return Err(RunError::Config(format!(
                "--workers {workers} needs {workers} free task slots, but the Flink cluster at \
                 {address} has {} free of {} ({} TaskManagers): use --workers {}{busy}, or start \
                 a cluster with more slots (scripts/flink-cluster.sh start --taskmanagers N \
                 --slots S)",
                overview.slots_available,
                overview.slots_total,
                overview.taskmanagers,
                overview.slots_available.max(1)
            )));
        }
        Ok(Self {
            address,
            jar,
            overview,
        })
    }

    /// The REST address, `HOST:PORT`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// What the cluster said when it was checked.
    pub fn overview(&self) -> &Overview {
        &self.overview
    }

    /// Adds `--cluster HOST:PORT --jar JAR` to a `run` command.
    pub(crate) fn add_args(&self, cmd: &mut Command) {
        cmd.args(["--cluster", &self.address])
            .arg("--jar")
            .arg(&self.jar);
    }

    /// The handle that follows the submitted job (see [`Submission`]).
    pub(crate) fn submission(&self) -> Submission {
        Submission {
            rest: Rest::new(&self.address),
            job: Mutex::new(None),
        }
    }
}

/// The job jar of `install`.
///
/// # Errors
/// [`RunError::Setup`] naming the setup command when it is missing.
pub fn job_jar(install: &Install) -> Result<PathBuf> {
    let dir = install.classes.parent().unwrap_or_else(|| Path::new("."));
    let jar = dir.join(JOB_JAR);
    if jar.is_file() {
        Ok(jar)
    } else {
        Err(RunError::Setup(format!(
            "{SETUP_HINT} (the job jar {} that a cluster receives is missing)",
            jar.display()
        )))
    }
}

/// The job a client JVM submitted, so the driver can cancel it if the client dies first.
#[derive(Debug)]
pub(crate) struct Submission {
    rest: Rest,
    job: Mutex<Option<String>>,
}

impl Submission {
    /// The client printed `SUBMITTED` with this job id.
    pub(crate) fn submitted(&self, id: String) {
        *self
            .job
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(id);
    }

    /// After the client failed: cancels the job if it still runs; returns a sentence for the
    /// error message (empty when there was nothing to do).
    pub(crate) fn cancel_orphan(&self) -> String {
        let id = self
            .job
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let Some(id) = id else {
            return String::new();
        };
        match self.rest.job_state(&id) {
            Ok(state) if is_terminal(&state) => String::new(),
            Ok(_) => match self.rest.cancel(&id) {
                Ok(()) => format!("\nweir cancelled job {id} on the cluster."),
                Err(e) => format!("\njob {id} may still run on the cluster: {e}"),
            },
            Err(e) => format!("\nweir could not check job {id} on the cluster: {e}"),
        }
    }
}

/// Whether a Flink job state is final.
pub fn is_terminal(state: &str) -> bool {
    matches!(state, "FINISHED" | "CANCELED" | "FAILED" | "SUSPENDED")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_host_and_port() {
        assert_eq!(
            parse_address("localhost:8081").expect("valid"),
            "localhost:8081"
        );
        assert_eq!(
            parse_address(" 10.0.0.1:18081 ").expect("valid"),
            "10.0.0.1:18081"
        );
        assert_eq!(parse_address("[::1]:8081").expect("valid"), "[::1]:8081");
        for bad in [
            "localhost",
            "localhost:",
            ":8081",
            "localhost:0",
            "localhost:99999",
            "http://localhost:8081",
            "::1:8081",
        ] {
            let e = parse_address(bad).expect_err(bad);
            assert!(
                e.to_string().contains("--flink-cluster") && e.to_string().contains("HOST:PORT"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn overview_parses_flinks_json() {
        let o: Overview = serde_json::from_str(
            r#"{"taskmanagers":2,"slots-total":4,"slots-available":3,"jobs-running":1,"jobs-finished":0,"jobs-cancelled":0,"jobs-failed":0,"flink-version":"2.3.0","flink-commit":"c0f8d1a"}"#,
        )
        .expect("valid");
        assert_eq!(
            o,
            Overview {
                taskmanagers: 2,
                slots_total: 4,
                slots_available: 3,
                jobs_running: 1,
                flink_version: "2.3.0".into(),
            }
        );
    }

    #[test]
    fn terminal_states() {
        assert!(is_terminal("FINISHED") && is_terminal("CANCELED") && is_terminal("FAILED"));
        assert!(!is_terminal("RUNNING") && !is_terminal("CANCELLING"));
    }
}
