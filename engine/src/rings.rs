//! Exchange channels: the rings of every exchange edge, created on first use, and the shared
//! watermark table that stands in for the rings no record has needed yet (base layer: imports
//! only [`time`](crate::time)).
//!
//! **Rings on first use.** Every exchange edge may need, per ordered pair of distinct workers, a
//! bounded `rtrb` data ring of [`Msg`]s (batches and watermarks, FIFO) and a return ring that
//! carries emptied batches back to the producer for reuse. None exists up front: a producer
//! creates the pair for a consumer when it first sends that consumer a batch
//! ([`EdgeShared::connect`]), keeps the sending ends and posts the receiving ends to the
//! consumer's inbox, which the consumer drains when it next looks. So an idle job, and a job
//! whose keys reach few workers, holds no ring for the pairs that exchange nothing: memory
//! grows with the pairs that carry records, not with the square of the worker count.
//!
//! **Watermarks without a ring.** Watermarks go to every consumer, so they cannot wait for a
//! ring. Each producer also publishes its watermark in the edge's [`Progress`] table, whose
//! minimum over all producers (`G`) every consumer reads. A consumer's frontier is
//! `min(G, the watermarks received on its rings)`. That equals the minimum over "each
//! producer's watermark as it may be used": a producer without a ring to the consumer has no
//! record in flight to it, so its published watermark is safe; a producer with a ring has
//! published a watermark at least as high as the one its ring has delivered (it publishes
//! first, then pushes into the ring), so the ring's value is the smaller and wins. The order
//! that makes this sound: a producer posts a new ring (with the watermark it had published
//! before the ring existed) before it publishes any later watermark, and a consumer reads `G`
//! before it drains its inbox; so a consumer that sees a watermark covering records on a new
//! ring also sees the ring, and its frontier waits for the ring's own watermarks.
//!
//! **Costs.** Per edge: one inbox and one table leaf per worker (linear). A ring pair per
//! pair of workers that exchanged a record. Publishing a watermark takes the table's mutex
//! (a leaf update, O(log workers)), once per flush, never per record; reading `G` is two atomic
//! loads. The inbox mutex is taken once per new ring. What is sent, when, and how backpressure
//! works is the business of the exchange module above.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rtrb::{Consumer, Producer, RingBuffer};

use crate::time::{END_OF_INPUT, NO_PROGRESS, Timestamp, Watermark};

/// What travels on an exchange ring.
pub(crate) enum Msg<T> {
    /// A batch of records and its latency stamp (0: none).
    Data(Vec<T>, u64),
    /// The producer's watermark, after all data it covers.
    Watermark(Watermark),
}

/// A producer's ends of one ring pair: it pushes messages and pops returned batches.
pub(crate) struct SenderEnd<T> {
    pub(crate) data: Producer<Msg<T>>,
    pub(crate) back: Consumer<Vec<T>>,
}

/// A consumer's ends of one ring pair: it pops messages and returns emptied batches.
pub(crate) struct ReceiverEnd<T> {
    pub(crate) data: Consumer<Msg<T>>,
    pub(crate) back: Producer<Vec<T>>,
}

/// A ring pair posted to a consumer: who sends on it, the ends, and the producer's watermark
/// when it created the ring (what the consumer may assume of this channel until the ring
/// delivers a watermark of its own).
pub(crate) struct NewChannel<T> {
    pub(crate) from: usize,
    pub(crate) end: ReceiverEnd<T>,
    pub(crate) watermark: Timestamp,
}

/// One consumer's inbox of new rings.
struct Inbox<T> {
    /// Rings ever posted here (only grows); a consumer that has taken fewer looks inside.
    posted: AtomicUsize,
    queue: Mutex<Vec<NewChannel<T>>>,
}

/// The producers' published watermarks and their minimum, `G`.
///
/// A min-segment-tree over the producers (leaves padded with [`END_OF_INPUT`]) behind a mutex;
/// the root is mirrored into two atomics that consumers read without the lock.
#[derive(Debug)]
pub(crate) struct Progress {
    tree: Mutex<Vec<Timestamp>>,
    leaves: usize,
    /// `G`: the minimum published watermark.
    min: AtomicI64,
    /// The stamp (`emitted_ns`) of the watermark that last raised `G`.
    stamp: AtomicU64,
}

impl Progress {
    fn new(producers: usize) -> Self {
        let leaves = producers.next_power_of_two();
        let mut tree = vec![END_OF_INPUT; 2 * leaves];
        for leaf in &mut tree[leaves..leaves + producers] {
            *leaf = NO_PROGRESS;
        }
        for i in (1..leaves).rev() {
            tree[i] = tree[2 * i].min(tree[2 * i + 1]);
        }
        Self {
            min: AtomicI64::new(tree[1]),
            stamp: AtomicU64::new(0),
            tree: Mutex::new(tree),
            leaves,
        }
    }

    /// Publishes `producer`'s watermark (never lowers it); whether `G` rose.
    pub(crate) fn publish(&self, producer: usize, wm: Watermark) -> bool {
        let mut tree = self.tree.lock().unwrap_or_else(PoisonError::into_inner);
        let mut i = self.leaves + producer;
        if wm.time <= tree[i] {
            return false;
        }
        let before = tree[1];
        tree[i] = wm.time;
        while i > 1 {
            i /= 2;
            tree[i] = tree[2 * i].min(tree[2 * i + 1]);
        }
        let after = tree[1];
        if after > before {
            // Time first, then stamp: a reader loads the stamp first, so the stamp it pairs
            // with a time is never newer than that time's own (latency is overstated, never
            // hidden).
            self.min.store(after, Ordering::Release);
            self.stamp.store(wm.emitted_ns, Ordering::Release);
            true
        } else {
            false
        }
    }

