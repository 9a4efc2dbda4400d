//! Nexmark q0-q4 and q12 on timely: the stateless queries, the two regular joins and the
//! processing-time window.
//!
//! Stateless queries (q0-q2) are one `flat_map` on the worker that generated the event, with no
//! exchange. The joins exchange both inputs by the join key and keep hash tables per worker.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::Capability;
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::vec::Map;
use timely::dataflow::{Stream, StreamVec};

use super::events::{self, Events, NexmarkEvent};
use super::harness::{Ctx, ResultSlot, digest_sink, sampled_sink};
use crate::catalog::Query;
use crate::nexmark::TUMBLE_MS;
use crate::nexmark::{Q0Row, Q1Row, Q2Row, Q3Row, Q4Row, Q12Row};

/// Builds `query` if it is one of this module's (q0-q4, q12); otherwise hands the events
/// back for the next module to try.
pub(crate) fn build<'s, E: NexmarkEvent>(
    query: Query,
    events: Events<'s, E>,
    ctx: &Ctx,
    slot: &ResultSlot,
) -> Result<(), Events<'s, E>> {
    match query {
        Query::Q0 => q0(events, ctx, slot),
        Query::Q1 => q1(events, ctx, slot),
        Query::Q2 => q2(events, ctx, slot),
        Query::Q3 => q3(events, ctx, slot),
        Query::Q4 => q4(events, ctx, slot),
        Query::Q12 => q12(events, ctx, slot),
        _ => return Err(events),
    }
    Ok(())
}

/// A fixed, fast mixer from a key to a routing hash (timely routes by the low bits).
pub(crate) fn route(key: i64) -> u64 {
    let x = (key as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    let x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

pub(crate) fn plain<R>(row: &R) -> (&R, i64) {
    (row, 1)
}

pub(crate) fn signed<R>(update: &(R, i64)) -> (&R, i64) {
    (&update.0, update.1)
}

/// A result row with the ingestion stamp of the sampled input record behind it (or 0).
pub(crate) fn stamped<R>(update: &(R, u64)) -> (&R, i64) {
    (&update.0, 1)
}

pub(crate) fn stamp_of<R>(update: &(R, u64)) -> u64 {
    update.1
}

/// q0: every bid, projected.
pub(crate) fn q0<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let rows = events.flat_map(|e| e.bid().map(|b| (events::q0_row(b), e.stamp())));
    sampled_sink(rows, ctx, slot, stamped::<Q0Row>, stamp_of);
}

/// q1: q0 with the price in another currency (`price * 0.908`, kept exact at scale 3).
pub(crate) fn q1<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let rows = events.flat_map(|e| e.bid().map(|b| (events::q1_row(b), e.stamp())));
    sampled_sink(rows, ctx, slot, stamped::<Q1Row>, stamp_of);
}

/// q2: bids on every 123rd auction.
pub(crate) fn q2<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let rows = events.flat_map(|e| {
        e.bid().filter(|b| b.auction % 123 == 0).map(|b| {
            (
                Q2Row {
                    auction: b.auction as u64,
                    price: b.price as u64,
                },
                e.stamp(),
            )
        })
    });
    sampled_sink(rows, ctx, slot, stamped::<Q2Row>, stamp_of);
}

