//! Streams: typed handles to a worker's dataflow, and the fused operators behind them.
//!
//! A [`Stream<T>`] names an output port of some node. Calling a method on it attaches a
//! consumer to that port and returns the consumer's own output stream. Within a worker, nodes
//! call each other directly with whole batches (`&mut Vec<T>`, drained by the consumer), so
//! chains of `map`, `filter`, `flat_map`, `inspect` (and `unary` operators) are fused: no queue,
//! no copy beyond what the closure itself produces. Queues appear only where records change
//! worker: [`Stream::key_by`], [`Stream::exchange`], [`Stream::broadcast`].
//!
//! Watermarks travel the same path after the data they cover. Nodes with several inputs
//! (`union`, `binary`, exchange receivers) forward the minimum over their inputs when it
//! advances; single-input nodes forward what they receive (operators: what they return).
//!
//! A stream that is dropped without a consumer still receives its records: they are counted as
//! `dropped` in the worker's metrics, never lost silently.
//!
//! **Layer.** Dataflow, on top of the base modules (ports, gates, counters, the build context)
//! and the [`operator`](crate::operator) traits. The nodes that cross workers
//! ([`exchange`](crate::exchange)) and the window operators extend [`Stream`] from above; the
//! worker loop runs what is built here through the build context's traits, never by name.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::context::{BuildCtx, Timed};
use crate::counters::{OpCounters, WorkerCounters};
use crate::gate::Gate;
use crate::operator::{BinaryOperator, Operator, Output};
use crate::port::{Port, Push};
use crate::time::{END_FIRED, NO_PROGRESS, Timestamp, Watermark, advance_frontier};

/// A typed handle to a stream of `T` on one worker. Consumed by every method that attaches an
/// operator; use [`Stream::split`] to feed two consumers.
#[must_use = "a stream without a consumer drops its records (they are counted as dropped)"]
pub struct Stream<T> {
    pub(crate) port: Rc<Port<T>>,
    pub(crate) gates: Vec<Rc<Gate>>,
    pub(crate) ctx: Rc<BuildCtx>,
    /// The operator writing into `port` (its index in the worker's metrics), if any.
    pub(crate) from: Option<usize>,
}

impl<T> std::fmt::Debug for Stream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("worker", &self.ctx.index)
            .finish_non_exhaustive()
    }
}

