//! Nexmark q5, q7, q8, q11 and YSB on timely: event-time windows.
//!
//! Every windowed operator holds one capability per pending window end (a `BTreeMap` from end
//! to capability, timely 0.32 having no notificator) and fires a window when its input frontier
//! is at or past the end. Global aggregates (q5's and q7's per-window maximum, YSB's counts) are
//! two-phase: each worker reduces its share and sends only candidates / partial counts to the
//! worker that owns the window, which fires once every worker's partials have arrived (its
//! frontier strictly past the end).

use std::collections::{BTreeMap, HashMap, HashSet};

use timely::dataflow::StreamVec;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::Capability;
use timely::dataflow::operators::InputCapability;
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::vec::Map;
use timely::progress::frontier::MutableAntichain;

use super::events::{Events, NexmarkEvent};
use super::harness::{Ctx, ResultSlot, digest_sink};
use super::stateless::route;
use crate::catalog::Query;
use crate::nexmark::{
    Q5_SIZE_MS, Q5_SLIDE_MS, Q5Row, Q7Row, Q8Row, Q11Row, SESSION_GAP_MS, TUMBLE_MS,
};

/// Builds `query` if it is one of this module's (q5, q7, q8, q11); otherwise hands the events
/// back for the next module to try.
pub(crate) fn build<'s, E: NexmarkEvent>(
    query: Query,
    events: Events<'s, E>,
    ctx: &Ctx,
    slot: &ResultSlot,
) -> Result<(), Events<'s, E>> {
    match query {
        Query::Q5 => q5(events, ctx, slot),
        Query::Q7 => q7(events, ctx, slot),
        Query::Q8 => q8(events, ctx, slot),
        Query::Q11 => q11(events, ctx, slot),
        _ => return Err(events),
    }
    Ok(())
}

fn plain<R>(row: &R) -> (&R, i64) {
    (row, 1)
}

/// End of the tumbling window of size `size` that contains `t`.
pub(crate) fn tumble_end(t: u64, size: u64) -> u64 {
    t - t % size + size
}

/// Capabilities held for pending window ends.
pub(crate) struct Pending<S> {
    windows: BTreeMap<u64, (Capability<u64>, S)>,
}

impl<S: Default> Pending<S> {
    pub(crate) fn new() -> Self {
        Self {
            windows: BTreeMap::new(),
        }
    }

    /// The state of the window ending at `end`, holding a capability for `end` from `cap`.
    pub(crate) fn at(&mut self, end: u64, cap: &InputCapability<u64>) -> &mut S {
        &mut self
            .windows
            .entry(end)
            .or_insert_with(|| (cap.delayed(&end, 0), S::default()))
            .1
    }

    /// Removes and returns the first window whose end `done` says is complete.
    pub(crate) fn next_ready(
        &mut self,
        done: impl Fn(u64) -> bool,
    ) -> Option<(u64, Capability<u64>, S)> {
        let (&end, _) = self.windows.first_key_value()?;
        done(end).then(|| {
            let (cap, state) = self.windows.remove(&end).expect("the first key exists");
            (end, cap, state)
        })
    }
}

/// Whether a window ending at `end` is complete: the frontier is at or past `end`.
pub(crate) fn reached(frontier: &MutableAntichain<u64>) -> impl Fn(u64) -> bool + '_ {
    move |end| !frontier.less_than(&end)
}

/// Whether everything at time `end` itself has arrived too: the frontier is past `end`.
pub(crate) fn passed(frontier: &MutableAntichain<u64>) -> impl Fn(u64) -> bool + '_ {
    move |end| !frontier.less_equal(&end)
}

