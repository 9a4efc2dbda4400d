//! The source operator of each worker: its split of the input at the events' timestamps, the
//! watermark capability, pacing, replay, latency stamps and the stop / abort / duration checks.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use timely::dataflow::operators::generic::operator::source;
use timely::dataflow::{Scope, Stream};

use super::sampling::Sampler;
use super::shared::{Ctx, SOURCE_BATCH};
use crate::catalog::Latency;
use crate::job::RunLength;
use crate::split::{InputIds, Replay, Split, Timestamped, WATERMARK_END};

/// How a worker's source was set up: its split of the input and its watermark rule.
pub(crate) struct SourceSetup<S> {
    /// The split's events (generated on the fly; the harness records them first in replay mode).
    pub(crate) split: S,
    /// Out-of-orderness subtracted from the maximum timestamp to give the watermark, ms.
    pub(crate) out_of_orderness_ms: u64,
    /// The generator's base time (epoch ms of event 0), for pacing.
    pub(crate) base_time_ms: u64,
    /// Which events carry an ingestion stamp (per-record latency), if any.
    pub(crate) sampler: Option<Sampler>,
    /// Counts the input ids the source consumes (it skips the kinds the query does not read).
    pub(crate) ids: InputIds,
}

/// The source operator of one worker: emits its split's events at their timestamps and holds a
/// capability at the split's watermark (`max timestamp emitted - out-of-orderness`).
///
/// Each event is emitted as `wrap(event, stamp)`, where `stamp` is 0, or for the events the
/// setup's sampler names, 1 + the event's ingestion time in ns on the job's clock (its
/// scheduled emission time when paced).
pub(crate) fn event_source<'s, S, T, W>(
    scope: Scope<'s, u64>,
    ctx: &Ctx,
    setup: SourceSetup<S>,
    wrap: W,
) -> Stream<'s, u64, Vec<T>>
where
    S: Split + 'static,
    S::Event: Timestamped + Clone + 'static,
    T: 'static,
    W: Fn(S::Event, u64) -> T + 'static,
{
    let shared = Arc::clone(&ctx.shared);
    let local = shared.local(scope.index());
    let SourceSetup {
        split,
        out_of_orderness_ms,
        base_time_ms,
        mut sampler,
        ids,
    } = setup;
    let mut next_sample = sampler.as_mut().and_then(Sampler::next_position);
    // Replay: generate the split into memory now, before the clock starts.
    let mut input: Input<S> = if shared.replay {
        let mut split = split;
        Input::Replay(Replay::record(&mut split, out_of_orderness_ms))
    } else {
        Input::Generate(split)
    };
    let limit = match shared.length {
        RunLength::Events(_) => None,
        RunLength::Duration(d) => Some(d),
    };
    source(scope, "Source", move |capability, info| {
        let activator = scope.activator_for(info.address);
        let mut cap = Some(capability);
        let mut buffer: VecDeque<S::Event> = VecDeque::with_capacity(SOURCE_BATCH);
        let mut batch: Vec<S::Event> = Vec::with_capacity(SOURCE_BATCH);
        let mut more = true;
        let mut produced = 0u64;
        let mut max_ts = 0u64;
        let mut watermark = 0u64;
        move |output| {
            let Some(held) = cap.as_mut() else { return };
            if !shared.workers[local].go.load(Ordering::Acquire) {
                // The other workers are still building (or generating their replay buffers).
                activator.activate_after(Duration::from_millis(1));
                return;
            }
            let start = *shared.clock_start.get_or_init(Instant::now);
            let cell = &shared.workers[local];
            let elapsed = start.elapsed();
            let stopped = shared.stop.is_raised()
                || shared.abort.load(Ordering::Relaxed)
                || limit.is_some_and(|d| elapsed >= d);
            if buffer.is_empty() && more && !stopped {
                batch.clear();
                more = input.fill(&mut batch, SOURCE_BATCH);
                buffer.extend(batch.drain(..));
            }
            // Paced runs release an event once its scheduled time (its event time on the
            // wall clock) has come.
            let due = shared.rate.map_or(u64::MAX, |_| {
                base_time_ms.saturating_add(elapsed.as_millis() as u64)
            });
            let mut wait_ms = None;
            if !stopped {
                // Emit runs of equal timestamps, each under a capability for its time.
                while let Some(first) = buffer.front() {
                    let ts = first.timestamp();
                    if ts > due {
                        wait_ms = Some(ts - due);
                        break;
                    }
                    let time_cap = held.delayed(&ts);
                    let mut session = output.session(&time_cap);
                    while let Some(e) = buffer.pop_front_if(|e| e.timestamp() == ts) {
                        let mut stamp = 0;
                        if next_sample == Some(produced) {
                            next_sample = sampler.as_mut().and_then(Sampler::next_position);
                            stamp = 1 + match shared.rate {
                                Some(_) => (ts - base_time_ms) * 1_000_000,
                                None => start.elapsed().as_nanos() as u64,
                            };
                        }
                        session.give(wrap(e, stamp));
                        produced += 1;
                    }
                    max_ts = max_ts.max(ts);
                }
            }
            if local == 0
                && let Some(n) = shared.panic_after_events
            {
                assert!(
                    produced < n,
                    "injected failure after {produced} events ({})",
                    super::control::PANIC_AFTER_EVENTS_ENV
                );
            }
            let ended = stopped || (!more && buffer.is_empty());
            if stopped {
                shared.stopped_early.store(true, Ordering::Relaxed);
            }
            if ended {
                watermark = WATERMARK_END;
                cap = None;
            } else {
                let wm = max_ts.saturating_sub(out_of_orderness_ms);
                if wm > watermark {
                    watermark = wm;
                    held.downgrade(&wm);
                }
                match wait_ms {
                    Some(ms) => activator.activate_after(Duration::from_millis(ms.min(50))),
                    None => activator.activate(),
                }
            }
            if shared.latency_observable && shared.latency_rule == Latency::WindowResults {
                let mut log = shared.clocks[local]
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if log.back().is_none_or(|&(wm, _)| wm < watermark) {
                    log.push_back((watermark, Instant::now()));
                }
            }
            cell.max_ts.store(max_ts, Ordering::Relaxed);
            cell.watermark.store(watermark, Ordering::Relaxed);
            // Input events: the ids consumed, skipped kinds included (all once the input ran
            // to its end).
            let consumed = ids.consumed(produced, ended && !stopped);
            cell.events_in.store(consumed, Ordering::Relaxed);
        }
    })
}

/// A source's input: generated on the fly or replayed from memory.
enum Input<S: Split> {
    Generate(S),
    Replay(Replay<S::Event>),
}

impl<S> Input<S>
where
    S: Split,
    S::Event: Timestamped + Clone,
{
    fn fill(&mut self, out: &mut Vec<S::Event>, max: usize) -> bool {
        match self {
            Input::Generate(s) => s.fill(out, max),
            Input::Replay(r) => r.fill(out, max),
        }
    }
}
