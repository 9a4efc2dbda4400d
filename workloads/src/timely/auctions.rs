//! Nexmark q6 and q9 on timely: the winning bid of each auction, decided when the auction
//! closes, by one frontier-driven operator ([`closed_auctions`]) exchanged by auction id.
//!
//! State and when it is freed:
//!
//! - An open auction (its id, start, expiry, payload and best qualifying bid so far) is kept
//!   until the frontier of both inputs is past its `expires` (no bid at or before `expires` can
//!   come), then emitted at time `expires` with its winner (if any bid qualified) and freed.
//! - A bid waits (payload included) until the frontier is past its time: only an auction that
//!   started at or before the bid can take it, and every such auction has arrived by then. A
//!   bid also updates the open auctions it qualifies for when it arrives.
//!
//! q9 maps the closed auctions to rows. q6 exchanges them by seller; per seller it keeps the
//! final prices of the last 10 closed auctions and, in closing order (`expires`, then id),
//! emits the average over them at each close, at time `expires` (the frontier past it).

use std::collections::{BTreeMap, HashMap, VecDeque};

use timely::ExchangeData;
use timely::dataflow::StreamVec;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::vec::Map;

use super::events::{Events, NexmarkEvent};
use super::harness::{Ctx, ResultSlot, digest_sink};
use super::stateless::{plain, route};
use super::windows::{Pending, passed};
use super::wire::{WireAuction, WireBid, q9_row};
use crate::catalog::Query;
use crate::nexmark::{Q6Row, Q9Row};

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

/// An auction's `(id, dateTime, expires)`.
type AuctionKey = (u64, u64, u64);
/// A bid's `(auction, price, dateTime, event id)`.
type BidKey = (u64, u64, u64, u64);

/// Whether bid `b` beats `best` (q9's order: higher price, then earlier time, then smaller id).
fn beats(b: &BidKey, best: &BidKey) -> bool {
    (std::cmp::Reverse(b.1), b.2, b.3) < (std::cmp::Reverse(best.1), best.2, best.3)
}

/// An open auction.
struct Open<A, B> {
    start: u64,
    expires: u64,
    /// When it closes: `expires`, or its own time if that is later.
    closes_at: u64,
    payload: A,
    best: Option<(BidKey, B)>,
}

impl<A, B: Clone> Open<A, B> {
    fn offer(&mut self, bid: &BidKey, payload: &B) {
        let qualifies = self.start <= bid.2 && bid.2 <= self.expires;
        if qualifies && self.best.as_ref().is_none_or(|(best, _)| beats(bid, best)) {
            self.best = Some((*bid, payload.clone()));
        }
    }
}

