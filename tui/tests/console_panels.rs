//! Every console panel and view drawn on ratatui's `TestBackend` from fixed snapshots, at
//! 80x24 and 200x50, compared with insta snapshots (`tests/snapshots/`).

use std::time::Duration;

use hdrhistogram::Histogram;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use weir_engine::{MetricsSnapshot, OperatorMetrics, WorkerMetrics};
use weir_tui::console::header::{self, Status};
use weir_tui::console::{
    App, ConsoleState, Theme, dataflow, exchange, help, hints, latency, progress, throughput, view,
    watermark, workers,
};
use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::job::{RunLength, RunSpec};

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];
const BASE_MS: i64 = 1_436_918_400_000;

fn spec(engine: EngineKind, workers: usize) -> RunSpec {
    RunSpec {
        workers,
        pinning: true,
        length: RunLength::Events(60_000_000),
        event_rate: 10_000_000,
        command: "weir run nexmark --engine sim".into(),
        ..RunSpec::new(
            Query::parse(Workload::Nexmark, "q5").expect("a catalog query"),
            engine,
        )
    }
}

/// A deterministic job: 4 workers, worker 3 at a third of the others' rate, a rate that
/// ramps up over the first second, 12 late records, a latency spread of 150 us .. 40 ms.
fn snapshot(step: u64, workers: usize) -> MetricsSnapshot {
    let t_ns = step * 100_000_000;
    let t_s = t_ns as f64 / 1e9;
    let ramp = (t_s / 1.0).min(1.0);
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("bounds");
    for i in 0..(step * 50) {
        let v = 150_000 + (i * i * 7_919) % 2_000_000 + if i % 97 == 0 { 38_000_000 } else { 0 };
        latency.record(v).expect("in bounds");
    }
    let ws: Vec<WorkerMetrics> = (0..workers)
        .map(|w| {
            let per_s = if w == 3 { 700_000.0 } else { 2_100_000.0 };
            let events = (per_s * t_s * ramp) as u64;
            WorkerMetrics {
                events_in: events,
                records_out: events / 46,
                batches_sent: events / 1024,
                bytes_sent: events * 16,
                late: if w == 1 && step > 20 { 12 } else { 0 },
                dropped: 0,
                busy_ns: t_ns / 100 * (70 + 5 * (w % 4) as u64),
                idle_ns: t_ns / 100 * (25 - 5 * (w % 4) as u64),
                backpressured_ns: t_ns / 100 * 5,
                held_ns: 0,
                operators: Vec::new(),
            }
        })
        .collect();
    let events: u64 = ws.iter().map(|w| w.events_in).sum();
    let source = BASE_MS + (events as i64 * 1000) / 10_000_000;
    MetricsSnapshot {
        elapsed_ns: t_ns,
        workers: ws,
        exchange_fill: Some(
            (0..workers)
                .map(|p| {
                    (0..workers)
                        .map(|c| {
                            if c == 3 {
                                0.95
                            } else {
                                ((p + 2 * c) % 5) as f32 / 5.0
                            }
                        })
                        .collect()
                })
                .collect(),
        ),
        latency_ns: Some(latency),
        end_of_input_latency_ns: None,
        watermark_ms: Some(source - 2_000 - (step as i64 % 7) * 100),
        source_time_ms: Some(source),
        events_total: Some(60_000_000),
        finished: false,
        table: None,
    }
}

fn state_with(engine: EngineKind, workers: usize, steps: u64) -> ConsoleState {
    let mut state = ConsoleState::new(spec(engine, workers));
    for step in 1..=steps {
        state.ingest(snapshot(step, workers));
    }
    state
}

/// 6 s into a run of the sim engine.
fn running() -> ConsoleState {
    state_with(EngineKind::Sim, 4, 60)
}

/// An engine that feeds only event counts: no latency, no queues, no watermark.
fn bare() -> ConsoleState {
    let mut state = ConsoleState::new(spec(EngineKind::Flink, 2));
    for step in 1..=30 {
        let mut s = snapshot(step, 2);
        s.latency_ns = None;
        s.exchange_fill = None;
        s.watermark_ms = None;
        s.source_time_ms = None;
        state.ingest(s);
    }
    state
}

fn theme() -> Theme {
    Theme::new(EngineKind::Sim, true, false)
}

fn draw(size: (u16, u16), f: impl FnOnce(Rect, &mut Buffer)) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(size.0, size.1)).expect("test backend");
    terminal
        .draw(|frame| f(frame.area(), frame.buffer_mut()))
        .expect("drawing on a test backend cannot fail");
    terminal
}

