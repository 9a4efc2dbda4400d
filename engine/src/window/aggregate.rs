//! Incremental aggregates: the [`Aggregate`] trait and the built-ins.
//!
//! An aggregate folds values into an *accumulator* one at a time (`accumulate`), combines two
//! accumulators (`merge`: sliding windows merge their panes, sessions merge when they touch) and
//! turns an accumulator into a result (`finish`). `merge` must be associative and commutative
//! with `init` as its identity, and `accumulate(v)` must equal merging a one-value accumulator:
//! then the result never depends on arrival order or on how records were split into panes.
//! Every built-in obeys this; results are exact integers (no floats).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::Hash;
use std::marker::PhantomData;

use super::types::{FastMap, fast_map};

/// Declares a stateless aggregate over values of type `T`: a zero-sized marker with `new`,
/// `Default` and `Clone` (written out because derives would require `T: Default + Clone`).
macro_rules! marker_aggregate {
    ($(#[$doc:meta])* $name:ident, $new_doc:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name<T>(PhantomData<fn(T)>);

        impl<T> $name<T> {
            #[doc = $new_doc]
            pub fn new() -> Self {
                $name(PhantomData)
            }
        }

        impl<T> Default for $name<T> {
            fn default() -> Self {
                Self::new()
            }
        }

        impl<T> Clone for $name<T> {
            fn clone(&self) -> Self {
                Self::new()
            }
        }
    };
}

/// A keyed incremental aggregate over values of type `V`.
///
/// Implement it for your own aggregates; see the module docs for the laws `merge` must obey.
///
/// # Examples
///
/// ```
/// use weir_engine::window::Aggregate;
///
/// /// Sum of squares, a user aggregate.
/// struct SumSquares;
///
/// impl Aggregate<i64> for SumSquares {
///     type Acc = i128;
///     type Out = i128;
///     fn init(&self) -> i128 { 0 }
///     fn accumulate(&self, acc: &mut i128, value: &i64) { *acc += i128::from(*value).pow(2); }
///     fn merge(&self, acc: &mut i128, other: &i128) { *acc += *other; }
///     fn finish(&self, acc: i128) -> i128 { acc }
/// }
///
/// let mut acc = SumSquares.init();
/// SumSquares.accumulate(&mut acc, &3);
/// SumSquares.accumulate(&mut acc, &4);
/// assert_eq!(SumSquares.finish(acc), 25);
/// ```
pub trait Aggregate<V: ?Sized> {
    /// The running state for one key and window.
    type Acc;
    /// The result for one key and window.
    type Out;
    /// A fresh, empty accumulator (the identity of `merge`).
    fn init(&self) -> Self::Acc;
    /// Adds one value.
    fn accumulate(&self, acc: &mut Self::Acc, value: &V);
    /// Adds everything `other` holds.
    fn merge(&self, acc: &mut Self::Acc, other: &Self::Acc);
    /// The result.
    fn finish(&self, acc: Self::Acc) -> Self::Out;
}

/// Number of values (`COUNT(*)`), for any value type.
#[derive(Clone, Copy, Debug, Default)]
pub struct Count;

impl<V: ?Sized> Aggregate<V> for Count {
    type Acc = u64;
    type Out = u64;
    fn init(&self) -> u64 {
        0
    }
    #[inline]
    fn accumulate(&self, acc: &mut u64, _value: &V) {
        *acc += 1;
    }
    fn merge(&self, acc: &mut u64, other: &u64) {
        *acc += *other;
    }
    fn finish(&self, acc: u64) -> u64 {
        acc
    }
}

/// Exact sum of `i64` values (`SUM`), accumulated in `i128` so it cannot overflow.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sum;

impl Aggregate<i64> for Sum {
    type Acc = i128;
    type Out = i128;
    fn init(&self) -> i128 {
        0
    }
    #[inline]
    fn accumulate(&self, acc: &mut i128, value: &i64) {
        *acc += i128::from(*value);
    }
    fn merge(&self, acc: &mut i128, other: &i128) {
        *acc += *other;
    }
    fn finish(&self, acc: i128) -> i128 {
        acc
    }
}

marker_aggregate!(
    /// Smallest value (`MIN`); `None` for no values.
    Min,
    "The `MIN` aggregate."
);

marker_aggregate!(
    /// Largest value (`MAX`); `None` for no values.
    Max,
    "The `MAX` aggregate."
);

/// Keeps the better of two optional values.
fn keep<T: Ord + Clone>(acc: &mut Option<T>, value: &T, better: std::cmp::Ordering) {
    match acc {
        Some(current) if value.cmp(current) != better => {}
        _ => *acc = Some(value.clone()),
    }
}

impl<T: Ord + Clone> Aggregate<T> for Min<T> {
    type Acc = Option<T>;
    type Out = Option<T>;
    fn init(&self) -> Option<T> {
        None
    }
    #[inline]
    fn accumulate(&self, acc: &mut Option<T>, value: &T) {
        keep(acc, value, std::cmp::Ordering::Less);
    }
    fn merge(&self, acc: &mut Option<T>, other: &Option<T>) {
        if let Some(value) = other {
            keep(acc, value, std::cmp::Ordering::Less);
        }
    }
    fn finish(&self, acc: Option<T>) -> Option<T> {
        acc
    }
}

impl<T: Ord + Clone> Aggregate<T> for Max<T> {
    type Acc = Option<T>;
    type Out = Option<T>;
    fn init(&self) -> Option<T> {
        None
    }
    #[inline]
    fn accumulate(&self, acc: &mut Option<T>, value: &T) {
        keep(acc, value, std::cmp::Ordering::Greater);
    }
    fn merge(&self, acc: &mut Option<T>, other: &Option<T>) {
        if let Some(value) = other {
            keep(acc, value, std::cmp::Ordering::Greater);
        }
    }
    fn finish(&self, acc: Option<T>) -> Option<T> {
        acc
    }
}

/// Integer average of `i64` values (`AVG` on BIGINT): `sum div count`, truncated toward zero,
/// with an `i128` sum. `None` for no values.
#[derive(Clone, Copy, Debug, Default)]
pub struct Avg;

impl Aggregate<i64> for Avg {
    /// `(sum, count)`.
    type Acc = (i128, u64);
    type Out = Option<i64>;
    fn init(&self) -> (i128, u64) {
        (0, 0)
    }
    #[inline]
    fn accumulate(&self, acc: &mut (i128, u64), value: &i64) {
        acc.0 += i128::from(*value);
        acc.1 += 1;
    }
    fn merge(&self, acc: &mut (i128, u64), other: &(i128, u64)) {
        acc.0 += other.0;
        acc.1 += other.1;
    }
    fn finish(&self, (sum, count): (i128, u64)) -> Option<i64> {
        if count == 0 {
            return None;
        }
        // The mean of i64 values lies within the i64 range.
        Some((sum / i128::from(count)) as i64)
    }
}

marker_aggregate!(
    /// Number of distinct values (`COUNT(DISTINCT v)`).
    DistinctCount,
    "The `COUNT(DISTINCT)` aggregate."
);

impl<T: Hash + Eq + Clone> Aggregate<T> for DistinctCount<T> {
    type Acc = FastMap<T, ()>;
    type Out = u64;
    fn init(&self) -> FastMap<T, ()> {
        fast_map()
    }
    #[inline]
    fn accumulate(&self, acc: &mut FastMap<T, ()>, value: &T) {
        if !acc.contains_key(value) {
            acc.insert(value.clone(), ());
        }
    }
    fn merge(&self, acc: &mut FastMap<T, ()>, other: &FastMap<T, ()>) {
        for value in other.keys() {
            self.accumulate(acc, value);
        }
    }
    fn finish(&self, acc: FastMap<T, ()>) -> u64 {
        acc.len() as u64
    }
}

marker_aggregate!(
    /// The distinct values, in ascending order (for example q8's person names per id and window).
    Distinct,
    "The distinct-values aggregate."
);

impl<T: Hash + Eq + Ord + Clone> Aggregate<T> for Distinct<T> {
    type Acc = FastMap<T, ()>;
    type Out = Vec<T>;
    fn init(&self) -> FastMap<T, ()> {
        fast_map()
    }
    #[inline]
    fn accumulate(&self, acc: &mut FastMap<T, ()>, value: &T) {
        if !acc.contains_key(value) {
            acc.insert(value.clone(), ());
        }
    }
    fn merge(&self, acc: &mut FastMap<T, ()>, other: &FastMap<T, ()>) {
        for value in other.keys() {
            self.accumulate(acc, value);
        }
    }
    fn finish(&self, acc: FastMap<T, ()>) -> Vec<T> {
        let mut values: Vec<T> = acc.into_keys().collect();
        values.sort_unstable();
        values
    }
}

marker_aggregate!(
    /// Every value, duplicates included, in ascending order (for example q5's per-window
    /// `(count, auction)` pairs, from which the leaders are picked).
    Collect,
    "The collect-all aggregate."
);

impl<T: Ord + Clone> Aggregate<T> for Collect<T> {
    type Acc = Vec<T>;
    type Out = Vec<T>;
    fn init(&self) -> Vec<T> {
        Vec::new()
    }
    #[inline]
    fn accumulate(&self, acc: &mut Vec<T>, value: &T) {
        acc.push(value.clone());
    }
    fn merge(&self, acc: &mut Vec<T>, other: &Vec<T>) {
        acc.extend_from_slice(other);
    }
    fn finish(&self, mut acc: Vec<T>) -> Vec<T> {
        acc.sort_unstable();
        acc
    }
}

/// The `k` largest values, largest first.
///
/// The order is `T`'s `Ord`, which must be total and agree with `Eq`; put the tie-break in `T`
/// itself (for example `(price, Reverse(event_id))`: highest price, then lowest event id). Then
/// the result is the same whatever the arrival order. Duplicates of one value count separately.
#[derive(Debug)]
pub struct TopK<T> {
    k: usize,
    _values: PhantomData<fn(T)>,
}

impl<T> TopK<T> {
    /// The `k` largest values.
    pub fn new(k: usize) -> Self {
        TopK {
            k,
            _values: PhantomData,
        }
    }
}

impl<T> Clone for TopK<T> {
    fn clone(&self) -> Self {
        Self::new(self.k)
    }
}

impl<T: Ord + Clone> TopK<T> {
    /// Offers one value to a heap holding at most `k` values (the smallest on top).
    #[inline]
    fn offer(&self, heap: &mut BinaryHeap<Reverse<T>>, value: &T) {
        if heap.len() < self.k {
            heap.push(Reverse(value.clone()));
        } else if let Some(mut smallest) = heap.peek_mut()
            && *value > smallest.0
        {
            smallest.0 = value.clone();
        }
    }
}

impl<T: Ord + Clone> Aggregate<T> for TopK<T> {
    type Acc = BinaryHeap<Reverse<T>>;
    type Out = Vec<T>;
    fn init(&self) -> BinaryHeap<Reverse<T>> {
        BinaryHeap::new()
    }
    #[inline]
    fn accumulate(&self, acc: &mut BinaryHeap<Reverse<T>>, value: &T) {
        self.offer(acc, value);
    }
    fn merge(&self, acc: &mut BinaryHeap<Reverse<T>>, other: &BinaryHeap<Reverse<T>>) {
        for Reverse(value) in other {
            self.offer(acc, value);
        }
    }
    fn finish(&self, acc: BinaryHeap<Reverse<T>>) -> Vec<T> {
        // Ascending order of `Reverse<T>` is descending order of `T`.
        acc.into_sorted_vec()
            .into_iter()
            .map(|Reverse(v)| v)
            .collect()
    }
}

/// The largest value and every key that has it (`ARGMAX` keeping all ties), over
/// `(key, value)` pairs; `None` for no pairs.
///
/// The result is `(max value, keys)` with the keys in ascending order, duplicates kept (a key
/// offered twice at the maximum appears twice), so it does not depend on arrival order or on
/// how the pairs were split into partials. Nexmark q5 picks the auctions with the most bids
/// of a window with it.
///
/// # Examples
///
/// ```
/// use weir_engine::window::{Aggregate, ArgMaxAll};
///
/// let leaders = ArgMaxAll::new();
/// let mut acc = leaders.init();
/// for pair in [(7_u64, 3_u64), (9, 5), (4, 5), (1, 2)] {
///     leaders.accumulate(&mut acc, &pair);
/// }
/// assert_eq!(leaders.finish(acc), Some((5, vec![4, 9])));
/// ```
#[derive(Debug)]
pub struct ArgMaxAll<K, V>(PhantomData<fn(K, V)>);

impl<K, V> ArgMaxAll<K, V> {
    /// The arg-max-with-ties aggregate.
    pub fn new() -> Self {
        ArgMaxAll(PhantomData)
    }
}

impl<K, V> Default for ArgMaxAll<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V> Clone for ArgMaxAll<K, V> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<K: Ord + Clone, V: Ord + Clone> ArgMaxAll<K, V> {
    /// Offers `keys`, all at `value`.
    #[inline]
    fn offer(acc: &mut Option<(V, Vec<K>)>, value: &V, keys: &[K]) {
        match acc {
            Some((max, at_max)) => match value.cmp(max) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => at_max.extend_from_slice(keys),
                std::cmp::Ordering::Greater => {
                    max.clone_from(value);
                    at_max.clear();
                    at_max.extend_from_slice(keys);
                }
            },
            None => *acc = Some((value.clone(), keys.to_vec())),
        }
    }
}