/// q5: hot items. Counts per auction in 10 s windows sliding by 2 s, then the auctions whose
/// count is the window's maximum (all tied leaders).
///
/// Stage 1 (exchange by auction) keeps one count map per 2 s pane and, when a window closes,
/// sums its five panes and sends the local leaders. Stage 2 (exchange by window end) keeps the
/// leaders of every worker and emits those at the global maximum.
pub(crate) fn q5<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let auctions = events.flat_map(|e| e.bid().map(|b| b.auction));
    let leaders: StreamVec<'_, u64, (u64, i64, i64)> = auctions.unary_frontier(
        Exchange::new(|a: &i64| route(*a)),
        "Q5PaneCount",
        |_cap, _info| {
            let mut panes: BTreeMap<u64, HashMap<i64, i64>> = BTreeMap::new();
            let mut pending: Pending<()> = Pending::new();
            let mut window: HashMap<i64, i64> = HashMap::new();
            move |(input, frontier), output| {
                input.for_each(|cap, data| {
                    let t = *cap.least().expect("data has a time");
                    let pane = t - t % Q5_SLIDE_MS;
                    let counts = panes.entry(pane).or_default();
                    for auction in data.drain(..) {
                        *counts.entry(auction).or_insert(0) += 1;
                    }
                    for k in 1..=Q5_SIZE_MS / Q5_SLIDE_MS {
                        pending.at(pane + k * Q5_SLIDE_MS, &cap);
                    }
                });
                while let Some((end, cap, ())) = pending.next_ready(reached(frontier)) {
                    window.clear();
                    for (_, counts) in panes.range(end.saturating_sub(Q5_SIZE_MS)..end) {
                        for (&auction, &n) in counts {
                            *window.entry(auction).or_insert(0) += n;
                        }
                    }
                    let max = window.values().copied().max().unwrap_or(0);
                    let mut session = output.session(&cap);
                    for (&auction, &n) in &window {
                        if n == max {
                            session.give((end, auction, n));
                        }
                    }
                    // No later window reaches back past `end - Q5_SIZE_MS + Q5_SLIDE_MS`.
                    let keep = end + Q5_SLIDE_MS - Q5_SIZE_MS;
                    panes = panes.split_off(&keep);
                }
            }
        },
    );
    let rows: StreamVec<'_, u64, Q5Row> = leaders.unary_frontier(
        Exchange::new(|l: &(u64, i64, i64)| route(l.0 as i64)),
        "Q5GlobalMax",
        |_cap, _info| {
            let mut pending: Pending<Vec<(i64, i64)>> = Pending::new();
            move |(input, frontier), output| {
                input.for_each(|cap, data| {
                    for (end, auction, n) in data.drain(..) {
                        pending.at(end, &cap).push((auction, n));
                    }
                });
                while let Some((_, cap, leaders)) = pending.next_ready(passed(frontier)) {
                    let max = leaders.iter().map(|l| l.1).max().unwrap_or(0);
                    let mut session = output.session(&cap);
                    for (auction, num) in leaders {
                        if num == max {
                            session.give(Q5Row {
                                auction: auction as u64,
                                num: num as u64,
                            });
                        }
                    }
                }
            }
        },
    );
    digest_sink(rows, ctx, slot, plain::<Q5Row>);
}

