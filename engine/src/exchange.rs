//! Exchange: moving records between workers through bounded SPSC rings.
//!
//! Every exchange edge (one `key_by` / `exchange` / `broadcast` call, made by every worker in the
//! same order) may use one ring per (producer, consumer) pair of distinct workers, carrying
//! [`Msg`]s: batches and watermarks, in FIFO order, so a watermark always follows the data it
//! covers. A second ring per pair carries emptied batches back to the producer, which reuses
//! them: in steady state the exchange allocates nothing. The share a worker keeps for itself
//! takes a direct path (a function call into its own receiver), no ring.
//!
//! **Memory by need.** Nothing per pair is allocated up front. A producer's partial batch for a
//! destination is an empty `Vec` until a record goes there and then grows as records come (a
//! returned batch keeps its capacity); the ring pair is created with the first batch sent to
//! that destination ([`rings`](crate::rings)). Watermarks reach consumers that have no ring
//! from a producer through the edge's published-watermark table, so an idle edge holds only a
//! few words per pair (the partial-batch and ring slots) however many workers run.
//!
//! The sender keeps one partial batch per destination and sends it when it reaches the batch
//! size. Partial batches are flushed when the worker goes idle, when the latency budget has
//! passed since the oldest of them arrived, at end of input, and whenever a watermark arrives:
//! the watermark goes on at once, after the partial batches it must follow, so the windows
//! beyond the exchange fire as soon as their input is complete and a firing's results cross
//! with the watermark that fired them (held for fuller batches, a watermark delayed every
//! firing behind it by up to the budget). Watermarks advance about once per source poll, so
//! data still travels in batches of about a poll's share per destination or more. A flush sends
//! the partial batches, publishes the watermark in the table, then pushes it into every ring
//! the producer has.
//!
//! **Backpressure.** A message that finds its ring full is kept in the sender's pending queue
//! for that destination (FIFO preserved) and the sender's pending count rises. Every driver
//! (source or receiver) upstream of a sender with pending messages stops feeding its chain
//! (the [`Gate`]); the worker keeps running everything else (in particular its receivers, whose
//! chains end in other edges or sinks), retries pending sends every loop, and parks when
//! nothing moves; the consumer wakes it after freeing ring space. Since the dataflow is acyclic
//! the receivers of the last edge always drain, so every edge eventually drains: no deadlock at
//! any ring capacity. Pending messages are bounded by what one input batch (or one timer or
//! watermark firing) produces.
//!
//! **Fill.** Each ring remembers the fullest it was at a send since the last snapshot (a
//! message that found it full counts as 100 %); the snapshot reports that peak, so a ring that
//! a consumer drains just before the snapshot still shows the backpressure it caused.
//!
//! **Layer.** Dataflow, above [`stream`](crate::stream): it adds methods to [`Stream`]. The
//! rings and their registry are a base module ([`rings`](crate::rings)); the worker loop
//! reaches senders and receivers only through the build context's `SenderDyn` and `Driver`
//! traits, so nothing below imports from here.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

use rtrb::PushError;

use crate::context::{BuildCtx, Driver, DriverPoll, SenderDyn};
use crate::counters::{OpCounters, WorkerCounters};
use crate::gate::Gate;
use crate::port::{Port, Push};
use crate::rings::{EdgeShared, Msg, NewChannel, ReceiverEnd, SenderEnd};
use crate::stream::Stream;
use crate::time::{END_OF_INPUT, NO_PROGRESS, Timestamp, Watermark};
use crate::wake::Wakers;

/// A ring this worker receives on, and the last watermark it delivered.
struct InChan<T> {
    from: usize,
    end: ReceiverEnd<T>,
    wm: Timestamp,
}