impl<T: 'static> Stream<T> {
    /// A new stream on the same worker, fed by the same drivers as `self` (and, until the
    /// caller says otherwise, by the same operator).
    pub(crate) fn derive<U>(&self) -> Stream<U> {
        Stream {
            port: Rc::new(Port::new(Rc::clone(&self.ctx.counters))),
            gates: self.gates.clone(),
            ctx: Rc::clone(&self.ctx),
            from: self.from,
        }
    }

    /// Registers the operator `name` fed by this stream (and by the producers of its other
    /// inputs, `others`) and makes it the producer of `next`.
    pub(crate) fn register<U>(
        &self,
        name: &str,
        others: &[Option<usize>],
        next: &mut Stream<U>,
    ) -> Rc<OpCounters> {
        let inputs: Vec<Option<usize>> = std::iter::once(self.from)
            .chain(others.iter().copied())
            .collect();
        let ops = self.ctx.operator(name, &inputs);
        next.from = Some(ops.id);
        ops
    }

    /// The index of the worker this stream lives on.
    pub fn worker_index(&self) -> usize {
        self.ctx.index
    }

    /// The number of workers in the job.
    pub fn peers(&self) -> usize {
        self.ctx.peers
    }

    /// Applies `f` to every record (fused).
    pub fn map<U: 'static>(self, f: impl FnMut(T) -> U + 'static) -> Stream<U> {
        let mut next = self.derive();
        let ops = self.register("map", &[], &mut next);
        self.port.attach(Box::new(MapNode {
            f,
            out: Rc::clone(&next.port),
            buf: Vec::new(),
            ops,
        }));
        next
    }

    /// Keeps the records for which `f` returns `true` (fused; the others count as filtered:
    /// the operator's `records_in - records_out`).
    pub fn filter(self, f: impl FnMut(&T) -> bool + 'static) -> Stream<T> {
        let mut next = self.derive();
        let ops = self.register("filter", &[], &mut next);
        self.port.attach(Box::new(FilterNode {
            f,
            out: Rc::clone(&next.port),
            ops,
        }));
        next
    }

    /// Replaces every record by the records `f` returns (fused).
    pub fn flat_map<U: 'static, I: IntoIterator<Item = U>>(
        self,
        f: impl FnMut(T) -> I + 'static,
    ) -> Stream<U> {
        let mut next = self.derive();
        let ops = self.register("flat_map", &[], &mut next);
        self.port.attach(Box::new(FlatMapNode {
            f,
            out: Rc::clone(&next.port),
            buf: Vec::new(),
            batch_size: self.ctx.batch_size,
            ops,
        }));
        next
    }

    /// Calls `f` on every record and passes it on unchanged (fused).
    pub fn inspect(self, f: impl FnMut(&T) + 'static) -> Stream<T> {
        let mut next = self.derive();
        let ops = self.register("inspect", &[], &mut next);
        self.port.attach(Box::new(InspectNode {
            f,
            out: Rc::clone(&next.port),
            ops,
        }));
        next
    }

    /// Merges `other` into this stream; the watermark is the minimum of both.
    pub fn union(self, other: Stream<T>) -> Stream<T> {
        let mut next = self.derive();
        let Stream {
            port: other_port,
            gates: other_gates,
            from: other_from,
            ..
        } = other;
        for gate in &other_gates {
            if !next.gates.iter().any(|g| Rc::ptr_eq(g, gate)) {
                next.gates.push(Rc::clone(gate));
            }
        }
        let ops = self.register("union", &[other_from], &mut next);
        let core = Rc::new(RefCell::new(UnionCore {
            wms: vec![NO_PROGRESS; 2],
            frontier: NO_PROGRESS,
            out: Rc::clone(&next.port),
            ops,
        }));
        self.port.attach(Box::new(UnionInput {
            core: Rc::clone(&core),
            idx: 0,
        }));
        other_port.attach(Box::new(UnionInput { core, idx: 1 }));
        next
    }

    /// Sends every record to both returned streams (cloning each batch once).
    pub fn split(self) -> (Stream<T>, Stream<T>)
    where
        T: Clone,
    {
        let a = self.derive();
        let b = self.derive();
        self.port.attach(Box::new(SplitNode {
            a: Rc::clone(&a.port),
            b: Rc::clone(&b.port),
            buf: Vec::new(),
        }));
        (a, b)
    }

    /// Routes every record to one of two streams, or to neither: `f` turns it into
    /// `Some(Route::Left(a))`, `Some(Route::Right(b))` or `None`. Each record is moved once;
    /// [`Stream::split`] followed by a filter on each side would clone every record and
    /// filter it twice. Both streams carry this stream's watermarks. Counted as one operator,
    /// `partition`, whose output is both sides together.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use weir_engine::{Config, IterSource, Route, execute};
    ///
    /// let seen = Arc::new(Mutex::new((Vec::new(), Vec::new())));
    /// let sink = Arc::clone(&seen);
    /// execute(Config::new(1).with_pinning(false), move |worker| {
    ///     let (evens, odds) = worker
    ///         .source(IterSource::new(1..=7_i64, |t: &i64| *t, 0))
    ///         .partition(|t| match t % 3 {
    ///             0 => None,
    ///             _ if t % 2 == 0 => Some(Route::Left(t * 10)),
    ///             _ => Some(Route::Right(format!("odd {t}"))),
    ///         });
    ///     let (a, b) = (Arc::clone(&sink), Arc::clone(&sink));
    ///     evens.for_each(move |t| a.lock().expect("lock").0.push(t));
    ///     odds.for_each(move |t| b.lock().expect("lock").1.push(t));
    /// })?;
    /// let seen = seen.lock().expect("lock");
    /// assert_eq!(seen.0, [20, 40]);
    /// assert_eq!(seen.1, ["odd 1", "odd 5", "odd 7"]);
    /// # Ok::<(), weir_engine::EngineError>(())
    /// ```
    pub fn partition<A: 'static, B: 'static>(
        self,
        f: impl FnMut(T) -> Option<Route<A, B>> + 'static,
    ) -> (Stream<A>, Stream<B>) {
        let mut left = self.derive();
        let ops = self.register("partition", &[], &mut left);
        let right = left.derive();
        self.port.attach(Box::new(PartitionNode {
            f,
            left: Rc::clone(&left.port),
            right: Rc::clone(&right.port),
            left_buf: Vec::new(),
            right_buf: Vec::new(),
            batch_size: self.ctx.batch_size,
            ops,
        }));
        (left, right)
    }

    /// Passes every record on unchanged and sends what `f` returns for it, if anything, to a
    /// second stream (Flink's side output): a branch taken by a few records (a copy of some of
    /// them, or the rejects of a filter worth keeping) without copying the others, as
    /// [`Stream::split`] would. Returns `(main, side)`; both carry this stream's watermarks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use weir_engine::{Config, IterSource, execute};
    ///
    /// let seen = Arc::new(Mutex::new((Vec::new(), Vec::new())));
    /// let sink = Arc::clone(&seen);
    /// execute(Config::new(1).with_pinning(false), move |worker| {
    ///     let (main, side) = worker
    ///         .source(IterSource::new(1..=6_i64, |t: &i64| *t, 0))
    ///         .side_output(|t| (t % 3 == 0).then_some(t * 10));
    ///     let (a, b) = (Arc::clone(&sink), Arc::clone(&sink));
    ///     main.for_each(move |t| a.lock().expect("lock").0.push(t));
    ///     side.for_each(move |t| b.lock().expect("lock").1.push(t));
    /// })?;
    /// assert_eq!(*seen.lock().expect("lock"), (vec![1, 2, 3, 4, 5, 6], vec![30, 60]));
    /// # Ok::<(), weir_engine::EngineError>(())
    /// ```
    pub fn side_output<U: 'static>(
        self,
        f: impl FnMut(&T) -> Option<U> + 'static,
    ) -> (Stream<T>, Stream<U>) {
        let mut main = self.derive();
        let ops = self.register("side_output", &[], &mut main);
        let side = main.derive();
        self.port.attach(Box::new(SideOutputNode {
            f,
            main: Rc::clone(&main.port),
            side: Rc::clone(&side.port),
            buf: Vec::new(),
            ops,
        }));
        (main, side)
    }

    /// Delivers batches to `f`, which may drain them; what it leaves is discarded afterwards.
    /// Every record reaching a sink counts in the worker's `records_out`; batches stamped by a
    /// watermark record their latency.
    pub fn sink(self, f: impl FnMut(&mut Vec<T>) + 'static) {
        let ops = self.ctx.operator("sink", &[self.from]);
        let frontier = Rc::new(Cell::new(NO_PROGRESS));
        self.ctx
            .sink_frontiers
            .borrow_mut()
            .push(Rc::clone(&frontier));
        self.port.attach(Box::new(SinkNode {
            f,
            ops,
            frontier,
            ctx: Rc::clone(&self.ctx),
        }));
    }

    /// Delivers every record to `f` (a per-record [`Stream::sink`]).
    pub fn for_each(self, mut f: impl FnMut(T) + 'static) {
        self.sink(move |batch| batch.drain(..).for_each(&mut f));
    }

    /// The output side of a stateful operator named `name` (with its other inputs' producers,
    /// `others`) writing into `next`.
    fn emitter<U>(&self, next: &mut Stream<U>, name: &str, others: &[Option<usize>]) -> Emitter<U> {
        let ops = self.register(name, others, next);
        Emitter::new(
            Rc::clone(&next.port),
            ops,
            Rc::clone(&self.ctx.counters),
            self.ctx.batch_size,
        )
    }

    /// Runs a stateful operator on this worker's share of the stream.
    pub fn unary<O: Operator<In = T>>(self, name: &str, op: O) -> Stream<O::Out> {
        let mut next = self.derive();
        let node = Rc::new(RefCell::new(UnaryNode {
            op,
            emit: self.emitter(&mut next, name, &[]),
        }));
        self.ctx.timers.borrow_mut().push(node.clone());
        self.port.attach(Box::new(UnaryInput(node)));
        next
    }

    /// Runs a two-input operator on this worker's share of `self` (left) and `other` (right).
    pub fn binary<R: 'static, O: BinaryOperator<Left = T, Right = R>>(
        self,
        other: Stream<R>,
        name: &str,
        op: O,
    ) -> Stream<O::Out> {
        let mut next = self.derive();
        let Stream {
            port: other_port,
            gates: other_gates,
            from: other_from,
            ..
        } = other;
        for gate in &other_gates {
            if !next.gates.iter().any(|g| Rc::ptr_eq(g, gate)) {
                next.gates.push(Rc::clone(gate));
            }
        }
        let node = Rc::new(RefCell::new(BinaryNode {
            op,
            emit: self.emitter(&mut next, name, &[other_from]),
            left_wm: NO_PROGRESS,
            right_wm: NO_PROGRESS,
            frontier_in: NO_PROGRESS,
        }));
        self.ctx.timers.borrow_mut().push(node.clone());
        self.port.attach(Box::new(BinaryLeftInput {
            node: Rc::clone(&node),
        }));
        other_port.attach(Box::new(BinaryRightInput { node }));
        next
    }

    pub(crate) fn attach(&self, target: Box<dyn Push<T>>) {
        self.port.attach(target);
    }
}

