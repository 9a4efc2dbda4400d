//! The Nexmark queries as weir dataflows (WORKLOADS.md section 2, "Decisions for weir").
//!
//! Shapes (`|` = fused, `=>` = exchange):
//! - q0, q1, q2: bids | map (| filter) | sink. No exchange.
//! - q3: persons and auctions | keep persons in OR, ID, CA and auctions of category 10, project
//!   | split => join on id = seller. An interval join with an unbounded interval (a regular
//!   join: both sides stay in state until end of input).
//!
//! q0-q3 read sources whose sampled events carry their ingestion time (`Stamped`): q0-q2 keep
//! it through the map; q3 keeps the auction's, on the rows whose auction is not older than its
//! seller (the auction's arrival made the row, as in the Flink port); the sink records the
//! latency of those rows.
//! - q4: auctions => per-auction max bid over `[dateTime, expires]` (a binary operator that
//!   closes an auction once the frontier passes its expiry) <= bids; => per-category average,
//!   emitted at end of input (the final table).
//! - q5: bids => sliding 10 s / 2 s count per auction | the tied leaders among this worker's
//!   auctions per window => per window, the merged leaders (a tumbling window keyed by window
//!   start with a max-with-ties aggregate).
//! - q7: bids => tumbling 10 s partial max with the bids at the max, split by auction (so every
//!   worker shares the work) => per window: merge partials, keep the bids at the max. A bid
//!   exactly on a window's end also joins that window (BETWEEN is inclusive).
//! - q8: persons and auctions => tumbling 10 s window join on id = seller.
//! - q11: bids => session windows (gap 10 s) per bidder, count.
//! - q12: bids => processing-time tumbling 10 s count per bidder.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use weir_engine::window::{
    Aggregate, Count, Distinct, FastMap, IntervalSpec, Window, WindowSpec, on,
};
use weir_engine::{BinaryOperator, Operator, Output, Stream, Timestamp, Watermark, Worker};

use super::source::Stamped;
use super::{Query, Shared};
use crate::nexmark::reference::{Q5_SIZE_MS, Q5_SLIDE_MS, SESSION_GAP_MS, TUMBLE_MS};
use crate::nexmark::{
    Bid, Event, EventKind, Q0Row, Q1Row, Q2Row, Q3Row, Q4Row, Q5Row, Q7Row, Q8Row, Q11Row, Q12Row,
};

/// Window constants as engine timestamps.
const TUMBLE: i64 = TUMBLE_MS as i64;
const Q5_SIZE: i64 = Q5_SIZE_MS as i64;
const Q5_SLIDE: i64 = Q5_SLIDE_MS as i64;
const GAP: i64 = SESSION_GAP_MS as i64;

/// q7's first stage splits each window's bids into this many groups (by auction) so that all
/// workers share the max computation; the second stage merges one partial per group.
const Q7_GROUPS: u64 = 64;

/// An interval join bound wide enough to be unbounded for any epoch-ms timestamp.
const UNBOUNDED: i64 = 1 << 62;

/// The events q3 reads.
const Q3_KINDS: &[EventKind] = &[EventKind::Person, EventKind::Auction];

/// The event kinds a query reads (`None`: bids only, through the bid generator).
pub(crate) fn kinds(query: Query) -> Option<&'static [EventKind]> {
    match query {
        Query::Q3 => Some(Q3_KINDS),
        Query::Q8 => Some(&[EventKind::Person, EventKind::Auction]),
        Query::Q4 => Some(&[EventKind::Auction, EventKind::Bid]),
        Query::Gen => Some(&[EventKind::Person, EventKind::Auction, EventKind::Bid]),
        _ => None,
    }
}

fn ts(t: u64) -> Timestamp {
    t as Timestamp
}

