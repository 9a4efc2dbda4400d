//! [`ConsoleState`]: what the console knows about one running job, independent of the screen.
//!
//! The state keeps the latest [`MetricsSnapshot`] (for the cumulative histogram, the exchange
//! fill and the counters) and a ring of [`Sample`]s, one per new snapshot, for everything drawn
//! over time. Rates are never stored: they are computed on demand by differencing cumulative
//! counters, interpolated linearly between samples, so a chart column of any width gets the
//! exact average rate over its time span whatever the snapshot interval.
//!
//! Cost: `ingest` is O(workers); a rate over any span is O(log samples) (binary search).

use std::collections::VecDeque;

use weir_engine::MetricsSnapshot;

use super::operators::CURRENT_WINDOW_S;
use super::operators::{Dataflow, OperatorWindow};
use weir_workloads::job::{RunLength, RunSpec};
use weir_workloads::report::SUSTAINED_FRACTION;

/// How long the history reaches back (the longest time scale plus a margin), seconds.
const HISTORY_KEEP_S: f64 = 620.0;
/// Upper bound on kept samples, whatever the snapshot interval.
const HISTORY_MAX: usize = 30_000;
/// A worker slower than this fraction of the mean worker rate is reported as skewed.
const SKEW_FRACTION: f64 = 0.5;
/// A watermark that has not moved for this long, while events flow, is reported as stalled.
const STALL_S: f64 = 2.0;

/// One worker's cumulative time split, nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerTimes {
    /// Time running operators.
    pub busy_ns: u64,
    /// Time with no work.
    pub idle_ns: u64,
    /// Time blocked on full exchange rings.
    pub backpressured_ns: u64,
    /// Time with nothing else to do while a source was held by source alignment.
    pub held_ns: u64,
}

/// The cumulative counters of one snapshot, as kept in the history ring.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Job time of the snapshot, seconds.
    pub t_s: f64,
    /// Events produced by all sources.
    pub events: u64,
    /// Result rows delivered.
    pub records_out: u64,
    /// Changes (insertions and retractions) folded by an updating query's table sinks.
    pub changes: u64,
    /// Events produced per worker.
    pub worker_events: Vec<u64>,
    /// Busy / idle / backpressured / held time per worker.
    pub worker_times: Vec<WorkerTimes>,
    /// Watermark lag (newest event time minus the frontier), ms, when both are known and the
    /// input has not ended.
    pub lag_ms: Option<i64>,
}

/// Busy / idle / backpressured / held fractions of one worker over a span; they sum to 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeSplit {
    /// Fraction of time busy.
    pub busy: f64,
    /// Fraction of time idle.
    pub idle: f64,
    /// Fraction of time backpressured.
    pub backpressured: f64,
    /// Fraction of time held by source alignment (waiting for a slower peer).
    pub held: f64,
}

/// Progress of the run towards its end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Fraction done in `0.0..=1.0`, when the run's length is known.
    pub fraction: Option<f64>,
    /// Seconds left at the current rate (event runs) or by the clock (duration runs).
    pub eta_s: Option<f64>,
}

/// The console's knowledge of one job: its settings, the latest snapshot and the history.
#[derive(Clone, Debug)]
pub struct ConsoleState {
    spec: RunSpec,
    latest: MetricsSnapshot,
    history: VecDeque<Sample>,
    snapshots: u64,
    /// Whether old samples were dropped from the ring (the origin is then out of reach).
    trimmed: bool,
    peak_eps: f64,
    /// (watermark, job time when it last changed)
    watermark_moved: Option<(i64, f64)>,
    /// The operators' counters over about the last second (the dataflow view).
    operators: OperatorWindow,
}

impl ConsoleState {
    /// An empty state for a job started from `spec`.
    pub fn new(spec: RunSpec) -> Self {
        Self {
            spec,
            latest: MetricsSnapshot::default(),
            history: VecDeque::new(),
            snapshots: 0,
            trimmed: false,
            peak_eps: 0.0,
            watermark_moved: None,
            operators: OperatorWindow::default(),
        }
    }

