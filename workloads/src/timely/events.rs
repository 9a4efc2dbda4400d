//! The peer engines' view of the generator's events: the fields each query reads, as the
//! signed integers the result rows use.

use timely::dataflow::StreamVec;

use super::rows::BidRow;
use crate::nexmark::Event;

/// A worker's stream of Nexmark events, at their event times.
pub(crate) type Events<'s> = StreamVec<'s, u64, Event>;

/// A bid's fields.
#[derive(Clone, Copy, Debug)]
pub(crate) struct B {
    pub(crate) auction: i64,
    pub(crate) bidder: i64,
    pub(crate) price: i64,
    pub(crate) date_time: i64,
    pub(crate) extra: &'static str,
}

/// A person's fields.
#[derive(Clone, Copy, Debug)]
pub(crate) struct P {
    pub(crate) id: i64,
    pub(crate) name: &'static str,
    pub(crate) city: &'static str,
    pub(crate) state: &'static str,
}

/// An auction's fields.
#[derive(Clone, Copy, Debug)]
pub(crate) struct A {
    pub(crate) id: i64,
    pub(crate) seller: i64,
    pub(crate) category: i64,
    pub(crate) date_time: i64,
    pub(crate) expires: i64,
}

/// The bid in `e`, if it is one.
#[inline]
pub(crate) fn bid(e: Event) -> Option<B> {
    match e {
        Event::Bid(b) => Some(B {
            auction: b.auction as i64,
            bidder: b.bidder as i64,
            price: b.price as i64,
            date_time: b.date_time as i64,
            extra: b.extra,
        }),
        _ => None,
    }
}

/// The person in `e`, if it is one.
#[inline]
pub(crate) fn person(e: Event) -> Option<P> {
    match e {
        Event::Person(p) => Some(P {
            id: p.id as i64,
            name: p.name,
            city: p.city,
            state: p.state,
        }),
        _ => None,
    }
}

/// The auction in `e`, if it is one.
#[inline]
pub(crate) fn auction(e: Event) -> Option<A> {
    match e {
        Event::Auction(a) => Some(A {
            id: a.id as i64,
            seller: a.seller as i64,
            category: a.category as i64,
            date_time: a.date_time as i64,
            expires: a.expires as i64,
        }),
        _ => None,
    }
}

/// q0's row for a bid; q1's when `convert` (price * 0.908, exact at scale 3).
#[inline]
pub(crate) fn bid_row(b: B, convert: bool) -> BidRow {
    BidRow {
        auction: b.auction,
        bidder: b.bidder,
        price: if convert { b.price * 908 } else { b.price },
        date_time: b.date_time,
        extra: b.extra,
    }
}
