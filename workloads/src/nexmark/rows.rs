//! Result rows of the Nexmark queries, one type per query, columns in SELECT order with the
//! suite's aliases (docs/WORKLOADS.md, section 9). Every engine produces these types, so the
//! digest and `--output` JSON lines are the same everywhere. Timestamps are epoch ms; q1's
//! and q14's price is the exact decimal `price * 0.908` as an integer at scale 3 (`price *
//! 908`); calendar columns are the UTC text of [`super::functions`]; a NULL-able column is an
//! `Option` (q22's directories).
//!
//! This file has the macro and the rows of q0-q12; `rows/joins.rs` (q6, q9, q13, q20),
//! `rows/stateless.rs` (q10, q14, q21, q22) and `rows/reports.rs` (q15-q19) the others.

use crate::digest::{ColumnSink, ResultRow};

/// Declares a row type. A row with text columns is generic over the text type `S`
/// (`&'static str` by default: the generator's strings live in static pools, so weir's rows
/// borrow them; the peer engines, whose records cross processes serialized, use `String`).
macro_rules! row {
    (
        $(#[$m:meta])* $name:ident [$($col:literal),+] {
            $($(#[$fm:meta])* $field:ident : $ty:ty => $kind:ident),+ $(,)?
        }
    ) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name {
            $($(#[$fm])* pub $field: $ty),+
        }

        impl ResultRow for $name {
            const COLUMNS: &'static [&'static str] = &[$($col),+];

            #[inline]
            fn write_columns(&self, sink: &mut impl ColumnSink) {
                $(row!(@col sink, self.$field, $kind);)+
            }
        }
    };
    (
        $(#[$m:meta])* $name:ident<S> [$($col:literal),+] {
            $($(#[$fm:meta])* $field:ident : $ty:ty => $kind:ident),+ $(,)?
        }
    ) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name<S = &'static str> {
            $($(#[$fm])* pub $field: $ty),+
        }

        impl<S: AsRef<str>> ResultRow for $name<S> {
            const COLUMNS: &'static [&'static str] = &[$($col),+];

            #[inline]
            fn write_columns(&self, sink: &mut impl ColumnSink) {
                $(row!(@col sink, self.$field, $kind);)+
            }
        }
    };
    (@col $sink:ident, $v:expr, int) => { $sink.int($v as i64) };
    (@col $sink:ident, $v:expr, str) => { $sink.str($v.as_ref()) };
    (@col $sink:ident, $v:expr, opt_str) => {
        match &$v {
            Some(s) => $sink.str(s.as_ref()),
            None => $sink.null(),
        }
    };
    // A group of columns written by the field's own `write_columns`.
    (@col $sink:ident, $v:expr, columns) => { $v.write_columns($sink) };
}

mod joins;
mod reports;
mod stateless;

pub use joins::{Q6Row, Q9Row, Q13Row, Q20Row};
pub use reports::{BandCounts, BidStats, Q15Row, Q16Row, Q17Row, Q18Row, Q19Row};
pub use stateless::{Q10Row, Q14Row, Q21Row, Q22Row};

row! {
    /// q0 (pass-through): `auction, bidder, price, dateTime, extra`.
    Q0Row<S> ["auction", "bidder", "price", "dateTime", "extra"] {
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
    }
}

row! {
    /// q1 (currency conversion): `auction, bidder, price, dateTime, extra` with `price` =
    /// `price * 0.908` exactly, as an integer at scale 3 (`price * 908`).
    Q1Row<S> ["auction", "bidder", "price", "dateTime", "extra"] {
        /// Auction id.
        auction: u64 => int,
        /// Bidder id.
        bidder: u64 => int,
        /// `price * 908`: the exact decimal `price * 0.908` at scale 3.
        price: u64 => int,
        /// Bid time, epoch ms.
        date_time: u64 => int,
        /// The bid's extra.
        extra: S => str,
    }
}

row! {
    /// q2 (selection, `auction % 123 = 0`): `auction, price`.
    Q2Row ["auction", "price"] {
        /// Auction id.
        auction: u64 => int,
        /// Price, cents.
        price: u64 => int,
    }
}

row! {
    /// q3 (local item suggestion): `name, city, state, id` (the auction's id).
    Q3Row<S> ["name", "city", "state", "id"] {
        /// Seller's name.
        name: S => str,
        /// Seller's city.
        city: S => str,
        /// Seller's state.
        state: S => str,
        /// Auction id.
        id: u64 => int,
    }
}

row! {
    /// q4 (average winning price per category): `category, avg` (BIGINT average, truncated).
    Q4Row ["category", "avg"] {
        /// Category.
        category: u64 => int,
        /// `sum div count` of the per-auction maximum prices.
        avg: i64 => int,
    }
}

row! {
    /// q5 (hot items): `auction, num`, one row per leading auction per hopping window.
    Q5Row ["auction", "num"] {
        /// Auction id.
        auction: u64 => int,
        /// Bids on it in the window.
        num: u64 => int,
    }
}

row! {
    /// q7 (highest bid): `auction, price, bidder, dateTime, extra` (SELECT order).
    Q7Row<S> ["auction", "price", "bidder", "dateTime", "extra"] {
        /// Auction id.
        auction: u64 => int,
        /// Price, cents.
        price: u64 => int,
        /// Bidder id.
        bidder: u64 => int,
        /// Bid time, epoch ms.
        date_time: u64 => int,
        /// The bid's extra.
        extra: S => str,
    }
}

row! {
    /// q8 (monitor new users): `id, name, starttime`.
    Q8Row<S> ["id", "name", "starttime"] {
        /// Person id.
        id: u64 => int,
        /// Person name.
        name: S => str,
        /// Window start, epoch ms.
        starttime: u64 => int,
    }
}

row! {
    /// q11 (user sessions): `bidder, bid_count, starttime, endtime`.
    Q11Row ["bidder", "bid_count", "starttime", "endtime"] {
        /// Bidder id.
        bidder: u64 => int,
        /// Bids in the session.
        bid_count: u64 => int,
        /// First bid's time, epoch ms.
        starttime: u64 => int,
        /// Last bid's time + 10 s, epoch ms.
        endtime: u64 => int,
    }
}

row! {
    /// q12 (processing-time windows): `bidder, bid_count, starttime, endtime`.
    Q12Row ["bidder", "bid_count", "starttime", "endtime"] {
        /// Bidder id.
        bidder: u64 => int,
        /// Bids in the window.
        bid_count: u64 => int,
        /// Window start (processing time), epoch ms.
        starttime: u64 => int,
        /// Window end (processing time), epoch ms.
        endtime: u64 => int,
    }
}