    /// Takes in a snapshot read from the job's collector. Returns whether it was new (a
    /// snapshot with the same job time as the last one is ignored).
    pub fn ingest(&mut self, snapshot: MetricsSnapshot) -> bool {
        let t_s = snapshot.elapsed_ns as f64 / 1e9;
        let unchanged = self.history.back().is_some_and(|last| t_s <= last.t_s)
            && snapshot.finished == self.latest.finished;
        if unchanged || (snapshot.elapsed_ns == 0 && snapshot.workers.is_empty()) {
            return false;
        }
        let lag_ms = match (snapshot.source_time_ms, snapshot.watermark_ms) {
            (Some(src), Some(wm)) if wm != i64::MAX => Some(src.saturating_sub(wm).max(0)),
            _ => None,
        };
        let sample = Sample {
            t_s,
            events: snapshot.events_in(),
            records_out: snapshot.records_out(),
            changes: snapshot
                .table
                .as_ref()
                .map_or(0, weir_engine::TableMetrics::changes),
            worker_events: snapshot.workers.iter().map(|w| w.events_in).collect(),
            worker_times: snapshot
                .workers
                .iter()
                .map(|w| WorkerTimes {
                    busy_ns: w.busy_ns,
                    idle_ns: w.idle_ns,
                    backpressured_ns: w.backpressured_ns,
                    held_ns: w.held_ns,
                })
                .collect(),
            lag_ms,
        };
        if let Some(wm) = snapshot.watermark_ms {
            match self.watermark_moved {
                Some((old, _)) if old == wm => {}
                _ => self.watermark_moved = Some((wm, t_s)),
            }
        }
        if self.history.back().is_some_and(|last| t_s <= last.t_s) {
            // Only `finished` changed: replace the last sample rather than add a zero-length one.
            self.history.pop_back();
        }
        self.history.push_back(sample);
        while self.history.len() > HISTORY_MAX
            || self
                .history
                .front()
                .is_some_and(|f| t_s - f.t_s > HISTORY_KEEP_S)
        {
            self.history.pop_front();
            self.trimmed = true;
        }
        self.operators.ingest(&snapshot);
        self.latest = snapshot;
        self.snapshots += 1;
        if t_s >= CURRENT_WINDOW_S / 2.0
            && let Some(rate) = self.current_eps()
        {
            self.peak_eps = self.peak_eps.max(rate);
        }
        true
    }

    /// The operators' rates and the bottleneck over the last second (the whole run once it
    /// finished); `None` when the engine reports no operators.
    pub fn dataflow(&self) -> Option<Dataflow> {
        self.operators.dataflow(&self.latest)
    }

    /// The run's settings.
    pub fn spec(&self) -> &RunSpec {
        &self.spec
    }

    /// The latest snapshot (default-valued before the first one).
    pub fn latest(&self) -> &MetricsSnapshot {
        &self.latest
    }

    /// The kept samples, oldest first.
    pub fn history(&self) -> &VecDeque<Sample> {
        &self.history
    }

    /// Whether at least one snapshot arrived (before that, panels say "waiting").
    pub fn has_data(&self) -> bool {
        self.snapshots > 0
    }

    /// Whether the job reported that it finished.
    pub fn finished(&self) -> bool {
        self.latest.finished
    }

    /// Job time of the latest snapshot, seconds.
    pub fn elapsed_s(&self) -> f64 {
        self.history.back().map_or(0.0, |s| s.t_s)
    }

    /// Events produced so far.
    pub fn events(&self) -> u64 {
        self.history.back().map_or(0, |s| s.events)
    }

    /// Number of workers the engine reports (0 when it cannot observe workers).
    pub fn worker_count(&self) -> usize {
        self.latest.workers.len()
    }

    /// Events the run will produce, when bounded by a count.
    pub fn events_total(&self) -> Option<u64> {
        self.latest.events_total.or(match self.spec.length {
            RunLength::Events(n) => Some(n),
            RunLength::Duration(_) => None,
        })
    }

    /// Interpolated value of a cumulative counter at job time `t` (the job starts at 0 with 0).
    /// `None` past the latest sample.
    fn cumulative_at(&self, t: f64, value: impl Fn(&Sample) -> u64) -> Option<f64> {
        let last = self.history.back()?;
        if t > last.t_s + 1e-9 {
            return None;
        }
        let idx = self.history.partition_point(|s| s.t_s < t);
        let (t1, v1) = match self.history.get(idx) {
            Some(s) => (s.t_s, value(s) as f64),
            None => (last.t_s, value(last) as f64),
        };
        let (t0, v0) = if idx == 0 {
            // Before the oldest kept sample: the job origin if the ring still reaches it.
            if self.trimmed {
                return Some(v1);
            }
            (0.0, 0.0)
        } else {
            let s = &self.history[idx - 1];
            (s.t_s, value(s) as f64)
        };
        if t1 - t0 <= 0.0 {
            return Some(v1);
        }
        Some(v0 + (v1 - v0) * ((t - t0) / (t1 - t0)).clamp(0.0, 1.0))
    }

