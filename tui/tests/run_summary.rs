//! The end-of-run summary, its one-line form and the progress line, from fixed inputs.

use weir_engine::{MetricsSnapshot, WorkerMetrics};
use weir_tui::console::ConsoleState;
use weir_tui::summary;
use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::cpu::CpuTime;
use weir_workloads::job::{RunLength, RunSpec};
use weir_workloads::report::{
    CpuReport, DigestSummary, LatencySummary, Machine, RunReport, Versions, WorkerReport,
};

fn report() -> RunReport {
    RunReport {
        schema_version: 1,
        engine: "weir".into(),
        workload: "nexmark".into(),
        query: "q5".into(),
        workers: 2,
        pinning: true,
        source: "generate".into(),
        events: 100_000_000,
        rate: None,
        event_rate: 10_000_000,
        startup_s: 0.0123,
        wall_s: 9.87,
        throughput_eps: 100_000_000.0 / 9.87,
        latency_ns: Some(LatencySummary {
            p50: 712_000,
            p99: 1_190_000,
            p999: 4_020_000,
            max: 18_400_000,
            samples: 1_234_567,
        }),
        end_of_input_latency_ns: Some(LatencySummary {
            p50: 150_000_000,
            p99: 352_000_000,
            p999: 358_000_000,
            max: 360_000_000,
            samples: 3_300_000,
        }),
        digest: DigestSummary {
            rows: 2_173_913,
            hash: "0123456789abcdef0123456789abcdef".into(),
        },
        late: 0,
        dropped: 0,
        per_worker: vec![
            WorkerReport {
                busy_s: 8.0,
                idle_s: 1.5,
                backpressured_s: 0.37,
                held_s: 0.0,
                records: 50_000_001,
            },
            WorkerReport {
                busy_s: 7.0,
                idle_s: 2.5,
                backpressured_s: 0.37,
                held_s: 0.0,
                records: 49_999_999,
            },
        ],
        cpu: Some(CpuReport::new(
            CpuTime {
                user_s: 17.5,
                system_s: 0.5,
            },
            100_000_000,
        )),
        machine: Machine {
            cpu: "Example CPU @ 3.0GHz".into(),
            cores: 2,
            memory_gb: 8.0,
            os: "linux 6.1".into(),
        },
        versions: Versions {
            weir: "0.1.0".into(),
            weir_commit: Some("abcdef123456".into()),
            rustc: Some("rustc 1.95.0".into()),
            timely: None,
            differential: None,
            flink: None,
            java: None,
        },
        command: "weir run".into(),
    }
}

#[test]
fn summary_of_a_complete_run() {
    insta::assert_snapshot!("summary_complete", summary::text(&report(), false));
}

#[test]
fn summary_of_a_stopped_run_with_late_records_and_no_latency() {
    let mut r = report();
    r.engine = "flink".into();
    r.latency_ns = None;
    r.end_of_input_latency_ns = None;
    r.late = 42;
    r.per_worker.clear();
    r.versions.flink = Some("2.3.0".into());
    r.versions.java = Some("17.0.12".into());
    insta::assert_snapshot!("summary_stopped_late", summary::text(&r, true));
}

#[test]
fn a_worker_held_by_source_alignment_gets_a_held_column() {
    let plain = summary::text(&report(), false);
    assert!(!plain.contains("held"), "no worker was held: {plain}");
    let mut r = report();
    r.per_worker[0].idle_s = 0.5;
    r.per_worker[0].held_s = 1.0;
    let text = summary::text(&r, false);
    let header = text
        .lines()
        .find(|l| l.contains("busy"))
        .expect("a workers header");
    assert!(
        header.contains("backpressured    held    idle"),
        "header: {header:?}"
    );
    // Worker 0: 8.0 busy, 0.37 backpressured, 1.0 held, 0.5 idle of 9.87 s.
    let w0 = text
        .lines()
        .find(|l| l.trim_start().starts_with("w0"))
        .expect("w0");
    assert!(w0.contains("10.1%") && w0.contains("5.1%"), "w0: {w0:?}");
    let w1 = text
        .lines()
        .find(|l| l.trim_start().starts_with("w1"))
        .expect("w1");
    assert!(w1.contains("0.0%"), "w1 was never held: {w1:?}");
    for line in text.lines().filter(|l| l.contains('%')) {
        assert!(line.chars().count() <= 80, "too wide: {line:?}");
    }
}

#[test]
fn every_summary_line_fits_80_columns_except_the_final_line() {
    let text = summary::text(&report(), true);
    let lines: Vec<&str> = text.lines().collect();
    let (last, rest) = lines.split_last().expect("non-empty");
    for line in rest {
        assert!(line.chars().count() <= 80, "too wide: {line:?}");
    }
    assert_eq!(*last, summary::final_line(&report()));
}

