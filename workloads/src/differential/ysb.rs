//! YSB on differential: views become `(campaign, window end)` updates at the window's end (and
//! their retractions just after it, so the counts' arrangement forgets closed windows), counted
//! with `count`; each window's count appears once, when the frontier passes its end.

use differential_dataflow::AsCollection;
use timely::dataflow::StreamVec;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::Operator;

use super::queries::final_at_window_end;
use crate::timely::harness::{Ctx, ResultSlot, update_sink};
use crate::timely::windows::tumble_end;
use crate::ysb::{Campaigns, WINDOW_MS, YsbEvent, YsbRow, tables};

/// The YSB query over one worker's events.
pub(crate) fn ysb(events: StreamVec<'_, u64, YsbEvent>, ctx: &Ctx, slot: &ResultSlot) {
    let views = events
        .unary(Pipeline, "YsbViews", |_cap, _info| {
            let campaigns: Campaigns = Campaigns::new();
            let mut buffer = Vec::new();
            move |input, output| {
                input.for_each(|cap, data| {
                    let t = *cap.least().expect("data has a time");
                    let end = tumble_end(t, WINDOW_MS);
                    for e in data.drain(..) {
                        if let Some(c) = campaigns.of_view(&e) {
                            buffer.push(((c, end), end, 1isize));
                            buffer.push(((c, end), end + 1, -1isize));
                        }
                    }
                    output.session(&cap).give_iterator(buffer.drain(..));
                });
            }
        })
        .as_collection();
    let ids: Vec<&'static str> = tables().campaigns().collect();
    let rows = views.count().map(move |((c, end), n)| {
        (
            end,
            YsbRow {
                campaign_id: ids[c as usize],
                window_start: end - WINDOW_MS,
                count: n as u64,
            },
        )
    });
    update_sink(final_at_window_end(rows), ctx, slot);
}
