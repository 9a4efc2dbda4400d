//! Starting a job: one pinned OS thread per worker, failure handling, and the final snapshot.
//!
//! Top layer: builds each worker's [`BuildCtx`] and [`Worker`], runs the worker loop, and pins
//! the threads as [`pinning`] plans. Nothing imports from here except the crate root's
//! re-export of [`execute`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use crate::config::{Config, EngineError};
use crate::context::{BuildCtx, JobShared};
use crate::metrics::WorkerMetrics;
use crate::pinning;
use crate::time::Clock;
use crate::worker::{Worker, run};

static PINNING_WARNED: AtomicBool = AtomicBool::new(false);

fn warn_once(message: &str) {
    if !PINNING_WARNED.swap(true, Ordering::Relaxed) {
        eprintln!("weir: warning: {message}");
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Runs a dataflow on `config.workers` worker threads and waits for it to finish.
///
/// Every worker calls `build` with its own [`Worker`] (SPMD: all workers must build the same
/// dataflow, in the same order), then runs it until every source has ended and every result
/// has reached its sink. Returns what each worker's `build` returned, indexed by worker.
///
/// Worker *i* is pinned to core *i* (or `config.cores[i]`) when `config.pinning` is on and
/// there are enough cores; otherwise a warning is printed once and workers run unpinned.
///
/// # Errors
///
/// - [`EngineError::Config`] for a bad setting (0 workers, zero ring capacity or batch size, a
///   core list that does not match the workers or names a core the machine lacks).
/// - [`EngineError::WorkerPanicked`] when a worker panics in `build` or in an operator: every
///   other worker stops promptly and all threads are joined before this returns.
/// - [`EngineError::Spawn`] when the OS refuses a thread.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use weir_engine::{Config, IterSource, execute};
///
/// let out = Arc::new(Mutex::new(Vec::new()));
/// let sink = Arc::clone(&out);
/// execute(Config::new(2).with_pinning(false), move |worker| {
///     let me = worker.index() as u64;
///     let mine = (0..100_u64).filter(move |n| n % 2 == me);
///     let sink = Arc::clone(&sink);
///     worker
///         .source(IterSource::new(mine, |n: &u64| *n as i64, 0))
///         .key_by(|n| n % 10)
///         .map(|n| n * 2)
///         .sink(move |batch| sink.lock().unwrap().append(batch));
/// })?;
/// assert_eq!(out.lock().unwrap().len(), 100);
/// # Ok::<(), weir_engine::EngineError>(())
/// ```
// The job owns its configuration (collector handle, stop flag) for its whole run.
#[allow(clippy::needless_pass_by_value)]
pub fn execute<R: Send>(
    config: Config,
    build: impl Fn(&mut Worker) -> R + Sync,
) -> Result<Vec<R>, EngineError> {
    let available = pinning::available_cores();
    let ids: Vec<usize> = available.iter().map(|c| c.id).collect();
    config.validate(&ids)?;
    let plan = pinning::plan(
        config.pinning,
        config.workers,
        0,
        config.cores.as_deref(),
        &available,
    );
    if let Some(warning) = &plan.warning {
        warn_once(warning);
    }
    let shared = Arc::new(JobShared::new(&config, available.len()));
    if let Some(collector) = &config.collector {
        collector.update(|s| {
            s.workers = vec![WorkerMetrics::default(); config.workers];
            s.exchange_fill = None;
            s.latency_ns = None;
            s.end_of_input_latency_ns = None;
            s.watermark_ms = None;
            s.source_time_ms = None;
            s.elapsed_ns = 0;
            s.finished = false;
        });
    }
    let failure: Mutex<Option<EngineError>> = Mutex::new(None);
    let fail = |error: EngineError| {
        let mut first = failure.lock().unwrap_or_else(PoisonError::into_inner);
        if first.is_none() {
            *first = Some(error);
        }
        drop(first);
        shared.abort.store(true, Ordering::SeqCst);
        shared.wakers.wake_all();
    };
    let clock = Clock::start();
    let results: Vec<Option<R>> = thread::scope(|scope| {
        let mut handles = Vec::with_capacity(config.workers);
        for (index, core) in plan.cores.iter().copied().enumerate() {
            let shared = Arc::clone(&shared);
            let (config, build, fail) = (&config, &build, &fail);
            let spawned = thread::Builder::new()
                .name(format!("weir-worker-{index}"))
                .spawn_scoped(scope, move || {
                    shared.wakers.register(index);
                    if let Some(core) = core
                        && !core_affinity::set_for_current(core)
                    {
                        warn_once(&format!("could not pin worker {index} to core {}", core.id));
                    }
                    let outcome = catch_unwind(AssertUnwindSafe(|| {
                        let ctx = Rc::new(BuildCtx::new(index, config, clock, Arc::clone(&shared)));
                        let mut worker = Worker {
                            ctx: Rc::clone(&ctx),
                        };
                        let built = build(&mut worker);
                        drop(worker);
                        run(&ctx).ok().map(|()| built)
                    }));
                    match outcome {
                        Ok(result) => result,
                        Err(payload) => {
                            fail(EngineError::WorkerPanicked {
                                worker: index,
                                message: panic_message(payload.as_ref()),
                            });
                            None
                        }
                    }
                });
            match spawned {
                Ok(handle) => handles.push(handle),
                Err(error) => {
                    fail(EngineError::Spawn {
                        worker: index,
                        message: error.to_string(),
                    });
                    break;
                }
            }
        }
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(None))
            .collect()
    });
    if let Some(collector) = &config.collector {
        let elapsed = clock.now_ns();
        // Every worker has been joined, so every frontier it stored is visible here: the final
        // snapshot carries the exact job frontier, whatever order the workers published in.
        let frontier = shared
            .sink_frontiers
            .iter()
            .map(|f| f.load(Ordering::Relaxed))
            .min();
        collector.update(|s| {
            s.elapsed_ns = s.elapsed_ns.max(elapsed);
            if let Some(frontier) = frontier {
                s.watermark_ms = Some(s.watermark_ms.map_or(frontier, |w| w.max(frontier)));
            }
            s.finished = true;
        });
    }
    if let Some(error) = failure.into_inner().unwrap_or_else(PoisonError::into_inner) {
        return Err(error);
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("a worker without failure returns its build result"))
        .collect())
}