/// The receiving side of one edge on one worker: its rings (as they appear) and the edge's
/// published watermarks, merged into one frontier.
struct ReceiverCore<T> {
    me: usize,
    edge: Arc<EdgeShared<T>>,
    chans: Vec<InChan<T>>,
    /// Rings taken from the inbox so far.
    taken: usize,
    scratch: Vec<NewChannel<T>>,
    /// The edge's published minimum (`G`) as last read.
    global: Timestamp,
    /// The stamp of the newest watermark seen (a rise of `G` or a ring's watermark).
    stamp: u64,
    frontier: Timestamp,
    out: Rc<Port<T>>,
    ops: Rc<OpCounters>,
    wakers: Arc<Wakers>,
    capacity: usize,
}

impl<T> ReceiverCore<T> {
    /// The worker's own share, delivered by a direct call.
    fn deliver_local(&mut self, batch: &mut Vec<T>, stamp: u64) {
        self.ops.add(0, batch.len() as u64);
        self.out.push(batch, stamp);
    }

    /// Forwards the frontier if it advanced: reads `G` first, then takes new rings, then takes
    /// the minimum with every ring's watermark (the order the rings module's proof needs).
    fn advance(&mut self) {
        let g = self.edge.progress.read();
        if g.time > self.global {
            self.global = g.time;
            self.stamp = g.emitted_ns;
        }
        if self.edge.has_new(self.me, self.taken) {
            self.taken += self.edge.take_new(self.me, &mut self.scratch);
            self.chans.extend(self.scratch.drain(..).map(|c| InChan {
                from: c.from,
                end: c.end,
                wm: c.watermark,
            }));
        }
        let frontier = self
            .chans
            .iter()
            .map(|c| c.wm)
            .fold(self.global, Timestamp::min);
        if frontier > self.frontier {
            self.frontier = frontier;
            self.out.watermark(Watermark::new(frontier, self.stamp));
        }
    }

    fn ended(&self) -> bool {
        self.frontier == END_OF_INPUT
    }
}

struct ReceiverDriver<T>(Rc<RefCell<ReceiverCore<T>>>);

impl<T> Driver for ReceiverDriver<T> {
    fn counters(&self) -> Rc<OpCounters> {
        Rc::clone(&self.0.borrow().ops)
    }

    fn poll(&mut self, _now_ns: u64, gate: &Gate) -> DriverPoll {
        let mut core = self.0.borrow_mut();
        let before = core.frontier;
        let mut progress = false;
        // Indices, not an iterator: a watermark may take new rings into `chans` (appended).
        'channels: for c in 0..core.chans.len() {
            let mut popped = false;
            for _ in 0..core.capacity {
                if gate.blocked() {
                    if popped {
                        core.wakers.wake(core.chans[c].from);
                    }
                    progress = true;
                    break 'channels;
                }
                let Ok(msg) = core.chans[c].end.data.pop() else {
                    break;
                };
                popped = true;
                match msg {
                    Msg::Data(mut batch, stamp) => {
                        core.ops.add(0, batch.len() as u64);
                        core.out.push(&mut batch, stamp);
                        // A full return ring only means the producer has enough spare batches.
                        let _ = core.chans[c].end.back.push(batch);
                    }
                    Msg::Watermark(wm) => {
                        // Applied at once, before the messages behind it, as it arrived.
                        if wm.time > core.chans[c].wm {
                            core.chans[c].wm = wm.time;
                            core.stamp = wm.emitted_ns;
                            core.advance();
                        }
                    }
                }
            }
            if popped {
                progress = true;
                core.wakers.wake(core.chans[c].from);
            }
        }
        core.advance();
        DriverPoll {
            progress: progress || core.frontier > before,
            done: core.ended(),
            wake_at: None,
            held: false,
        }
    }

    fn has_work(&self) -> bool {
        let core = self.0.borrow();
        core.chans.iter().any(|c| !c.end.data.is_empty())
            || core.edge.has_new(core.me, core.taken)
            || core.edge.progress.read().time > core.global
    }
}

/// Routes the records of a batch into per-destination buffers.
type Partition<T> = Box<dyn FnMut(&mut Vec<T>, &mut [Vec<T>])>;

