//! Ports: how a node hands batches and watermarks to the next node on the same worker (base
//! layer: imports only [`counters`](crate::counters) and [`time`](crate::time)).
//!
//! A [`Port`] is an output slot that holds at most one consumer, a boxed [`Push`]. Producers
//! call [`Port::push`] with a whole batch (`&mut Vec<T>`); the consumer drains what it takes
//! and the port clears the rest, so the batch's allocation goes back to the producer. A port
//! without a consumer counts the records it receives as `dropped`: never lost silently.
//! Watermarks take the same path after the data they cover.

use std::cell::RefCell;
use std::rc::Rc;

use crate::counters::WorkerCounters;
use crate::time::Watermark;

/// The consumer side of a port: a node that accepts batches and watermarks.
pub(crate) trait Push<T> {
    /// Consumes the records of `batch` (the caller clears whatever is left).
    fn push(&mut self, batch: &mut Vec<T>, stamp: u64);
    /// The producer's watermark advanced.
    fn watermark(&mut self, wm: Watermark);
}

/// An output port: empty until a consumer attaches.
pub(crate) struct Port<T> {
    target: RefCell<Option<Box<dyn Push<T>>>>,
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
            Some(target) => target.push(batch, stamp),
            None => WorkerCounters::add(&self.counters.dropped, batch.len() as u64),
        }
        batch.clear();
    }

    pub(crate) fn watermark(&self, wm: Watermark) {
        if let Some(target) = self.target.borrow_mut().as_mut() {
            target.watermark(wm);
        }
    }

    pub(crate) fn attach(&self, target: Box<dyn Push<T>>) {
        *self.target.borrow_mut() = Some(target);
    }
}

impl<T> std::fmt::Debug for Port<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Port").finish_non_exhaustive()
    }
}
