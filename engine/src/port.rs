//! Ports: how a node hands batches and watermarks to the next node on the same worker (base
//! layer: imports only [`counters`](crate::counters) and [`time`](crate::time)).
//!
//! A [`Port`] is an output slot that holds at most one consumer, a boxed [`Push`]. Producers
//! call [`Port::push`] with a whole batch (`&mut Vec<T>`); the consumer drains what it takes
//! and the port clears the rest, so the batch's allocation goes back to the producer. A port
//! without a consumer counts the records it receives as `dropped`: never lost silently.
//! Watermarks take the same path after the data they cover.
//!
//! The port is also where operator time is measured: a consumer that names its counters
//! ([`Push::counters`]) gets each delivered batch and watermark timed through the worker's
//! [`Profiler`](crate::counters::Profiler), once per call (so per batch, never per record).

use std::cell::RefCell;
use std::rc::Rc;

use crate::counters::{OpCounters, WorkerCounters};
use crate::time::Watermark;

/// The consumer side of a port: a node that accepts batches and watermarks.
pub(crate) trait Push<T> {
    /// Consumes the records of `batch` (the caller clears whatever is left).
    fn push(&mut self, batch: &mut Vec<T>, stamp: u64);
    /// The producer's watermark advanced.
    fn watermark(&mut self, wm: Watermark);
    /// The counters of the operator this consumer belongs to, so the port can charge it the
    /// time of each call; `None` leaves the time with the caller (a plain fan-out).
    fn counters(&self) -> Option<Rc<OpCounters>> {
        None
    }
}

/// A port's consumer and the counters its time is charged to.
struct Target<T> {
    push: Box<dyn Push<T>>,
    ops: Option<Rc<OpCounters>>,
}

/// An output port: empty until a consumer attaches.
pub(crate) struct Port<T> {
    target: RefCell<Option<Target<T>>>,
    counters: Rc<WorkerCounters>,
}

impl<T> Port<T> {
    pub(crate) fn new(counters: Rc<WorkerCounters>) -> Self {
        Self {
            target: RefCell::new(None),
            counters,
        }
    }

    /// Hands `batch` to the consumer; leaves `batch` empty. Without a consumer the records are
    /// counted as dropped.
    #[inline]
    pub(crate) fn push(&self, batch: &mut Vec<T>, stamp: u64) {
        if batch.is_empty() {
            return;
        }
        match self.target.borrow_mut().as_mut() {
            Some(Target { push, ops: None }) => push.push(batch, stamp),
            Some(Target {
                push,
                ops: Some(ops),
            }) => self.counters.profiler.time(ops, || push.push(batch, stamp)),
            None => WorkerCounters::add(&self.counters.dropped, batch.len() as u64),
        }
        batch.clear();
    }

    pub(crate) fn watermark(&self, wm: Watermark) {
        match self.target.borrow_mut().as_mut() {
            Some(Target { push, ops: None }) => push.watermark(wm),
            Some(Target {
                push,
                ops: Some(ops),
            }) => self.counters.profiler.time(ops, || push.watermark(wm)),
            None => {}
        }
    }

    pub(crate) fn attach(&self, push: Box<dyn Push<T>>) {
        let ops = push.counters();
        *self.target.borrow_mut() = Some(Target { push, ops });
    }
}

impl<T> std::fmt::Debug for Port<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Port").finish_non_exhaustive()
    }
}
