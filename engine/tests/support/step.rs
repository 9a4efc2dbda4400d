//! A source for tests that need a deterministic frontier per record: it emits one record per
//! poll, then answers two idle polls (so the worker flushes the watermark downstream before the
//! next record). At 1 worker each record meets the watermark left by the previous one.

use weir_engine::{Source, SourcePoll, Timestamp};

/// Emits `records` one per poll with watermark `max event time so far - out_of_orderness`.
pub(crate) struct StepSource<T, F> {
    records: Vec<T>,
    time: F,
    out_of_orderness: i64,
    next: usize,
    max_seen: Timestamp,
    idle_polls: u8,
}

impl<T, F: Fn(&T) -> Timestamp> StepSource<T, F> {
    /// A source over `records`, reading each one's event time with `time`.
    pub(crate) fn new(records: Vec<T>, time: F, out_of_orderness: i64) -> Self {
        Self {
            records,
            time,
            out_of_orderness,
            next: 0,
            max_seen: Timestamp::MIN,
            idle_polls: 0,
        }
    }

    fn watermark(&self) -> Timestamp {
        if self.max_seen == Timestamp::MIN {
            Timestamp::MIN
        } else {
            self.max_seen - self.out_of_orderness
        }
    }
}

impl<T: Copy + 'static, F: Fn(&T) -> Timestamp + 'static> Source for StepSource<T, F> {
    type Item = T;
    fn poll(&mut self, out: &mut Vec<T>, _max: usize, _now_ns: u64) -> SourcePoll {
        if self.idle_polls > 0 {
            self.idle_polls -= 1;
            return SourcePoll::Pending {
                watermark: self.watermark(),
                wake_at: Some(0),
            };
        }
        let Some(&record) = self.records.get(self.next) else {
            return SourcePoll::Done;
        };
        self.next += 1;
        self.max_seen = self.max_seen.max((self.time)(&record));
        out.push(record);
        self.idle_polls = 2;
        SourcePoll::Ready {
            watermark: self.watermark(),
        }
    }
}