impl<K: Ord + Clone, V: Ord + Clone> Aggregate<(K, V)> for ArgMaxAll<K, V> {
    /// `(max value, keys at it)` in arrival order.
    type Acc = Option<(V, Vec<K>)>;
    type Out = Option<(V, Vec<K>)>;
    fn init(&self) -> Self::Acc {
        None
    }
    #[inline]
    fn accumulate(&self, acc: &mut Self::Acc, (key, value): &(K, V)) {
        Self::offer(acc, value, std::slice::from_ref(key));
    }
    fn merge(&self, acc: &mut Self::Acc, other: &Self::Acc) {
        if let Some((value, keys)) = other {
            Self::offer(acc, value, keys);
        }
    }
    fn finish(&self, mut acc: Self::Acc) -> Self::Out {
        if let Some((_, keys)) = &mut acc {
            keys.sort_unstable();
        }
        acc
    }
}

/// An aggregate of a field: applies `field` to each record, then `agg` to the result.
///
/// Built with [`on`].
pub struct On<F, A, V> {
    field: F,
    agg: A,
    _value: PhantomData<fn() -> V>,
}

/// Aggregates `field(record)` with `agg`, for example `on(|bid: &Bid| bid.price, Max::new())`.
///
/// # Examples
///
/// ```
/// use weir_engine::window::{Aggregate, Sum, on};
///
/// let total = on(|pair: &(u32, i64)| pair.1, Sum);
/// let mut acc = total.init();
/// total.accumulate(&mut acc, &(7, 40));
/// total.accumulate(&mut acc, &(7, 2));
/// assert_eq!(total.finish(acc), 42);
/// ```
pub fn on<T, V, F: Fn(&T) -> V, A: Aggregate<V>>(field: F, agg: A) -> On<F, A, V> {
    On {
        field,
        agg,
        _value: PhantomData,
    }
}

