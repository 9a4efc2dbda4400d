//! Key handling and console state, on `App` and `ConsoleState` without rendering.
#![allow(clippy::float_cmp)] // job times here are exact multiples of 100 ms from integer ns

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use weir_engine::{MetricsSnapshot, WorkerMetrics};
use weir_tui::console::app::{DEFAULT_SCALE_INDEX, TIME_SCALES_S};
use weir_tui::console::{App, ConsoleState, KeyOutcome, Theme, View};
use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::job::{RunLength, RunSpec};

fn spec() -> RunSpec {
    RunSpec {
        workers: 2,
        pinning: true,
        length: RunLength::Events(1_000_000),
        event_rate: 10_000_000,
        ..RunSpec::new(
            Query::parse(Workload::Nexmark, "q5").expect("a catalog query"),
            EngineKind::Sim,
        )
    }
}

fn app() -> App {
    App::new(spec(), Theme::new(EngineKind::Sim, false, false))
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::from(code)
}

/// Two workers at `per_worker` events/s each, at job time `t_ms`.
fn snap(t_ms: u64, per_worker: u64) -> MetricsSnapshot {
    let events = per_worker * t_ms / 1000;
    MetricsSnapshot {
        elapsed_ns: t_ms * 1_000_000,
        workers: (0..2)
            .map(|_| WorkerMetrics {
                events_in: events,
                busy_ns: t_ms * 600_000,
                idle_ns: t_ms * 300_000,
                backpressured_ns: t_ms * 100_000,
                ..WorkerMetrics::default()
            })
            .collect(),
        events_total: Some(1_000_000),
        ..MetricsSnapshot::default()
    }
}

#[test]
fn q_and_ctrl_c_quit() {
    let mut a = app();
    assert!(!a.quit_requested());
    assert_eq!(a.handle_key(key(KeyCode::Char('q'))), KeyOutcome::Quit);
    assert!(a.quit_requested());
    let mut b = app();
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(b.handle_key(ctrl_c), KeyOutcome::Quit);
    assert!(b.quit_requested());
    // A plain 'c' does nothing.
    let mut c = app();
    assert_eq!(c.handle_key(key(KeyCode::Char('c'))), KeyOutcome::Ignored);
    assert!(!c.quit_requested());
}

#[test]
fn key_releases_are_ignored() {
    let mut a = app();
    let mut release = key(KeyCode::Char('q'));
    release.kind = KeyEventKind::Release;
    assert_eq!(a.handle_key(release), KeyOutcome::Ignored);
    assert!(!a.quit_requested());
}

#[test]
fn tab_cycles_views_both_ways_and_digits_jump() {
    let mut a = app();
    assert_eq!(a.view(), View::Overview);
    a.handle_key(key(KeyCode::Tab));
    assert_eq!(a.view(), View::Workers);
    a.handle_key(key(KeyCode::Tab));
    assert_eq!(a.view(), View::Latency);
    a.handle_key(key(KeyCode::Tab));
    assert_eq!(a.view(), View::Dataflow);
    a.handle_key(key(KeyCode::Tab));
    assert_eq!(a.view(), View::Overview);
    a.handle_key(key(KeyCode::BackTab));
    assert_eq!(a.view(), View::Dataflow);
    a.handle_key(key(KeyCode::Char('4')));
    assert_eq!(a.view(), View::Dataflow);
    a.handle_key(key(KeyCode::Char('2')));
    assert_eq!(a.view(), View::Workers);
    a.handle_key(key(KeyCode::Char('1')));
    assert_eq!(a.view(), View::Overview);
}

#[test]
fn plus_and_minus_change_the_time_scale_within_bounds() {
    let mut a = app();
    assert_eq!(a.scale_s(), TIME_SCALES_S[DEFAULT_SCALE_INDEX]);
    assert_eq!(a.handle_key(key(KeyCode::Char('+'))), KeyOutcome::Redraw);
    assert_eq!(a.scale_s(), TIME_SCALES_S[DEFAULT_SCALE_INDEX - 1]);
    for _ in 0..10 {
        a.handle_key(key(KeyCode::Char('+')));
    }
    assert_eq!(a.scale_s(), TIME_SCALES_S[0]);
    assert_eq!(a.handle_key(key(KeyCode::Char('+'))), KeyOutcome::Ignored);
    for _ in 0..10 {
        a.handle_key(key(KeyCode::Char('-')));
    }
    assert_eq!(a.scale_s(), *TIME_SCALES_S.last().expect("non-empty"));
    a.handle_key(key(KeyCode::Char('=')));
    assert_eq!(a.scale_s(), TIME_SCALES_S[TIME_SCALES_S.len() - 2]);
}

