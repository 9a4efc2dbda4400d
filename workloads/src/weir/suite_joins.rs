//! The lookup-join, regular-join, string-function and file-sink queries of the Nexmark suite
//! as weir dataflows (docs/WORKLOADS.md, section 9): q10, q13, q14, q20, q21, q22.
//!
//! Shapes (`|` = fused, `=>` = exchange):
//! - q10: bids | map to the row with its `dt`, `hm` | `write_partitioned` (each worker writes
//!   its own file per minute partition `dt=<dt>/hm=<HH:mm>`, committed with `_SUCCESS` once
//!   every worker's frontier passed the minute) | sink. The rows written pass on to the digest.
//! - q13: bids | `lookup_join` with the side table (loaded before the job starts, shared by
//!   every worker: no exchange) | sink.
//! - q14, q21, q22: bids | filter / map with the suite's string and calendar functions
//!   (`nexmark::functions`), borrowing the generator's static strings: no allocation per bid.
//! - q20: auctions and bids => `regular_join` on `auction.id = bid.auction`. Auction ids are
//!   unique, so a bid waits in state only until its auction arrives and is never stored after;
//!   every auction enters the join (those of another category as a bare marker), so the bids of
//!   auctions that are not of category 10 are freed too. The join's residual condition keeps
//!   category 10.
//!
//! Every query reads a sampled source: a row made by a sampled bid carries its ingestion time
//! to the sink (q20: when the bid's arrival made the row, as q3).

use std::path::PathBuf;
use std::sync::Arc;

use weir_engine::file_sink::PartitionedFileSink;
use weir_engine::joins::{LookupTable, RegularJoinSpec};
use weir_engine::{Route, Stream, Timestamp, Worker};

use super::shared::Shared;
use super::source::Stamped;
use crate::catalog::Query;
use crate::digest::{ColumnSink, ResultRow};
use crate::inputs::{SIDE_INPUT_KEYS, SideInput, partition_dir};
use crate::job::{Result, RunError, RunSpec};
use crate::nexmark::format::write_csv_field;
use crate::nexmark::{
    Auction, Bid, BidTimeType, Date, Event, HourMinute, Q10Row, Q13Row, Q14Row, Q20Row, Q21Row,
    Q22Row, channel_id, count_char, q14_keeps, url_dirs,
};

/// Milliseconds per minute: q10's partitions.
const MINUTE_MS: u64 = 60_000;