impl<T, V, F: Fn(&T) -> V, A: Aggregate<V>> Aggregate<T> for On<F, A, V> {
    type Acc = A::Acc;
    type Out = A::Out;
    fn init(&self) -> A::Acc {
        self.agg.init()
    }
    #[inline]
    fn accumulate(&self, acc: &mut A::Acc, value: &T) {
        self.agg.accumulate(acc, &(self.field)(value));
    }
    fn merge(&self, acc: &mut A::Acc, other: &A::Acc) {
        self.agg.merge(acc, other);
    }
    fn finish(&self, acc: A::Acc) -> A::Out {
        self.agg.finish(acc)
    }
}

impl<F, A: std::fmt::Debug, V> std::fmt::Debug for On<F, A, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("On")
            .field("agg", &self.agg)
            .finish_non_exhaustive()
    }
}

/// Two aggregates side by side over the same values: results `(a, b)`.
impl<V: ?Sized, A: Aggregate<V>, B: Aggregate<V>> Aggregate<V> for (A, B) {
    type Acc = (A::Acc, B::Acc);
    type Out = (A::Out, B::Out);
    fn init(&self) -> Self::Acc {
        (self.0.init(), self.1.init())
    }
    #[inline]
    fn accumulate(&self, acc: &mut Self::Acc, value: &V) {
        self.0.accumulate(&mut acc.0, value);
        self.1.accumulate(&mut acc.1, value);
    }
    fn merge(&self, acc: &mut Self::Acc, other: &Self::Acc) {
        self.0.merge(&mut acc.0, &other.0);
        self.1.merge(&mut acc.1, &other.1);
    }
    fn finish(&self, acc: Self::Acc) -> Self::Out {
        (self.0.finish(acc.0), self.1.finish(acc.1))
    }
}

