//! Nexmark q6 and q9 as differential dataflow programs: bids joined with the arrangement of
//! auctions by id, the winner per auction by `reduce`, decided at the auction's `expires`.
//!
//! Bounded state by temporal filters (the windows-as-data idiom of `queries.rs`): an auction
//! is in the collection for `[dateTime, expires + 1)` and a bid for `[t, t + 1)` (only an
//! auction that started at or before `t` can take it, and all of those are present at `t`), so
//! the arrangements compact both away. A qualifying pair is inserted at the bid's time `t <=
//! expires` and retracted at `t + 1 <= expires + 1`; its insertion is moved to `expires` and its
//! retraction to `expires + 1`, so each auction's winner is computed once, at `expires`, and
//! retracted at `expires + 1`. Only the updates at `expires` go on (the final winner):
//! [`at_close`].
//!
//! q9 joins the winners with the same auction arrangement again (shared, not rebuilt) for the
//! auction's columns. q6 keeps the final prices per seller in a `reduce` that emits, in closing
//! order, the average of each auction's last (up to) 10 closed auctions; that last `reduce`
//! keeps every closed auction of the seller (its state grows with the input).

use std::cmp::Reverse;
use std::collections::BTreeMap;

use differential_dataflow::{AsCollection, VecCollection};
use timely::dataflow::operators::vec::Map;

use super::queries::collect;
use crate::catalog::Query;
use crate::nexmark::Q6Row;
use crate::timely::events::{Events, NexmarkEvent};
use crate::timely::harness::{Ctx, ResultSlot, update_sink};
use crate::timely::wire::{WireAuction, WireBid, q9_row};

/// How many closed auctions of a seller q6 averages over.
const Q6_LAST: usize = 10;

/// Builds `query` if it is one of this module's (q6, q9); otherwise hands the events back.
pub(crate) fn build<'s, E: NexmarkEvent>(
    query: Query,
    events: Events<'s, E>,
    ctx: &Ctx,
    slot: &ResultSlot,
) -> Result<(), Events<'s, E>> {
    match query {
        Query::Q6 => q6(events, ctx, slot),
        Query::Q9 => q9(events, ctx, slot),
        _ => return Err(events),
    }
    Ok(())
}

/// Pushes `data` as present for `[from, until)`.
fn live<D: Clone>(out: &mut Vec<(D, u64, isize)>, data: D, from: u64, until: u64) {
    out.push((data.clone(), from, 1));
    out.push((data, until, -1));
}

/// The qualifying pairs of `pairs` (`expires` of each given by `expires`), insertions moved to
/// `expires` and retractions to `expires + 1` (see the module docs).
fn to_close<D: Clone + 'static>(
    pairs: VecCollection<'_, u64, D>,
    expires: fn(&D) -> u64,
) -> VecCollection<'_, u64, D> {
    pairs
        .inner
        .map(move |(d, _, r)| {
            let e = expires(&d);
            (d, if r > 0 { e } else { e + 1 }, r)
        })
        .as_collection()
}

/// The updates of `results` at their close time (`expires` of each given by `expires`),
/// without the retractions just after it.
fn at_close<D: Clone + 'static>(
    results: VecCollection<'_, u64, D>,
    expires: fn(&D) -> u64,
) -> VecCollection<'_, u64, D> {
    results
        .inner
        .flat_map(move |(d, t, r)| (t == expires(&d)).then_some((d, t, r)))
        .as_collection()
}

/// q9: per auction, its winning qualifying bid (highest price, then earliest time, then
/// smallest event id), joined back with the auction's columns.
fn q9<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let auctions = collect(events.clone(), "Q9Auctions", |e, t, out| {
        if let Some(a) = e.full_auction() {
            let until = a.expires.max(t) + 1;
            live(out, (a.id, WireAuction::from(&a)), t, until);
        }
    })
    .arrange_by_key();
    let bids = collect(events, "Q9Bids", |e, t, out| {
        if let Some(b) = e.full_bid() {
            let value = (Reverse(b.price), b.date_time, b.event_id, WireBid::from(&b));
            live(out, (b.auction, value), t, t + 1);
        }
    });
    let pairs = bids.join_core(auctions.clone(), |&id, bid, a: &WireAuction| {
        a.takes(bid.1).then(|| ((id, a.expires), bid.clone()))
    });
    let winners = to_close(pairs, |((_, e), _)| *e)
        .reduce(|_key, bids, out| {
            // Values sort by (price descending, time, event id): the first wins.
            out.push((bids[0].0.3.clone(), 1isize));
        })
        .map(|((id, expires), w)| (id, (expires, w)));
    let rows = winners.join_core(auctions, |_id, (expires, w), a: &WireAuction| {
        (a.expires == *expires).then(|| (a.expires, q9_row(a, w)))
    });
    let rows = at_close(rows, |(e, _)| *e).map(|(_, row)| row);
    update_sink(rows.inner, ctx, slot);
}

/// q6: per seller, for each closed auction with a qualifying bid, the average final price of
/// the seller's last (up to) 10 closed auctions, in closing order (`expires`, then id).
fn q6<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let auctions = collect(events.clone(), "Q6Auctions", |e, t, out| {
        if let Some(a) = e.full_auction() {
            let until = a.expires.max(t) + 1;
            live(out, (a.id, (a.date_time, a.expires, a.seller)), t, until);
        }
    })
    .arrange_by_key();
    let bids = collect(events, "Q6Bids", |e, t, out| {
        if let Some(b) = e.full_bid() {
            // The event id keeps equal bids apart (each is one update).
            live(
                out,
                (b.auction, (b.price, b.date_time, b.event_id)),
                t,
                t + 1,
            );
        }
    });
    let pairs = bids.join_core(
        auctions,
        |&id, &(price, time, _), &(start, expires, seller)| {
            (start <= time && time <= expires).then_some(((seller, expires, id), price))
        },
    );
    let finals = to_close(pairs, |((_, e, _), _)| *e).reduce(|_key, prices, out| {
        // Prices sort ascending: the last is the final price.
        let &(&max, _) = prices.last().expect("reduce sees non-empty groups");
        out.push((max, 1isize));
    });
    let rows = at_close(finals, |((_, e, _), _)| *e)
        .map(|((seller, expires, id), price)| (seller, (expires, id, price)))
        .reduce(|_seller, closed, out| {
            // Values sort by (expires, id): closing order.
            let prices: Vec<u64> = closed.iter().map(|((_, _, p), _)| *p).collect();
            let mut averages: BTreeMap<i64, isize> = BTreeMap::new();
            for k in 0..prices.len() {
                let last = &prices[(k + 1).saturating_sub(Q6_LAST)..=k];
                let sum: i128 = last.iter().map(|&p| i128::from(p)).sum();
                *averages
                    .entry((sum / last.len() as i128) as i64)
                    .or_default() += 1;
            }
            out.extend(averages);
        })
        .map(|(seller, avg)| Q6Row { seller, avg });
    update_sink(rows.inner, ctx, slot);
}
