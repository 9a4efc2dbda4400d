//! The Yahoo Streaming Benchmark as a weir dataflow: events | filter `view` | project
//! `(ad_id, event_time)` | static join ad -> campaign => tumbling 10 s count per campaign.
//!
//! With `--format json` the source hands over JSON lines instead of records ([`JsonLine`]:
//! generated, or replayed from bytes made before the clock started) and the query's first
//! operator parses them: lines | parse, filter `view`, static join => the same window. The
//! parse is part of the measured work, as the original benchmark's deserialisation of Kafka
//! messages is.

use std::sync::Arc;

use weir_engine::window::{Count, FastMap, WindowSpec};
use weir_engine::{Stream, Worker};

use super::json::{JsonLine, ParseErrors};
use super::shared::Shared;
use crate::ysb::{WINDOW_MS, YsbEvent, YsbRow, parse_json_line, tables};

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
