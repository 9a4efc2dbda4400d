//! Bad configuration is a clear error naming the setting; the stop flag ends a job gracefully.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use weir_engine::{Collector, Config, EngineError, Source, SourcePoll, execute};

fn setting_of(config: Config) -> &'static str {
    match execute(config, |_| ()) {
        Err(EngineError::Config { setting, message }) => {
            assert!(!message.is_empty());
            setting
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn bad_settings_are_named() {
    assert_eq!(setting_of(Config::new(0)), "workers");
    assert_eq!(
        setting_of(Config::new(1).with_ring_capacity(0)),
        "ring_capacity"
    );
    assert_eq!(setting_of(Config::new(1).with_batch_size(0)), "batch_size");
    assert_eq!(
        setting_of(Config::new(1).with_cores(vec![100_000])),
        "cores"
    );
    assert_eq!(setting_of(Config::new(2).with_cores(vec![0])), "cores");
    assert_eq!(
        setting_of(Config::new(1).with_snapshot_interval(std::time::Duration::ZERO)),
        "snapshot_interval"
    );
    assert_eq!(
        setting_of(Config::new(2).with_source_alignment(-1)),
        "source_alignment"
    );
    let message = execute(Config::new(1).with_cores(vec![100_000]), |_| ())
        .expect_err("core 100000 does not exist")
        .to_string();
    assert!(
        message.contains("cores") && message.contains("100000"),
        "{message}"
    );
}

/// Emits forever, one record per poll.
struct Forever(u64);

impl Source for Forever {
    type Item = u64;
    fn poll(&mut self, out: &mut Vec<u64>, _max: usize, _now: u64) -> SourcePoll {
        self.0 += 1;
        out.push(self.0);
        SourcePoll::Ready {
            watermark: self.0 as i64,
        }
    }
}

#[test]
fn stop_flag_ends_sources_and_drains() {
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(AtomicU64::new(0));
    let collector = Collector::new();
    let config = Config::new(2)
        .with_pinning(false)
        .with_stop(Arc::clone(&stop))
        .with_collector(collector.clone());
    execute(config, |worker| {
        let (seen, stop) = (Arc::clone(&seen), Arc::clone(&stop));
        worker.source(Forever(0)).key_by(|n| *n).sink(move |b| {
            if seen.fetch_add(b.len() as u64, Ordering::Relaxed) > 10_000 {
                stop.store(true, Ordering::Relaxed);
            }
        });
    })
    .expect("a stopped job ends normally");
    let snap = collector.latest();
    assert!(snap.finished);
    assert_eq!(
        snap.events_in(),
        snap.records_out(),
        "everything produced was delivered"
    );
    assert_eq!(snap.events_in(), seen.load(Ordering::Relaxed));
    assert_eq!(snap.watermark_ms, Some(i64::MAX));
}

/// A worker count whose fixed memory (per worker and per pair of workers) the machine does not
/// have is refused before any thread starts, naming the largest count that fits.
#[test]
fn a_worker_count_beyond_the_machines_memory_is_refused_before_starting() {
    let workers = 1_000_000;
    let config = Config::new(workers).with_pinning(false);
    assert!(
        config.estimated_memory() > weir_engine::available_memory().unwrap_or(u64::MAX / 2),
        "a million workers need more than this machine has"
    );
    let started = std::sync::atomic::AtomicUsize::new(0);
    let result = execute(config, |_| {
        started.fetch_add(1, Ordering::Relaxed);
    });
    match result {
        Err(EngineError::Config { setting, message }) => {
            assert_eq!(setting, "workers");
            assert!(message.contains("1000000 workers need about"), "{message}");
            assert!(message.contains("use at most"), "{message}");
        }
        other => panic!("expected a refusal, got {:?}", other.map(|v| v.len())),
    }
    assert_eq!(started.load(Ordering::Relaxed), 0, "no worker ran");
    // The estimate grows with the square of the workers, from a per-worker base.
    let at = |w: usize| Config::new(w).estimated_memory();
    assert_eq!(
        at(1),
        weir_engine::MEMORY_PER_WORKER + weir_engine::MEMORY_PER_PAIR
    );
    assert_eq!(
        at(256),
        256 * weir_engine::MEMORY_PER_WORKER + 256 * 256 * weir_engine::MEMORY_PER_PAIR
    );
    assert!(
        at(256) < 600 * 1024 * 1024,
        "256 workers need less than 600 MiB"
    );
}