    /// Average rate of a cumulative counter over `[t0, t1]`, per second.
    fn rate_between(&self, t0: f64, t1: f64, value: impl Fn(&Sample) -> u64 + Copy) -> Option<f64> {
        if t1 <= t0 {
            return None;
        }
        let a = self.cumulative_at(t0.max(0.0), value)?;
        let b = self.cumulative_at(t1, value)?;
        Some(((b - a) / (t1 - t0.max(0.0))).max(0.0))
    }

    /// Events per second over the last [`CURRENT_WINDOW_S`].
    pub fn current_eps(&self) -> Option<f64> {
        let now = self.elapsed_s();
        self.rate_between((now - CURRENT_WINDOW_S).max(0.0), now, |s| s.events)
    }

    /// An updating query's table: its live row count and its changes per second over the last
    /// [`CURRENT_WINDOW_S`] (over the whole run once it finished). `None` when the engine
    /// reports no table (an append-only query, or an engine that cannot observe one).
    pub fn table(&self) -> Option<(i64, Option<f64>)> {
        let rows = self.latest.table.as_ref()?.rows();
        let now = self.elapsed_s();
        let from = if self.finished() {
            0.0
        } else {
            (now - CURRENT_WINDOW_S).max(0.0)
        };
        Some((rows, self.rate_between(from, now, |s| s.changes)))
    }

    /// Events per second since the start.
    pub fn mean_eps(&self) -> Option<f64> {
        let now = self.elapsed_s();
        (now > 0.0).then(|| self.events() as f64 / now)
    }

    /// A paced run's input events so far over what its schedule had released by now: below
    /// [`SUSTAINED_FRACTION`] the engine is falling behind the offered rate. `None` for an
    /// unpaced run, in its first second, and once it has finished.
    pub fn pace(&self) -> Option<f64> {
        let rate = self.spec.rate? as f64;
        let t = self.elapsed_s();
        (t >= 1.0 && !self.finished()).then(|| self.events() as f64 / (rate * t))
    }

    /// The highest one-second rate seen so far.
    pub fn peak_eps(&self) -> f64 {
        self.peak_eps
    }

    /// One worker's events per second over the last [`CURRENT_WINDOW_S`].
    pub fn worker_current_eps(&self, worker: usize) -> Option<f64> {
        let now = self.elapsed_s();
        self.rate_between((now - CURRENT_WINDOW_S).max(0.0), now, |s| {
            s.worker_events.get(worker).copied().unwrap_or(0)
        })
    }

    /// Whether some worker has spent time held by source alignment so far in the run.
    pub fn any_worker_held(&self) -> bool {
        self.history
            .back()
            .is_some_and(|s| s.worker_times.iter().any(|w| w.held_ns > 0))
    }

    /// One worker's busy / idle / backpressured / held split over the last [`CURRENT_WINDOW_S`] (over
    /// the whole run once it finished). `None` when the worker reported no time at all.
    pub fn worker_split(&self, worker: usize) -> Option<TimeSplit> {
        let last = self.history.back()?;
        let now_times = *last.worker_times.get(worker)?;
        let base = if self.finished() {
            WorkerTimes::default()
        } else {
            let from = last.t_s - CURRENT_WINDOW_S;
            self.history
                .iter()
                .rev()
                .find(|s| s.t_s <= from)
                .and_then(|s| s.worker_times.get(worker).copied())
                .unwrap_or_default()
        };
        let busy = now_times.busy_ns.saturating_sub(base.busy_ns) as f64;
        let idle = now_times.idle_ns.saturating_sub(base.idle_ns) as f64;
        let bp = now_times
            .backpressured_ns
            .saturating_sub(base.backpressured_ns) as f64;
        let held = now_times.held_ns.saturating_sub(base.held_ns) as f64;
        let total = busy + idle + bp + held;
        (total > 0.0).then(|| TimeSplit {
            busy: busy / total,
            idle: idle / total,
            backpressured: bp / total,
            held: held / total,
        })
    }

    /// The latest watermark lag in ms (newest event time minus the frontier).
    pub fn lag_ms(&self) -> Option<i64> {
        self.history.back().and_then(|s| s.lag_ms)
    }

    /// The time window `[start, end]` (job seconds) a chart shows at `scale_s`: the last
    /// `scale_s` seconds, or `[0, scale_s]` while the run is younger than that.
    pub fn window(&self, scale_s: f64) -> (f64, f64) {
        let now = self.elapsed_s();
        let start = (now - scale_s).max(0.0);
        (start, start + scale_s)
    }

