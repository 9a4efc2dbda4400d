//! The rows of the per-bid queries q10, q13, q14, q21 and q22 as the peer engines build them
//! (timely and differential call the same functions, which call the contract's scalar
//! functions in [`crate::nexmark::functions`]), and q13's side table made `'static` for the
//! length of the process.
//!
//! Every row here borrows its text from the bid (`&'static str`: the generator's pools, or an
//! `--input` file kept for the life of the process) or from the side table, so a per-bid
//! query allocates nothing per bid: these rows stay on the worker that read the bid (no
//! exchange), so they never need to be serializable.

use std::path::Path;
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::inputs::SideInput;
use crate::job::{Result, RunError};
use crate::nexmark::{
    Bid, BidTimeType, Date, HourMinute, Q10Row, Q13Row, Q14Row, Q21Row, Q22Row, channel_id,
    count_char, q14_keeps, url_dirs,
};

/// q10's row of `b`: the bid's five columns and its UTC partition `dt`, `hm`.
#[inline]
pub(crate) fn q10_row(b: &Bid) -> Q10Row {
    Q10Row {
        auction: b.auction,
        bidder: b.bidder,
        price: b.price,
        date_time: b.date_time,
        extra: b.extra.as_str(),
        dt: Date::of_epoch_ms(b.date_time),
        hm: HourMinute::of_epoch_ms(b.date_time),
    }
}

/// q13's row of `b`: joined with the side table's value for `auction mod 10000`.
#[inline]
pub(crate) fn q13_row(b: &Bid, side: &'static SideInput) -> Q13Row {
    Q13Row {
        auction: b.auction,
        bidder: b.bidder,
        price: b.price,
        date_time: b.date_time,
        value: side.lookup(b.auction),
    }
}

/// q14's row of `b`, if its price is in q14's range.
#[inline]
pub(crate) fn q14_row(b: &Bid) -> Option<Q14Row> {
    q14_keeps(b.price).then(|| Q14Row {
        auction: b.auction,
        bidder: b.bidder,
        price: b.price * 908,
        bid_time_type: BidTimeType::of_epoch_ms(b.date_time),
        date_time: b.date_time,
        extra: b.extra.as_str(),
        c_counts: count_char(b.extra.as_str(), b'c'),
    })
}

/// q21's row of `b`, if it has a channel id.
#[inline]
pub(crate) fn q21_row(b: &Bid) -> Option<Q21Row> {
    let channel = b.channel.name();
    channel_id(channel, b.url()).map(|id| Q21Row {
        auction: b.auction,
        bidder: b.bidder,
        price: b.price,
        channel,
        channel_id: id,
    })
}

/// q22's row of `b`: its URL's directories 1 to 3.
#[inline]
pub(crate) fn q22_row(b: &Bid) -> Q22Row {
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
}

/// q13's side table for a run: the built-in one, or the table of `path` (`--side-input`), read
/// before the job starts and kept for the life of the process, so that q13's rows borrow its
/// values. A table equal to one loaded before is shared, so a process that runs q13 many times
/// keeps each distinct table once.
///
/// # Errors
/// A [`RunError::Config`] naming the file and the line at fault.
pub(crate) fn side_input(path: Option<&Path>) -> Result<&'static SideInput> {
    static BUILTIN: OnceLock<SideInput> = OnceLock::new();
    static LOADED: Mutex<Vec<&'static SideInput>> = Mutex::new(Vec::new());
    let Some(path) = path else {
        return Ok(BUILTIN.get_or_init(SideInput::builtin));
    };
    let table = SideInput::load(path).map_err(|e| RunError::Config(format!("--side-input {e}")))?;
    let mut loaded = LOADED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(kept) = loaded.iter().find(|kept| ***kept == table) {
        return Ok(kept);
    }
    let kept: &'static SideInput = Box::leak(Box::new(table));
    loaded.push(kept);
    Ok(kept)
}
