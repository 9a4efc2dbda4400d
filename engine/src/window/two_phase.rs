//! Windows over all records of a stream (no key), aggregated in two phases.
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
use std::collections::btree_map::Entry;
use std::marker::PhantomData;
use std::rc::Rc;

use super::aggregate::Aggregate;
use super::dataflow::{EventState, Kind, WindowOperator, WindowSpec};
use super::types::{Window, WindowError};
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

/// The global phase: merges the partials of the windows routed to this worker.
pub(super) struct GlobalPhase<V, A: Aggregate<V>> {
    agg: Rc<A>,
    /// `(end, start)` -> merged partials, so windows fire in end order.
    open: BTreeMap<(Timestamp, Timestamp), A::Acc>,
    /// Windows ending at or below this have fired.
    fired_to: Timestamp,
    _values: PhantomData<fn(&V)>,
}

impl<V, A: Aggregate<V>> GlobalPhase<V, A> {
    /// Merges partials of `agg`'s accumulators.
    pub(super) fn new(agg: Rc<A>) -> Self {
        Self {
            agg,
            open: BTreeMap::new(),
            fired_to: Timestamp::MIN,
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
            if window.end <= self.fired_to {
                late += 1;
                continue;
            }
            match self.open.entry((window.end, window.start)) {
                Entry::Vacant(slot) => {
                    slot.insert(partial);
                }
                Entry::Occupied(mut slot) => self.agg.merge(slot.get_mut(), &partial),
            }
        }
        if late > 0 {
            out.count_late(late);
        }
    }

    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, Self::Out>) -> Timestamp {
        while let Some(entry) = self.open.first_entry() {
            let (end, start) = *entry.key();
            if end > wm.time {
                break;
            }
            let acc = entry.remove();
            out.push((Window { start, end }, self.agg.finish(acc)));
        }
        self.fired_to = self.fired_to.max(wm.time);
        wm.time
    }
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
        let (state, _, hold) = EventState::new(spec, Partial(Rc::clone(&agg)))?;
        let local = WindowOperator {
            state,
            key: Rc::new(|_: &T| ()),
            time,
            late: None,
            hold,
        };
        let peers = self.peers() as i64;
        let global = GlobalPhase::new(agg);
        Ok(self
            .unary("window_all_local", local)
            .map(|((), window, partial)| (window, partial))
            .exchange(move |(window, _)| window.start.div_euclid(slide).rem_euclid(peers) as usize)
            .unary("window_all_merge", global))
    }
}