/// Three aggregates side by side over the same values: results `(a, b, c)`.
impl<V: ?Sized, A: Aggregate<V>, B: Aggregate<V>, C: Aggregate<V>> Aggregate<V> for (A, B, C) {
    type Acc = (A::Acc, B::Acc, C::Acc);
    type Out = (A::Out, B::Out, C::Out);
    fn init(&self) -> Self::Acc {
        (self.0.init(), self.1.init(), self.2.init())
    }
    #[inline]
    fn accumulate(&self, acc: &mut Self::Acc, value: &V) {
        self.0.accumulate(&mut acc.0, value);
        self.1.accumulate(&mut acc.1, value);
        self.2.accumulate(&mut acc.2, value);
    }
    fn merge(&self, acc: &mut Self::Acc, other: &Self::Acc) {
        self.0.merge(&mut acc.0, &other.0);
        self.1.merge(&mut acc.1, &other.1);
        self.2.merge(&mut acc.2, &other.2);
    }
    fn finish(&self, acc: Self::Acc) -> Self::Out {
        (
            self.0.finish(acc.0),
            self.1.finish(acc.1),
            self.2.finish(acc.2),
        )
    }
}

/// An aggregate whose result can be read without consuming the accumulator and never goes
/// down as values arrive: `current(acc)` after `accumulate` or `merge` is `>=` the one before.
///
/// Counts, maxima and distinct counts are monotone; sums of signed values and minima are not.
/// [`Stream::window_leaders`](crate::Stream::window_leaders) relies on it: a key's result in a
/// window only rises, so the window's maximum over keys and the keys at it can be kept up to
/// date record by record, and firing the window costs nothing beyond emitting them.
pub trait Monotone<V: ?Sized>: Aggregate<V> {
    /// The result so far (equal to `finish` of a clone of `acc`).
    fn current(&self, acc: &Self::Acc) -> Self::Out;
}

