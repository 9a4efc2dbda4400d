//! The updating Nexmark queries (q9, q15-q19) and q6 as weir dataflows (docs/WORKLOADS.md,
//! section 9), on the engine's keyed operators in `weir_engine::updating`.
//!
//! Shapes (`|` = fused, `=>` = exchange, `~>` = a changelog):
//! - q6: auctions (projected to id, dateTime, expires and seller) and bids =>
//!   `interval_aggregate` (each auction's `[dateTime, expires]`,
//!   `Max` of the price, the auction freed once the frontier passes `expires`) | drop auctions
//!   without a bid => `last_n_average` per seller (closing order `(expires, id)`, at most 10
//!   prices per seller). Append-only: one row per closed auction.
//! - q9: auctions and bids => `interval_aggregate` with the top-1 `BestBy(price desc, dateTime,
//!   event id)` (the winning bid; the auction and its best bid freed once the frontier passes
//!   `expires`) ~> the final row, inserted once.
//! - q15, q16, q17: bids | projected to the columns aggregated => `table_aggregate` per day,
//!   (channel, day), (auction, day), with filtered counts and filtered distinct counts ~>
//!   updated rows. The day is grouped on as
//!   its number ([`Date::day_number`]) and written as a date only in the result rows.
//! - q18: bids => `keep_last` per (bidder, auction) by (dateTime, event id) ~> the last bid.
//! - q19: bids => `top_n(10)` per auction by (price desc, event id) ~> ranked rows.
//!
//! Every changelog ends in the result sink's [`ResultSink::attach_changes`], which folds it
//! into the digest (insertions +1, retractions -1), so the digest is the final table's.

use std::cmp::Reverse;

use weir_engine::updating::{
    BestBy, Change, FilteredCounts, FilteredDistinctIds, Ranked, TableAggregate,
};
use weir_engine::window::{IntervalAggregateSpec, Max, on};
use weir_engine::{Route, Stream, Timestamp, Worker};

use super::shared::Shared;
use super::sink::RunFailure;
use crate::catalog::Query;
use crate::digest::{ColumnSink, ResultRow};
use crate::nexmark::{
    Auction, BandCounts, Bid, BidStats, Channel, Date, Event, HourMinute, PriceBand, Q6Row, Q9Row,
    Q15Row, Q16Row, Q17Row, Q18Row, Q19Row,
};

/// q6 averages the last this many closed auctions of a seller.
const Q6_LAST: usize = 10;
/// q19 keeps this many bids per auction.
const Q19_TOP: usize = 10;

fn ts(t: u64) -> Timestamp {
    t as Timestamp
}

/// Builds `query` (q6, q9, q15-q19) on `worker`.
pub(crate) fn build(query: Query, worker: &mut Worker, shared: &Shared) {
    let sink = shared.sink(worker.index());
    let kinds = query.def().reads.kinds();
    match query {
        Query::Q6 => sink.attach(q6(shared.events(worker, kinds))),
        Query::Q9 => sink.attach_changes(q9(shared.events(worker, kinds))),
        Query::Q15 => sink.attach_changes(q15(shared.bids(worker))),
        Query::Q16 => sink.attach_changes(q16(shared.bids(worker))),
        Query::Q17 => {
            let failure = shared.failure.clone();
            sink.attach_changes(q17(shared.bids(worker), failure));
        }
        Query::Q18 => sink.attach_changes(q18(shared.bids(worker))),
        Query::Q19 => sink.attach_changes(q19(shared.bids(worker))),
        _ => unreachable!("nexmark::build sends only q6, q9 and q15-q19 here, not {query}"),
    }
}

/// Splits an event stream into its auctions and its bids.
fn auctions_and_bids(events: Stream<Event>) -> (Stream<Auction>, Stream<Bid>) {
    events.partition(|e| match e {
        Event::Auction(a) => Some(Route::Left(a)),
        Event::Bid(b) => Some(Route::Right(b)),
        Event::Person(_) => None,
    })
}

/// The auction's interval `(id, dateTime, expires)`, both ends inclusive.
fn interval(a: &Auction) -> (u64, Timestamp, Timestamp) {
    (a.id, ts(a.date_time), ts(a.expires))
}

fn bid_key(b: &Bid) -> (u64, Timestamp) {
    (b.auction, ts(b.date_time))
}

/// A closed auction with a final price, for q6: `(seller, expires, id, price)`.
type Closed = (u64, Timestamp, u64, u64);

/// What q6 keeps of an auction while it is open: `(id, dateTime, expires, seller)` (32 bytes
/// instead of the whole auction's 200).
type OpenAuction = (u64, Timestamp, Timestamp, u64);

