//! The files `--out DIR` gets: written after every run, readable back, plots that are real
//! SVG and PNG images (rendered with the embedded font, no system fonts needed).

use std::fs;
use std::path::Path;

use weir_engine::MetricsSnapshot;
use weir_tui::compare::mock::MockExecutor;
use weir_tui::compare::record::CompareReport;
use weir_tui::compare::{ComparePlan, Flow, Observer, Outputs, RunSlot, run_compare};
use weir_tui::pretouch::Pretouch;
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
        input: None,
        side_input: None,
        started_at: "2026-01-01T00:00:00Z".to_string(),
        flink_cluster: None,
        pretouch: Pretouch::default(),
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

/// A run shorter than the 100 ms sampling interval has too few samples for a rate over time;
/// the timeline must still show it (at its mean rate) and say so, not drop it silently.
#[test]
fn timeline_shows_runs_shorter_than_one_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let mut report = run_compare(
        &plan(),
        &mut MockExecutor::new(),
        &mut weir_tui::compare::Quiet,
        &Outputs::default(),
    )
    .unwrap();
    // weir's and timely's runs of q5 were over before a second sample.
    for s in &mut report.series {
        if s.query == "q5" && s.engine != "flink" {
            s.samples.truncate(1);
        }
    }
    weir_tui::compare::plot::write_plots(&report, tmp.path()).unwrap();
    let svg = fs::read_to_string(tmp.path().join("timeline-q5.svg")).unwrap();
    assert!(
        svg.contains("weir (rounds 1, 2), timely (rounds 1, 2): too short"),
        "no note on the short runs in timeline-q5.svg"
    );
    // Each short run is drawn: its flat line and dots in the engine's colour.
    let weir = "#E66101";
    let dots = svg.matches("<circle").filter(|_| true).count();
    assert!(dots >= 8, "{dots} dots; expected 2 per short run");
    assert!(svg.matches(weir).count() >= 4, "weir's runs are missing");
    let long = fs::read_to_string(tmp.path().join("timeline-q8.svg")).unwrap();
    assert!(!long.contains("too short"), "q8's runs were long enough");
}

/// A text element of an SVG plot and its estimated box (x0, y0, x1, y1) in pixels.
#[derive(Debug)]
struct TextBox {
    text: String,
    rect: (f64, f64, f64, f64),
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = start + tag[start..].find('"')?;
    Some(tag[start..end].to_string())
}

/// Every `<text>` of `svg` with a box estimated from its font size (Ubuntu Light: about 0.55 em
/// per character, 1 em high), its anchor and its rotation.
fn text_boxes(svg: &str) -> Vec<TextBox> {
    let mut boxes = Vec::new();
    for piece in svg.split("<text").skip(1) {
        let Some(close) = piece.find('>') else {
            continue;
        };
        let tag = &piece[..close];
        let text = piece[close + 1..]
            .split("</text>")
            .next()
            .unwrap_or("")
            .to_string();
        if text.trim().is_empty() {
            continue;
        }
        let num = |n: &str| attr(tag, n).and_then(|v| v.parse::<f64>().ok());
        let (Some(x), Some(y), Some(size)) = (num("x"), num("y"), num("font-size")) else {
            continue;
        };
        let w = text.chars().count() as f64 * 0.55 * size;
        let x0 = match attr(tag, "text-anchor").as_deref() {
            Some("middle") => x - w / 2.0,
            Some("end") => x - w,
            _ => x,
        };
        // plotters writes top-aligned text with dy="0.76em", centred with dy="0.5ex",
        // bottom-aligned with no dy (y is the baseline).
        let y0 = match attr(tag, "dy").as_deref() {
            Some("0.76em") => y,
            Some("0.5ex") => y - size / 2.0,
            _ => y - size,
        };
        let rect = if attr(tag, "transform").is_some_and(|t| t.starts_with("rotate(270")) {
            // Rotated a quarter turn counter-clockwise about (x, y): width becomes height.
            let (dx, dy) = (x0 - x, y0 - y);
            let (ax, ay) = (x + dy, y - dx);
            let (bx, by) = (x + dy + size, y - dx - w);
            (ax.min(bx), ay.min(by), ax.max(bx), ay.max(by))
        } else {
            (x0, y0, x0 + w, y0 + size)
        };
        boxes.push(TextBox { text, rect });
    }
    boxes
}

fn overlap(a: &TextBox, b: &TextBox) -> bool {
    let (a, b) = (a.rect, b.rect);
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// With every query and four engines the bars are narrow: no text of the throughput plot
/// (title, legend, axis labels, the value over each bar) may overlap another.
#[test]
fn throughput_plot_labels_do_not_overlap() {
    let tmp = tempfile::tempdir().unwrap();
    let mut plan = plan();
    plan.queries = vec![
        Query::Q0,
        Query::Q1,
        Query::Q2,
        Query::Q3,
        Query::Q4,
        Query::Q5,
        Query::Q7,
        Query::Q8,
        Query::Q11,
        Query::Q12,
    ];
    plan.engines = vec![
        EngineKind::Weir,
        EngineKind::Timely,
        EngineKind::Differential,
        EngineKind::Flink,
    ];
    plan.runs = 1;
    let outputs = Outputs {
        dir: Some(tmp.path().to_path_buf()),
        ..Outputs::default()
    };
    run_compare(
        &plan,
        &mut MockExecutor::new(),
        &mut weir_tui::compare::Quiet,
        &outputs,
    )
    .unwrap();
    let svg = fs::read_to_string(tmp.path().join("throughput.svg")).unwrap();
    let boxes = text_boxes(&svg);
    assert!(boxes.len() > 40, "{} texts", boxes.len());
    let mut clashes = Vec::new();
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            if overlap(a, b) {
                clashes.push(format!("{:?} / {:?}", a.text, b.text));
            }
        }
    }
    assert!(
        clashes.is_empty(),
        "overlapping labels:\n{}",
        clashes.join("\n")
    );
}
