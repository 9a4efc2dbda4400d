//! Nexmark q10, q13, q14, q20, q21 and q22 on timely: the per-bid queries, the lookup join,
//! the partitioned file sink and the regular join of bids with auctions.
//!
//! The per-bid queries (q13, q14, q21, q22) are one `flat_map` on the worker that read the
//! bid, with no exchange and no allocation per bid (their rows borrow the bid's text). q13's
//! side table is read before the job starts and shared read-only by every worker. q10 is the
//! same `flat_map`, then the partitioned file sink of `partitioned.rs`.
//!
//! q20 exchanges bids and auctions of category 10 by auction id and keeps both sides in hash
//! tables per worker (a regular join: either side may come first, and nothing is ever freed;
//! its state grows with the input, as the query's semantics demand).

use std::collections::HashMap;

use timely::dataflow::StreamVec;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::vec::Map;

use super::events::{Events, NexmarkEvent};
use super::harness::{Ctx, ResultSlot, sampled_sink};
use super::partitioned::write_partitions;
use super::per_bid::{q10_row, q13_row, q14_row, q21_row, q22_row};
use super::stateless::{route, stamp_of, stamped};
use super::wire::{WireAuction, WireBid, q20_row};
use crate::catalog::{EngineKind, Query};
use crate::nexmark::{Q10Row, Q13Row, Q20Row};

/// Builds `query` if it is one of this module's (q10, q13, q14, q20, q21, q22); otherwise
/// hands the events back for the next module to try.
pub(crate) fn build<'s, E: NexmarkEvent>(
    query: Query,
    events: Events<'s, E>,
    ctx: &Ctx,
    slot: &ResultSlot,
) -> Result<(), Events<'s, E>> {
    match query {
        Query::Q10 => q10(events, ctx, slot),
        Query::Q13 => q13(events, ctx, slot),
        Query::Q14 => per_bid(events, ctx, slot, q14_row),
        Query::Q20 => q20(events, ctx, slot),
        Query::Q21 => per_bid(events, ctx, slot, q21_row),
        Query::Q22 => per_bid(events, ctx, slot, |b| Some(q22_row(b))),
        _ => return Err(events),
    }
    Ok(())
}

/// A per-bid query: `row` of each bid, on the worker that read it.
fn per_bid<E: NexmarkEvent, R>(
    events: Events<'_, E>,
    ctx: &Ctx,
    slot: &ResultSlot,
    row: fn(&crate::nexmark::Bid) -> Option<R>,
) where
    R: crate::digest::ResultRow + Clone + 'static,
{
    let rows = events.flat_map(move |e| e.full_bid().and_then(|b| row(&b)).map(|r| (r, e.stamp())));
    sampled_sink(rows, ctx, slot, stamped::<R>, stamp_of);
}

/// q13: every bid with the side table's value for `auction mod 10000`.
fn q13<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let Some(side) = ctx.files.side_input else {
        ctx.shared
            .fail("q13 started without its side table (please report it)".into());
        return;
    };
    let rows = events.flat_map(move |e| e.full_bid().map(|b| (q13_row(&b, side), e.stamp())));
    sampled_sink(rows, ctx, slot, stamped::<Q13Row>, stamp_of);
}

/// q10: every bid with its partition, written to the partitioned files and digested as emitted.
fn q10<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let Some(dir) = ctx.files.sink_dir.clone() else {
        ctx.shared
            .fail("q10 started without its sink directory (please report it)".into());
        return;
    };
    let rows = events.flat_map(|e| e.full_bid().map(|b| (q10_row(&b), e.stamp())));
    write_partitions(&rows, ctx, &dir, EngineKind::Timely, stamped::<Q10Row>);
    sampled_sink(rows, ctx, slot, stamped::<Q10Row>, stamp_of);
}

/// A q20 bid with the ingestion stamp of its event (0 when not sampled).
type StampedBid = (WireBid, u64);

/// q20: every bid with its auction of category 10, a regular join.
///
/// A row made when a sampled bid arrives after its auction carries the bid's ingestion stamp
/// (latency); rows made when an auction arrives for earlier bids carry none.
fn q20<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let auctions = events.clone().flat_map(|e| {
        e.full_auction()
            .filter(|a| a.category == 10)
            .map(|a| WireAuction::from(&a))
    });
    let bids = events.flat_map(|e| e.full_bid().map(|b| (WireBid::from(&b), e.stamp())));
    let rows: StreamVec<'_, u64, (Q20Row<String>, u64)> = auctions.binary(
        bids,
        Exchange::new(|a: &WireAuction| route(a.id as i64)),
        Exchange::new(|b: &StampedBid| route(b.0.auction as i64)),
        "Q20Join",
        |_cap, _info| {
            let mut known: HashMap<u64, Vec<WireAuction>> = HashMap::new();
            let mut seen: HashMap<u64, Vec<WireBid>> = HashMap::new();
            move |auctions, bids, output| {
                auctions.for_each(|cap, data| {
                    let mut session = output.session(&cap);
                    for a in data.drain(..) {
                        for b in seen.get(&a.id).into_iter().flatten() {
                            session.give((q20_row(b, &a), 0));
                        }
                        known.entry(a.id).or_default().push(a);
                    }
                });
                bids.for_each(|cap, data| {
                    let mut session = output.session(&cap);
                    for (b, stamp) in data.drain(..) {
                        for a in known.get(&b.auction).into_iter().flatten() {
                            session.give((q20_row(&b, a), stamp));
                        }
                        seen.entry(b.auction).or_default().push(b);
                    }
                });
            }
        },
    );
    sampled_sink(rows, ctx, slot, stamped::<Q20Row<String>>, stamp_of);
}
