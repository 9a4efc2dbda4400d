//! `--pinning` for timely's workers: worker *i* on core *i*, as weir pins its own.

use std::sync::atomic::{AtomicBool, Ordering};

use super::harness::Shared;

static PINNING_WARNED: AtomicBool = AtomicBool::new(false);

/// Which core each of this process's `workers` workers is pinned to, as weir pins its workers:
/// worker *i* to core *i*, or none (with a warning, once) when the machine has fewer cores than
/// workers. `first_worker` is the global index of the first (cluster mode): global worker *g*
/// goes to core *g* mod cores, so that processes sharing a machine use different cores while
/// they fit.
pub(crate) fn pinning_plan(
    pinning: bool,
    workers: usize,
    first_worker: usize,
) -> Vec<Option<core_affinity::CoreId>> {
    if !pinning {
        return vec![None; workers];
    }
    let warn = |message: String| {
        if !PINNING_WARNED.swap(true, Ordering::Relaxed) {
            eprintln!("weir: warning: {message}");
        }
    };
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    if cores.is_empty() {
        warn("cannot read this machine's cores; timely workers are not pinned".into());
        return vec![None; workers];
    }
    if workers > cores.len() {
        warn(format!(
            "{workers} timely workers on {} cores: workers are not pinned (oversubscribed)",
            cores.len()
        ));
        return vec![None; workers];
    }
    (0..workers)
        .map(|i| Some(cores[(first_worker + i) % cores.len()]))
        .collect()
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
