//! Result rows of the peer-engine queries, one struct per query, in SELECT order.
//!
//! Each implements [`ResultRow`] with the column names of WORKLOADS.md ("Result columns"), so the
//! digest and the `--output` JSON lines are the same as every other engine's. They derive `Ord`
//! so differential can arrange them; they are built by the last operator and never exchanged.

use crate::digest::{ColumnSink, ResultRow};

macro_rules! result_row {
    ($(#[$m:meta])* $name:ident { $($field:ident : $ty:tt = $col:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) struct $name {
            $(pub(crate) $field: result_row!(@ty $ty)),+
        }

        impl ResultRow for $name {
            const COLUMNS: &'static [&'static str] = &[$($col),+];

            fn write_columns(&self, sink: &mut impl ColumnSink) {
                $(result_row!(@put sink, self.$field, $ty);)+
            }
        }
    };
    (@ty int) => { i64 };
    (@ty str) => { String };
    (@ty sstr) => { &'static str };
    (@put $sink:ident, $v:expr, int) => { $sink.int($v) };
    (@put $sink:ident, $v:expr, str) => { $sink.str(&$v) };
    (@put $sink:ident, $v:expr, sstr) => { $sink.str($v) };
}

result_row!(
    /// q0 (and q1 with `price` = price * 908 at scale 3).
    BidRow { auction: int = "auction", bidder: int = "bidder", price: int = "price", date_time: int = "dateTime", extra: sstr = "extra" }
);
result_row!(
    /// q2.
    Q2Row { auction: int = "auction", price: int = "price" }
);
result_row!(
    /// q3.
    Q3Row { name: str = "name", city: str = "city", state: str = "state", id: int = "id" }
);
result_row!(
    /// q4.
    Q4Row { category: int = "category", avg: int = "avg" }
);
result_row!(
    /// q5.
    Q5Row { auction: int = "auction", num: int = "num" }
);
result_row!(
    /// q7 (SELECT order: price before bidder).
    Q7Row { auction: int = "auction", price: int = "price", bidder: int = "bidder", date_time: int = "dateTime", extra: str = "extra" }
);
result_row!(
    /// q8.
    Q8Row { id: int = "id", name: str = "name", starttime: int = "starttime" }
);
result_row!(
    /// q11 and q12.
    SessionRow { bidder: int = "bidder", bid_count: int = "bid_count", starttime: int = "starttime", endtime: int = "endtime" }
);
