//! The lines weir's Flink job prints on stdout (docs/ARCHITECTURE.md, "Flink").
//!
//! Each line is `KIND {json}`; lines of other kinds (or that are not protocol lines at all) are
//! ignored, so a stray print from a library cannot break a run.

use serde::Deserialize;

/// One `PROGRESS` line, printed every 100 ms and once more at the end.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
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
    /// Whether the job has finished.
    pub finished: bool,
    /// Latency samples (ns) recorded since the previous line.
    pub latency_ns: Vec<u64>,
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
#[derive(Clone, Debug, PartialEq, Eq)]
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
                finished: false,
                latency_ns: vec![7],
            })
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
    fn malformed_protocol_lines_are_errors() {
        let e = parse("RESULT {\"events\":").expect_err("truncated");
        assert!(e.contains("malformed RESULT line"), "{e}");
    }
}