/// A ring this worker sends on, created with the first batch for its destination.
struct OutChan<T> {
    end: SenderEnd<T>,
    /// Messages that found the ring full, oldest first.
    pending: VecDeque<Msg<T>>,
    /// The fullest the ring was at a send since the last snapshot (0.0..=1.0).
    peak: Cell<f32>,
}

impl<T> OutChan<T> {
    fn occupancy(&self) -> f32 {
        let cap = self.end.data.buffer().capacity();
        (cap - self.end.data.slots()) as f32 / cap as f32
    }

    fn note_fill(&self, fill: f32) {
        if fill > self.peak.get() {
            self.peak.set(fill);
        }
    }
}

/// The sending side of one edge on one worker.
pub(crate) struct Sender<T> {
    me: usize,
    batch_size: usize,
    partition: Partition<T>,
    /// Partial batches per destination; empty (no allocation) until records arrive for it.
    bufs: Vec<Vec<T>>,
    stamps: Vec<u64>,
    /// Rings by destination, created on first use.
    chans: Vec<Option<Box<OutChan<T>>>>,
    /// Destinations that have a ring, in the order they were created.
    connected: Vec<usize>,
    edge: Arc<EdgeShared<T>>,
    pending_count: Rc<Cell<usize>>,
    local: Rc<RefCell<ReceiverCore<T>>>,
    wm_sent: Timestamp,
    oldest_ns: Option<u64>,
    ctx: Rc<BuildCtx>,
    ops: Rc<OpCounters>,
}

impl<T> Sender<T> {
    /// Creates the ring to `dest` (and posts it to `dest`) on first use.
    fn connect(&mut self, dest: usize) {
        if self.chans[dest].is_none() {
            let end = self.edge.connect(self.me, dest, self.wm_sent);
            self.chans[dest] = Some(Box::new(OutChan {
                end,
                pending: VecDeque::new(),
                peak: Cell::new(0.0),
            }));
            self.connected.push(dest);
        }
    }

    fn send_buf(&mut self, dest: usize) {
        let stamp = std::mem::take(&mut self.stamps[dest]);
        if dest == self.me {
            self.local
                .borrow_mut()
                .deliver_local(&mut self.bufs[dest], stamp);
            return;
        }
        self.connect(dest);
        // A returned batch keeps the capacity it grew to; a new one grows by need.
        let fresh = self.chans[dest]
            .as_deref_mut()
            .and_then(|c| c.end.back.pop().ok())
            .unwrap_or_default();
        let batch = std::mem::replace(&mut self.bufs[dest], fresh);
        WorkerCounters::add(&self.ctx.counters.batches_sent, 1);
        WorkerCounters::add(
            &self.ctx.counters.bytes_sent,
            (batch.len() * std::mem::size_of::<T>()) as u64,
        );
        self.send_msg(dest, Msg::Data(batch, stamp));
    }

    fn send_msg(&mut self, dest: usize, msg: Msg<T>) {
        self.connect(dest);
        let chan = self.chans[dest]
            .as_deref_mut()
            .expect("connect made the ring");
        if chan.pending.is_empty() {
            match chan.end.data.push(msg) {
                Ok(()) => {
                    chan.note_fill(chan.occupancy());
                    self.ctx.wakers.wake(dest);
                    return;
                }
                Err(PushError::Full(msg)) => chan.pending.push_back(msg),
            }
        } else {
            chan.pending.push_back(msg);
        }
        chan.note_fill(1.0);
        self.pending_count.set(self.pending_count.get() + 1);
    }
}

impl<T> Push<T> for Sender<T> {
    fn push(&mut self, batch: &mut Vec<T>, stamp: u64) {
        self.ops.add(batch.len() as u64, 0);
        (self.partition)(batch, &mut self.bufs);
        for dest in 0..self.bufs.len() {
            let len = self.bufs[dest].len();
            if len == 0 {
                continue;
            }
            if stamp != 0 && (self.stamps[dest] == 0 || stamp < self.stamps[dest]) {
                self.stamps[dest] = stamp;
            }
            if len >= self.batch_size {
                self.send_buf(dest);
            }
        }
        if self.oldest_ns.is_none() && self.bufs.iter().any(|b| !b.is_empty()) {
            self.oldest_ns = Some(self.ctx.clock.now_ns());
        }
    }

