//! Nexmark q15-q19 as differential dataflow programs: updating tables, digested as the final
//! table by the sink folding their changelog.
//!
//! - q15 and q16 count bids and distinct bidders and auctions per group and price band with
//!   one `distinct` (over `(group, column, id)`: the column says which of the eight distinct
//!   counts an id belongs to) and one `count` (over `(group, column)`, the four bid columns
//!   included); a `reduce` per group assembles the twelve counts (and q16's latest bid time)
//!   into the row. Arranged state: the distinct ids per group and column, and the counts.
//! - q17 is one `reduce` per (auction, day) over its prices (count, bands, min, max, sum).
//! - q18 is one `reduce` per (bidder, auction) whose values sort by `(dateTime, event id)`:
//!   the last one is the answer.
//! - q19 is one `reduce` per auction whose values sort by `(price descending, event id)`: the
//!   first ten are the answer.
//!
//! Every input bid stays arranged (these tables never forget a bid: a retraction could make
//! any of them matter again), so the state grows with the input.

use std::cmp::Reverse;
use std::sync::Arc;

use differential_dataflow::VecCollection;

use super::queries::collect;
use crate::catalog::Query;
use crate::nexmark::reference::SumOverflow;
use crate::nexmark::{BandCounts, BidStats, Date, HourMinute, PriceBand, Q15Row, Q16Row, Q17Row};
use crate::timely::events::{Events, NexmarkEvent};
use crate::timely::harness::{Ctx, ResultSlot, update_sink};
use crate::timely::reports::DAY_MS;
use crate::timely::wire::{WireBid, q18_row, q19_row};

/// How many bids per auction q19 keeps.
const Q19_TOP: usize = 10;

/// Builds `query` if it is one of this module's (q15-q19); otherwise hands the events back.
pub(crate) fn build<'s, E: NexmarkEvent>(
    query: Query,
    events: Events<'s, E>,
    ctx: &Ctx,
    slot: &ResultSlot,
) -> Result<(), Events<'s, E>> {
    match query {
        Query::Q15 => q15(events, ctx, slot),
        Query::Q16 => q16(events, ctx, slot),
        Query::Q17 => q17(events, ctx, slot),
        Query::Q18 => q18(events, ctx, slot),
        Query::Q19 => q19(events, ctx, slot),
        _ => return Err(events),
    }
    Ok(())
}

/// The `yyyy-MM-dd` of a day number.
fn day(day: u64) -> Date {
    Date::of_epoch_ms(day * DAY_MS)
}

/// Extra `(group, (column, value))` updates assembled with the counts (q16's latest bid time).
type ExtraColumns<'s, K> = VecCollection<'s, u64, (K, (u8, isize))>;

/// The column of q16's latest bid time among the assembled values (after the twelve counts).
const LATEST: u8 = 12;

/// The twelve counts of q15 and q16 per group `K`, from `(group, (bidder, auction, price))`,
/// plus (as column [`LATEST`]) the values of `extra` (q16's latest bid time).
fn bid_stats<'s, K>(
    bids: VecCollection<'s, u64, (K, (u64, u64, u64))>,
    extra: Option<ExtraColumns<'s, K>>,
) -> VecCollection<'s, u64, (K, (BidStats, isize))>
where
    K: differential_dataflow::ExchangeData + std::hash::Hash,
{
    // Columns: 0..4 bids, 4..8 distinct bidders, 8..12 distinct auctions (total, then bands).
    let bid_columns = bids.clone().flat_map(|(k, (_, _, price))| {
        let band = PriceBand::of(price).index() as u8;
        [(k.clone(), 0u8), (k, 1 + band)]
    });
    let distinct_columns = bids
        .flat_map(|(k, (bidder, auction, price))| {
            let band = PriceBand::of(price).index() as u8;
            [
                (k.clone(), 4u8, bidder),
                (k.clone(), 5 + band, bidder),
                (k.clone(), 8, auction),
                (k, 9 + band, auction),
            ]
        })
        .distinct()
        .map(|(k, column, _)| (k, column));
    let counts = bid_columns
        .concat(distinct_columns)
        .count()
        .map(|((k, column), n)| (k, (column, n)));
    let columns = match extra {
        Some(extra) => counts.concat(extra),
        None => counts,
    };
    columns.reduce(|_k, columns, out| {
        let mut stats = BidStats::default();
        let mut latest = 0isize;
        for &(&(column, n), _) in columns {
            let n64 = n as u64;
            let i = usize::from(column);
            match i {
                0 => stats.bids.total = n64,
                1..=3 => stats.bids.rank[i - 1] = n64,
                4 => stats.bidders.total = n64,
                5..=7 => stats.bidders.rank[i - 5] = n64,
                8 => stats.auctions.total = n64,
                9..=11 => stats.auctions.rank[i - 9] = n64,
                _ => latest = n,
            }
        }
        out.push(((stats, latest), 1));
    })
}

