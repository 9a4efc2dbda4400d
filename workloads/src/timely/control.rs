//! Failure handling (the failure-injection hook, panic messages) and cluster mode's control
//! plane: failure propagation between processes, and the final gather of every worker's digest
//! at worker 0.
//!
//! timely 0.32 has no notion of a failed peer. When every worker of a process leaves (after a
//! panic, say), its network threads shut the connections down *cleanly*, and the workers of the
//! other processes wait forever for progress that will never come. So each worker builds, before
//! the query, a one-operator *control* dataflow that holds a capability for the whole run:
//!
//! - a worker that fails broadcasts its error message on it, and every worker that receives
//!   one aborts (drops the query's dataflows) and reports the error;
//! - every worker releases its capability only when it is done (normally or aborting), so the
//!   control dataflow completes, and the processes shut down cleanly, only when all have;
//! - a process that dies without a word (killed, crashed in a network thread) breaks its TCP
//!   connections: timely's network threads then panic and poison the channels they feed, and
//!   the survivors' workers panic when they next touch one. That panic is reported as a lost
//!   peer, unless it happens while an operator is sending: timely's pushers then panic again
//!   in `Drop` while unwinding and the process aborts (it still ends at once).
//!
//! Once a worker has seen a failure it waits at most [`ABORT_GRACE`] for the control dataflow
//! to complete, so a failure ends every process in bounded time.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::generic::operator::source;
use timely::dataflow::operators::vec::Broadcast;
use timely::scheduling::Activator;
use timely::worker::Worker;

use super::shared::{PARK_AT_MOST, Shared, WorkerResult};
use crate::cluster::TimelyCluster;
use crate::digest::Digest;
use crate::job::{Result, RunError, panic_message};

/// How long a worker that has seen a failure waits for the other workers to acknowledge it.
pub(crate) const ABORT_GRACE: Duration = Duration::from_secs(5);

/// What the control source does when next scheduled.
#[derive(Default)]
struct ControlState {
    /// An error message to broadcast.
    send: Option<String>,
    /// Drop the capability: this worker is done.
    release: bool,
}

/// One worker's handle on the control dataflow.
pub(crate) struct Control {
    /// The control dataflow's identifier (every other dataflow is the job's).
    dataflow: usize,
    state: Rc<RefCell<ControlState>>,
    activator: Activator,
}

impl Control {
    /// Builds the control dataflow; every worker must call this first, before the query.
    pub(crate) fn build(worker: &mut Worker, shared: &Arc<Shared>) -> Self {
        let dataflow = worker.next_dataflow_index();
        let state = Rc::new(RefCell::new(ControlState::default()));
        let from_source = Rc::clone(&state);
        let shared = Arc::clone(shared);
        let activator = worker.dataflow::<u64, _, _>(move |scope| {
            let mut activator = None;
            let messages = source(scope, "ControlSource", |capability, info| {
                activator = Some(scope.activator_for(info.address));
                let mut cap = Some(capability);
                move |output| {
                    let mut state = from_source.borrow_mut();
                    if let (Some(cap), Some(message)) = (cap.as_ref(), state.send.take()) {
                        output.session(cap).give(message);
                    }
                    if state.release {
                        cap = None;
                    }
                }
            });
            messages.container::<Vec<String>>().broadcast().sink(
                Pipeline,
                "ControlSink",
                move |(input, _)| {
                    input.for_each(|_, messages| {
                        for message in messages.drain(..) {
                            shared.fail_remote(&message);
                        }
                    });
                },
            );
            activator.expect("the source's constructor ran")
        });
        Self {
            dataflow,
            state,
            activator,
        }
    }

    /// Whether the job still has dataflows besides the control dataflow.
    pub(crate) fn job_running(&self, worker: &Worker) -> bool {
        worker
            .installed_dataflows()
            .iter()
            .any(|&d| d != self.dataflow)
    }

