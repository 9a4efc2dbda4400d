//! The lines weir's Flink job prints on stdout (docs/ARCHITECTURE.md, "Flink").
//!
//! Each line is `KIND {json}`; lines of other kinds (or that are not protocol lines at all) are
//! ignored, so a stray print from a library cannot break a run.

use serde::Deserialize;

/// One `PROGRESS` line, printed every 100 ms and once more at the end.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Progress {
    /// Nanoseconds since the first source split started.
    pub elapsed_ns: u64,
    /// Events produced so far, per source subtask (worker).
    pub events: Vec<u64>,
    /// Result rows delivered so far, per sink subtask (approximate until the end: sinks publish
    /// every 256 rows).
    pub rows: Vec<u64>,
    /// The lowest watermark that reached the sinks (event-time ms); `None` before the first.
    pub watermark: Option<i64>,
    /// The newest event timestamp the sources produced.
    pub source_time: Option<i64>,
    /// Records behind the watermark so far.
    pub late: u64,
    /// Cumulative busy time per worker (ms), summed over the worker's subtasks of every task;
    /// `None` when Flink's task time metrics were not available.
    #[serde(default)]
    pub busy_ms: Option<Vec<u64>>,
    /// Cumulative idle time per worker (ms), as `busy_ms`.
    #[serde(default)]
    pub idle_ms: Option<Vec<u64>>,
    /// Cumulative back-pressured time per worker (ms), as `busy_ms`.
    #[serde(default)]
    pub backpressured_ms: Option<Vec<u64>>,
    /// The job's vertices (Flink's tasks, one chain of operators each) in topological order,
    /// with their per-subtask figures; `None` when the job graph was not read (a job that has
    /// not started, or a Java side from before this field).
    #[serde(default)]
    pub vertices: Option<Vec<Vertex>>,
    /// Whether the job has finished.
    pub finished: bool,
    /// Latency samples (ns) recorded since the previous line.
    pub latency_ns: Vec<u64>,
    /// Latency samples (ns) of results fired by the end of input, recorded since the previous
    /// line (kept apart from `latency_ns`).
    #[serde(default)]
    pub end_of_input_latency_ns: Vec<u64>,
}

/// One job vertex in a `PROGRESS` line: its place in the job graph and Flink's task metrics of
/// each of its subtasks (index = worker), cumulative.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Vertex {
    /// The vertex's name as Flink builds it: the chain's operator names joined by ` -> `.
    pub name: String,
    /// Indices (in the line's `vertices`) of the vertices feeding this one, one per input edge.
    pub inputs: Vec<usize>,
    /// Each input edge's ship strategy as Flink names it (`HASH`, `REBALANCE`, `FORWARD`, ...),
    /// in `inputs` order; `None` where Flink named none.
    pub ships: Vec<Option<String>>,
    /// The task's `numRecordsIn` per subtask (records into the chain's head).
    pub records_in: Vec<u64>,
    /// The task's `numRecordsOut` per subtask: records the chain sent on its outputs to other
    /// vertices (0 for a chain that ends in a sink).
    pub records_out: Vec<u64>,
    /// The task's `accumulateBusyTimeMs` per subtask.
    pub busy_ms: Vec<u64>,
    /// The task's `outPoolUsage` per subtask (share of its output buffer pool in use; may pass
    /// 1 with overdraft buffers); `None` for a subtask not observed, and for the whole field on a
    /// cluster (the REST API's vertex details, which weir reads there, do not carry it).
    #[serde(default)]
    pub out_pool_usage: Option<Vec<Option<f32>>>,
}

/// The `RESULT` line, printed once after the job finished.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct JobResult {
    /// Events the sources produced.
    pub events: u64,
    /// JVM start to the first source split starting, ms.
    pub startup_ms: u64,
    /// First source split starting to the last sink finishing, ns.
    pub runtime_ns: u64,
    /// Rows in the digest (net of retractions).
    pub rows: u64,
    /// Digest hash, 32 hex digits.
    pub hash: String,
    /// Records behind the watermark.
    pub late: u64,
    /// Records dropped for other reasons.
    pub dropped: u64,
    /// Flink's version.
    pub flink: String,
    /// The Java runtime's version.
    pub java: String,
}

/// One `SUITE` line: a query's digest in suite mode.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct SuiteLine {
    /// Query name.
    pub query: String,
    /// Parallelism.
    pub workers: usize,
    /// Events produced.
    pub events: u64,
    /// Digest rows.
    pub rows: u64,
    /// Digest hash.
    pub hash: String,
    /// Late records.
    pub late: u64,
    /// Wall time of the job including its MiniCluster start, ms.
    pub job_ms: u64,
}

/// The `SUBMITTED` line: a cluster run's client submitted the job (cluster runs only).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Submitted {
    /// Flink's job id (32 hex digits).
    pub job_id: String,
    /// The cluster's REST address.
    pub cluster: String,
}

/// The `ERROR` line: the job failed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Failure {
    /// The exception, with its root cause.
    pub message: String,
}

/// A parsed protocol line.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    /// Periodic progress.
    Progress(Progress),
    /// Final figures.
    Result(JobResult),
    /// A suite result.
    Suite(SuiteLine),
    /// The job failed.
    Error(Failure),
    /// A cluster run's job was submitted.
    Submitted(Submitted),
    /// Anything else (not a protocol line, or a kind this side does not use).
    Other,
}

