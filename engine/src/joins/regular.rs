//! The regular (unbounded) inner join of two keyed streams: SQL's `a JOIN b ON a.k = b.k` on
//! streams, where either side of a pair may arrive first (Nexmark q3 and q20).
//!
//! **What it keeps.** Per key, the left and the right records seen so far. A pair is emitted
//! once, when its second record arrives: a new left record joins every buffered right record
//! of its key, a new right record every buffered left record. Time plays no part in which
//! records match, so no frontier can free a record while its key may still receive a partner:
//! the state grows with the input and is freed only at end of input.
//!
//! **Unique left keys** ([`RegularJoinSpec::unique_left_keys`], a primary key such as an
//! auction id): a key has at most one left record, so a right record waits only until that
//! record arrives; once joined, it is dropped, and right records arriving later are joined and
//! never stored. The state is then every left record plus the right records still waiting for
//! theirs, laid out for that: the left records inline in one hash map (key and record, no
//! vector or allocation per key), the waiting right records in another. The caller promises
//! the uniqueness (a second left record of a key replaces the first, whose later partners it
//! would take); the weir Nexmark runs only declare it for auction ids, which the generator and
//! the `--input` reader guarantee unique.
//!
//! **Residual condition.** The join function returns `Option`: `None` rejects the pair (a
//! condition beyond key equality, such as q20's `category = 10` evaluated on the joined pair),
//! so a left record that can never join still consumes its waiting right records and frees
//! them (with unique left keys).
//!
//! **Cost.** One hash lookup per record plus one call per emitted pair. The number of buffered
//! records is kept as a counter ([`RegularJoin::state_len`]) and reported as the operator's
//! `state_records` metric after every batch.

use std::hash::Hash;
use std::rc::Rc;

use crate::operator::{BinaryOperator, Output};
use crate::stream::Stream;
use crate::time::{Timestamp, Watermark};
use crate::window::{FastMap, fast_map, key_hash};

/// Settings of a regular join.
///
/// # Examples
///
/// ```
/// use weir_engine::joins::RegularJoinSpec;
///
/// let q20 = RegularJoinSpec::new().unique_left_keys(); // auctions by id, then their bids
/// assert!(q20.has_unique_left_keys());
/// assert!(!RegularJoinSpec::new().has_unique_left_keys());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct RegularJoinSpec {
    unique_left_keys: bool,
}

impl RegularJoinSpec {
    /// Any number of records per key on both sides.
    pub const fn new() -> Self {
        Self {
            unique_left_keys: false,
        }
    }

    /// Declares that no two left records share a key (see the module docs): right records are
    /// then freed as soon as their left record arrives.
    pub const fn unique_left_keys(mut self) -> Self {
        self.unique_left_keys = true;
        self
    }

    /// Whether left keys were declared unique.
    pub const fn has_unique_left_keys(&self) -> bool {
        self.unique_left_keys
    }
}

/// One key's buffered records (any number per side).
#[derive(Debug)]
struct Sides<L, R> {
    left: Vec<L>,
    right: Vec<R>,
}

/// The buffered records, laid out by the spec.
#[derive(Debug)]
enum State<K, L, R> {
    /// Any number of records per key on both sides.
    Many(FastMap<K, Sides<L, R>>),
    /// Unique left keys: each key's left record inline in one map (no vector, no allocation
    /// per key), and apart from it the right records still waiting for theirs. A key is in at
    /// most one of the two maps.
    Unique {
        left: FastMap<K, L>,
        waiting: FastMap<K, Vec<R>>,
    },
}

impl<K, L, R> State<K, L, R> {
    fn new(spec: RegularJoinSpec) -> Self {
        if spec.unique_left_keys {
            State::Unique {
                left: fast_map(),
                waiting: fast_map(),
            }
        } else {
            State::Many(fast_map())
        }
    }
}

/// The state machine of a regular inner join.
///
/// # Examples
///
/// ```
/// use weir_engine::joins::{RegularJoin, RegularJoinSpec};
///
/// let mut join = RegularJoin::new(RegularJoinSpec::new().unique_left_keys());
/// let mut out = Vec::new();
/// // The bid arrives before its auction: it waits, and is freed when the auction joins it.
/// join.insert_right(7_u64, "bid 1", |_, a: &&str, b: &&str| out.push((*a, *b)));
/// join.insert_left(7, "auction 7", |_, a, b| out.push((*a, *b)));
/// join.insert_right(7, "bid 2", |_, a, b| out.push((*a, *b)));
/// assert_eq!(out, vec![("auction 7", "bid 1"), ("auction 7", "bid 2")]);
/// assert_eq!(join.state_len(), 1, "only the auction stays");
/// ```
#[derive(Debug)]
pub struct RegularJoin<K, L, R> {
    spec: RegularJoinSpec,
    state: State<K, L, R>,
    left_len: u64,
    right_len: u64,
    emitted: u64,
}

impl<K: Hash + Eq, L, R> RegularJoin<K, L, R> {
    /// An empty join.
    pub fn new(spec: RegularJoinSpec) -> Self {
        Self {
            spec,
            state: State::new(spec),
            left_len: 0,
            right_len: 0,
            emitted: 0,
        }
    }

