//! Keyed event-time session windows with merging.
//!
//! A record at `t` opens the window `[t, t + gap)`. Windows of one key that overlap *or touch*
//! merge (Flink's `TimeWindow.intersects`: `a.start <= b.end && a.end >= b.start`), so a
//! session is `[first timestamp, last timestamp + gap)`.
//!
//! Because touching windows merge, a session `[start, end)` can still grow by a record at
//! exactly `end`, which a frontier of `end` allows. A session is therefore complete only when
//! the frontier is *strictly* above `end`; with allowed lateness `L` it fires once
//! `frontier > end + L`. A record at `t` is late when `t + L < frontier`: then it could only
//! have extended sessions that may have fired. Conversely a record that is not late never
//! touches a fired session (`t >= frontier - L > end`), so the sessions emitted are exactly
//! those of the accepted records, whatever their arrival order.
//!
//! State: per key a short list of open sessions, sorted and pairwise apart; the first is stored
//! inline in the key's map entry (most keys have one open session at a time, so a record's
//! common case, extending it, touches the entry and nothing else: no allocation, no second
//! cache line), later ones in a vector behind one pointer. The map is a [`SteadyMap`]: keys
//! open and fire sessions all the time, and in a `hashbrown` map their removals would leave
//! tombstones until the table stopped the worker to rehash (up to 1.9 s for q11's millions of
//! bidders). Fire times sit in a timer queue keyed by session end.
//! A timer is registered when a session is created; when it comes due and the session has
//! grown meanwhile, it is re-registered at the new end, so extending a session costs no timer
//! work. Timers of sessions absorbed by a merge go stale and are skipped.

use std::collections::BTreeMap;
use std::hash::Hash;
use std::marker::PhantomData;

use super::aggregate::Aggregate;
use super::steady_map::{MapEntry, SteadyMap};
use super::types::{Admission, Window, WindowError, WindowStats, check_lateness, check_positive};
use crate::time::Timestamp;

/// One open session of one key.
struct Session<Acc> {
    start: Timestamp,
    /// Last timestamp + gap (exclusive).
    end: Timestamp,
    /// The end at which this session's timer is registered.
    timer: Timestamp,
    acc: Acc,
}

/// A key's open sessions, sorted and pairwise apart: the first inline, the others (rare)
/// behind one pointer, allocated only when used, so the map's entry stays small (with an
/// 8-byte key and a count, 48 bytes: a map of millions of keys is that much memory to fault in
/// as it grows).
struct Open<Acc> {
    first: Session<Acc>,
    // A boxed Vec is one thin pointer (8 bytes) where a Vec or a boxed slice would put 24 or 16
    // bytes into every entry; the second allocation is only on the rare multi-session path.
    #[allow(clippy::box_collection)]
    rest: Option<Box<Vec<Session<Acc>>>>,
}

impl<Acc> Open<Acc> {
    fn new(first: Session<Acc>) -> Self {
        Self { first, rest: None }
    }

    /// The sessions after the first, in order.
    fn rest(&self) -> &[Session<Acc>] {
        self.rest.as_deref().map_or(&[], Vec::as_slice)
    }

    /// All sessions in order (for the rare paths that reshape the list).
    fn into_vec(self) -> Vec<Session<Acc>> {
        let rest = self.rest.map_or_else(Vec::new, |rest| *rest);
        let mut list = Vec::with_capacity(1 + rest.len());
        list.push(self.first);
        list.extend(rest);
        list
    }

    /// The sessions of `list` (sorted), `None` when it is empty.
    fn from_vec(mut list: Vec<Session<Acc>>) -> Option<Self> {
        if list.is_empty() {
            return None;
        }
        let first = list.remove(0);
        let rest = (!list.is_empty()).then(|| Box::new(list));
        Some(Self { first, rest })
    }
}

