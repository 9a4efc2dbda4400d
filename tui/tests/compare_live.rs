//! The live view of `weir compare`, rendered on ratatui's TestBackend from a fixed state.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use weir_engine::{MetricsSnapshot, WorkerMetrics};
use weir_tui::compare::live::{LiveState, draw};
use weir_tui::compare::mock::MockExecutor;
use weir_tui::compare::{ComparePlan, Outputs, Quiet, RunSlot, run_compare};
use weir_tui::pretouch::Pretouch;
use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::job::{EventFormat, SourceMode};

fn state() -> LiveState {
    let plan = ComparePlan {
        workload: Workload::Nexmark,
        queries: vec![Query::Q5, Query::Q8],
        engines: vec![EngineKind::Weir, EngineKind::Timely, EngineKind::Flink],
        runs: 3,
        warmup: true,
        workers: 2,
        pinning: true,
        events: 1_000_000,
        rate: None,
        load: None,
        duration_s: None,
        event_rate: 10_000_000,
        source: SourceMode::Generate,
        format: EventFormat::Records,
        command: "test".to_string(),
        input: None,
        side_input: None,
        started_at: "2026-01-01T00:00:00Z".to_string(),
        flink_cluster: None,
        pretouch: Pretouch::default(),
    };
    let report = run_compare(
        &plan,
        &mut MockExecutor::new(),
        &mut Quiet,
        &Outputs::default(),
    )
    .expect("the mock writes no files");
    let mut s = LiveState::new("weir compare nexmark q5,q8".to_string(), 3, false, false);
    let slot = RunSlot {
        query: "q8".to_string(),
        engine: EngineKind::Timely,
        round: Some(3),
        calibration: false,
        index: 23,
        total: 24,
    };
    s.start(&slot, &plan.spec(Query::Q8, EngineKind::Timely));
    for k in 1..=6u64 {
        s.observe(&MetricsSnapshot {
            elapsed_ns: k * 100_000_000,
            workers: vec![WorkerMetrics {
                events_in: k * 60_000 + (k % 2) * 20_000,
                ..WorkerMetrics::default()
            }],
            events_total: Some(1_000_000),
            ..MetricsSnapshot::default()
        });
    }
    let finished = RunSlot {
        engine: EngineKind::Weir,
        index: 22,
        ..slot
    };
    let weir_q8 = report
        .runs
        .iter()
        .rfind(|r| r.engine == "weir" && r.query == "q8")
        .expect("weir ran q8");
    s.finish(&finished, Ok(weir_q8), &report);
    s
}

#[test]
fn live_view_80x24() {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let s = state();
    terminal.draw(|f| draw(f, &s)).unwrap();
    insta::assert_snapshot!("live_80x24", terminal.backend());
}

#[test]
fn live_view_120x36_paused() {
    let mut terminal = Terminal::new(TestBackend::new(120, 36)).unwrap();
    let mut s = state();
    s.paused = true;
    terminal.draw(|f| draw(f, &s)).unwrap();
    insta::assert_snapshot!("live_120x36_paused", terminal.backend());
}
