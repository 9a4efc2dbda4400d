//! The window state machines as dataflow operators: methods on [`Stream`].
//!
//! Every method partitions its input(s) by the window key itself (an exchange on a fixed hash
//! of the key), so a key's records always meet on one worker whatever the stream's previous
//! partitioning; there is no need to `key_by` first.
//!
//! **Output time.** A window result stands for event time `window.end - 1` (Flink's
//! `maxTimestamp`). Operators hold their output watermark back so that results are never late
//! downstream: windows and window joins forward `frontier - lateness`, sessions
//! `frontier - lateness - 1` (they fire only once the frontier is above their end), interval
//! joins `frontier - lateness` (a pair stands for the later of its two timestamps).
//!
//! **Late records** are refused by the state machine, counted in the worker's `late` metric
//! (and so in the run's `late` total), and, for single-input windows built with
//! [`Stream::window_with_late`], sent on a second output stream (Flink's
//! `sideOutputLateData`) that the caller sinks, counts or routes like any stream. That stream
//! carries the operator's input frontier as its watermark, so every record on it is behind its
//! own watermark, and it ends when the input ends. Nothing is dropped uncounted.

use std::hash::{BuildHasher, Hash};
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::aggregate::Aggregate;
use super::global::GlobalWindows;
use super::join::{IntervalJoin, IntervalSpec, WindowJoin};
use super::panes::SlidingWindows;
use super::proctime::ProcessingTimeWindows;
use super::session::SessionWindows;
use super::store::reclaim_budget;
use super::types::{Window, WindowError};
use crate::operator::{BinaryOperator, Operator, Output};
use crate::port::Port;
use crate::stream::Stream;
use crate::time::{Clock, Timestamp, Watermark};

/// Which event-time windows to compute, and their allowed lateness.
///
/// # Examples
///
/// ```
/// use weir_engine::window::WindowSpec;
///
/// let q5 = WindowSpec::sliding(10_000, 2_000);
/// let q11 = WindowSpec::session(10_000).allowed_lateness(1_000);
/// assert_eq!(q11.lateness(), 1_000);
/// let q4 = WindowSpec::global(); // one window per key, fired at end of input
/// # let _ = (q5, q4);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct WindowSpec {
    pub(super) kind: Kind,
    lateness: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Sliding { size: i64, slide: i64 },
    Session { gap: i64 },
    Global,
}

impl WindowSpec {
    /// Tumbling windows of `size_ms`.
    pub const fn tumbling(size_ms: i64) -> Self {
        Self::sliding(size_ms, size_ms)
    }

    /// Sliding (hopping) windows of `size_ms` starting every `slide_ms`.
    pub const fn sliding(size_ms: i64, slide_ms: i64) -> Self {
        WindowSpec {
            kind: Kind::Sliding {
                size: size_ms,
                slide: slide_ms,
            },
            lateness: 0,
        }
    }

    /// Session windows closing after `gap_ms` without a record.
    pub const fn session(gap_ms: i64) -> Self {
        WindowSpec {
            kind: Kind::Session { gap: gap_ms },
            lateness: 0,
        }
    }

    /// The global window: one window per key over all of event time, `Window::GLOBAL`, fired
    /// once when the frontier reaches end of input (a `GROUP BY` without a time window over a
    /// bounded input, as Nexmark q4's final table). Allowed lateness does not apply.
    pub const fn global() -> Self {
        WindowSpec {
            kind: Kind::Global,
            lateness: 0,
        }
    }

    /// Keeps windows open `lateness_ms` after the frontier passes their end: they fire then,
    /// once, including the late-but-allowed records.
    pub const fn allowed_lateness(mut self, lateness_ms: i64) -> Self {
        self.lateness = lateness_ms;
        self
    }

    /// The allowed lateness in ms.
    pub const fn lateness(&self) -> i64 {
        self.lateness
    }
}

