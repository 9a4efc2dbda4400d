//! YSB's JSON-lines source (`--format json`): lines generated on the fly ([`JsonSplit`]) or
//! replayed from chunks made before the clock started ([`JsonChunks`]), each line a range of a
//! shared chunk ([`JsonLine`]), and the count of lines that did not parse ([`ParseErrors`]).

use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::split::{Split, Timestamped};
use crate::ysb::YsbSplit;

/// Lines per chunk of pre-generated (`replay`) JSON input.
pub(crate) const REPLAY_CHUNK_LINES: usize = 4096;

/// One JSON line: a range of a chunk of lines shared by the lines of one batch, and the event
/// time the source knows it by (as a Kafka record carries its timestamp; the source's
/// watermark follows it, the query reads the time from the parsed line).
#[derive(Clone, Debug)]
pub(crate) struct JsonLine {
    chunk: Rc<String>,
    start: u32,
    /// End of the line, its `'\n'` excluded.
    end: u32,
    time: u64,
}

impl JsonLine {
    /// The line's text, without its `'\n'`.
    pub(crate) fn as_str(&self) -> &str {
        &self.chunk[self.start as usize..self.end as usize]
    }
}

impl Timestamped for JsonLine {
    fn timestamp(&self) -> u64 {
        self.time
    }
}

/// Chunks of JSON lines made off the worker (`replay`): `(text, [(line end, event time)])`,
/// each end counting the line's `'\n'`.
#[derive(Debug, Default)]
pub(crate) struct JsonChunks(pub(crate) Vec<(String, Vec<(u32, u64)>)>);

impl JsonChunks {
    /// Generates every event of `split` as JSON lines.
    pub(crate) fn generate(mut split: YsbSplit) -> Self {
        let mut chunks = Vec::new();
        loop {
            let mut text = String::new();
            let mut ends = Vec::with_capacity(REPLAY_CHUNK_LINES);
            let more = split.fill_json_lines(&mut text, REPLAY_CHUNK_LINES, |end, time| {
                ends.push((end as u32, time));
            });
            if !ends.is_empty() {
                chunks.push((text, ends));
            }
            if !more {
                return Self(chunks);
            }
        }
    }

    /// The lines, for one worker's replay source (the text is shared, not copied).
    pub(crate) fn into_lines(self) -> Vec<JsonLine> {
        let mut lines = Vec::with_capacity(self.0.iter().map(|(_, ends)| ends.len()).sum());
        for (text, ends) in self.0 {
            push_lines(&mut lines, &Rc::new(text), &ends);
        }
        lines
    }
}

fn push_lines(out: &mut Vec<JsonLine>, chunk: &Rc<String>, ends: &[(u32, u64)]) {
    let mut start = 0;
    for &(end, time) in ends {
        out.push(JsonLine {
            chunk: Rc::clone(chunk),
            start,
            end: end - 1,
            time,
        });
        start = end;
    }
}

/// One worker's YSB events as JSON lines, generated on the fly: one chunk of text per fill.
#[derive(Debug)]
pub(crate) struct JsonSplit {
    split: YsbSplit,
    ends: Vec<(u32, u64)>,
}

impl JsonSplit {
    pub(crate) fn new(split: YsbSplit) -> Self {
        Self {
            split,
            ends: Vec::new(),
        }
    }
}

impl Split for JsonSplit {
    type Event = JsonLine;

    fn fill(&mut self, out: &mut Vec<JsonLine>, max: usize) -> bool {
        // A YSB line is about 250 bytes.
        let mut text = String::with_capacity(max.min(1 << 16) * 256);
        let ends = &mut self.ends;
        ends.clear();
        let more = self.split.fill_json_lines(&mut text, max, |end, time| {
            ends.push((end as u32, time));
        });
        push_lines(out, &Rc::new(text), ends);
        more
    }

    fn watermark(&self) -> u64 {
        self.split.watermark()
    }
}

/// JSON lines the query could not parse (none for the generated input): the run fails with
/// the count and the first error rather than losing them quietly.
#[derive(Debug, Default)]
pub(crate) struct ParseErrors {
    count: AtomicU64,
    first: Mutex<Option<String>>,
}

impl ParseErrors {
    pub(crate) fn record(&self, error: &crate::ysb::ParseError, line: &str) {
        if self.count.fetch_add(1, Ordering::Relaxed) == 0 {
            let shown: String = line.chars().take(120).collect();
            *self.first.lock().unwrap_or_else(PoisonError::into_inner) =
                Some(format!("{error} in {shown:?}"));
        }
    }

    /// `(count, first error)` when any line failed to parse.
    pub(crate) fn summary(&self) -> Option<(u64, String)> {
        let count = self.count.load(Ordering::Relaxed);
        (count > 0).then(|| {
            let first = self
                .first
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
                .unwrap_or_default();
            (count, first)
        })
    }
}
