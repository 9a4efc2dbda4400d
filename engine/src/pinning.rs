//! The worker-to-core pinning plan, shared by weir's [`execute`](fn@crate::execute) and the peer
//! engines' adapters (base layer: imports nothing from the crate).
//!
//! The rule, the same for every engine so that comparisons pin alike:
//!
//! - pinning off: no worker is pinned;
//! - an explicit core list (`Config::cores`): local worker *i* goes to `cores[i]`;
//! - otherwise global worker *g* goes to the machine's *g* mod *n*-th core (*n* cores), so a
//!   single process puts worker *i* on the *i*-th core, and cluster processes sharing a machine
//!   (process *p* of *W* workers each starts at *g* = *p* × *W*) use different cores while they
//!   fit;
//! - when the machine's cores cannot be read, or there are more local workers than cores
//!   (oversubscribed: pinned workers would queue behind each other on one core), no worker is
//!   pinned and the plan carries a warning for the caller to print once.
//!
//! [`plan`] is a pure function of its inputs (the core list is one of them), so it is tested
//! without depending on the machine; [`available_cores`] reads the real list.

/// A core id as the pinning plan names it (`core_affinity`'s type, re-exported).
pub use core_affinity::CoreId;

/// Which core each local worker is pinned to, and why none is when pinning was asked for but
/// is not possible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinPlan {
    /// Per local worker (indexed from 0): the core to pin it to, or `None` to leave it unpinned.
    pub cores: Vec<Option<CoreId>>,
    /// Set when pinning was asked for but the workers are not pinned: a one-line explanation
    /// for the user (print it once, as a warning).
    pub warning: Option<String>,
}

impl PinPlan {
    fn unpinned(workers: usize, warning: Option<String>) -> Self {
        Self {
            cores: vec![None; workers],
            warning,
        }
    }
}

/// The cores this process may run on, in the operating system's order (empty when they
/// cannot be read).
pub fn available_cores() -> Vec<CoreId> {
    core_affinity::get_core_ids().unwrap_or_default()
}

