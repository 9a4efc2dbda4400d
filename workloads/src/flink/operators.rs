//! Flink's job vertices as weir's operators: what the dataflow view and `weir run`'s summary
//! draw for `--engine flink`, built from the `vertices` of a `PROGRESS` line
//! ([`protocol::Vertex`]).
//!
//! Flink's unit of execution is the task: one job vertex, a chain of operators run by one
//! thread per subtask. So one [`OperatorMetrics`] stands for one vertex, and worker `w` is
//! subtask `w` of every vertex (one slot), as for the per-worker times. Per vertex and worker:
//!
//! - `name`: the chain's operator names without their argument lists, long chains cut to their
//!   ends ([`short_name`]);
//! - `inputs`: the job graph's input edges (vertex indices, topological order);
//! - `records_in` / `records_out`: the task's `numRecordsIn` (into the chain's head) and
//!   `numRecordsOut` (sent on its outputs to other vertices: 0 for a chain ending in a sink);
//! - `busy_ns`: the subtask's `accumulateBusyTimeMs`, Flink's busy time: the wall time since
//!   the task started less its idle and back-pressured time (so it runs the chain's code, its
//!   serialisation into output buffers included). Each vertex has its own thread, so the
//!   vertices' shares on one worker can add up to more than 1;
//! - `state_records`: `None` (Flink reports no per-operator state size here);
//! - `fill`: only for a vertex whose outgoing edges all shuffle ([`shuffles`]: records change
//!   subtask after it, what weir's exchanges do), the subtask's `outPoolUsage`: the share of
//!   its output buffer pool holding buffers written and not yet consumed downstream. That is how
//!   full this worker's outgoing exchange is, the meaning of `fill` for weir's rings; values
//!   past 1 (overdraft buffers) are shown as 1. The consumer's `inPoolUsage` is not used: it
//!   ignores local channels, which are all of a MiniCluster's. Flink names no per-edge fill, so
//!   a vertex with a forward output as well as a shuffling one gets none, and the snapshot's
//!   `exchange_fill` (per worker pair) stays `None`. On a cluster the vertices come from the
//!   REST API's vertex details, which carry no pool usage: `fill` is `None` there.
//!
//! Cost: O(vertices x edges) per progress line (every 100 ms), on the driver thread.

use weir_engine::OperatorMetrics;

use super::protocol::{self, Vertex};

/// A chain's name is cut to its first and last operators beyond this many characters.
pub const NAME_MAX: usize = 40;

/// Whether an edge with Flink's ship strategy `ship` moves records between subtasks (`HASH`,
/// `REBALANCE`, `BROADCAST`, `SHUFFLE`, `GLOBAL`, `CUSTOM`, ...): every strategy but the
/// pointwise `FORWARD` (and its variants) and `RESCALE`. `None` (unnamed) counts as not.
pub fn shuffles(ship: Option<&str>) -> bool {
    ship.is_some_and(|s| !s.starts_with("FORWARD") && s != "RESCALE")
}

/// The short name of a vertex: each operator's name up to its argument list (`Calc(select=..)`
/// becomes `Calc`, `Calc[3]` too), repeats dropped, joined by ` -> `; a chain longer than
/// [`NAME_MAX`] characters keeps its first and last operators (`first -> .. -> last`).
///
/// # Examples
/// ```
/// use weir_workloads::flink::operators::short_name;
/// assert_eq!(
///     short_name("Source: bids -> Calc(select=[auction, price]) -> Calc(select=[auction])"),
///     "Source: bids -> Calc"
/// );
/// ```
pub fn short_name(full: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in full.split(" -> ") {
        let mut p = part.split('(').next().unwrap_or(part).trim();
        // A planner's operator index: `Calc[3]`.
        if let Some(open) = p.rfind('[')
            && p.ends_with(']')
            && p[open + 1..p.len() - 1].bytes().all(|b| b.is_ascii_digit())
        {
            p = p[..open].trim_end();
        }
        if !p.is_empty() && parts.last() != Some(&p) {
            parts.push(p);
        }
    }
    let joined = parts.join(" -> ");
    match parts.as_slice() {
        [first, .., last] if parts.len() > 2 && joined.chars().count() > NAME_MAX => {
            format!("{first} -> .. -> {last}")
        }
        _ if joined.is_empty() => full.trim().to_string(),
        _ => joined,
    }
}

/// Whether each vertex's outgoing edges all shuffle (and it has some): the vertices whose
/// output pool usage is an exchange's fill.
fn exchanges(vertices: &[Vertex]) -> Vec<bool> {
    let mut out: Vec<Option<bool>> = vec![None; vertices.len()];
    for v in vertices {
        for (k, &from) in v.inputs.iter().enumerate() {
            if let Some(o) = out.get_mut(from) {
                let s = shuffles(v.ships.get(k).and_then(Option::as_deref));
                *o = Some(o.unwrap_or(true) && s);
            }
        }
    }
    out.into_iter().map(|o| o == Some(true)).collect()
}

