//! Exchange rings: the channels of every exchange edge and the registry that hands them out
//! (base layer: imports only [`time`](crate::time)).
//!
//! Every exchange edge owns, per ordered pair of distinct workers, a bounded `rtrb` data ring
//! of [`Msg`]s (batches and watermarks, FIFO) and a return ring that carries emptied batches
//! back to the producer for reuse. The first worker that builds an edge creates all of its
//! rings in the job's [`Registry`]; each worker then claims its own ends (its producers and its
//! consumers), and the entry is removed once every worker has claimed. Rings are created at
//! build time only: the registry's mutex is never on a record's path. What is sent, when, and
//! how backpressure works is the business of the exchange module above.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use rtrb::{Consumer, Producer, RingBuffer};

use crate::time::Watermark;

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

/// The rings of one edge, before every worker has taken its ends.
struct EdgeRings<T> {
    senders: Vec<Option<SenderEnd<T>>>,
    receivers: Vec<Option<ReceiverEnd<T>>>,
    claimed: usize,
}

/// Rings of every edge, created by the first worker that builds the edge.
#[derive(Default)]
pub(crate) struct Registry {
    edges: Mutex<HashMap<usize, Box<dyn Any + Send>>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

/// A worker's ends of one edge, as [`Registry::claim`] returns them (`None` at the worker's
/// own index: its own share takes the direct path).
pub(crate) type Ends<T> = (Vec<Option<SenderEnd<T>>>, Vec<Option<ReceiverEnd<T>>>);

impl Registry {
    /// Worker `me`'s ends of edge `edge`: its producers (indexed by consumer) and its consumers
    /// (indexed by producer).
    pub(crate) fn claim<T: Send + 'static>(
        &self,
        edge: usize,
        me: usize,
        peers: usize,
        capacity: usize,
    ) -> Ends<T> {
        let mut edges = self.edges.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = edges.entry(edge).or_insert_with(|| {
            let mut senders = Vec::with_capacity(peers * peers);
            let mut receivers = Vec::with_capacity(peers * peers);
            for from in 0..peers {
                for to in 0..peers {
                    if from == to {
                        senders.push(None);
                        receivers.push(None);
                    } else {
                        let (data_tx, data_rx) = RingBuffer::new(capacity);
                        let (back_tx, back_rx) = RingBuffer::new(capacity + 2);
                        senders.push(Some(SenderEnd {
                            data: data_tx,
                            back: back_rx,
                        }));
                        receivers.push(Some(ReceiverEnd {
                            data: data_rx,
                            back: back_tx,
                        }));
                    }
                }
            }
            Box::new(EdgeRings::<T> {
                senders,
                receivers,
                claimed: 0,
            })
        });
        let rings = entry.downcast_mut::<EdgeRings<T>>().expect(
            "every worker must build the same dataflow: exchange edges differ in record type",
        );
        let mine = (0..peers)
            .map(|to| rings.senders[me * peers + to].take())
            .collect();
        let theirs = (0..peers)
            .map(|from| rings.receivers[from * peers + me].take())
            .collect();
        rings.claimed += 1;
        if rings.claimed == peers {
            edges.remove(&edge);
        }
        (mine, theirs)
    }
}