/// Every auction with a qualifying bid, with its winner, emitted at the auction's `expires`.
fn closed_auctions<'s, A: ExchangeData, B: ExchangeData + Clone>(
    auctions: StreamVec<'s, u64, (AuctionKey, A)>,
    bids: StreamVec<'s, u64, (BidKey, B)>,
) -> StreamVec<'s, u64, (A, BidKey, B)> {
    auctions.binary_frontier(
        bids,
        Exchange::new(|a: &(AuctionKey, A)| route(a.0.0 as i64)),
        Exchange::new(|b: &(BidKey, B)| route(b.0.0 as i64)),
        "ClosedAuctions",
        |_cap, _info| {
            let mut open: HashMap<u64, Vec<Open<A, B>>> = HashMap::new();
            let mut closing: Pending<Vec<u64>> = Pending::new();
            let mut waiting: HashMap<u64, Vec<(BidKey, B)>> = HashMap::new();
            let mut waiting_at: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
            move |(auctions, fa), (bids, fb), output| {
                auctions.for_each(|cap, data| {
                    let t = *cap.least().expect("data has a time");
                    for ((id, start, expires), payload) in data.drain(..) {
                        // An auction that expires before it starts takes no bid; it still
                        // closes (no sooner than its own time).
                        let closes_at = expires.max(t);
                        closing.at(closes_at, &cap).push(id);
                        let mut auction = Open {
                            start,
                            expires,
                            closes_at,
                            payload,
                            best: None,
                        };
                        for (bid, b) in waiting.get(&id).into_iter().flatten() {
                            auction.offer(bid, b);
                        }
                        open.entry(id).or_default().push(auction);
                    }
                });
                bids.for_each(|_cap, data| {
                    for (bid, b) in data.drain(..) {
                        for auction in open.get_mut(&bid.0).into_iter().flatten() {
                            auction.offer(&bid, &b);
                        }
                        waiting_at.entry(bid.2).or_default().push(bid.0);
                        waiting.entry(bid.0).or_default().push((bid, b));
                    }
                });
                let done = |end: u64| passed(fa)(end) && passed(fb)(end);
                while let Some(entry) = waiting_at.first_entry() {
                    let t = *entry.key();
                    if !done(t) {
                        break;
                    }
                    for id in entry.remove() {
                        if let Some(list) = waiting.get_mut(&id) {
                            list.retain(|(bid, _)| bid.2 > t);
                            if list.is_empty() {
                                waiting.remove(&id);
                            }
                        }
                    }
                }
                while let Some((end, cap, ids)) = closing.next_ready(done) {
                    let mut session = output.session(&cap);
                    for id in ids {
                        let Some(list) = open.get_mut(&id) else {
                            continue;
                        };
                        let mut i = 0;
                        while i < list.len() {
                            if list[i].closes_at <= end {
                                let auction = list.swap_remove(i);
                                if let Some((bid, b)) = auction.best {
                                    session.give((auction.payload, bid, b));
                                }
                            } else {
                                i += 1;
                            }
                        }
                        if list.is_empty() {
                            open.remove(&id);
                        }
                    }
                }
            }
        },
    )
}

/// q9: every auction with its winning bid, emitted once, when the auction closes.
fn q9<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let auctions = events.clone().flat_map(|e| {
        e.full_auction()
            .map(|a| ((a.id, a.date_time, a.expires), WireAuction::from(&a)))
    });
    let bids = events.flat_map(|e| {
        e.full_bid().map(|b| {
            let key = (b.auction, b.price, b.date_time, b.event_id);
            (key, WireBid::from(&b))
        })
    });
    let rows = closed_auctions(auctions, bids).map(|(a, _, w)| q9_row(&a, &w));
    digest_sink(rows, ctx, slot, plain::<Q9Row<String>>);
}

/// q6: per seller, at each close, the average final price of its last 10 closed auctions.
fn q6<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let auctions = events.clone().flat_map(|e| {
        e.full_auction()
            .map(|a| ((a.id, a.date_time, a.expires), a.seller))
    });
    let bids = events.flat_map(|e| {
        e.full_bid()
            .map(|b| ((b.auction, b.price, b.date_time, b.event_id), ()))
    });
    // (seller, expires, auction id, final price)
    type Close = (u64, u64, u64, u64);
    let closes = closed_auctions(auctions, bids);
    let rows: StreamVec<'_, u64, Q6Row> = closes.unary_frontier(
        Exchange::new(|c: &(u64, BidKey, ())| route(c.0 as i64)),
        "Q6LastTen",
        |_cap, _info| {
            let mut pending: Pending<Vec<Close>> = Pending::new();
            let mut last: HashMap<u64, VecDeque<u64>> = HashMap::new();
            move |(input, frontier), output| {
                input.for_each(|cap, data| {
                    let t = *cap.least().expect("data has a time");
                    for (seller, (auction, price, _, _), ()) in data.drain(..) {
                        pending.at(t, &cap).push((seller, t, auction, price));
                    }
                });
                while let Some((_, cap, mut closed)) = pending.next_ready(passed(frontier)) {
                    // Closing order within one instant: by auction id.
                    closed.sort_unstable_by_key(|c| c.2);
                    let mut session = output.session(&cap);
                    for (seller, _, _, price) in closed {
                        let prices = last.entry(seller).or_default();
                        prices.push_back(price);
                        if prices.len() > Q6_LAST {
                            prices.pop_front();
                        }
                        let sum: i128 = prices.iter().map(|&p| i128::from(p)).sum();
                        session.give(Q6Row {
                            seller,
                            avg: (sum / prices.len() as i128) as i64,
                        });
                    }
                }
            }
        },
    );
    digest_sink(rows, ctx, slot, plain::<Q6Row>);
}