    /// `G` and the stamp of the watermark that raised it last.
    pub(crate) fn read(&self) -> Watermark {
        let stamp = self.stamp.load(Ordering::Acquire);
        let time = self.min.load(Ordering::Acquire);
        Watermark::new(time, stamp)
    }
}

/// What all workers share of one exchange edge.
pub(crate) struct EdgeShared<T> {
    capacity: usize,
    inboxes: Vec<Inbox<T>>,
    pub(crate) progress: Progress,
}

impl<T> EdgeShared<T> {
    fn new(peers: usize, capacity: usize) -> Self {
        Self {
            capacity,
            inboxes: (0..peers)
                .map(|_| Inbox {
                    posted: AtomicUsize::new(0),
                    queue: Mutex::new(Vec::new()),
                })
                .collect(),
            progress: Progress::new(peers),
        }
    }

    /// Creates the ring pair `from -> to`, posts its receiving ends to `to`'s inbox and returns
    /// the sending ends. `watermark` is what `from` has published so far (see the module docs:
    /// call this before publishing any later watermark).
    pub(crate) fn connect(&self, from: usize, to: usize, watermark: Timestamp) -> SenderEnd<T> {
        let (data_tx, data_rx) = RingBuffer::new(self.capacity);
        let (back_tx, back_rx) = RingBuffer::new(self.capacity + 2);
        let inbox = &self.inboxes[to];
        inbox
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(NewChannel {
                from,
                end: ReceiverEnd {
                    data: data_rx,
                    back: back_tx,
                },
                watermark,
            });
        inbox.posted.fetch_add(1, Ordering::Release);
        SenderEnd {
            data: data_tx,
            back: back_rx,
        }
    }

    /// Whether rings were posted to `to` beyond the `taken` it has.
    pub(crate) fn has_new(&self, to: usize, taken: usize) -> bool {
        self.inboxes[to].posted.load(Ordering::Acquire) > taken
    }

    /// Moves the rings posted to `to` into `into`; returns how many it took.
    pub(crate) fn take_new(&self, to: usize, into: &mut Vec<NewChannel<T>>) -> usize {
        let mut queue = self.inboxes[to]
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let n = queue.len();
        into.append(&mut queue);
        n
    }
}

/// An edge's shared part (an `Arc<EdgeShared<T>>`, type-erased) and how many workers have
/// claimed it.
type Claimed = (Box<dyn Any + Send + Sync>, usize);

/// The shared part of every edge, created by the first worker that builds the edge.
#[derive(Default)]
pub(crate) struct Registry {
    edges: Mutex<HashMap<usize, Claimed>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

impl Registry {
    /// The shared part of edge `edge` (created on the first call); the registry forgets the
    /// edge once all `peers` workers have claimed it.
    pub(crate) fn claim<T: Send + 'static>(
        &self,
        edge: usize,
        peers: usize,
        capacity: usize,
    ) -> Arc<EdgeShared<T>> {
        let mut edges = self.edges.lock().unwrap_or_else(PoisonError::into_inner);
        let (entry, claimed) = edges.entry(edge).or_insert_with(|| {
            let shared: Arc<EdgeShared<T>> = Arc::new(EdgeShared::new(peers, capacity));
            (Box::new(shared), 0)
        });
        let shared = entry
            .downcast_ref::<Arc<EdgeShared<T>>>()
            .map(Arc::clone)
            .expect(
                "every worker must build the same dataflow: exchange edges differ in record type",
            );
        *claimed += 1;
        if *claimed == peers {
            edges.remove(&edge);
        }
        shared
    }
}

#[cfg(test)]
mod tests {
    use super::{EdgeShared, Progress};
    use crate::time::{END_OF_INPUT, NO_PROGRESS, Watermark};

    #[test]
    fn progress_is_the_minimum_over_producers_and_never_falls() {
        let p = Progress::new(3);
        assert_eq!(p.read().time, NO_PROGRESS);
        assert!(!p.publish(0, Watermark::new(10, 1)));
        assert!(!p.publish(1, Watermark::new(20, 2)));
        assert!(p.publish(2, Watermark::new(5, 3)));
        assert_eq!(p.read(), Watermark::new(5, 3));
        // A lower watermark from a producer is ignored.
        assert!(!p.publish(2, Watermark::new(4, 4)));
        assert!(p.publish(2, Watermark::new(30, 5)));
        assert_eq!(p.read(), Watermark::new(10, 5));
        for producer in 0..3 {
            p.publish(producer, Watermark::new(END_OF_INPUT, 9));
        }
        assert_eq!(p.read().time, END_OF_INPUT);
    }

    #[test]
    fn a_ring_is_posted_to_its_consumer_only() {
        let edge: EdgeShared<u32> = EdgeShared::new(3, 4);
        assert!(!edge.has_new(1, 0));
        let _tx = edge.connect(0, 1, 7);
        assert!(edge.has_new(1, 0));
        assert!(!edge.has_new(2, 0));
        let mut got = Vec::new();
        assert_eq!(edge.take_new(1, &mut got), 1);
        assert_eq!((got[0].from, got[0].watermark), (0, 7));
        assert!(!edge.has_new(1, 1));
    }
}
