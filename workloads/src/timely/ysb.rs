//! YSB on timely: filter views, look the ad up in the static ad -> campaign
//! table, count per campaign in 10 s event-time tumbling windows.
//!
//! The table is replicated on every worker (the original keeps it in a local cache in front of
//! Redis) as a map from ad to campaign *index*, so that exchanged records are plain integers;
//! the campaign's UUID is looked up again only for result rows.

use std::collections::HashMap;

use timely::dataflow::StreamVec;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::generic::Operator;

use super::harness::{Ctx, ResultSlot, digest_sink};
use super::stateless::route;
use super::windows::{Pending, passed, reached, tumble_end};
use crate::ysb::{Campaigns, WINDOW_MS, YsbEvent, YsbRow};

fn plain<R>(row: &R) -> (&R, i64) {
    (row, 1)
}

/// YSB on timely: each worker pre-aggregates its views per `(campaign, window)` and, when the
/// window closes, sends partial counts to the campaign's owner, which adds them up once every
/// worker's partials are in.
pub(crate) fn timely(events: StreamVec<'_, u64, YsbEvent>, ctx: &Ctx, slot: &ResultSlot) {
    let partials: StreamVec<'_, u64, (u32, u64, u64)> =
        events.unary_frontier(Pipeline, "YsbLocalCount", |_cap, _info| {
            let campaigns: Campaigns = Campaigns::new();
            let mut pending: Pending<HashMap<u32, u64>> = Pending::new();
            move |(input, frontier), output| {
                input.for_each(|cap, data| {
                    let end = tumble_end(*cap.least().expect("data has a time"), WINDOW_MS);
                    let mut views = data
                        .drain(..)
                        .filter_map(|e| campaigns.of_view(&e))
                        .peekable();
                    if views.peek().is_some() {
                        let counts = pending.at(end, &cap);
                        for c in views {
                            *counts.entry(c).or_insert(0) += 1;
                        }
                    }
                });
                while let Some((end, cap, counts)) = pending.next_ready(reached(frontier)) {
                    output
                        .session(&cap)
                        .give_iterator(counts.into_iter().map(|(c, n)| (c, end, n)));
                }
            }
        });
    let rows: StreamVec<'_, u64, YsbRow> = partials.unary_frontier(
        Exchange::new(|p: &(u32, u64, u64)| route(i64::from(p.0))),
        "YsbCount",
        |_cap, _info| {
            let campaigns: Campaigns = Campaigns::new();
            let mut pending: Pending<HashMap<u32, u64>> = Pending::new();
            move |(input, frontier), output| {
                input.for_each(|cap, data| {
                    for (campaign, end, n) in data.drain(..) {
                        *pending.at(end, &cap).entry(campaign).or_insert(0) += n;
                    }
                });
                while let Some((end, cap, counts)) = pending.next_ready(passed(frontier)) {
                    output
                        .session(&cap)
                        .give_iterator(counts.into_iter().map(|(c, n)| YsbRow {
                            campaign_id: campaigns.id(c),
                            window_start: end - WINDOW_MS,
                            count: n,
                        }));
                }
            }
        },
    );
    digest_sink(rows, ctx, slot, plain::<YsbRow>);
}
