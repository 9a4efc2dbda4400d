//! Per-operator metrics for timely and differential runs, from timely's own event log.
//!
//! Each worker registers a closure on timely's `"timely"` log stream ([`OperatorLog::install`])
//! before it builds any dataflow. timely hands the closure its buffered events (about 70 per
//! call); the closure folds them into plain per-identifier counters ([`Tally`]) and keeps
//! nothing else. The worker loop copies the counters out on the harness's publish interval
//! ([`OperatorLog::publish`]), so the snapshot's `operators` follow the same 100 ms rhythm as
//! the rest of the metrics.
//!
//! # What each event gives
//!
//! - *Operates* (`id`, `addr`, `name`): an operator, or a scope (the dataflow itself, a region,
//!   an iterative scope) when another operator's address extends its own. Only the leaf
//!   operators of the query's dataflow are listed, in address order (timely's build order,
//!   which puts every operator after its inputs); the names are the ones the adapters give
//!   (`Source`, `Q5PaneCount`, `DigestSink`) or timely's and differential's defaults (`FlatMap`,
//!   `Arrange...`, `Reduce`, `Join`).
//! - *Schedule* start / stop: own time. Starts and stops nest (a scope is running while its
//!   children run), so the closure keeps the stack of running identifiers and charges each
//!   interval between two consecutive schedule events to the operator on top: a scope is
//!   charged only its own progress bookkeeping, never its children's time. A worker's listed
//!   operators therefore never add up to more than its wall time. The times are timely's event
//!   timestamps (wall clock, taken by timely anyway), so a thread preempted inside an operator
//!   is charged to that operator; the worker's `busy_ns` is the thread's CPU time and can be
//!   lower on an oversubscribed machine. Scopes are not listed: their own time is timely's
//!   progress tracking, left in the worker's time outside operators.
//! - *Channels* (`id`, scope, source and target `(node, port)`): the graph. Node 0 of a scope
//!   is the scope's boundary, so an edge through a region is followed to the real operator on
//!   the other side.
//! - *Messages* (`channel`, source and target worker, `record_count`, send or receive):
//!   timely 0.32 logs every message on every channel its pacts build (`Pipeline` and
//!   `Exchange` alike) and on scope boundaries, so a channel without messages carried no
//!   records. An operator's `records_in` is the records this worker received on the channels
//!   into it; its `records_out` the records this worker sent on one channel of each output port
//!   (a port sends every record to each of its channels). An operator with no channel in (a
//!   source) or out (a sink) has that count `None`: the log cannot tell "no port" from "not
//!   counted". (A pact of one's own that does not wrap its channels in timely's `LogPusher`
//!   would count 0; weir's queries use timely's and differential's usual pacts.)
//! - An operator is an `exchange` (records change worker after it) once a channel from it
//!   carried a message between two different workers. A pipeline and an exchange look the same
//!   in the log otherwise, so at one worker no operator is marked.
//!
//! Not reported by timely, so left `None`: queue fill (timely's channels are unbounded) and
//! the records an operator holds in its state.
//!
//! # Cost
//!
//! timely takes one clock reading per event whether or not anything listens; with the closure
//! installed, each event is also pushed into timely's buffer and then matched here: a few
//! array updates per event, no allocation (timely's buffer is drained in place and reused,
//! the stack and the counters grow only when a new operator or channel appears). A schedule
//! call costs two or three events, a message two (send, receive). Turn it off with
//! [`TIMELY_OPERATORS_ENV`]`=off` to measure it.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use timely::logging::{StartStop, TimelyEvent, TimelyEventBuilder};
use timely::worker::Worker;
use weir_engine::OperatorMetrics;

use crate::job::{Result, RunError, TIMELY_OPERATORS_ENV};

/// The log stream timely writes its worker events to.
const TIMELY_LOG: &str = "timely";
/// How deep an edge is followed through nested scopes before giving up (a malformed log).
const MAX_SCOPE_DEPTH: usize = 16;

/// Whether the run observes its operators: [`TIMELY_OPERATORS_ENV`] unset, empty or `on`
/// (also `1`, `true`, `yes`) keeps them on; `off` (`0`, `false`, `no`) turns them off.
///
/// # Errors
/// A [`RunError::Config`] naming the variable for any other value.
pub(crate) fn enabled() -> Result<bool> {
    let Some(value) = std::env::var_os(TIMELY_OPERATORS_ENV) else {
        return Ok(true);
    };
    let text = value.to_string_lossy();
    match text.trim().to_ascii_lowercase().as_str() {
        "" | "on" | "1" | "true" | "yes" => Ok(true),
        "off" | "0" | "false" | "no" => Ok(false),
        _ => Err(RunError::Config(format!(
            "{TIMELY_OPERATORS_ENV}={text}: expected 'on' or 'off' (timely's and differential's \
             per-operator metrics)"
        ))),
    }
}