#[test]
fn final_line() {
    assert_eq!(
        summary::final_line(&report()),
        "weir nexmark q5: 10.1M ev/s, p99 1.19 ms, 0 late, 0 dropped, \
         digest 0123456789abcdef0123456789abcdef"
    );
}

#[test]
fn progress_line() {
    let spec = RunSpec {
        pinning: true,
        length: RunLength::Events(10_000_000),
        event_rate: 10_000_000,
        ..RunSpec::new(
            Query::parse(Workload::Nexmark, "q5").expect("a catalog query"),
            EngineKind::Sim,
        )
    };
    let mut state = ConsoleState::new(spec);
    for t in 1..=20u64 {
        state.ingest(MetricsSnapshot {
            elapsed_ns: t * 100_000_000,
            workers: vec![WorkerMetrics {
                events_in: t * 200_000,
                late: 3,
                ..WorkerMetrics::default()
            }],
            watermark_ms: Some(1_000),
            source_time_ms: Some(3_500),
            ..MetricsSnapshot::default()
        });
    }
    assert_eq!(
        summary::progress_line(&state),
        "40% 4.00M of 10.0M events  elapsed 2.0 s  ETA 3.0 s  2.00M ev/s  p99 -  lag 2.50 s  \
         late 3  dropped 0"
    );
}

/// A run whose windows all closed at the end of input has no stream latency: the summary says
/// so instead of blaming the engine, and gives the end-of-input figures.
#[test]
fn summary_of_a_run_whose_windows_all_closed_at_the_end_of_input() {
    let mut r = report();
    r.latency_ns = None;
    let text = summary::text(&r, false);
    assert!(
        text.contains("Latency        no window closed before the end of input"),
        "{text}"
    );
    assert!(!text.contains("not reported by engine"), "{text}");
    assert!(
        text.contains("End of input   p50 150 ms  max 360 ms"),
        "{text}"
    );
    let line = summary::final_line(&r);
    assert!(
        line.contains(", p99 n/a (every window closed at the end of input, max 360 ms), "),
        "{line}"
    );
    r.end_of_input_latency_ns = None;
    assert!(summary::text(&r, false).contains("not reported by engine 'weir'"));
    assert!(summary::final_line(&r).contains(", p99 n/a, "));
}

/// A paced run that kept up while a worker was busy 95 % of it or more says it had no headroom,
/// in the summary and in the final line; Flink's per-slot times (every task of the slot added
/// up) never do, and an unpaced run has no offered rate to lack headroom at.
#[test]
fn a_paced_run_with_a_worker_busy_nearly_all_of_it_has_no_headroom() {
    let mut r = report();
    r.rate = Some(10_000_000); // 10.1 M ev/s achieved: sustained.
    assert_eq!(r.fell_behind(), Some(false));
    // Worker 0: 8.0 busy of 9.87 s (81 %): room to spare.
    assert_eq!(r.no_headroom(), Some(false));
    assert!(!summary::text(&r, false).contains("HEADROOM"));
    assert!(!summary::final_line(&r).contains("HEADROOM"));

    r.per_worker[1].busy_s = 9.4;
    r.per_worker[1].idle_s = 0.1;
    // 9.4 / (9.4 + 0.1 + 0.37) = 95.2 %.
    assert_eq!(r.no_headroom(), Some(true));
    let text = summary::text(&r, false);
    let offered = text
        .lines()
        .find(|l| l.trim_start().starts_with("Offered"))
        .expect("an Offered row");
    assert!(
        offered.contains("sustained  <- NO HEADROOM: a worker was busy 95 % of the run"),
        "{offered}"
    );
    assert!(
        summary::final_line(&r).contains(": 10.1M ev/s (NO HEADROOM: a worker busy 95 %), p99"),
        "{}",
        summary::final_line(&r)
    );

    let mut unpaced = r.clone();
    unpaced.rate = None;
    assert_eq!(unpaced.no_headroom(), None);
    assert!(!summary::final_line(&unpaced).contains("HEADROOM"));

    let mut flink = r.clone();
    // The name the runner writes (the report module matches it as text).
    flink.engine = EngineKind::Flink.to_string();
    assert_eq!(flink.busiest_worker_share(), None);
    assert!(!summary::final_line(&flink).contains("HEADROOM"));

    // Falling behind says more than having no headroom: only that is said.
    let mut behind = r;
    behind.rate = Some(20_000_000);
    assert_eq!(behind.fell_behind(), Some(true));
    let line = summary::final_line(&behind);
    assert!(
        line.contains("FELL BEHIND") && !line.contains("HEADROOM"),
        "{line}"
    );
}