    /// Adds a left record: calls `emit(key, left, right)` for every buffered right record of
    /// its key, then keeps it (with unique left keys, frees those right records; a second left
    /// record of a key, which the caller promised never comes, replaces the first).
    pub fn insert_left(&mut self, key: K, value: L, mut emit: impl FnMut(&K, &L, &R)) {
        match &mut self.state {
            State::Many(state) => {
                self.left_len += 1;
                let Some(sides) = state.get_mut(&key) else {
                    state.insert(
                        key,
                        Sides {
                            left: vec![value],
                            right: Vec::new(),
                        },
                    );
                    return;
                };
                for right in &sides.right {
                    emit(&key, &value, right);
                }
                self.emitted += sides.right.len() as u64;
                sides.left.push(value);
            }
            State::Unique { left, waiting } => {
                if let Some(rights) = waiting.remove(&key) {
                    // No other left record will come for them: the waiting right records
                    // are done.
                    for right in &rights {
                        emit(&key, &value, right);
                    }
                    self.emitted += rights.len() as u64;
                    self.right_len -= rights.len() as u64;
                }
                let replaced = left.insert(key, value);
                debug_assert!(replaced.is_none(), "a left key declared unique came twice");
                if replaced.is_none() {
                    self.left_len += 1;
                }
            }
        }
    }

    /// Adds a right record: calls `emit(key, left, right)` for every buffered left record of
    /// its key, then keeps it (with unique left keys, only while its left record is missing).
    pub fn insert_right(&mut self, key: K, value: R, mut emit: impl FnMut(&K, &L, &R)) {
        match &mut self.state {
            State::Many(state) => {
                self.right_len += 1;
                let Some(sides) = state.get_mut(&key) else {
                    state.insert(
                        key,
                        Sides {
                            left: Vec::new(),
                            right: vec![value],
                        },
                    );
                    return;
                };
                for left in &sides.left {
                    emit(&key, left, &value);
                }
                self.emitted += sides.left.len() as u64;
                sides.right.push(value);
            }
            State::Unique { left, waiting } => {
                if let Some(left) = left.get(&key) {
                    emit(&key, left, &value);
                    self.emitted += 1;
                } else {
                    self.right_len += 1;
                    waiting.entry(key).or_default().push(value);
                }
            }
        }
    }

    /// End of input: frees every record (no partner can arrive any more).
    pub fn clear(&mut self) {
        self.state = State::new(self.spec);
        self.left_len = 0;
        self.right_len = 0;
    }

    /// Records buffered on both sides.
    pub fn state_len(&self) -> u64 {
        self.left_len + self.right_len
    }

    /// `(left, right)` records buffered.
    pub fn state_sides(&self) -> (u64, u64) {
        (self.left_len, self.right_len)
    }

    /// Keys with buffered records.
    pub fn keys(&self) -> usize {
        match &self.state {
            State::Many(state) => state.len(),
            State::Unique { left, waiting } => left.len() + waiting.len(),
        }
    }

    /// Pairs emitted so far (before the residual condition).
    pub fn emitted(&self) -> u64 {
        self.emitted
    }
}

/// A regular join of two keyed inputs, one instance per worker.
struct RegularJoinOperator<L, R, K, FL, FR, F> {
    state: RegularJoin<K, L, R>,
    left: FL,
    right: FR,
    join: F,
}

impl<L, R, K, O, FL, FR, F> BinaryOperator for RegularJoinOperator<L, R, K, FL, FR, F>
where
    L: 'static,
    R: 'static,
    K: Hash + Eq + 'static,
    O: 'static,
    FL: Fn(&L) -> K + 'static,
    FR: Fn(&R) -> K + 'static,
    F: FnMut(&K, &L, &R) -> Option<O> + 'static,
{
    type Left = L;
    type Right = R;
    type Out = O;

    fn on_left(&mut self, input: &mut Vec<L>, out: &mut Output<'_, O>) {
        let join = &mut self.join;
        for record in input.drain(..) {
            let key = (self.left)(&record);
            self.state.insert_left(key, record, |k, l, r| {
                if let Some(row) = join(k, l, r) {
                    out.push(row);
                }
            });
        }
        out.set_state_records(self.state.state_len());
    }

    fn on_right(&mut self, input: &mut Vec<R>, out: &mut Output<'_, O>) {
        let join = &mut self.join;
        for record in input.drain(..) {
            let key = (self.right)(&record);
            self.state.insert_right(key, record, |k, l, r| {
                if let Some(row) = join(k, l, r) {
                    out.push(row);
                }
            });
        }
        out.set_state_records(self.state.state_len());
    }

    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, O>) -> Timestamp {
        if wm.is_end() {
            self.state.clear();
            out.set_state_records(0);
        }
        wm.time
    }
}

