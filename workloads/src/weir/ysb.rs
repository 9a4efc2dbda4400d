//! The Yahoo Streaming Benchmark as a weir dataflow: events | filter `view` | project
//! `(ad_id, event_time)` | static join ad -> campaign => tumbling 10 s count per campaign.
//!
//! With `--format json` the source hands over JSON lines instead of records ([`JsonLine`]:
//! generated, or replayed from bytes made before the clock started) and the query's first
//! operator parses them: lines | parse, filter `view`, static join => the same window. The
//! parse is part of the measured work, as the original benchmark's deserialisation of Kafka
//! messages is.

use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use weir_engine::window::{Count, FastMap, WindowSpec};
use weir_engine::{Stream, Worker};

use super::Shared;
use crate::split::{Split, Timestamped};
use crate::ysb::{WINDOW_MS, YsbEvent, YsbRow, YsbSplit, parse_json_line, tables};

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
    fn record(&self, error: &crate::ysb::ParseError, line: &str) {
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

/// Builds the YSB query (or, with `gen`, the generator-only baseline) on `worker`.
pub(crate) fn build(gen_only: bool, json: bool, worker: &mut Worker, shared: &Shared) {
    let sink = shared.sink(worker.index());
    if json {
        let lines = shared.ysb_json(worker);
        if gen_only {
            lines.sink(Vec::clear);
        } else {
            sink.attach(json_query(lines, Arc::clone(&shared.parse_errors)));
        }
        return;
    }
    let events = shared.ysb(worker);
    if gen_only {
        events.sink(Vec::clear);
        return;
    }
    sink.attach(query(events));
}

/// The static table, loaded into this worker's hash map (foldhash on the 36-byte ad UUID).
fn campaigns() -> FastMap<&'static str, &'static str> {
    tables().ad_campaigns().collect()
}

fn query(events: Stream<YsbEvent>) -> Stream<YsbRow> {
    let campaigns = campaigns();
    let views = events
        .filter(|e| e.event_type == "view")
        .map(|e| (e.ad_id, e.event_time))
        // The static join: ads without a campaign (none in the generated tables) drop out here
        // and show as filtered in the operator's records in/out.
        .flat_map(move |(ad, time)| campaigns.get(ad).map(|&c| (c, time)));
    count_per_campaign(views)
}

fn json_query(lines: Stream<JsonLine>, errors: Arc<ParseErrors>) -> Stream<YsbRow> {
    let campaigns = campaigns();
    // One fused operator: parse, keep views, join the ad to its campaign.
    let views = lines.flat_map(move |line| match parse_json_line(line.as_str()) {
        Ok(e) if e.event_type == "view" => campaigns.get(e.ad_id).map(|&c| (c, e.event_time)),
        Ok(_) => None,
        Err(error) => {
            errors.record(&error, line.as_str());
            None
        }
    });
    count_per_campaign(views)
}

fn count_per_campaign(views: Stream<(&'static str, u64)>) -> Stream<YsbRow> {
    views
        .window(
            WindowSpec::tumbling(WINDOW_MS as i64),
            |r: &(&'static str, u64)| r.0,
            |r| r.1 as i64,
            Count,
        )
        .expect("a 10 s window is valid")
        .map(|(campaign_id, w, count)| YsbRow {
            campaign_id,
            window_start: w.start as u64,
            count,
        })
}
