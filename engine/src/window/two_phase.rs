//! Windows aggregated in two phases: over all records of a stream (no key, `window_all`), and
//! keyed (`window_two_phase`: the same local phase keyed, then the partials routed by key).
//!
//! A non-keyed window would put all of a window's records on one worker. Instead, as Flink's
//! planner does for such aggregates (local-global aggregation), each worker first
//! pre-aggregates its own records per window without any exchange (the *local* phase, an
//! ordinary window operator keyed by `()` whose results are accumulators), then each window's
//! partial accumulators, one per worker, are sent to one worker chosen by the window (so
//! consecutive windows spread over the workers) and combined with [`Aggregate::merge`] (the
//! *global* phase). Only one record per window and worker crosses workers.
//!
//! **Time.** The local phase fires a window when its own frontier passes the window's end (plus
//! the allowed lateness) and forwards `frontier - lateness`, so a worker's partial for a window
//! always reaches the global phase before that worker's frontier passes the window's end. The
//! global phase's frontier is the minimum over all workers: once it reaches a window's end,
//! every partial is in, and the window is emitted as `(window, result)` and freed. A partial
//! for a window the global phase has already emitted cannot occur; it would be counted as late.
//! Records late for the local phase are counted and dropped, as in [`Stream::window`].

use std::collections::BTreeMap;
use std::hash::Hash;
use std::marker::PhantomData;
use std::rc::Rc;

use super::aggregate::Aggregate;
use super::dataflow::{EventState, Kind, WindowOperator, WindowSpec, key_hash};
use super::types::{FastMap, Window, WindowError, fast_map};
use crate::operator::{Operator, Output};
use crate::stream::Stream;
use crate::time::{Timestamp, Watermark};

/// An aggregate whose result is its accumulator: what the local phase ships.
struct Partial<A>(Rc<A>);

impl<V, A: Aggregate<V>> Aggregate<V> for Partial<A> {
    type Acc = A::Acc;
    type Out = A::Acc;
    fn init(&self) -> A::Acc {
        self.0.init()
    }
    #[inline]
    fn accumulate(&self, acc: &mut A::Acc, value: &V) {
        self.0.accumulate(acc, value);
    }
    fn merge(&self, acc: &mut A::Acc, other: &A::Acc) {
        self.0.merge(acc, other);
    }
    fn finish(&self, acc: A::Acc) -> A::Acc {
        acc
    }
}

/// The windows a merging phase holds, in end order, each with its merged partials `S`.
struct OpenWindows<S> {
    /// `(end, start)` -> the window's state, so windows fire in end order.
    open: BTreeMap<(Timestamp, Timestamp), S>,
    /// Windows ending at or below this have fired.
    fired_to: Timestamp,
}

impl<S> OpenWindows<S> {
    fn new() -> Self {
        Self {
            open: BTreeMap::new(),
            fired_to: Timestamp::MIN,
        }
    }

    /// The state of `window`, made by `new` when it has none; `None` when the window has
    /// already fired (the partial is late). Few windows are open at once: the ordered lookup
    /// is a couple of comparisons.
    fn state(&mut self, window: Window, new: impl FnOnce() -> S) -> Option<&mut S> {
        if window.end <= self.fired_to {
            return None;
        }
        Some(
            self.open
                .entry((window.end, window.start))
                .or_insert_with(new),
        )
    }

    /// Hands `fire` every window ending at or below `frontier`, in end order, and forgets it.
    fn fire(&mut self, frontier: Timestamp, mut fire: impl FnMut(Window, S)) {
        while let Some(entry) = self.open.first_entry() {
            let (end, start) = *entry.key();
            if end > frontier {
                break;
            }
            fire(Window { start, end }, entry.remove());
        }
        self.fired_to = self.fired_to.max(frontier);
    }
}

/// The global phase: merges the partials of the windows routed to this worker.
pub(super) struct GlobalPhase<V, A: Aggregate<V>> {
    agg: Rc<A>,
    /// Per window its merged partials (`None` until the first arrives).
    windows: OpenWindows<Option<A::Acc>>,
    _values: PhantomData<fn(&V)>,
}