/// The exchange hash of a window key: fixed, so every worker routes a key the same way.
pub(crate) fn key_hash<K: Hash>(key: &K) -> u64 {
    foldhash::fast::FixedState::default().hash_one(key)
}

/// `frontier - back`, keeping end of input at end of input.
pub(crate) fn hold_back(frontier: Timestamp, back: i64) -> Timestamp {
    if frontier == Timestamp::MAX {
        Timestamp::MAX
    } else {
        frontier.saturating_sub(back)
    }
}

/// The late side output: the port of the late stream and the batch being filled.
pub(super) struct LateOutput<T> {
    port: Rc<Port<T>>,
    batch: Vec<T>,
}

impl<T> LateOutput<T> {
    fn flush(&mut self) {
        self.port.push(&mut self.batch, 0);
    }
}

/// The late side output of a window operator, if it has one.
pub(super) type LateSink<T> = Option<LateOutput<T>>;

pub(super) enum EventState<K, T, A: Aggregate<T>> {
    Sliding(SlidingWindows<K, T, A>),
    Session(SessionWindows<K, T, A>),
    Global(GlobalWindows<K, T, A>),
}

impl<K: Hash + Eq + Clone, T, A: Aggregate<T>> EventState<K, T, A> {
    /// The state machine for `spec`, the operator's name, and how far its output watermark
    /// trails its input frontier.
    pub(super) fn new(spec: WindowSpec, agg: A) -> Result<(Self, &'static str, i64), WindowError> {
        Ok(match spec.kind {
            Kind::Sliding { size, slide } => {
                let w = SlidingWindows::new(size, slide, spec.lateness, agg)?;
                let name = if size == slide {
                    "tumbling_window"
                } else {
                    "sliding_window"
                };
                (EventState::Sliding(w), name, spec.lateness)
            }
            Kind::Session { gap } => {
                let w = SessionWindows::new(gap, spec.lateness, agg)?;
                (
                    EventState::Session(w),
                    "session_window",
                    spec.lateness.saturating_add(1),
                )
            }
            Kind::Global => (
                EventState::Global(GlobalWindows::new(agg)),
                "global_window",
                0,
            ),
        })
    }
}

/// Event-time windows (tumbling, sliding, session, global) over one keyed input.
pub(super) struct WindowOperator<T, K, A: Aggregate<T>, FK, FT> {
    pub(super) state: EventState<K, T, A>,
    pub(super) key: Rc<FK>,
    pub(super) time: FT,
    pub(super) late: LateSink<T>,
    /// How far the output watermark trails the input frontier.
    pub(super) hold: i64,
}

impl<T, K, A, FK, FT> Operator for WindowOperator<T, K, A, FK, FT>
where
    T: 'static,
    K: Hash + Eq + Clone + 'static,
    A: Aggregate<T> + 'static,
    FK: Fn(&T) -> K + 'static,
    FT: Fn(&T) -> Timestamp + 'static,
{
    type In = T;
    type Out = (K, Window, A::Out);

    fn on_batch(&mut self, input: &mut Vec<T>, out: &mut Output<'_, Self::Out>) {
        let n = input.len();
        let mut late = 0;
        for record in input.drain(..) {
            let key = (self.key)(&record);
            let admission = match &mut self.state {
                EventState::Sliding(w) => w.insert(key, (self.time)(&record), &record),
                EventState::Session(w) => w.insert(key, (self.time)(&record), &record),
                EventState::Global(w) => w.insert(key, &record),
            };
            if admission.is_late() {
                late += 1;
                if let Some(side) = &mut self.late {
                    side.batch.push(record);
                }
            }
        }
        if late > 0 {
            out.count_late(late);
            if let Some(side) = &mut self.late {
                side.flush();
            }
        }
        // Empty the panes released by earlier firings, at least as fast as records arrive.
        if let EventState::Sliding(w) = &mut self.state {
            w.reclaim(reclaim_budget(n));
        }
    }

    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, Self::Out>) -> Timestamp {
        let emit = |key, window, result| out.push((key, window, result));
        match &mut self.state {
            EventState::Sliding(w) => w.advance(wm.time, emit),
            EventState::Session(w) => w.advance(wm.time, emit),
            EventState::Global(w) => w.advance(wm.time, emit),
        }
        if let Some(side) = &self.late {
            side.port.watermark(wm);
        }
        hold_back(wm.time, self.hold)
    }
}