fn q6(events: Stream<Event>) -> Stream<Q6Row> {
    let (auctions, bids) = auctions_and_bids(events);
    auctions
        .map(|a| -> OpenAuction { (a.id, ts(a.date_time), ts(a.expires), a.seller) })
        .interval_aggregate(
            bids,
            IntervalAggregateSpec::new().unique_left_keys(),
            |a: &OpenAuction| (a.0, a.1, a.2),
            bid_key,
            on(|b: &Bid| b.price, Max::new()),
        )
        .expect("no allowed lateness is valid")
        // An auction without a qualifying bid takes no part.
        .flat_map(|(a, max)| {
            max.flatten()
                .map(|price| -> Closed { (a.3, a.2, a.0, price) })
        })
        .last_n_average(Q6_LAST, |c: &Closed| c.0, |c| (c.1, c.2), |c| c.3 as i64)
        .expect("10 >= 1")
        .map(|(c, avg)| Q6Row { seller: c.0, avg })
}

/// q9's row: an auction and its winning bid (the strings stay in the events, borrowed when
/// the row is encoded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Winner {
    auction: Auction,
    bid: Bid,
}

impl ResultRow for Winner {
    const COLUMNS: &'static [&'static str] = <Q9Row>::COLUMNS;

    fn write_columns(&self, sink: &mut impl ColumnSink) {
        let (a, b) = (&self.auction, &self.bid);
        Q9Row {
            id: a.id,
            item_name: a.item_name.as_str(),
            description: a.description.as_str(),
            initial_bid: a.initial_bid,
            reserve: a.reserve,
            date_time: a.date_time,
            expires: a.expires,
            seller: a.seller,
            category: a.category,
            extra: a.extra.as_str(),
            auction: b.auction,
            bidder: b.bidder,
            price: b.price,
            bid_date_time: b.date_time,
            bid_extra: b.extra.as_str(),
        }
        .write_columns(sink);
    }
}

fn q9(events: Stream<Event>) -> Stream<Change<Winner>> {
    let (auctions, bids) = auctions_and_bids(events);
    auctions
        .interval_aggregate(
            bids,
            IntervalAggregateSpec::new().unique_left_keys(),
            interval,
            bid_key,
            // Highest price, then earliest dateTime, then smallest event id.
            BestBy(|b: &Bid| (Reverse(b.price), b.date_time, b.event_id)),
        )
        .expect("no allowed lateness is valid")
        .flat_map(|(auction, best)| {
            best.flatten()
                .map(|bid| Change::insert(Winner { auction, bid }))
        })
}

/// The filters a bid passes in q15's and q16's counts: bit 0 every bid, bit `1 + band` its
/// price band's.
fn band_filters(price: u64) -> u32 {
    1 | 2 << PriceBand::of(price).index()
}

fn band_counts(get: impl Fn(usize) -> u64) -> BandCounts {
    BandCounts {
        total: get(0),
        rank: [get(1), get(2), get(3)],
    }
}

/// What q15 and q16 count of a bid (32 of its 64 bytes). q15-q17 project their bids to the
/// columns they aggregate before the exchange, as a SQL planner pushes a projection down, so
/// the workers exchange half the bytes or less.
#[derive(Clone, Copy, Debug)]
struct Counted {
    bidder: u64,
    auction: u64,
    price: u64,
    date_time: u64,
}

impl Counted {
    fn of(b: &Bid) -> Counted {
        Counted {
            bidder: b.bidder,
            auction: b.auction,
            price: b.price,
            date_time: b.date_time,
        }
    }
}

/// q15's and q16's twelve counts of one group: bids, distinct bidders and distinct auctions,
/// each overall and per band. State: every distinct bidder and auction of the group once
/// (8 bytes each in a slot array at most 7/8 full).
#[derive(Debug, Default)]
struct StatsAcc {
    bids: FilteredCounts<4>,
    bidders: FilteredDistinctIds<4>,
    auctions: FilteredDistinctIds<4>,
}

impl StatsAcc {
    fn add(&mut self, b: &Counted) {
        let filters = band_filters(b.price);
        self.bids.add(filters);
        self.bidders.add(b.bidder, filters);
        self.auctions.add(b.auction, filters);
    }

    /// Asks for the set slots [`add`](Self::add) of `b` will touch.
    fn prefetch(&self, b: &Counted) {
        self.bidders.prefetch(b.bidder);
        self.auctions.prefetch(b.auction);
    }

    fn stats(&self) -> BidStats {
        BidStats {
            bids: band_counts(|i| self.bids.get(i)),
            bidders: band_counts(|i| self.bidders.get(i)),
            auctions: band_counts(|i| self.auctions.get(i)),
        }
    }
}

/// q15's aggregate per day.
struct DayStats;

impl TableAggregate<Counted> for DayStats {
    type Acc = StatsAcc;
    type Out = BidStats;
    fn init(&self, _first: &Counted) -> StatsAcc {
        StatsAcc::default()
    }
    fn accumulate(&self, acc: &mut StatsAcc, b: &Counted) {
        acc.add(b);
    }
    fn result(&self, acc: &StatsAcc) -> BidStats {
        acc.stats()
    }
    fn prefetch(&self, acc: &StatsAcc, b: &Counted) {
        acc.prefetch(b);
    }
}