/// A bid as q7 keeps it: `(price, auction, bidder, dateTime, extra)`.
type Q7Bid = (i64, i64, i64, i64, &'static str);
/// A q7 candidate as sent to the window's owner.
type Q7Sent = (i64, i64, i64, i64, String);

fn q7_sent(b: Q7Bid) -> Q7Sent {
    (b.0, b.1, b.2, b.3, b.4.to_string())
}

/// One worker's view of a q7 window: the maximum over `[end - 10 s, end)`, the bids at that
/// maximum, and the bids exactly at `end` (the join's inclusive upper bound).
#[derive(Default)]
struct Q7Local {
    max: Option<i64>,
    at_max: Vec<Q7Bid>,
    at_end: Vec<Q7Bid>,
}

/// q7: highest bid. The maximum price per 10 s tumbling window, joined with the bids of
/// `[end - 10 s, end]` at that price.
///
/// Stage 1 runs on the worker that generated the bids (pipeline, no exchange): per window it
/// keeps only the local maximum and the bids that can still equal the global one. Stage 2
/// (exchange by window end) learns the global maximum from every worker's local maximum and
/// emits the candidates at that price.
pub(crate) fn q7<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let bids = events.flat_map(|e| {
        e.bid()
            .map(|b| (b.price, b.auction, b.bidder, b.date_time, b.extra))
    });
    // (window end, is a maximum marker, bid)
    type Cand = (u64, bool, Q7Sent);
    let candidates: StreamVec<'_, u64, Cand> =
        bids.unary_frontier(Pipeline, "Q7LocalMax", |_cap, _info| {
            let mut pending: Pending<Q7Local> = Pending::new();
            move |(input, frontier), output| {
                input.for_each(|cap, data| {
                    let t = *cap.least().expect("data has a time");
                    let end = tumble_end(t, TUMBLE_MS);
                    for bid in data.drain(..) {
                        if t % TUMBLE_MS == 0 {
                            pending.at(t, &cap).at_end.push(bid);
                        }
                        let w = pending.at(end, &cap);
                        match w.max {
                            Some(m) if bid.0 < m => {}
                            Some(m) if bid.0 == m => w.at_max.push(bid),
                            _ => {
                                w.max = Some(bid.0);
                                w.at_max.clear();
                                w.at_max.push(bid);
                            }
                        }
                    }
                });
                while let Some((end, cap, w)) = pending.next_ready(passed(frontier)) {
                    let mut session = output.session(&cap);
                    if let Some(m) = w.max {
                        session.give((end, true, (m, 0, 0, 0, String::new())));
                    }
                    for bid in w.at_max {
                        session.give((end, false, q7_sent(bid)));
                    }
                    for bid in w.at_end {
                        if w.max.is_none_or(|m| bid.0 >= m) {
                            session.give((end, false, q7_sent(bid)));
                        }
                    }
                }
            }
        });
    let rows: StreamVec<'_, u64, Q7Row<String>> = candidates.unary_frontier(
        Exchange::new(|c: &Cand| route(c.0 as i64)),
        "Q7GlobalMax",
        |_cap, _info| {
            let mut pending: Pending<(Option<i64>, Vec<Q7Sent>)> = Pending::new();
            move |(input, frontier), output| {
                input.for_each(|cap, data| {
                    for (end, marker, bid) in data.drain(..) {
                        let w = pending.at(end, &cap);
                        if marker {
                            w.0 = w.0.max(Some(bid.0));
                        } else {
                            w.1.push(bid);
                        }
                    }
                });
                while let Some((_, cap, (max, bids))) = pending.next_ready(passed(frontier)) {
                    let Some(max) = max else { continue };
                    let mut session = output.session(&cap);
                    for (price, auction, bidder, date_time, extra) in bids {
                        if price == max {
                            session.give(Q7Row {
                                auction: auction as u64,
                                price: price as u64,
                                bidder: bidder as u64,
                                date_time: date_time as u64,
                                extra,
                            });
                        }
                    }
                }
            }
        },
    );
    digest_sink(rows, ctx, slot, plain::<Q7Row<String>>);
}

/// q8: new users. Persons who opened an account and created an auction in the same 10 s
/// tumbling window; a windowed join exchanged by person id / seller.
pub(crate) fn q8<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let persons = events
        .clone()
        .flat_map(|e| e.person().map(|p| (p.id, p.name.to_string())));
    let sellers = events.flat_map(|e| e.auction().map(|a| a.seller));
    #[derive(Default)]
    struct Window {
        persons: HashSet<(i64, String)>,
        sellers: HashSet<i64>,
    }
    let rows: StreamVec<'_, u64, Q8Row<String>> = persons.binary_frontier(
        sellers,
        Exchange::new(|p: &(i64, String)| route(p.0)),
        Exchange::new(|s: &i64| route(*s)),
        "Q8WindowJoin",
        |_cap, _info| {
            let mut pending: Pending<Window> = Pending::new();
            move |(persons, f1), (sellers, f2), output| {
                persons.for_each(|cap, data| {
                    let end = tumble_end(*cap.least().expect("data has a time"), TUMBLE_MS);
                    pending.at(end, &cap).persons.extend(data.drain(..));
                });
                sellers.for_each(|cap, data| {
                    let end = tumble_end(*cap.least().expect("data has a time"), TUMBLE_MS);
                    pending.at(end, &cap).sellers.extend(data.drain(..));
                });
                while let Some((end, cap, w)) =
                    pending.next_ready(|end| reached(f1)(end) && reached(f2)(end))
                {
                    let mut session = output.session(&cap);
                    for (id, name) in w.persons {
                        if w.sellers.contains(&id) {
                            session.give(Q8Row {
                                id: id as u64,
                                name,
                                starttime: end - TUMBLE_MS,
                            });
                        }
                    }
                }
            }
        },
    );
    digest_sink(rows, ctx, slot, plain::<Q8Row<String>>);
}

