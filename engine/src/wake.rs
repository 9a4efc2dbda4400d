//! Parking and waking workers without losing a wake-up.
//!
//! A worker with nothing to do sets its `sleeping` flag, issues a `SeqCst` fence, checks its
//! inputs once more and only then parks (with a timeout, as a safety net). A producer that has
//! just pushed into a ring (or a consumer that has just freed ring space) issues a `SeqCst`
//! fence and unparks the other worker if its flag is set. The two fences order "flag, then
//! check" against "push, then read flag": at least one side sees the other, so a worker never
//! sleeps through work that was already there. `std::thread::park` keeps a token, so an unpark
//! that lands just before the park is not lost either.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering, fence};
use std::thread::Thread;

use crossbeam_utils::CachePadded;

#[derive(Debug, Default)]
struct Slot {
    sleeping: AtomicBool,
    thread: OnceLock<Thread>,
}

/// One wake slot per worker, shared by all workers of a job.
#[derive(Debug)]
pub(crate) struct Wakers {
    slots: Vec<CachePadded<Slot>>,
}

impl Wakers {
    pub(crate) fn new(workers: usize) -> Self {
        Self {
            slots: (0..workers)
                .map(|_| CachePadded::new(Slot::default()))
                .collect(),
        }
    }

    /// Registers the calling thread as worker `index`.
    pub(crate) fn register(&self, index: usize) {
        let _ = self.slots[index].thread.set(std::thread::current());
    }

    /// Wakes worker `index` if it is (about to be) parked.
    #[inline]
    pub(crate) fn wake(&self, index: usize) {
        fence(Ordering::SeqCst);
        let slot = &self.slots[index];
        if slot.sleeping.load(Ordering::Relaxed)
            && let Some(thread) = slot.thread.get()
        {
            thread.unpark();
        }
    }

    /// Wakes every worker unconditionally (abort).
    pub(crate) fn wake_all(&self) {
        for slot in &self.slots {
            if let Some(thread) = slot.thread.get() {
                thread.unpark();
            }
        }
    }

    /// Announces that worker `index` is about to park. Call [`Self::done_sleeping`] after.
    pub(crate) fn about_to_sleep(&self, index: usize) {
        self.slots[index].sleeping.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
    }

    /// Clears the sleeping flag of worker `index`.
    pub(crate) fn done_sleeping(&self, index: usize) {
        self.slots[index].sleeping.store(false, Ordering::Relaxed);
    }
}
