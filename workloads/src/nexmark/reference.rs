//! Sequential references of the Nexmark queries: plain, obviously correct implementations over
//! a bounded event list (sorting and `BTreeMap`s, no engine), used by tests to check every
//! engine's digest. Each returns its rows sorted, as the final multiset at end of input
//! (the watermark then reaches +infinity, so every window has fired; an updating query's
//! table is final).
//!
//! Semantics follow docs/WORKLOADS.md (sections 8-9): windows are aligned
//! to epoch 0; BETWEEN is inclusive; AVG over BIGINT truncates; sessions that overlap or touch
//! merge; ties are broken by the bid's event id ([`super::Bid::event_id`]).
//!
//! This file has q0-q12; `reference/auctions.rs` has the queries that join bids with auctions
//! (q6, q9, q20), `reference/per_bid.rs` the per-bid ones (q10, q13, q14, q21, q22) and
//! `reference/reports.rs` the updating reports over bids (q15-q19).

use std::collections::{BTreeMap, BTreeSet};

use super::config::{Q5_SIZE_MS, Q5_SLIDE_MS, SESSION_GAP_MS, TUMBLE_MS};
use super::event::{Auction, Event, Person};
use super::rows::{Q0Row, Q1Row, Q2Row, Q3Row, Q4Row, Q5Row, Q7Row, Q8Row, Q11Row, Q12Row};
use input::{auctions, average, bids, persons, sorted, window_start};

mod auctions;
mod input;
mod per_bid;
mod reports;

pub use auctions::{q6, q9, q20};
pub use per_bid::{q10, q13, q14, q21, q22};
pub use reports::{SumOverflow, q15, q16, q17, q18, q19};

/// q0: every bid.
pub fn q0(events: &[Event]) -> Vec<Q0Row> {
    sorted(
        bids(events)
            .map(|b| Q0Row {
                auction: b.auction,
                bidder: b.bidder,
                price: b.price,
                date_time: b.date_time,
                extra: b.extra.as_str(),
            })
            .collect(),
    )
}

/// q1: every bid with `price * 0.908` (scale 3).
pub fn q1(events: &[Event]) -> Vec<Q1Row> {
    sorted(
        bids(events)
            .map(|b| Q1Row {
                auction: b.auction,
                bidder: b.bidder,
                price: b.price * 908,
                date_time: b.date_time,
                extra: b.extra.as_str(),
            })
            .collect(),
    )
}

/// q2: bids with `auction % 123 = 0`.
pub fn q2(events: &[Event]) -> Vec<Q2Row> {
    sorted(
        bids(events)
            .filter(|b| b.auction % 123 == 0)
            .map(|b| Q2Row {
                auction: b.auction,
                price: b.price,
            })
            .collect(),
    )
}

/// q3: auctions of category 10 joined with their sellers living in OR, ID or CA (a regular
/// join: arrival order does not matter).
pub fn q3(events: &[Event]) -> Vec<Q3Row> {
    let mut sellers: BTreeMap<u64, Vec<&Person>> = BTreeMap::new();
    for p in persons(events).filter(|p| matches!(p.state, "OR" | "ID" | "CA")) {
        sellers.entry(p.id).or_default().push(p);
    }
    let mut rows = Vec::new();
    for a in auctions(events).filter(|a| a.category == 10) {
        for p in sellers.get(&a.seller).into_iter().flatten() {
            rows.push(Q3Row {
                name: p.name,
                city: p.city,
                state: p.state,
                id: a.id,
            });
        }
    }
    sorted(rows)
}

/// q4: per category, the truncated average over its auctions of the highest bid made between
/// the auction's start and expiry (inclusive). Auctions without such a bid do not count.
pub fn q4(events: &[Event]) -> Vec<Q4Row> {
    let mut by_auction: BTreeMap<u64, Vec<&Auction>> = BTreeMap::new();
    for a in auctions(events) {
        by_auction.entry(a.id).or_default().push(a);
    }
    // MAX(price) per (auction id, category).
    let mut max_price: BTreeMap<(u64, u64), u64> = BTreeMap::new();
    for b in bids(events) {
        for a in by_auction.get(&b.auction).into_iter().flatten() {
            if a.date_time <= b.date_time && b.date_time <= a.expires {
                let m = max_price.entry((a.id, a.category)).or_insert(b.price);
                *m = (*m).max(b.price);
            }
        }
    }
    let mut per_category: BTreeMap<u64, (i128, usize)> = BTreeMap::new();
    for ((_, category), price) in max_price {
        let e = per_category.entry(category).or_default();
        e.0 += i128::from(price);
        e.1 += 1;
    }
    sorted(
        per_category
            .into_iter()
            .map(|(category, (sum, count))| Q4Row {
                category,
                avg: average(sum, count),
            })
            .collect(),
    )
}

/// q5: per hopping window (10 s, slide 2 s), the auctions with the most bids (all tied
/// leaders), as `(auction, num)`.
pub fn q5(events: &[Event]) -> Vec<Q5Row> {
    let mut counts: BTreeMap<u64, BTreeMap<u64, u64>> = BTreeMap::new();
    for b in bids(events) {
        // Windows [s, s + 10 s) with s a multiple of 2 s and s <= t < s + 10 s.
        let last = window_start(b.date_time, Q5_SLIDE_MS);
        let mut s = last;
        loop {
            if s + Q5_SIZE_MS <= b.date_time {
                break;
            }
            *counts.entry(s).or_default().entry(b.auction).or_default() += 1;
            if s < Q5_SLIDE_MS {
                break;
            }
            s -= Q5_SLIDE_MS;
        }
    }
    let mut rows = Vec::new();
    for per_auction in counts.values() {
        let max = per_auction.values().copied().max().unwrap_or(0);
        rows.extend(
            per_auction
                .iter()
                .filter(|(_, n)| **n >= max)
                .map(|(&auction, &num)| Q5Row { auction, num }),
        );
    }
    sorted(rows)
}