/// Keyed session windows with an incremental aggregate.
///
/// # Examples
///
/// ```
/// use weir_engine::window::{Count, SessionWindows, Window};
///
/// let mut sessions = SessionWindows::new(10, 0, Count).expect("valid gap");
/// for ts in [0, 5, 15, 40] {
///     sessions.insert("bidder", ts, &());
/// }
/// let mut out = Vec::new();
/// sessions.advance(i64::MAX, |key, window, count| out.push((window.start, window.end, count)));
/// out.sort_unstable();
/// // 15 touches [5, 15), so 0, 5 and 15 make one session; 40 is alone.
/// assert_eq!(out, vec![(0, 25, 3), (40, 50, 1)]);
/// ```
pub struct SessionWindows<K, V, A: Aggregate<V>> {
    agg: A,
    gap: i64,
    lateness: i64,
    sessions: SteadyMap<K, Open<A::Acc>>,
    timers: BTreeMap<Timestamp, Vec<K>>,
    /// Records with a timestamp below this are late (`frontier - lateness`).
    late_below: Timestamp,
    stats: WindowStats,
    _values: PhantomData<fn(&V)>,
}

impl<K: Hash + Eq + Clone, V, A: Aggregate<V>> SessionWindows<K, V, A> {
    /// Sessions that close after `gap` ms without a record, firing at `end + lateness`.
    ///
    /// # Errors
    ///
    /// A gap below 1 ms or a negative lateness.
    pub fn new(gap: i64, lateness: i64, agg: A) -> Result<Self, WindowError> {
        check_positive("gap", gap)?;
        check_lateness(lateness)?;
        Ok(SessionWindows {
            agg,
            gap,
            lateness,
            sessions: SteadyMap::new(),
            timers: BTreeMap::new(),
            late_below: Timestamp::MIN,
            stats: WindowStats::default(),
            _values: PhantomData,
        })
    }

    /// Adds a record to its key's sessions, merging the sessions it overlaps or touches.
    ///
    /// Returns [`Admission::Late`] (and counts it) when `ts + lateness < frontier`.
    pub fn insert(&mut self, key: K, ts: Timestamp, value: &V) -> Admission {
        if ts < self.late_below {
            self.stats.late += 1;
            return Admission::Late;
        }
        self.stats.accepted += 1;
        let start = ts;
        let end = ts.saturating_add(self.gap);
        let agg = &self.agg;
        let open = match self.sessions.entry(key) {
            MapEntry::Occupied(occupied) => occupied,
            MapEntry::Vacant(vacant) => {
                let mut acc = agg.init();
                agg.accumulate(&mut acc, value);
                self.timers
                    .entry(end)
                    .or_default()
                    .push(vacant.key().clone());
                vacant.insert(Open::new(Session {
                    start,
                    end,
                    timer: end,
                    acc,
                }));
                return Admission::Accepted;
            }
        };
        // The common case: the record meets the first session and no other.
        let sessions = open.get();
        if sessions.first.start <= end
            && start <= sessions.first.end
            && sessions.rest().first().is_none_or(|next| next.start > end)
        {
            let first = &mut open.into_mut().first;
            first.start = first.start.min(start);
            first.end = first.end.max(end);
            agg.accumulate(&mut first.acc, value);
            return Admission::Accepted;
        }
        let (key, sessions) = open.remove_entry();
        let mut list = sessions.into_vec();
        // Sessions are sorted and apart; the ones meeting [start, end) are contiguous.
        let first = list.partition_point(|s| s.end < start);
        let mut last = first;
        while last < list.len() && list[last].start <= end {
            last += 1;
        }
        if first == last {
            let mut acc = agg.init();
            agg.accumulate(&mut acc, value);
            list.insert(
                first,
                Session {
                    start,
                    end,
                    timer: end,
                    acc,
                },
            );
            self.timers.entry(end).or_default().push(key.clone());
        } else {
            // Merge sessions first+1..last into first.
            let absorbed: Vec<Session<A::Acc>> = list.drain(first + 1..last).collect();
            let session = &mut list[first];
            for other in absorbed {
                session.end = session.end.max(other.end);
                session.timer = session.timer.min(other.timer);
                agg.merge(&mut session.acc, &other.acc);
            }
            session.start = session.start.min(start);
            session.end = session.end.max(end);
            agg.accumulate(&mut session.acc, value);
        }
        let sessions = Open::from_vec(list).expect("a key with a record has a session");
        self.sessions.insert(key, sessions);
        Admission::Accepted
    }

