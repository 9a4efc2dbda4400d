//! The Nexmark queries as weir dataflows (docs/WORKLOADS.md, section 9).
//!
//! Shapes (`|` = fused, `=>` = exchange):
//! - q0, q1, q2: bids | map (| filter) | sink. No exchange.
//! - q3: persons and auctions | keep persons in OR, ID, CA and auctions of category 10, project
//!   | split => `regular_join` on id = seller (both sides stay in state until end of input).
//! - q4: auctions => `interval_aggregate` (each auction opens `[dateTime, expires]` on its id,
//!   auction ids unique) <= bids, `Max` of the price, emitted when the frontier passes
//!   `expires` | drop auctions without a bid => global window per category, `Avg`, emitted at
//!   end of input (the final table).
//! - q5: bids => `window_leaders` (sliding 10 s / 2 s, `Count` per auction): per worker the
//!   highest count of each window and the auctions at it, kept up to date as bids arrive, then
//!   => per window one worker merges the workers' leaders.
//! - q7: bids | `window_all` over tumbling 10 s windows with a max-with-the-bids-at-the-max
//!   aggregate: per worker a partial of its own bids (no exchange of bids), then => per window
//!   one worker merges the partials. A bid exactly on a window's end also joins that window
//!   (BETWEEN is inclusive): a `side_output` copies those bids alone, marked, into the union.
//! - q8: persons and auctions => tumbling 10 s `window_semi_join` on id = seller: a person's
//!   row is emitted as soon as one of their auctions is in the same window.
//! - q11: bids => session windows (gap 10 s) per bidder, count.
//! - q12: bids => processing-time tumbling 10 s count per bidder.
//! - q10, q13, q14, q20, q21, q22: see `suite_joins.rs`.
//!
//! q0-q3 read sources whose sampled events carry their ingestion time (`Stamped`): q0-q2 keep
//! it through the map; q3 keeps the auction's, on the rows whose auction is not older than its
//! seller (the auction's arrival made the row, as in the Flink port); the sink records the
//! latency of those rows.

use weir_engine::joins::RegularJoinSpec;
use weir_engine::updating::Change;
use weir_engine::window::{Aggregate, Avg, Count, IntervalAggregateSpec, Max, WindowSpec, on};
use weir_engine::{Route, Stream, Timestamp, Worker};

use super::shared::Shared;
use super::source::Stamped;
use crate::catalog::Query;
use crate::nexmark::{
    Bid, Event, EventKind, Q0Row, Q1Row, Q2Row, Q3Row, Q4Row, Q5_SIZE_MS, Q5_SLIDE_MS, Q5Row,
    Q7Row, Q8Row, Q11Row, Q12Row, SESSION_GAP_MS, TUMBLE_MS,
};

/// Window constants as engine timestamps.
const TUMBLE: i64 = TUMBLE_MS as i64;
const Q5_SIZE: i64 = Q5_SIZE_MS as i64;
const Q5_SLIDE: i64 = Q5_SLIDE_MS as i64;
const GAP: i64 = SESSION_GAP_MS as i64;

/// The event kinds `query` reads (the catalog's `reads`).
fn kinds(query: Query) -> &'static [EventKind] {
    query.def().reads.kinds()
}

fn ts(t: u64) -> Timestamp {
    t as Timestamp
}

/// Builds `query` on `worker`.
pub(crate) fn build(query: Query, worker: &mut Worker, shared: &Shared) {
    let sink = shared.sink(worker.index());
    match query {
        Query::NexmarkGen => shared.events(worker, kinds(query)).sink(Vec::clear),
        Query::NexmarkGenBids => shared.bids(worker).sink(Vec::clear),
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
            q3(shared.sampled_events(worker, query.def().reads.kinds())),
            worker.latency(),
        ),
        Query::Q4 => {
            sink.attach_changes(q4(shared.events(worker, kinds(query))).map(Change::insert));
        }
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
        Query::YsbGen | Query::Ysb => {
            unreachable!("the weir driver builds YSB queries with ysb::build")
        }
        Query::Q10 | Query::Q13 | Query::Q14 | Query::Q20 | Query::Q21 | Query::Q22 => {
            super::suite_joins::build(query, worker, shared);
        }
        Query::Q6 | Query::Q9 | Query::Q15 | Query::Q16 | Query::Q17 | Query::Q18 | Query::Q19 => {
            super::updating::build(query, worker, shared);
        }
    }
}

/// q3's sellers in OR, ID or CA, `(id, dateTime, name, city, state)`, joined with its auctions
/// of category 10, `(seller, dateTime, id, ingestion time if sampled)`.
fn q3(events: Stream<Stamped<Event>>) -> Stream<Stamped<Q3Row>> {
    let (sellers, items) = events.partition(|s| match s.value {
        Event::Person(p) if matches!(p.state, "OR" | "ID" | "CA") => Some(Route::Left((
            p.id,
            ts(p.date_time),
            p.name,
            p.city,
            p.state,
        ))),
        Event::Auction(a) if a.category == 10 => {
            Some(Route::Right((a.seller, ts(a.date_time), a.id, s.ingest)))
        }
        _ => None,
    });
    // A regular join: persons and auctions stay in state until end of input (person ids are
    // not declared unique, so a file with repeated ids still joins every pair).
    sellers.regular_join(
        items,
        RegularJoinSpec::new(),
        |p| p.0,
        |a| a.0,
        |_, p, a| {
            Some(Stamped {
                value: Q3Row {
                    name: p.2,
                    city: p.3,
                    state: p.4,
                    id: a.2,
                },
                // The auction's sample when its arrival made the row.
                ingest: a.3.filter(|_| a.1 >= p.1),
            })
        },
    )
}