struct MapNode<U, F> {
    f: F,
    out: Rc<Port<U>>,
    buf: Vec<U>,
    ops: Rc<OpCounters>,
}

impl<T, U, F: FnMut(T) -> U> Push<T> for MapNode<U, F> {
    fn push(&mut self, batch: &mut Vec<T>, stamp: u64) {
        let n = batch.len() as u64;
        self.buf.extend(batch.drain(..).map(&mut self.f));
        self.ops.add(n, n);
        self.out.push(&mut self.buf, stamp);
    }
    fn watermark(&mut self, wm: Watermark) {
        self.out.watermark(wm);
    }
    fn counters(&self) -> Option<Rc<OpCounters>> {
        Some(Rc::clone(&self.ops))
    }
}

struct FilterNode<T, F> {
    f: F,
    out: Rc<Port<T>>,
    ops: Rc<OpCounters>,
}

impl<T, F: FnMut(&T) -> bool> Push<T> for FilterNode<T, F> {
    fn push(&mut self, batch: &mut Vec<T>, stamp: u64) {
        let n = batch.len() as u64;
        batch.retain(|r| (self.f)(r));
        self.ops.add(n, batch.len() as u64);
        self.out.push(batch, stamp);
    }
    fn watermark(&mut self, wm: Watermark) {
        self.out.watermark(wm);
    }
    fn counters(&self) -> Option<Rc<OpCounters>> {
        Some(Rc::clone(&self.ops))
    }
}