    /// Advances the frontier: fires every session with `end + lateness < frontier`, calling
    /// `emit(key, window, result)`, and frees it. `Timestamp::MAX` fires everything.
    pub fn advance(&mut self, frontier: Timestamp, mut emit: impl FnMut(K, Window, A::Out)) {
        let end_of_input = frontier == Timestamp::MAX;
        self.late_below = self.late_below.max(frontier.saturating_sub(self.lateness));
        let due = |end: Timestamp| end_of_input || end.saturating_add(self.lateness) < frontier;
        while let Some(entry) = self.timers.first_entry() {
            let timer = *entry.key();
            if !due(timer) {
                break;
            }
            for key in entry.remove() {
                let Some(mut open) = self.sessions.occupied(&key) else {
                    continue; // stale: the key's sessions have all fired
                };
                if open.get().rest().is_empty() {
                    // The common case: one open session.
                    let session = &mut open.get_mut().first;
                    if due(session.end) {
                        let session = open.remove_entry().1.first;
                        self.stats.emitted += 1;
                        let window = Window {
                            start: session.start,
                            end: session.end,
                        };
                        emit(key, window, self.agg.finish(session.acc));
                    } else if session.timer == timer {
                        // The session grew since its timer was set: follow its end.
                        session.timer = session.end;
                        self.timers.entry(session.end).or_default().push(key);
                    }
                    continue;
                }
                let (_, sessions) = open.remove_entry();
                let mut list = sessions.into_vec();
                let mut i = 0;
                while i < list.len() {
                    let session = &mut list[i];
                    if due(session.end) {
                        let session = list.remove(i);
                        self.stats.emitted += 1;
                        let window = Window {
                            start: session.start,
                            end: session.end,
                        };
                        emit(key.clone(), window, self.agg.finish(session.acc));
                        continue;
                    }
                    if session.timer == timer {
                        // The session grew since its timer was set: follow its end.
                        session.timer = session.end;
                        self.timers
                            .entry(session.end)
                            .or_default()
                            .push(key.clone());
                    }
                    i += 1;
                }
                if let Some(open) = Open::from_vec(list) {
                    self.sessions.insert(key, open);
                }
            }
        }
    }

    /// Number of open sessions: the state that firing frees.
    pub fn state_len(&self) -> usize {
        self.sessions.values().map(|s| 1 + s.rest().len()).sum()
    }

    /// Record and result counts so far.
    pub fn stats(&self) -> WindowStats {
        self.stats
    }
}