/// q3: sellers in OR, ID or CA of category-10 auctions; a regular (unbounded) join.
///
/// A row made when a sampled auction arrives carries the auction's ingestion stamp (latency);
/// rows made when a person arrives for earlier auctions carry none (as on every engine).
pub(crate) fn q3<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let persons = events.clone().flat_map(|e| {
        e.person()
            .filter(|p| matches!(p.state, "OR" | "ID" | "CA"))
            .map(|p| {
                (
                    p.id,
                    p.name.to_string(),
                    p.city.to_string(),
                    p.state.to_string(),
                )
            })
    });
    let auctions = events.flat_map(|e| {
        e.auction()
            .filter(|a| a.category == 10)
            .map(|a| (a.seller, a.id, e.stamp()))
    });
    type P = (i64, String, String, String);
    let rows: StreamVec<'_, u64, (Q3Row<String>, u64)> = persons.binary(
        auctions,
        Exchange::new(|p: &P| route(p.0)),
        Exchange::new(|a: &(i64, i64, u64)| route(a.0)),
        "Q3Join",
        |_cap, _info| {
            let mut people: HashMap<i64, (String, String, String)> = HashMap::new();
            let mut sold: HashMap<i64, Vec<i64>> = HashMap::new();
            move |persons, auctions, output| {
                persons.for_each(|cap, data| {
                    let mut session = output.session(&cap);
                    for (id, name, city, state) in data.drain(..) {
                        for &auction in sold.get(&id).into_iter().flatten() {
                            let row = Q3Row {
                                name: name.clone(),
                                city: city.clone(),
                                state: state.clone(),
                                id: auction as u64,
                            };
                            session.give((row, 0));
                        }
                        people.insert(id, (name, city, state));
                    }
                });
                auctions.for_each(|cap, data| {
                    let mut session = output.session(&cap);
                    for (seller, auction, stamp) in data.drain(..) {
                        if let Some((name, city, state)) = people.get(&seller) {
                            let row = Q3Row {
                                name: name.clone(),
                                city: city.clone(),
                                state: state.clone(),
                                id: auction as u64,
                            };
                            session.give((row, stamp));
                        }
                        sold.entry(seller).or_default().push(auction);
                    }
                });
            }
        },
    );
    sampled_sink(rows, ctx, slot, stamped::<Q3Row<String>>, stamp_of);
}

/// One auction's state in q4.
struct Q4Auction {
    category: i64,
    start: i64,
    expires: i64,
    max: Option<i64>,
}

/// q4: average of the winning (maximum in-time) bid per category, an updating result.
///
/// Stage 1 (exchange by auction) joins bids to their auction and emits `(category, old max,
/// new max)` whenever an auction's maximum changes; bids that arrive before their auction wait
/// for it. Stage 2 (exchange by category) keeps sum and count of the maxima and emits the
/// changed averages as retraction/insertion pairs, per input batch.
pub(crate) fn q4<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    type A = (i64, i64, i64, i64);
    type B = (i64, i64, i64);
    let auctions = events.clone().flat_map(|e| {
        e.auction()
            .map(|a| (a.id, a.category, a.date_time, a.expires))
    });
    let bids = events.flat_map(|e| e.bid().map(|b| (b.auction, b.price, b.date_time)));
    let changes: StreamVec<'_, u64, (i64, Option<i64>, i64)> = auctions.binary(
        bids,
        Exchange::new(|a: &A| route(a.0)),
        Exchange::new(|b: &B| route(b.0)),
        "Q4WinningBids",
        |_cap, _info| {
            let mut known: HashMap<i64, Q4Auction> = HashMap::new();
            let mut waiting: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
            move |auctions, bids, output| {
                auctions.for_each(|cap, data| {
                    let mut session = output.session(&cap);
                    for (id, category, start, expires) in data.drain(..) {
                        let max = waiting
                            .remove(&id)
                            .into_iter()
                            .flatten()
                            .filter(|&(_, t)| t >= start && t <= expires)
                            .map(|(p, _)| p)
                            .max();
                        if let Some(m) = max {
                            session.give((category, None, m));
                        }
                        known.insert(
                            id,
                            Q4Auction {
                                category,
                                start,
                                expires,
                                max,
                            },
                        );
                    }
                });
                bids.for_each(|cap, data| {
                    let mut session = output.session(&cap);
                    for (auction, price, t) in data.drain(..) {
                        match known.get_mut(&auction) {
                            Some(a) => {
                                if t >= a.start && t <= a.expires && a.max < Some(price) {
                                    session.give((a.category, a.max, price));
                                    a.max = Some(price);
                                }
                            }
                            None => waiting.entry(auction).or_default().push((price, t)),
                        }
                    }
                });
            }
        },
    );
    let rows: StreamVec<'_, u64, (Q4Row, i64)> = changes.unary(
        Exchange::new(|c: &(i64, Option<i64>, i64)| route(c.0)),
        "Q4AvgPerCategory",
        |_cap, _info| {
            // category -> (sum of maxima, number of auctions, last emitted average)
            let mut state: HashMap<i64, (i128, i64, Option<i64>)> = HashMap::new();
            let mut touched: Vec<i64> = Vec::new();
            move |input, output| {
                input.for_each(|cap, data| {
                    for (category, old, new) in data.drain(..) {
                        let s = state.entry(category).or_insert((0, 0, None));
                        s.0 += i128::from(new) - i128::from(old.unwrap_or(0));
                        s.1 += i64::from(old.is_none());
                        touched.push(category);
                    }
                    touched.sort_unstable();
                    touched.dedup();
                    let mut session = output.session(&cap);
                    for category in touched.drain(..) {
                        let s = state
                            .get_mut(&category)
                            .expect("touched categories have state");
                        let avg = (s.0 / i128::from(s.1)) as i64;
                        if s.2 != Some(avg) {
                            if let Some(old) = s.2 {
                                let category = category as u64;
                                session.give((Q4Row { category, avg: old }, -1));
                            }
                            let row = Q4Row {
                                category: category as u64,
                                avg,
                            };
                            session.give((row, 1));
                            s.2 = Some(avg);
                        }
                    }
                });
            }
        },
    );
    digest_sink(rows, ctx, slot, signed::<Q4Row>);
}