/// q13's side table as the lookup join's table (`auction mod 10000` -> value).
pub(crate) fn side_table(side: &'static SideInput) -> Arc<LookupTable<u64, &'static str>> {
    Arc::new((0..SIDE_INPUT_KEYS).map(|k| (k, side.lookup(k))).collect())
}

/// q10: every bid with its partition columns, written to the partitioned files.
pub(crate) fn q10(
    bids: Stream<Stamped<Bid>>,
    files: &PartitionedFileSink,
) -> Stream<Stamped<Q10Row>> {
    let mut digits = itoa::Buffer::new();
    bids.map(|s| {
        s.map(|b| Q10Row {
            auction: b.auction,
            bidder: b.bidder,
            price: b.price,
            date_time: b.date_time,
            extra: b.extra.as_str(),
            dt: Date::of_epoch_ms(b.date_time),
            hm: HourMinute::of_epoch_ms(b.date_time),
        })
    })
    .write_partitioned(
        files,
        |s| {
            let minute = s.value.date_time / MINUTE_MS;
            (minute, ((minute + 1) * MINUTE_MS) as Timestamp)
        },
        |minute| {
            let start = minute * MINUTE_MS;
            partition_dir(Date::of_epoch_ms(start), HourMinute::of_epoch_ms(start))
        },
        move |s, line| {
            let r = &s.value;
            for v in [r.auction, r.bidder, r.price, r.date_time] {
                line.push_str(digits.format(v));
                line.push(',');
            }
            write_csv_field(line, r.extra);
            line.push('\n');
        },
    )
}

/// q13: every bid with the side table's value of `auction mod 10000`.
pub(crate) fn q13(
    bids: Stream<Stamped<Bid>>,
    table: Arc<LookupTable<u64, &'static str>>,
) -> Stream<Stamped<Q13Row>> {
    bids.lookup_join(
        table,
        |s| s.value.auction % SIDE_INPUT_KEYS,
        |s, value| {
            s.map(|b| Q13Row {
                auction: b.auction,
                bidder: b.bidder,
                price: b.price,
                date_time: b.date_time,
                value: *value,
            })
        },
    )
}

/// q14: the bids of the price band, with the scaled price, the part of the day and the `c`s
/// of `extra`.
pub(crate) fn q14(bids: Stream<Stamped<Bid>>) -> Stream<Stamped<Q14Row>> {
    bids.filter(|s| q14_keeps(s.value.price)).map(|s| {
        s.map(|b| {
            let extra = b.extra.as_str();
            Q14Row {
                auction: b.auction,
                bidder: b.bidder,
                price: b.price * 908,
                bid_time_type: BidTimeType::of_epoch_ms(b.date_time),
                date_time: b.date_time,
                extra,
                c_counts: count_char(extra, b'c'),
            }
        })
    })
}

/// q21: the bids with a channel id (hot channel, or a `channel_id` URL parameter).
pub(crate) fn q21(bids: Stream<Stamped<Bid>>) -> Stream<Stamped<Q21Row>> {
    bids.flat_map(|s| {
        let b = s.value;
        let channel = b.channel.name();
        channel_id(channel, b.url()).map(|id| {
            s.map(|b| Q21Row {
                auction: b.auction,
                bidder: b.bidder,
                price: b.price,
                channel,
                channel_id: id,
            })
        })
    })
}

/// q22: every bid with the pieces 3 to 5 of its URL.
pub(crate) fn q22(bids: Stream<Stamped<Bid>>) -> Stream<Stamped<Q22Row>> {
    bids.map(|s| {
        s.map(|b| {
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
    })
}

/// A q20 result: the bid and its auction, kept whole until the sink reads the row from them
/// (the auction's item name and description are inline strings of the auction).
#[derive(Clone, Copy, Debug)]
pub(crate) struct BidWithAuction {
    bid: Bid,
    auction: Auction,
}

impl BidWithAuction {
    fn row(&self) -> Q20Row<&str> {
        let (b, a) = (&self.bid, &self.auction);
        Q20Row {
            auction: b.auction,
            bidder: b.bidder,
            price: b.price,
            channel: b.channel.name(),
            url: b.url(),
            date_time: b.date_time,
            extra: b.extra.as_str(),
            item_name: a.item_name.as_str(),
            description: a.description.as_str(),
            initial_bid: a.initial_bid,
            reserve: a.reserve,
            a_date_time: a.date_time,
            expires: a.expires,
            seller: a.seller,
            category: a.category,
            a_extra: a.extra.as_str(),
        }
    }
}

impl ResultRow for BidWithAuction {
    const COLUMNS: &'static [&'static str] = <Q20Row as ResultRow>::COLUMNS;

    fn write_columns(&self, sink: &mut impl ColumnSink) {
        self.row().write_columns(sink);
    }
}

/// q20: the bids of category-10 auctions, each with its auction.
pub(crate) fn q20(events: Stream<Stamped<Event>>) -> Stream<Stamped<BidWithAuction>> {
    let (auctions, bids) = events.partition(|s| match s.value {
        // Only category-10 auctions are kept whole (boxed: the join keeps every auction id,
        // most with nothing beside it).
        Event::Auction(a) => Some(Route::Left((a.id, (a.category == 10).then(|| Box::new(a))))),
        Event::Bid(b) => Some(Route::Right(s.map(|_| b))),
        Event::Person(_) => None,
    });
    auctions.regular_join(
        bids,
        // Auction ids are unique (the generator's and the `--input` reader's rule).
        RegularJoinSpec::new().unique_left_keys(),
        |a| a.0,
        |b| b.value.auction,
        |_, (_, auction), bid| {
            auction.as_deref().map(|&auction| Stamped {
                value: BidWithAuction {
                    bid: bid.value,
                    auction,
                },
                // The bid's sample when its arrival made the row.
                ingest: bid
                    .ingest
                    .filter(|_| bid.value.date_time >= auction.date_time),
            })
        },
    )
}

/// Builds one of this file's queries (q10, q13, q14, q20, q21, q22) on `worker`.
pub(crate) fn build(query: Query, worker: &mut Worker, shared: &Shared) {
    let sink = shared.sink(worker.index());
    let latency = worker.latency();
    match query {
        Query::Q10 => {
            let files = shared
                .file_sink
                .as_ref()
                .expect("the weir driver creates q10's file sink before the job");
            sink.attach_sampled(q10(shared.sampled_bids(worker), files), latency);
        }
        Query::Q13 => {
            let table = shared
                .side_table
                .clone()
                .expect("the weir driver loads q13's side table before the job");
            sink.attach_sampled(q13(shared.sampled_bids(worker), table), latency);
        }
        Query::Q14 => sink.attach_sampled(q14(shared.sampled_bids(worker)), latency),
        Query::Q20 => {
            let events = shared.sampled_events(worker, query.def().reads.kinds());
            sink.attach_sampled(q20(events), latency);
        }
        Query::Q21 => sink.attach_sampled(q21(shared.sampled_bids(worker)), latency),
        Query::Q22 => sink.attach_sampled(q22(shared.sampled_bids(worker)), latency),
        other => unreachable!("suite_joins builds q10, q13, q14, q20, q21 and q22, not {other}"),
    }
}

/// What q10 and q13 need from outside the job, prepared before it starts (so a bad side-input
/// file or an unwritable sink directory fails the run before anything runs).
#[derive(Debug, Default)]
pub(crate) struct QueryFiles {
    /// q13's side table.
    pub(crate) side_table: Option<Arc<LookupTable<u64, &'static str>>>,
    /// q10's file sink.
    pub(crate) file_sink: Option<PartitionedFileSink>,
    /// q10's directory when the spec named none: a fresh one, removed after the run.
    temporary: Option<PathBuf>,
}

impl QueryFiles {
    /// Loads q13's side table (`--side-input`, else the built-in one) and checks q10's sink
    /// directory (`--sink-dir`, else a fresh directory under the system's temporary directory).
    pub(crate) fn prepare(spec: &RunSpec) -> Result<Self> {
        let mut files = Self::default();
        match spec.query {
            Query::Q13 => {
                let side = match &spec.side_input {
                    Some(path) => SideInput::load(path)
                        .map_err(|e| RunError::Config(format!("--side-input {e}")))?,
                    None => SideInput::builtin(),
                };
                // The rows borrow the table's values: it lives as long as the process (10,000
                // short strings, once per run).
                files.side_table = Some(side_table(Box::leak(Box::new(side))));
            }
            Query::Q10 => {
                let dir = if let Some(dir) = &spec.sink_dir {
                    dir.clone()
                } else {
                    let dir = fresh_sink_dir();
                    files.temporary = Some(dir.clone());
                    dir
                };
                let sink = PartitionedFileSink::create(&dir)
                    .map_err(|e| RunError::Config(format!("--sink-dir {e}")))?;
                files.file_sink = Some(sink);
            }
            _ => {}
        }
        Ok(files)
    }

    /// After the job: the file sink's first error, if any; removes a temporary directory.
    pub(crate) fn finish(&self) -> Result<()> {
        let result = match &self.file_sink {
            Some(sink) => sink.finish().map(drop).map_err(|e| {
                RunError::Failed(format!(
                    "q10's partitioned files under {}: {e}",
                    sink.dir().display()
                ))
            }),
            None => Ok(()),
        };
        if let Some(dir) = &self.temporary {
            // Best effort: a leftover temporary directory is harmless.
            let _ = std::fs::remove_dir_all(dir);
        }
        result
    }
}

/// A new directory path under the system's temporary directory for q10's files: the process
/// id and the clock make it unique (`weir run` prints it in the summary).
pub fn fresh_sink_dir() -> PathBuf {
    crate::job::fresh_temp_dir("weir-q10")
}