/// One worker's view of its operators through timely's log (see the module docs).
#[derive(Debug)]
pub(crate) struct OperatorLog {
    tally: Rc<RefCell<Tally>>,
}

impl OperatorLog {
    /// Registers the aggregating closure on `worker`'s `"timely"` log stream. Must run before
    /// the worker builds the dataflows it should see: timely hands each operator and channel
    /// its logger when they are built.
    pub(crate) fn install(worker: &Worker) -> Self {
        let tally = Rc::new(RefCell::new(Tally::default()));
        if let Some(mut registry) = worker.log_register() {
            let sink = Rc::clone(&tally);
            registry.insert::<TimelyEventBuilder, _>(
                TIMELY_LOG,
                move |_time, data: &mut Option<Vec<(Duration, TimelyEvent)>>| {
                    if let Some(events) = data {
                        let mut tally = sink.borrow_mut();
                        // Drained in place: timely gets the emptied buffer back and reuses it.
                        for (at, event) in events.drain(..) {
                            tally.record(at, event);
                        }
                    }
                },
            );
        }
        Self { tally }
    }

    /// Lists only the operators of the dataflow `worker` builds next (the query's; cluster
    /// mode's control dataflow and the start barrier are left out).
    pub(crate) fn watch_next_dataflow(&self, worker: &Worker) {
        self.tally.borrow_mut().dataflow = Some(worker.next_dataflow_index());
    }

    /// Hands timely's buffered events to the closure and copies the counters into `into`.
    /// Called from the worker's own loop, between steps (never inside an operator).
    pub(crate) fn publish(&self, worker: &Worker, into: &Mutex<Vec<OperatorMetrics>>) {
        if let Some(mut registry) = worker.log_register() {
            registry.flush();
        }
        let mut tally = self.tally.borrow_mut();
        let mut out = into.lock().unwrap_or_else(PoisonError::into_inner);
        tally.metrics(&mut out);
    }
}

/// What the log says about one timely identifier (operators and channels share one counter).
#[derive(Debug, Default)]
struct Slot {
    /// The operator with this identifier, if it is one.
    operator: Option<Operator>,
    /// The channel with this identifier, if it is one.
    channel: Option<Channel>,
    /// Own time while scheduled, ns.
    own_ns: u64,
    /// Records this worker sent on the channel.
    sent: u64,
    /// Records this worker received from the channel.
    received: u64,
    /// Whether the channel carried a message between two different workers.
    crossed: bool,
}

#[derive(Debug)]
struct Operator {
    addr: Vec<usize>,
    name: String,
}

#[derive(Debug)]
struct Channel {
    scope: Vec<usize>,
    source: (usize, usize),
    target: (usize, usize),
}

/// One worker's counters, updated by the logging closure.
#[derive(Debug, Default)]
struct Tally {
    /// Indexed by timely identifier.
    slots: Vec<Slot>,
    /// Identifiers of the operators being scheduled, outermost first.
    running: Vec<usize>,
    /// Timestamp of the last schedule event, ns since the worker's log started.
    last_ns: u64,
    /// The dataflow whose operators are listed (`None`: all).
    dataflow: Option<usize>,
    /// Whether the graph changed (a new operator or channel, a channel's first message between
    /// workers) since the listing was built.
    changed: bool,
    listing: Vec<Listed>,
}

/// A listed operator: its place in the published `operators` and where its counters are.
#[derive(Debug)]
struct Listed {
    id: usize,
    name: String,
    inputs: Vec<usize>,
    /// Channels into it.
    in_channels: Vec<usize>,
    /// Per output port with consumers: the channels from it.
    out_ports: Vec<Vec<usize>>,
    /// Whether a channel from it carried records between workers.
    exchange: bool,
}

impl Tally {
    fn slot(&mut self, id: usize) -> &mut Slot {
        if id >= self.slots.len() {
            self.slots.resize_with(id + 1, Slot::default);
        }
        &mut self.slots[id]
    }