/// Parses one stdout line of the job.
///
/// # Errors
/// A protocol line (known kind) whose JSON does not parse: the Java and Rust sides disagree.
pub fn parse(line: &str) -> Result<Line, String> {
    let (kind, json) = line.split_once(' ').unwrap_or((line, ""));
    let bad =
        |e: serde_json::Error| format!("malformed {kind} line from the Flink job ({e}): {line}");
    Ok(match kind {
        "PROGRESS" => Line::Progress(serde_json::from_str(json).map_err(bad)?),
        "RESULT" => Line::Result(serde_json::from_str(json).map_err(bad)?),
        "SUITE" => Line::Suite(serde_json::from_str(json).map_err(bad)?),
        "ERROR" => Line::Error(serde_json::from_str(json).map_err(bad)?),
        "SUBMITTED" => Line::Submitted(serde_json::from_str(json).map_err(bad)?),
        _ => Line::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        let p = parse(
            r#"PROGRESS {"elapsed_ns":5,"events":[3,4],"rows":[1,0],"watermark":null,"source_time":9,"late":0,"finished":false,"latency_ns":[7]}"#,
        )
        .expect("valid");
        assert_eq!(
            p,
            Line::Progress(Progress {
                elapsed_ns: 5,
                events: vec![3, 4],
                rows: vec![1, 0],
                watermark: None,
                source_time: Some(9),
                late: 0,
                busy_ms: None,
                idle_ms: None,
                backpressured_ms: None,
                vertices: None,
                finished: false,
                latency_ns: vec![7],
                end_of_input_latency_ns: Vec::new(),
            })
        );
        let Ok(Line::Progress(p)) = parse(
            r#"PROGRESS {"elapsed_ns":5,"events":[3],"rows":[1],"watermark":null,"source_time":null,"late":0,"finished":true,"latency_ns":[7],"end_of_input_latency_ns":[8,9]}"#,
        ) else {
            panic!("a progress line with end-of-input samples parses");
        };
        assert_eq!(
            (p.latency_ns, p.end_of_input_latency_ns),
            (vec![7], vec![8, 9])
        );
        let r = parse(
            r#"RESULT {"events":10,"startup_ms":4000,"runtime_ns":99,"rows":2,"hash":"00ff","late":1,"dropped":0,"flink":"2.3.0","java":"17"}"#,
        )
        .expect("valid");
        assert!(matches!(
            r,
            Line::Result(JobResult {
                events: 10,
                late: 1,
                ..
            })
        ));
        assert_eq!(
            parse(r#"ERROR {"message":"boom"}"#).expect("valid"),
            Line::Error(Failure {
                message: "boom".into()
            })
        );
        assert_eq!(
            parse(r#"SUBMITTED {"job_id":"00ff","cluster":"localhost:8081"}"#).expect("valid"),
            Line::Submitted(Submitted {
                job_id: "00ff".into(),
                cluster: "localhost:8081".into()
            })
        );
        assert_eq!(parse("log4j: something").expect("ignored"), Line::Other);
        assert_eq!(parse("").expect("ignored"), Line::Other);
    }

    #[test]
    fn progress_lines_carry_the_job_vertices_with_their_metrics() {
        let line = concat!(
            r#"PROGRESS {"elapsed_ns":5,"events":[3,4],"rows":[1,0],"watermark":null,"#,
            r#""source_time":9,"late":0,"busy_ms":[7,8],"idle_ms":[1,1],"backpressured_ms":[0,2],"#,
            r#""vertices":[{"name":"Source: nexmark-source -> bids","inputs":[],"ships":[],"#,
            r#""records_in":[0,0],"records_out":[3,4],"busy_ms":[5,6],"out_pool_usage":[0.25,null]},"#,
            r#"{"name":"q5-count-per-auction","inputs":[0],"ships":["HASH"],"records_in":[4,3],"#,
            r#""records_out":[1,0],"busy_ms":[2,2],"out_pool_usage":null}],"#,
            r#""finished":false,"latency_ns":[]}"#
        );
        let Line::Progress(p) = parse(line).expect("valid") else {
            panic!("a progress line");
        };
        let v = p.vertices.expect("vertices sent");
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].name, "Source: nexmark-source -> bids");
        assert_eq!(v[0].out_pool_usage, Some(vec![Some(0.25), None]));
        assert_eq!(v[1].inputs, [0]);
        assert_eq!(v[1].ships, [Some("HASH".to_string())]);
        assert_eq!(
            (v[1].records_in.clone(), v[1].busy_ms.clone()),
            (vec![4, 3], vec![2, 2])
        );
        assert_eq!(
            v[1].out_pool_usage, None,
            "a cluster's REST API has no pool usage"
        );
        // A line from a Java side without the field still parses, with no vertices.
        let Line::Progress(old) = parse(
            r#"PROGRESS {"elapsed_ns":5,"events":[3],"rows":[1],"watermark":null,"source_time":null,"late":0,"finished":true,"latency_ns":[]}"#,
        )
        .expect("valid") else {
            panic!("a progress line");
        };
        assert_eq!(old.vertices, None);
        // A vertex that lies about its shape is a protocol error, not a silent zero.
        let e = parse(
            r#"PROGRESS {"elapsed_ns":5,"events":[3],"rows":[1],"watermark":null,"source_time":null,"late":0,"vertices":[{"name":"x","inputs":[-1]}],"finished":true,"latency_ns":[]}"#,
        )
        .expect_err("an input index must be a vertex index");
        assert!(e.contains("malformed PROGRESS line"), "{e}");
    }

    #[test]
    fn malformed_protocol_lines_are_errors() {
        let e = parse("RESULT {\"events\":").expect_err("truncated");
        assert!(e.contains("malformed RESULT line"), "{e}");
    }
}
