//! `sim`: a deterministic fake engine, in the spirit of hyperfine's mock executor.
//!
//! It "processes" events at a fixed simulated rate per worker, in real time, and publishes
//! snapshots exactly like a real engine, so the console and `weir compare` can be exercised
//! (in tests and in tmux) without a real job. Every number it reports is a pure function of
//! the [`RunSpec`] and elapsed time; its digest is a fixed function of the event count, so it
//! never agrees with a real engine's digest by accident.

use std::thread;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use weir_engine::{Collector, MetricsSnapshot, WorkerMetrics};

use crate::catalog::EngineKind;
use crate::job::{
    Engine, EngineCpu, EngineVersions, Job, Outcome, Result, RunError, RunLength, RunSpec,
    StopSignal,
};
use crate::report::{DigestSummary, LatencySummary, WorkerReport};

/// Simulated events per second per worker when the run is not paced.
pub const SIM_EVENTS_PER_SEC_PER_WORKER: u64 = 2_000_000;
const BASE_TIME_MS: i64 = 1_436_918_400_000;
const TICK: Duration = Duration::from_millis(20);
/// Environment variable: when set to N, the sim's driver panics after N ms of job time, like
/// a worker panic in a real engine (used by the console's terminal-restore tests).
pub const PANIC_AFTER_MS_ENV: &str = "WEIR_SIM_PANIC_AFTER_MS";
/// Environment variable: `abort` makes the injected panic panic again while unwinding, so the
/// process aborts as timely's workers do when a cluster peer dies (default `unwind`).
pub const PANIC_KIND_ENV: &str = "WEIR_SIM_PANIC_KIND";
/// Environment variable: when set to N, a stopped sim keeps running N ms before it ends, like a
/// job draining its open windows (used by the tests of a second Ctrl-C).
pub const STOP_DELAY_MS_ENV: &str = "WEIR_SIM_STOP_DELAY_MS";

/// The deterministic fake behind the runner's [`Engine`] interface. It runs every query weir
/// runs (it stands in for weir in demos and tests).
#[derive(Debug, Clone, Copy)]
pub struct SimEngine;

impl Engine for SimEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Sim
    }

    fn version(&self) -> String {
        format!("{} (deterministic fake)", env!("CARGO_PKG_VERSION"))
    }

    /// # Errors
    /// [`RunError::Config`] for a malformed `WEIR_SIM_PANIC_AFTER_MS`, [`RunError::Failed`]
    /// when the driver thread cannot start.
    fn start(&self, spec: &RunSpec) -> Result<Job> {
        let collector = Collector::new();
        let stop = StopSignal::new();
        let (c, s, owned) = (collector.clone(), stop.clone(), spec.clone());
        let faults = Faults {
            panic_after: millis_env(PANIC_AFTER_MS_ENV)?,
            abort: match std::env::var(PANIC_KIND_ENV).as_deref() {
                Err(_) | Ok("unwind") => false,
                Ok("abort") => true,
                Ok(other) => {
                    return Err(RunError::Config(format!(
                        "{PANIC_KIND_ENV}={other:?}: expected unwind or abort"
                    )));
                }
            },
            stop_delay: millis_env(STOP_DELAY_MS_ENV)?.unwrap_or_default(),
        };
        let handle = thread::Builder::new()
            .name("weir-sim".into())
            .spawn(move || Ok(drive(&owned, &c, &s, faults)))
            .map_err(|e| RunError::Failed(format!("cannot start the sim driver thread: {e}")))?;
        Ok(Job::new(spec, collector, stop, handle))
    }
}

/// A duration in ms from the environment variable `name`, if set.
fn millis_env(name: &str) -> Result<Option<Duration>> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .map(|ms| Some(Duration::from_millis(ms)))
            .map_err(|_| {
                RunError::Config(format!("{name}={v:?}: expected a number of milliseconds"))
            }),
        Err(_) => Ok(None),
    }
}

/// Injected faults (from the environment, for tests).
#[derive(Clone, Copy, Debug, Default)]
struct Faults {
    panic_after: Option<Duration>,
    abort: bool,
    stop_delay: Duration,
}

/// Panics again if dropped while its thread unwinds: Rust then aborts the process.
struct PanicOnUnwind;

impl Drop for PanicOnUnwind {
    fn drop(&mut self) {
        assert!(
            !thread::panicking(),
            "injected second panic while unwinding ({PANIC_KIND_ENV}=abort)"
        );
    }
}