struct FlatMapNode<U, F> {
    f: F,
    out: Rc<Port<U>>,
    buf: Vec<U>,
    batch_size: usize,
    ops: Rc<OpCounters>,
}

impl<T, U, I: IntoIterator<Item = U>, F: FnMut(T) -> I> Push<T> for FlatMapNode<U, F> {
    fn push(&mut self, batch: &mut Vec<T>, stamp: u64) {
        let n = batch.len() as u64;
        let mut produced = 0;
        for record in batch.drain(..) {
            self.buf.extend((self.f)(record));
            if self.buf.len() >= self.batch_size {
                produced += self.buf.len() as u64;
                self.out.push(&mut self.buf, stamp);
            }
        }
        produced += self.buf.len() as u64;
        self.ops.add(n, produced);
        self.out.push(&mut self.buf, stamp);
    }
    fn watermark(&mut self, wm: Watermark) {
        self.out.watermark(wm);
    }
    fn counters(&self) -> Option<Rc<OpCounters>> {
        Some(Rc::clone(&self.ops))
    }
}

struct InspectNode<T, F> {
    f: F,
    out: Rc<Port<T>>,
    ops: Rc<OpCounters>,
}

impl<T, F: FnMut(&T)> Push<T> for InspectNode<T, F> {
    fn push(&mut self, batch: &mut Vec<T>, stamp: u64) {
        batch.iter().for_each(&mut self.f);
        let n = batch.len() as u64;
        self.ops.add(n, n);
        self.out.push(batch, stamp);
    }
    fn watermark(&mut self, wm: Watermark) {
        self.out.watermark(wm);
    }
    fn counters(&self) -> Option<Rc<OpCounters>> {
        Some(Rc::clone(&self.ops))
    }
}

