//! Per-operator rates and the bottleneck: what the dataflow view draws, computed from the
//! operators' cumulative counters ([`weir_engine::OperatorMetrics`]) without any screen.
//!
//! [`OperatorWindow`] keeps the operators' counters of the snapshots of about the last second
//! (the front sample is the newest one at least [`CURRENT_WINDOW_S`] old), so rates are the
//! average over that span; once the job finished they are the averages over the whole run.
//!
//! The bottleneck is the (operator, worker) pair with the largest share of wall time spent in
//! the operator's own code: the engine charges each operator only its self time, so a busy
//! consumer does not make its producers look busy. Below [`BOTTLENECK_BUSY`] no operator holds
//! the job back and the line says so: the job then waits for its input (a paced or slow
//! source), not for an operator.
//!
//! Records an engine does not count (timely's log has none for an operator without a channel
//! out, such as a sink) stay `None` through to the rates, which the view shows as
//! unavailable.
//!
//! Cost: O(workers x operators) per snapshot; the window holds about one second of snapshots.

use std::collections::VecDeque;

use weir_engine::MetricsSnapshot;

/// The span of the "current" rates (the console's throughput and the operators'), seconds.
pub const CURRENT_WINDOW_S: f64 = 1.0;
/// An operator this busy (share of wall time on one worker) is named the bottleneck.
pub const BOTTLENECK_BUSY: f64 = 0.5;
/// An input queue this full counts as full in the bottleneck line.
pub const QUEUE_FULL: f32 = 0.9;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Counts {
    records_in: Option<u64>,
    records_out: Option<u64>,
    busy_ns: u64,
}

impl Counts {
    /// The counters at the job's start (and of an operator a worker has not reported yet).
    const ZERO: Self = Self {
        records_in: Some(0),
        records_out: Some(0),
        busy_ns: 0,
    };
}

/// Records per second between two cumulative counts, when both are known.
fn per_s(now: Option<u64>, base: Option<u64>, span_s: f64) -> Option<f64> {
    Some(now?.saturating_sub(base?) as f64 / span_s)
}

#[derive(Clone, Debug, PartialEq)]
struct OpsSample {
    t_ns: u64,
    /// `[worker][operator]`.
    counts: Vec<Vec<Counts>>,
}

impl OpsSample {
    fn of(snapshot: &MetricsSnapshot) -> Self {
        Self {
            t_ns: snapshot.elapsed_ns,
            counts: snapshot
                .workers
                .iter()
                .map(|w| {
                    w.operators
                        .iter()
                        .map(|o| Counts {
                            records_in: o.records_in,
                            records_out: o.records_out,
                            busy_ns: o.busy_ns,
                        })
                        .collect()
                })
                .collect(),
        }
    }
}

/// The operators' counters over about the last second.
#[derive(Clone, Debug, Default)]
pub struct OperatorWindow {
    samples: VecDeque<OpsSample>,
}

impl OperatorWindow {
    /// Takes in a new snapshot (called by the console state for each new one).
    pub fn ingest(&mut self, snapshot: &MetricsSnapshot) {
        if snapshot.workers.iter().all(|w| w.operators.is_empty()) {
            return;
        }
        if self
            .samples
            .back()
            .is_some_and(|s| s.t_ns >= snapshot.elapsed_ns)
        {
            self.samples.pop_back();
        }
        self.samples.push_back(OpsSample::of(snapshot));
        let now = snapshot.elapsed_ns;
        let span = (CURRENT_WINDOW_S * 1e9) as u64;
        // Keep the newest sample that is at least `span` old as the front.
        while self
            .samples
            .get(1)
            .is_some_and(|s| now.saturating_sub(s.t_ns) >= span)
        {
            self.samples.pop_front();
        }
    }

