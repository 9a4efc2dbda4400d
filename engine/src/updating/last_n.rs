//! Records released in event-time order, each with the average of its key's last `n` values
//! (an `OVER (PARTITION BY key ORDER BY time ROWS n-1 PRECEDING)` average, in event time).
//!
//! A record with time `t` waits until the frontier passes `t` (`F > t`): then no record
//! with an earlier time can still arrive, so the records the frontier releases are applied in
//! `(time, tie-break)` order, and the result does not depend on arrival order or on the worker
//! count. Nexmark q6 feeds it the closed auctions (time = `expires`, tie-break = auction id,
//! value = final price) keyed by seller.
//!
//! **State.** The records not yet released (those at or after the frontier), and per key the
//! last `n` values with their sum (Nexmark q6: at most 10 prices per seller). A released
//! record is freed once emitted; keys are never freed. A record that arrives behind the
//! frontier is late: counted in the worker's `late` metric and dropped.

use std::collections::{BTreeMap, VecDeque};
use std::hash::Hash;
use std::rc::Rc;

use super::top_n::ZeroN;
use crate::operator::{Operator, Output};
use crate::stream::Stream;
use crate::time::{Timestamp, Watermark};
use crate::window::FastMap;
use crate::window::dataflow::key_hash;

/// The last `n` values of one key and their sum.
#[derive(Debug, Default)]
struct LastValues {
    values: VecDeque<i64>,
    sum: i128,
}

/// A record's `(time, tie-break)`.
type OrderFn<T, O> = Box<dyn Fn(&T) -> (Timestamp, O)>;

/// The operator of [`Stream::last_n_average`].
pub struct LastNAverage<T, K, O> {
    n: usize,
    key: Rc<dyn Fn(&T) -> K>,
    order: OrderFn<T, O>,
    value: Box<dyn Fn(&T) -> i64>,
    /// Records waiting for the frontier, by `(time, tie-break)`; several may share both.
    pending: BTreeMap<(Timestamp, O), Vec<T>>,
    last: FastMap<K, LastValues>,
    frontier: Timestamp,
}

impl<T, K, O> std::fmt::Debug for LastNAverage<T, K, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LastNAverage")
            .field("n", &self.n)
            .field("pending", &self.pending.len())
            .field("keys", &self.last.len())
            .finish_non_exhaustive()
    }
}

impl<T, K, O> Operator for LastNAverage<T, K, O>
where
    T: 'static,
    K: Hash + Eq + 'static,
    O: Ord + Clone + 'static,
{
    type In = T;
    type Out = (T, i64);

    fn on_batch(&mut self, input: &mut Vec<T>, out: &mut Output<'_, Self::Out>) {
        let mut late = 0;
        for record in input.drain(..) {
            let order = (self.order)(&record);
            if order.0 < self.frontier {
                late += 1;
                continue;
            }
            self.pending.entry(order).or_default().push(record);
        }
        if late > 0 {
            out.count_late(late);
        }
    }

    fn on_watermark(&mut self, watermark: Watermark, out: &mut Output<'_, Self::Out>) -> Timestamp {
        self.frontier = self.frontier.max(watermark.time);
        while let Some(entry) = self.pending.first_entry() {
            if entry.key().0 >= self.frontier {
                break;
            }
            for record in entry.remove() {
                let value = (self.value)(&record);
                let last = self.last.entry((self.key)(&record)).or_default();
                last.values.push_back(value);
                last.sum += i128::from(value);
                if last.values.len() > self.n {
                    let dropped = last.values.pop_front().unwrap_or_default();
                    last.sum -= i128::from(dropped);
                }
                // |sum| <= n * |i64::MAX| and count = len, so the quotient fits an i64.
                let avg = (last.sum / last.values.len() as i128) as i64;
                out.push((record, avg));
            }
        }
        watermark.time
    }
}

impl<T: Send + 'static> Stream<T> {
    /// Per key `key(record)`, releases the records in ascending `order(record) = (time,
    /// tie-break)` once the frontier passes their time, each with the truncated average of
    /// the last `n` values `value(record)` of its key up to and including its own. Emits
    /// `(record, average)`. The input is partitioned by key. See [`LastNAverage`] for the
    /// state and the rules.
    ///
    /// # Errors
    /// [`ZeroN`] when `n` is 0.
    ///
    /// # Examples
    ///
    /// The average of each key's last two values, in event-time order:
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use weir_engine::{Config, IterSource, execute};
    ///
    /// // (key, time, value), out of order within the source's bound of 100 ms.
    /// let rows = vec![(1_u64, 30_i64, 9_i64), (1, 10, 1), (1, 20, 4), (2, 5, 7)];
    /// let results = Arc::new(Mutex::new(Vec::new()));
    /// let sink = Arc::clone(&results);
    /// execute(Config::new(2).with_pinning(false), move |worker| {
    ///     let mine = if worker.index() == 0 { rows.clone() } else { Vec::new() };
    ///     let sink = Arc::clone(&sink);
    ///     worker
    ///         .source(IterSource::new(mine, |r| r.1, 100))
    ///         .last_n_average(2, |r: &(u64, i64, i64)| r.0, |r| (r.1, ()), |r| r.2)
    ///         .expect("n >= 1")
    ///         .sink(move |batch| sink.lock().unwrap().append(batch));
    /// })?;
    /// let mut rows = results.lock().unwrap().clone();
    /// rows.sort();
    /// assert_eq!(rows, [((1, 10, 1), 1), ((1, 20, 4), 2), ((1, 30, 9), 6), ((2, 5, 7), 7)]);
    /// # Ok::<(), weir_engine::EngineError>(())
    /// ```
    pub fn last_n_average<K, O>(
        self,
        n: usize,
        key: impl Fn(&T) -> K + 'static,
        order: impl Fn(&T) -> (Timestamp, O) + 'static,
        value: impl Fn(&T) -> i64 + 'static,
    ) -> Result<Stream<(T, i64)>, ZeroN>
    where
        K: Hash + Eq + 'static,
        O: Ord + Clone + 'static,
    {
        if n == 0 {
            return Err(ZeroN("last_n_average"));
        }
        let key: Rc<dyn Fn(&T) -> K> = Rc::new(key);
        let route = Rc::clone(&key);
        let op = LastNAverage {
            n,
            key,
            order: Box::new(order),
            value: Box::new(value),
            pending: BTreeMap::new(),
            last: FastMap::default(),
            frontier: Timestamp::MIN,
        };
        Ok(self
            .key_by(move |r| key_hash(&route(r)))
            .unary("last_n_average", op))
    }
}