/// Processing-time tumbling windows over one keyed input.
struct ProcessingTimeOperator<T, K, A: Aggregate<T>, FK> {
    state: ProcessingTimeWindows<K, T, A>,
    key: Rc<FK>,
    clock: Clock,
    /// Wall-clock epoch ms at the job clock's zero.
    wall_base_ms: i64,
}

impl<T, K, A: Aggregate<T>, FK> ProcessingTimeOperator<T, K, A, FK> {
    fn now_ms(&self, clock_ns: u64) -> Timestamp {
        self.wall_base_ms + (clock_ns / 1_000_000) as i64
    }
}

impl<T, K, A, FK> Operator for ProcessingTimeOperator<T, K, A, FK>
where
    T: 'static,
    K: Hash + Eq + Clone + 'static,
    A: Aggregate<T> + 'static,
    FK: Fn(&T) -> K + 'static,
{
    type In = T;
    type Out = (K, Window, A::Out);

    fn on_batch(&mut self, input: &mut Vec<T>, _out: &mut Output<'_, Self::Out>) {
        let now = self.now_ms(self.clock.now_ns());
        for record in input.drain(..) {
            self.state.insert((self.key)(&record), now, &record);
        }
    }

    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, Self::Out>) -> Timestamp {
        if wm.is_end() {
            self.state
                .flush(|key, window, result| out.push((key, window, result)));
        }
        wm.time
    }

    fn on_timer(&mut self, now_ns: u64, out: &mut Output<'_, Self::Out>) {
        let now = self.now_ms(now_ns);
        self.state
            .on_time(now, |key, window, result| out.push((key, window, result)));
    }

    fn next_timer(&self) -> Option<u64> {
        let due_ms = self.state.next_fire()?;
        let after_base_ms = due_ms.saturating_sub(self.wall_base_ms).max(0);
        Some((after_base_ms as u64).saturating_mul(1_000_000))
    }
}

/// A window join of two keyed inputs.
struct WindowJoinOperator<L, R, K, AL: Aggregate<L>, AR: Aggregate<R>, FL, FR> {
    state: WindowJoin<K, L, R, AL, AR>,
    left: FL,
    right: FR,
    lateness: i64,
}

impl<L, R, K, AL, AR, FL, FR> BinaryOperator for WindowJoinOperator<L, R, K, AL, AR, FL, FR>
where
    L: 'static,
    R: 'static,
    K: Hash + Eq + Clone + 'static,
    AL: Aggregate<L> + 'static,
    AR: Aggregate<R> + 'static,
    FL: Fn(&L) -> (K, Timestamp) + 'static,
    FR: Fn(&R) -> (K, Timestamp) + 'static,
{
    type Left = L;
    type Right = R;
    type Out = (K, Window, AL::Out, AR::Out);

    fn on_left(&mut self, input: &mut Vec<L>, out: &mut Output<'_, Self::Out>) {
        let n = input.len();
        let mut late = 0;
        for record in input.drain(..) {
            let (key, ts) = (self.left)(&record);
            late += u64::from(self.state.insert_left(key, ts, &record).is_late());
        }
        if late > 0 {
            out.count_late(late);
        }
        self.state.reclaim(reclaim_budget(n));
    }

    fn on_right(&mut self, input: &mut Vec<R>, out: &mut Output<'_, Self::Out>) {
        let n = input.len();
        let mut late = 0;
        for record in input.drain(..) {
            let (key, ts) = (self.right)(&record);
            late += u64::from(self.state.insert_right(key, ts, &record).is_late());
        }
        if late > 0 {
            out.count_late(late);
        }
        self.state.reclaim(reclaim_budget(n));
    }

    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, Self::Out>) -> Timestamp {
        self.state
            .advance(wm.time, |key, window, l, r| out.push((key, window, l, r)));
        hold_back(wm.time, self.lateness)
    }
}

