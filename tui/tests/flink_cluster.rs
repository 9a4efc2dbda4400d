//! `--flink-cluster` against a real Flink 2.3 standalone cluster: `scripts/flink-cluster.sh
//! start` runs one JobManager and two TaskManagers (three JVMs) on this machine, on free ports,
//! from a temporary run directory. On it, q5 and q7 at parallelism 2 give the committed
//! reference digests through `weir run` (with live progress and `--output` rows) and agree with
//! weir in `weir compare`; a stop ends an unbounded run with a report and frees the slots, and
//! so does a Ctrl-C sent to weir's process group as a terminal sends it;
//! dropping a running job cancels it on the cluster, and so does killing its client JVM; a job
//! that fails there shows Flink's exception; too few free slots and an unreachable address are
//! clear errors.
//!
//! The cluster is stopped by a Drop guard, so a failing assertion stops it too, and the guard
//! fails the test if `stop` leaves a JVM behind. Without `scripts/setup-flink.sh` the test
//! fails with the setup hint.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use assert_cmd::Command as BinCommand;
use predicates::str::contains;
use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::flink::Install;
use weir_workloads::flink::cluster::{Overview, Rest};
use weir_workloads::job::{RunLength, RunSpec};
use weir_workloads::report::RunReport;
use weir_workloads::runner;

const EVENTS: u64 = 200_000;
const EVENT_RATE: u64 = 10_000;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Ports free right now (bound to port 0, then released).
fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free port"))
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().expect("bound").port())
}

/// A running cluster; dropping it runs `scripts/flink-cluster.sh stop`.
struct Cluster {
    dir: tempfile::TempDir,
    address: String,
}

impl Cluster {
    fn start() -> Self {
        Install::locate().unwrap_or_else(|e| panic!("{e}"));
        let [rest, rpc] = free_ports();
        let mut cluster = Self {
            dir: tempfile::tempdir().expect("a temp dir"),
            address: String::new(),
        };
        let out = Command::new(repo().join("scripts/flink-cluster.sh"))
            .arg("start")
            .arg("--dir")
            .arg(cluster.dir.path())
            .args(["--taskmanagers", "2", "--slots", "1"])
            .args(["--rest-port", &rest.to_string()])
            .args(["--rpc-port", &rpc.to_string()])
            .output()
            .expect("scripts/flink-cluster.sh runs");
        assert!(
            out.status.success(),
            "scripts/flink-cluster.sh start failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        cluster.address = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_eq!(
            cluster.address,
            format!("localhost:{rest}"),
            "start prints the REST address"
        );
        cluster
    }

    fn script(&self, command: &str) -> std::process::Output {
        Command::new(repo().join("scripts/flink-cluster.sh"))
            .arg(command)
            .arg("--dir")
            .arg(self.dir.path())
            .output()
            .expect("scripts/flink-cluster.sh runs")
    }