impl<T: Send + 'static> Stream<T> {
    /// Regular (unbounded) inner join: every left record meets every right record of the same
    /// key (`left(record)`, `right(record)`), whichever arrives first, and each pair yields
    /// `join(key, left, right)` once, when its second record arrives; `None` rejects the pair
    /// (a residual join condition). Both inputs are partitioned by the key. The state (see
    /// [`RegularJoin`]) is freed at end of input; its size is the operator's `state_records`
    /// metric. Results carry no event time of their own: the output watermark is the input
    /// frontier.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use weir_engine::joins::RegularJoinSpec;
    /// use weir_engine::{Config, IterSource, execute};
    ///
    /// let rows = Arc::new(Mutex::new(Vec::new()));
    /// let sink = Arc::clone(&rows);
    /// execute(Config::new(2).with_pinning(false), move |worker| {
    ///     let me = worker.index() as i64;
    ///     // (id, name) auctions and (auction, price) bids; worker 0 reads both inputs.
    ///     let auctions = if me == 0 { vec![(1_u64, "lamp"), (2, "vase")] } else { vec![] };
    ///     let bids = if me == 0 { vec![(2_u64, 30_u64), (1, 10), (3, 5)] } else { vec![] };
    ///     let sink = Arc::clone(&sink);
    ///     worker
    ///         .source(IterSource::new(auctions, |_: &(u64, &str)| 0, 0))
    ///         .regular_join(
    ///             worker.source(IterSource::new(bids, |_: &(u64, u64)| 0, 0)),
    ///             RegularJoinSpec::new().unique_left_keys(),
    ///             |a| a.0,
    ///             |b| b.0,
    ///             |_, a, b| Some((a.1, b.1)),
    ///         )
    ///         .for_each(move |row| sink.lock().expect("lock").push(row));
    /// })?;
    /// let mut rows = rows.lock().expect("lock").clone();
    /// rows.sort_unstable();
    /// assert_eq!(rows, vec![("lamp", 10), ("vase", 30)]);
    /// # Ok::<(), weir_engine::EngineError>(())
    /// ```
    pub fn regular_join<R, K, O>(
        self,
        other: Stream<R>,
        spec: RegularJoinSpec,
        left: impl Fn(&T) -> K + 'static,
        right: impl Fn(&R) -> K + 'static,
        join: impl FnMut(&K, &T, &R) -> Option<O> + 'static,
    ) -> Stream<O>
    where
        R: Send + 'static,
        K: Hash + Eq + 'static,
        O: 'static,
    {
        let (left, right) = (Rc::new(left), Rc::new(right));
        let (left_route, right_route) = (Rc::clone(&left), Rc::clone(&right));
        let op = RegularJoinOperator {
            state: RegularJoin::new(spec),
            left: move |r: &T| left(r),
            right: move |r: &R| right(r),
            join,
        };
        let lhs = self.key_by(move |r| key_hash(&left_route(r)));
        let rhs = other.key_by(move |r| key_hash(&right_route(r)));
        lhs.binary(rhs, "regular_join", op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_emitted_once_whichever_side_comes_first() {
        let mut join = RegularJoin::new(RegularJoinSpec::new());
        let mut out = Vec::new();
        join.insert_right(1_u32, 'a', |_, l: &char, r: &char| out.push((*l, *r)));
        join.insert_left(1, 'X', |_, l, r| out.push((*l, *r)));
        join.insert_left(1, 'Y', |_, l, r| out.push((*l, *r)));
        join.insert_right(1, 'b', |_, l, r| out.push((*l, *r)));
        join.insert_right(2, 'c', |_, l, r| out.push((*l, *r)));
        assert_eq!(out, vec![('X', 'a'), ('Y', 'a'), ('X', 'b'), ('Y', 'b')]);
        assert_eq!(join.state_sides(), (2, 3));
        assert_eq!(join.keys(), 2);
        assert_eq!(join.emitted(), 4);
        join.clear();
        assert_eq!(join.state_len(), 0);
    }

    #[test]
    fn unique_left_keys_free_right_records_once_joined() {
        let mut join = RegularJoin::new(RegularJoinSpec::new().unique_left_keys());
        let mut out = Vec::new();
        join.insert_right(1_u32, 'a', |_, l: &char, r: &char| out.push((*l, *r)));
        join.insert_right(1, 'b', |_, l, r| out.push((*l, *r)));
        assert_eq!(join.state_sides(), (0, 2));
        join.insert_left(1, 'X', |_, l, r| out.push((*l, *r)));
        assert_eq!(join.state_sides(), (1, 0), "the waiting bids are done");
        join.insert_right(1, 'c', |_, l, r| out.push((*l, *r)));
        assert_eq!(join.state_sides(), (1, 0), "a later bid is never stored");
        join.insert_right(9, 'z', |_, l, r| out.push((*l, *r)));
        assert_eq!(
            join.state_sides(),
            (1, 1),
            "a bid without its auction waits"
        );
        assert_eq!(out, vec![('X', 'a'), ('X', 'b'), ('X', 'c')]);
        assert_eq!(
            join.keys(),
            2,
            "key 1 with its left record, key 9 with a waiting one"
        );
        assert_eq!(join.emitted(), 3);
        join.clear();
        assert_eq!((join.state_len(), join.keys()), (0, 0));
    }
}
