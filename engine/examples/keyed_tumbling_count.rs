//! A keyed tumbling count: events `(key, event time)` are spread over the workers' sources,
//! keyed by `key`, and counted per 1-second event-time window; a window's count is emitted
//! when the watermark passes its end.
//!
//! Run with `cargo run -p weir-engine --example keyed_tumbling_count [workers] [events]`.
//!
//! The window is the engine's own: `Stream::window` with a tumbling [`WindowSpec`] and the
//! built-in [`Count`] aggregate (sliding and session windows, joins and other aggregates are used
//! the same way).

use std::sync::{Arc, Mutex, PoisonError};

use weir_engine::window::{Count, WindowSpec};
use weir_engine::{Collector, Config, IterSource, execute};

const WINDOW_MS: i64 = 1000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let workers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let events: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);

    let results = Arc::new(Mutex::new(Vec::new()));
    let collector = Collector::new();
    let config = Config::new(workers)
        .with_pinning(false)
        .with_collector(collector.clone());
    let sink = Arc::clone(&results);
    execute(config, move |worker| {
        let (me, peers) = (worker.index() as u64, worker.peers() as u64);
        // Worker i reads events i, i + peers, ...: 10 keys, one event per millisecond.
        let mine = (me..events)
            .step_by(peers as usize)
            .map(|n| (n % 10, n as i64));
        let sink = Arc::clone(&sink);
        worker
            .source(IterSource::new(mine, |e: &(u64, i64)| e.1, 0))
            .window(WindowSpec::tumbling(WINDOW_MS), |e| e.0, |e| e.1, Count)
            .expect("a 1 s tumbling window is a valid spec")
            .sink(move |batch| {
                let mut results = sink.lock().unwrap_or_else(PoisonError::into_inner);
                results.extend(batch.drain(..).map(|(key, w, n)| (key, w.start, n)));
            });
    })?;

    let mut results = std::mem::take(&mut *results.lock().unwrap_or_else(PoisonError::into_inner));
    results.sort_unstable();
    let total: u64 = results.iter().map(|r| r.2).sum();
    let snapshot = collector.latest();
    println!(
        "key  window_start_ms  count   (first 5 of {} windows)",
        results.len()
    );
    for (key, start, count) in results.iter().take(5) {
        println!("{key:>3}  {start:>15}  {count:>5}");
    }
    println!(
        "{total} events counted of {} read; {} late; {workers} workers in {:.3} s",
        snapshot.events_in(),
        snapshot.late(),
        snapshot.elapsed_ns as f64 / 1e9
    );
    if let Some(latency) = &snapshot.latency_ns {
        println!(
            "watermark-to-result latency: p50 {} us, p99 {} us ({} results)",
            latency.value_at_quantile(0.5) / 1000,
            latency.value_at_quantile(0.99) / 1000,
            latency.len()
        );
    }
    Ok(())
}