/// An interval join of two keyed inputs.
struct IntervalJoinOperator<L, R, K, FL, FR, F> {
    state: IntervalJoin<K, L, R>,
    left: FL,
    right: FR,
    join: F,
    lateness: i64,
}

impl<L, R, K, O, FL, FR, F> BinaryOperator for IntervalJoinOperator<L, R, K, FL, FR, F>
where
    L: 'static,
    R: 'static,
    K: Hash + Eq + Clone + 'static,
    FL: Fn(&L) -> (K, Timestamp) + 'static,
    FR: Fn(&R) -> (K, Timestamp) + 'static,
    F: FnMut(&K, &L, &R) -> O + 'static,
{
    type Left = L;
    type Right = R;
    type Out = O;

    fn on_left(&mut self, input: &mut Vec<L>, out: &mut Output<'_, O>) {
        let mut late = 0;
        let join = &mut self.join;
        for record in input.drain(..) {
            let (key, ts) = (self.left)(&record);
            let admission = self
                .state
                .insert_left(key, ts, record, |k, l, r| out.push(join(k, l, r)));
            late += u64::from(admission.is_late());
        }
        if late > 0 {
            out.count_late(late);
        }
    }

    fn on_right(&mut self, input: &mut Vec<R>, out: &mut Output<'_, O>) {
        let mut late = 0;
        let join = &mut self.join;
        for record in input.drain(..) {
            let (key, ts) = (self.right)(&record);
            let admission = self
                .state
                .insert_right(key, ts, record, |k, l, r| out.push(join(k, l, r)));
            late += u64::from(admission.is_late());
        }
        if late > 0 {
            out.count_late(late);
        }
    }

    fn on_watermark(&mut self, wm: Watermark, _out: &mut Output<'_, O>) -> Timestamp {
        self.state.advance(wm.time);
        hold_back(wm.time, self.lateness)
    }
}

