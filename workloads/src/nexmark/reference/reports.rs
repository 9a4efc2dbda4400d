//! References of the updating reports over bids, q15-q19: each groups the bids by a key and
//! returns its final table (one row per key) at end of input.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use super::input::{average, bids, sorted};
use crate::nexmark::event::{Bid, Event};
use crate::nexmark::functions::{Date, HourMinute, PriceBand};
use crate::nexmark::rows::{BandCounts, BidStats, Q15Row, Q16Row, Q17Row, Q18Row, Q19Row};

/// How many bids per auction q19 keeps.
const Q19_TOP: usize = 10;

/// q15's and q16's counts of one group, with the distinct sets behind them.
#[derive(Debug, Default)]
struct Stats {
    bids: BandCounts,
    /// Index 0: all bids; 1 + band: the bids of that band.
    bidders: [BTreeSet<u64>; 4],
    auctions: [BTreeSet<u64>; 4],
}

impl Stats {
    fn add(&mut self, b: &Bid) {
        let band = PriceBand::of(b.price).index();
        self.bids.total += 1;
        self.bids.rank[band] += 1;
        for i in [0, 1 + band] {
            self.bidders[i].insert(b.bidder);
            self.auctions[i].insert(b.auction);
        }
    }

    fn finish(&self) -> BidStats {
        let counts = |sets: &[BTreeSet<u64>; 4]| BandCounts {
            total: sets[0].len() as u64,
            rank: [1, 2, 3].map(|i| sets[i].len() as u64),
        };
        BidStats {
            bids: self.bids,
            bidders: counts(&self.bidders),
            auctions: counts(&self.auctions),
        }
    }
}

/// q15: per UTC day, the bids, distinct bidders and distinct auctions, overall and per price
/// band.
pub fn q15(events: &[Event]) -> Vec<Q15Row> {
    let mut days: BTreeMap<Date, Stats> = BTreeMap::new();
    for b in bids(events) {
        days.entry(Date::of_epoch_ms(b.date_time))
            .or_default()
            .add(b);
    }
    sorted(
        days.iter()
            .map(|(&day, stats)| Q15Row {
                day,
                stats: stats.finish(),
            })
            .collect(),
    )
}

/// q16: q15 per (channel, UTC day), with the greatest UTC `HH:mm` among the group's bids.
pub fn q16(events: &[Event]) -> Vec<Q16Row<&str>> {
    let mut groups: BTreeMap<(&str, Date), (HourMinute, Stats)> = BTreeMap::new();
    for b in bids(events) {
        let minute = HourMinute::of_epoch_ms(b.date_time);
        let (latest, stats) = groups
            .entry((b.channel.name(), Date::of_epoch_ms(b.date_time)))
            .or_insert_with(|| (minute, Stats::default()));
        *latest = (*latest).max(minute);
        stats.add(b);
    }
    sorted(
        groups
            .iter()
            .map(|(&(channel, day), (minute, stats))| Q16Row {
                channel,
                day,
                minute: *minute,
                stats: stats.finish(),
            })
            .collect(),
    )
}

/// q17's prices of one (auction, day) sum to more than a 64-bit integer holds: the run fails
/// (docs/WORKLOADS.md, q17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "q17: the prices of auction {auction}'s bids on {day} sum to more than a 64-bit integer \
     holds (sum_price is a BIGINT)"
)]
pub struct SumOverflow {
    /// The auction.
    pub auction: u64,
    /// The day.
    pub day: Date,
}

/// q17: per (auction, UTC day), the bids overall and per band, and the minimum, maximum,
/// truncated average and sum of their prices.
///
/// # Errors
/// [`SumOverflow`] when a group's sum does not fit a 64-bit signed integer.
pub fn q17(events: &[Event]) -> Result<Vec<Q17Row>, SumOverflow> {
    #[derive(Default)]
    struct Group {
        bids: BandCounts,
        min: u64,
        max: u64,
        sum: i128,
    }
    let mut groups: BTreeMap<(u64, Date), Group> = BTreeMap::new();
    for b in bids(events) {
        let g = groups
            .entry((b.auction, Date::of_epoch_ms(b.date_time)))
            .or_insert_with(|| Group {
                min: b.price,
                ..Group::default()
            });
        g.bids.total += 1;
        g.bids.rank[PriceBand::of(b.price).index()] += 1;
        g.min = g.min.min(b.price);
        g.max = g.max.max(b.price);
        g.sum += i128::from(b.price);
    }
    let mut rows = Vec::with_capacity(groups.len());
    for ((auction, day), g) in groups {
        let sum_price = i64::try_from(g.sum).map_err(|_| SumOverflow { auction, day })?;
        rows.push(Q17Row {
            auction,
            day,
            bids: g.bids,
            min_price: g.min,
            max_price: g.max,
            avg_price: average(g.sum, g.bids.total as usize),
            sum_price,
        });
    }
    Ok(sorted(rows))
}

/// The bid columns shared by q18's and q19's rows.
fn bid_columns(b: &Bid) -> (u64, u64, u64, &'static str, &'static str, u64, &'static str) {
    (
        b.auction,
        b.bidder,
        b.price,
        b.channel.name(),
        b.url(),
        b.date_time,
        b.extra.as_str(),
    )
}

/// q18: per (bidder, auction), its last bid: the greatest `dateTime`, then the greatest event
/// id.
pub fn q18(events: &[Event]) -> Vec<Q18Row> {
    let mut last: BTreeMap<(u64, u64), &Bid> = BTreeMap::new();
    for b in bids(events) {
        let entry = last.entry((b.bidder, b.auction)).or_insert(b);
        if (b.date_time, b.event_id) > (entry.date_time, entry.event_id) {
            *entry = b;
        }
    }
    sorted(
        last.values()
            .map(|b| {
                let (auction, bidder, price, channel, url, date_time, extra) = bid_columns(b);
                Q18Row {
                    auction,
                    bidder,
                    price,
                    channel,
                    url,
                    date_time,
                    extra,
                }
            })
            .collect(),
    )
}

/// q19: per auction, its first 10 bids ordered by price descending, then event id ascending,
/// ranked 1 .. 10 in that order.
pub fn q19(events: &[Event]) -> Vec<Q19Row> {
    let mut by_auction: BTreeMap<u64, Vec<&Bid>> = BTreeMap::new();
    for b in bids(events) {
        by_auction.entry(b.auction).or_default().push(b);
    }
    let mut rows = Vec::new();
    for mut auction_bids in by_auction.into_values() {
        auction_bids.sort_by_key(|b| (Reverse(b.price), b.event_id));
        for (rank, b) in auction_bids.iter().take(Q19_TOP).enumerate() {
            let (auction, bidder, price, channel, url, date_time, extra) = bid_columns(b);
            rows.push(Q19Row {
                auction,
                bidder,
                price,
                channel,
                url,
                date_time,
                extra,
                rank_number: rank as u64 + 1,
            });
        }
    }
    sorted(rows)
}
