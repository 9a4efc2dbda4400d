//! `weir run`: the generator-only baselines, engines that cannot run a query, and timely's
//! cluster mode (`--processes/--process/--hostfile`) across two real `weir` processes bound to
//! different addresses (127.0.0.1 and 127.0.0.2: all of 127/8 is loopback on Linux), as two
//! machines of a hostfile would be.

use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::str::contains;
use weir_workloads::report::RunReport;

fn weir() -> Command {
    let mut cmd = Command::cargo_bin("weir").expect("the weir binary is built for tests");
    cmd.env_remove("WEIR_SIM_PANIC_AFTER_MS")
        .env_remove("NO_COLOR");
    cmd
}

fn read_report(path: &Path) -> RunReport {
    let text = std::fs::read_to_string(path).expect("the report is written");
    serde_json::from_str(&text).expect("the report parses")
}

#[test]
fn engines_that_cannot_run_a_query_say_so_with_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "--engine", "flink", "--query", "gen"],
            "engine 'flink' cannot run nexmark query 'gen' (--engine flink --query gen): a \
             generator-only baseline measures weir's own source; flink runs: q0, q1, q2, q3, q4, \
             q5, q6, q7, q8, q9, ",
        ),
        (
            &["run", "--engine", "flink", "--query", "gen"],
            ", q21, q22 (see `weir list`)",
        ),
        (
            &["run", "--engine", "timely", "--query", "gen-bids"],
            "engine 'timely' cannot run nexmark query 'gen-bids'",
        ),
        (
            &["run", "ysb", "--engine", "differential", "--query", "gen"],
            "engine 'differential' cannot run ysb query 'gen' (--engine differential --query \
             gen): a generator-only baseline measures weir's own source; differential runs: ysb",
        ),
    ];
    for (args, message) in cases {
        weir()
            .args(*args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(contains(*message));
    }
}

#[test]
fn the_baselines_run_on_weir() {
    let dir = tempfile::tempdir().expect("a temp dir");
    for (workload, query) in [("nexmark", "gen"), ("nexmark", "gen-bids"), ("ysb", "gen")] {
        let json = dir.path().join(format!("{workload}-{query}.json"));
        weir()
            .args(["run", workload, "--query", query, "--workers", "2"])
            .args(["--events", "50000", "--no-tui", "--quiet", "--json"])
            .arg(&json)
            .assert()
            .success();
        let report = read_report(&json);
        assert_eq!(report.query, query);
        assert_eq!(report.events, 50_000, "{workload} {query}");
    }
}

#[test]
fn cluster_flags_are_checked() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "--processes", "2", "--process", "1"],
            "--processes, --process and --hostfile are timely's cluster mode; engine 'weir' \
             runs in one process",
        ),
        (
            &["run", "--engine", "flink", "--hostfile", "hosts"],
            "engine 'flink' runs in one process",
        ),
        (
            &["run", "--engine", "timely", "--process", "1"],
            "--process and --hostfile need --processes N",
        ),
        (
            &["run", "--engine", "timely", "--processes", "0"],
            "--processes must be at least 1",
        ),
        (
            &[
                "run",
                "--engine",
                "timely",
                "--processes",
                "2",
                "--process",
                "2",
            ],
            "--process 2 must be below --processes 2",
        ),
        (
            &[
                "run",
                "--engine",
                "timely",
                "--processes",
                "2",
                "--hostfile",
                "/no/such/hosts",
            ],
            "--hostfile /no/such/hosts: no such file",
        ),
    ];
    for (args, message) in cases {
        weir()
            .args(*args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(contains(*message));
    }
}

#[test]
fn a_short_hostfile_is_a_config_error() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "127.0.0.1:1\n").expect("write the hostfile");
    weir()
        .args([
            "run",
            "--engine",
            "timely",
            "--processes",
            "2",
            "--hostfile",
        ])
        .arg(&hosts)
        .assert()
        .code(2)
        .stderr(contains("lists 1 addresses but --processes is 2"));
}

/// A port free right now on `host` (bound to port 0, then released).
fn free_port(host: &str) -> u16 {
    TcpListener::bind((host, 0))
        .unwrap_or_else(|e| panic!("bind a free port on {host}: {e}"))
        .local_addr()
        .expect("an address")
        .port()
}