/// q7: per 10 s tumbling window with maximum price `m` and end `e`, every bid with price `m`
/// and `e - 10 s <= dateTime <= e` (both bounds inclusive, as the SQL's BETWEEN).
pub fn q7(events: &[Event]) -> Vec<Q7Row> {
    let mut max_price: BTreeMap<u64, u64> = BTreeMap::new();
    for b in bids(events) {
        let m = max_price
            .entry(window_start(b.date_time, TUMBLE_MS))
            .or_insert(b.price);
        *m = (*m).max(b.price);
    }
    let mut rows = Vec::new();
    for b in bids(events) {
        // The windows whose [end - 10 s, end] contains the bid: its own, and the previous one
        // when the bid lies exactly on that window's end.
        let own = window_start(b.date_time, TUMBLE_MS);
        let mut starts = vec![own];
        if b.date_time == own && own >= TUMBLE_MS {
            starts.push(own - TUMBLE_MS);
        }
        for s in starts {
            if max_price.get(&s) == Some(&b.price) {
                rows.push(Q7Row {
                    auction: b.auction,
                    price: b.price,
                    bidder: b.bidder,
                    date_time: b.date_time,
                    extra: b.extra.as_str(),
                });
            }
        }
    }
    sorted(rows)
}

/// q8: persons who created an auction in the same 10 s tumbling window they joined in, as
/// `(id, name, starttime)`, one row per (person id, name, window).
pub fn q8(events: &[Event]) -> Vec<Q8Row> {
    let people: BTreeSet<(u64, &'static str, u64)> = persons(events)
        .map(|p| (p.id, p.name, window_start(p.date_time, TUMBLE_MS)))
        .collect();
    let sellers: BTreeSet<(u64, u64)> = auctions(events)
        .map(|a| (a.seller, window_start(a.date_time, TUMBLE_MS)))
        .collect();
    sorted(
        people
            .into_iter()
            .filter(|(id, _, w)| sellers.contains(&(*id, *w)))
            .map(|(id, name, starttime)| Q8Row {
                id,
                name,
                starttime,
            })
            .collect(),
    )
}

/// q11: per bidder, session windows with a 10 s gap; windows that overlap or touch merge.
pub fn q11(events: &[Event]) -> Vec<Q11Row> {
    let mut times: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for b in bids(events) {
        times.entry(b.bidder).or_default().push(b.date_time);
    }
    let mut rows = Vec::new();
    for (bidder, mut ts) in times {
        ts.sort_unstable();
        let mut start = ts[0];
        let mut last = ts[0];
        let mut count = 0;
        for t in ts {
            // [last, last + gap) and [t, t + gap) intersect or touch iff t <= last + gap.
            if t > last + SESSION_GAP_MS {
                rows.push(Q11Row {
                    bidder,
                    bid_count: count,
                    starttime: start,
                    endtime: last + SESSION_GAP_MS,
                });
                start = t;
                count = 0;
            }
            last = t;
            count += 1;
        }
        rows.push(Q11Row {
            bidder,
            bid_count: count,
            starttime: start,
            endtime: last + SESSION_GAP_MS,
        });
    }
    sorted(rows)
}

/// Checks q12's output (processing-time windows cannot be compared exactly): per bidder the
/// counts add up to the bidder's bids, every window is `[k * 10 s, (k + 1) * 10 s)`, no count
/// is 0, and each (bidder, window) appears once.
///
/// # Errors
/// A description of the first violated invariant.
pub fn q12_check(rows: &[Q12Row], events: &[Event]) -> Result<(), String> {
    let mut expected: BTreeMap<u64, u64> = BTreeMap::new();
    for b in bids(events) {
        *expected.entry(b.bidder).or_default() += 1;
    }
    let mut got: BTreeMap<u64, u64> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for r in rows {
        if r.starttime % TUMBLE_MS != 0 || r.endtime != r.starttime + TUMBLE_MS {
            return Err(format!(
                "bidder {}: window [{}, {}) is not a 10 s tumbling window",
                r.bidder, r.starttime, r.endtime
            ));
        }
        if r.bid_count == 0 {
            return Err(format!(
                "bidder {}: an empty window at {}",
                r.bidder, r.starttime
            ));
        }
        if !seen.insert((r.bidder, r.starttime)) {
            return Err(format!(
                "bidder {}: window at {} appears twice",
                r.bidder, r.starttime
            ));
        }
        *got.entry(r.bidder).or_default() += r.bid_count;
    }
    if got != expected {
        let bidder = expected
            .keys()
            .chain(got.keys())
            .find(|k| expected.get(k) != got.get(k))
            .copied()
            .unwrap_or_default();
        return Err(format!(
            "bidder {bidder}: {} bids counted, {} bids in the input",
            got.get(&bidder).copied().unwrap_or(0),
            expected.get(&bidder).copied().unwrap_or(0)
        ));
    }
    Ok(())
}
