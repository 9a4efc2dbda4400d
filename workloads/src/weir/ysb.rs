//! The Yahoo Streaming Benchmark as a weir dataflow: events | filter `view` | project
//! `(ad_id, event_time)` | static join ad -> campaign => tumbling 10 s count per campaign.

use weir_engine::window::{Count, FastMap, WindowSpec};
use weir_engine::{Stream, Worker};

use super::Shared;
use crate::ysb::{WINDOW_MS, YsbEvent, YsbRow, tables};

/// Builds the YSB query (or, with `gen`, the generator-only baseline) on `worker`.
pub(crate) fn build(gen_only: bool, worker: &mut Worker, shared: &Shared) {
    let events = shared.ysb(worker);
    if gen_only {
        events.sink(Vec::clear);
        return;
    }
    shared.sink(worker.index()).attach(query(events));
}

fn query(events: Stream<YsbEvent>) -> Stream<YsbRow> {
    // The static table, loaded into this worker's hash map (foldhash on the 36-byte ad UUID).
    let campaigns: FastMap<&'static str, &'static str> = tables().ad_campaigns().collect();
    events
        .filter(|e| e.event_type == "view")
        .map(|e| (e.ad_id, e.event_time))
        // The static join: ads without a campaign (none in the generated tables) drop out here
        // and show as filtered in the operator's records in/out.
        .flat_map(move |(ad, time)| campaigns.get(ad).map(|&c| (c, time)))
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
