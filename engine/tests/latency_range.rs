//! Result latencies keep their magnitude: a result the end of input fires, held back 3 ms by
//! its operator, is recorded (apart, as the end of input's) as at least 3 ms (the histogram
//! must not clamp large values).

use std::time::Duration;

use weir_engine::{Collector, Config, IterSource, Operator, Output, Timestamp, Watermark, execute};

/// Emits one result per watermark advance, after sleeping `delay`.
struct SlowEcho(Duration);

impl Operator for SlowEcho {
    type In = i64;
    type Out = i64;
    fn on_batch(&mut self, input: &mut Vec<i64>, _out: &mut Output<'_, i64>) {
        input.clear();
    }
    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, i64>) -> Timestamp {
        if wm.is_end() {
            // The results' stamp marks them as the end of input's; the operator sees the
            // clock reading.
            assert_eq!(out.stamp(), wm.emitted_ns);
            std::thread::sleep(self.0);
            out.push(wm.time);
        }
        wm.time
    }
}

#[test]
fn latency_histogram_records_milliseconds() {
    let collector = Collector::new();
    let config = Config::new(1)
        .with_pinning(false)
        .with_collector(collector.clone());
    execute(config, |worker| {
        worker
            .source(IterSource::new(0..10_i64, |t: &i64| *t, 0))
            .unary("slow", SlowEcho(Duration::from_millis(3)))
            .sink(Vec::clear);
    })
    .expect("the job runs");
    let snapshot = collector.latest();
    assert!(
        snapshot.latency_ns.is_none_or(|h| h.is_empty()),
        "the only result is the end of input's"
    );
    let latency = snapshot
        .end_of_input_latency_ns
        .expect("latency was recorded");
    assert_eq!(latency.len(), 1);
    assert!(
        latency.max() >= 3_000_000,
        "a 3 ms hold-up must show as >= 3 ms, got {} ns",
        latency.max()
    );
}
