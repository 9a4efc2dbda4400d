//! What every reference reads: the events of one kind, in input order, and small helpers.

use crate::nexmark::event::{Auction, Bid, Event, Person};

/// The bids, in input order.
pub(super) fn bids(events: &[Event]) -> impl Iterator<Item = &Bid> {
    events.iter().filter_map(|e| match e {
        Event::Bid(b) => Some(b),
        _ => None,
    })
}

/// The auctions, in input order.
pub(super) fn auctions(events: &[Event]) -> impl Iterator<Item = &Auction> {
    events.iter().filter_map(|e| match e {
        Event::Auction(a) => Some(a),
        _ => None,
    })
}

/// The persons, in input order.
pub(super) fn persons(events: &[Event]) -> impl Iterator<Item = &Person> {
    events.iter().filter_map(|e| match e {
        Event::Person(p) => Some(p),
        _ => None,
    })
}

/// `rows`, sorted (references return their multiset in a fixed order).
pub(super) fn sorted<T: Ord>(mut rows: Vec<T>) -> Vec<T> {
    rows.sort();
    rows
}

/// Start of the tumbling window of `size` containing `t`.
pub(super) fn window_start(t: u64, size: u64) -> u64 {
    t - t % size
}

/// `sum div count` truncated (AVG over BIGINT), with the sum in 128 bits.
pub(super) fn average(sum: i128, count: usize) -> i64 {
    (sum / count as i128) as i64
}
