//! The `memory-read` ceiling (docs/BENCHMARKING.md, section 3): how fast the machine can hand a
//! replay run its input at all.
//!
//! A `replay` run's sources copy their pre-generated events out of memory in batches; no
//! engine can process its input faster than that copy runs. [`memory_read`] generates each
//! worker's replay buffer exactly as the weir adapter does (the same split, the same record
//! type: a 56-byte `Bid` for bid-only queries, a 200-byte `Event` otherwise, a `YsbEvent` for
//! YSB), then starts one thread per worker together (pinned as the engines pin theirs) and
//! times one pass in which each thread copies its buffer into a reused batch of [`BATCH`]
//! records, as a replay source does. The figure is input events per second: the run's events
//! (skipped kinds included, as every report counts them) over the slowest thread's time.
//!
//! It is a property of the machine and of the record size, measured beside the engines in
//! every round of `weir compare --source replay`; the engines' figures divided by it say how
//! close each comes to the physical limit.

use std::hint::black_box;
use std::sync::Barrier;
use std::thread;
use std::time::Instant;

use weir_engine::pinning;

use crate::catalog::Reads;
use crate::job::{Result, RunError, RunLength, RunSpec};
use crate::nexmark::{BidSplit, NexmarkSplit};
use crate::split::{Split, WorkerSplit};
use crate::ysb::YsbSplit;

/// Records per copied batch (the engines' default batch size).
pub const BATCH: usize = 1024;

/// Input events per second of one pass over `spec`'s replay buffers (see the module docs).
///
/// # Errors
/// [`RunError::Config`] when `spec` has no bounded input (`--events` is needed, as for a
/// replay run) or an invalid generator configuration.
pub fn memory_read(spec: &RunSpec) -> Result<f64> {
    let RunLength::Events(events) = spec.length else {
        return Err(RunError::Config(
            "the memory-read ceiling needs a bounded input (--events)".into(),
        ));
    };
    let nexmark = spec.nexmark_config()?;
    let ysb = spec.ysb_config()?;
    let workers = spec.workers.max(1);
    let reads = spec.query.def().reads;
    let plan = pinning::plan(spec.pinning, workers, 0, None, &pinning::available_cores());
    let start = Barrier::new(workers + 1);
    let elapsed: Vec<f64> = thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (start, core, nexmark, ysb) = (&start, plan.cores[w], &nexmark, &ysb);
                scope.spawn(move || {
                    let split = WorkerSplit::new(w, workers).expect("w < workers");
                    let valid = "the configuration was validated above";
                    match reads {
                        Reads::YsbEvents => {
                            read(&all(YsbSplit::new(ysb, split).expect(valid)), start, core)
                        }
                        Reads::Bids => read(
                            &all(BidSplit::new(nexmark, split).expect(valid)),
                            start,
                            core,
                        ),
                        reads => read(
                            &all(NexmarkSplit::new(nexmark, split)
                                .expect(valid)
                                .only(reads.kinds())),
                            start,
                            core,
                        ),
                    }
                })
            })
            .collect();
        // Every buffer is generated: start the clocks together.
        start.wait();
        handles
            .into_iter()
            .map(|h| h.join().expect("reading memory does not panic"))
            .collect()
    });
    let slowest = elapsed.into_iter().fold(f64::MIN_POSITIVE, f64::max);
    Ok(events as f64 / slowest)
}

/// A worker's whole split, generated into memory.
fn all<S: Split>(mut split: S) -> Vec<S::Event> {
    let mut out = Vec::new();
    while split.fill(&mut out, 1 << 16) {}
    out
}

/// Waits at `start`, then copies `buffer` out in batches; returns the seconds it took.
fn read<T: Clone>(buffer: &[T], start: &Barrier, core: Option<pinning::CoreId>) -> f64 {
    if let Some(core) = core {
        core_affinity::set_for_current(core);
    }
    let mut batch: Vec<T> = Vec::with_capacity(BATCH);
    start.wait();
    let began = Instant::now();
    for chunk in buffer.chunks(BATCH) {
        batch.extend_from_slice(chunk);
        black_box(&mut batch);
        batch.clear();
    }
    began.elapsed().as_secs_f64().max(1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{EngineKind, Query};
    use crate::job::SourceMode;

    #[test]
    fn reads_every_workers_buffer() {
        for (query, workers) in [(Query::Q5, 2), (Query::Q8, 1), (Query::Ysb, 3)] {
            let spec = RunSpec {
                workers,
                length: RunLength::Events(50_000),
                source: SourceMode::Replay,
                ..RunSpec::new(query, EngineKind::Weir)
            };
            let eps = memory_read(&spec).expect("a bounded input");
            assert!(eps.is_finite() && eps > 0.0, "{query}: {eps}");
        }
        let timed = RunSpec {
            length: RunLength::Duration(std::time::Duration::from_secs(1)),
            ..RunSpec::new(Query::Q5, EngineKind::Weir)
        };
        assert!(matches!(memory_read(&timed), Err(RunError::Config(_))));
    }
}
