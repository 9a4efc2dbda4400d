//! The dataflow harness of the window tests: runs a pipeline on every worker over its share of
//! an input of `(key, event time, value)` records and collects what reaches the sinks.

#![allow(clippy::unwrap_used)] // test helpers: a poisoned lock means a test already failed

use std::sync::{Arc, Mutex};
use std::time::Duration;

use weir_engine::updating::Change;
use weir_engine::{
    Collector, Config, DEFAULT_MINI_BATCH, IterSource, MetricsSnapshot, Stream, execute,
};

use super::step::StepSource;

/// (key, event time, value).
pub(crate) type Rec = (u64, i64, i64);

/// The sources' out-of-orderness bound.
pub(crate) const OOO: i64 = 40;

/// Runs `pipeline` on every worker over its share of `input` (record i goes to worker
/// i % peers); `step` feeds one record per poll. Returns what reaches the sinks and the final
/// metrics.
pub(crate) fn run<O, F>(
    input: &[Rec],
    workers: usize,
    pinning: bool,
    batch: usize,
    step: bool,
    pipeline: F,
) -> (Vec<O>, MetricsSnapshot)
where
    O: Send + 'static,
    F: Fn(Stream<Rec>) -> Stream<O> + Sync,
{
    run_into(
        input,
        workers,
        pinning,
        batch,
        step,
        DEFAULT_MINI_BATCH,
        |s, out| {
            pipeline(s).sink(move |batch| out.lock().unwrap().append(batch));
        },
    )
}

/// [`run`] for a pipeline whose result is a changelog, consumed by a table sink (so the
/// metrics count the table): the changes in the order each sink received them. The updating
/// operators emit their changes every `mini_batch` ([`Config::mini_batch`]).
#[allow(dead_code)] // not every test binary including this file has changelogs
pub(crate) fn run_changes<O, F>(
    input: &[Rec],
    workers: usize,
    pinning: bool,
    batch: usize,
    mini_batch: Duration,
    pipeline: F,
) -> (Vec<Change<O>>, MetricsSnapshot)
where
    O: Send + 'static,
    F: Fn(Stream<Rec>) -> Stream<Change<O>> + Sync,
{
    run_into(
        input,
        workers,
        pinning,
        batch,
        false,
        mini_batch,
        |s, out| {
            pipeline(s).table_sink(move |batch| out.lock().unwrap().append(batch));
        },
    )
}

type Results<O> = Arc<Mutex<Vec<O>>>;

fn run_into<O, F>(
    input: &[Rec],
    workers: usize,
    pinning: bool,
    batch: usize,
    step: bool,
    mini_batch: Duration,
    attach: F,
) -> (Vec<O>, MetricsSnapshot)
where
    O: Send + 'static,
    F: Fn(Stream<Rec>, Results<O>) + Sync,
{
    let collector = Collector::new();
    let config = Config::new(workers)
        .with_pinning(pinning)
        .with_batch_size(batch)
        .with_ring_capacity(2)
        .with_mini_batch(mini_batch)
        .with_collector(collector.clone());
    let out = Arc::new(Mutex::new(Vec::new()));
    execute(config, |worker| {
        let (me, peers) = (worker.index(), worker.peers());
        let mine: Vec<Rec> = input
            .iter()
            .enumerate()
            .filter(|(i, _)| i % peers == me)
            .map(|(_, r)| *r)
            .collect();
        let sink = Arc::clone(&out);
        let source = if step {
            worker.source(StepSource::new(mine, |r: &Rec| r.1, OOO))
        } else {
            worker.source(IterSource::new(mine, |r: &Rec| r.1, OOO))
        };
        attach(source, sink);
    })
    .expect("job runs");
    let out = std::mem::take(&mut *out.lock().unwrap());
    (out, collector.latest())
}
