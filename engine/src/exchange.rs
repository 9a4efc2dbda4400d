//! Exchange: moving records between workers through bounded SPSC rings.
//!
//! Every exchange edge (one `key_by` / `exchange` / `broadcast` call, made by every worker in the
//! same order) owns one ring per (producer, consumer) pair of distinct workers, carrying
//! [`Msg`]s: batches and watermarks, in FIFO order, so a watermark always follows the data it
//! covers. A second ring per pair carries emptied batches back to the producer, which reuses
//! them: in steady state the exchange allocates nothing. The share a worker keeps for itself
//! takes a direct path (a function call into its own receiver), no ring.
//!
//! The sender keeps one partial batch per destination and sends it when it reaches the batch
//! size. Partial batches and the latest watermark are flushed together when the worker goes
//! idle, when the latency budget has passed since the oldest of them arrived, and at end of
//! input. (So a record that arrives after a watermark may be delivered before it; this only
//! ever makes a record less late, never more.)
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
use crate::rings::{Msg, ReceiverEnd, SenderEnd};
use crate::stream::Stream;
use crate::time::{END_OF_INPUT, NO_PROGRESS, Timestamp, Watermark, advance_frontier};
use crate::wake::Wakers;

/// The receiving side of one edge on one worker: merges the channels' watermarks.
struct ReceiverCore<T> {
    me: usize,
    ends: Vec<Option<ReceiverEnd<T>>>,
    wms: Vec<Timestamp>,
    frontier: Timestamp,
    out: Rc<Port<T>>,
    ops: Rc<OpCounters>,
    wakers: Arc<Wakers>,
    capacity: usize,
}

impl<T> ReceiverCore<T> {
    /// Handles one message from channel `chan`; returns the emptied batch of a data message.
    fn handle(&mut self, chan: usize, msg: Msg<T>) -> Option<Vec<T>> {
        match msg {
            Msg::Data(mut batch, stamp) => {
                let n = batch.len() as u64;
                self.ops.add(0, n);
                self.out.push(&mut batch, stamp);
                Some(batch)
            }
            Msg::Watermark(wm) => {
                if let Some(frontier) = advance_frontier(&mut self.wms, chan, wm.time)
                    && frontier > self.frontier
                {
                    self.frontier = frontier;
                    self.out.watermark(Watermark::new(frontier, wm.emitted_ns));
                }
                None
            }
        }
    }

    /// The worker's own share, delivered by a direct call.
    fn deliver_local(&mut self, batch: &mut Vec<T>, stamp: u64) {
        self.ops.add(0, batch.len() as u64);
        self.out.push(batch, stamp);
    }

    fn ended(&self) -> bool {
        self.frontier == END_OF_INPUT
    }
}

struct ReceiverDriver<T>(Rc<RefCell<ReceiverCore<T>>>);

impl<T> Driver for ReceiverDriver<T> {
    fn poll(&mut self, _now_ns: u64, gate: &Gate) -> DriverPoll {
        let mut core = self.0.borrow_mut();
        let mut progress = false;
        let peers = core.ends.len();
        'channels: for chan in 0..peers {
            if chan == core.me {
                continue;
            }
            let mut popped = false;
            for _ in 0..core.capacity {
                if gate.blocked() {
                    if popped {
                        core.wakers.wake(chan);
                    }
                    progress = true;
                    break 'channels;
                }
                let Some(end) = core.ends[chan].as_mut() else {
                    break;
                };
                let Ok(msg) = end.data.pop() else {
                    break;
                };
                popped = true;
                if let Some(batch) = core.handle(chan, msg)
                    && let Some(end) = core.ends[chan].as_mut()
                {
                    // A full return ring only means the producer has enough spare batches.
                    let _ = end.back.push(batch);
                }
            }
            if popped {
                progress = true;
                core.wakers.wake(chan);
            }
        }
        DriverPoll {
            progress,
            done: core.ended(),
            wake_at: None,
        }
    }

    fn has_work(&self) -> bool {
        self.0
            .borrow()
            .ends
            .iter()
            .flatten()
            .any(|end| !end.data.is_empty())
    }
}

/// Routes the records of a batch into per-destination buffers.
type Partition<T> = Box<dyn FnMut(&mut Vec<T>, &mut [Vec<T>])>;

/// The sending side of one edge on one worker.
pub(crate) struct Sender<T> {
    me: usize,
    batch_size: usize,
    partition: Partition<T>,
    bufs: Vec<Vec<T>>,
    stamps: Vec<u64>,
    ends: Vec<Option<SenderEnd<T>>>,
    pending: Vec<VecDeque<Msg<T>>>,
    pending_count: Rc<Cell<usize>>,
    local: Rc<RefCell<ReceiverCore<T>>>,
    wm_in: Option<Watermark>,
    wm_sent: Timestamp,
    oldest_ns: Option<u64>,
    ctx: Rc<BuildCtx>,
    ops: Rc<OpCounters>,
    spare: Vec<Vec<T>>,
}