    /// Folds one event in.
    fn record(&mut self, at: Duration, event: TimelyEvent) {
        match event {
            TimelyEvent::Schedule(e) => {
                let now = at.as_nanos() as u64;
                let since = now.saturating_sub(self.last_ns);
                self.last_ns = now;
                match e.start_stop {
                    StartStop::Start => {
                        if let Some(&outer) = self.running.last() {
                            self.slot(outer).own_ns += since;
                        }
                        self.running.push(e.id);
                    }
                    StartStop::Stop => {
                        if let Some(id) = self.running.pop() {
                            self.slot(id).own_ns += since;
                        }
                    }
                }
            }
            TimelyEvent::Messages(e) => {
                let n = e.record_count.max(0) as u64;
                let slot = self.slot(e.channel);
                if e.is_send {
                    slot.sent += n;
                } else {
                    slot.received += n;
                }
                let crossed = e.source != e.target;
                if crossed && !slot.crossed {
                    slot.crossed = true;
                    self.changed = true;
                }
            }
            TimelyEvent::Operates(e) => {
                self.slot(e.id).operator = Some(Operator {
                    addr: e.addr,
                    name: e.name,
                });
                self.changed = true;
            }
            TimelyEvent::Channels(e) => {
                self.slot(e.id).channel = Some(Channel {
                    scope: e.scope_addr,
                    source: e.source,
                    target: e.target,
                });
                self.changed = true;
            }
            _ => {}
        }
    }

    /// Writes the listed operators' counters into `out` (rebuilding the listing first if the
    /// graph changed).
    fn metrics(&mut self, out: &mut Vec<OperatorMetrics>) {
        if self.changed {
            self.listing = Graph::new(&self.slots).listing(self.dataflow);
            self.changed = false;
            out.clear();
        }
        if out.len() != self.listing.len() {
            *out = self
                .listing
                .iter()
                .map(|l| OperatorMetrics {
                    name: l.name.clone(),
                    inputs: l.inputs.clone(),
                    ..OperatorMetrics::default()
                })
                .collect();
        }
        let slots = &self.slots;
        for (m, l) in out.iter_mut().zip(&self.listing) {
            m.busy_ns = slots[l.id].own_ns;
            m.exchange = l.exchange;
            m.records_in = (!l.in_channels.is_empty())
                .then(|| l.in_channels.iter().map(|&c| slots[c].received).sum());
            m.records_out = (!l.out_ports.is_empty()).then(|| {
                l.out_ports
                    .iter()
                    .map(|port| port.iter().map(|&c| slots[c].sent).max().unwrap_or(0))
                    .sum()
            });
        }
    }
}