#[test]
fn two_processes_give_the_single_process_digest() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let common = [
        "run",
        "nexmark",
        "--engine",
        "timely",
        "--query",
        "q5",
        "--events",
        "20000",
        "--event-rate",
        "1000",
        "--no-tui",
        "--quiet",
    ];
    let single_json = dir.path().join("single.json");
    weir()
        .args(common)
        .args(["--workers", "2", "--json"])
        .arg(&single_json)
        .assert()
        .success();
    let single = read_report(&single_json);
    assert!(single.digest.rows > 0, "q5 has results: {single:?}");

    // One process per address, as on two machines: each listens on its own line's address.
    let hosts = dir.path().join("hosts");
    let (p0, p1) = (free_port("127.0.0.1"), free_port("127.0.0.2"));
    std::fs::write(&hosts, format!("127.0.0.1:{p0}\n127.0.0.2:{p1}\n"))
        .expect("write the hostfile");
    let bin = assert_cmd::cargo::cargo_bin("weir");
    let children: Vec<_> = (0..2)
        .map(|process| {
            std::process::Command::new(&bin)
                .args(common)
                .args(["--workers", "1", "--processes", "2", "--process"])
                .arg(process.to_string())
                .arg("--hostfile")
                .arg(&hosts)
                .arg("--json")
                .arg(dir.path().join(format!("p{process}.json")))
                .env_remove("WEIR_SIM_PANIC_AFTER_MS")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("weir starts")
        })
        .collect();
    for (process, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().expect("weir finishes");
        assert!(
            out.status.success(),
            "process {process}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let p0 = read_report(&dir.path().join("p0.json"));
    assert_eq!(p0.digest, single.digest, "process 0 reports the whole job");
    assert_eq!(p0.events, single.events);
    assert_eq!(p0.workers, 2);
    let p1 = read_report(&dir.path().join("p1.json"));
    assert_eq!(p1.digest.rows, 0, "process 1 reports to process 0");
}

/// Starts process `process` of a 2-process timely cluster of q5, paced to last a minute, with
/// its stderr (a progress line each second) sent line by line on the returned channel.
fn cluster_process(
    hosts: &Path,
    process: usize,
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("weir"))
        .args([
            "run",
            "nexmark",
            "--engine",
            "timely",
            "--query",
            "q5",
            "--rate",
            "2000",
            "--duration",
            "60s",
            "--no-tui",
            "--workers",
            "1",
            "--processes",
            "2",
            "--process",
        ])
        .arg(process.to_string())
        .arg("--hostfile")
        .arg(hosts)
        .env_remove("WEIR_SIM_PANIC_AFTER_MS")
        .env_remove("WEIR_TIMELY_PANIC_AFTER_EVENTS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weir starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Waits for `n` lines from `rx` (at most `limit`), returning them.
fn lines(rx: &std::sync::mpsc::Receiver<String>, n: usize, limit: Duration) -> Vec<String> {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    while got.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => got.push(line),
            Err(_) => break,
        }
    }
    got
}

/// A cluster process killed with SIGKILL mid-run: the survivor names the dead process and exits
/// with status 1 within seconds, instead of timely's own "socket closed" abort (exit 134).
#[test]
fn a_killed_cluster_process_is_named_and_the_survivor_exits_1() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let hosts = dir.path().join("hosts");
    let (p0, p1) = (free_port("127.0.0.1"), free_port("127.0.0.1"));
    std::fs::write(&hosts, format!("127.0.0.1:{p0}\n127.0.0.1:{p1}\n"))
        .expect("write the hostfile");
    let (mut survivor, survivor_err) = cluster_process(&hosts, 0);
    let (mut victim, victim_err) = cluster_process(&hosts, 1);
    // Two progress lines from each: both processes run the job (they connected first).
    let startup = Duration::from_mins(1);
    assert_eq!(
        lines(&survivor_err, 2, startup).len(),
        2,
        "process 0 reports progress"
    );
    assert_eq!(
        lines(&victim_err, 2, startup).len(),
        2,
        "process 1 reports progress"
    );
    assert!(
        survivor.try_wait().expect("wait works").is_none(),
        "process 0 still runs"
    );
    victim.kill().expect("SIGKILL process 1");
    let _ = victim.wait();
    let killed = Instant::now();
    let status = loop {
        if let Some(status) = survivor.try_wait().expect("wait works") {
            break status;
        }
        if killed.elapsed() > Duration::from_secs(20) {
            let _ = survivor.kill();
            panic!("process 0 still runs 20 s after process 1 was killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let waited = killed.elapsed();
    let err = lines(&survivor_err, usize::MAX, Duration::from_secs(5)).join("\n");
    assert_eq!(
        status.code(),
        Some(1),
        "exit status {status:?}; stderr:\n{err}"
    );
    assert!(
        err.contains(&format!(
            "engine timely: process 1 of the cluster (127.0.0.1:{p1}) died or was killed"
        )),
        "{err}"
    );
    assert!(waited < Duration::from_secs(10), "took {waited:?}");
}