/// Processing-time window length of q12, ms.
const Q12_WINDOW_MS: i64 = TUMBLE_MS as i64;

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// q12: bids per bidder in 10 s tumbling windows of processing time (the wall clock when the
/// bid reaches the counting operator). Nondeterministic by definition; its invariants (counts
/// per bidder sum to the bidder's bids, bounds aligned to 10 s) are what tests check.
pub(crate) fn q12<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let bidders = events.flat_map(|e| e.bid().map(|b| b.bidder));
    let scope = bidders.scope();
    let rows: Stream<'_, u64, Vec<Q12Row>> = bidders.unary_frontier(
        Exchange::new(|b: &i64| route(*b)),
        "Q12ProcTimeCount",
        move |_cap, info| {
            let activator = scope.activator_for(info.address);
            let mut window: Option<(i64, Capability<u64>)> = None;
            let mut counts: HashMap<i64, i64> = HashMap::new();
            move |(input, frontier), output| {
                let now = wall_ms();
                let current = now - now.rem_euclid(Q12_WINDOW_MS);
                let mut flush = |window: &mut Option<(i64, Capability<u64>)>,
                                 counts: &mut HashMap<i64, i64>| {
                    if let Some((start, cap)) = window.take() {
                        let mut session = output.session(&cap);
                        for (bidder, bid_count) in counts.drain() {
                            session.give(Q12Row {
                                bidder: bidder as u64,
                                bid_count: bid_count as u64,
                                starttime: start as u64,
                                endtime: (start + Q12_WINDOW_MS) as u64,
                            });
                        }
                    }
                };
                if window.as_ref().is_some_and(|(start, _)| *start < current) {
                    flush(&mut window, &mut counts);
                }
                input.for_each(|cap, data| {
                    match &mut window {
                        None => {
                            window = Some((current, cap.retain_least(0).expect("data has a time")));
                        }
                        Some((_, held)) => {
                            if let Some(t) = cap.least()
                                && t < held.time()
                            {
                                *held = cap.delayed(t, 0);
                            }
                        }
                    }
                    for bidder in data.drain(..) {
                        *counts.entry(bidder).or_insert(0) += 1;
                    }
                });
                if frontier.is_empty() {
                    flush(&mut window, &mut counts);
                } else if window.is_some() {
                    let left = (current + Q12_WINDOW_MS - wall_ms()).max(1) as u64;
                    activator.activate_after(Duration::from_millis(left));
                }
            }
        },
    );
    digest_sink(rows, ctx, slot, plain::<Q12Row>);
}
