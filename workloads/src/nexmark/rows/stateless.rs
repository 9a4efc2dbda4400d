//! Result rows of the per-bid queries q10, q14, q21 and q22 (docs/WORKLOADS.md, section 9):
//! one row per bid (or none), computed from that bid alone.

use crate::digest::{ColumnSink, ResultRow};
use crate::nexmark::functions::{BidTimeType, Date, HourMinute};

row! {
    /// q10 (log to file system): `auction, bidder, price, dateTime, extra, dt, hm`, with `dt`
    /// and `hm` the UTC `yyyy-MM-dd` and `HH:mm` of `dateTime` (the partition of its file).
    Q10Row<S> ["auction", "bidder", "price", "dateTime", "extra", "dt", "hm"] {
        /// Auction id.
        auction: u64 => int,
        /// Bidder id.
        bidder: u64 => int,
        /// Price, cents.
        price: u64 => int,
        /// Bid time, epoch ms.
        date_time: u64 => int,
        /// The bid's extra.
        extra: S => str,
        /// UTC date of `dateTime`.
        dt: Date => str,
        /// UTC hour and minute of `dateTime`.
        hm: HourMinute => str,
    }
}

row! {
    /// q14 (calculation): `auction, bidder, price, bidTimeType, dateTime, extra, c_counts` for
    /// the bids with `1,000,000 < 0.908 * price < 50,000,000`; `price` is `price * 908` (the
    /// exact decimal at scale 3, as q1), `c_counts` the number of bytes `c` in `extra`.
    Q14Row<S> ["auction", "bidder", "price", "bidTimeType", "dateTime", "extra", "c_counts"] {
        /// Auction id.
        auction: u64 => int,
        /// Bidder id.
        bidder: u64 => int,
        /// `price * 908`: the exact decimal `price * 0.908` at scale 3.
        price: u64 => int,
        /// The part of the UTC day the bid was made in.
        bid_time_type: BidTimeType => str,
        /// Bid time, epoch ms.
        date_time: u64 => int,
        /// The bid's extra.
        extra: S => str,
        /// Bytes `c` in `extra`.
        c_counts: u64 => int,
    }
}

row! {
    /// q21 (add channel id): `auction, bidder, price, channel, channel_id` for the bids of a
    /// hot channel or whose URL carries a `channel_id` parameter. Never NULL: the query's
    /// filter drops exactly the bids whose `channel_id` would be NULL.
    Q21Row<S> ["auction", "bidder", "price", "channel", "channel_id"] {
        /// Auction id.
        auction: u64 => int,
        /// Bidder id.
        bidder: u64 => int,
        /// Price, cents.
        price: u64 => int,
        /// The bid's channel.
        channel: S => str,
        /// See [`crate::nexmark::channel_id`].
        channel_id: S => str,
    }
}

row! {
    /// q22 (get URL directories): `auction, bidder, price, channel, dir1, dir2, dir3`, the
    /// pieces 3, 4 and 5 of the URL split on `/`, NULL when it has fewer pieces.
    Q22Row<S> ["auction", "bidder", "price", "channel", "dir1", "dir2", "dir3"] {
        /// Auction id.
        auction: u64 => int,
        /// Bidder id.
        bidder: u64 => int,
        /// Price, cents.
        price: u64 => int,
        /// The bid's channel.
        channel: S => str,
        /// Piece 3 of the URL, or NULL.
        dir1: Option<S> => opt_str,
        /// Piece 4 of the URL, or NULL.
        dir2: Option<S> => opt_str,
        /// Piece 5 of the URL, or NULL.
        dir3: Option<S> => opt_str,
    }
}
