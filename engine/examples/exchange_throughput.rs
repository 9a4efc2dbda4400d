//! Pushes 16-byte records through `key_by` and prints records/s with each worker's busy, idle
//! and backpressured time: a quick diagnostic next to the criterion bench.
//!
//! `cargo run --release -p weir-engine --example exchange_throughput [workers] [batch]
//! [records per worker] [metrics: on|off]`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use weir_engine::{Collector, Config, EngineError, NO_PROGRESS, Source, SourcePoll, execute};

struct Counter {
    next: u64,
    end: u64,
}

impl Source for Counter {
    type Item = (u64, u64);
    fn poll(&mut self, out: &mut Vec<(u64, u64)>, max: usize, _now: u64) -> SourcePoll {
        let n = (self.end - self.next).min(max as u64);
        if n == 0 {
            return SourcePoll::Done;
        }
        out.extend((self.next..self.next + n).map(|i| (i, i)));
        self.next += n;
        SourcePoll::Ready {
            watermark: NO_PROGRESS,
        }
    }
}

fn main() -> Result<(), EngineError> {
    let mut args = std::env::args().skip(1);
    let workers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let batch: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1024);
    let per_worker: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1 << 24);
    let metrics = args.next().is_none_or(|a| a != "off");
    let collector = Collector::new();
    let config = Config::new(workers)
        .with_batch_size(batch)
        .with_metrics(metrics)
        .with_collector(collector.clone());
    let seen = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    execute(config, |worker| {
        let start = worker.index() as u64 * per_worker;
        let seen = Arc::clone(&seen);
        worker
            .source(Counter {
                next: start,
                end: start + per_worker,
            })
            .key_by(|r| r.0)
            .sink(move |b| {
                seen.fetch_add(b.len() as u64, Ordering::Relaxed);
            });
    })?;
    let wall = started.elapsed().as_secs_f64();
    let total = seen.load(Ordering::Relaxed);
    println!(
        "{workers} workers, batch {batch}, metrics {}: {total} records in {wall:.3} s = {:.1} M records/s",
        if metrics { "on" } else { "off" },
        total as f64 / wall / 1e6
    );
    for (i, w) in collector.latest().workers.iter().enumerate() {
        println!(
            "  worker {i}: busy {:.3} s, idle {:.3} s, backpressured {:.3} s, batches sent {}",
            w.busy_ns as f64 / 1e9,
            w.idle_ns as f64 / 1e9,
            w.backpressured_ns as f64 / 1e9,
            w.batches_sent
        );
    }
    Ok(())
}