/// The graph the log describes, indexed for resolving edges through scopes.
struct Graph<'a> {
    slots: &'a [Slot],
    /// Operator identifier by address.
    by_addr: HashMap<&'a [usize], usize>,
    /// Addresses of scopes (operators with children).
    scopes: HashSet<&'a [usize]>,
    /// Channel identifiers by (scope, target node).
    into: HashMap<(&'a [usize], usize), Vec<usize>>,
    /// Channel identifiers by (scope, source node).
    from: HashMap<(&'a [usize], usize), Vec<usize>>,
}

impl<'a> Graph<'a> {
    fn new(slots: &'a [Slot]) -> Self {
        let mut graph = Self {
            slots,
            by_addr: HashMap::new(),
            scopes: HashSet::new(),
            into: HashMap::new(),
            from: HashMap::new(),
        };
        for (id, slot) in slots.iter().enumerate() {
            if let Some(op) = &slot.operator {
                graph.by_addr.insert(op.addr.as_slice(), id);
                if let Some((_, parent)) = op.addr.split_last() {
                    graph.scopes.insert(parent);
                }
            }
            if let Some(ch) = &slot.channel {
                let scope = ch.scope.as_slice();
                graph.into.entry((scope, ch.target.0)).or_default().push(id);
                graph.from.entry((scope, ch.source.0)).or_default().push(id);
            }
        }
        graph
    }

    fn channel(&self, id: usize) -> &'a Channel {
        let slots: &'a [Slot] = self.slots;
        slots[id].channel.as_ref().expect("indexed channels exist")
    }

    /// The leaf operators of `dataflow` (all dataflows when `None`), in address order.
    fn listing(&self, dataflow: Option<usize>) -> Vec<Listed> {
        let mut leaves: Vec<(&[usize], usize)> = self
            .by_addr
            .iter()
            .filter(|(addr, _)| !self.scopes.contains(*addr))
            .filter(|(addr, _)| dataflow.is_none_or(|d| addr.first() == Some(&d)))
            .map(|(addr, id)| (*addr, *id))
            .collect();
        leaves.sort_unstable();
        let index: HashMap<usize, usize> = leaves
            .iter()
            .enumerate()
            .map(|(i, (_, id))| (*id, i))
            .collect();
        leaves
            .iter()
            .map(|&(addr, id)| {
                let (&node, scope) = addr.split_last().expect("operators have addresses");
                let mut in_channels = self.into.get(&(scope, node)).cloned().unwrap_or_default();
                in_channels.sort_by_key(|&c| (self.channel(c).target.1, c));
                let mut inputs = Vec::new();
                for &c in &in_channels {
                    let mut producers = Vec::new();
                    self.producers(scope, self.channel(c).source, 0, &mut producers);
                    inputs.extend(producers.iter().filter_map(|p| index.get(p).copied()));
                }
                let mut ports: Vec<(usize, Vec<usize>)> = Vec::new();
                let mut exchange = false;
                for &c in self.from.get(&(scope, node)).into_iter().flatten() {
                    let ch = self.channel(c);
                    let at = ports
                        .iter()
                        .position(|(p, _)| *p == ch.source.1)
                        .unwrap_or_else(|| {
                            ports.push((ch.source.1, Vec::new()));
                            ports.len() - 1
                        });
                    ports[at].1.push(c);
                    exchange |= self.slots[c].crossed;
                }
                ports.sort_unstable();
                Listed {
                    id,
                    name: self.slots[id]
                        .operator
                        .as_ref()
                        .map_or_else(String::new, |o| o.name.clone()),
                    inputs,
                    in_channels,
                    out_ports: ports.into_iter().map(|(_, cs)| cs).collect(),
                    exchange,
                }
            })
            .collect()
    }

    /// The leaf operators behind output `source` (`(node, port)`) of scope `scope`, following
    /// edges through scope boundaries.
    fn producers(
        &self,
        scope: &[usize],
        source: (usize, usize),
        depth: usize,
        out: &mut Vec<usize>,
    ) {
        if depth > MAX_SCOPE_DEPTH {
            return;
        }
        let (node, port) = source;
        if node == 0 {
            // The scope's input `port`: whatever feeds that input in the parent scope.
            let Some((&me, parent)) = scope.split_last() else {
                return;
            };
            for &c in self.into.get(&(parent, me)).into_iter().flatten() {
                let ch = self.channel(c);
                if ch.target.1 == port {
                    self.producers(parent, ch.source, depth + 1, out);
                }
            }
            return;
        }
        let mut addr = scope.to_vec();
        addr.push(node);
        if self.scopes.contains(addr.as_slice()) {
            // A nested scope's output `port`: whatever feeds that output inside it.
            for &c in self.into.get(&(addr.as_slice(), 0)).into_iter().flatten() {
                let ch = self.channel(c);
                if ch.target.1 == port {
                    self.producers(&addr, ch.source, depth + 1, out);
                }
            }
        } else if let Some(&id) = self.by_addr.get(addr.as_slice()) {
            out.push(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use timely::logging::{ChannelsEvent, MessagesEvent, OperatesEvent, ScheduleEvent};

    use super::*;

    fn op(id: usize, addr: &[usize], name: &str) -> TimelyEvent {
        TimelyEvent::Operates(OperatesEvent {
            id,
            addr: addr.to_vec(),
            name: name.into(),
        })
    }

    fn channel(
        id: usize,
        scope: &[usize],
        source: (usize, usize),
        target: (usize, usize),
    ) -> TimelyEvent {
        TimelyEvent::Channels(ChannelsEvent {
            id,
            scope_addr: scope.to_vec(),
            source,
            target,
            typ: "Vec<u64>".into(),
        })
    }

    /// A message on `channel` between workers `from` and `to`, logged by this worker (0).
    fn message(
        channel: usize,
        is_send: bool,
        (from, to): (usize, usize),
        records: i64,
    ) -> TimelyEvent {
        TimelyEvent::Messages(MessagesEvent {
            is_send,
            channel,
            source: from,
            target: to,
            seq_no: 0,
            record_count: records,
        })
    }

    fn at(ns: u64) -> Duration {
        Duration::from_nanos(ns)
    }

    /// Dataflow 0 (id 0): Source (1) -> pipeline (2) -> FlatMap (3) -> exchange (4) ->
    /// Count (5) -> channel 7 into a region (6) -> through the region's input, channel 8
    /// (pipeline) -> Sink (9). Dataflow 1 (id 10) holds Probe (11).
    fn built() -> Tally {
        let mut t = Tally {
            dataflow: Some(0),
            ..Tally::default()
        };
        let events = [
            channel(2, &[0], (1, 0), (2, 0)),
            channel(4, &[0], (2, 0), (3, 0)),
            channel(7, &[0], (3, 0), (4, 0)),
            channel(8, &[0, 4], (0, 0), (1, 0)),
            op(1, &[0, 1], "Source"),
            op(3, &[0, 2], "FlatMap"),
            op(5, &[0, 3], "Count"),
            op(9, &[0, 4, 1], "Sink"),
            op(6, &[0, 4], "Region"),
            op(0, &[0], "Dataflow"),
            op(11, &[1, 1], "Probe"),
            op(10, &[1], "Dataflow"),
        ];
        for e in events {
            t.record(at(0), e);
        }
        t
    }

    #[test]
    fn leaf_operators_of_the_watched_dataflow_form_the_graph_through_regions() {
        let mut t = built();
        let mut out = Vec::new();
        t.metrics(&mut out);
        let graph: Vec<(&str, &[usize])> = out
            .iter()
            .map(|o| (o.name.as_str(), o.inputs.as_slice()))
            .collect();
        assert_eq!(
            graph,
            [
                ("Source", &[][..]),
                ("FlatMap", &[0][..]),
                ("Count", &[1][..]),
                ("Sink", &[2][..]),
            ]
        );
        assert!(
            out.iter()
                .all(|o| o.fill.is_none() && o.state_records.is_none())
        );
    }

    #[test]
    fn own_time_excludes_nested_schedules() {
        let mut t = built();
        let sched = [
            (0, ScheduleEvent::start(0)),
            (10, ScheduleEvent::start(1)),
            (30, ScheduleEvent::stop(1)),
            (30, ScheduleEvent::start(6)),
            (32, ScheduleEvent::start(9)),
            (52, ScheduleEvent::stop(9)),
            (53, ScheduleEvent::stop(6)),
            (60, ScheduleEvent::stop(0)),
            // Time between schedules (the worker loop, parking) is nobody's.
            (1000, ScheduleEvent::start(0)),
            (1001, ScheduleEvent::start(3)),
            (1005, ScheduleEvent::stop(3)),
            (1006, ScheduleEvent::stop(0)),
        ];
        for (ns, e) in sched {
            t.record(at(ns), TimelyEvent::Schedule(e));
        }
        assert_eq!(t.slots[0].own_ns, 10 + 7 + 1 + 1);
        assert_eq!(t.slots[6].own_ns, 2 + 1, "the region: its own time only");
        let mut out = Vec::new();
        t.metrics(&mut out);
        let busy: Vec<u64> = out.iter().map(|o| o.busy_ns).collect();
        assert_eq!(busy, [20, 4, 0, 20]);
    }

    #[test]
    fn records_are_counted_per_channel() {
        let mut t = built();
        let mut out = Vec::new();
        t.metrics(&mut out);
        let before: Vec<(Option<u64>, Option<u64>, bool)> = out
            .iter()
            .map(|o| (o.records_in, o.records_out, o.exchange))
            .collect();
        assert_eq!(
            before,
            [
                (None, Some(0), false),
                (Some(0), Some(0), false),
                (Some(0), Some(0), false),
                (Some(0), None, false),
            ],
            "nothing sent yet is 0; no channel in (the source) or out (the sink) is not counted"
        );
        // The source's pipeline carries 40 records; the exchange sends 30 of them to this
        // worker and 10 to the other, and this worker receives 5 more from it; the channel into
        // the region (timely's enter operator) carries the count's 25 within this worker.
        for e in [
            message(2, true, (0, 0), 40),
            message(2, false, (0, 0), 40),
            message(4, true, (0, 0), 30),
            message(4, true, (0, 1), 10),
            message(4, false, (0, 0), 30),
            message(4, false, (1, 0), 5),
            message(7, true, (0, 0), 25),
            message(7, false, (0, 0), 25),
        ] {
            t.record(at(0), e);
        }
        t.metrics(&mut out);
        let counts: Vec<(Option<u64>, Option<u64>, bool)> = out
            .iter()
            .map(|o| (o.records_in, o.records_out, o.exchange))
            .collect();
        assert_eq!(
            counts,
            [
                (None, Some(40), false),
                (Some(40), Some(40), true),
                (Some(35), Some(25), false),
                (Some(0), None, false),
            ],
            "the sink's channel (inside the region) carried nothing yet"
        );
    }

    #[test]
    fn the_listing_follows_new_operators() {
        let mut t = built();
        let mut out = Vec::new();
        t.metrics(&mut out);
        assert_eq!(out.len(), 4);
        t.record(at(0), op(13, &[0, 5], "Late"));
        t.metrics(&mut out);
        assert_eq!(out.len(), 5);
        assert_eq!(out[4].name, "Late");
        t.dataflow = None;
        t.changed = true;
        t.metrics(&mut out);
        assert_eq!(out.last().map(|o| o.name.as_str()), Some("Probe"));
    }
}