impl<K, V, A: Aggregate<V>> std::fmt::Debug for SessionWindows<K, V, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionWindows")
            .field("gap", &self.gap)
            .field("lateness", &self.lateness)
            .field("keys", &self.sessions.len())
            .field("timers", &self.timers.len())
            .field("late_below", &self.late_below)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::Count;
    use proptest::prelude::*;

    type Results = Vec<(u32, Window, u64)>;

    #[test]
    fn touching_merges_and_fires_only_above_end() {
        let mut s = SessionWindows::new(10, 0, Count).expect("gap");
        s.insert(1, 0, &()); // [0, 10)
        let mut out = Results::new();
        s.advance(10, |k, w, c| out.push((k, w, c)));
        assert!(out.is_empty(), "a record at 10 may still touch [0, 10)");
        assert_eq!(s.insert(1, 10, &()), Admission::Accepted);
        s.advance(20, |k, w, c| out.push((k, w, c)));
        assert!(out.is_empty());
        s.advance(21, |k, w, c| out.push((k, w, c)));
        assert_eq!(out, vec![(1, Window { start: 0, end: 20 }, 2)]);
        assert_eq!(s.insert(1, 20, &()), Admission::Late);
        assert_eq!(s.stats().late, 1);
        assert_eq!(s.state_len(), 0);
    }

    #[test]
    fn a_record_bridging_two_sessions_merges_them() {
        let mut s = SessionWindows::new(10, 0, crate::window::Sum).expect("gap");
        s.insert(1, 0, &1);
        s.insert(1, 30, &2);
        s.insert(1, 100, &4);
        assert_eq!(s.state_len(), 3);
        s.insert(1, 15, &8); // [15, 25) meets neither [0, 10) nor [30, 40)
        assert_eq!(s.state_len(), 4);
        s.insert(1, 10, &16); // [10, 20) touches [0, 10), overlaps [15, 25): [0, 25)
        assert_eq!(s.state_len(), 3);
        s.insert(1, 25, &32); // [25, 35) touches [0, 25), overlaps [30, 40): [0, 40)
        assert_eq!(s.state_len(), 2);
        let mut out = Vec::new();
        s.advance(i64::MAX, |_, w, v| out.push((w.start, w.end, v)));
        out.sort_unstable();
        assert_eq!(out, vec![(0, 40, 59), (100, 110, 4)]);
    }

    #[test]
    fn rejects_bad_gap() {
        let e = SessionWindows::<u32, (), _>::new(-5, 0, Count).expect_err("negative gap");
        assert!(e.to_string().contains("gap"));
    }

    #[derive(Clone, Debug)]
    enum Step {
        Record(u32, i64),
        Advance(i64),
    }

    /// Sequential reference: accepted records (`ts + lateness >= frontier` on arrival) sorted
    /// per key and cut where the next record is more than `gap` after the previous one.
    fn reference(gap: i64, lateness: i64, steps: &[Step]) -> (Results, u64) {
        let mut frontier = i64::MIN;
        let mut late = 0;
        let mut per_key: BTreeMap<u32, Vec<i64>> = BTreeMap::new();
        for step in steps {
            match *step {
                Step::Advance(f) => frontier = frontier.max(f),
                Step::Record(_, ts) if ts + lateness < frontier => late += 1,
                Step::Record(k, ts) => per_key.entry(k).or_default().push(ts),
            }
        }
        let mut out = Results::new();
        for (k, mut times) in per_key {
            times.sort_unstable();
            let mut start = times[0];
            let mut last = times[0];
            let mut count = 0;
            for t in times {
                if t > last + gap {
                    out.push((
                        k,
                        Window {
                            start,
                            end: last + gap,
                        },
                        count,
                    ));
                    start = t;
                    count = 0;
                }
                last = t;
                count += 1;
            }
            out.push((
                k,
                Window {
                    start,
                    end: last + gap,
                },
                count,
            ));
        }
        out.sort_unstable();
        (out, late)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn matches_reference(
            steps in proptest::collection::vec(prop_oneof![
                4 => (0_u32..3, 0_i64..100).prop_map(|(k, t)| Step::Record(k, t)),
                1 => (0_i64..110).prop_map(Step::Advance),
            ], 0..80),
            gap in 1_i64..15,
            lateness in 0_i64..6,
        ) {
            let mut s = SessionWindows::new(gap, lateness, Count).expect("gap");
            let mut out = Results::new();
            let mut frontier = i64::MIN;
            for step in &steps {
                match *step {
                    Step::Record(k, ts) => { s.insert(k, ts, &()); }
                    Step::Advance(f) => {
                        frontier = frontier.max(f);
                        s.advance(frontier, |k, w, c| {
                            assert!(w.end + lateness < frontier, "fired early");
                            out.push((k, w, c));
                        });
                        // Nothing due is left behind: state is freed as sessions fire.
                        let due = s.sessions.values()
                            .flat_map(|o| std::iter::once(&o.first).chain(o.rest()))
                            .any(|x| x.end + lateness < frontier);
                        prop_assert!(!due);
                    }
                }
            }
            s.advance(i64::MAX, |k, w, c| out.push((k, w, c)));
            out.sort_unstable();
            let (expected, late) = reference(gap, lateness, &steps);
            prop_assert_eq!(out, expected);
            prop_assert_eq!(s.stats().late, late);
            prop_assert_eq!(s.state_len(), 0);
            prop_assert!(s.timers.is_empty());
        }
    }
}
