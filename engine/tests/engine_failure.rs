//! Injected failures: a panic in any worker (in an operator, a source, the build closure, or
//! while other workers are blocked on full rings) stops the job with an error naming the worker
//! and the message, and leaves no thread behind.
//!
//! One test function on purpose: it counts this process's threads, which other tests running
//! in parallel would disturb.

use weir_engine::{Config, EngineError, IterSource, Source, SourcePoll, execute};

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, Iterator::count)
}

fn expect_panic(result: Result<Vec<()>, EngineError>, worker: usize, needle: &str) {
    match result {
        Err(EngineError::WorkerPanicked { worker: w, message }) => {
            assert_eq!(w, worker, "panicking worker (message: {message})");
            assert!(
                message.contains(needle),
                "message {message:?} names the cause"
            );
        }
        other => panic!("expected worker {worker} to panic, got {other:?}"),
    }
}

/// A source that never ends (so only a failure can stop the job).
struct Endless(u64);

impl Source for Endless {
    type Item = u64;
    fn poll(&mut self, out: &mut Vec<u64>, max: usize, _now: u64) -> SourcePoll {
        for _ in 0..max {
            self.0 += 1;
            out.push(self.0);
        }
        SourcePoll::Ready {
            watermark: (self.0 / 10) as i64,
        }
    }
}

struct Exploding;

impl Source for Exploding {
    type Item = u64;
    fn poll(&mut self, _out: &mut Vec<u64>, _max: usize, _now: u64) -> SourcePoll {
        panic!("injected source failure");
    }
}

#[test]
fn worker_panics_stop_the_job_and_leave_no_thread() {
    let before = threads();

    // A panic in an operator on worker 1 of 8, while the others run endless sources.
    let result = execute(Config::new(8).with_pinning(false), |worker| {
        let me = worker.index();
        worker
            .source(Endless(0))
            .key_by(|n| *n)
            .map(move |n| {
                assert!(!(me == 1 && n > 5000), "injected operator failure");
                n
            })
            .sink(Vec::clear);
    });
    expect_panic(result, 1, "injected operator failure");
    assert_eq!(
        threads(),
        before,
        "no worker thread left after an operator panic"
    );

    // A panic on the consumer while every producer is blocked on a full ring (capacity 1, all
    // records to the owner of key 0).
    let owner = weir_engine::worker_for_key(0, 3);
    let result = execute(
        Config::new(3)
            .with_pinning(false)
            .with_batch_size(1)
            .with_ring_capacity(1),
        |worker| {
            let me = worker.index();
            let mut seen = 0_u64;
            worker.source(Endless(0)).key_by(|_| 0).sink(move |b| {
                seen += b.len() as u64;
                assert!(!(me == 0 && seen > 1000), "injected sink failure");
            });
        },
    );
    expect_panic(result, owner, "injected sink failure");
    assert_eq!(
        threads(),
        before,
        "no worker thread left after a panic under backpressure"
    );

    // A panic in a source on worker 2.
    let result = execute(Config::new(3).with_pinning(false), |worker| {
        if worker.index() == 2 {
            worker.source(Exploding).sink(Vec::clear);
        } else {
            worker.source(Endless(0)).sink(Vec::clear);
        }
    });
    expect_panic(result, 2, "injected source failure");
    assert_eq!(threads(), before);

    // A panic in the build closure on worker 0; the others have already started running.
    let result = execute(Config::new(2).with_pinning(true), |worker| {
        assert!(worker.index() != 0, "injected build failure");
        worker
            .source(IterSource::new(0..10_u64, |_: &u64| 0, 0))
            .key_by(|n| *n)
            .sink(Vec::clear);
    });
    expect_panic(result, 0, "injected build failure");
    assert_eq!(threads(), before);

    // And a healthy job afterwards still runs.
    let ok = execute(Config::new(2).with_pinning(false), |worker| {
        worker
            .source(IterSource::new(0..10_u64, |_: &u64| 0, 0))
            .key_by(|n| *n)
            .sink(Vec::clear);
    });
    assert!(ok.is_ok());
    assert_eq!(threads(), before);
}