macro_rules! snap_all_sizes {
    ($name:literal, $body:expr) => {
        for size in SIZES {
            let terminal = draw(size, $body);
            insta::assert_snapshot!(
                format!("{}_{}x{}", $name, size.0, size.1),
                terminal.backend()
            );
        }
    };
}

#[test]
fn throughput_panel() {
    let s = running();
    snap_all_sizes!("throughput", |a, b| throughput::render(
        &s,
        &theme(),
        30,
        a,
        b
    ));
    snap_all_sizes!("throughput_zoomed_5s", |a, b| throughput::render(
        &s,
        &theme(),
        5,
        a,
        b
    ));
}

#[test]
fn per_worker_throughput_panel() {
    let s = running();
    snap_all_sizes!("worker_throughput", |a, b| throughput::render_workers(
        &s,
        &theme(),
        10,
        a,
        b
    ));
}

#[test]
fn latency_panel() {
    let s = running();
    snap_all_sizes!("latency", |a, b| latency::render(&s, &theme(), a, b));
}

#[test]
fn workers_panel() {
    let s = running();
    snap_all_sizes!("workers", |a, b| workers::render(&s, &theme(), a, b));
}

/// A weir run whose worker 0 waits for its peers' sources a tenth of the time (source
/// alignment): its idle share becomes held time.
fn held() -> ConsoleState {
    let mut state = ConsoleState::new(spec(EngineKind::Weir, 2));
    for step in 1..=30 {
        let mut s = snapshot(step, 2);
        let w0 = &mut s.workers[0];
        w0.held_ns = step * 10_000_000;
        w0.idle_ns -= w0.held_ns;
        state.ingest(s);
    }
    state
}

#[test]
fn workers_panel_with_time_held_by_source_alignment() {
    let s = held();
    let split = s.worker_split(0).expect("time reported");
    assert!((split.held - 0.1).abs() < 1e-9 && (split.idle - 0.15).abs() < 1e-9);
    assert!(s.worker_split(1).expect("time reported").held == 0.0);
    assert!(s.any_worker_held() && !running().any_worker_held());
    snap_all_sizes!("workers_held", |a, b| workers::render(&s, &theme(), a, b));
}

#[test]
fn exchange_panel() {
    let s = running();
    snap_all_sizes!("exchange", |a, b| exchange::render(&s, &theme(), a, b));
    // 64 workers cannot get a cell each at 80x24: cells group workers and keep the maximum.
    let big = state_with(EngineKind::Sim, 64, 5);
    snap_all_sizes!("exchange_64_workers", |a, b| exchange::render(
        &big,
        &theme(),
        a,
        b
    ));
}

#[test]
fn watermark_panel() {
    let s = running();
    snap_all_sizes!("watermark", |a, b| watermark::render(
        &s,
        &theme(),
        30,
        a,
        b
    ));
}

#[test]
fn progress_header_hints_help() {
    let s = running();
    snap_all_sizes!("progress", |a, b| progress::render(&s, &theme(), a, b));
    snap_all_sizes!("header", |a, b| header::render(
        s.spec(),
        Status::Running,
        &theme(),
        a,
        b
    ));
    let app = App::new(spec(EngineKind::Sim, 4), theme());
    snap_all_sizes!("hints", |a, b| hints::render(&app, a, b));
    snap_all_sizes!("help", |a, b| help::render(&theme(), a, b));
}

fn app_at(steps: u64) -> App {
    let mut app = App::new(spec(EngineKind::Sim, 4), theme());
    for step in 1..=steps {
        app.ingest(snapshot(step, 4));
    }
    app
}

#[test]
fn views() {
    use crossterm::event::{KeyCode, KeyEvent};
    let mut app = app_at(60);
    snap_all_sizes!("view_overview", |a, b| view::render(&app, false, a, b));
    app.handle_key(KeyEvent::from(KeyCode::Tab));
    snap_all_sizes!("view_workers", |a, b| view::render(&app, false, a, b));
    app.handle_key(KeyEvent::from(KeyCode::Tab));
    snap_all_sizes!("view_latency", |a, b| view::render(&app, false, a, b));
}

#[test]
fn views_for_an_engine_that_cannot_feed_every_panel() {
    let s = bare();
    snap_all_sizes!("bare_overview", |a, b| view::overview(
        &s,
        &theme(),
        30,
        a,
        b
    ));
    snap_all_sizes!("bare_workers_view", |a, b| view::workers_view(
        &s,
        &theme(),
        30,
        a,
        b
    ));
    snap_all_sizes!("bare_latency_view", |a, b| view::latency_view(
        &s,
        &theme(),
        30,
        a,
        b
    ));
}

