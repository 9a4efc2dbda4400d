//! The tie input: generated events made to tie where the contract breaks ties by the bid's
//! event id (docs/WORKLOADS.md, section 8), so the engines' tie-breaks are exercised.
//!
//! [`tied`] maps one generated event: its `dateTime` is floored to the second
//! ([`TIE_TIME_MS`]) and a bid's price becomes one of [`TIE_PRICES`] values. At 1,000 events/s
//! of event time the hot auctions then get many bids of equal price in the same second (q9's
//! winner, q19's top 10), and hot bidders several bids on one auction in one second (q18's
//! last bid). The mapping keeps what the timeline promises: flooring is monotone, so
//! timestamps stay non-decreasing in id order, a bid is never before its auction, and an
//! auction still expires after it starts. Event ids are unchanged (the position on the
//! timeline), so a file of tied events (`weir gen nexmark --ties`) read back with `--input`
//! gives the same events.
//!
//! A base module of `nexmark`: it imports only the event types.

use super::event::{Bid, Event};

/// Every tied event's `dateTime` is a multiple of this many milliseconds.
pub const TIE_TIME_MS: u64 = 1_000;

/// The distinct bid prices of the tie input: `100, 200, .., 100 * TIE_PRICES` cents.
pub const TIE_PRICES: u64 = 4;

/// `event` with its time floored to [`TIE_TIME_MS`] and, for a bid, its price mapped to one
/// of [`TIE_PRICES`] values.
pub fn tied(event: &Event) -> Event {
    let floor = |t: u64| t - t % TIE_TIME_MS;
    match event {
        Event::Person(p) => {
            let mut p = *p;
            p.date_time = floor(p.date_time);
            Event::Person(p)
        }
        Event::Auction(a) => {
            let mut a = *a;
            a.date_time = floor(a.date_time);
            Event::Auction(a)
        }
        Event::Bid(b) => Event::Bid(Bid {
            price: 100 * (1 + b.price % TIE_PRICES),
            date_time: floor(b.date_time),
            ..*b
        }),
    }
}
