//! Nexmark q0-q5, q7, q8, q11, q12 and YSB as differential dataflow programs.
//!
//! Windows are data: a record assigned to the window ending at `e` becomes an update of
//! `(key, e)` *at time `e`* (differential allows an update's time to be later than its
//! message's; that is what its own `delay` does). Each window's aggregate therefore changes
//! when the frontier passes `e`, and is final then.
//!
//! Window state is bounded: the same record is retracted at `e + 1` (a temporal filter: the
//! record is live for the instant `[e, e + 1)`), so once the frontier passes `e + 1` every
//! arrangement holding it compacts it away. The aggregates retract their results at `e + 1`
//! too; [`final_at_window_end`] keeps only the updates at `e` (the window's final result) and
//! drops those expiry retractions before the sink. q4 and q11 are genuinely updating (a maximum
//! and sessions that grow and merge); their changelogs are folded by the digest sink.

use std::time::{SystemTime, UNIX_EPOCH};

use differential_dataflow::trace::implementations::{ValBuilder, ValSpine};
use differential_dataflow::{AsCollection, VecCollection};
use timely::dataflow::StreamVec;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::vec::Map;

use crate::catalog::Query;
use crate::nexmark::{
    Q0Row, Q1Row, Q2Row, Q3Row, Q4Row, Q5_SIZE_MS, Q5_SLIDE_MS, Q5Row, Q7Row, Q8Row, Q11Row,
    Q12Row, SESSION_GAP_MS, TUMBLE_MS,
};
use crate::timely::events::{self, Events, NexmarkEvent};
use crate::timely::harness::{Ctx, ResultSlot, sampled_sink, update_sink};
use crate::timely::windows::tumble_end;

/// Builds `query` if it is one of this module's; otherwise hands the events back for the next
/// module to try.
pub(crate) fn build<'s, E: NexmarkEvent>(
    query: Query,
    events: Events<'s, E>,
    ctx: &Ctx,
    slot: &ResultSlot,
) -> Result<(), Events<'s, E>> {
    match query {
        Query::Q0 => q0(events, ctx, slot),
        Query::Q1 => q1(events, ctx, slot),
        Query::Q2 => q2(events, ctx, slot),
        Query::Q3 => q3(events, ctx, slot),
        Query::Q4 => q4(events, ctx, slot),
        Query::Q5 => q5(events, ctx, slot),
        Query::Q7 => q7(events, ctx, slot),
        Query::Q8 => q8(events, ctx, slot),
        Query::Q11 => q11(events, ctx, slot),
        Query::Q12 => q12(events, ctx, slot),
        _ => return Err(events),
    }
    Ok(())
}

/// A row update that carries the ingestion stamp of a latency-sampled input record (or 0).
pub(crate) fn stamped<R>(u: &((R, u64), u64, isize)) -> (&R, i64) {
    (&u.0.0, u.2 as i64)
}

pub(crate) fn stamp_of<R>(u: &((R, u64), u64, isize)) -> u64 {
    u.0.1
}

/// Pushes `data` as live in the window ending at `end`: inserted at `end`, retracted at
/// `end + 1` (see the module docs).
fn in_window<D: Clone>(out: &mut Vec<(D, u64, isize)>, data: D, end: u64) {
    out.push((data.clone(), end, 1));
    out.push((data, end + 1, -1));
}

/// The final result of each window: the updates at the window's end `e`, without the
/// retractions at `e + 1` that expire the window's state. Every update of a `(e, row)` result
/// is at `e` or `e + 1`, because every input of the window ending at `e` is.
pub(crate) fn final_at_window_end<R: 'static>(
    results: VecCollection<'_, u64, (u64, R)>,
) -> StreamVec<'_, u64, (R, u64, isize)> {
    results.inner.flat_map(|((end, row), time, diff)| {
        debug_assert!(time == end || (time == end + 1 && diff < 0));
        (time == end).then_some((row, time, diff))
    })
}

/// Turns a worker's events into a collection: `logic` pushes `(data, time)` pairs for each
/// event at time `t`, with `time >= t` (a window's end, or `t` itself).
pub(crate) fn collect<'s, E: 'static, D: Clone + 'static>(
    events: Events<'s, E>,
    name: &str,
    mut logic: impl FnMut(E, u64, &mut Vec<(D, u64, isize)>) + 'static,
) -> VecCollection<'s, u64, D> {
    events
        .unary(Pipeline, name, move |_cap, _info| {
            let mut buffer = Vec::new();
            move |input, output| {
                input.for_each(|cap, data| {
                    let t = *cap.least().expect("data has a time");
                    for e in data.drain(..) {
                        logic(e, t, &mut buffer);
                    }
                    output.session(&cap).give_iterator(buffer.drain(..));
                });
            }
        })
        .as_collection()
}

/// q0: every bid, projected.
pub(crate) fn q0<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let rows = collect(events, "Q0Project", move |e, t, out| {
        if let Some(b) = e.bid() {
            out.push(((events::q0_row(b), e.stamp()), t, 1));
        }
    });
    sampled_sink(rows.inner, ctx, slot, stamped::<Q0Row>, stamp_of);
}