#[test]
fn help_toggles_and_esc_closes_it() {
    let mut a = app();
    a.handle_key(key(KeyCode::Char('?')));
    assert!(a.help());
    a.handle_key(key(KeyCode::Esc));
    assert!(!a.help());
    assert_eq!(a.handle_key(key(KeyCode::Esc)), KeyOutcome::Ignored);
    a.handle_key(key(KeyCode::Char('?')));
    a.handle_key(key(KeyCode::Char('?')));
    assert!(!a.help());
}

#[test]
fn pause_freezes_the_view_but_not_the_job() {
    let mut a = app();
    a.ingest(snap(1000, 1_000));
    a.handle_key(key(KeyCode::Char('p')));
    assert!(a.paused());
    a.ingest(snap(2000, 1_000));
    // The screen still shows t = 1 s; the live state moved on.
    assert_eq!(a.shown().elapsed_s(), 1.0);
    assert_eq!(a.live().elapsed_s(), 2.0);
    a.handle_key(key(KeyCode::Char('p')));
    assert!(!a.paused());
    assert_eq!(a.shown().elapsed_s(), 2.0);
    // Space pauses too.
    a.handle_key(key(KeyCode::Char(' ')));
    assert!(a.paused());
}

#[test]
fn rates_are_differences_of_cumulative_counters() {
    let mut s = ConsoleState::new(spec());
    for t in (100..=3000).step_by(100) {
        s.ingest(snap(t, 50_000));
    }
    assert_eq!(s.events(), 300_000);
    let now = s.current_eps().expect("a rate after 3 s");
    assert!((now - 100_000.0).abs() < 1e-6, "{now}");
    let mean = s.mean_eps().expect("a mean");
    assert!((mean - 100_000.0).abs() < 1e-6, "{mean}");
    assert!((s.worker_current_eps(1).expect("rate") - 50_000.0).abs() < 1e-6);
    let split = s.worker_split(0).expect("time reported");
    assert!((split.busy - 0.6).abs() < 1e-9 && (split.backpressured - 0.1).abs() < 1e-9);
    // 30 s window, 30 columns: the first three seconds hold the rate, the rest is future.
    let cols = s.throughput_columns(30.0, 30);
    assert_eq!(cols.len(), 30);
    assert!(
        cols[..3]
            .iter()
            .all(|c| (c.expect("past") - 100_000.0).abs() < 1e-6)
    );
    assert!(cols[3..].iter().all(Option::is_none));
    // Progress: 300k of 1M events, 700k left at 100k/s.
    let p = s.progress();
    assert_eq!(p.fraction, Some(0.3));
    assert!((p.eta_s.expect("an eta") - 7.0).abs() < 1e-6);
}

#[test]
fn a_rate_change_shows_in_current_and_peak_but_not_mean() {
    let mut s = ConsoleState::new(spec());
    for t in (100..=2000).step_by(100) {
        s.ingest(snap(t, 50_000));
    }
    // Then the job stalls for two seconds.
    for t in (2100..=4000).step_by(100) {
        s.ingest(snap(2000, 50_000).with_elapsed(t));
    }
    assert_eq!(s.current_eps(), Some(0.0));
    assert!((s.peak_eps() - 100_000.0).abs() < 1e-6);
    assert!((s.mean_eps().expect("mean") - 50_000.0).abs() < 1e-6);
}

#[test]
fn repeated_snapshots_are_not_samples() {
    let mut s = ConsoleState::new(spec());
    assert!(s.ingest(snap(100, 10)));
    assert!(!s.ingest(snap(100, 10)));
    assert_eq!(s.history().len(), 1);
    // An empty snapshot (the engine has not published yet) is not data.
    assert!(!s.ingest(MetricsSnapshot::default()));
}

#[test]
fn warnings_name_late_dropped_and_skewed_workers() {
    let mut s = ConsoleState::new(spec());
    for t in (100..=3000).step_by(100) {
        let mut m = snap(t, 50_000);
        m.workers[1].events_in /= 4;
        m.workers[0].late = 3;
        m.workers[1].dropped = 1;
        s.ingest(m);
    }
    let w = s.warnings();
    assert!(w.iter().any(|m| m == "1 records dropped"), "{w:?}");
    assert!(w.iter().any(|m| m == "3 late records"), "{w:?}");
    assert!(w.iter().any(|m| m.starts_with("worker 1 skewed")), "{w:?}");
    assert!(!w.iter().any(|m| m.starts_with("worker 0")), "{w:?}");
}

trait WithElapsed {
    fn with_elapsed(self, t_ms: u64) -> Self;
}

impl WithElapsed for MetricsSnapshot {
    fn with_elapsed(mut self, t_ms: u64) -> Self {
        self.elapsed_ns = t_ms * 1_000_000;
        self
    }
}