#[test]
fn before_the_first_snapshot_panels_say_waiting() {
    let app = App::new(spec(EngineKind::Weir, 4), theme());
    snap_all_sizes!("view_waiting", |a, b| view::render(&app, false, a, b));
}

#[test]
fn ascii_fallback() {
    let mut app = App::new(
        spec(EngineKind::Sim, 4),
        Theme::new(EngineKind::Sim, false, true),
    );
    for step in 1..=60 {
        app.ingest(snapshot(step, 4));
    }
    let terminal = draw((80, 24), |a, b| view::render(&app, false, a, b));
    let text = terminal.backend().to_string();
    insta::assert_snapshot!("ascii_overview_80x24", text);
    // Every drawn cell is ASCII (the snapshot's own quotes and line ends aside).
    let buffer = terminal.backend().buffer();
    assert!(buffer.content().iter().all(|c| c.symbol().is_ascii()));
}

#[test]
fn finished_run_shows_full_progress_and_an_ended_input() {
    let mut state = running();
    let mut last = snapshot(61, 4);
    last.finished = true;
    last.watermark_ms = Some(i64::MAX);
    state.ingest(last);
    let text = progress::text(&state);
    assert!(text.starts_with("100%"), "{text}");
    assert!(text.ends_with("done"), "{text}");
    let terminal = draw((80, 8), |a, b| {
        watermark::render(&state, &theme(), 30, a, b);
    });
    assert!(
        terminal
            .backend()
            .to_string()
            .contains("input ended, every window fired")
    );
}

#[test]
fn duration_runs_show_time_progress() {
    let mut spec = spec(EngineKind::Sim, 2);
    spec.length = RunLength::Duration(Duration::from_secs(10));
    let mut state = ConsoleState::new(spec);
    let mut s = snapshot(25, 2);
    s.events_total = None;
    state.ingest(s);
    let p = state.progress();
    assert_eq!(p.fraction, Some(0.25));
    assert_eq!(p.eta_s, Some(7.5));
    assert!(progress::text(&state).contains("2.5 s of 10.0 s"));
}

#[test]
fn every_view_draws_at_any_size_without_panicking() {
    use crossterm::event::{KeyCode, KeyEvent};
    let mut app = app_at(60);
    let bare_state = bare();
    let widths = [1, 2, 5, 9, 10, 13, 20, 24, 30, 40, 79, 80, 119, 120, 200];
    let heights = [1, 2, 3, 4, 5, 8, 12, 24, 50];
    for _view in 0..3 {
        for help in [false, true] {
            for &w in &widths {
                for &h in &heights {
                    draw((w, h), |a, b| view::render(&app, false, a, b));
                    draw((w, h), |a, b| {
                        view::overview(&bare_state, &theme(), 30, a, b);
                    });
                }
            }
            app.handle_key(KeyEvent::from(KeyCode::Char('?')));
            assert_eq!(app.help(), !help);
        }
        app.handle_key(KeyEvent::from(KeyCode::Tab));
    }
    let big = state_with(EngineKind::Sim, 64, 5);
    for &w in &widths {
        for &h in &heights {
            draw((w, h), |a, b| view::workers_view(&big, &theme(), 30, a, b));
        }
    }
}

#[test]
fn colours_mark_problems_and_vanish_without_colour() {
    use ratatui::style::Color;
    let mut colored = App::new(spec(EngineKind::Sim, 4), theme());
    let mut plain = App::new(
        spec(EngineKind::Sim, 4),
        Theme::new(EngineKind::Sim, false, false),
    );
    for step in 1..=60 {
        colored.ingest(snapshot(step, 4));
        plain.ingest(snapshot(step, 4));
    }
    let t = draw((80, 24), |a, b| {
        view::workers_view(colored.shown(), colored.theme(), 10, a, b);
    });
    let buffer = t.backend().buffer();
    // Worker 3 runs at a third of the others: its rate is in the warning colour.
    let row = (0..24)
        .find(|y| (0..4).map(|x| buffer[(x, *y)].symbol()).collect::<String>() == "│w3 ")
        .expect("a row for worker 3");
    assert_eq!(buffer[(70, row)].fg, Color::Yellow);
    assert_ne!(buffer[(70, row - 1)].fg, Color::Yellow);
    // Without colour nothing has a foreground or background colour.
    for view_index in 0..3 {
        let t = draw((200, 50), |a, b| view::render(&plain, false, a, b));
        let cells = t.backend().buffer().content();
        assert!(
            cells
                .iter()
                .all(|c| c.fg == Color::Reset && c.bg == Color::Reset),
            "view {view_index} has colour"
        );
        plain.handle_key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Tab,
        ));
    }
}