impl<T> Sender<T> {
    fn fresh(&mut self, dest: usize) -> Vec<T> {
        if let Some(end) = self.ends[dest].as_mut()
            && let Ok(batch) = end.back.pop()
        {
            return batch;
        }
        self.spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.batch_size))
    }

    fn send_buf(&mut self, dest: usize) {
        let stamp = std::mem::take(&mut self.stamps[dest]);
        if dest == self.me {
            self.local
                .borrow_mut()
                .deliver_local(&mut self.bufs[dest], stamp);
            return;
        }
        let fresh = self.fresh(dest);
        let batch = std::mem::replace(&mut self.bufs[dest], fresh);
        WorkerCounters::add(&self.ctx.counters.batches_sent, 1);
        WorkerCounters::add(
            &self.ctx.counters.bytes_sent,
            (batch.len() * std::mem::size_of::<T>()) as u64,
        );
        self.send_msg(dest, Msg::Data(batch, stamp));
    }

    fn send_msg(&mut self, dest: usize, msg: Msg<T>) {
        let end = self.ends[dest]
            .as_mut()
            .expect("a remote destination has a ring");
        if self.pending[dest].is_empty() {
            match end.data.push(msg) {
                Ok(()) => self.ctx.wakers.wake(dest),
                Err(PushError::Full(msg)) => {
                    self.pending[dest].push_back(msg);
                    self.pending_count.set(self.pending_count.get() + 1);
                }
            }
        } else {
            self.pending[dest].push_back(msg);
            self.pending_count.set(self.pending_count.get() + 1);
        }
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
        // Watermarks waiting for the same flush are merged into the newest time with the
        // oldest stamp: latency may be overstated for some results, never hidden.
        let stamp = self
            .wm_in
            .map_or(wm.emitted_ns, |old| old.emitted_ns.min(wm.emitted_ns));
        self.wm_in = Some(Watermark::new(wm.time, stamp));
        if wm.is_end() {
            self.flush_all();
        } else if self.oldest_ns.is_none() {
            self.oldest_ns = Some(self.ctx.clock.now_ns());
        }
    }
}

impl<T> SenderDyn for Sender<T> {
    fn retry_pending(&mut self) -> bool {
        let mut progress = false;
        for dest in 0..self.pending.len() {
            let Some(end) = self.ends[dest].as_mut() else {
                continue;
            };
            let mut pushed = false;
            while let Some(msg) = self.pending[dest].pop_front() {
                match end.data.push(msg) {
                    Ok(()) => {
                        pushed = true;
                        self.pending_count.set(self.pending_count.get() - 1);
                    }
                    Err(PushError::Full(msg)) => {
                        self.pending[dest].push_front(msg);
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
        if let Some(wm) = self.wm_in.take()
            && wm.time > self.wm_sent
        {
            self.wm_sent = wm.time;
            for dest in 0..self.bufs.len() {
                if dest == self.me {
                    let _ = self.local.borrow_mut().handle(dest, Msg::Watermark(wm));
                } else {
                    self.send_msg(dest, Msg::Watermark(wm));
                }
            }
            sent = true;
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
        self.pending
            .iter()
            .zip(&self.ends)
            .any(|(p, end)| !p.is_empty() && end.as_ref().is_some_and(|e| !e.data.is_full()))
    }

    fn fill(&self, fill: &mut [f32]) {
        for (to, end) in self.ends.iter().enumerate() {
            if let Some(end) = end {
                let cap = end.data.buffer().capacity();
                let used = cap - end.data.slots();
                let f = used as f32 / cap as f32;
                if f > fill[to] {
                    fill[to] = f;
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
        let (senders, receivers) =
            ctx.shared
                .registry
                .claim::<T>(edge, ctx.index, peers, ctx.ring_capacity);
        let ops = ctx.operator(name);

        // The receiver's output is fed by the receiver itself and, through the local path, by
        // everything upstream of the sender.
        let mut next: Stream<T> = self.derive();
        let gate = Rc::new(Gate::default());
        next.gates.push(Rc::clone(&gate));

        let mut wms = vec![NO_PROGRESS; peers];
        wms.shrink_to_fit();
        let core = Rc::new(RefCell::new(ReceiverCore {
            me: ctx.index,
            ends: receivers,
            wms,
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
            bufs: (0..peers)
                .map(|_| Vec::with_capacity(ctx.batch_size))
                .collect(),
            stamps: vec![0; peers],
            ends: senders,
            pending: (0..peers).map(|_| VecDeque::new()).collect(),
            pending_count,
            local: core,
            wm_in: None,
            wm_sent: NO_PROGRESS,
            oldest_ns: None,
            ctx: Rc::clone(&ctx),
            ops,
            spare: Vec::new(),
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
}