    /// The dataflow as of `latest`: rates over the window (over the whole run once `latest`
    /// is final). `None` when the engine reports no operators.
    pub fn dataflow(&self, latest: &MetricsSnapshot) -> Option<Dataflow> {
        let first = latest.workers.first()?;
        if first.operators.is_empty() {
            return None;
        }
        let now = OpsSample::of(latest);
        let base = match self.samples.front() {
            Some(s) if !latest.finished && s.t_ns < now.t_ns => s.clone(),
            // One sample, or the final one: the whole run, from the job's start.
            _ => OpsSample {
                t_ns: 0,
                counts: Vec::new(),
            },
        };
        let span_ns = now.t_ns.saturating_sub(base.t_ns);
        if span_ns == 0 {
            return None;
        }
        let span_s = span_ns as f64 / 1e9;
        let mut ops: Vec<OperatorView> = first
            .operators
            .iter()
            .map(|o| OperatorView {
                name: o.name.clone(),
                inputs: o.inputs.clone(),
                depth: 0,
                exchange: o.exchange || o.fill.is_some(),
                workers: Vec::new(),
            })
            .collect();
        for (w, counts) in now.counts.iter().enumerate() {
            for (i, op) in ops.iter_mut().enumerate() {
                let c = counts.get(i).copied().unwrap_or(Counts::ZERO);
                let b = base
                    .counts
                    .get(w)
                    .and_then(|ws| ws.get(i))
                    .copied()
                    .unwrap_or(Counts::ZERO);
                op.workers.push(OperatorRate {
                    in_per_s: per_s(c.records_in, b.records_in, span_s),
                    out_per_s: per_s(c.records_out, b.records_out, span_s),
                    busy: c.busy_ns.saturating_sub(b.busy_ns) as f64 / span_ns as f64,
                    fill: latest.workers[w].operators.get(i).and_then(|o| o.fill),
                });
            }
        }
        for i in 0..ops.len() {
            let depth = ops[i]
                .inputs
                .iter()
                .filter(|&&j| j < i)
                .map(|&j| ops[j].depth + 1)
                .max()
                .unwrap_or(0);
            ops[i].depth = depth;
        }
        let in_operators = (0..latest.workers.len())
            .map(|w| ops.iter().map(|o| o.workers[w].busy).sum())
            .collect();
        let bottleneck = bottleneck(&ops, latest);
        Some(Dataflow {
            ops,
            span_s,
            whole_run: base.t_ns == 0,
            in_operators,
            bottleneck,
        })
    }
}

/// One operator on one worker over the window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OperatorRate {
    /// Records in per second; `None` when the engine does not count them.
    pub in_per_s: Option<f64>,
    /// Records out per second; `None` when the engine does not count them.
    pub out_per_s: Option<f64>,
    /// Share of wall time spent in the operator's own code, `0.0..=1.0`.
    pub busy: f64,
    /// Exchanges: fill of this worker's fullest outgoing ring on the edge (`None` also when
    /// the engine does not report it).
    pub fill: Option<f32>,
}

/// One operator of the dataflow, on every worker.
#[derive(Clone, Debug, PartialEq)]
pub struct OperatorView {
    /// The operator's name.
    pub name: String,
    /// Indices of the operators feeding it.
    pub inputs: Vec<usize>,
    /// Longest path from a source (sources are 0).
    pub depth: usize,
    /// Whether it is an exchange (records change worker after it).
    pub exchange: bool,
    /// Per worker, in worker order.
    pub workers: Vec<OperatorRate>,
}

impl OperatorView {
    /// Records in per second over all workers; `None` unless every worker counts them.
    pub fn in_per_s(&self) -> Option<f64> {
        self.workers.iter().map(|w| w.in_per_s).sum()
    }

    /// Records out per second over all workers; `None` unless every worker counts them.
    pub fn out_per_s(&self) -> Option<f64> {
        self.workers.iter().map(|w| w.out_per_s).sum()
    }

    /// Whether the view must show a figure of this operator as unavailable: its records in
    /// (it has inputs) or out, or the fill of an exchange.
    pub fn has_unreported(&self) -> bool {
        (!self.inputs.is_empty() && self.in_per_s().is_none())
            || self.out_per_s().is_none()
            || (self.exchange && self.fill().is_none())
    }

    /// The busiest worker and its busy share.
    pub fn busiest(&self) -> Option<(usize, f64)> {
        self.workers
            .iter()
            .map(|w| w.busy)
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// The fullest outgoing ring over all workers (exchanges only).
    pub fn fill(&self) -> Option<f32> {
        self.workers.iter().filter_map(|w| w.fill).reduce(f32::max)
    }
}

/// Which operator holds the job back, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Bottleneck {
    /// The operator's index.
    pub operator: usize,
    /// The operator's name.
    pub name: String,
    /// The worker it is busiest on.
    pub worker: usize,
    /// Its busy share there.
    pub busy: f64,
    /// The fullest ring into that worker, when the engine reports rings (`None` for a
    /// source, which has no input queue).
    pub input_fill: Option<f32>,
}

