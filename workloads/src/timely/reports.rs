//! Nexmark q15-q19 on timely: updating tables keyed by the query's group, one shared-nothing
//! operator per query ([`updating_table`]), exchanged by the group key.
//!
//! Each operator keeps one state per key and, for every input batch, emits the changes of the
//! keys the batch touched: the key's rows before the batch retracted, its rows after inserted
//! (rows that did not change are not sent). The digest sink folds this changelog into the final
//! table. State per key, never freed (the groups are unbounded, as the queries are):
//!
//! - q15 (per day) and q16 (per channel and day): the bid counts and the sets of distinct
//!   bidders and auctions, overall and per price band.
//! - q17 (per auction and day): counts, minimum, maximum and sum of prices.
//! - q18 (per bidder and auction): the last bid.
//! - q19 (per auction): the 10 best bids, at most (a bid that falls out is freed).

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

use timely::ExchangeData;
use timely::dataflow::StreamVec;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::vec::Map;

use super::events::{Events, NexmarkEvent};
use super::harness::{Ctx, ResultSlot, digest_sink};
use super::stateless::signed;
use super::wire::{WireBid, q18_row, q19_row};
use crate::catalog::Query;
use crate::digest::ResultRow;
use crate::nexmark::reference::SumOverflow;
use crate::nexmark::{BandCounts, BidStats, Date, HourMinute, PriceBand, Q15Row, Q16Row, Q17Row};

/// Milliseconds per day: q15-q17 group by the UTC day `dateTime div DAY_MS`.
pub(crate) const DAY_MS: u64 = 86_400_000;

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
        Query::Q15 => run::<Q15, E>(events, ctx, slot, |b| (b.date_time / DAY_MS, small(b))),
        Query::Q16 => run::<Q16, E>(events, ctx, slot, |b| {
            let key = (b.channel.name().to_string(), b.date_time / DAY_MS);
            (key, (b.date_time, small(b)))
        }),
        Query::Q17 => run::<Q17, E>(events, ctx, slot, |b| {
            ((b.auction, b.date_time / DAY_MS), b.price)
        }),
        Query::Q18 => run::<Q18, E>(events, ctx, slot, |b| {
            ((b.bidder, b.auction), WireBid::from(b))
        }),
        Query::Q19 => run::<Q19, E>(events, ctx, slot, |b| (b.auction, WireBid::from(b))),
        _ => return Err(events),
    }
    Ok(())
}

/// A bid's `(bidder, auction, price)`, what q15 and q16 count.
fn small(b: &crate::nexmark::Bid) -> (u64, u64, u64) {
    (b.bidder, b.auction, b.price)
}

/// One updating query: its group key, what a bid adds to a group, and the group's rows.
pub(crate) trait Table: 'static {
    /// The group key.
    type Key: ExchangeData + Hash + Eq + Clone;
    /// What one bid brings to its group.
    type Value: ExchangeData;
    /// A group's state.
    type State: Default + 'static;
    /// A result row.
    type Row: ResultRow + PartialEq + Clone + 'static;

    /// Adds a bid's value to its group.
    ///
    /// # Errors
    /// The message the run fails with (q17's sum overflow).
    fn add(key: &Self::Key, state: &mut Self::State, value: Self::Value) -> Result<(), String>;

    /// The group's current rows.
    fn rows(key: &Self::Key, state: &Self::State, out: &mut Vec<Self::Row>);
}

/// Builds query `T` from the bids, `split` giving each bid's key and value.
fn run<T: Table, E: NexmarkEvent>(
    events: Events<'_, E>,
    ctx: &Ctx,
    slot: &ResultSlot,
    split: fn(&crate::nexmark::Bid) -> (T::Key, T::Value),
) {
    let values = events.flat_map(move |e| e.full_bid().map(|b| split(&b)));
    let changes = updating_table::<T>(values, ctx);
    digest_sink(changes, ctx, slot, signed::<T::Row>);
}

/// The routing hash of a key: the same on every worker and process (fixed keys).
fn route_key<K: Hash>(key: &K) -> u64 {
    std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
        .hash_one(key)
}

/// The changelog of table `T` over `values` (see the module docs).
pub(crate) fn updating_table<'s, T: Table>(
    values: StreamVec<'s, u64, (T::Key, T::Value)>,
    ctx: &Ctx,
) -> StreamVec<'s, u64, (T::Row, i64)> {
    let shared = std::sync::Arc::clone(&ctx.shared);
    values.unary(
        Exchange::new(|(k, _): &(T::Key, T::Value)| route_key(k)),
        "UpdatingTable",
        move |_cap, _info| {
            let mut groups: HashMap<T::Key, T::State> = HashMap::new();
            // Per batch: the touched keys with their rows before it.
            let mut before: HashMap<T::Key, Vec<T::Row>> = HashMap::new();
            let mut after: Vec<T::Row> = Vec::new();
            let mut failed = false;
            move |input, output| {
                input.for_each(|cap, data| {
                    for (key, value) in data.drain(..) {
                        let state = groups.entry(key.clone()).or_default();
                        before.entry(key.clone()).or_insert_with(|| {
                            let mut rows = Vec::new();
                            T::rows(&key, state, &mut rows);
                            rows
                        });
                        if let Err(message) = T::add(&key, state, value)
                            && !failed
                        {
                            failed = true;
                            shared.fail(message);
                        }
                    }
                    let mut session = output.session(&cap);
                    for (key, old) in before.drain() {
                        after.clear();
                        T::rows(&key, &groups[&key], &mut after);
                        for row in old.iter().filter(|r| !after.contains(r)) {
                            session.give((row.clone(), -1));
                        }
                        for row in after.drain(..).filter(|r| !old.contains(r)) {
                            session.give((row, 1));
                        }
                    }
                });
            }
        },
    )
}

