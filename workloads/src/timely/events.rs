//! The peer engines' view of the generator's events: the fields each query reads, as the
//! signed integers the result rows use.

use timely::dataflow::StreamVec;

use super::sampling::Sampled;
use crate::nexmark::{Auction, Bid, Event, Q0Row, Q1Row};

/// A worker's stream of Nexmark events (all kinds, or bids only), at their event times.
pub(crate) type Events<'s, E> = StreamVec<'s, u64, E>;

/// What a source emits: [`Event`], or [`Bid`] for the queries that read bids only (the
/// generator then skips persons and auctions without generating them).
pub(crate) trait NexmarkEvent: Copy + 'static {
    /// The bid in this event, if it is one.
    fn bid(self) -> Option<B>;
    /// The person in this event, if it is one.
    fn person(self) -> Option<P>;
    /// The auction in this event, if it is one.
    fn auction(self) -> Option<A>;

    /// The whole bid (channel, URL, event id and all), if this event is one.
    fn full_bid(self) -> Option<Bid>;
    /// The whole auction (item name, description, extra and all), if this event is one.
    fn full_auction(self) -> Option<Auction>;

    /// The ingestion stamp of a latency-sampled event (see [`Sampled`]), 0 for the others.
    #[inline]
    fn stamp(self) -> u64 {
        0
    }
}

impl<E: NexmarkEvent> NexmarkEvent for Sampled<E> {
    #[inline]
    fn bid(self) -> Option<B> {
        self.event.bid()
    }

    #[inline]
    fn person(self) -> Option<P> {
        self.event.person()
    }

    #[inline]
    fn auction(self) -> Option<A> {
        self.event.auction()
    }

    #[inline]
    fn full_bid(self) -> Option<Bid> {
        self.event.full_bid()
    }

    #[inline]
    fn full_auction(self) -> Option<Auction> {
        self.event.full_auction()
    }

    #[inline]
    fn stamp(self) -> u64 {
        self.stamp
    }
}

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

fn from_bid(b: Bid) -> B {
    B {
        auction: b.auction as i64,
        bidder: b.bidder as i64,
        price: b.price as i64,
        date_time: b.date_time as i64,
        extra: b.extra.as_str(),
    }
}

impl NexmarkEvent for Event {
    #[inline]
    fn bid(self) -> Option<B> {
        match self {
            Event::Bid(b) => Some(from_bid(b)),
            _ => None,
        }
    }

    #[inline]
    fn person(self) -> Option<P> {
        match self {
            Event::Person(p) => Some(P {
                id: p.id as i64,
                name: p.name,
                city: p.city,
                state: p.state,
            }),
            _ => None,
        }
    }

    #[inline]
    fn auction(self) -> Option<A> {
        match self {
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

    #[inline]
    fn full_bid(self) -> Option<Bid> {
        match self {
            Event::Bid(b) => Some(b),
            _ => None,
        }
    }

    #[inline]
    fn full_auction(self) -> Option<Auction> {
        match self {
            Event::Auction(a) => Some(a),
            _ => None,
        }
    }
}

impl NexmarkEvent for Bid {
    #[inline]
    fn bid(self) -> Option<B> {
        Some(from_bid(self))
    }

    #[inline]
    fn person(self) -> Option<P> {
        None
    }

    #[inline]
    fn auction(self) -> Option<A> {
        None
    }

    #[inline]
    fn full_bid(self) -> Option<Bid> {
        Some(self)
    }

    #[inline]
    fn full_auction(self) -> Option<Auction> {
        None
    }
}

/// q0's row for a bid.
#[inline]
pub(crate) fn q0_row(b: B) -> Q0Row {
    Q0Row {
        auction: b.auction as u64,
        bidder: b.bidder as u64,
        price: b.price as u64,
        date_time: b.date_time as u64,
        extra: b.extra,
    }
}

/// q1's row for a bid: the price in another currency (`price * 0.908`, exact at scale 3).
#[inline]
pub(crate) fn q1_row(b: B) -> Q1Row {
    Q1Row {
        auction: b.auction as u64,
        bidder: b.bidder as u64,
        price: (b.price * 908) as u64,
        date_time: b.date_time as u64,
        extra: b.extra,
    }
}
