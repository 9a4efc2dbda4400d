//! Result rows of the queries that join bids with auctions or with a side table: q6, q9, q13,
//! q20 (docs/WORKLOADS.md, section 9).

use crate::digest::{ColumnSink, ResultRow};

row! {
    /// q6 (average selling price by seller): `seller, avg`, one row per auction with a final
    /// price: the truncated average of the final prices of the seller's last (up to) 10 closed
    /// auctions, this one included.
    Q6Row ["seller", "avg"] {
        /// Seller person id.
        seller: u64 => int,
        /// `sum div count` over those final prices.
        avg: i64 => int,
    }
}

row! {
    /// q9 (winning bids): the auction's ten fields, then its winning bid's `auction, bidder,
    /// price`, its `dateTime` as `bid_dateTime` and its `extra` as `bid_extra`.
    Q9Row<S> [
        "id", "itemName", "description", "initialBid", "reserve", "dateTime", "expires",
        "seller", "category", "extra", "auction", "bidder", "price", "bid_dateTime", "bid_extra"
    ] {
        /// Auction id.
        id: u64 => int,
        /// The auction's item name.
        item_name: S => str,
        /// The auction's description.
        description: S => str,
        /// Starting price, cents.
        initial_bid: u64 => int,
        /// Reserve price, cents.
        reserve: u64 => int,
        /// The auction's time, epoch ms.
        date_time: u64 => int,
        /// The auction's end, epoch ms.
        expires: u64 => int,
        /// Seller person id.
        seller: u64 => int,
        /// Category.
        category: u64 => int,
        /// The auction's extra.
        extra: S => str,
        /// The winning bid's auction (equal to `id`).
        auction: u64 => int,
        /// The winning bidder.
        bidder: u64 => int,
        /// The winning price, cents.
        price: u64 => int,
        /// The winning bid's time, epoch ms.
        bid_date_time: u64 => int,
        /// The winning bid's extra.
        bid_extra: S => str,
    }
}

row! {
    /// q13 (bounded side input join): `auction, bidder, price, dateTime, value`, with `value`
    /// the side table's value for the key `auction mod 10000`.
    Q13Row<S> ["auction", "bidder", "price", "dateTime", "value"] {
        /// Auction id.
        auction: u64 => int,
        /// Bidder id.
        bidder: u64 => int,
        /// Price, cents.
        price: u64 => int,
        /// Bid time, epoch ms.
        date_time: u64 => int,
        /// The side table's value.
        value: S => str,
    }
}

row! {
    /// q20 (expand bid with auction): the bid's seven fields, then the auction's, its
    /// `dateTime` as `a_dateTime` and its `extra` as `a_extra` (auctions of category 10 only).
    Q20Row<S> [
        "auction", "bidder", "price", "channel", "url", "dateTime", "extra", "itemName",
        "description", "initialBid", "reserve", "a_dateTime", "expires", "seller", "category",
        "a_extra"
    ] {
        /// Auction id.
        auction: u64 => int,
        /// Bidder id.
        bidder: u64 => int,
        /// Price, cents.
        price: u64 => int,
        /// The bid's channel.
        channel: S => str,
        /// The bid's URL.
        url: S => str,
        /// Bid time, epoch ms.
        date_time: u64 => int,
        /// The bid's extra.
        extra: S => str,
        /// The auction's item name.
        item_name: S => str,
        /// The auction's description.
        description: S => str,
        /// Starting price, cents.
        initial_bid: u64 => int,
        /// Reserve price, cents.
        reserve: u64 => int,
        /// The auction's time, epoch ms.
        a_date_time: u64 => int,
        /// The auction's end, epoch ms.
        expires: u64 => int,
        /// Seller person id.
        seller: u64 => int,
        /// Category (always 10).
        category: u64 => int,
        /// The auction's extra.
        a_extra: S => str,
    }
}