impl Bottleneck {
    /// Whether the operator is busy enough to hold the job back.
    pub fn holds_back(&self) -> bool {
        self.busy >= BOTTLENECK_BUSY
    }

    /// The one-line verdict, for example `window_leaders(q5) on w1: 92% busy, its input
    /// queue full`.
    pub fn line(&self, query: &str) -> String {
        let busy = super::fmt::pct(self.busy);
        if !self.holds_back() {
            return format!(
                "no operator holds the job back: the busiest, {}({query}) on w{}, is {busy} busy \
                 (the job waits for its input)",
                self.name, self.worker
            );
        }
        let queue = match self.input_fill {
            Some(f) if f >= QUEUE_FULL => ", its input queue full".to_string(),
            Some(f) if f > 0.0 => format!(", its input queue {} full", super::fmt::pct(f.into())),
            _ => String::new(),
        };
        format!(
            "{}({query}) on w{}: {busy} busy{queue}",
            self.name, self.worker
        )
    }

    /// The verdict over a whole run (the summary's line): as [`Bottleneck::line`], without the
    /// input queue's fill, which is a reading at the last snapshot and says nothing of the run.
    pub fn whole_run_line(&self, query: &str) -> String {
        Self {
            input_fill: None,
            ..self.clone()
        }
        .line(query)
    }
}

fn bottleneck(ops: &[OperatorView], latest: &MetricsSnapshot) -> Option<Bottleneck> {
    let (operator, worker, busy) = ops
        .iter()
        .enumerate()
        .filter_map(|(i, op)| op.busiest().map(|(w, b)| (i, w, b)))
        .max_by(|a, b| a.2.total_cmp(&b.2))?;
    // A source has no input queue: the rings into its worker are not its input.
    let has_input = !ops[operator].inputs.is_empty();
    let input_fill = latest
        .exchange_fill
        .as_ref()
        .filter(|_| has_input)
        .map(|fill| {
            fill.iter()
                .enumerate()
                .filter(|(p, _)| *p != worker)
                .filter_map(|(_, row)| row.get(worker).copied())
                .fold(0.0, f32::max)
        });
    Some(Bottleneck {
        operator,
        name: ops[operator].name.clone(),
        worker,
        busy,
        input_fill,
    })
}

/// The dataflow as the view draws it.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataflow {
    /// Operators in build order (inputs come before the operators they feed).
    pub ops: Vec<OperatorView>,
    /// The span the rates average over, seconds.
    pub span_s: f64,
    /// Whether the span is the whole run (the job finished, or it just started).
    pub whole_run: bool,
    /// Per worker: the share of wall time spent inside operators (the rest of its busy time is
    /// the worker loop's own bookkeeping).
    pub in_operators: Vec<f64>,
    /// The busiest operator, if any operator ran.
    pub bottleneck: Option<Bottleneck>,
}

impl Dataflow {
    /// Whether any figure of the view is unavailable (the engine does not report it).
    pub fn has_unreported(&self) -> bool {
        self.ops.iter().any(OperatorView::has_unreported)
    }
}

#[cfg(test)]
mod tests {
    use weir_engine::{OperatorMetrics, WorkerMetrics};

    use super::*;

    fn op(name: &str, inputs: &[usize], n: u64, busy_ns: u64) -> OperatorMetrics {
        OperatorMetrics {
            name: name.into(),
            inputs: inputs.to_vec(),
            records_in: Some(n),
            records_out: Some(n),
            busy_ns,
            exchange: name == "key_by",
            fill: (name == "key_by").then_some(0.95),
            state_records: None,
        }
    }

    fn snap(t_s: u64, window_busy: [u64; 2], finished: bool) -> MetricsSnapshot {
        let t_ns = t_s * 1_000_000_000;
        MetricsSnapshot {
            elapsed_ns: t_ns,
            workers: (0..2)
                .map(|w| WorkerMetrics {
                    busy_ns: t_ns,
                    operators: vec![
                        op("source", &[], t_s * 1000, t_ns / 20),
                        op("key_by", &[0], t_s * 1000, t_ns / 20),
                        op("window", &[1], t_s * 1000, window_busy[w]),
                        op("sink", &[2], t_s * 10, 0),
                    ],
                    ..WorkerMetrics::default()
                })
                .collect(),
            exchange_fill: Some(vec![vec![0.0, 1.0], vec![0.2, 0.0]]),
            finished,
            ..MetricsSnapshot::default()
        }
    }

