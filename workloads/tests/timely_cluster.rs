//! Cluster mode: one timely job across two processes (here two timely instances in one test
//! process, each with its own networking on 127.0.0.1) gives the single-process digest, and a
//! failure in one process ends the others.

use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::cluster::TimelyCluster;
use weir_workloads::job::{RunLength, RunSpec};
use weir_workloads::runner;

fn spec(query: &str, workers: usize) -> RunSpec {
    RunSpec {
        workers,
        length: RunLength::Events(30_000),
        event_rate: 1_000,
        command: format!("test cluster {query}"),
        ..RunSpec::new(
            Query::parse(Workload::Nexmark, query).expect("a catalog query"),
            EngineKind::Timely,
        )
    }
}

/// Two ports that were free a moment ago.
fn free_ports() -> [u16; 2] {
    let a = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    let b = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    [
        a.local_addr().expect("bound").port(),
        b.local_addr().expect("bound").port(),
    ]
}

#[test]
fn two_processes_give_the_single_process_digest() {
    for query in ["q5", "q7", "q3"] {
        let single = runner::start(&spec(query, 2))
            .expect("the job starts")
            .wait()
            .expect("the job finishes");
        let addresses: Vec<String> = free_ports()
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        let jobs: Vec<_> = (0..2)
            .map(|process| {
                let cluster =
                    TimelyCluster::new(2, process, addresses.clone()).expect("a valid cluster");
                let spec = RunSpec {
                    cluster: Some(cluster),
                    ..spec(query, 1)
                };
                runner::start(&spec).expect("the process starts")
            })
            .collect();
        let reports: Vec<_> = jobs
            .into_iter()
            .map(|j| j.wait().expect("the process finishes"))
            .collect();
        assert_eq!(
            reports[0].digest, single.digest,
            "{query}: process 0 reports the whole job"
        );
        assert_eq!(
            reports[0].events, single.events,
            "{query}: events of all processes"
        );
        assert_eq!(reports[0].workers, 2);
        assert_eq!(
            reports[0].latency_ns, None,
            "latency is not observed across processes"
        );
        assert_eq!(
            reports[1].digest.rows, 0,
            "{query}: process 1 reports to process 0"
        );
    }
}

#[test]
fn cluster_flags_are_checked() {
    let err =
        TimelyCluster::new(2, 2, vec!["a:1".into(), "b:2".into()]).expect_err("process 2 of 2");
    assert!(err.to_string().contains("--process"), "{err}");
    let err = TimelyCluster::localhost(0, 0).expect_err("0 processes");
    assert!(err.to_string().contains("--processes"), "{err}");
    let path = std::env::temp_dir().join(format!("weir-hosts-{}", std::process::id()));
    std::fs::write(&path, "127.0.0.1:2101\nnot-an-address\n").expect("write a hostfile");
    let err = TimelyCluster::from_hostfile(2, 0, &path).expect_err("a bad line");
    assert!(err.to_string().contains("host:port"), "{err}");
    std::fs::write(&path, "127.0.0.1:2101\n").expect("write a hostfile");
    let err = TimelyCluster::from_hostfile(2, 0, &path).expect_err("too few lines");
    assert!(err.to_string().contains("--processes"), "{err}");
    std::fs::remove_file(&path).expect("remove the hostfile");
}

/// Waits for a job with a hang guard: a job that has not ended after `limit` is a failure of
/// the test (the bug being guarded against is a process waiting forever).
fn wait_at_most(
    job: weir_workloads::job::Job,
    limit: Duration,
) -> Result<weir_workloads::report::RunReport, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(job.wait().map_err(|e| e.to_string()));
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("the process did not end within {limit:?}"))
}

/// A worker panic in process 0 of a 2-process cluster ends both processes with an error that
/// names it, instead of leaving process 1 waiting for progress forever.
#[test]
fn a_failed_process_fails_the_whole_cluster() {
    for query in ["q5", "q0"] {
        let addresses: Vec<String> = free_ports()
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        let mut long = spec(query, 1);
        long.length = RunLength::Events(50_000_000);
        let jobs: Vec<_> = (0..2)
            .map(|process| {
                let mut cluster =
                    TimelyCluster::new(2, process, addresses.clone()).expect("a valid cluster");
                if process == 0 {
                    cluster = cluster.with_injected_panic(20_000);
                }
                let spec = RunSpec {
                    cluster: Some(cluster),
                    ..long.clone()
                };
                runner::start(&spec).expect("the process starts")
            })
            .collect();
        let errors: Vec<String> = jobs
            .into_iter()
            .map(|j| wait_at_most(j, Duration::from_mins(2)).expect_err("the cluster failed"))
            .collect();
        assert!(
            errors[0].contains("process 0: timely worker 0 panicked")
                && errors[0].contains("injected failure"),
            "{query}: {}",
            errors[0]
        );
        assert!(
            errors[1].contains("another process of the timely cluster failed")
                && errors[1].contains("injected failure"),
            "{query}: {}",
            errors[1]
        );
    }
}