/// An open q11 session: first and last bid time, bids.
#[derive(Clone, Copy)]
struct Session {
    start: u64,
    last: u64,
    count: i64,
}

/// q11: bids per bidder session (gap 10 s; sessions that overlap or touch merge), exchanged by
/// bidder.
///
/// Bids are buffered by time until the frontier passes them, then applied in time order, so
/// each bidder has at most one open session. A session closes once the frontier is past
/// `last + gap` (a bid exactly at `last + gap` still extends it).
pub(crate) fn q11<E: NexmarkEvent>(events: Events<'_, E>, ctx: &Ctx, slot: &ResultSlot) {
    let bidders = events.flat_map(|e| e.bid().map(|b| b.bidder));
    let rows: StreamVec<'_, u64, Q11Row> = bidders.unary_frontier(
        Exchange::new(|b: &i64| route(*b)),
        "Q11Sessions",
        |_cap, _info| {
            let mut buffered: BTreeMap<u64, Vec<i64>> = BTreeMap::new();
            let mut open: HashMap<i64, Session> = HashMap::new();
            // Session end (last + gap) -> bidders whose session may end there (lazily checked).
            let mut ends: BTreeMap<u64, Vec<i64>> = BTreeMap::new();
            let mut held: Option<Capability<u64>> = None;
            move |(input, frontier), output| {
                input.for_each(|cap, data| {
                    let t = *cap.least().expect("data has a time");
                    if held.as_ref().is_none_or(|h| t < *h.time()) {
                        held = Some(cap.delayed(&t, 0));
                    }
                    buffered.entry(t).or_default().append(data);
                });
                let Some(cap) = held.as_mut() else { return };
                let mut emitted: Vec<(u64, Q11Row)> = Vec::new();
                let mut close = |bidder: i64, s: Session| {
                    let end = s.last + SESSION_GAP_MS;
                    emitted.push((
                        end,
                        Q11Row {
                            bidder: bidder as u64,
                            bid_count: s.count as u64,
                            starttime: s.start,
                            endtime: end,
                        },
                    ));
                };
                // Apply complete times in order.
                while let Some((&t, _)) = buffered.first_key_value() {
                    if frontier.less_equal(&t) {
                        break;
                    }
                    let (_, bidders) = buffered.pop_first().expect("the first key exists");
                    for bidder in bidders {
                        let s = open.entry(bidder).or_insert(Session {
                            start: t,
                            last: t,
                            count: 0,
                        });
                        if t > s.last + SESSION_GAP_MS {
                            close(bidder, *s);
                            *s = Session {
                                start: t,
                                last: t,
                                count: 0,
                            };
                        }
                        s.last = t;
                        s.count += 1;
                        ends.entry(t + SESSION_GAP_MS).or_default().push(bidder);
                    }
                }
                // Close sessions whose end the frontier has passed.
                while let Some((&end, _)) = ends.first_key_value() {
                    if frontier.less_equal(&end) {
                        break;
                    }
                    let (_, bidders) = ends.pop_first().expect("the first key exists");
                    for bidder in bidders {
                        if let Some(s) = open.get(&bidder)
                            && s.last + SESSION_GAP_MS == end
                        {
                            close(bidder, *s);
                            open.remove(&bidder);
                        }
                    }
                }
                // Each session is emitted at its end, the time that closed it.
                emitted.sort_unstable_by_key(|(end, _)| *end);
                let mut rows = emitted.into_iter().peekable();
                while let Some((end, row)) = rows.next() {
                    let at = cap.delayed(&end);
                    let mut session = output.session(&at);
                    session.give(row);
                    while let Some((_, row)) = rows.next_if(|(e, _)| *e == end) {
                        session.give(row);
                    }
                }
                // Hold the capability at the earliest pending time: a buffered bid or a session end.
                let next = [
                    buffered.first_key_value().map(|(t, _)| *t),
                    ends.first_key_value().map(|(t, _)| *t),
                ]
                .into_iter()
                .flatten()
                .min();
                match next {
                    Some(t) => cap.downgrade(&t.max(*cap.time())),
                    None => held = None,
                }
            }
        },
    );
    digest_sink(rows, ctx, slot, plain::<Q11Row>);
}