/// A q5-shaped dataflow on every worker of `snapshot`: the window on worker 3 is 64 % busy in
/// its own code (of the worker's 85 %), its input queue (column 3 of the fill) is full.
fn with_operators(mut snapshot: MetricsSnapshot) -> MetricsSnapshot {
    let t_ns = snapshot.elapsed_ns;
    let fills = snapshot.exchange_fill.clone().unwrap_or_default();
    for (w, worker) in snapshot.workers.iter_mut().enumerate() {
        let n = worker.events_in;
        let window_share = if w == 3 { 64 } else { 30 };
        let fill = fills
            .get(w)
            .map(|row| row.iter().copied().fold(0.0, f32::max));
        let ops = [
            ("source", vec![], n, n, 8, None),
            ("flat_map", vec![0], n, n * 9 / 10, 4, None),
            ("key_by", vec![1], n * 9 / 10, n * 9 / 10, 6, fill),
            (
                "window_leaders",
                vec![2],
                n * 9 / 10,
                n / 50,
                window_share,
                None,
            ),
            ("key_by", vec![3], n / 50, n / 50, 1, Some(0.1)),
            ("window_leaders_merge", vec![4], n / 50, n / 46, 2, None),
            ("flat_map", vec![5], n / 46, n / 46, 0, None),
            ("sink", vec![6], n / 46, n / 46, 0, None),
        ];
        worker.operators = ops
            .into_iter()
            .map(
                |(name, inputs, records_in, records_out, share, fill)| OperatorMetrics {
                    name: name.into(),
                    inputs,
                    records_in: Some(records_in),
                    records_out: Some(records_out),
                    busy_ns: t_ns / 100 * share,
                    exchange: fill.is_some(),
                    fill,
                    state_records: None,
                },
            )
            .collect();
    }
    snapshot
}

#[test]
fn dataflow_view_names_the_bottleneck() {
    let mut s = ConsoleState::new(spec(EngineKind::Weir, 4));
    for step in 1..=60 {
        s.ingest(with_operators(snapshot(step, 4)));
    }
    snap_all_sizes!("dataflow", |a, b| dataflow::render(&s, &theme(), a, b));
    let line = s
        .dataflow()
        .and_then(|d| d.bottleneck)
        .map(|b| b.line("q5"))
        .expect("weir reports operators");
    assert_eq!(
        line,
        "window_leaders(q5) on w3: 64% busy, its input queue full"
    );
    let ascii = Theme::new(EngineKind::Weir, false, true);
    let terminal = draw((100, 20), |a, b| dataflow::render(&s, &ascii, a, b));
    insta::assert_snapshot!("dataflow_ascii_100x20", terminal.backend());
}

#[test]
fn dataflow_view_says_what_an_engine_does_not_report() {
    let s = bare();
    let terminal = draw((80, 12), |a, b| dataflow::render(&s, &theme(), a, b));
    insta::assert_snapshot!("dataflow_unavailable_80x12", terminal.backend());
}

#[cfg(feature = "flink")]
/// A Flink q5 run at parallelism 2 as its `PROGRESS` lines report it: three job vertices (the
/// source chain, the window chain, the max-per-window chain into the sink), joined by hash
/// edges; the window's subtask 1 is 92 % busy and the source's output buffers on worker 1 are
/// full (it is back-pressured); a chain ending in a sink sends nothing on (Flink counts records
/// out of a vertex on its outputs). The line goes through the Flink adapter's parser and vertex
/// mapping, as in a real run; the snapshot has no per-pair exchange fill (Flink's is per
/// vertex), so the bottleneck line claims nothing about input queues.
fn flink_q5(step: u64) -> MetricsSnapshot {
    use weir_workloads::flink::{operators, protocol};
    let mut s = snapshot(step, 2);
    s.exchange_fill = None;
    let t_ms = step * 100;
    let n: Vec<u64> = s.workers.iter().map(|w| w.events_in).collect();
    let bids: Vec<u64> = n.iter().map(|e| e * 92 / 100).collect();
    let vertices = serde_json::json!([
        {
            "name": "Source: nexmark-source -> bids -> bid",
            "inputs": [], "ships": [],
            "records_in": [0, 0], "records_out": bids,
            "busy_ms": [t_ms * 30 / 100, t_ms * 20 / 100],
            "out_pool_usage": [0.35, 1.0],
        },
        {
            "name": "q5-count-per-auction -> late: Writer",
            "inputs": [0], "ships": ["HASH"],
            "records_in": [bids[1], bids[0]], "records_out": [n[0] / 50, n[1] / 50],
            "busy_ms": [t_ms * 55 / 100, t_ms * 92 / 100],
            "out_pool_usage": [0.05, 0.1],
        },
        {
            "name": "q5-max-per-window -> digest: Writer",
            "inputs": [1], "ships": ["HASH"],
            "records_in": [n[1] / 50, n[0] / 50], "records_out": [0, 0],
            "busy_ms": [t_ms * 2 / 100, t_ms * 3 / 100],
            "out_pool_usage": [0.0, 0.0],
        },
    ]);
    let line = format!(
        "PROGRESS {}",
        serde_json::json!({
            "elapsed_ns": s.elapsed_ns, "events": n, "rows": [0, 0], "watermark": null,
            "source_time": null, "late": 0, "vertices": vertices, "finished": false,
            "latency_ns": [],
        })
    );
    let protocol::Line::Progress(p) = protocol::parse(&line).expect("a valid line") else {
        panic!("a progress line");
    };
    for (w, ops) in operators::of_progress(&p, 2).into_iter().enumerate() {
        s.workers[w].operators = ops;
    }
    s
}