impl<T: Send + 'static> Stream<T> {
    /// Keyed event-time windows: for every key (`key(record)`) and window of `spec` holding
    /// records (by `time(record)`), emits `(key, window, agg result)` once, when the frontier
    /// passes the window's end plus the allowed lateness ([`WindowSpec::global`]: once per key
    /// at end of input, with [`Window::GLOBAL`]). Late records are counted (the worker's `late`
    /// metric) and discarded; use [`Stream::window_with_late`] to get them as a stream.
    ///
    /// # Errors
    ///
    /// An invalid `spec` (see [`WindowError`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// use weir_engine::window::{Count, WindowSpec};
    /// use weir_engine::{Config, IterSource, execute};
    ///
    /// let results = Arc::new(Mutex::new(Vec::new()));
    /// let sink = Arc::clone(&results);
    /// execute(Config::new(2).with_pinning(false), move |worker| {
    ///     let mine: Vec<(u64, i64)> = (0..100_i64)
    ///         .filter(|t| *t as usize % worker.peers() == worker.index())
    ///         .map(|t| ((t % 3) as u64, t))
    ///         .collect();
    ///     let sink = Arc::clone(&sink);
    ///     worker
    ///         .source(IterSource::new(mine, |r: &(u64, i64)| r.1, 0))
    ///         .window(WindowSpec::tumbling(10), |r| r.0, |r| r.1, Count)
    ///         .expect("valid window")
    ///         .for_each(move |(key, window, count)| {
    ///             sink.lock().expect("lock").push((key, window.start, count))
    ///         });
    /// })?;
    /// let results = results.lock().expect("lock");
    /// assert_eq!(results.len(), 30); // 3 keys x 10 windows
    /// assert_eq!(results.iter().map(|r| r.2).sum::<u64>(), 100);
    /// # Ok::<(), weir_engine::EngineError>(())
    /// ```
    pub fn window<K, A>(
        self,
        spec: WindowSpec,
        key: impl Fn(&T) -> K + 'static,
        time: impl Fn(&T) -> Timestamp + 'static,
        agg: A,
    ) -> Result<Stream<(K, Window, A::Out)>, WindowError>
    where
        K: Hash + Eq + Clone + 'static,
        A: Aggregate<T> + 'static,
    {
        let key = Rc::new(key);
        self.key_by_window_key(&key)
            .window_operator(spec, key, time, agg, None)
    }

    /// As [`Stream::window`], and also returns the *late side output*: a stream of the records
    /// that arrived after every window holding them had fired (as Flink's
    /// `sideOutputLateData`). They are still counted in the worker's `late` metric. The late
    /// stream's watermark is the operator's input frontier (so each of its records is behind
    /// it) and it ends with the input; sink it, count it or route it like any other stream. A
    /// late stream left without a consumer counts its records as dropped, as every stream does.
    ///
    /// # Errors
    ///
    /// An invalid `spec` (see [`WindowError`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// use weir_engine::window::{Count, WindowSpec};
    /// use weir_engine::{Config, IterSource, execute};
    ///
    /// let late = Arc::new(Mutex::new(Vec::new()));
    /// let side = Arc::clone(&late);
    /// // One record per batch, each batch's watermark passed on at once (no latency budget).
    /// let config = Config::new(1)
    ///     .with_pinning(false)
    ///     .with_batch_size(1)
    ///     .with_latency_budget(Duration::ZERO);
    /// execute(config, move |worker| {
    ///     // Zero out-of-orderness: the record at 3 arrives after the window [0, 10) fired.
    ///     let input = vec![(1_u64, 5_i64), (1, 25), (1, 3)];
    ///     let side = Arc::clone(&side);
    ///     let (results, late) = worker
    ///         .source(IterSource::new(input, |r: &(u64, i64)| r.1, 0))
    ///         .window_with_late(WindowSpec::tumbling(10), |r| r.0, |r| r.1, Count)
    ///         .expect("valid window");
    ///     results.for_each(|_| {});
    ///     late.for_each(move |r| side.lock().expect("lock").push(r));
    /// })?;
    /// assert_eq!(*late.lock().expect("lock"), vec![(1, 3)]);
    /// # Ok::<(), weir_engine::EngineError>(())
    /// ```
    #[allow(
        clippy::type_complexity,
        reason = "the results and the late records; an alias hides the shape"
    )]
    pub fn window_with_late<K, A>(
        self,
        spec: WindowSpec,
        key: impl Fn(&T) -> K + 'static,
        time: impl Fn(&T) -> Timestamp + 'static,
        agg: A,
    ) -> Result<(Stream<(K, Window, A::Out)>, Stream<T>), WindowError>
    where
        K: Hash + Eq + Clone + 'static,
        A: Aggregate<T> + 'static,
    {
        let key = Rc::new(key);
        let keyed = self.key_by_window_key(&key);
        let late: Stream<T> = keyed.derive();
        let side = LateOutput {
            port: Rc::clone(&late.port),
            batch: Vec::new(),
        };
        let results = keyed.window_operator(spec, key, time, agg, Some(side))?;
        Ok((results, late))
    }

    /// This stream partitioned by the window key (a key's records meet on one worker).
    fn key_by_window_key<K: Hash + 'static>(self, key: &Rc<impl Fn(&T) -> K + 'static>) -> Self {
        let route = Rc::clone(key);
        self.key_by(move |r| key_hash(&route(r)))
    }

    /// The window operator on a stream already partitioned by the window key.
    fn window_operator<K, A, FK>(
        self,
        spec: WindowSpec,
        key: Rc<FK>,
        time: impl Fn(&T) -> Timestamp + 'static,
        agg: A,
        late: LateSink<T>,
    ) -> Result<Stream<(K, Window, A::Out)>, WindowError>
    where
        K: Hash + Eq + Clone + 'static,
        A: Aggregate<T> + 'static,
        FK: Fn(&T) -> K + 'static,
    {
        let (state, name, hold) = EventState::new(spec, agg)?;
        let op = WindowOperator {
            state,
            key,
            time,
            late,
            hold,
        };
        Ok(self.unary(name, op))
    }

    /// Keyed processing-time tumbling windows of `size_ms` (Nexmark q12): a record counts in
    /// the wall-clock window in which this worker processes it; windows fire on a timer when
    /// the wall clock passes their end (and all at end of input). Window bounds are epoch ms,
    /// multiples of `size_ms`. `clock` is the job clock ([`crate::Worker::clock`]).
    ///
    /// # Errors
    ///
    /// A size below 1 ms.
    pub fn processing_time_window<K, A>(
        self,
        clock: Clock,
        size_ms: i64,
        key: impl Fn(&T) -> K + 'static,
        agg: A,
    ) -> Result<Stream<(K, Window, A::Out)>, WindowError>
    where
        K: Hash + Eq + Clone + 'static,
        A: Aggregate<T> + 'static,
    {
        let state = ProcessingTimeWindows::new(size_ms, agg)?;
        let wall_now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let wall_base_ms = wall_now_ms - (clock.now_ns() / 1_000_000) as i64;
        let key = Rc::new(key);
        let route = Rc::clone(&key);
        let op = ProcessingTimeOperator {
            state,
            key,
            clock,
            wall_base_ms,
        };
        Ok(self
            .key_by(move |r| key_hash(&route(r)))
            .unary("processing_time_window", op))
    }

    /// Window join (Nexmark q8): both inputs are aggregated per key and window of `spec`
    /// (`left(record)` and `right(record)` give `(key, event time)`); when a window fires,
    /// every key present on both sides yields `(key, window, left result, right result)`.
    /// Late records (either side) are counted.
    ///
    /// # Errors
    ///
    /// An invalid, session or global `spec` (sessions of two streams do not share bounds).
    #[allow(
        clippy::type_complexity,
        reason = "a stream of (key, window, left, right) results; an alias hides the shape"
    )]
    pub fn window_join<R, K, AL, AR>(
        self,
        other: Stream<R>,
        spec: WindowSpec,
        left: impl Fn(&T) -> (K, Timestamp) + 'static,
        right: impl Fn(&R) -> (K, Timestamp) + 'static,
        left_agg: AL,
        right_agg: AR,
    ) -> Result<Stream<(K, Window, AL::Out, AR::Out)>, WindowError>
    where
        R: Send + 'static,
        K: Hash + Eq + Clone + 'static,
        AL: Aggregate<T> + 'static,
        AR: Aggregate<R> + 'static,
    {
        let (size, slide) = match spec.kind {
            Kind::Sliding { size, slide } => (size, slide),
            Kind::Session { .. } => return Err(WindowError::SessionJoin),
            Kind::Global => {
                return Err(WindowError::Unsupported {
                    operator: "window_join",
                    windows: "global",
                    instead: "join over tumbling windows, or use interval_join with unbounded \
                              bounds (a regular join)",
                });
            }
        };
        let state = WindowJoin::new(size, slide, spec.lateness, left_agg, right_agg)?;
        let (left, right) = (Rc::new(left), Rc::new(right));
        let (left_route, right_route) = (Rc::clone(&left), Rc::clone(&right));
        let op = WindowJoinOperator {
            state,
            left: move |r: &T| left(r),
            right: move |r: &R| right(r),
            lateness: spec.lateness,
        };
        let lhs = self.key_by(move |r| key_hash(&left_route(r).0));
        let rhs = other.key_by(move |r| key_hash(&right_route(r).0));
        Ok(lhs.binary(rhs, "window_join", op))
    }

    /// Interval join: a left record at `t` joins every right record of its key at `t'` with
    /// `t + spec.lower <= t' <= t + spec.upper` (inclusive), emitting `join(key, left, right)`
    /// once per pair. `left(record)` and `right(record)` give `(key, event time)`. Late
    /// records (below `frontier - spec.lateness`) are counted.
    ///
    /// # Errors
    ///
    /// `spec.lower > spec.upper` or a negative lateness.
    pub fn interval_join<R, K, O>(
        self,
        other: Stream<R>,
        spec: IntervalSpec,
        left: impl Fn(&T) -> (K, Timestamp) + 'static,
        right: impl Fn(&R) -> (K, Timestamp) + 'static,
        join: impl FnMut(&K, &T, &R) -> O + 'static,
    ) -> Result<Stream<O>, WindowError>
    where
        R: Send + 'static,
        K: Hash + Eq + Clone + 'static,
        O: 'static,
    {
        let state = IntervalJoin::new(spec)?;
        let (left, right) = (Rc::new(left), Rc::new(right));
        let (left_route, right_route) = (Rc::clone(&left), Rc::clone(&right));
        let op = IntervalJoinOperator {
            state,
            left: move |r: &T| left(r),
            right: move |r: &R| right(r),
            join,
            lateness: spec.lateness,
        };
        let lhs = self.key_by(move |r| key_hash(&left_route(r).0));
        let rhs = other.key_by(move |r| key_hash(&right_route(r).0));
        Ok(lhs.binary(rhs, "interval_join", op))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::counters::WorkerCounters;
    use crate::window::Distinct;

    type Rec = (u64, i64);

    /// Feeds 50 panes of 200 keys, each with the watermark that closes it, to `step`, which
    /// hands them to an operator and returns its released entries not emptied yet; returns
    /// the most seen. No consumer: the port counts the results as dropped.
    fn most_waiting<O>(
        mut step: impl FnMut(Vec<Rec>, Watermark, &mut Output<'_, O>) -> usize,
    ) -> usize {
        let port = Port::new(Rc::new(WorkerCounters::new(None)));
        let late = Cell::new(0);
        let mut buf = Vec::new();
        let mut most = 0;
        for pane in 0..50_i64 {
            let mut out = Output::new(&mut buf, &port, 1024, 0, &late);
            let batch = (0..200).map(|key| (key, pane * 10)).collect();
            most = most.max(step(batch, Watermark::new(pane * 10 + 10, 0), &mut out));
        }
        most
    }

    /// The released panes of a sliding window (here of sets, which own heap memory) are
    /// emptied by the operator as batches arrive, not left for end of input.
    #[test]
    fn the_window_operator_empties_released_panes_as_batches_arrive() {
        let (state, _, hold) =
            EventState::new(WindowSpec::sliding(20, 10), Distinct::<Rec>::new()).expect("spec");
        let mut op = WindowOperator {
            state,
            key: Rc::new(|r: &Rec| r.0),
            time: |r: &Rec| r.1,
            late: None,
            hold,
        };
        let most = most_waiting(|mut batch, wm, out| {
            op.on_batch(&mut batch, out);
            op.on_watermark(wm, out);
            let EventState::Sliding(w) = &op.state else {
                unreachable!("sliding spec")
            };
            w.unreclaimed()
        });
        // Each firing releases one pane of 200 entries; the next batch empties it.
        assert!(most <= 200, "{most} released entries waited");
    }

    /// As above, for both sides of a window join.
    #[test]
    fn the_window_join_empties_released_panes_as_batches_arrive() {
        let mut op = WindowJoinOperator {
            state: WindowJoin::new(20, 10, 0, Distinct::<Rec>::new(), Distinct::<Rec>::new())
                .expect("spec"),
            left: |r: &Rec| (r.0, r.1),
            right: |r: &Rec| (r.0, r.1),
            lateness: 0,
        };
        let most = most_waiting(|mut left, wm, out| {
            let mut right = left.clone();
            op.on_left(&mut left, out);
            op.on_right(&mut right, out);
            op.on_watermark(wm, out);
            op.state.unreclaimed()
        });
        assert!(most <= 400, "{most} released entries waited");
    }
}
