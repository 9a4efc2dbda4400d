//! An exchange sends a watermark on at once, with the partial batches it must follow, however
//! long its latency budget and however busy the worker: a window fires on the far side of an
//! exchange as soon as its input is complete, and its results (the data the latency goal is
//! about) come back with the watermark that fired them.
//!
//! One worker, a source that is never idle (one record per poll, always ready) and a latency
//! budget of an hour, so nothing but that rule can move a partial batch or a watermark before
//! end of input. The sink notes how many records the source had emitted when each window's
//! result arrived: `window_all`'s partials cross an exchange after the firing, a keyed
//! `window`'s input crosses one before it.

#![allow(clippy::unwrap_used)] // test helpers: a poisoned lock means a test already failed

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weir_engine::window::{Count, WindowSpec};
use weir_engine::{Config, Source, SourcePoll, Timestamp, execute};

/// Records `0..n` at event times `0..n` ms, one per poll, watermark = the last event time.
struct Busy {
    next: u64,
    n: u64,
    emitted: Rc<Cell<u64>>,
}

impl Source for Busy {
    type Item = u64;

    fn poll(&mut self, out: &mut Vec<u64>, _max: usize, _now_ns: u64) -> SourcePoll {
        if self.next == self.n {
            return SourcePoll::Done;
        }
        out.push(self.next);
        self.next += 1;
        self.emitted.set(self.next);
        SourcePoll::Ready {
            watermark: (self.next - 1) as Timestamp,
        }
    }
}

/// Runs `window` (the source's stream to `(window end, count)` pairs) and returns
/// `(window end, count, records emitted when the result arrived)` per result.
fn arrivals<F>(window: F) -> Vec<(i64, u64, u64)>
where
    F: Fn(weir_engine::Stream<u64>) -> weir_engine::Stream<(i64, u64)> + Send + Sync + 'static,
{
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&arrivals);
    let config = Config::new(1)
        .with_pinning(false)
        .with_batch_size(64)
        .with_latency_budget(Duration::from_hours(1));
    execute(config, move |worker| {
        let emitted = Rc::new(Cell::new(0));
        let seen = Rc::clone(&emitted);
        let sink = Arc::clone(&sink);
        window(worker.source(Busy {
            next: 0,
            n: RECORDS,
            emitted,
        }))
        .for_each(move |(end, count)| {
            sink.lock().unwrap().push((end, count, seen.get()));
        });
    })
    .expect("job runs");
    let mut arrivals = arrivals.lock().unwrap().clone();
    arrivals.sort_unstable();
    arrivals
}

const RECORDS: u64 = 5_000;
const SIZE: i64 = 100;

/// The record at `end` moves the watermark to `end` and fires the window ending there: its
/// results must reach the sink within a few polls, not at end of input.
fn assert_prompt(arrivals: &[(i64, u64, u64)]) {
    for &(end, _, emitted_then) in arrivals {
        if end == RECORDS as i64 {
            continue; // the last window fires at end of input
        }
        assert!(
            emitted_then <= end as u64 + 4,
            "the window ending at {end} arrived after {emitted_then} records"
        );
    }
}

#[test]
fn a_watermark_crosses_an_exchange_before_its_batch_is_full() {
    // Three keys: each window has three results, all through the keyed exchange.
    let arrivals = arrivals(|s| {
        s.window(
            WindowSpec::tumbling(SIZE),
            |t| t % 3,
            |t| *t as Timestamp,
            Count,
        )
        .expect("valid window")
        .map(|(_, window, count)| (window.end, count))
    });
    assert_eq!(arrivals.len(), 3 * (RECORDS as i64 / SIZE) as usize);
    let total: u64 = arrivals.iter().map(|a| a.1).sum();
    assert_eq!(total, RECORDS);
    assert_prompt(&arrivals);
}

#[test]
fn window_results_cross_an_exchange_with_their_watermark() {
    let arrivals = arrivals(|s| {
        s.window_all(WindowSpec::tumbling(SIZE), |t| *t as Timestamp, Count)
            .expect("valid window")
            .map(|(window, count)| (window.end, count))
    });
    assert_eq!(arrivals.len(), (RECORDS as i64 / SIZE) as usize);
    for &(end, count, _) in &arrivals {
        assert_eq!(count, SIZE as u64, "window ending at {end}");
    }
    assert_prompt(&arrivals);
}
