//! An exchange sends a window firing's results on with the watermark that fired them, however
//! long its latency budget and however busy the worker: results are the data the latency goal
//! is about. (Plain data still waits for a full batch, the budget or an idle worker.)
//!
//! One worker, a source that is never idle (one record per poll, always ready) and a latency
//! budget of an hour, so nothing but that rule can move a partial batch before end of input.
//! `window_all`'s local phase fires on the source's own watermark and its partials cross an
//! exchange to the merging phase; the sink notes how many records the source had emitted when
//! each window's result arrived.

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

#[test]
fn window_results_cross_an_exchange_with_their_watermark() {
    const RECORDS: u64 = 5_000;
    const SIZE: i64 = 100;
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
        worker
            .source(Busy {
                next: 0,
                n: RECORDS,
                emitted,
            })
            .window_all(WindowSpec::tumbling(SIZE), |t| *t as Timestamp, Count)
            .expect("valid window")
            .for_each(move |(window, count)| {
                sink.lock().unwrap().push((window.end, count, seen.get()));
            });
    })
    .expect("job runs");
    let arrivals = arrivals.lock().unwrap();
    assert_eq!(arrivals.len(), (RECORDS as i64 / SIZE) as usize);
    for &(end, count, emitted_then) in arrivals.iter() {
        assert_eq!(count, SIZE as u64, "window ending at {end}");
        if end == RECORDS as i64 {
            continue; // the last window fires at end of input
        }
        // The record at `end` moves the watermark to `end` and fires the window: its result
        // must reach the sink within a few polls, not at end of input.
        assert!(
            emitted_then <= end as u64 + 4,
            "the window ending at {end} arrived after {emitted_then} records"
        );
    }
}