/// q1: every bid, its price in another currency (exact at scale 3).
pub(crate) fn q1<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let rows = collect(events, "Q1Project", move |e, t, out| {
        if let Some(b) = e.bid() {
            out.push(((events::q1_row(b), e.stamp()), t, 1));
        }
    });
    sampled_sink(rows.inner, ctx, slot, stamped::<Q1Row>, stamp_of);
}

/// q2: bids on every 123rd auction.
pub(crate) fn q2<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let rows = collect(events, "Q2Filter", |e, t, out| {
        if let Some(b) = e.bid().filter(|b| b.auction % 123 == 0) {
            let row = Q2Row {
                auction: b.auction as u64,
                price: b.price as u64,
            };
            out.push(((row, e.stamp()), t, 1));
        }
    });
    sampled_sink(rows.inner, ctx, slot, stamped::<Q2Row>, stamp_of);
}

/// q3: a join of two arranged collections (persons by id, auctions by seller).
///
/// For latency, auctions carry their ingestion stamp and event time, persons their event time:
/// a row whose auction is not older than its person (the auction completed the join) carries
/// the auction's stamp, as on the other engines.
pub(crate) fn q3<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let persons = collect(events.clone(), "Q3Persons", |e, t, out| {
        if let Some(p) = e.person().filter(|p| matches!(p.state, "OR" | "ID" | "CA")) {
            let person = (
                p.name.to_string(),
                p.city.to_string(),
                p.state.to_string(),
                t,
            );
            out.push(((p.id, person), t, 1));
        }
    });
    let auctions = collect(events, "Q3Auctions", |e, t, out| {
        if let Some(a) = e.auction().filter(|a| a.category == 10) {
            out.push(((a.seller, (a.id, e.stamp(), t)), t, 1));
        }
    });
    let persons = persons.arrange_by_key();
    let rows = auctions.join_core(
        persons,
        |_seller, &(id, stamp, auction_time), (name, city, state, person_time)| {
            let row = Q3Row {
                name: name.clone(),
                city: city.clone(),
                state: state.clone(),
                id: id as u64,
            };
            Some((
                row,
                if auction_time >= *person_time {
                    stamp
                } else {
                    0
                },
            ))
        },
    );
    sampled_sink(rows.inner, ctx, slot, stamped::<Q3Row<String>>, stamp_of);
}

/// q4: join auctions and bids on the auction id, keep in-time bids, the maximum per auction,
/// then the average maximum per category: `join` and two `reduce`s, an updating result.
pub(crate) fn q4<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let auctions = collect(events.clone(), "Q4Auctions", |e, t, out| {
        if let Some(a) = e.auction() {
            out.push(((a.id, (a.category, a.date_time, a.expires)), t, 1));
        }
    });
    let bids = collect(events, "Q4Bids", |e, t, out| {
        if let Some(b) = e.bid() {
            out.push(((b.auction, (b.price, b.date_time)), t, 1));
        }
    });
    let winning = auctions
        .join(bids)
        .flat_map(|(auction, ((category, start, expires), (price, t)))| {
            (t >= start && t <= expires).then_some(((auction, category), price))
        })
        .reduce(|_key, prices, out| {
            // Values arrive sorted: the last is the maximum.
            let (max, _) = prices.last().expect("reduce sees non-empty groups");
            out.push((**max, 1isize));
        });
    let rows = winning
        .map(|((_auction, category), max)| (category, max))
        .reduce(|_category, maxima, out| {
            let (sum, n) = maxima.iter().fold((0i128, 0i128), |(s, n), (m, c)| {
                (s + i128::from(**m) * *c as i128, n + *c as i128)
            });
            out.push(((sum / n) as i64, 1isize));
        })
        .map(|(category, avg)| Q4Row {
            category: category as u64,
            avg,
        });
    update_sink(rows.inner, ctx, slot);
}

/// q5: bids counted per `(window, auction)` in hopping windows (each bid is an update in five
/// windows, at each window's end, retracted just after), then per window the auctions at the
/// maximum count.
pub(crate) fn q5<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let windows = collect(events, "Q5Windows", |e, t, out| {
        if let Some(b) = e.bid() {
            let pane = t - t % Q5_SLIDE_MS;
            for k in 1..=Q5_SIZE_MS / Q5_SLIDE_MS {
                let end = pane + k * Q5_SLIDE_MS;
                in_window(out, (end, b.auction), end);
            }
        }
    });
    let rows = windows
        .count()
        .map(|((end, auction), n)| (end, (n as i64, auction)))
        .reduce(|_end, counts, out| {
            // Values are sorted by (count, auction): the leaders are the tail.
            let max = counts.last().expect("reduce sees non-empty groups").0.0;
            for ((n, auction), _) in counts.iter().rev() {
                if *n != max {
                    break;
                }
                out.push(((*auction, *n), 1isize));
            }
        })
        .map(|(end, (auction, num))| {
            let row = Q5Row {
                auction: auction as u64,
                num: num as u64,
            };
            (end, row)
        });
    update_sink(final_at_window_end(rows), ctx, slot);
}

