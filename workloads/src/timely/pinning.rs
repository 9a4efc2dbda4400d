//! `--pinning` for timely's workers: the plan is weir's own (`weir_engine::pinning`), so worker *i*
//! goes to core *i* exactly as weir pins its workers; this module applies it and warns once.

use std::sync::atomic::{AtomicBool, Ordering};

use weir_engine::pinning;

use super::shared::Shared;

static PINNING_WARNED: AtomicBool = AtomicBool::new(false);

/// Which core each of this process's `workers` workers is pinned to: weir's own plan
/// ([`weir_engine::pinning::plan`]), so timely pins exactly as weir does. `first_worker` is the
/// global index of the first local worker (cluster mode: global worker *g* goes to core *g* mod
/// cores, so processes sharing a machine use different cores while they fit). When pinning is
/// asked for but not possible, the plan's warning is printed once.
pub(crate) fn pinning_plan(
    pinning: bool,
    workers: usize,
    first_worker: usize,
) -> Vec<Option<core_affinity::CoreId>> {
    let plan = pinning::plan(
        pinning,
        workers,
        first_worker,
        None,
        &pinning::available_cores(),
    );
    if let Some(warning) = plan.warning
        && !PINNING_WARNED.swap(true, Ordering::Relaxed)
    {
        eprintln!("weir: warning: {warning}");
    }
    plan.cores
}

/// Pins the calling worker thread as the plan says; counts the workers pinned.
pub(crate) fn pin_worker(shared: &Shared, local: usize) {
    if let Some(core) = shared.pin_to[local] {
        if core_affinity::set_for_current(core) {
            shared.pinned.fetch_add(1, Ordering::Relaxed);
        } else if !PINNING_WARNED.swap(true, Ordering::Relaxed) {
            eprintln!(
                "weir: warning: could not pin timely worker {local} to core {}",
                core.id
            );
        }
    }
}