/// q15's and q16's counts of one group, with the distinct sets behind them (index 0: every
/// bid; `1 + band`: the bids of that band).
#[derive(Default)]
pub(crate) struct Stats {
    bids: BandCounts,
    bidders: [HashSet<u64>; 4],
    auctions: [HashSet<u64>; 4],
}

impl Stats {
    fn add(&mut self, (bidder, auction, price): (u64, u64, u64)) {
        let band = PriceBand::of(price).index();
        self.bids.total += 1;
        self.bids.rank[band] += 1;
        for i in [0, 1 + band] {
            self.bidders[i].insert(bidder);
            self.auctions[i].insert(auction);
        }
    }

    fn finish(&self) -> BidStats {
        let counts = |sets: &[HashSet<u64>; 4]| BandCounts {
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

/// The `yyyy-MM-dd` of a day number.
fn day(day: u64) -> Date {
    Date::of_epoch_ms(day * DAY_MS)
}

/// q15: per UTC day.
struct Q15;

impl Table for Q15 {
    type Key = u64;
    type Value = (u64, u64, u64);
    type State = Stats;
    type Row = Q15Row;

    fn add(_: &u64, state: &mut Stats, value: Self::Value) -> Result<(), String> {
        state.add(value);
        Ok(())
    }

    fn rows(&key: &u64, state: &Stats, out: &mut Vec<Q15Row>) {
        if state.bids.total > 0 {
            out.push(Q15Row {
                day: day(key),
                stats: state.finish(),
            });
        }
    }
}

/// q16: per (channel, UTC day), with the latest bid time (its `HH:mm` is the row's minute).
struct Q16;

impl Table for Q16 {
    type Key = (String, u64);
    type Value = (u64, (u64, u64, u64));
    type State = (u64, Stats);
    type Row = Q16Row<String>;

    fn add(_: &Self::Key, state: &mut Self::State, (time, bid): Self::Value) -> Result<(), String> {
        state.0 = state.0.max(time);
        state.1.add(bid);
        Ok(())
    }

    fn rows((channel, key): &Self::Key, (latest, stats): &Self::State, out: &mut Vec<Self::Row>) {
        if stats.bids.total > 0 {
            out.push(Q16Row {
                channel: channel.clone(),
                day: day(*key),
                minute: HourMinute::of_epoch_ms(*latest),
                stats: stats.finish(),
            });
        }
    }
}

/// q17's state of one (auction, day).
#[derive(Default)]
pub(crate) struct PriceStats {
    bids: BandCounts,
    min: u64,
    max: u64,
    sum: i128,
}

/// q17: per (auction, UTC day).
struct Q17;

impl Table for Q17 {
    type Key = (u64, u64);
    type Value = u64;
    type State = PriceStats;
    type Row = Q17Row;

    fn add(&(auction, d): &(u64, u64), s: &mut PriceStats, price: u64) -> Result<(), String> {
        s.min = if s.bids.total == 0 {
            price
        } else {
            s.min.min(price)
        };
        s.max = s.max.max(price);
        s.bids.total += 1;
        s.bids.rank[PriceBand::of(price).index()] += 1;
        s.sum += i128::from(price);
        if i64::try_from(s.sum).is_err() {
            return Err(SumOverflow {
                auction,
                day: day(d),
            }
            .to_string());
        }
        Ok(())
    }

    fn rows(&(auction, d): &(u64, u64), s: &PriceStats, out: &mut Vec<Q17Row>) {
        if s.bids.total == 0 {
            return;
        }
        let sum_price = i64::try_from(s.sum).unwrap_or(i64::MAX);
        out.push(Q17Row {
            auction,
            day: day(d),
            bids: s.bids,
            min_price: s.min,
            max_price: s.max,
            avg_price: (s.sum / i128::from(s.bids.total)) as i64,
            sum_price,
        });
    }
}

/// q18: per (bidder, auction), the last bid (greatest `dateTime`, then event id).
struct Q18;

impl Table for Q18 {
    type Key = (u64, u64);
    type Value = WireBid;
    type State = Option<WireBid>;
    type Row = crate::nexmark::Q18Row<String>;

    fn add(_: &Self::Key, last: &mut Option<WireBid>, b: WireBid) -> Result<(), String> {
        if last
            .as_ref()
            .is_none_or(|l| (b.date_time, b.event_id) > (l.date_time, l.event_id))
        {
            *last = Some(b);
        }
        Ok(())
    }

    fn rows(_: &Self::Key, last: &Option<WireBid>, out: &mut Vec<Self::Row>) {
        out.extend(last.as_ref().map(q18_row));
    }
}

/// q19: per auction, the top 10 bids by price descending, then event id ascending.
struct Q19;

impl Table for Q19 {
    type Key = u64;
    type Value = WireBid;
    type State = Vec<WireBid>;
    type Row = crate::nexmark::Q19Row<String>;

    fn add(_: &u64, top: &mut Vec<WireBid>, b: WireBid) -> Result<(), String> {
        let order = |b: &WireBid| (Reverse(b.price), b.event_id);
        let at = top.partition_point(|t| order(t) <= order(&b));
        if at < Q19_TOP {
            top.insert(at, b);
            top.truncate(Q19_TOP);
        }
        Ok(())
    }

    fn rows(_: &u64, top: &Vec<WireBid>, out: &mut Vec<Self::Row>) {
        out.extend(top.iter().enumerate().map(|(i, b)| q19_row(b, i + 1)));
    }
}