    /// Ends this worker's part: on a failure, drops the job's dataflows and (if the failure
    /// happened in this process) tells every other worker; then releases the control capability
    /// and steps until every worker has (at most [`ABORT_GRACE`] after a failure was seen).
    pub(crate) fn finish(self, worker: &mut Worker, shared: &Shared) {
        let stepped = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let mut aborting: Option<Instant> = None;
            let mut released = false;
            loop {
                if aborting.is_none() && shared.aborted() {
                    aborting = Some(Instant::now());
                    for id in worker.installed_dataflows() {
                        if id != self.dataflow {
                            worker.drop_dataflow(id);
                        }
                    }
                    if shared.failed_here() {
                        self.state.borrow_mut().send = shared.failure_message();
                        self.activator.activate();
                    }
                }
                if !released {
                    released = true;
                    self.state.borrow_mut().release = true;
                    self.activator.activate();
                }
                if aborting.is_some_and(|at| at.elapsed() >= ABORT_GRACE) {
                    break;
                }
                if !worker.step_or_park(Some(PARK_AT_MOST)) {
                    break;
                }
            }
        }));
        // A panic here is a lost connection (poisoned channels): record it unless a failure
        // already is.
        if let Err(panic) = stepped {
            shared.fail(describe_panic(shared.process(), worker.index(), &*panic));
        }
    }
}

/// Cluster mode: sums every worker's digest and event count at worker 0 with a one-record
/// dataflow over timely's own network, so process 0 reports the whole job.
pub(crate) fn gather(
    worker: &mut Worker,
    shared: &Shared,
    control: &Control,
    mine: WorkerResult,
) -> WorkerResult {
    let partial = (
        mine.digest.rows(),
        (mine.digest.sum() >> 64) as u64,
        mine.digest.sum() as u64,
        mine.events,
    );
    let total = Rc::new(RefCell::new((Digest::new(), 0u64)));
    let sink = Rc::clone(&total);
    worker.dataflow::<u64, _, _>(move |scope| {
        source(scope, "GatherSource", move |capability, _info| {
            let mut cap = Some(capability);
            move |output| {
                if let Some(c) = cap.take() {
                    output.session(&c).give(partial);
                }
            }
        })
        .container::<Vec<(i64, u64, u64, u64)>>()
        .sink(
            Exchange::new(|_: &(i64, u64, u64, u64)| 0),
            "Gather",
            move |(input, _)| {
                input.for_each(|_, data| {
                    let mut t = sink.borrow_mut();
                    for &(rows, hi, lo, events) in data.iter() {
                        t.0.merge(&Digest::from_parts(
                            rows,
                            (u128::from(hi) << 64) | u128::from(lo),
                        ));
                        t.1 += events;
                    }
                });
            },
        );
    });
    while control.job_running(worker) && !shared.aborted() {
        worker.step_or_park(Some(PARK_AT_MOST));
    }
    let (digest, events) = if worker.index() == 0 {
        total.borrow().clone()
    } else {
        (Digest::new(), 0)
    };
    WorkerResult {
        digest,
        rows: mine.rows,
        events,
    }
}

/// Environment variable (hidden, for tests of failure handling): when set to N, local worker 0
/// of the process panics once its source has produced N events.
pub const PANIC_AFTER_EVENTS_ENV: &str = "WEIR_TIMELY_PANIC_AFTER_EVENTS";

/// The failure injection asked for by [`PANIC_AFTER_EVENTS_ENV`] or the cluster's hidden hook.
pub(crate) fn panic_after_events(cluster: Option<&TimelyCluster>) -> Result<Option<u64>> {
    if let Some(n) = cluster.and_then(TimelyCluster::injected_panic) {
        return Ok(Some(n));
    }
    match std::env::var(PANIC_AFTER_EVENTS_ENV) {
        Ok(v) => v.trim().parse().map(Some).map_err(|_| {
            RunError::Config(format!(
                "{PANIC_AFTER_EVENTS_ENV}={v:?}: expected a number of events"
            ))
        }),
        Err(_) => Ok(None),
    }
}

/// The message of a worker panic. timely's own communication failures (a peer process that
/// died, a broken connection) are named as such.
pub(crate) fn describe_panic(
    process: Option<usize>,
    worker: usize,
    payload: &(dyn std::any::Any + Send),
) -> String {
    let message = panic_message(payload);
    let prefix = process.map_or(String::new(), |p| format!("process {p}: "));
    if message.contains("MergeQueue poisoned") || message.contains("timely communication error") {
        format!(
            "{prefix}timely worker {worker} lost its connection to another process of the \
             cluster (that process crashed or was killed, or the network failed): {message}"
        )
    } else {
        format!("{prefix}timely worker {worker} panicked: {message}")
    }
}
