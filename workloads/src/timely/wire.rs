//! Bids and auctions as the peer engines exchange and keep them ([`WireBid`], [`WireAuction`]:
//! owned, serializable, because timely may send a record to another process), and the result
//! rows of the queries that keep whole bids or auctions (q9, q18, q19, q20), built from them.
//! timely and differential both use these, so the two cannot drift apart.
//!
//! Cost: a wire record owns its text (`extra`, the channel and URL, an auction's item name and
//! description): a few small allocations per record that crosses workers or is kept in state.

use serde::{Deserialize, Serialize};

use crate::nexmark::{Auction, Bid, Q9Row, Q18Row, Q19Row, Q20Row};

/// A bid with every column and its event id (the tie-break of q9, q18 and q19).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct WireBid {
    pub(crate) auction: u64,
    pub(crate) bidder: u64,
    pub(crate) price: u64,
    pub(crate) channel: String,
    pub(crate) url: String,
    pub(crate) date_time: u64,
    pub(crate) extra: String,
    pub(crate) event_id: u64,
}

impl From<&Bid> for WireBid {
    fn from(b: &Bid) -> Self {
        Self {
            auction: b.auction,
            bidder: b.bidder,
            price: b.price,
            channel: b.channel.name().to_string(),
            url: b.url().to_string(),
            date_time: b.date_time,
            extra: b.extra.as_str().to_string(),
            event_id: b.event_id,
        }
    }
}

/// An auction with every column.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct WireAuction {
    pub(crate) id: u64,
    pub(crate) item_name: String,
    pub(crate) description: String,
    pub(crate) initial_bid: u64,
    pub(crate) reserve: u64,
    pub(crate) date_time: u64,
    pub(crate) expires: u64,
    pub(crate) seller: u64,
    pub(crate) category: u64,
    pub(crate) extra: String,
}

impl From<&Auction> for WireAuction {
    fn from(a: &Auction) -> Self {
        Self {
            id: a.id,
            item_name: a.item_name.as_str().to_string(),
            description: a.description.as_str().to_string(),
            initial_bid: a.initial_bid,
            reserve: a.reserve,
            date_time: a.date_time,
            expires: a.expires,
            seller: a.seller,
            category: a.category,
            extra: a.extra.as_str().to_string(),
        }
    }
}

impl WireAuction {
    /// Whether a bid at `date_time` qualifies for this auction (q6, q9): between its start and
    /// its expiry, both inclusive.
    pub(crate) fn takes(&self, date_time: u64) -> bool {
        self.date_time <= date_time && date_time <= self.expires
    }
}

/// q9's row: the auction and its winning bid.
pub(crate) fn q9_row(a: &WireAuction, w: &WireBid) -> Q9Row<String> {
    Q9Row {
        id: a.id,
        item_name: a.item_name.clone(),
        description: a.description.clone(),
        initial_bid: a.initial_bid,
        reserve: a.reserve,
        date_time: a.date_time,
        expires: a.expires,
        seller: a.seller,
        category: a.category,
        extra: a.extra.clone(),
        auction: w.auction,
        bidder: w.bidder,
        price: w.price,
        bid_date_time: w.date_time,
        bid_extra: w.extra.clone(),
    }
}

/// q18's row: the last bid of a (bidder, auction).
pub(crate) fn q18_row(b: &WireBid) -> Q18Row<String> {
    Q18Row {
        auction: b.auction,
        bidder: b.bidder,
        price: b.price,
        channel: b.channel.clone(),
        url: b.url.clone(),
        date_time: b.date_time,
        extra: b.extra.clone(),
    }
}

/// q19's row: a bid of an auction's top 10, at `rank` (1 ..= 10).
pub(crate) fn q19_row(b: &WireBid, rank: usize) -> Q19Row<String> {
    Q19Row {
        auction: b.auction,
        bidder: b.bidder,
        price: b.price,
        channel: b.channel.clone(),
        url: b.url.clone(),
        date_time: b.date_time,
        extra: b.extra.clone(),
        rank_number: rank as u64,
    }
}

/// q20's row: a bid and its auction (of category 10).
pub(crate) fn q20_row(b: &WireBid, a: &WireAuction) -> Q20Row<String> {
    Q20Row {
        auction: b.auction,
        bidder: b.bidder,
        price: b.price,
        channel: b.channel.clone(),
        url: b.url.clone(),
        date_time: b.date_time,
        extra: b.extra.clone(),
        item_name: a.item_name.clone(),
        description: a.description.clone(),
        initial_bid: a.initial_bid,
        reserve: a.reserve,
        a_date_time: a.date_time,
        expires: a.expires,
        seller: a.seller,
        category: a.category,
        a_extra: a.extra.clone(),
    }
}
