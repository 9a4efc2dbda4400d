//! References of the per-bid queries: q10, q13, q14, q21 and q22. Each bid gives at most one
//! row, computed from the bid alone (and q13's side table) with the contract's scalar
//! functions ([`crate::nexmark::functions`]).

use super::input::{bids, sorted};
use crate::inputs::SideInput;
use crate::nexmark::event::Event;
use crate::nexmark::functions::{
    BidTimeType, Date, HourMinute, channel_id, count_char, q14_keeps, url_dirs,
};
use crate::nexmark::rows::{Q10Row, Q13Row, Q14Row, Q21Row, Q22Row};

/// q10: every bid with its partition fields `dt` (UTC `yyyy-MM-dd`) and `hm` (UTC `HH:mm`).
/// These are the rows emitted; the files written are checked by
/// [`crate::inputs::read_partitions`].
pub fn q10(events: &[Event]) -> Vec<Q10Row<&str>> {
    sorted(
        bids(events)
            .map(|b| Q10Row {
                auction: b.auction,
                bidder: b.bidder,
                price: b.price,
                date_time: b.date_time,
                extra: b.extra.as_str(),
                dt: Date::of_epoch_ms(b.date_time),
                hm: HourMinute::of_epoch_ms(b.date_time),
            })
            .collect(),
    )
}

/// q13: every bid with the side table's value for the key `auction mod 10000` (every key is
/// in the table, so every bid has a row).
pub fn q13<'a>(events: &'a [Event], side: &'a SideInput) -> Vec<Q13Row<&'a str>> {
    sorted(
        bids(events)
            .map(|b| Q13Row {
                auction: b.auction,
                bidder: b.bidder,
                price: b.price,
                date_time: b.date_time,
                value: side.lookup(b.auction),
            })
            .collect(),
    )
}

/// q14: the bids with `1,000,000 < 0.908 * price < 50,000,000`, with the scaled price, the part
/// of the UTC day and the number of bytes `c` in `extra`.
pub fn q14(events: &[Event]) -> Vec<Q14Row<&str>> {
    sorted(
        bids(events)
            .filter(|b| q14_keeps(b.price))
            .map(|b| Q14Row {
                auction: b.auction,
                bidder: b.bidder,
                price: b.price * 908,
                bid_time_type: BidTimeType::of_epoch_ms(b.date_time),
                date_time: b.date_time,
                extra: b.extra.as_str(),
                c_counts: count_char(&b.extra, b'c'),
            })
            .collect(),
    )
}

/// q21: the bids of a hot channel or whose URL has a `channel_id` parameter, with that id.
pub fn q21(events: &[Event]) -> Vec<Q21Row<&str>> {
    sorted(
        bids(events)
            .filter_map(|b| {
                channel_id(b.channel.name(), b.url()).map(|id| Q21Row {
                    auction: b.auction,
                    bidder: b.bidder,
                    price: b.price,
                    channel: b.channel.name(),
                    channel_id: id,
                })
            })
            .collect(),
    )
}

/// q22: every bid with the pieces 3, 4 and 5 of its URL split on `/` (NULL when missing).
pub fn q22(events: &[Event]) -> Vec<Q22Row<&str>> {
    sorted(
        bids(events)
            .map(|b| {
                let [dir1, dir2, dir3] = url_dirs(b.url());
                Q22Row {
                    auction: b.auction,
                    bidder: b.bidder,
                    price: b.price,
                    channel: b.channel.name(),
                    dir1,
                    dir2,
                    dir3,
                }
            })
            .collect(),
    )
}
