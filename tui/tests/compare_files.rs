//! The files `--out DIR` gets: written after every run, readable back, plots that are real
//! SVG and PNG images (rendered with the embedded font, no system fonts needed).

use std::fs;
use std::path::Path;

use weir_engine::MetricsSnapshot;
use weir_tui::compare::mock::MockExecutor;
use weir_tui::compare::record::CompareReport;
use weir_tui::compare::{ComparePlan, Flow, Observer, Outputs, RunSlot, run_compare};
use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::job::{EventFormat, RunSpec, SourceMode};
use weir_workloads::report::RunReport;

fn plan() -> ComparePlan {
    ComparePlan {
        workload: Workload::Nexmark,
        queries: vec![Query::Q5, Query::Q8],
        engines: vec![EngineKind::Weir, EngineKind::Timely, EngineKind::Flink],
        runs: 2,
        warmup: true,
        workers: 1,
        pinning: false,
        events: 500_000,
        rate: None,
        load: None,
        duration_s: None,
        event_rate: 10_000_000,
        source: SourceMode::Generate,
        format: EventFormat::Records,
        command: "test".to_string(),
        started_at: "2026-01-01T00:00:00Z".to_string(),
    }
}

/// Before each run, checks that the files hold every run finished so far.
struct CheckFiles<'a> {
    dir: &'a Path,
    finished: usize,
    checked: usize,
}

impl Observer for CheckFiles<'_> {
    fn run_started(&mut self, _slot: &RunSlot, _spec: &RunSpec, _report: &CompareReport) {
        if self.finished == 0 {
            assert!(!self.dir.join("report.json").exists());
            return;
        }
        let text = fs::read_to_string(self.dir.join("report.json"))
            .expect("report.json is written after the first run");
        let on_disk = CompareReport::from_json(&text).expect("report.json reads back");
        assert_eq!(on_disk.runs.len() + on_disk.warmups.len(), self.finished);
        let csv = fs::read_to_string(self.dir.join("report.csv"))
            .expect("report.csv is written after the first run");
        assert_eq!(csv.lines().count(), 1 + on_disk.runs.len());
        self.checked += 1;
    }
    fn snapshot(&mut self, _slot: &RunSlot, _s: &MetricsSnapshot) -> Flow {
        Flow::Continue
    }
    fn run_finished(&mut self, _s: &RunSlot, _r: Result<&RunReport, &str>, _c: &CompareReport) {
        self.finished += 1;
    }
}

#[test]
fn files_are_rewritten_after_every_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let outputs = Outputs {
        dir: Some(dir.clone()),
        ..Outputs::default()
    };
    let mut check = CheckFiles {
        dir: &dir,
        finished: 0,
        checked: 0,
    };
    let report = run_compare(&plan(), &mut MockExecutor::new(), &mut check, &outputs).unwrap();
    assert_eq!(check.checked, plan().total_runs() - 1);
    let text = fs::read_to_string(dir.join("report.json")).unwrap();
    assert_eq!(CompareReport::from_json(&text).unwrap(), report);
    // No temporary file is left behind.
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn plots_are_valid_svg_and_png() {
    let tmp = tempfile::tempdir().unwrap();
    let outputs = Outputs {
        dir: Some(tmp.path().to_path_buf()),
        ..Outputs::default()
    };
    run_compare(
        &plan(),
        &mut MockExecutor::new(),
        &mut weir_tui::compare::Quiet,
        &outputs,
    )
    .unwrap();
    for name in [
        "throughput",
        "latency-q5",
        "latency-q8",
        "timeline-q5",
        "timeline-q8",
    ] {
        let svg = fs::read_to_string(tmp.path().join(format!("{name}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{name}.svg: {}", &svg[..40]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("weir") && svg.contains("timely") && svg.contains("flink"));
        assert!(svg.len() > 5_000, "{name}.svg is only {} bytes", svg.len());

        let png = fs::read(tmp.path().join(format!("{name}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}.png");
        // IHDR: width and height, big-endian, right after the signature and chunk header.
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert_eq!((width, height), (1024, 576));
        // A blank white image compresses to a few hundred bytes; text and bars do not.
        assert!(png.len() > 20_000, "{name}.png is only {} bytes", png.len());
    }
    assert!(tmp.path().join("report.md").exists());
}

#[test]
fn out_dir_that_is_a_file_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("taken");
    fs::write(&file, "x").unwrap();
    let outputs = Outputs {
        dir: Some(file),
        ..Outputs::default()
    };
    let err = run_compare(
        &plan(),
        &mut MockExecutor::new(),
        &mut weir_tui::compare::Quiet,
        &outputs,
    )
    .unwrap_err();
    assert!(err.to_string().contains("taken"), "{err}");
}
