//! Result rows of the updating queries over bids, q15-q19 (docs/WORKLOADS.md, section 9):
//! each is a table keyed by its first columns, digested as the final table at end of input.
//!
//! q15, q16 and q17 count bids per price band ([`BandCounts`]); q15 and q16 also count
//! distinct bidders and auctions per band ([`BidStats`]), in the columns `total_bids,
//! rank1_bids, rank2_bids, rank3_bids, total_bidders, ..., rank3_auctions`.

use crate::digest::{ColumnSink, ResultRow};
use crate::nexmark::functions::{Date, HourMinute};

/// A count overall and per price band ([`crate::nexmark::PriceBand`]): the columns `total_X,
/// rank1_X, rank2_X, rank3_X`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BandCounts {
    /// Overall.
    pub total: u64,
    /// Per band, indexed by [`crate::nexmark::PriceBand::index`].
    pub rank: [u64; 3],
}

impl BandCounts {
    /// Writes the four columns.
    pub fn write_columns(&self, sink: &mut impl ColumnSink) {
        sink.int(self.total as i64);
        for n in self.rank {
            sink.int(n as i64);
        }
    }
}

/// q15's and q16's twelve counts: bids, distinct bidders and distinct auctions, each overall
/// and per price band.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BidStats {
    /// `total_bids, rank1_bids, rank2_bids, rank3_bids`.
    pub bids: BandCounts,
    /// `total_bidders, ..., rank3_bidders`: distinct bidders among the bids (of the band).
    pub bidders: BandCounts,
    /// `total_auctions, ..., rank3_auctions`: distinct auctions among the bids (of the band).
    pub auctions: BandCounts,
}

impl BidStats {
    /// Writes the twelve columns.
    pub fn write_columns(&self, sink: &mut impl ColumnSink) {
        self.bids.write_columns(sink);
        self.bidders.write_columns(sink);
        self.auctions.write_columns(sink);
    }
}

row! {
    /// q15 (bidding statistics report): per UTC day, [`BidStats`].
    Q15Row [
        "day", "total_bids", "rank1_bids", "rank2_bids", "rank3_bids", "total_bidders",
        "rank1_bidders", "rank2_bidders", "rank3_bidders", "total_auctions", "rank1_auctions",
        "rank2_auctions", "rank3_auctions"
    ] {
        /// `yyyy-MM-dd`.
        day: Date => str,
        /// The twelve counts.
        stats: BidStats => columns,
    }
}

row! {
    /// q16 (channel statistics report): per (channel, UTC day), the latest `HH:mm` of its bids
    /// and [`BidStats`].
    Q16Row<S> [
        "channel", "day", "minute", "total_bids", "rank1_bids", "rank2_bids", "rank3_bids",
        "total_bidders", "rank1_bidders", "rank2_bidders", "rank3_bidders", "total_auctions",
        "rank1_auctions", "rank2_auctions", "rank3_auctions"
    ] {
        /// The channel.
        channel: S => str,
        /// `yyyy-MM-dd`.
        day: Date => str,
        /// The greatest `HH:mm` among the group's bids.
        minute: HourMinute => str,
        /// The twelve counts.
        stats: BidStats => columns,
    }
}

row! {
    /// q17 (auction statistics report): per (auction, UTC day), the bids overall and per band,
    /// and the minimum, maximum, truncated average and sum of their prices.
    Q17Row [
        "auction", "day", "total_bids", "rank1_bids", "rank2_bids", "rank3_bids", "min_price",
        "max_price", "avg_price", "sum_price"
    ] {
        /// Auction id.
        auction: u64 => int,
        /// `yyyy-MM-dd`.
        day: Date => str,
        /// `total_bids, rank1_bids, rank2_bids, rank3_bids`.
        bids: BandCounts => columns,
        /// Lowest price, cents.
        min_price: u64 => int,
        /// Highest price, cents.
        max_price: u64 => int,
        /// `sum div count` of the prices.
        avg_price: i64 => int,
        /// Sum of the prices (a 64-bit integer: a larger sum fails the run).
        sum_price: i64 => int,
    }
}

row! {
    /// q18 (find last bid): per (bidder, auction), its last bid (greatest `dateTime`, then
    /// greatest event id): `auction, bidder, price, channel, url, dateTime, extra`.
    Q18Row<S> ["auction", "bidder", "price", "channel", "url", "dateTime", "extra"] {
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
    }
}

row! {
    /// q19 (auction top-10 price): per auction, its first 10 bids by price descending, then
    /// event id ascending, with `rank_number` 1..10 in that order.
    Q19Row<S> [
        "auction", "bidder", "price", "channel", "url", "dateTime", "extra", "rank_number"
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
        /// 1 .. 10.
        rank_number: u64 => int,
    }
}