/// The pinning plan for `workers` local workers.
///
/// - `pinning`: whether pinning was asked for.
/// - `first_worker`: the global index of the first local worker (0 in a single process; in a
///   cluster of processes with `w` workers each, process `p` passes `p * w`).
/// - `explicit`: one core id per local worker (`Config::cores`), used as given; `first_worker`
///   and `available` do not matter then. A list whose length differs from `workers` pins
///   nothing and says so. ([`execute`](fn@crate::execute) rejects such a list, and ids the
///   machine lacks, as a configuration error before it plans.)
/// - `available`: the machine's cores, as [`available_cores`] returns them.
///
/// # Examples
///
/// ```
/// use weir_engine::pinning::{CoreId, plan};
///
/// let cores: Vec<CoreId> = (0..4).map(|id| CoreId { id }).collect();
/// // Process 1 of a cluster with 3 workers per process: global workers 3, 4 and 5.
/// let pins = plan(true, 3, 3, None, &cores);
/// let ids: Vec<usize> = pins.cores.iter().map(|c| c.map_or(usize::MAX, |c| c.id)).collect();
/// assert_eq!(ids, [3, 0, 1]);
/// assert_eq!(pins.warning, None);
///
/// let over = plan(true, 8, 0, None, &cores);
/// assert!(over.cores.iter().all(Option::is_none));
/// assert_eq!(
///     over.warning.as_deref(),
///     Some("8 workers on 4 cores: workers are not pinned (oversubscribed)")
/// );
/// ```
pub fn plan(
    pinning: bool,
    workers: usize,
    first_worker: usize,
    explicit: Option<&[usize]>,
    available: &[CoreId],
) -> PinPlan {
    if !pinning {
        return PinPlan::unpinned(workers, None);
    }
    if let Some(cores) = explicit {
        if cores.len() != workers {
            return PinPlan::unpinned(
                workers,
                Some(format!(
                    "the core list names {} cores for {workers} workers: workers are not pinned \
                     (give exactly one core per worker)",
                    cores.len()
                )),
            );
        }
        return PinPlan {
            cores: cores.iter().map(|&id| Some(CoreId { id })).collect(),
            warning: None,
        };
    }
    if available.is_empty() {
        return PinPlan::unpinned(
            workers,
            Some("cannot read this machine's cores; workers are not pinned".to_owned()),
        );
    }
    if workers > available.len() {
        return PinPlan::unpinned(
            workers,
            Some(format!(
                "{workers} workers on {} cores: workers are not pinned (oversubscribed)",
                available.len()
            )),
        );
    }
    PinPlan {
        cores: (0..workers)
            .map(|i| Some(available[(first_worker + i) % available.len()]))
            .collect(),
        warning: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cores(ids: &[usize]) -> Vec<CoreId> {
        ids.iter().map(|&id| CoreId { id }).collect()
    }

    fn ids(plan: &PinPlan) -> Vec<Option<usize>> {
        plan.cores.iter().map(|c| c.map(|c| c.id)).collect()
    }

    #[test]
    fn off_pins_nothing_and_says_nothing() {
        let p = plan(false, 3, 0, Some(&[0, 1, 2]), &cores(&[0, 1, 2, 3]));
        assert_eq!(ids(&p), [None, None, None]);
        assert_eq!(p.warning, None);
    }

    #[test]
    fn worker_i_goes_to_the_ith_available_core() {
        // The machine's list, not the index: a process restricted to cores 4..8 uses them.
        let p = plan(true, 3, 0, None, &cores(&[4, 5, 6, 7]));
        assert_eq!(ids(&p), [Some(4), Some(5), Some(6)]);
        assert_eq!(p.warning, None);
        let all = plan(true, 4, 0, None, &cores(&[4, 5, 6, 7]));
        assert_eq!(ids(&all), [Some(4), Some(5), Some(6), Some(7)]);
    }

    #[test]
    fn cluster_processes_sharing_a_machine_use_different_cores_while_they_fit() {
        let machine = cores(&[0, 1, 2, 3]);
        let p0 = plan(true, 2, 0, None, &machine);
        let p1 = plan(true, 2, 2, None, &machine);
        assert_eq!(ids(&p0), [Some(0), Some(1)]);
        assert_eq!(ids(&p1), [Some(2), Some(3)]);
        // A third process wraps around: global worker g on core g mod 4.
        let p2 = plan(true, 2, 4, None, &machine);
        assert_eq!(ids(&p2), [Some(0), Some(1)]);
        let odd = plan(true, 3, 3, None, &cores(&[0, 1, 2, 3]));
        assert_eq!(ids(&odd), [Some(3), Some(0), Some(1)]);
    }

    #[test]
    fn local_workers_never_share_a_core_when_they_fit() {
        for n in 1..=6 {
            let machine: Vec<CoreId> = (0..n).map(|id| CoreId { id }).collect();
            for workers in 0..=n {
                for first in 0..3 * n {
                    let p = plan(true, workers, first, None, &machine);
                    let mut got: Vec<usize> =
                        p.cores.iter().map(|c| c.expect("pinned").id).collect();
                    assert_eq!(got.len(), workers);
                    got.sort_unstable();
                    got.dedup();
                    assert_eq!(
                        got.len(),
                        workers,
                        "{workers} workers from {first} on {n} cores"
                    );
                }
            }
        }
    }

    #[test]
    fn oversubscribed_pins_nothing_and_warns() {
        let p = plan(true, 3, 0, None, &cores(&[0, 1]));
        assert_eq!(ids(&p), [None, None, None]);
        assert_eq!(
            p.warning.as_deref(),
            Some("3 workers on 2 cores: workers are not pinned (oversubscribed)")
        );
    }

    #[test]
    fn unreadable_cores_pin_nothing_and_warn() {
        let p = plan(true, 2, 0, None, &[]);
        assert_eq!(ids(&p), [None, None]);
        assert_eq!(
            p.warning.as_deref(),
            Some("cannot read this machine's cores; workers are not pinned")
        );
    }

    #[test]
    fn an_explicit_list_is_used_as_given() {
        // Also when it shares cores or the machine list is unknown: `execute` validates it.
        let p = plan(true, 3, 7, Some(&[5, 1, 1]), &[]);
        assert_eq!(ids(&p), [Some(5), Some(1), Some(1)]);
        assert_eq!(p.warning, None);
    }

    #[test]
    fn an_explicit_list_of_the_wrong_length_pins_nothing_and_warns() {
        let p = plan(true, 3, 0, Some(&[0, 1]), &cores(&[0, 1, 2, 3]));
        assert_eq!(ids(&p), [None, None, None]);
        assert_eq!(
            p.warning.as_deref(),
            Some(
                "the core list names 2 cores for 3 workers: workers are not pinned (give \
                 exactly one core per worker)"
            )
        );
    }
}