    fn watermark(&mut self, wm: Watermark) {
        if wm.time <= self.wm_sent {
            return;
        }
        // A watermark goes on at once, after the partial batches it must follow: the windows
        // beyond this exchange fire as soon as their input is complete, and the results
        // waiting here (a firing's, stamped) go with the watermark that fired them. Holding
        // it for fuller batches delayed every firing by up to the latency budget.
        self.flush_all();
        // Publish first, then push into the rings: a ring never delivers a watermark its
        // producer has not published (the rings module's proof).
        self.wm_sent = wm.time;
        let rose = self.edge.progress.publish(self.me, wm);
        for i in 0..self.connected.len() {
            self.send_msg(self.connected[i], Msg::Watermark(wm));
        }
        self.local.borrow_mut().advance();
        if rose {
            self.ctx.wakers.wake_all_sleeping(self.me);
        }
    }
}

impl<T> SenderDyn for Sender<T> {
    fn counters(&self) -> Rc<OpCounters> {
        Rc::clone(&self.ops)
    }

    fn retry_pending(&mut self) -> bool {
        let mut progress = false;
        for &dest in &self.connected {
            let Some(chan) = self.chans[dest].as_deref_mut() else {
                continue;
            };
            let mut pushed = false;
            while let Some(msg) = chan.pending.pop_front() {
                match chan.end.data.push(msg) {
                    Ok(()) => {
                        pushed = true;
                        self.pending_count.set(self.pending_count.get() - 1);
                    }
                    Err(PushError::Full(msg)) => {
                        chan.pending.push_front(msg);
                        break;
                    }
                }
            }
            if pushed {
                progress = true;
                self.ctx.wakers.wake(dest);
            }
        }
        progress
    }

    fn flush_all(&mut self) -> bool {
        let mut sent = false;
        for dest in 0..self.bufs.len() {
            if !self.bufs[dest].is_empty() {
                self.send_buf(dest);
                sent = true;
            }
        }
        self.oldest_ns = None;
        sent
    }

    fn oldest_ns(&self) -> Option<u64> {
        self.oldest_ns
    }

    fn is_pending(&self) -> bool {
        self.pending_count.get() > 0
    }

    fn can_retry(&self) -> bool {
        self.connected.iter().any(|&dest| {
            self.chans[dest]
                .as_deref()
                .is_some_and(|c| !c.pending.is_empty() && !c.end.data.is_full())
        })
    }

    fn fill(&self, fill: &mut [f32]) {
        for &dest in &self.connected {
            if let Some(chan) = self.chans[dest].as_deref() {
                // The fullest the ring was since the last snapshot, not only now: a snapshot
                // taken just after the consumer drained a ring would read it as empty.
                let f = chan.peak.replace(0.0).max(chan.occupancy());
                if f > fill[dest] {
                    fill[dest] = f;
                }
            }
        }
    }
}

/// Spreads a 64-bit key hash over `peers` workers (a fixed mix, then a multiply-shift range
/// reduction, so raw sequential ids spread evenly too).
#[inline]
pub fn worker_for_key(key_hash: u64, peers: usize) -> usize {
    let mut h = key_hash ^ (key_hash >> 33);
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    ((u128::from(h) * peers as u128) >> 64) as usize
}