struct UnionCore<T> {
    wms: Vec<Timestamp>,
    frontier: Timestamp,
    out: Rc<Port<T>>,
    ops: Rc<OpCounters>,
}

struct UnionInput<T> {
    core: Rc<RefCell<UnionCore<T>>>,
    idx: usize,
}

impl<T> Push<T> for UnionInput<T> {
    fn push(&mut self, batch: &mut Vec<T>, stamp: u64) {
        let core = self.core.borrow();
        let n = batch.len() as u64;
        core.ops.add(n, n);
        core.out.push(batch, stamp);
    }
    fn watermark(&mut self, wm: Watermark) {
        let mut core = self.core.borrow_mut();
        let core = &mut *core;
        if let Some(frontier) = advance_frontier(&mut core.wms, self.idx, wm.time)
            && frontier > core.frontier
        {
            core.frontier = frontier;
            core.out.watermark(Watermark::new(frontier, wm.emitted_ns));
        }
    }
    fn counters(&self) -> Option<Rc<OpCounters>> {
        Some(Rc::clone(&self.core.borrow().ops))
    }
}

struct SplitNode<T> {
    a: Rc<Port<T>>,
    b: Rc<Port<T>>,
    buf: Vec<T>,
}

impl<T: Clone> Push<T> for SplitNode<T> {
    fn push(&mut self, batch: &mut Vec<T>, stamp: u64) {
        self.buf.extend_from_slice(batch);
        self.a.push(&mut self.buf, stamp);
        self.b.push(batch, stamp);
    }
    fn watermark(&mut self, wm: Watermark) {
        self.a.watermark(wm);
        self.b.watermark(wm);
    }
}

/// Where [`Stream::partition`] sends a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route<A, B> {
    /// To the first stream.
    Left(A),
    /// To the second stream.
    Right(B),
}

struct PartitionNode<A, B, F> {
    f: F,
    left: Rc<Port<A>>,
    right: Rc<Port<B>>,
    left_buf: Vec<A>,
    right_buf: Vec<B>,
    batch_size: usize,
    ops: Rc<OpCounters>,
}

impl<T, A, B, F: FnMut(T) -> Option<Route<A, B>>> Push<T> for PartitionNode<A, B, F> {
    fn push(&mut self, batch: &mut Vec<T>, stamp: u64) {
        let n = batch.len() as u64;
        let mut produced = 0;
        for record in batch.drain(..) {
            produced += match (self.f)(record) {
                Some(Route::Left(a)) => {
                    buffer(&mut self.left_buf, a, &self.left, self.batch_size, stamp)
                }
                Some(Route::Right(b)) => {
                    buffer(&mut self.right_buf, b, &self.right, self.batch_size, stamp)
                }
                None => 0,
            };
        }
        produced += (self.left_buf.len() + self.right_buf.len()) as u64;
        self.ops.add(n, produced);
        self.left.push(&mut self.left_buf, stamp);
        self.right.push(&mut self.right_buf, stamp);
    }
    fn watermark(&mut self, wm: Watermark) {
        self.left.watermark(wm);
        self.right.watermark(wm);
    }
    fn counters(&self) -> Option<Rc<OpCounters>> {
        Some(Rc::clone(&self.ops))
    }
}

/// Appends `record` to `buf` and sends `buf` on through `port` once it holds `batch_size`
/// records; returns how many records it sent.
#[inline]
fn buffer<T>(buf: &mut Vec<T>, record: T, port: &Port<T>, batch_size: usize, stamp: u64) -> u64 {
    buf.push(record);
    if buf.len() < batch_size {
        return 0;
    }
    let sent = buf.len() as u64;
    port.push(buf, stamp);
    sent
}

