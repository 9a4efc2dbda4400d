//! Criterion benchmarks of weir's parts live in `benches/`; this library holds what several of
//! them share.

use weir_engine::{NO_PROGRESS, Source, SourcePoll};

/// Emits `(i, i)` for `i` in `start..end`, in batches as large as the worker asks for.
#[derive(Debug)]
pub struct Counter {
    next: u64,
    end: u64,
    watermarks: bool,
}

impl Counter {
    /// A source of `start..end` without watermarks (no event time).
    pub fn new(start: u64, end: u64) -> Self {
        Self {
            next: start,
            end,
            watermarks: false,
        }
    }

    /// Also emits a watermark after every batch (`records emitted so far / 1024`), as a real
    /// source would.
    #[must_use]
    pub fn with_watermarks(mut self) -> Self {
        self.watermarks = true;
        self
    }
}

impl Source for Counter {
    type Item = (u64, u64);
    fn poll(&mut self, out: &mut Vec<(u64, u64)>, max: usize, _now: u64) -> SourcePoll {
        let n = (self.end - self.next).min(max as u64);
        if n == 0 {
            return SourcePoll::Done;
        }
        out.extend((self.next..self.next + n).map(|i| (i, i)));
        self.next += n;
        let watermark = if self.watermarks {
            (self.next / 1024) as i64
        } else {
            NO_PROGRESS
        };
        SourcePoll::Ready { watermark }
    }
}