    /// Total events per second in each of `columns` equal slices of the window at `scale_s`;
    /// `None` for slices that lie in the future.
    pub fn throughput_columns(&self, scale_s: f64, columns: usize) -> Vec<Option<f64>> {
        self.columns(scale_s, columns, |s| s.events)
    }

    /// One worker's events per second in each of `columns` slices of the window at `scale_s`.
    pub fn worker_columns(&self, worker: usize, scale_s: f64, columns: usize) -> Vec<Option<f64>> {
        self.columns(scale_s, columns, |s| {
            s.worker_events.get(worker).copied().unwrap_or(0)
        })
    }

    fn columns(
        &self,
        scale_s: f64,
        columns: usize,
        value: impl Fn(&Sample) -> u64 + Copy,
    ) -> Vec<Option<f64>> {
        let (start, end) = self.window(scale_s);
        let now = self.elapsed_s();
        let dt = (end - start) / columns.max(1) as f64;
        (0..columns)
            .map(|c| {
                let t0 = start + c as f64 * dt;
                let t1 = (t0 + dt).min(now);
                if t0 >= now {
                    None
                } else {
                    self.rate_between(t0, t1, value)
                }
            })
            .collect()
    }

    /// The watermark lag (ms) at the last sample in each of `columns` slices of the window.
    pub fn lag_columns(&self, scale_s: f64, columns: usize) -> Vec<Option<f64>> {
        let (start, end) = self.window(scale_s);
        let dt = (end - start) / columns.max(1) as f64;
        (0..columns)
            .map(|c| {
                let t1 = start + (c + 1) as f64 * dt;
                let t0 = t1 - dt;
                // The last sample at or before t1 (binary search), if it lies in (t0, t1].
                let idx = self.history.partition_point(|s| s.t_s <= t1);
                idx.checked_sub(1)
                    .map(|i| &self.history[i])
                    .filter(|s| s.t_s > t0)
                    .and_then(|s| s.lag_ms)
                    .map(|l| l as f64)
            })
            .collect()
    }

    /// Progress towards the end of the run.
    pub fn progress(&self) -> Progress {
        if self.finished() {
            return Progress {
                fraction: Some(1.0),
                eta_s: Some(0.0),
            };
        }
        if let Some(total) = self.events_total() {
            let done = self.events();
            let fraction = (total > 0).then(|| (done as f64 / total as f64).min(1.0));
            let eta_s = self
                .current_eps()
                .filter(|r| *r > 0.0)
                .map(|r| total.saturating_sub(done) as f64 / r);
            return Progress { fraction, eta_s };
        }
        match self.spec.length {
            RunLength::Duration(d) => {
                let total = d.as_secs_f64();
                let now = self.elapsed_s();
                Progress {
                    fraction: (total > 0.0).then(|| (now / total).min(1.0)),
                    eta_s: Some((total - now).max(0.0)),
                }
            }
            RunLength::Events(_) => Progress {
                fraction: None,
                eta_s: None,
            },
        }
    }

    /// Problems worth a user's attention right now: late or dropped records, a stalled
    /// watermark, a skewed worker.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let latest = &self.latest;
        if latest.dropped() > 0 {
            out.push(format!("{} records dropped", latest.dropped()));
        }
        if latest.late() > 0 {
            out.push(format!("{} late records", latest.late()));
        }
        if let Some(pace) = self.pace().filter(|&p| p < SUSTAINED_FRACTION) {
            out.push(format!(
                "falling behind the offered rate: {:.0} % of the scheduled events so far \
                 (latency now measures queueing)",
                100.0 * pace
            ));
        }
        if let Some((wm, since)) = self.watermark_moved {
            let stalled_for = self.elapsed_s() - since;
            let flowing = self.current_eps().is_some_and(|r| r > 0.0);
            if wm != i64::MAX && !self.finished() && flowing && stalled_for >= STALL_S {
                out.push(format!("watermark stalled for {stalled_for:.1} s"));
            }
        }
        let workers = self.worker_count();
        if workers > 1 && !self.finished() && self.elapsed_s() >= 2.0 * CURRENT_WINDOW_S {
            let rates: Vec<f64> = (0..workers)
                .map(|w| self.worker_current_eps(w).unwrap_or(0.0))
                .collect();
            let mean = rates.iter().sum::<f64>() / workers as f64;
            if mean > 0.0 {
                for (w, r) in rates.iter().enumerate() {
                    if *r < SKEW_FRACTION * mean {
                        out.push(format!("worker {w} skewed: {:.2}x the mean rate", r / mean));
                    }
                }
            }
        }
        out
    }
}