struct SideOutputNode<T, U, F> {
    f: F,
    main: Rc<Port<T>>,
    side: Rc<Port<U>>,
    buf: Vec<U>,
    ops: Rc<OpCounters>,
}

impl<T, U, F: FnMut(&T) -> Option<U>> Push<T> for SideOutputNode<T, U, F> {
    fn push(&mut self, batch: &mut Vec<T>, stamp: u64) {
        let n = batch.len() as u64;
        self.buf.extend(batch.iter().filter_map(&mut self.f));
        self.ops.add(n, n + self.buf.len() as u64);
        self.main.push(batch, stamp);
        self.side.push(&mut self.buf, stamp);
    }
    fn watermark(&mut self, wm: Watermark) {
        self.main.watermark(wm);
        self.side.watermark(wm);
    }
    fn counters(&self) -> Option<Rc<OpCounters>> {
        Some(Rc::clone(&self.ops))
    }
}

struct SinkNode<F> {
    f: F,
    ops: Rc<OpCounters>,
    frontier: Rc<Cell<Timestamp>>,
    ctx: Rc<BuildCtx>,
}

impl<T, F: FnMut(&mut Vec<T>)> Push<T> for SinkNode<F> {
    fn push(&mut self, batch: &mut Vec<T>, stamp: u64) {
        let n = batch.len() as u64;
        self.ops.add(n, n);
        WorkerCounters::add(&self.ctx.counters.records_out, n);
        if stamp != 0 && self.ctx.metrics {
            let now = self.ctx.clock.now_ns();
            let fired_by_end = stamp & END_FIRED != 0;
            let latency = now.saturating_sub(stamp & !END_FIRED);
            if fired_by_end {
                self.ctx.record_end_latency(latency, n);
            } else {
                self.ctx.record_latency(latency, n);
            }
        }
        (self.f)(batch);
    }
    fn watermark(&mut self, wm: Watermark) {
        self.frontier.set(self.frontier.get().max(wm.time));
    }
    fn counters(&self) -> Option<Rc<OpCounters>> {
        Some(Rc::clone(&self.ops))
    }
}

/// What every stateful operator node shares: its output port and batch buffer, its counters,
/// and the output watermark it last forwarded.
struct Emitter<Out> {
    out: Rc<Port<Out>>,
    buf: Vec<Out>,
    ops: Rc<OpCounters>,
    counters: Rc<WorkerCounters>,
    batch_size: usize,
    frontier_out: Timestamp,
}

impl<Out> Emitter<Out> {
    fn new(
        out: Rc<Port<Out>>,
        ops: Rc<OpCounters>,
        counters: Rc<WorkerCounters>,
        batch_size: usize,
    ) -> Self {
        Self {
            out,
            buf: Vec::new(),
            ops,
            counters,
            batch_size,
            frontier_out: NO_PROGRESS,
        }
    }