/// A q8 input record, projected before the stream is split in two (so the split clones
/// small records, not 200-byte events).
#[derive(Debug, Clone, Copy)]
enum PersonOrAuction {
    /// `(id, dateTime, name)`.
    Person(u64, Timestamp, &'static str),
    /// `(seller, dateTime)`.
    Auction(u64, Timestamp),
}

fn people_and_auctions(
    events: Stream<Event>,
) -> (Stream<PersonOrAuction>, Stream<PersonOrAuction>) {
    events
        .flat_map(|e| match e {
            Event::Person(p) => Some(PersonOrAuction::Person(p.id, ts(p.date_time), p.name)),
            Event::Auction(a) => Some(PersonOrAuction::Auction(a.seller, ts(a.date_time))),
            Event::Bid(_) => None,
        })
        .split()
}

/// Builds `query` on `worker`.
pub(crate) fn build(query: Query, worker: &mut Worker, shared: &Shared) {
    let sink = shared.sink(worker.index());
    match query {
        Query::Gen => shared.events(worker, kinds(query)).sink(Vec::clear),
        Query::GenBids => shared.bids(worker).sink(Vec::clear),
        Query::Q0 => sink.attach_sampled(
            shared.sampled_bids(worker).map(|s| {
                s.map(|b| Q0Row {
                    auction: b.auction,
                    bidder: b.bidder,
                    price: b.price,
                    date_time: b.date_time,
                    extra: b.extra.as_str(),
                })
            }),
            worker.latency(),
        ),
        Query::Q1 => sink.attach_sampled(
            shared.sampled_bids(worker).map(|s| {
                s.map(|b| Q1Row {
                    auction: b.auction,
                    bidder: b.bidder,
                    price: b.price * 908,
                    date_time: b.date_time,
                    extra: b.extra.as_str(),
                })
            }),
            worker.latency(),
        ),
        Query::Q2 => sink.attach_sampled(
            shared
                .sampled_bids(worker)
                .filter(|s| s.value.auction % 123 == 0)
                .map(|s| {
                    s.map(|b| Q2Row {
                        auction: b.auction,
                        price: b.price,
                    })
                }),
            worker.latency(),
        ),
        Query::Q3 => sink.attach_sampled(
            q3(shared.sampled_events(worker, Q3_KINDS)),
            worker.latency(),
        ),
        Query::Q4 => sink.attach(q4(shared.events(worker, kinds(query)))),
        Query::Q5 => sink.attach(q5(shared.bids(worker))),
        Query::Q7 => sink.attach(q7(shared.bids(worker))),
        Query::Q8 => sink.attach(q8(shared.events(worker, kinds(query)))),
        Query::Q11 => sink.attach(
            shared
                .bids(worker)
                .window(
                    WindowSpec::session(GAP),
                    |b: &Bid| b.bidder,
                    |b| ts(b.date_time),
                    Count,
                )
                .expect("a 10 s session gap is a valid window")
                .map(|(bidder, w, bid_count)| Q11Row {
                    bidder,
                    bid_count,
                    starttime: w.start as u64,
                    endtime: w.end as u64,
                }),
        ),
        Query::Q12 => {
            let clock = worker.clock();
            sink.attach(
                shared
                    .bids(worker)
                    .processing_time_window(clock, TUMBLE, |b: &Bid| b.bidder, Count)
                    .expect("a 10 s window is valid")
                    .map(|(bidder, w, bid_count)| Q12Row {
                        bidder,
                        bid_count,
                        starttime: w.start as u64,
                        endtime: w.end as u64,
                    }),
            );
        }
    }
}

/// A q3 input record, projected before the stream is split in two.
#[derive(Debug, Clone, Copy)]
enum Q3In {
    /// A seller in OR, ID or CA: `(id, dateTime, name, city, state)`.
    Seller(u64, Timestamp, &'static str, &'static str, &'static str),
    /// An auction of category 10: `(seller, dateTime, id, ingestion time if sampled)`.
    Item(u64, Timestamp, u64, Option<std::num::NonZeroU64>),
}

fn q3(events: Stream<Stamped<Event>>) -> Stream<Stamped<Q3Row>> {
    let (p, a) = events
        .flat_map(|s| match s.value {
            Event::Person(p) if matches!(p.state, "OR" | "ID" | "CA") => {
                Some(Q3In::Seller(p.id, ts(p.date_time), p.name, p.city, p.state))
            }
            Event::Auction(a) if a.category == 10 => {
                Some(Q3In::Item(a.seller, ts(a.date_time), a.id, s.ingest))
            }
            _ => None,
        })
        .split();
    let sellers = p.flat_map(|r| match r {
        Q3In::Seller(id, t, name, city, state) => Some((id, t, name, city, state)),
        Q3In::Item(..) => None,
    });
    let items = a.flat_map(|r| match r {
        Q3In::Item(seller, t, id, ingest) => Some((seller, t, id, ingest)),
        Q3In::Seller(..) => None,
    });
    let spec = IntervalSpec {
        lower: -UNBOUNDED,
        upper: UNBOUNDED,
        lateness: 0,
    };
    sellers
        .interval_join(
            items,
            spec,
            |p| (p.0, p.1),
            |a| (a.0, a.1),
            |_, p, a| Stamped {
                value: Q3Row {
                    name: p.2,
                    city: p.3,
                    state: p.4,
                    id: a.2,
                },
                // The auction's sample when its arrival made the row.
                ingest: a.3.filter(|_| a.1 >= p.1),
            },
        )
        .expect("an unbounded interval is valid")
}

fn q4(events: Stream<Event>) -> Stream<Q4Row> {
    let (a, b) = events
        .flat_map(|e| match e {
            Event::Auction(a) => Some(AuctionOrBid::Auction(OpenAuction {
                id: a.id,
                date_time: a.date_time,
                expires: a.expires,
                category: a.category,
            })),
            Event::Bid(b) => Some(AuctionOrBid::Bid(b.auction, b.date_time, b.price)),
            Event::Person(_) => None,
        })
        .split();
    let open = a
        .flat_map(|r| match r {
            AuctionOrBid::Auction(a) => Some(a),
            AuctionOrBid::Bid(..) => None,
        })
        .key_by(|a| a.id);
    let bids = b
        .flat_map(|r| match r {
            AuctionOrBid::Bid(auction, t, price) => Some((auction, t, price)),
            AuctionOrBid::Auction(_) => None,
        })
        .key_by(|b| b.0);
    open.binary(bids, "q4_max_bid", MaxBidPerAuction::default())
        .key_by(|(category, _)| *category)
        .unary("q4_category_avg", FinalAverage::default())
}

fn q5(bids: Stream<Bid>) -> Stream<Q5Row> {
    bids.window(
        WindowSpec::sliding(Q5_SIZE, Q5_SLIDE),
        |b: &Bid| b.auction,
        |b| ts(b.date_time),
        Count,
    )
    .expect("10 s / 2 s is a valid hopping window")
    // Fused, no exchange: the leaders among this worker's auctions, one record per window.
    .unary("q5_local_leaders", LocalLeaders::default())
    .window(
        // One tumbling window of one slide ends where each hopping window ends: keyed by the
        // hopping window's start, it gathers exactly that window's per-worker leaders.
        WindowSpec::tumbling(Q5_SLIDE),
        |(w, _): &(Window, Leaders)| w.start,
        |(w, _)| w.end - 1,
        MergeLeaders,
    )
    .expect("a 2 s window is valid")
    .flat_map(|(_, _, leaders)| {
        let num = leaders.count;
        leaders
            .auctions
            .into_iter()
            .map(move |auction| Q5Row { auction, num })
    })
}

fn q7(bids: Stream<Bid>) -> Stream<Q7Row> {
    bids.flat_map(|b| {
        // A bid exactly on a window's end also belongs to the previous window's BETWEEN.
        let edge = (b.date_time % TUMBLE_MS == 0).then_some(Q7In { bid: b, edge: true });
        std::iter::once(Q7In {
            bid: b,
            edge: false,
        })
        .chain(edge)
    })
    .window(
        WindowSpec::tumbling(TUMBLE),
        |r: &Q7In| r.bid.auction % Q7_GROUPS,
        |r| ts(r.bid.date_time) - i64::from(r.edge),
        MaxBids,
    )
    .expect("a 10 s window is valid")
    .window(
        WindowSpec::tumbling(TUMBLE),
        |(_, w, _): &(u64, Window, MaxAcc)| w.start,
        |(_, w, _)| w.end - 1,
        MergeMaxBids,
    )
    .expect("a 10 s window is valid")
    .flat_map(|(_, _, rows)| rows)
}

fn q8(events: Stream<Event>) -> Stream<Q8Row> {
    let (p, a) = people_and_auctions(events);
    let people = p.flat_map(|r| match r {
        PersonOrAuction::Person(id, t, name) => Some((id, t, name)),
        PersonOrAuction::Auction(..) => None,
    });
    let sellers = a.flat_map(|r| match r {
        PersonOrAuction::Auction(seller, t) => Some((seller, t)),
        PersonOrAuction::Person(..) => None,
    });
    people
        .window_join(
            sellers,
            WindowSpec::tumbling(TUMBLE),
            |p| (p.0, p.1),
            |a| (a.0, a.1),
            on(|p: &(u64, Timestamp, &'static str)| p.2, Distinct::new()),
            Count,
        )
        .expect("a 10 s window is valid")
        .flat_map(|(id, w, names, _)| {
            names.into_iter().map(move |name| Q8Row {
                id,
                name,
                starttime: w.start as u64,
            })
        })
}

/// The highest bid count in one window and every auction that has it.
#[derive(Debug, Clone, Default)]
struct Leaders {
    count: u64,
    auctions: Vec<u64>,
}

impl Leaders {
    fn offer(&mut self, auction: u64, count: u64) {
        if count > self.count {
            self.count = count;
            self.auctions.clear();
        }
        if count == self.count {
            self.auctions.push(auction);
        }
    }

    fn merge(&mut self, other: &Leaders) {
        if other.count > self.count {
            self.clone_from(other);
        } else if other.count == self.count {
            self.auctions.extend_from_slice(&other.auctions);
        }
    }
}

/// q5's per-worker stage: a window's counts all arrive while the frontier passes its end (the
/// window operator fires them then), so the leaders among this worker's auctions are final
/// when the watermark that follows them arrives. One record per window leaves the worker
/// instead of one per auction.
#[derive(Debug, Default)]
struct LocalLeaders {
    open: Vec<(Window, Leaders)>,
}

impl Operator for LocalLeaders {
    type In = (u64, Window, u64);
    type Out = (Window, Leaders);

    fn on_batch(&mut self, input: &mut Vec<(u64, Window, u64)>, _out: &mut Output<'_, Self::Out>) {
        for (auction, window, count) in input.drain(..) {
            let slot = if let Some(i) = self.open.iter().position(|(w, _)| *w == window) {
                i
            } else {
                self.open.push((window, Leaders::default()));
                self.open.len() - 1
            };
            self.open[slot].1.offer(auction, count);
        }
    }

    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, Self::Out>) -> Timestamp {
        let mut i = 0;
        while i < self.open.len() {
            if self.open[i].0.end <= wm.time {
                out.push(self.open.swap_remove(i));
            } else {
                i += 1;
            }
        }
        wm.time
    }
}

/// q5's last stage: merges the workers' leaders of one window.
#[derive(Debug, Clone, Copy)]
struct MergeLeaders;

impl Aggregate<(Window, Leaders)> for MergeLeaders {
    type Acc = Leaders;
    type Out = Leaders;
    fn init(&self) -> Leaders {
        Leaders::default()
    }
    fn accumulate(&self, acc: &mut Leaders, (_, leaders): &(Window, Leaders)) {
        acc.merge(leaders);
    }
    fn merge(&self, acc: &mut Leaders, other: &Leaders) {
        acc.merge(other);
    }
    fn finish(&self, acc: Leaders) -> Leaders {
        acc
    }
}

/// A bid offered to q7's window: `edge` marks the copy of a bid lying exactly on a window's end,
/// assigned to the window that ends there (it may join it, but does not count for its max).
#[derive(Debug, Clone, Copy)]
struct Q7In {
    bid: Bid,
    edge: bool,
}

/// q7's partial state: the highest price of the window's own bids, those bids, and the bids
/// on the window's end (kept while they may still equal the final max).
#[derive(Debug, Clone, Default)]
struct MaxAcc {
    max: u64,
    at_max: Vec<Bid>,
    edge: Vec<Bid>,
}

impl MaxAcc {
    fn offer(&mut self, bid: &Bid) {
        if bid.price > self.max {
            self.max = bid.price;
            self.at_max.clear();
        }
        if bid.price == self.max {
            self.at_max.push(*bid);
        }
    }

    fn merge(&mut self, other: &MaxAcc) {
        if other.max > self.max {
            self.max = other.max;
            self.at_max.clear();
        }
        if other.max == self.max {
            self.at_max.extend_from_slice(&other.at_max);
        }
        self.edge.extend_from_slice(&other.edge);
        // The max only grows: an edge bid below it can never match.
        let max = self.max;
        self.edge.retain(|b| b.price >= max);
    }
}

/// q7's first stage (per group of auctions and window).
#[derive(Debug, Clone, Copy)]
struct MaxBids;

impl Aggregate<Q7In> for MaxBids {
    type Acc = MaxAcc;
    type Out = MaxAcc;
    fn init(&self) -> MaxAcc {
        MaxAcc::default()
    }
    fn accumulate(&self, acc: &mut MaxAcc, r: &Q7In) {
        if r.edge {
            if r.bid.price >= acc.max {
                acc.edge.push(r.bid);
            }
        } else {
            acc.offer(&r.bid);
        }
    }
    fn merge(&self, acc: &mut MaxAcc, other: &MaxAcc) {
        acc.merge(other);
    }
    fn finish(&self, acc: MaxAcc) -> MaxAcc {
        acc
    }
}

/// q7's second stage (per window): merges the partials, emits the bids at the max.
#[derive(Debug, Clone, Copy)]
struct MergeMaxBids;

impl Aggregate<(u64, Window, MaxAcc)> for MergeMaxBids {
    type Acc = MaxAcc;
    type Out = Vec<Q7Row>;
    fn init(&self) -> MaxAcc {
        MaxAcc::default()
    }
    fn accumulate(&self, acc: &mut MaxAcc, (_, _, partial): &(u64, Window, MaxAcc)) {
        acc.merge(partial);
    }
    fn merge(&self, acc: &mut MaxAcc, other: &MaxAcc) {
        acc.merge(other);
    }
    fn finish(&self, acc: MaxAcc) -> Vec<Q7Row> {
        let max = acc.max;
        acc.at_max
            .iter()
            .chain(acc.edge.iter().filter(|b| b.price == max))
            .map(|b| Q7Row {
                auction: b.auction,
                price: b.price,
                bidder: b.bidder,
                date_time: b.date_time,
                extra: b.extra.as_str(),
            })
            .collect()
    }
}

/// A q4 input record, projected before the stream is split in two.
#[derive(Debug, Clone, Copy)]
enum AuctionOrBid {
    Auction(OpenAuction),
    /// `(auction, dateTime, price)`.
    Bid(u64, u64, u64),
}

/// The auction fields q4 needs.
#[derive(Debug, Clone, Copy)]
struct OpenAuction {
    id: u64,
    date_time: u64,
    expires: u64,
    category: u64,
}

/// An auction waiting for its bids, with the best price so far.
#[derive(Debug)]
struct AuctionState {
    auction: OpenAuction,
    max: Option<u64>,
}

impl AuctionState {
    fn offer(&mut self, date_time: u64, price: u64) {
        if self.auction.date_time <= date_time && date_time <= self.auction.expires {
            self.max = Some(self.max.map_or(price, |m| m.max(price)));
        }
    }
}

/// q4's join of auctions and bids (`B.dateTime BETWEEN A.dateTime AND A.expires`), folded to
/// `MAX(price)` per auction. An auction is closed, and its `(category, max)` emitted, once
/// the frontier passes its expiry: no bid inside its interval can arrive any more. A bid that
/// arrives before its auction waits until the frontier passes its own time (an auction
/// arriving after that starts later than the bid, so the bid cannot match). Bids on auctions
/// that already closed look the same (most bids at high event rates: auctions last a few ms)
/// and are swept out in bulk, whenever the waiting bids have doubled since the last sweep.
#[derive(Debug, Default)]
struct MaxBidPerAuction {
    open: FastMap<u64, AuctionState>,
    /// `(expires, auction id)` of the open auctions.
    expiry: BinaryHeap<Reverse<(u64, u64)>>,
    /// Bids whose auction is not open: auction id -> `(dateTime, price)`.
    early: FastMap<u64, Vec<(u64, u64)>>,
    /// Bids in `early`.
    waiting: usize,
    /// Sweep `early` once `waiting` reaches this.
    sweep_at: usize,
}

impl BinaryOperator for MaxBidPerAuction {
    type Left = OpenAuction;
    type Right = (u64, u64, u64);
    type Out = (u64, u64);

    fn on_left(&mut self, input: &mut Vec<OpenAuction>, _out: &mut Output<'_, (u64, u64)>) {
        for auction in input.drain(..) {
            let mut state = AuctionState { auction, max: None };
            if let Some(bids) = self.early.remove(&auction.id) {
                self.waiting -= bids.len();
                for (date_time, price) in bids {
                    state.offer(date_time, price);
                }
            }
            self.expiry.push(Reverse((auction.expires, auction.id)));
            self.open.insert(auction.id, state);
        }
    }

    fn on_right(&mut self, input: &mut Vec<(u64, u64, u64)>, _out: &mut Output<'_, (u64, u64)>) {
        for (auction, date_time, price) in input.drain(..) {
            if let Some(state) = self.open.get_mut(&auction) {
                state.offer(date_time, price);
            } else {
                self.early
                    .entry(auction)
                    .or_default()
                    .push((date_time, price));
                self.waiting += 1;
            }
        }
    }

    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, (u64, u64)>) -> Timestamp {
        let frontier = wm.time;
        while let Some(&Reverse((expires, id))) = self.expiry.peek() {
            if ts(expires) >= frontier {
                break;
            }
            self.expiry.pop();
            if let Some(state) = self.open.remove(&id)
                && let Some(max) = state.max
            {
                out.push((state.auction.category, max));
            }
        }
        if self.waiting >= self.sweep_at {
            let mut waiting = 0;
            self.early.retain(|_, bids| {
                bids.retain(|&(t, _)| ts(t) >= frontier);
                waiting += bids.len();
                !bids.is_empty()
            });
            self.waiting = waiting;
            self.sweep_at = (2 * waiting).max(4096);
        }
        frontier
    }
}

/// q4's final table: per category, the truncated average of the auctions' max prices, emitted
/// once at end of input (the query's result converges only then).
#[derive(Debug, Default)]
struct FinalAverage {
    sums: FastMap<u64, (i128, i128)>,
}

impl Operator for FinalAverage {
    type In = (u64, u64);
    type Out = Q4Row;

    fn on_batch(&mut self, input: &mut Vec<(u64, u64)>, _out: &mut Output<'_, Q4Row>) {
        for (category, price) in input.drain(..) {
            let e = self.sums.entry(category).or_default();
            e.0 += i128::from(price);
            e.1 += 1;
        }
    }

    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, Q4Row>) -> Timestamp {
        if wm.is_end() {
            for (category, (sum, count)) in self.sums.drain() {
                out.push(Q4Row {
                    category,
                    avg: (sum / count) as i64,
                });
            }
        }
        wm.time
    }
}
