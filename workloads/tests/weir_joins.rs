//! q10's files and q13's side input on the weir engine, end to end through the runner: the
//! committed partitions read back hold exactly the rows emitted, a side-input file replaces the
//! built-in table, and a bad file or directory fails before the job starts.

use std::path::PathBuf;

use weir_workloads::catalog::{EngineKind, Query};
use weir_workloads::digest::Digest;
use weir_workloads::inputs::{SideInput, read_partitions};
use weir_workloads::job::{RunError, RunLength, RunSpec};
use weir_workloads::references::{self, ReferenceInput};
use weir_workloads::runner;

const EVENTS: u64 = 50_000;
const EVENT_RATE: u64 = 200;

fn spec(query: Query, workers: usize) -> RunSpec {
    RunSpec {
        workers,
        length: RunLength::Events(EVENTS),
        event_rate: EVENT_RATE,
        ..RunSpec::new(query, EngineKind::Weir)
    }
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("weir-joins-test-{}-{name}", std::process::id()))
}

fn config_error(spec: &RunSpec) -> String {
    match runner::start(spec) {
        Err(RunError::Config(message)) => message,
        Err(other) => panic!("expected a flag error, got {other}"),
        Ok(_) => panic!("expected a flag error, the job started"),
    }
}

/// At 200 events/s of event time, 50,000 events span more than four minutes: several
/// partitions, each written by every worker.
#[test]
fn q10_partitions_read_back_hold_exactly_the_rows_emitted() {
    let input = ReferenceInput::generate(EVENTS, EVENT_RATE).expect("valid");
    let expected = references::digest(Query::Q10, &input)
        .expect("no overflow")
        .expect("q10 is comparable");
    for workers in [1, 2, 3] {
        let dir = temp_path(&format!("q10-{workers}"));
        let report = runner::start(&RunSpec {
            sink_dir: Some(dir.clone()),
            ..spec(Query::Q10, workers)
        })
        .expect("starts")
        .wait()
        .expect("runs");
        assert_eq!(report.digest, expected, "{workers} workers");
        let rows = read_partitions(&dir).expect("every partition committed and well-formed");
        let mut digest = Digest::new();
        for row in &rows {
            digest.add(row);
        }
        assert_eq!(
            digest.summary(),
            report.digest,
            "the files hold the rows emitted"
        );
        let minutes = std::fs::read_dir(&dir)
            .expect("the day")
            .flat_map(|day| std::fs::read_dir(day.expect("entry").path()).expect("minutes"))
            .count();
        assert!(minutes >= 4, "{minutes} partitions");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}

#[test]
fn q10_without_a_directory_writes_to_a_temporary_one_and_an_unwritable_one_is_refused() {
    let report = runner::start(&spec(Query::Q10, 2))
        .expect("starts without --sink-dir")
        .wait()
        .expect("runs");
    assert_eq!(report.digest.rows, EVENTS * 46 / 50);
    let file = temp_path("not-a-dir");
    std::fs::write(&file, "x").expect("write");
    let message = config_error(&RunSpec {
        sink_dir: Some(file.join("below")),
        ..spec(Query::Q10, 1)
    });
    assert!(message.starts_with("--sink-dir "), "{message}");
    assert!(message.contains("not-a-dir/below"), "{message}");
    std::fs::remove_file(&file).expect("clean up");
}

#[test]
fn q13_reads_its_side_input_file_and_refuses_a_bad_one() {
    // A table of other values: the digest follows the file.
    let path = temp_path("side.csv");
    let text = (0..10_000).fold(String::new(), |mut text, k| {
        text.push_str(&k.to_string());
        text.push_str(",v");
        text.push_str(&(k * 7).to_string());
        text.push('\n');
        text
    });
    std::fs::write(&path, &text).expect("write");
    let side = SideInput::load(&path).expect("valid");
    let mut input = ReferenceInput::generate(EVENTS, EVENT_RATE).expect("valid");
    input.side_input = side;
    let expected = references::digest(Query::Q13, &input)
        .expect("no overflow")
        .expect("q13 is comparable");
    for workers in [1, 2] {
        let report = runner::start(&RunSpec {
            side_input: Some(path.clone()),
            ..spec(Query::Q13, workers)
        })
        .expect("starts")
        .wait()
        .expect("runs");
        assert_eq!(report.digest, expected, "{workers} workers");
    }
    // A malformed line: named with its file and line, before anything runs.
    let bad: String = text.replacen("17,v119\n", "17;v119\n", 1);
    std::fs::write(&path, bad).expect("write");
    let message = config_error(&RunSpec {
        side_input: Some(path.clone()),
        ..spec(Query::Q13, 1)
    });
    assert!(message.contains("side.csv: line 18"), "{message}");
    std::fs::remove_file(&path).expect("clean up");
    let message = config_error(&RunSpec {
        side_input: Some(path.clone()),
        ..spec(Query::Q13, 1)
    });
    assert!(message.contains("side.csv: cannot read it"), "{message}");
}
