//! Gates: the backpressure switch of a driver (base layer: imports nothing from the crate).
//!
//! Every driver (a source or an exchange receiver) has a [`Gate`]. Each exchange sender
//! downstream of the driver registers its pending-message count with the gate ([`Gate::watch`]);
//! while any of those counts is above zero the gate is blocked and the worker loop does not
//! poll the driver, so no more records enter a chain whose exchange has no ring space. The
//! check costs one pass over a handful of `Cell`s per loop iteration.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Whether a driver (source or exchange receiver) may feed more records into its chain: not
/// while any exchange sender downstream of it holds batches its ring had no room for.
#[derive(Default)]
pub(crate) struct Gate {
    pending: RefCell<Vec<Rc<Cell<usize>>>>,
}

impl Gate {
    #[inline]
    pub(crate) fn blocked(&self) -> bool {
        self.pending.borrow().iter().any(|p| p.get() > 0)
    }

    pub(crate) fn watch(&self, pending: &Rc<Cell<usize>>) {
        let mut list = self.pending.borrow_mut();
        if !list.iter().any(|p| Rc::ptr_eq(p, pending)) {
            list.push(Rc::clone(pending));
        }
    }
}