impl<V: ?Sized> Monotone<V> for Count {
    #[inline]
    fn current(&self, acc: &u64) -> u64 {
        *acc
    }
}

impl<T: Ord + Clone> Monotone<T> for Max<T> {
    /// `None < Some(_)`, and a larger value only replaces a smaller one.
    #[inline]
    fn current(&self, acc: &Option<T>) -> Option<T> {
        acc.clone()
    }
}

impl<T: Hash + Eq + Clone> Monotone<T> for DistinctCount<T> {
    #[inline]
    fn current(&self, acc: &FastMap<T, ()>) -> u64 {
        acc.len() as u64
    }
}

impl<T, V, F: Fn(&T) -> V, A: Monotone<V>> Monotone<T> for On<F, A, V> {
    #[inline]
    fn current(&self, acc: &A::Acc) -> A::Out {
        self.agg.current(acc)
    }
}

/// Two monotone results side by side rise together, so their pair rises in lexicographic
/// order too.
impl<V: ?Sized, A: Monotone<V>, B: Monotone<V>> Monotone<V> for (A, B) {
    #[inline]
    fn current(&self, acc: &Self::Acc) -> Self::Out {
        (self.0.current(&acc.0), self.1.current(&acc.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Folds values one by one.
    fn fold<V, A: Aggregate<V>>(agg: &A, values: &[V]) -> A::Out {
        let mut acc = agg.init();
        for v in values {
            agg.accumulate(&mut acc, v);
        }
        agg.finish(acc)
    }

    /// Folds values split into chunks, merged in reverse order.
    fn fold_split<V, A: Aggregate<V>>(agg: &A, values: &[V], chunk: usize) -> A::Out {
        let mut parts: Vec<A::Acc> = values
            .chunks(chunk.max(1))
            .map(|c| {
                let mut acc = agg.init();
                for v in c {
                    agg.accumulate(&mut acc, v);
                }
                acc
            })
            .collect();
        let mut total = agg.init();
        while let Some(part) = parts.pop() {
            agg.merge(&mut total, &part);
        }
        agg.finish(total)
    }

    #[test]
    fn hand_computed() {
        let v = [5_i64, -3, 9, 9, 0];
        assert_eq!(fold(&Count, &v), 5);
        assert_eq!(fold(&Sum, &v), 20);
        assert_eq!(fold(&Min::new(), &v), Some(-3));
        assert_eq!(fold(&Max::new(), &v), Some(9));
        assert_eq!(fold(&Avg, &v), Some(4));
        assert_eq!(fold(&Avg, &[-7_i64, 0]), Some(-3), "truncates toward zero");
        assert_eq!(fold(&Avg, &[] as &[i64]), None);
        assert_eq!(fold(&DistinctCount::new(), &v), 4);
        assert_eq!(fold(&Distinct::new(), &v), vec![-3, 0, 5, 9]);
        assert_eq!(fold(&Collect::new(), &v), vec![-3, 0, 5, 9, 9]);
        assert_eq!(fold(&TopK::new(3), &v), vec![9, 9, 5]);
        assert_eq!(fold(&TopK::new(0), &v), Vec::<i64>::new());
        let pairs = [(3_u8, 9_i64), (1, 9), (2, -4), (1, 9)];
        assert_eq!(fold(&ArgMaxAll::new(), &pairs), Some((9, vec![1, 1, 3])));
        assert_eq!(fold(&ArgMaxAll::new(), &[] as &[(u8, i64)]), None);
        assert_eq!(fold(&Sum, &[i64::MAX, i64::MAX]), 2 * i128::from(i64::MAX));
    }

    #[test]
    fn tuples_combine_aggregates() {
        let v = [3_i64, 1, 2];
        assert_eq!(fold(&(Count, Sum), &v), (3, 6));
        assert_eq!(
            fold_split(&(Count, Sum, Max::new()), &v, 2),
            (3, 6, Some(3))
        );
    }

    #[test]
    fn monotone_results_rise_and_equal_finish() {
        let v = [5_i64, -3, 9, 9, 0, 12, -3];
        let agg = (Count, (Max::new(), DistinctCount::new()));
        let mut acc = agg.init();
        let mut last = agg.current(&acc);
        for x in &v {
            agg.accumulate(&mut acc, x);
            let now = agg.current(&acc);
            assert!(now >= last, "{now:?} < {last:?}");
            last = now;
        }
        assert_eq!(last, agg.finish(acc));
        assert_eq!(last, (7, (Some(12), 5)));
        let field = on(|p: &(u8, i64)| p.1, Max::new());
        let mut acc = field.init();
        field.accumulate(&mut acc, &(1, 4));
        assert_eq!(field.current(&acc), Some(4));
    }

    #[test]
    fn top_k_tie_break_is_in_the_value() {
        // (price, Reverse(id)): highest price, then lowest id.
        let bids = [
            (10, Reverse(3)),
            (10, Reverse(1)),
            (7, Reverse(0)),
            (10, Reverse(2)),
        ];
        let top = fold(&TopK::new(2), &bids);
        assert_eq!(top, vec![(10, Reverse(1)), (10, Reverse(2))]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn merge_equals_sequential(values in proptest::collection::vec(-1000_i64..1000, 0..60),
                                   chunk in 1_usize..10, k in 0_usize..6) {
            let mut sorted = values.clone();
            sorted.sort_unstable();
            prop_assert_eq!(fold_split(&Count, &values, chunk), values.len() as u64);
            prop_assert_eq!(fold_split(&Sum, &values, chunk),
                            values.iter().map(|&v| i128::from(v)).sum::<i128>());
            prop_assert_eq!(fold_split(&Min::new(), &values, chunk), sorted.first().copied());
            prop_assert_eq!(fold_split(&Max::new(), &values, chunk), sorted.last().copied());
            prop_assert_eq!(fold_split(&Avg, &values, chunk), fold(&Avg, &values));
            let mut distinct = sorted.clone();
            distinct.dedup();
            prop_assert_eq!(fold_split(&DistinctCount::new(), &values, chunk),
                            distinct.len() as u64);
            prop_assert_eq!(fold_split(&Distinct::new(), &values, chunk), distinct);
            prop_assert_eq!(fold_split(&Collect::new(), &values, chunk), sorted.clone());
            let top: Vec<i64> = sorted.iter().rev().take(k).copied().collect();
            prop_assert_eq!(fold_split(&TopK::new(k), &values, chunk), top);
            // Keys are positions modulo 7, values coarsened so that ties are common.
            let pairs: Vec<(usize, i64)> =
                values.iter().enumerate().map(|(i, v)| (i % 7, v / 200)).collect();
            let expected = pairs.iter().map(|p| p.1).max().map(|max| {
                let mut keys: Vec<usize> =
                    pairs.iter().filter(|p| p.1 == max).map(|p| p.0).collect();
                keys.sort_unstable();
                (max, keys)
            });
            prop_assert_eq!(fold_split(&ArgMaxAll::new(), &pairs, chunk), expected);
        }
    }
}
