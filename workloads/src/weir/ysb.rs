//! The Yahoo Streaming Benchmark as a weir dataflow: events | keep `view`s and join the ad to
//! its campaign (one fused operator; campaigns as indexes) => tumbling 10 s count per campaign,
//! aggregated in two phases (each worker counts its own views before the exchange).
//!
//! With `--format json` the source hands over JSON lines instead of records ([`JsonLine`]:
//! generated, or replayed from bytes made before the clock started) and the query's first
//! operator parses them: lines | parse, filter `view`, static join => the same window. The
//! parse is part of the measured work, as the original benchmark's deserialisation of Kafka
//! messages is.

use std::rc::Rc;
use std::sync::Arc;

use weir_engine::window::{Count, WindowSpec};
use weir_engine::{Stream, Worker};

use super::json::{JsonLine, ParseErrors};
use super::shared::Shared;
use crate::ysb::{Campaigns, WINDOW_MS, YsbEvent, YsbRow, parse_json_line};

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

/// The static table, loaded per worker: ad UUID -> campaign index (foldhash on the 36-byte
/// UUID). Windows count per index (a `u32`); the UUID is looked up again for result rows.
type CampaignTable = Campaigns<foldhash::fast::FixedState>;

fn query(events: Stream<YsbEvent>) -> Stream<YsbRow> {
    let campaigns = Rc::new(CampaignTable::new());
    let table = Rc::clone(&campaigns);
    // One fused operator, as the JSON path's: keep views, join the ad to its campaign. (A
    // `filter` first would compact the 104-byte events in place before the join reads them.)
    // Ads without a campaign (none in the generated tables) drop out here and show as
    // filtered in the operator's records in/out.
    let views = events.flat_map(move |e| table.of_view(&e).map(|c| (c, e.event_time)));
    count_per_campaign(views, campaigns)
}

fn json_query(lines: Stream<JsonLine>, errors: Arc<ParseErrors>) -> Stream<YsbRow> {
    let campaigns = Rc::new(CampaignTable::new());
    let table = Rc::clone(&campaigns);
    // One fused operator: parse, keep views, join the ad to its campaign.
    let views = lines.flat_map(move |line| match parse_json_line(line.as_str()) {
        Ok(e) if e.event_type == "view" => table.of_ad(e.ad_id).map(|c| (c, e.event_time)),
        Ok(_) => None,
        Err(error) => {
            errors.record(&error, line.as_str());
            None
        }
    });
    count_per_campaign(views, campaigns)
}

/// Counts per campaign and window in two phases: each worker counts its own views per
/// campaign (100 keys) before the exchange, so only one partial count per campaign, window
/// and worker crosses workers, not every view.
fn count_per_campaign(views: Stream<(u32, u64)>, campaigns: Rc<CampaignTable>) -> Stream<YsbRow> {
    views
        .window_two_phase(
            WindowSpec::tumbling(WINDOW_MS as i64),
            |r: &(u32, u64)| r.0,
            |r| r.1 as i64,
            Count,
        )
        .expect("a 10 s window is valid")
        .map(move |(campaign, w, count)| YsbRow {
            campaign_id: campaigns.id(campaign),
            window_start: w.start as u64,
            count,
        })
}
