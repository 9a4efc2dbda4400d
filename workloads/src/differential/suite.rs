//! Nexmark q10, q13, q14, q20, q21 and q22 as differential dataflow programs.
//!
//! The per-bid queries are collections made on the worker that read the bid (no exchange, no
//! arrangement): one update per row, at the bid's time, with the row's text borrowed from the
//! bid. q13's side table is read before the job starts and shared read-only (a static lookup
//! table is not a collection that changes, so it is not arranged). q10's rows go to the
//! partitioned file sink of the timely harness (`timely/partitioned.rs`) and to the digest.
//!
//! q20 is `join_core` of the bids with the arrangement of category-10 auctions by id: both
//! sides are arranged (differential's join keeps both inputs, as a regular join must).

use differential_dataflow::VecCollection;

use super::queries::{collect, stamp_of, stamped};
use crate::catalog::{EngineKind, Query};
use crate::digest::ResultRow;
use crate::nexmark::{Bid, Q10Row, Q13Row, Q20Row};
use crate::timely::events::{Events, NexmarkEvent};
use crate::timely::harness::{Ctx, ResultSlot, sampled_sink};
use crate::timely::partitioned::write_partitions;
use crate::timely::per_bid::{q10_row, q13_row, q14_row, q21_row, q22_row};
use crate::timely::wire::{WireAuction, WireBid, q20_row};

/// Builds `query` if it is one of this module's; otherwise hands the events back.
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

/// The collection of `row` of each bid, with the bid's ingestion stamp.
fn rows_of<'s, E: NexmarkEvent, R: Clone + 'static>(
    events: Events<'s, E>,
    name: &str,
    row: impl Fn(&Bid) -> Option<R> + 'static,
) -> VecCollection<'s, u64, (R, u64)> {
    collect(events, name, move |e, t, out| {
        if let Some(r) = e.full_bid().and_then(|b| row(&b)) {
            out.push(((r, e.stamp()), t, 1));
        }
    })
}

/// A per-bid query: `row` of each bid.
fn per_bid<E: NexmarkEvent, R: ResultRow + Clone + 'static>(
    events: Events<'_, E>,
    ctx: &Ctx,
    slot: &ResultSlot,
    row: fn(&Bid) -> Option<R>,
) {
    let rows = rows_of(events, "PerBidRows", row);
    sampled_sink(rows.inner, ctx, slot, stamped::<R>, stamp_of);
}

/// q13: every bid with the side table's value for `auction mod 10000`.
fn q13<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let Some(side) = ctx.files.side_input else {
        ctx.shared
            .fail("q13 started without its side table (please report it)".into());
        return;
    };
    let rows = rows_of(events, "Q13Lookup", move |b| Some(q13_row(b, side)));
    sampled_sink(rows.inner, ctx, slot, stamped::<Q13Row>, stamp_of);
}

/// q10: every bid with its partition, written to the partitioned files and digested as emitted.
fn q10<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let Some(dir) = ctx.files.sink_dir.clone() else {
        ctx.shared
            .fail("q10 started without its sink directory (please report it)".into());
        return;
    };
    let rows = rows_of(events, "Q10Rows", |b| Some(q10_row(b)));
    write_partitions(
        &rows.inner,
        ctx,
        &dir,
        EngineKind::Differential,
        stamped::<Q10Row>,
    );
    sampled_sink(rows.inner, ctx, slot, stamped::<Q10Row>, stamp_of);
}

/// q20: the bids joined with the arrangement of category-10 auctions by id.
///
/// A row whose bid is not older than its auction (the bid completed the join) carries the
/// bid's ingestion stamp, as on the other engines.
fn q20<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let auctions = collect(events.clone(), "Q20Auctions", |e, t, out| {
        if let Some(a) = e.full_auction().filter(|a| a.category == 10) {
            out.push(((a.id, WireAuction::from(&a)), t, 1));
        }
    })
    .arrange_by_key();
    let bids = collect(events, "Q20Bids", |e, t, out| {
        if let Some(b) = e.full_bid() {
            out.push(((b.auction, (WireBid::from(&b), e.stamp())), t, 1));
        }
    });
    let rows = bids.join_core(auctions, |_id, (b, stamp), a: &WireAuction| {
        let stamp = if b.date_time >= a.date_time {
            *stamp
        } else {
            0
        };
        Some((q20_row(b, a), stamp))
    });
    sampled_sink(rows.inner, ctx, slot, stamped::<Q20Row<String>>, stamp_of);
}