fn drive(spec: &RunSpec, collector: &Collector, stop: &StopSignal, faults: Faults) -> Outcome {
    let panic_after = faults.panic_after;
    let workers = spec.workers as u64;
    let rate = spec.rate.unwrap_or(SIM_EVENTS_PER_SEC_PER_WORKER * workers);
    let start = Instant::now();
    let mut latency =
        Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
    let mut recorded = 0u64;
    let mut stopped_at = None;
    let events = loop {
        let elapsed = start.elapsed();
        if panic_after.is_some_and(|p| elapsed >= p) {
            let _bomb = faults.abort.then_some(PanicOnUnwind);
            panic!("injected worker panic ({PANIC_AFTER_MS_ENV})");
        }
        if stop.is_raised() && stopped_at.is_none() {
            stopped_at = Some(elapsed);
        }
        let mut done = (elapsed.as_secs_f64() * rate as f64) as u64;
        let finished = match spec.length {
            RunLength::Events(n) => {
                done = done.min(n);
                done == n
            }
            RunLength::Duration(d) => elapsed >= d,
        } || stopped_at.is_some_and(|at| elapsed >= at + faults.stop_delay);
        // One latency sample per simulated 10 ms of event time: 200 us .. 1.2 ms, deterministic.
        while recorded < done / (spec.event_rate / 100).max(1) {
            latency
                .record(200_000 + (recorded * 7_919) % 1_000_000)
                .expect("in bounds");
            recorded += 1;
        }
        collector.publish(snapshot(spec, elapsed, done, &latency, finished));
        if finished {
            break done;
        }
        thread::sleep(TICK);
    };
    let wall_s = start.elapsed().as_secs_f64().max(1e-9);
    let per_worker = (0..workers)
        .map(|w| WorkerReport {
            busy_s: wall_s * 0.8,
            idle_s: wall_s * 0.15,
            backpressured_s: wall_s * 0.05,
            held_s: 0.0,
            records: share(events, workers, w),
        })
        .collect();
    Outcome {
        events,
        startup_s: 0.0,
        wall_s,
        latency: LatencySummary::from_histogram(&latency),
        // The fake engine's results all arrive while it runs.
        end_of_input_latency: None,
        digest: DigestSummary {
            rows: events / 46,
            hash: format!(
                "{:032x}",
                u128::from(events).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
            ),
        },
        late: 0,
        dropped: 0,
        per_worker,
        total_workers: None,
        pinned: spec.pinning,
        // The fake engine does no work worth counting.
        cpu: EngineCpu::Unknown,
        versions: EngineVersions::default(),
    }
}

fn share(total: u64, workers: u64, w: u64) -> u64 {
    total / workers + u64::from(w < total % workers)
}

fn snapshot(
    spec: &RunSpec,
    elapsed: Duration,
    done: u64,
    latency: &Histogram<u64>,
    finished: bool,
) -> MetricsSnapshot {
    let workers = spec.workers as u64;
    let elapsed_ns = elapsed.as_nanos() as u64;
    let watermark = BASE_TIME_MS + (done as i64 * 1000) / spec.event_rate.max(1) as i64 - 4000;
    MetricsSnapshot {
        elapsed_ns,
        workers: (0..workers)
            .map(|w| {
                let events_in = share(done, workers, w);
                WorkerMetrics {
                    events_in,
                    records_out: events_in / 46,
                    batches_sent: events_in / 1024,
                    bytes_sent: events_in * 16,
                    busy_ns: elapsed_ns / 10 * 8,
                    idle_ns: elapsed_ns / 100 * 15,
                    backpressured_ns: elapsed_ns / 100 * 5,
                    ..WorkerMetrics::default()
                }
            })
            .collect(),
        exchange_fill: Some(
            (0..workers)
                .map(|p| {
                    (0..workers)
                        .map(|c| ((p + 2 * c) % 5) as f32 / 5.0)
                        .collect()
                })
                .collect(),
        ),
        latency_ns: Some(latency.clone()),
        end_of_input_latency_ns: None,
        watermark_ms: Some(if finished { i64::MAX } else { watermark }),
        source_time_ms: Some(watermark + 4000),
        events_total: match spec.length {
            RunLength::Events(n) => Some(n),
            RunLength::Duration(_) => None,
        },
        finished,
        table: None,
    }
}