    fn overview(&self) -> Overview {
        Rest::new(&self.address)
            .overview()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Waits until no job runs and every slot is free again.
    fn wait_idle(&self, what: &str) -> Overview {
        let deadline = Instant::now() + Duration::from_mins(1);
        loop {
            let o = self.overview();
            if o.jobs_running == 0 && o.slots_available == o.slots_total {
                return o;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: the cluster still has a running job: {o:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let out = self.script("stop");
        let message = format!(
            "scripts/flink-cluster.sh stop failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() {
            if std::thread::panicking() {
                eprintln!("{message}");
            } else {
                panic!("{message}");
            }
        }
    }
}

fn weir() -> BinCommand {
    let mut cmd = BinCommand::cargo_bin("weir").expect("the weir binary is built for tests");
    cmd.env_remove("WEIR_FLINK_FAIL_AFTER_EVENTS")
        .env_remove("NO_COLOR");
    cmd
}

/// The committed reference digest of `query` over this test's input.
fn reference(query: &str) -> (u64, String) {
    let path = repo().join("workloads/testdata/nexmark_reference_digests.tsv");
    let text = std::fs::read_to_string(&path).expect("the reference digests are committed");
    let config = format!("events={EVENTS},event_rate={EVENT_RATE}");
    let fields = text
        .lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|f| f.len() == 4 && f[0] == config && f[1] == query)
        .unwrap_or_else(|| panic!("no reference digest for {query} at {config}"));
    (fields[2].parse().expect("rows"), fields[3].to_string())
}

fn spec(query: &str, address: &str, length: RunLength) -> RunSpec {
    RunSpec {
        workers: 2,
        length,
        event_rate: EVENT_RATE,
        command: format!("test cluster {query}"),
        flink_cluster: Some(address.to_string()),
        ..RunSpec::new(
            Query::parse(Workload::Nexmark, query).expect("a catalog query"),
            EngineKind::Flink,
        )
    }
}

fn reference_digests_through_weir_run(cluster: &Cluster, dir: &Path) {
    for query in ["q5", "q7"] {
        let json = dir.join(format!("{query}.json"));
        let rows = dir.join(format!("{query}.jsonl"));
        let out = weir()
            .args(["run", "nexmark", "--engine", "flink", "--query", query])
            .args(["--flink-cluster", &cluster.address, "--workers", "2"])
            .args(["--events", &EVENTS.to_string()])
            .args(["--event-rate", &EVENT_RATE.to_string(), "--no-tui"])
            .arg("--json")
            .arg(&json)
            .arg("--output")
            .arg(&rows)
            .output()
            .expect("weir runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{query} on the cluster: {stderr}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("bottleneck (whole run): ") && stdout.contains("operators' own time"),
            "{query}: the job's vertices come from the cluster's REST API: {stdout}"
        );
        let report: RunReport =
            serde_json::from_str(&std::fs::read_to_string(&json).expect("the report is written"))
                .expect("the report parses");
        let (rows_expected, hash) = reference(query);
        assert_eq!(
            (report.digest.rows, report.digest.hash.as_str()),
            (rows_expected, hash.as_str()),
            "{query} at parallelism 2 on the cluster"
        );
        assert_eq!(report.events, EVENTS, "{query}");
        assert_eq!(report.workers, 2);
        assert_eq!((report.late, report.dropped), (0, 0), "{query}");
        assert_eq!(report.versions.flink.as_deref(), Some("2.3.0"));
        assert!(report.command.contains("--flink-cluster"), "{query}");
        // An unpaced run this short may end before Flink's periodic watermarks close a
        // window: its results are then the end of input's, reported apart.
        let samples = [report.latency_ns, report.end_of_input_latency_ns]
            .iter()
            .flatten()
            .map(|l| l.samples)
            .sum::<u64>();
        assert!(
            samples > 0,
            "{query}: window latency is measured across JVMs"
        );
        assert_eq!(
            report.per_worker.len(),
            2,
            "{query}: worker times from REST"
        );
        assert!(
            stderr.lines().any(|l| l.contains("ev/s")),
            "{query}: live progress lines while it runs: {stderr}"
        );
        let written = std::fs::read_to_string(&rows).expect("--output rows are written");
        assert_eq!(
            written.lines().count() as u64,
            rows_expected,
            "{query}: --output rows come back from the TaskManagers"
        );
    }
    cluster.wait_idle("after q5 and q7");
}

fn compare_agrees_with_weir(cluster: &Cluster, dir: &Path) {
    weir()
        .args([
            "compare",
            "nexmark",
            "--query",
            "q7",
            "--engines",
            "weir,flink",
        ])
        .args(["--flink-cluster", &cluster.address, "--workers", "2"])
        .args(["--runs", "1", "--no-warmup", "--no-tui", "--color", "never"])
        .args(["--events", &EVENTS.to_string()])
        .args(["--event-rate", &EVENT_RATE.to_string()])
        .arg("--out")
        .arg(dir.join("compare"))
        .assert()
        .success()
        .stdout(contains("flink"));
    let report = std::fs::read_to_string(dir.join("compare/report.json")).expect("report.json");
    assert!(
        report.contains("--flink-cluster"),
        "the command is recorded"
    );
}

/// Starts an hour-long run of `query` paced at 5,000 events/s and waits for its first events.
fn start_unbounded(cluster: &Cluster, query: &str) -> weir_workloads::job::Job {
    let mut s = spec(
        query,
        &cluster.address,
        RunLength::Duration(Duration::from_hours(1)),
    );
    s.rate = Some(5_000);
    s.event_rate = 5_000;
    let job = runner::start(&s).unwrap_or_else(|e| panic!("{e}"));
    let deadline = Instant::now() + Duration::from_mins(2);
    while job.collector.latest().events_in() == 0 {
        assert!(
            Instant::now() < deadline,
            "no progress from the cluster's job"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    job
}

fn stop_ends_an_unbounded_run(cluster: &Cluster) {
    let job = start_unbounded(cluster, "q0");
    assert_eq!(
        cluster.overview().jobs_running,
        1,
        "the job runs on the cluster"
    );
    job.stop.raise();
    let report = job.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(report.events > 0 && report.events < 5_000 * 3600);
    assert!(report.digest.rows > 0 && report.digest.rows <= report.events);
    cluster.wait_idle("after a stop");
}

/// Ctrl-C at a terminal signals weir's whole process group: weir stops the job (the input ends,
/// windows fire, the report follows) and the job finishes on the cluster, neither cancelled nor
/// failed by the client JVM dying of the same SIGINT.
fn ctrl_c_stops_the_job_on_the_cluster(cluster: &Cluster, dir: &Path) {
    use std::io::{BufRead, BufReader, Read};
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;
    let rest = Rest::new(&cluster.address);
    let ids = |jobs: &[weir_workloads::flink::cluster::JobSummary]| {
        jobs.iter().map(|j| j.jid.clone()).collect::<Vec<_>>()
    };
    let before = ids(&rest.jobs().unwrap_or_else(|e| panic!("{e}")));
    let json = dir.join("ctrl-c.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "nexmark", "--engine", "flink", "--query", "q5"])
        .args(["--flink-cluster", &cluster.address, "--workers", "2"])
        .args([
            "--duration",
            "30m",
            "--rate",
            "5000",
            "--event-rate",
            "5000",
        ])
        .args(["--no-tui"])
        .arg("--json")
        .arg(&json)
        .env_remove("WEIR_FLINK_FAIL_AFTER_EVENTS")
        // Its own process group, as a shell gives a foreground job: the test signals the group.
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weir starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
    let mut line = String::new();
    // A progress line with events proves the job runs on the cluster.
    while !line.contains("ev/s") || line.contains(" 0 ev/s") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).expect("stderr") > 0,
            "weir's stderr closed before the job made progress"
        );
    }
    let kill = Command::new("kill")
        .args(["-INT", "--", &format!("-{}", child.id())])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let mut rest_of_stderr = String::new();
    stderr.read_to_string(&mut rest_of_stderr).expect("stderr");
    let status = child.wait().expect("weir exits");
    // A graceful stop on SIGINT: the report is written and weir exits 130 (128 + SIGINT).
    assert_eq!(status.code(), Some(130), "after Ctrl-C: {rest_of_stderr}");
    assert!(rest_of_stderr.contains("stopping"), "{rest_of_stderr}");
    let report: RunReport =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the report is written"))
            .expect("the report parses");
    assert!(
        report.events > 0 && report.events < 5_000 * 1800,
        "{report:?}"
    );
    cluster.wait_idle("after Ctrl-C");
    let jobs = rest.jobs().unwrap_or_else(|e| panic!("{e}"));
    let new: Vec<_> = jobs.iter().filter(|j| !before.contains(&j.jid)).collect();
    assert_eq!(new.len(), 1, "one job was submitted: {jobs:?}");
    assert_eq!(
        new[0].state, "FINISHED",
        "the stopped job ended on the cluster, not cancelled: {jobs:?}"
    );
}

fn dropping_a_job_cancels_it(cluster: &Cluster) {
    let job = start_unbounded(cluster, "q5");
    // As when weir exits or is killed: the client JVM's stdin closes.
    drop(job);
    cluster.wait_idle("after the job was dropped");
    let jobs = Rest::new(&cluster.address)
        .jobs()
        .unwrap_or_else(|e| panic!("{e}"));
    let cancelled: Vec<_> = jobs.iter().filter(|j| j.state == "CANCELED").collect();
    assert_eq!(
        cancelled.len(),
        1,
        "the dropped job was cancelled on the cluster: {jobs:?}"
    );
    assert_eq!(cancelled[0].name, "weir nexmark q5");
}

/// The pid of the client JVM of a run against `address` (a child of this test process).
fn client_jvm(address: &str) -> u32 {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .find_map(|e| {
            let e = e.ok()?;
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
            let is_client = args.contains(&b"weir.flink.Main".as_slice())
                && args
                    .windows(2)
                    .any(|w| w[0] == b"--cluster" && w[1] == address.as_bytes());
            is_client.then_some(pid)
        })
        .unwrap_or_else(|| panic!("no client JVM for {address}"))
}

fn a_killed_client_does_not_leave_its_job_running(cluster: &Cluster) {
    let job = start_unbounded(cluster, "q0");
    let pid = client_jvm(&cluster.address);
    let killed = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let err = job.wait().expect_err("the client was killed");
    assert!(
        err.to_string()
            .contains("the JVM exited without printing its RESULT line"),
        "{err}"
    );
    cluster.wait_idle("after the client JVM was killed");
}

fn failures_are_clear(cluster: &Cluster) {
    weir()
        .args(["run", "nexmark", "--engine", "flink", "--query", "q5"])
        .args(["--flink-cluster", &cluster.address, "--workers", "2"])
        .args(["--events", "2000000", "--event-rate", "10000", "--no-tui"])
        .env("WEIR_FLINK_FAIL_AFTER_EVENTS", "5000")
        .assert()
        .code(1)
        .stderr(contains("failed on the Flink cluster"))
        .stderr(contains("injected failure in source subtask 0"));
    cluster.wait_idle("after a failed job");
    weir()
        .args(["run", "nexmark", "--engine", "flink", "--query", "q5"])
        .args(["--flink-cluster", &cluster.address, "--workers", "3"])
        .args(["--events", "1000", "--no-tui"])
        .assert()
        .code(2)
        .stderr(contains("--workers 3 needs 3 free task slots"))
        .stderr(contains("has 2 free of 2 (2 TaskManagers)"));
    let [closed] = free_ports();
    weir()
        .args(["run", "nexmark", "--engine", "flink", "--query", "q5"])
        .args(["--flink-cluster", &format!("127.0.0.1:{closed}")])
        .args(["--events", "1000", "--workers", "1", "--no-tui"])
        .assert()
        .code(1)
        .stderr(contains(format!(
            "cannot reach the Flink cluster's REST API at 127.0.0.1:{closed}"
        )))
        .stderr(contains("scripts/flink-cluster.sh start"));
}

#[test]
fn a_real_cluster_runs_the_queries_and_cleans_up() {
    let cluster = Cluster::start();
    let status = cluster.script("status");
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "status: {text}");
    assert_eq!(
        text.lines()
            .filter(|l| l.contains(": running (pid"))
            .count(),
        3,
        "status names the JobManager and both TaskManagers: {text}"
    );
    let o = cluster.overview();
    assert_eq!((o.taskmanagers, o.slots_total), (2, 2), "{o:?}");
    let dir = tempfile::tempdir().expect("a temp dir");
    reference_digests_through_weir_run(&cluster, dir.path());
    compare_agrees_with_weir(&cluster, dir.path());
    stop_ends_an_unbounded_run(&cluster);
    ctrl_c_stops_the_job_on_the_cluster(&cluster, dir.path());
    dropping_a_job_cancels_it(&cluster);
    a_killed_client_does_not_leave_its_job_running(&cluster);
    failures_are_clear(&cluster);

    let run_dir = cluster.dir.path().to_path_buf();
    drop(cluster);
    let marker = format!("-Dweir.flink.cluster={}", run_dir.display());
    let left: Vec<String> = std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| {
            let cmdline = std::fs::read(e.ok()?.path().join("cmdline")).ok()?;
            cmdline
                .split(|&b| b == 0)
                .any(|arg| arg == marker.as_bytes())
                .then(|| String::from_utf8_lossy(&cmdline).replace('\0', " "))
        })
        .collect();
    assert!(left.is_empty(), "stop left JVMs behind: {left:?}");
}

#[test]
fn the_flag_is_for_flink_and_needs_host_and_port() {
    weir()
        .args([
            "run",
            "--engine",
            "weir",
            "--flink-cluster",
            "localhost:8081",
        ])
        .assert()
        .code(2)
        .stderr(contains(
            "--flink-cluster runs Flink on a cluster; engine 'weir' runs here",
        ));
    weir()
        .args(["run", "--engine", "flink", "--flink-cluster", "localhost"])
        .assert()
        .code(2)
        .stderr(contains("--flink-cluster 'localhost': expected HOST:PORT"));
    weir()
        .args(["compare", "nexmark", "--engines", "weir,timely"])
        .args(["--flink-cluster", "localhost:8081"])
        .assert()
        .code(2)
        .stderr(contains("--engines does not list flink"));
}