/// The operators of worker `worker` (subtask `worker` of every vertex), in the vertices' order.
/// An input index that names no vertex is left out (the Java side never sends one).
pub fn for_worker(vertices: &[Vertex], worker: usize) -> Vec<OperatorMetrics> {
    let exchange = exchanges(vertices);
    let at = |v: &[u64]| v.get(worker).copied().unwrap_or(0);
    vertices
        .iter()
        .zip(exchange)
        .map(|(v, exchange)| OperatorMetrics {
            name: short_name(&v.name),
            inputs: v
                .inputs
                .iter()
                .copied()
                .filter(|&j| j < vertices.len())
                .collect(),
            records_in: Some(at(&v.records_in)),
            records_out: Some(at(&v.records_out)),
            state_records: None,
            exchange,
            busy_ns: at(&v.busy_ms).saturating_mul(1_000_000),
            fill: if exchange {
                v.out_pool_usage
                    .as_ref()
                    .and_then(|u| u.get(worker).copied().flatten())
                    .filter(|f| f.is_finite())
                    .map(|f| f.clamp(0.0, 1.0))
            } else {
                None
            },
        })
        .collect()
}

/// The operators of every worker of a progress line; empty per worker when the line carries no
/// vertices.
pub fn of_progress(p: &protocol::Progress, workers: usize) -> Vec<Vec<OperatorMetrics>> {
    (0..workers)
        .map(|w| {
            p.vertices
                .as_deref()
                .map(|v| for_worker(v, w))
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vertex(name: &str, inputs: &[usize], ships: &[&str], usage: Option<[f32; 2]>) -> Vertex {
        Vertex {
            name: name.into(),
            inputs: inputs.to_vec(),
            ships: ships.iter().map(|s| Some((*s).to_string())).collect(),
            records_in: vec![10, 20],
            records_out: vec![5, 6],
            busy_ms: vec![3, 4],
            out_pool_usage: usage.map(|u| u.iter().map(|&f| Some(f)).collect()),
        }
    }

    #[test]
    fn names_lose_their_arguments_and_long_chains_their_middle() {
        assert_eq!(
            short_name("Source: nexmark-source -> bids -> bid"),
            "Source: nexmark-source -> bids -> bid"
        );
        assert_eq!(
            short_name("GlobalGroupAggregate[7](groupBy=[day], select=[day, COUNT(*) AS total])"),
            "GlobalGroupAggregate"
        );
        assert_eq!(
            short_name(
                "Source: nexmark-source -> bids -> bid-rows -> SourceConversion[2] -> Calc[3] -> \
                 LocalGroupAggregate[4]"
            ),
            "Source: nexmark-source -> .. -> LocalGroupAggregate"
        );
        assert_eq!(short_name("digest: Writer"), "digest: Writer");
        assert_eq!(short_name("(odd)"), "(odd)", "never empty");
    }

    #[test]
    fn only_the_vertices_whose_outputs_all_shuffle_carry_a_fill() {
        let vertices = vec![
            vertex("Source: s -> bids", &[], &[], Some([0.5, 1.25])),
            vertex("count", &[0], &["HASH"], Some([0.1, 0.2])),
            vertex("max", &[1], &["FORWARD"], Some([0.3, 0.4])),
            vertex("late: Writer", &[1], &["REBALANCE"], Some([0.0, 0.0])),
            vertex("digest: Writer", &[2], &["HASH"], Some([0.0, 0.0])),
        ];
        let w1 = for_worker(&vertices, 1);
        let fills: Vec<Option<f32>> = w1.iter().map(|o| o.fill).collect();
        // The source shuffles (over 1 is overdraft: full); count also feeds a forward edge;
        // max shuffles; the sinks have no output edge.
        assert_eq!(fills, [Some(1.0), None, Some(0.4), None, None]);
        assert_eq!(w1[1].inputs, [0]);
        assert_eq!((w1[1].records_in, w1[1].records_out), (Some(20), Some(6)));
        assert_eq!(w1[1].busy_ns, 4_000_000);
        assert_eq!(w1[0].state_records, None);
        let w0 = for_worker(&vertices, 0);
        assert_eq!(w0[0].fill, Some(0.5));
    }

    #[test]
    fn a_cluster_without_pool_usage_has_no_fill_and_missing_subtasks_count_nothing() {
        let vertices = vec![
            vertex("src", &[], &[], None),
            vertex("sink", &[0, 9], &["HASH"], None),
        ];
        let ops = for_worker(&vertices, 5);
        assert!(ops.iter().all(|o| o.fill.is_none()));
        assert_eq!(ops[1].inputs, [0], "an input naming no vertex is left out");
        assert_eq!((ops[1].records_in, ops[1].busy_ns), (Some(0), 0));
        let p = protocol::Progress {
            vertices: Some(vertices),
            ..protocol::Progress::default()
        };
        let all = of_progress(&p, 2);
        assert_eq!((all.len(), all[0].len()), (2, 2));
        assert!(
            of_progress(&protocol::Progress::default(), 2)
                .iter()
                .all(Vec::is_empty)
        );
    }

    #[test]
    fn shuffling_strategies() {
        for s in [
            "HASH",
            "REBALANCE",
            "BROADCAST",
            "SHUFFLE",
            "GLOBAL",
            "CUSTOM",
        ] {
            assert!(shuffles(Some(s)), "{s}");
        }
        for s in [Some("FORWARD"), Some("RESCALE"), None] {
            assert!(!shuffles(s), "{s:?}");
        }
    }
}