    #[test]
    fn rates_cover_the_last_second_and_name_the_busiest_operator() {
        let mut window = OperatorWindow::default();
        window.ingest(&snap(1, [100_000_000, 500_000_000], false));
        let latest = snap(2, [200_000_000, 1_400_000_000], false);
        window.ingest(&latest);
        let flow = window.dataflow(&latest).expect("operators are reported");
        assert!((flow.span_s - 1.0).abs() < 1e-9);
        assert!(!flow.whole_run);
        let depths: Vec<usize> = flow.ops.iter().map(|o| o.depth).collect();
        assert_eq!(depths, [0, 1, 2, 3]);
        assert!((flow.ops[0].in_per_s().expect("counted") - 2000.0).abs() < 1e-6);
        assert!(!flow.has_unreported());
        let b = flow.bottleneck.expect("a busiest operator");
        assert_eq!((b.name.as_str(), b.worker), ("window", 1));
        assert!((b.busy - 0.9).abs() < 1e-9, "{b:?}");
        assert_eq!(
            b.line("q5"),
            "window(q5) on w1: 90% busy, its input queue full"
        );
        // The queue's fill is a reading of the moment: a whole run's verdict leaves it out.
        assert_eq!(b.whole_run_line("q5"), "window(q5) on w1: 90% busy");
        assert!((flow.in_operators[1] - 1.0).abs() < 1e-9);
    }

    #[test]
    fn a_busy_source_is_not_said_to_have_a_full_input_queue() {
        let mut busy_source = snap(2, [0, 0], false);
        busy_source.workers[0].operators[0].busy_ns = 1_800_000_000;
        let mut window = OperatorWindow::default();
        window.ingest(&busy_source);
        let b = window
            .dataflow(&busy_source)
            .and_then(|d| d.bottleneck)
            .expect("a busiest operator");
        assert_eq!(b.line("q5"), "source(q5) on w0: 90% busy");
    }

    #[test]
    fn a_finished_job_reports_whole_run_averages_and_an_idle_job_no_culprit() {
        let mut window = OperatorWindow::default();
        window.ingest(&snap(1, [100_000_000, 200_000_000], false));
        let last = snap(4, [400_000_000, 800_000_000], true);
        window.ingest(&last);
        let flow = window.dataflow(&last).expect("operators are reported");
        assert!(flow.whole_run);
        assert!((flow.span_s - 4.0).abs() < 1e-9);
        let b = flow.bottleneck.expect("a busiest operator");
        assert!(!b.holds_back());
        assert!(b.line("q5").starts_with("no operator holds the job back"));
    }

    #[test]
    fn uncounted_records_and_fill_are_unavailable_not_zero() {
        // Records some operators do not count, an exchange without fill.
        let timely = |t_s: u64| {
            let t_ns = t_s * 1_000_000_000;
            let mut s = snap(t_s, [t_ns * 3 / 5, t_ns / 4], false);
            for w in &mut s.workers {
                w.operators[0].records_out = None;
                w.operators[1].records_in = None;
                w.operators[1].fill = None;
                w.operators[3].records_out = None;
            }
            s.exchange_fill = None;
            s
        };
        let mut window = OperatorWindow::default();
        window.ingest(&timely(1));
        let latest = timely(2);
        window.ingest(&latest);
        let flow = window.dataflow(&latest).expect("operators are reported");
        assert!(flow.has_unreported());
        let key_by = &flow.ops[1];
        assert!(
            key_by.exchange,
            "an exchange without fill is still an exchange"
        );
        assert_eq!((key_by.in_per_s(), key_by.fill()), (None, None));
        assert!((key_by.out_per_s().expect("counted") - 2000.0).abs() < 1e-6);
        assert!((flow.ops[2].in_per_s().expect("counted") - 2000.0).abs() < 1e-6);
        let b = flow.bottleneck.expect("a busiest operator");
        assert_eq!(b.line("q5"), "window(q5) on w0: 60% busy");
    }

    #[test]
    fn engines_without_operators_have_no_dataflow() {
        let mut window = OperatorWindow::default();
        let s = MetricsSnapshot {
            elapsed_ns: 1,
            workers: vec![WorkerMetrics::default()],
            ..MetricsSnapshot::default()
        };
        window.ingest(&s);
        assert!(window.dataflow(&s).is_none());
    }
}