impl<V, A: Aggregate<V>> GlobalPhase<V, A> {
    /// Merges partials of `agg`'s accumulators.
    pub(super) fn new(agg: Rc<A>) -> Self {
        Self {
            agg,
            windows: OpenWindows::new(),
            _values: PhantomData,
        }
    }
}

impl<V, A> Operator for GlobalPhase<V, A>
where
    V: 'static,
    A: Aggregate<V> + 'static,
{
    type In = (Window, A::Acc);
    type Out = (Window, A::Out);

    fn on_batch(&mut self, input: &mut Vec<(Window, A::Acc)>, out: &mut Output<'_, Self::Out>) {
        let mut late = 0;
        for (window, partial) in input.drain(..) {
            match self.windows.state(window, || None) {
                None => late += 1,
                Some(Some(acc)) => self.agg.merge(acc, &partial),
                Some(empty) => *empty = Some(partial),
            }
        }
        if late > 0 {
            out.count_late(late);
        }
    }

    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, Self::Out>) -> Timestamp {
        let agg = &self.agg;
        self.windows.fire(wm.time, |window, acc| {
            if let Some(acc) = acc {
                out.push((window, agg.finish(acc)));
            }
        });
        wm.time
    }
}

/// The keyed global phase: merges, per window, the partials of the keys routed to this worker.
pub(super) struct KeyedGlobalPhase<K, V, A: Aggregate<V>> {
    agg: Rc<A>,
    /// Per window each key's merged partials.
    windows: OpenWindows<FastMap<K, A::Acc>>,
    _values: PhantomData<fn(&V)>,
}

impl<K, V, A: Aggregate<V>> KeyedGlobalPhase<K, V, A> {
    /// Merges partials of `agg`'s accumulators, per key.
    pub(super) fn new(agg: Rc<A>) -> Self {
        Self {
            agg,
            windows: OpenWindows::new(),
            _values: PhantomData,
        }
    }
}

impl<K, V, A> Operator for KeyedGlobalPhase<K, V, A>
where
    K: Hash + Eq + 'static,
    V: 'static,
    A: Aggregate<V> + 'static,
{
    type In = (K, Window, A::Acc);
    type Out = (K, Window, A::Out);

    fn on_batch(&mut self, input: &mut Vec<Self::In>, out: &mut Output<'_, Self::Out>) {
        let mut late = 0;
        for (key, window, partial) in input.drain(..) {
            let Some(keys) = self.windows.state(window, fast_map) else {
                late += 1;
                continue;
            };
            match keys.entry(key) {
                hashbrown::hash_map::Entry::Vacant(slot) => {
                    slot.insert(partial);
                }
                hashbrown::hash_map::Entry::Occupied(mut slot) => {
                    self.agg.merge(slot.get_mut(), &partial);
                }
            }
        }
        if late > 0 {
            out.count_late(late);
        }
    }

    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, Self::Out>) -> Timestamp {
        let agg = &self.agg;
        self.windows.fire(wm.time, |window, keys| {
            for (key, acc) in keys {
                out.push((key, window, agg.finish(acc)));
            }
        });
        wm.time
    }
}