impl<T: Send + 'static> Stream<T> {
    /// Sends every record to the worker owning its key: `key(record)` is a 64-bit key hash
    /// (raw integer keys are fine, the engine mixes them); the owner is
    /// [`worker_for_key`]`(key, peers)`.
    pub fn key_by(self, mut key: impl FnMut(&T) -> u64 + 'static) -> Stream<T> {
        let peers = self.ctx.peers;
        self.exchange_with(
            "key_by",
            Box::new(move |batch: &mut Vec<T>, bufs: &mut [Vec<T>]| {
                if peers == 1 {
                    bufs[0].append(batch);
                    return;
                }
                for record in batch.drain(..) {
                    bufs[worker_for_key(key(&record), peers)].push(record);
                }
            }),
        )
    }

    /// Sends every record to worker `route(record) % peers`.
    pub fn exchange(self, mut route: impl FnMut(&T) -> usize + 'static) -> Stream<T> {
        let peers = self.ctx.peers;
        self.exchange_with(
            "exchange",
            Box::new(move |batch: &mut Vec<T>, bufs: &mut [Vec<T>]| {
                for record in batch.drain(..) {
                    bufs[route(&record) % peers].push(record);
                }
            }),
        )
    }

    /// Sends a copy of every record to every worker.
    pub fn broadcast(self) -> Stream<T>
    where
        T: Clone,
    {
        self.exchange_with(
            "broadcast",
            Box::new(|batch: &mut Vec<T>, bufs: &mut [Vec<T>]| {
                let (last, rest) = bufs.split_last_mut().expect("at least one worker");
                for buf in rest {
                    buf.extend_from_slice(batch);
                }
                last.append(batch);
            }),
        )
    }

    fn exchange_with(self, name: &str, partition: Partition<T>) -> Stream<T> {
        let ctx = Rc::clone(&self.ctx);
        let edge = ctx.next_edge();
        let peers = ctx.peers;
        let shared = ctx
            .shared
            .registry
            .claim::<T>(edge, peers, ctx.ring_capacity);
        // The receiver's output is fed by the receiver itself and, through the local path, by
        // everything upstream of the sender.
        let mut next: Stream<T> = self.derive();
        let ops = self.register(name, &[], &mut next);
        let gate = Rc::new(Gate::default());
        next.gates.push(Rc::clone(&gate));

        let core = Rc::new(RefCell::new(ReceiverCore {
            me: ctx.index,
            edge: Arc::clone(&shared),
            chans: Vec::new(),
            taken: 0,
            scratch: Vec::new(),
            global: NO_PROGRESS,
            stamp: 0,
            frontier: NO_PROGRESS,
            out: Rc::clone(&next.port),
            ops: Rc::clone(&ops),
            wakers: Arc::clone(&ctx.wakers),
            capacity: ctx.ring_capacity,
        }));
        ctx.add_driver(Box::new(ReceiverDriver(Rc::clone(&core))), gate);

        let pending_count = Rc::new(Cell::new(0));
        for gate in &self.gates {
            gate.watch(&pending_count);
        }
        let sender = Rc::new(RefCell::new(Sender {
            me: ctx.index,
            batch_size: ctx.batch_size,
            partition,
            bufs: (0..peers).map(|_| Vec::new()).collect(),
            stamps: vec![0; peers],
            chans: (0..peers).map(|_| None).collect(),
            connected: Vec::new(),
            edge: shared,
            pending_count,
            local: core,
            wm_sent: NO_PROGRESS,
            oldest_ns: None,
            ctx: Rc::clone(&ctx),
            ops,
        }));
        ctx.senders.borrow_mut().push(sender.clone());
        self.attach(Box::new(SenderPush(sender)));
        next
    }
}

struct SenderPush<T>(Rc<RefCell<Sender<T>>>);

impl<T> Push<T> for SenderPush<T> {
    fn push(&mut self, batch: &mut Vec<T>, stamp: u64) {
        self.0.borrow_mut().push(batch, stamp);
    }
    fn watermark(&mut self, wm: Watermark) {
        self.0.borrow_mut().watermark(wm);
    }
    fn counters(&self) -> Option<Rc<OpCounters>> {
        Some(Rc::clone(&self.0.borrow().ops))
    }
}
