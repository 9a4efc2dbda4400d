//! Injected failures: a panic in any worker (in an operator, a source, the build closure, or
//! while other workers are blocked on full rings) stops the job with an error naming the worker
//! and the message, and leaves no thread behind.
//!
//! One test function on purpose (alone in its test binary): it inspects this process's
//! threads, which other tests running in parallel would disturb.
//!
//! **Counting threads soundly.** `execute` joins every worker before it returns, but a joined
//! thread can still be listed in `/proc/self/task` for a moment: `pthread_join` returns once the
//! kernel has cleared the thread's id, before the task is reaped, and on a loaded machine that
//! gap is long enough to be seen (this test once saw 3 threads where 2 were expected). So the
//! check counts only the engine's workers (threads named `weir-worker-*`) that are not already
//! dead, and waits a bounded time for exiting ones to disappear. A leaked worker never
//! disappears, so the check still fails if one is left behind.

use std::time::{Duration, Instant};

use weir_engine::{Config, EngineError, IterSource, Source, SourcePoll, execute};

/// How long an exiting (already joined) worker thread may take to leave `/proc/self/task`.
/// A bound for the poll below, not a timing assertion: a leaked thread stays forever.
const EXIT_GRACE: Duration = Duration::from_secs(20);

/// This process's engine worker threads that are alive (not zombie or dead), by task id.
fn live_workers() -> Vec<String> {
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task is readable (Linux)");
    tasks
        .filter_map(Result::ok)
        .filter_map(|task| {
            let dir = task.path();
            // A task that vanished between the listing and these reads has exited: skip it.
            let name = std::fs::read_to_string(dir.join("comm")).ok()?;
            let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
            // The state follows the parenthesised name: "tid (comm) S ...".
            let state = stat.rsplit_once(") ")?.1.chars().next()?;
            (name.trim_end().starts_with("weir-worker-") && !matches!(state, 'Z' | 'X' | 'x')).then(
                || {
                    format!(
                        "{} ({})",
                        name.trim_end(),
                        task.file_name().to_string_lossy()
                    )
                },
            )
        })
        .collect()
}

/// Asserts that no engine worker thread is left, waiting up to [`EXIT_GRACE`] for threads that
/// were joined but have not left the task list yet.
fn assert_no_worker_left(what: &str) {
    let deadline = Instant::now() + EXIT_GRACE;
    loop {
        let left = live_workers();
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "worker threads left {what}: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
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
    assert_no_worker_left("before the first job");

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
    assert_no_worker_left("after an operator panic");

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
    assert_no_worker_left("after a panic under backpressure");

    // A panic in a source on worker 2.
    let result = execute(Config::new(3).with_pinning(false), |worker| {
        if worker.index() == 2 {
            worker.source(Exploding).sink(Vec::clear);
        } else {
            worker.source(Endless(0)).sink(Vec::clear);
        }
    });
    expect_panic(result, 2, "injected source failure");
    assert_no_worker_left("after a source panic");

    // A panic in the build closure on worker 0; the others have already started running.
    let result = execute(Config::new(2).with_pinning(true), |worker| {
        assert!(worker.index() != 0, "injected build failure");
        worker
            .source(IterSource::new(0..10_u64, |_: &u64| 0, 0))
            .key_by(|n| *n)
            .sink(Vec::clear);
    });
    expect_panic(result, 0, "injected build failure");
    assert_no_worker_left("after a build panic");

    // And a healthy job afterwards still runs. Its workers see themselves in the thread list:
    // the check above does find worker threads when there are some.
    let ok = execute(Config::new(2).with_pinning(false), |worker| {
        let me = format!("weir-worker-{} ", worker.index());
        assert!(
            live_workers().iter().any(|t| t.starts_with(&me)),
            "a running worker is listed: {:?}",
            live_workers()
        );
        worker
            .source(IterSource::new(0..10_u64, |_: &u64| 0, 0))
            .key_by(|n| *n)
            .sink(Vec::clear);
    });
    assert!(ok.is_ok());
    assert_no_worker_left("after a healthy job");
}