fn q15(bids: Stream<Bid>) -> Stream<Change<Q15Row>> {
    bids.map(|b| Counted::of(&b))
        .table_aggregate(|b: &Counted| Date::day_number(b.date_time), DayStats)
        .map(|c| {
            c.map(|(day, stats)| Q15Row {
                day: Date::of_day(day),
                stats,
            })
        })
}

/// q16's aggregate per (channel, day): the latest bid time (its minute is the row's, as
/// every bid of the group is of the same day) and q15's counts.
struct ChannelStats;

impl TableAggregate<(Channel, Counted)> for ChannelStats {
    type Acc = (u64, StatsAcc);
    type Out = (HourMinute, BidStats);
    fn init(&self, (_, first): &(Channel, Counted)) -> Self::Acc {
        (first.date_time, StatsAcc::default())
    }
    fn accumulate(&self, acc: &mut Self::Acc, (_, b): &(Channel, Counted)) {
        acc.0 = acc.0.max(b.date_time);
        acc.1.add(b);
    }
    fn result(&self, acc: &Self::Acc) -> Self::Out {
        (HourMinute::of_epoch_ms(acc.0), acc.1.stats())
    }
    fn prefetch(&self, acc: &Self::Acc, (_, b): &(Channel, Counted)) {
        acc.1.prefetch(b);
    }
}

fn q16(bids: Stream<Bid>) -> Stream<Change<Q16Row<&'static str>>> {
    bids.map(|b| (b.channel, Counted::of(&b)))
        .table_aggregate(
            |(channel, b): &(Channel, Counted)| (channel.name(), Date::day_number(b.date_time)),
            ChannelStats,
        )
        .map(|c| {
            c.map(|((channel, day), (minute, stats))| Q16Row {
                channel,
                day: Date::of_day(day),
                minute,
                stats,
            })
        })
}

/// q17's state per (auction, day): counts per band, min, max and the exact sum of the prices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PriceStats {
    bids: FilteredCounts<4>,
    min: u64,
    max: u64,
    sum: i128,
}

struct AuctionDayStats;

/// What q17 aggregates of a bid (24 of its 64 bytes): its auction, day number and price.
#[derive(Clone, Copy, Debug)]
struct DayPrice {
    auction: u64,
    day: u64,
    price: u64,
}

impl TableAggregate<DayPrice> for AuctionDayStats {
    type Acc = PriceStats;
    type Out = PriceStats;
    fn init(&self, first: &DayPrice) -> PriceStats {
        PriceStats {
            bids: FilteredCounts::default(),
            min: first.price,
            max: first.price,
            sum: 0,
        }
    }
    fn accumulate(&self, acc: &mut PriceStats, b: &DayPrice) {
        acc.bids.add(band_filters(b.price));
        acc.min = acc.min.min(b.price);
        acc.max = acc.max.max(b.price);
        acc.sum += i128::from(b.price);
    }
    fn result(&self, acc: &PriceStats) -> PriceStats {
        *acc
    }
}

fn q17(bids: Stream<Bid>, failure: RunFailure) -> Stream<Change<Q17Row>> {
    bids.map(|b| DayPrice {
        auction: b.auction,
        day: Date::day_number(b.date_time),
        price: b.price,
    })
    .table_aggregate(|b: &DayPrice| (b.auction, b.day), AuctionDayStats)
    .flat_map(move |c| {
        let ((auction, day), s) = c.row;
        let day = Date::of_day(day);
        let Ok(sum_price) = i64::try_from(s.sum) else {
            // The contract fails the run (sum_price is a BIGINT); the row is left out.
            failure.raise(format!(
                "q17: the prices of auction {auction}'s bids on {day:?} sum to more than a \
                 64-bit integer holds (sum_price is a BIGINT)"
            ));
            return None;
        };
        let bids = band_counts(|i| s.bids.get(i));
        Some(Change {
            diff: c.diff,
            row: Q17Row {
                auction,
                day,
                bids,
                min_price: s.min,
                max_price: s.max,
                avg_price: (s.sum / i128::from(bids.total)) as i64,
                sum_price,
            },
        })
    })
}

fn q18(bids: Stream<Bid>) -> Stream<Change<Q18Row>> {
    bids.keep_last(
        |b: &Bid| (b.bidder, b.auction),
        |b| (b.date_time, b.event_id),
    )
    .map(|c| {
        c.map(|b| Q18Row {
            auction: b.auction,
            bidder: b.bidder,
            price: b.price,
            channel: b.channel.name(),
            url: b.url(),
            date_time: b.date_time,
            extra: b.extra.as_str(),
        })
    })
}

fn q19(bids: Stream<Bid>) -> Stream<Change<Q19Row>> {
    bids.top_n(
        Q19_TOP,
        |b: &Bid| b.auction,
        |b| (Reverse(b.price), b.event_id),
    )
    .expect("10 >= 1")
    .map(|c| {
        c.map(|Ranked { rank, row: b }| Q19Row {
            auction: b.auction,
            bidder: b.bidder,
            price: b.price,
            channel: b.channel.name(),
            url: b.url(),
            date_time: b.date_time,
            extra: b.extra.as_str(),
            rank_number: u64::from(rank),
        })
    })
}