    /// Runs `f` with an [`Output`] whose results carry `stamp`, flushes what it pushed and counts
    /// `records_in` records in and the pushed records out.
    fn run<R>(
        &mut self,
        stamp: u64,
        records_in: u64,
        f: impl FnOnce(&mut Output<'_, Out>) -> R,
    ) -> R {
        let mut out = Output::new(
            &mut self.buf,
            &self.out,
            self.batch_size,
            stamp,
            &self.counters.late,
        )
        .with_state_cell(&self.ops.state_records);
        let result = f(&mut out);
        out.flush();
        self.ops.add(records_in, out.pushed());
        result
    }

    /// Forwards the operator's output watermark `held` downstream when it advanced.
    fn advance(&mut self, held: Timestamp, stamp: u64) {
        if held > self.frontier_out {
            self.frontier_out = held;
            self.out.watermark(Watermark::new(held, stamp));
        }
    }
}

struct UnaryNode<O: Operator> {
    op: O,
    emit: Emitter<O::Out>,
}

struct UnaryInput<O: Operator>(Rc<RefCell<UnaryNode<O>>>);

impl<O: Operator> Push<O::In> for UnaryInput<O> {
    fn push(&mut self, batch: &mut Vec<O::In>, stamp: u64) {
        let UnaryNode { op, emit } = &mut *self.0.borrow_mut();
        emit.run(stamp, batch.len() as u64, |out| op.on_batch(batch, out));
    }
    fn watermark(&mut self, wm: Watermark) {
        let UnaryNode { op, emit } = &mut *self.0.borrow_mut();
        let held = emit
            .run(wm.fired_stamp(), 0, |out| op.on_watermark(wm, out))
            .min(wm.time);
        emit.advance(held, wm.emitted_ns);
    }
    fn counters(&self) -> Option<Rc<OpCounters>> {
        Some(Rc::clone(&self.0.borrow().emit.ops))
    }
}

impl<O: Operator> Timed for UnaryNode<O> {
    fn counters(&self) -> Rc<OpCounters> {
        Rc::clone(&self.emit.ops)
    }
    fn next_timer(&self) -> Option<u64> {
        self.op.next_timer()
    }
    fn fire(&mut self, now_ns: u64) {
        let Self { op, emit } = self;
        emit.run(now_ns, 0, |out| op.on_timer(now_ns, out));
    }
}

struct BinaryNode<O: BinaryOperator> {
    op: O,
    emit: Emitter<O::Out>,
    left_wm: Timestamp,
    right_wm: Timestamp,
    frontier_in: Timestamp,
}

/// The left input of a binary node.
struct BinaryLeftInput<O: BinaryOperator> {
    node: Rc<RefCell<BinaryNode<O>>>,
}

impl<O: BinaryOperator> Push<O::Left> for BinaryLeftInput<O> {
    fn push(&mut self, batch: &mut Vec<O::Left>, stamp: u64) {
        let BinaryNode { op, emit, .. } = &mut *self.node.borrow_mut();
        emit.run(stamp, batch.len() as u64, |out| op.on_left(batch, out));
    }
    fn watermark(&mut self, wm: Watermark) {
        binary_watermark(&self.node, true, wm);
    }
    fn counters(&self) -> Option<Rc<OpCounters>> {
        Some(Rc::clone(&self.node.borrow().emit.ops))
    }
}

/// The right input of a binary node (a separate type because `Left` and `Right` may differ).
struct BinaryRightInput<O: BinaryOperator> {
    node: Rc<RefCell<BinaryNode<O>>>,
}

impl<O: BinaryOperator> Push<O::Right> for BinaryRightInput<O> {
    fn push(&mut self, batch: &mut Vec<O::Right>, stamp: u64) {
        let BinaryNode { op, emit, .. } = &mut *self.node.borrow_mut();
        emit.run(stamp, batch.len() as u64, |out| op.on_right(batch, out));
    }
    fn watermark(&mut self, wm: Watermark) {
        binary_watermark(&self.node, false, wm);
    }
    fn counters(&self) -> Option<Rc<OpCounters>> {
        Some(Rc::clone(&self.node.borrow().emit.ops))
    }
}

fn binary_watermark<O: BinaryOperator>(
    node: &Rc<RefCell<BinaryNode<O>>>,
    left: bool,
    wm: Watermark,
) {
    let node = &mut *node.borrow_mut();
    if left {
        node.left_wm = node.left_wm.max(wm.time);
    } else {
        node.right_wm = node.right_wm.max(wm.time);
    }
    let frontier = node.left_wm.min(node.right_wm);
    if frontier <= node.frontier_in {
        return;
    }
    node.frontier_in = frontier;
    let input = Watermark::new(frontier, wm.emitted_ns);
    let BinaryNode { op, emit, .. } = node;
    let held = emit
        .run(input.fired_stamp(), 0, |out| op.on_watermark(input, out))
        .min(frontier);
    emit.advance(held, wm.emitted_ns);
}

impl<O: BinaryOperator> Timed for BinaryNode<O> {
    fn counters(&self) -> Rc<OpCounters> {
        Rc::clone(&self.emit.ops)
    }
    fn next_timer(&self) -> Option<u64> {
        self.op.next_timer()
    }
    fn fire(&mut self, now_ns: u64) {
        let Self { op, emit, .. } = self;
        emit.run(now_ns, 0, |out| op.on_timer(now_ns, out));
    }
}