/// A q7 bid in its window: `(price, auction, bidder, dateTime, extra, inside)`, where `inside`
/// is false for the copy of a bid exactly at the window's end (the join's inclusive bound).
type Q7Bid = (i64, i64, i64, i64, String, bool);

/// q7: one arrangement of bids by window end serves both the per-window maximum (a `reduce`
/// over the arrangement) and the join that finds the bids at that maximum.
pub(crate) fn q7<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let by_window = collect(events, "Q7Windows", |e, t, out| {
        if let Some(b) = e.bid() {
            let bid = |inside| {
                (
                    b.price,
                    b.auction,
                    b.bidder,
                    b.date_time,
                    b.extra.to_string(),
                    inside,
                )
            };
            if t % TUMBLE_MS == 0 {
                in_window(out, (t, bid(false)), t);
            }
            let end = tumble_end(t, TUMBLE_MS);
            in_window(out, (end, bid(true)), end);
        }
    })
    .arrange_by_key();
    let maxima = by_window
        .clone()
        .reduce_abelian::<_, ValBuilder<u64, i64, u64, isize>, ValSpine<u64, i64, u64, isize>, _, _>(
            "Q7Max",
            |_end, bids: &[(&Q7Bid, isize)], out: &mut Vec<(i64, isize)>| {
                if let Some(max) = bids.iter().filter(|(b, _)| b.5).map(|(b, _)| b.0).max() {
                    out.push((max, 1));
                }
            },
            |vec, key, upds| {
                vec.clear();
                vec.extend(upds.drain(..).map(|(v, t, r)| ((*key, v), t, r)));
            },
        );
    let rows = maxima.join_core(by_window, |&end, &max, bid: &Q7Bid| {
        (bid.0 == max).then(|| {
            (
                end,
                Q7Row {
                    auction: bid.1 as u64,
                    price: bid.0 as u64,
                    bidder: bid.2 as u64,
                    date_time: bid.3 as u64,
                    extra: bid.4.clone(),
                },
            )
        })
    });
    update_sink(final_at_window_end(rows), ctx, slot);
}

/// q8: distinct persons and distinct sellers per 10 s window, semijoined on `(id, window)`.
pub(crate) fn q8<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let persons = collect(events.clone(), "Q8Persons", |e, t, out| {
        if let Some(p) = e.person() {
            let end = tumble_end(t, TUMBLE_MS);
            in_window(out, ((p.id, end), p.name.to_string()), end);
        }
    });
    let sellers = collect(events, "Q8Sellers", |e, t, out| {
        if let Some(a) = e.auction() {
            let end = tumble_end(t, TUMBLE_MS);
            in_window(out, (a.seller, end), end);
        }
    });
    let rows = persons
        .distinct()
        .semijoin(sellers.distinct())
        .map(|((id, end), name)| {
            (
                end,
                Q8Row {
                    id: id as u64,
                    name,
                    starttime: end - TUMBLE_MS,
                },
            )
        });
    update_sink(final_at_window_end(rows), ctx, slot);
}

/// q11: sessions per bidder by a `reduce` over the bidder's bid times; an updating result (a
/// session grows and merges as bids arrive). Updates are batched to the gap's granularity
/// (times rounded up to the next multiple of 10 s), so each bidder is recomputed at most once
/// per 10 s of event time.
pub(crate) fn q11<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let bids = collect(events, "Q11Bids", |e, t, out| {
        if let Some(b) = e.bid() {
            out.push(((b.bidder, b.date_time), tumble_end(t, SESSION_GAP_MS), 1));
        }
    });
    let gap = SESSION_GAP_MS as i64;
    let rows = bids
        .reduce(move |_bidder, times, out| {
            let mut open: Option<(i64, i64, i64)> = None;
            for &(&t, n) in times {
                match &mut open {
                    Some((_, last, count)) if t <= *last + gap => {
                        *last = t;
                        *count += n as i64;
                    }
                    _ => {
                        if let Some(s) = open.take() {
                            out.push((s, 1isize));
                        }
                        open = Some((t, t, n as i64));
                    }
                }
            }
            out.extend(open.map(|s| (s, 1isize)));
        })
        .map(move |(bidder, (start, last, bid_count))| Q11Row {
            bidder: bidder as u64,
            bid_count: bid_count as u64,
            starttime: start as u64,
            endtime: (last + gap) as u64,
        });
    update_sink(rows.inner, ctx, slot);
}

/// q12: bids per bidder in 10 s windows of processing time (assigned when the bid is read),
/// counted with `count`; an updating result.
pub(crate) fn q12<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let window = TUMBLE_MS as i64;
    let bids = collect(events, "Q12Bids", move |e, t, out| {
        if let Some(b) = e.bid() {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            out.push(((b.bidder, now - now.rem_euclid(window)), t, 1));
        }
    });
    let rows = bids.count().map(move |((bidder, start), n)| Q12Row {
        bidder: bidder as u64,
        bid_count: n as u64,
        starttime: start as u64,
        endtime: (start + window) as u64,
    });
    update_sink(rows.inner, ctx, slot);
}