/// q15: per UTC day.
fn q15<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let bids = collect(events, "Q15Bids", |e, t, out| {
        if let Some(b) = e.full_bid() {
            out.push(((b.date_time / DAY_MS, (b.bidder, b.auction, b.price)), t, 1));
        }
    });
    let rows = bid_stats(bids, None).map(|(d, (stats, _))| Q15Row { day: day(d), stats });
    update_sink(rows.inner, ctx, slot);
}

/// q16: per (channel, UTC day), with the `HH:mm` of its latest bid.
fn q16<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let bids = collect(events, "Q16Bids", |e, t, out| {
        if let Some(b) = e.full_bid() {
            let key = (b.channel.name().to_string(), b.date_time / DAY_MS);
            out.push(((key, (b.date_time, (b.bidder, b.auction, b.price))), t, 1));
        }
    });
    // Values sort by time: the last is the latest.
    let latest = bids
        .clone()
        .map(|(k, (time, _))| (k, time))
        .reduce(|_k, times, out| {
            let &(&latest, _) = times.last().expect("reduce sees non-empty groups");
            out.push((latest, 1isize));
        })
        .map(|(k, latest)| (k, (LATEST, latest as isize)));
    let counted = bids.map(|(k, (_, bid))| (k, bid));
    let rows = bid_stats(counted, Some(latest)).map(|((channel, d), (stats, latest))| Q16Row {
        channel,
        day: day(d),
        minute: HourMinute::of_epoch_ms(latest as u64),
        stats,
    });
    update_sink(rows.inner, ctx, slot);
}

/// q17: per (auction, UTC day), counts and price statistics in one `reduce`. A sum that does
/// not fit 64 bits fails the run (the contract's q17 rule).
fn q17<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let bids = collect(events, "Q17Bids", |e, t, out| {
        if let Some(b) = e.full_bid() {
            out.push((((b.auction, b.date_time / DAY_MS), b.price), t, 1));
        }
    });
    let shared = Arc::clone(&ctx.shared);
    let rows = bids
        .reduce(move |&(auction, d), prices, out| {
            let mut bids = BandCounts::default();
            let mut sum = 0i128;
            for &(&price, n) in prices {
                bids.total += n as u64;
                bids.rank[PriceBand::of(price).index()] += n as u64;
                sum += i128::from(price) * n as i128;
            }
            let Ok(sum_price) = i64::try_from(sum) else {
                shared.fail(
                    SumOverflow {
                        auction,
                        day: day(d),
                    }
                    .to_string(),
                );
                return;
            };
            // Values are sorted: the first price is the minimum, the last the maximum.
            let min = *prices[0].0;
            let max = *prices[prices.len() - 1].0;
            let avg = (sum / i128::from(bids.total)) as i64;
            out.push(((bids, min, max, avg, sum_price), 1isize));
        })
        .map(
            |((auction, d), (bids, min_price, max_price, avg_price, sum_price))| Q17Row {
                auction,
                day: day(d),
                bids,
                min_price,
                max_price,
                avg_price,
                sum_price,
            },
        );
    update_sink(rows.inner, ctx, slot);
}

/// q18: per (bidder, auction), its last bid; values sort by `(dateTime, event id)`.
fn q18<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let bids = collect(events, "Q18Bids", |e, t, out| {
        if let Some(b) = e.full_bid() {
            let value = (b.date_time, b.event_id, WireBid::from(&b));
            out.push((((b.bidder, b.auction), value), t, 1));
        }
    });
    let rows = bids
        .reduce(|_key, bids, out| {
            let (last, _) = bids.last().expect("reduce sees non-empty groups");
            out.push((last.2.clone(), 1isize));
        })
        .map(|(_, b)| q18_row(&b));
    update_sink(rows.inner, ctx, slot);
}

/// q19: per auction, its 10 best bids; values sort by `(price descending, event id)`.
fn q19<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let bids = collect(events, "Q19Bids", |e, t, out| {
        if let Some(b) = e.full_bid() {
            let value = (Reverse(b.price), b.event_id, WireBid::from(&b));
            out.push(((b.auction, value), t, 1));
        }
    });
    let rows = bids
        .reduce(|_auction, bids, out| {
            // A bid present n times takes n ranks (bids are unique by event id, so n is 1).
            let ranked = bids
                .iter()
                .flat_map(|(b, n)| std::iter::repeat_n(&b.2, (*n).max(0) as usize));
            for (i, b) in ranked.take(Q19_TOP).enumerate() {
                out.push(((i as u64 + 1, b.clone()), 1isize));
            }
        })
        .map(|(_, (rank, b))| q19_row(&b, rank as usize));
    update_sink(rows.inner, ctx, slot);
}