#[cfg(feature = "flink")]
#[test]
fn dataflow_view_of_a_flink_job() {
    let mut s = ConsoleState::new(spec(EngineKind::Flink, 2));
    for step in 1..=60 {
        s.ingest(flink_q5(step));
    }
    snap_all_sizes!("dataflow_flink", |a, b| dataflow::render(
        &s,
        &theme(),
        a,
        b
    ));
    let flow = s.dataflow().expect("Flink reports its vertices");
    let line = flow
        .bottleneck
        .as_ref()
        .map(|b| b.line("q5"))
        .expect("a busiest vertex");
    assert_eq!(
        line,
        "q5-count-per-auction -> late: Writer(q5) on w1: 92% busy"
    );
    let marked: Vec<bool> = flow.ops.iter().map(|o| o.exchange).collect();
    assert_eq!(
        marked,
        [true, true, false],
        "the sink's vertex has no output"
    );
    assert_eq!(flow.ops[0].fill(), Some(1.0));
}

/// q5 as timely's log shows it on 2 workers (`workloads/src/timely/oplog.rs`): the operator
/// names the adapter gives, records on every channel but none out of the sink (it has no
/// channel out), two exchanges without queue fill, and the pane count on worker 1 at 55 % of
/// wall time in its own code.
fn timely_q5(step: u64) -> MetricsSnapshot {
    let mut s = snapshot(step, 2);
    s.exchange_fill = None;
    let t_ns = s.elapsed_ns;
    for (w, worker) in s.workers.iter_mut().enumerate() {
        let n = worker.events_in;
        let count_share = if w == 1 { 55 } else { 40 };
        let ops = [
            ("Source", vec![], None, Some(n), 20, false),
            ("FlatMap", vec![0], Some(n), Some(n), 5, true),
            (
                "Q5PaneCount",
                vec![1],
                Some(n),
                Some(n / 50),
                count_share,
                true,
            ),
            (
                "Q5GlobalMax",
                vec![2],
                Some(n / 50),
                Some(n / 100),
                1,
                false,
            ),
            ("DigestSink", vec![3], Some(n / 100), None, 0, false),
        ];
        worker.operators = ops
            .into_iter()
            .map(
                |(name, inputs, records_in, records_out, share, exchange)| OperatorMetrics {
                    name: name.into(),
                    inputs,
                    records_in,
                    records_out,
                    busy_ns: t_ns / 100 * share,
                    exchange,
                    fill: None,
                    state_records: None,
                },
            )
            .collect();
    }
    s
}

#[test]
fn dataflow_view_of_a_timely_run_shows_what_timely_does_not_report() {
    let mut s = ConsoleState::new(spec(EngineKind::Timely, 2));
    for step in 1..=30 {
        s.ingest(timely_q5(step));
    }
    snap_all_sizes!("dataflow_timely", |a, b| dataflow::render(
        &s,
        &theme(),
        a,
        b
    ));
    let line = s
        .dataflow()
        .and_then(|d| d.bottleneck)
        .map(|b| b.line("q5"))
        .expect("timely reports operators");
    assert_eq!(line, "Q5PaneCount(q5) on w1: 55% busy");
}

#[test]
fn dataflow_view_of_timely_without_operators_says_where_they_come_from() {
    let mut s = ConsoleState::new(spec(EngineKind::Timely, 2));
    for step in 1..=3 {
        s.ingest(snapshot(step, 2));
    }
    let terminal = draw((80, 12), |a, b| dataflow::render(&s, &theme(), a, b));
    insta::assert_snapshot!("dataflow_timely_no_operators_80x12", terminal.backend());
}
