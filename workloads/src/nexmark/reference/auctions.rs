//! References of the queries that join bids with their auctions: q6, q9 (the winning bid of
//! each auction) and q20 (every bid with its auction of category 10).
//!
//! A bid *qualifies* for an auction when `bid.auction == auction.id` and `auction.dateTime <=
//! bid.dateTime <= auction.expires` (both bounds inclusive). Arrival order never matters: a
//! bid may come before its auction.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use super::input::{auctions, average, bids, sorted};
use crate::nexmark::event::{Auction, Bid, Event};
use crate::nexmark::rows::{Q6Row, Q9Row, Q20Row};

/// How many closed auctions of a seller q6 averages over.
const Q6_LAST: usize = 10;

/// Every auction with the bids that qualify for it, in input order.
fn qualifying(events: &[Event]) -> Vec<(&Auction, Vec<&Bid>)> {
    let mut by_auction: BTreeMap<u64, Vec<&Bid>> = BTreeMap::new();
    for b in bids(events) {
        by_auction.entry(b.auction).or_default().push(b);
    }
    auctions(events)
        .map(|a| {
            let inside = by_auction
                .get(&a.id)
                .into_iter()
                .flatten()
                .copied()
                .filter(|b| a.date_time <= b.date_time && b.date_time <= a.expires)
                .collect();
            (a, inside)
        })
        .collect()
}

/// The winning bid among `bids`: the highest price, then the earliest `dateTime`, then the
/// smallest event id.
fn winner<'e>(bids: &[&'e Bid]) -> Option<&'e Bid> {
    bids.iter()
        .copied()
        .min_by_key(|b| (Reverse(b.price), b.date_time, b.event_id))
}

/// q6: per seller, in closing order (`expires`, then auction id), one row per auction with a
/// final price (the highest qualifying price): the truncated average of the final prices of
/// the seller's last (up to) 10 such auctions, this one included. Auctions without a
/// qualifying bid take no part.
pub fn q6(events: &[Event]) -> Vec<Q6Row> {
    let mut closed: BTreeMap<u64, Vec<(u64, u64, u64)>> = BTreeMap::new();
    for (a, inside) in qualifying(events) {
        if let Some(price) = inside.iter().map(|b| b.price).max() {
            closed
                .entry(a.seller)
                .or_default()
                .push((a.expires, a.id, price));
        }
    }
    let mut rows = Vec::new();
    for (seller, mut auctions) in closed {
        auctions.sort_unstable();
        for k in 0..auctions.len() {
            let last = &auctions[(k + 1).saturating_sub(Q6_LAST)..=k];
            let sum: i128 = last.iter().map(|&(_, _, p)| i128::from(p)).sum();
            rows.push(Q6Row {
                seller,
                avg: average(sum, last.len()),
            });
        }
    }
    sorted(rows)
}

/// q9: per auction, its winning qualifying bid (highest price, then earliest `dateTime`,
/// then smallest event id); auctions without a qualifying bid have no row.
pub fn q9(events: &[Event]) -> Vec<Q9Row<&str>> {
    let mut rows = Vec::new();
    for (a, inside) in qualifying(events) {
        if let Some(w) = winner(&inside) {
            rows.push(Q9Row {
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
                auction: w.auction,
                bidder: w.bidder,
                price: w.price,
                bid_date_time: w.date_time,
                bid_extra: w.extra.as_str(),
            });
        }
    }
    sorted(rows)
}

/// q20: every bid joined with the auctions of category 10 that have its auction id (a
/// regular join: no time condition, either side may come first).
pub fn q20(events: &[Event]) -> Vec<Q20Row<&str>> {
    let mut category_10: BTreeMap<u64, Vec<&Auction>> = BTreeMap::new();
    for a in auctions(events).filter(|a| a.category == 10) {
        category_10.entry(a.id).or_default().push(a);
    }
    let mut rows = Vec::new();
    for b in bids(events) {
        for a in category_10.get(&b.auction).into_iter().flatten() {
            rows.push(Q20Row {
                auction: b.auction,
                bidder: b.bidder,
                price: b.price,
                channel: b.channel.name(),
                url: b.url(),
                date_time: b.date_time,
                extra: b.extra.as_str(),
                item_name: a.item_name.as_str(),
                description: a.description.as_str(),
                initial_bid: a.initial_bid,
                reserve: a.reserve,
                a_date_time: a.date_time,
                expires: a.expires,
                seller: a.seller,
                category: a.category,
                a_extra: a.extra.as_str(),
            });
        }
    }
    sorted(rows)
}