fn q4(events: Stream<Event>) -> Stream<Q4Row> {
    let (auctions, bids) = events.partition(|e| match e {
        Event::Auction(a) => Some(Route::Left(OpenAuction {
            id: a.id,
            date_time: a.date_time,
            expires: a.expires,
            category: a.category,
        })),
        Event::Bid(b) => Some(Route::Right((b.auction, b.date_time, b.price))),
        Event::Person(_) => None,
    });
    auctions
        .interval_aggregate(
            bids,
            // Auction ids are unique: a bid on an open auction is folded and dropped at once.
            IntervalAggregateSpec::new().unique_left_keys(),
            |a| (a.id, ts(a.date_time), ts(a.expires)),
            |b| (b.0, ts(b.1)),
            on(|b: &(u64, u64, u64)| b.2, Max::new()),
        )
        .expect("no allowed lateness is valid")
        // An inner join: auctions without a bid inside their interval do not count.
        .flat_map(|(a, max)| {
            max.flatten()
                .map(|price| (a.category, ts(a.expires), price as i64))
        })
        .window(
            WindowSpec::global(),
            |r| r.0,
            |r| r.1,
            on(|r: &(u64, Timestamp, i64)| r.2, Avg),
        )
        .expect("the global window is valid")
        .flat_map(|(category, _, avg)| avg.map(|avg| Q4Row { category, avg }))
}

fn q5(bids: Stream<Bid>) -> Stream<Q5Row> {
    // Per hopping window, the highest bid count over all auctions and every auction that has
    // it, kept up to date as the counts rise (a count only grows within a window), so closing
    // a window costs no more than emitting its leaders. Per worker over its own auctions, then
    // one worker per window merges the partials.
    bids.window_leaders(
        WindowSpec::sliding(Q5_SIZE, Q5_SLIDE),
        |b: &Bid| b.auction,
        |b| ts(b.date_time),
        Count,
    )
    .expect("10 s / 2 s is a valid hopping window")
    .flat_map(|(_, num, auctions)| {
        auctions
            .into_iter()
            .map(move |auction| Q5Row { auction, num })
    })
}

fn q7(bids: Stream<Bid>) -> Stream<Q7Row> {
    // A bid exactly on a window's end also belongs to the previous window's BETWEEN: a marked
    // copy of it goes there too (a side output: the other bids are not copied).
    let (bids, edges) = bids.side_output(|b| {
        (b.date_time % TUMBLE_MS == 0).then_some(Bid {
            event_id: EDGE_COPY,
            ..*b
        })
    });
    // Two-phase: per worker a partial max of its own bids (no exchange of bids), then one
    // worker per window merges the partials.
    bids.union(edges)
        .window_all(
            WindowSpec::tumbling(TUMBLE),
            |b: &Bid| ts(b.date_time) - i64::from(is_edge_copy(b)),
            MaxBids,
        )
        .expect("a 10 s window is valid")
        .flat_map(|(_, rows)| rows)
}

fn q8(events: Stream<Event>) -> Stream<Q8Row> {
    // The auctions' sellers branch off as a side output and the persons are picked from the
    // rest: no event is copied whole on its way to the join.
    let (events, sellers) = events.side_output(|e| match e {
        Event::Auction(a) => Some((a.seller, ts(a.date_time))),
        Event::Person(_) | Event::Bid(_) => None,
    });
    let people = events.flat_map(|e| match e {
        Event::Person(p) => Some((p.id, ts(p.date_time), p.name)),
        Event::Auction(_) | Event::Bid(_) => None,
    });
    // Each (person, name, window) row is final once the person and one of their auctions are
    // both in the window: emitted then, not when the window closes.
    people
        .window_semi_join(
            sellers,
            WindowSpec::tumbling(TUMBLE),
            |p| (p.0, p.1, p.2),
            |a| (a.0, a.1),
        )
        .expect("a 10 s window is valid")
        .map(|(id, w, name)| Q8Row {
            id,
            name,
            starttime: w.start as u64,
        })
}

/// The `event_id` of q7's copy of a bid lying exactly on a window's end, offered to the window
/// that ends there: it may join that window's result but does not count for its max. No event
/// has this id (ids are below the number of events).
const EDGE_COPY: u64 = u64::MAX;

/// Whether `b` is q7's copy of a bid on a window's end.
#[inline]
fn is_edge_copy(b: &Bid) -> bool {
    b.event_id == EDGE_COPY
}

/// q7's accumulator: the highest price of the window's own bids, those bids, and the bids on
/// the window's end (kept while they may still equal the final max).
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

/// q7's aggregate (per window, over all bids): the window's max price and the bids at it,
/// edge bids included when they equal it.
#[derive(Debug, Clone, Copy)]
struct MaxBids;

impl Aggregate<Bid> for MaxBids {
    type Acc = MaxAcc;
    type Out = Vec<Q7Row>;
    fn init(&self) -> MaxAcc {
        MaxAcc::default()
    }
    fn accumulate(&self, acc: &mut MaxAcc, b: &Bid) {
        if is_edge_copy(b) {
            if b.price >= acc.max {
                acc.edge.push(*b);
            }
        } else {
            acc.offer(b);
        }
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

/// The auction fields q4 needs.
#[derive(Debug, Clone, Copy)]
struct OpenAuction {
    id: u64,
    date_time: u64,
    expires: u64,
    category: u64,
}