/// The local phase of a two-phase window: an ordinary window operator on the worker's own
/// records whose results are `agg`'s accumulators, and the name of its window kind.
#[allow(
    clippy::type_complexity,
    reason = "the operator and its name; an alias hides the shape"
)]
fn local_phase<T, K, A, FK, FT>(
    spec: WindowSpec,
    key: FK,
    time: FT,
    agg: &Rc<A>,
) -> Result<(WindowOperator<T, K, Partial<A>, FK, FT>, &'static str), WindowError>
where
    K: Hash + Eq + Clone,
    A: Aggregate<T>,
{
    let (state, name, hold) = EventState::new(spec, Partial(Rc::clone(agg)))?;
    let local = WindowOperator {
        state,
        key: Rc::new(key),
        time,
        late: None,
        hold,
    };
    Ok((local, name))
}

impl<T: Send + 'static> Stream<T> {
    /// Event-time windows over all records (no key), aggregated in two phases: per worker a
    /// local pre-aggregation of its own records (no exchange), then per window one worker
    /// (chosen by the window, so windows spread over workers) merges the workers' partials
    /// with [`Aggregate::merge`] and emits `(window, result)` once, when the frontier passes
    /// the window's end plus the allowed lateness. Only one record per window and worker is
    /// exchanged. `spec` is tumbling, sliding or [`WindowSpec::global`]. Late records are
    /// counted and dropped. Each worker's local phase emits its partial of a window before it
    /// forwards a watermark past the window's end, so the merging worker has every partial
    /// once its frontier (the minimum over workers) reaches that end.
    ///
    /// # Errors
    ///
    /// An invalid `spec`, or session windows (sessions of all records would need merging
    /// across workers; key them with [`Stream::window`] instead).
    ///
    /// # Examples
    ///
    /// The most active keys per window, ties kept (Nexmark q5's shape): counts per key, then
    /// over all keys of each window the highest count and every key that has it.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use weir_engine::window::{ArgMaxAll, Count, Window, WindowSpec, on};
    /// use weir_engine::{Config, IterSource, execute};
    ///
    /// let results = Arc::new(Mutex::new(Vec::new()));
    /// let sink = Arc::clone(&results);
    /// execute(Config::new(3).with_pinning(false), move |worker| {
    ///     let mine: Vec<(u64, i64)> = (0..60_i64)
    ///         .filter(|t| *t as usize % worker.peers() == worker.index())
    ///         .map(|t| ((t % 4).min(2) as u64, t)) // key 2 gets keys 2 and 3's share
    ///         .collect();
    ///     let sink = Arc::clone(&sink);
    ///     worker
    ///         .source(IterSource::new(mine, |r: &(u64, i64)| r.1, 0))
    ///         .window(WindowSpec::tumbling(20), |r| r.0, |r| r.1, Count)
    ///         .expect("valid window")
    ///         .window_all(
    ///             WindowSpec::tumbling(20),
    ///             |(_, w, _)| w.end - 1,
    ///             on(|(key, _, count): &(u64, Window, u64)| (*key, *count), ArgMaxAll::new()),
    ///         )
    ///         .expect("valid window")
    ///         .for_each(move |(window, leaders)| {
    ///             sink.lock().expect("lock").push((window.start, leaders))
    ///         });
    /// })?;
    /// let mut results = results.lock().expect("lock").clone();
    /// results.sort_unstable();
    /// assert_eq!(
    ///     results,
    ///     vec![(0, Some((10, vec![2]))), (20, Some((10, vec![2]))), (40, Some((10, vec![2])))]
    /// );
    /// # Ok::<(), weir_engine::EngineError>(())
    /// ```
    pub fn window_all<A>(
        self,
        spec: WindowSpec,
        time: impl Fn(&T) -> Timestamp + 'static,
        agg: A,
    ) -> Result<Stream<(Window, A::Out)>, WindowError>
    where
        A: Aggregate<T> + 'static,
        A::Acc: Send + 'static,
    {
        // Window k (starting at k * slide) goes to worker k mod peers; the global window to one.
        let slide = match spec.kind {
            Kind::Sliding { slide, .. } => slide,
            Kind::Global => 1,
            Kind::Session { .. } => {
                return Err(WindowError::Unsupported {
                    operator: "window_all",
                    windows: "session",
                    instead: "key the sessions with Stream::window, or use tumbling, sliding or \
                              global windows",
                });
            }
        };
        let agg = Rc::new(agg);
        let (local, _) = local_phase(spec, |_: &T| (), time, &agg)?;
        let peers = self.peers() as i64;
        let global = GlobalPhase::new(agg);
        Ok(self
            .unary("window_all_local", local)
            .map(|((), window, partial)| (window, partial))
            .exchange(move |(window, _)| window.start.div_euclid(slide).rem_euclid(peers) as usize)
            .unary("window_all_merge", global))
    }

    /// Keyed event-time windows, as [`Stream::window`], aggregated in two phases
    /// (local-global aggregation): each worker first aggregates its own records per key and
    /// window *before* any exchange (a local [`Stream::window`] whose results are
    /// accumulators), then sends one partial per key, window and worker to the key's owner,
    /// which merges the partials with [`Aggregate::merge`] and emits `(key, window, result)`
    /// once every worker's partial is in: when its frontier (the minimum over workers) passes
    /// the window's end plus the allowed lateness. The results equal [`Stream::window`]'s.
    ///
    /// Use it when a worker sees many records per key and window (few keys, as YSB's 100
    /// campaigns): the exchange then carries a handful of partials instead of every record.
    /// With mostly distinct keys per window it costs a second map insert per record for
    /// nothing; use [`Stream::window`] then.
    ///
    /// **Time and late records.** Each local phase fires a window when its own frontier
    /// passes the window's end plus the allowed lateness, and emits the partials before it
    /// forwards that frontier, so the merging worker never waits for a partial that is still
    /// coming. A record is late when its own worker's frontier has passed its windows (with
    /// [`Stream::window`] it is the key owner's frontier that decides): late records are
    /// counted and dropped; there is no late side output.
    ///
    /// # Errors
    ///
    /// An invalid `spec`, or session windows (a key's sessions on several workers would have
    /// to be merged across workers; use [`Stream::window`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use weir_engine::window::{Count, WindowSpec};
    /// use weir_engine::{Config, IterSource, execute};
    ///
    /// let results = Arc::new(Mutex::new(Vec::new()));
    /// let sink = Arc::clone(&results);
    /// execute(Config::new(2).with_pinning(false), move |worker| {
    ///     // Every worker sees every key: three keys, 100 records per worker.
    ///     let mine: Vec<(u64, i64)> = (0..200_i64)
    ///         .filter(|t| *t as usize % worker.peers() == worker.index())
    ///         .map(|t| ((t % 3) as u64, t))
    ///         .collect();
    ///     let sink = Arc::clone(&sink);
    ///     worker
    ///         .source(IterSource::new(mine, |r: &(u64, i64)| r.1, 0))
    ///         .window_two_phase(WindowSpec::tumbling(100), |r| r.0, |r| r.1, Count)
    ///         .expect("valid window")
    ///         .for_each(move |(key, window, count)| {
    ///             sink.lock().expect("lock").push((window.start, key, count))
    ///         });
    /// })?;
    /// let mut results = results.lock().expect("lock").clone();
    /// results.sort_unstable();
    /// assert_eq!(
    ///     results,
    ///     vec![(0, 0, 34), (0, 1, 33), (0, 2, 33), (100, 0, 33), (100, 1, 34), (100, 2, 33)]
    /// );
    /// # Ok::<(), weir_engine::EngineError>(())
    /// ```
    pub fn window_two_phase<K, A>(
        self,
        spec: WindowSpec,
        key: impl Fn(&T) -> K + 'static,
        time: impl Fn(&T) -> Timestamp + 'static,
        agg: A,
    ) -> Result<Stream<(K, Window, A::Out)>, WindowError>
    where
        K: Hash + Eq + Clone + Send + 'static,
        A: Aggregate<T> + 'static,
        A::Acc: Send + 'static,
    {
        if let Kind::Session { .. } = spec.kind {
            return Err(WindowError::Unsupported {
                operator: "window_two_phase",
                windows: "session",
                instead: "use Stream::window, which keeps each key's sessions on one worker",
            });
        }
        let agg = Rc::new(agg);
        let (local, name) = local_phase(spec, key, time, &agg)?;
        let global = KeyedGlobalPhase::new(agg);
        Ok(self
            .unary(&format!("{name}_local"), local)
            .key_by(|(key, _, _)| key_hash(key))
            .unary(&format!("{name}_merge"), global))
    }
}
