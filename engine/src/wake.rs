//! Parking and waking workers without losing a wake-up.
//!
//! A worker with nothing to do sets its `sleeping` flag, issues a `SeqCst` fence, checks its
//! inputs once more and only then parks (with a timeout, as a safety net). A producer that has
//! just pushed into a ring (or a consumer that has just freed ring space) issues a `SeqCst`
//! fence and unparks the other worker if its flag is set. The two fences order "flag, then
//! check" against "push, then read flag": at least one side sees the other, so a worker never
//! sleeps through work that was already there. `std::thread::park` keeps a token, so an unpark
//! that lands just before the park is not lost either.
//!
//! Base layer: imports nothing from the crate.

use std::sync::OnceLock;
use std::thread::Thread;

use crossbeam_utils::CachePadded;

// The atomics of the protocol come from loom under `--cfg loom`, so the model checker explores
// every interleaving of `SleepFlag` (see the tests at the end of this file).
#[cfg(loom)]
use loom::sync::atomic::{AtomicBool, Ordering, fence};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicBool, Ordering, fence};

/// The "about to park" flag of one worker and the two halves of the protocol around it.
#[derive(Debug, Default)]
pub(crate) struct SleepFlag {
    sleeping: AtomicBool,
}

impl SleepFlag {
    /// Sleeper, before its last check for work: raise the flag, then a `SeqCst` fence.
    pub(crate) fn announce(&self) {
        self.sleeping.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
    }

    /// Sleeper, after waking (or after finding work): lower the flag.
    pub(crate) fn clear(&self) {
        self.sleeping.store(false, Ordering::Relaxed);
    }

    /// Waker, after publishing work: a `SeqCst` fence, then read the flag. `true` means the
    /// other side may be parked (or about to park) and must be unparked.
    pub(crate) fn must_wake(&self) -> bool {
        fence(Ordering::SeqCst);
        self.sleeping.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Default)]
struct Slot {
    sleeping: SleepFlag,
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
        let slot = &self.slots[index];
        if slot.sleeping.must_wake()
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
        self.slots[index].sleeping.announce();
    }

    /// Clears the sleeping flag of worker `index`.
    pub(crate) fn done_sleeping(&self, index: usize) {
        self.slots[index].sleeping.clear();
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! `RUSTFLAGS="--cfg loom" cargo test -p weir-engine --lib --release loom`
    use loom::sync::Arc;
    use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use super::SleepFlag;

    /// A producer publishes work (as a ring push does: a `Release` store) and wakes the
    /// consumer if its flag is up; the consumer announces, checks for work (an `Acquire` load)
    /// and parks if there is none. In every interleaving, a consumer that parks is woken.
    #[test]
    fn no_lost_wakeup() {
        loom::model(|| {
            let flag = Arc::new(SleepFlag::default());
            let work = Arc::new(AtomicUsize::new(0));
            let woken = Arc::new(AtomicBool::new(false));
            let producer = {
                let (flag, work, woken) = (flag.clone(), work.clone(), woken.clone());
                loom::thread::spawn(move || {
                    work.store(1, Ordering::Release);
                    if flag.must_wake() {
                        woken.store(true, Ordering::Relaxed);
                    }
                })
            };
            flag.announce();
            let parks = work.load(Ordering::Acquire) == 0;
            producer.join().expect("producer thread");
            if parks {
                assert!(
                    woken.load(Ordering::Relaxed),
                    "consumer parked and nobody woke it"
                );
            }
            flag.clear();
        });
    }
}
