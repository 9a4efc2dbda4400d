//! The comparison method on deterministic executors: rounds, ratios within a round, "too
//! close to call", digest disagreement, unsupported queries, interruption, baseline, and the
//! verdict and exports as insta snapshots.

use std::collections::HashMap;

use weir_engine::MetricsSnapshot;
use weir_tui::compare::export::{to_csv, to_json, to_markdown};
use weir_tui::compare::fmt::Style;
use weir_tui::compare::mock::MockExecutor;
use weir_tui::compare::record::CompareReport;
use weir_tui::compare::verdict::render;
use weir_tui::compare::{
    ComparePlan, Executor, Flow, Observer, Outputs, Quiet, RunSlot, baseline, refresh, run_compare,
};
use weir_tui::pretouch::Pretouch;
use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::job::{EventFormat, RunError, RunSpec, SourceMode};
use weir_workloads::report::RunReport;

fn plan(queries: &[&str], engines: &[EngineKind], runs: usize) -> ComparePlan {
    ComparePlan {
        workload: Workload::Nexmark,
        queries: queries
            .iter()
            .map(|q| Query::parse(Workload::Nexmark, q).expect("a catalog query"))
            .collect(),
        engines: engines.to_vec(),
        runs,
        warmup: true,
        workers: 2,
        pinning: true,
        events: 1_000_000,
        rate: None,
        load: None,
        duration_s: None,
        event_rate: 10_000_000,
        source: SourceMode::Generate,
        format: EventFormat::Records,
        command: "weir compare nexmark (test)".to_string(),
        input: None,
        side_input: None,
        started_at: "2026-01-01T00:00:00Z".to_string(),
        flink_cluster: None,
        pretouch: Pretouch::default(),
    }
}

const ALL4: &[EngineKind] = &[
    EngineKind::Weir,
    EngineKind::Timely,
    EngineKind::Differential,
    EngineKind::Flink,
];

fn mock_compare(p: &ComparePlan) -> CompareReport {
    run_compare(p, &mut MockExecutor::new(), &mut Quiet, &Outputs::default())
        .expect("the mock writes no files, so nothing can fail")
}

#[test]
fn verdict_table_snapshot() {
    let report = mock_compare(&plan(&["q5", "q7", "q8", "gen"], ALL4, 5));
    insta::assert_snapshot!("verdict_plain", render(&report, Style::PLAIN));
    let ascii = Style {
        color: false,
        unicode: false,
    };
    insta::assert_snapshot!("verdict_ascii_q5", {
        let r = mock_compare(&plan(&["q5"], ALL4, 5));
        render(&r, ascii)
    });
}

#[test]
fn colour_marks_the_disagreement_red() {
    let report = mock_compare(&plan(&["q7"], ALL4, 3));
    let text = render(
        &report,
        Style {
            color: true,
            unicode: true,
        },
    );
    assert!(
        text.contains("\x1b[1;31mDIGEST DISAGREEMENT on q7"),
        "{text}"
    );
    let plain = render(&report, Style::PLAIN);
    assert!(!plain.contains('\x1b'));
}

#[test]
fn exports_snapshot() {
    let report = mock_compare(&plan(
        &["q5", "q7"],
        &[EngineKind::Weir, EngineKind::Flink],
        3,
    ));
    insta::assert_snapshot!("report_csv", to_csv(&report));
    insta::assert_snapshot!("report_md", to_markdown(&report));
    insta::assert_snapshot!("report_json", to_json(&report));
}

#[test]
fn every_run_is_round_robin_after_one_warmup_per_engine() {
    let report = mock_compare(&plan(&["q5"], ALL4, 3));
    assert_eq!(report.warmups.len(), 4);
    assert_eq!(report.runs.len(), 12);
    let order: Vec<(String, usize)> = report
        .series
        .iter()
        .map(|s| (s.engine.clone(), s.round))
        .collect();
    let expected: Vec<(String, usize)> = (1..=3)
        .flat_map(|r| ALL4.iter().map(move |e| (e.to_string(), r)))
        .collect();
    assert_eq!(order, expected);
    // Warm-ups took positions 1..=4, so measured runs start at 5.
    assert_eq!(report.series[0].order, 5);
    assert!(report.series.iter().all(|s| !s.samples.is_empty()));
}

#[test]
fn digest_disagreement_names_the_run_and_fails() {
    let report = mock_compare(&plan(&["q5", "q7"], ALL4, 3));
    assert!(report.failed());
    assert!(!report.summary.digests_agree);
    let q7 = &report.summary.queries[1];
    assert!(!q7.digest.agree && q7.digest.comparable);
    assert_eq!(q7.digest.groups.len(), 2);
    assert_eq!(q7.digest.groups[1].runs, vec!["flink round 2".to_string()]);
    assert!(report.summary.queries[0].digest.agree);
}

#[test]
fn too_close_to_call_names_no_winner() {
    let report = mock_compare(&plan(&["q8"], ALL4, 5));
    let q = &report.summary.queries[0];
    let top = &q.ratios[0];
    assert!(top.too_close, "{top:?}");
    assert_eq!(q.winner("throughput"), None);
    assert!(q.winners[0].too_close);
    // The clear gaps are still called.
    assert!(q.ratios.iter().any(|r| r.slower == "flink" && !r.too_close));
    assert!(!report.failed());
}

#[test]
fn unsupported_query_is_listed_but_not_a_failure() {
    // The generator-only baseline runs on weir only: the peers refuse it, once each.
    let report = mock_compare(&plan(&["gen"], ALL4, 2));
    let refused: Vec<&str> = report.failures.iter().map(|f| f.engine.as_str()).collect();
    assert_eq!(refused, ["timely", "differential", "flink"]);
    for f in &report.failures {
        assert_eq!(f.kind, "unsupported");
        assert_eq!(f.round, None);
        assert!(f.message.contains("weir's own source"), "{}", f.message);
    }
    assert_eq!(report.summary.queries[0].engines.len(), 1);
    assert!(!report.failed());
}

/// An executor whose throughput per (engine, call) comes from a table.
struct Table(HashMap<EngineKind, Vec<f64>>, HashMap<EngineKind, usize>);

impl Executor for Table {
    fn run(
        &mut self,
        spec: &RunSpec,
        progress: &mut dyn FnMut(&MetricsSnapshot) -> Flow,
    ) -> Result<RunReport, RunError> {
        let mut inner = MockExecutor::new();
        let mut report = inner.run(spec, progress)?;
        let call = self.1.entry(spec.engine).or_default();
        report.throughput_eps = self.0[&spec.engine][*call];
        report.wall_s = report.events as f64 / report.throughput_eps;
        *call += 1;
        Ok(report)
    }
}

#[test]
fn ratios_are_computed_within_rounds_not_from_medians() {
    // Rounds: A/B = 10/10, 20/10, 30/15 -> ratios 1, 2, 2: median 2, but round 1 was a tie,
    // so this is too close to call even though the medians differ by 2x.
    let mut p = plan(&["q5"], &[EngineKind::Weir, EngineKind::Timely], 3);
    p.warmup = false;
    let mut exec = Table(
        HashMap::from([
            (EngineKind::Weir, vec![10.0, 20.0, 30.0]),
            (EngineKind::Timely, vec![10.0, 10.0, 15.0]),
        ]),
        HashMap::new(),
    );
    let report = run_compare(&p, &mut exec, &mut Quiet, &Outputs::default()).unwrap();
    let r = &report.summary.queries[0].ratios[0];
    assert_eq!((r.faster.as_str(), r.slower.as_str()), ("weir", "timely"));
    assert_eq!((r.ratio.median, r.ratio.min, r.ratio.max), (2.0, 1.0, 2.0));
    assert_eq!(r.rounds, 3);
    assert!(r.too_close);

    // Same medians, but every round clearly apart and no overlap: a verdict.
    let mut exec = Table(
        HashMap::from([
            (EngineKind::Weir, vec![20.0, 21.0, 22.0]),
            (EngineKind::Timely, vec![10.0, 10.5, 11.0]),
        ]),
        HashMap::new(),
    );
    let report = run_compare(&p, &mut exec, &mut Quiet, &Outputs::default()).unwrap();
    let r = &report.summary.queries[0].ratios[0];
    assert!(!r.too_close);
    assert!((r.ratio.median - 2.0).abs() < 1e-12 && r.plus_minus.abs() < 1e-12);
    assert_eq!(report.summary.queries[0].winner("throughput"), Some("weir"));
}

/// Stops the comparison at the first snapshot of the `n`-th run.
struct StopAt(usize);

impl Observer for StopAt {
    fn snapshot(&mut self, slot: &RunSlot, _s: &MetricsSnapshot) -> Flow {
        if slot.index >= self.0 {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }
}

#[test]
fn interruption_keeps_finished_runs_and_says_so() {
    let mut p = plan(&["q5"], &[EngineKind::Weir, EngineKind::Timely], 3);
    p.warmup = false;
    let report = run_compare(
        &p,
        &mut MockExecutor::new(),
        &mut StopAt(3),
        &Outputs::default(),
    )
    .unwrap();
    assert!(report.interrupted);
    assert_eq!(report.runs.len(), 2);
    let last = report.failures.last().unwrap();
    assert_eq!((last.kind.as_str(), last.round), ("interrupted", Some(2)));
    assert!(render(&report, Style::PLAIN).contains("interrupted"));
}

#[test]
fn baseline_reports_changes_beyond_noise() {
    let p = plan(&["q5"], &[EngineKind::Weir, EngineKind::Flink], 5);
    let current = mock_compare(&p);
    let mut old = current.clone();
    for run in &mut old.runs {
        if run.engine == "weir" {
            run.throughput_eps /= 1.25; // weir is 25 % faster now
        } else {
            run.throughput_eps *= 1.01; // flink within noise
        }
    }
    refresh(&mut old, None, 0.05);
    let b = baseline::compare(&old, &current, 0.05);
    let weir = b.changes.iter().find(|c| c.engine == "weir").unwrap();
    assert_eq!(weir.verdict, "improved");
    assert!((weir.change - 0.25).abs() < 1e-9);
    let flink = b.changes.iter().find(|c| c.engine == "flink").unwrap();
    assert_eq!(flink.verdict, "within noise");
    assert!(b.setup_differences.is_empty());
    insta::assert_snapshot!("baseline", baseline::render(&b, Style::PLAIN));

    // The other way round it is a regression.
    let back = baseline::compare(&current, &old, 0.05);
    assert_eq!(back.changes[0].verdict, "regressed");
}

#[test]
fn baseline_file_must_be_a_compare_report() {
    let report = mock_compare(&plan(&["q5"], &[EngineKind::Weir], 1));
    let json = to_json(&report);
    assert_eq!(CompareReport::from_json(&json).unwrap(), report);
    let err = CompareReport::from_json("{\"schema_version\": 1}").unwrap_err();
    assert!(err.contains("not a `weir compare` report"), "{err}");
    let err = CompareReport::from_json(&json.replacen(
        "\"schema_version\": 1",
        "\"schema_version\": 9",
        1,
    ))
    .unwrap_err();
    assert!(err.contains("schema_version 9"), "{err}");
    assert!(
        CompareReport::from_json("nope")
            .unwrap_err()
            .contains("not valid JSON")
    );
}

/// When weir is not the fastest (q8: timely is, within noise), the verdict and report.md still
/// show weir against every other engine, not only the winner against the rest.
#[test]
fn weir_against_each_engine_when_it_is_not_the_fastest() {
    let report = mock_compare(&plan(&["q8"], ALL4, 5));
    let q = &report.summary.queries[0];
    assert_eq!(q.ratios[0].faster, "timely", "{:?}", q.ratios);
    let mut against: Vec<&str> = q.weir_vs.iter().map(|v| v.engine.as_str()).collect();
    against.sort_unstable();
    assert_eq!(against, ["differential", "flink", "timely"]);
    let text = render(&report, Style::PLAIN);
    for engine in ["timely", "differential", "flink"] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with("weir ")
                    && l.contains(&format!(" vs {engine}:"))),
            "no weir-vs-{engine} line in\n{text}"
        );
    }
    let timely = q.weir_vs.iter().find(|v| v.engine == "timely").unwrap();
    assert!(timely.too_close && timely.ratio.median < 1.0, "{timely:?}");
    let flink = q.weir_vs.iter().find(|v| v.engine == "flink").unwrap();
    assert!(!flink.too_close && flink.ratio.median > 1.0, "{flink:?}");
    assert!(
        to_markdown(&report).contains("- weir "),
        "report.md lacks the weir lines"
    );
    // When weir is the fastest, the ratios already say it all.
    let q5 = mock_compare(&plan(&["q5"], ALL4, 3));
    assert!(q5.summary.queries[0].weir_vs.is_empty());
}

#[test]
fn latency_that_measures_another_interval_is_marked() {
    let engines = &[EngineKind::Weir, EngineKind::Timely];
    let report = mock_compare(&plan(&["q8"], engines, 3));
    let text = render(&report, Style::PLAIN);
    assert!(
        text.contains("latency: weir emits a q8 row as soon as"),
        "{text}"
    );
    let md = to_markdown(&report);
    assert!(md.contains("- latency: weir emits a q8 row"), "{md}");
    let q7 = mock_compare(&plan(&["q7"], engines, 3));
    assert!(!render(&q7, Style::PLAIN).contains("latency: weir"));
}

/// The mock, except that the ceiling cannot be measured.
struct NoCeiling(MockExecutor);

impl Executor for NoCeiling {
    fn run(
        &mut self,
        spec: &RunSpec,
        progress: &mut dyn FnMut(&MetricsSnapshot) -> Flow,
    ) -> Result<RunReport, RunError> {
        self.0.run(spec, progress)
    }

    fn ceiling(&mut self, _spec: &RunSpec) -> Option<(&'static str, Result<f64, String>)> {
        Some((
            "memory-read",
            Err("out of memory for the replay buffer".to_string()),
        ))
    }
}

#[test]
fn a_ceiling_that_could_not_be_measured_is_reported_not_dropped() {
    let p = plan(&["q5"], &[EngineKind::Weir, EngineKind::Timely], 2);
    let report = run_compare(
        &p,
        &mut NoCeiling(MockExecutor::new()),
        &mut Quiet,
        &Outputs::default(),
    )
    .unwrap();
    assert!(report.ceilings.is_empty());
    let misses: Vec<_> = report
        .failures
        .iter()
        .filter(|f| f.engine == "ceiling (memory-read)")
        .collect();
    assert_eq!(misses.len(), 2, "one per round: {:?}", report.failures);
    assert_eq!(misses[0].kind, "not measured");
    // The engines' comparison stands: a missing ceiling is not an engine's failure.
    assert!(!report.failed());
    let text = render(&report, Style::PLAIN);
    assert!(
        text.contains("ceiling (memory-read)") && text.contains("out of memory for the replay"),
        "{text}"
    );
}

/// The mock, except that its ceiling is `first` events/s when first measured and `then`
/// every time after: a machine whose speed moved after the calibration.
struct SpeedMoves {
    mock: MockExecutor,
    first: f64,
    then: f64,
    measured: usize,
}

impl Executor for SpeedMoves {
    fn run(
        &mut self,
        spec: &RunSpec,
        progress: &mut dyn FnMut(&MetricsSnapshot) -> Flow,
    ) -> Result<RunReport, RunError> {
        self.mock.run(spec, progress)
    }

    fn ceiling(&mut self, _spec: &RunSpec) -> Option<(&'static str, Result<f64, String>)> {
        self.measured += 1;
        let eps = if self.measured == 1 {
            self.first
        } else {
            self.then
        };
        Some(("generator-only", Ok(eps)))
    }
}

/// With `--load`, the ceiling is measured right after the calibration as well as after every
/// round, and a machine that slowed (or sped up) by 10 % or more between the two is called
/// out with the load the engines really ran at; a steady machine gets the plain line.
#[test]
fn a_load_comparison_says_how_the_machine_speed_moved_since_its_calibration() {
    let p = ComparePlan {
        load: Some(0.8),
        duration_s: Some(2.0),
        ..plan(&["q5"], &[EngineKind::Weir, EngineKind::Timely], 3)
    };
    let compare = |first: f64, then: f64| {
        let mut executor = SpeedMoves {
            mock: MockExecutor::new(),
            first,
            then,
            measured: 0,
        };
        run_compare(&p, &mut executor, &mut Quiet, &Outputs::default()).unwrap()
    };

    let slowed = compare(20e6, 17e6);
    let rounds: Vec<usize> = slowed.ceilings.iter().map(|c| c.round).collect();
    assert_eq!(rounds, [0, 1, 2, 3], "at calibration, then once per round");
    let c = slowed.summary.queries[0].ceiling.as_ref().unwrap();
    assert_eq!(c.at_calibration_eps, Some(20e6));
    // The rounds alone make the ceiling's spread (and the engines' shares of it).
    assert_eq!((c.throughput_eps.min, c.throughput_eps.max), (17e6, 17e6));
    assert!((c.speed_change().unwrap() + 0.15).abs() < 1e-9);
    let text = render(&slowed, Style::PLAIN);
    assert!(
        text.contains(
            "machine speed: the generator-only ceiling was 20.00 M ev/s right after the \
             calibration, 17.00 M ev/s (17.00 M … 17.00 M) in the rounds (-15 %): the machine \
             ran the rounds 15 % slower than the calibration; an engine that moved with it ran at \
             about 94 % of its maximum, not the 80 % offered"
        ),
        "{text}"
    );
    let md = to_markdown(&slowed);
    assert!(
        md.contains("- **Speed moved.** Machine speed: the generator-only ceiling was 20.00 M"),
        "{md}"
    );

    let faster = render(&compare(20e6, 23e6), Style::PLAIN);
    assert!(
        faster.contains("(+15 %): the machine ran the rounds 15 % faster than the calibration; an engine that moved with it ran at about 70 %"),
        "{faster}"
    );

    let steady = compare(20e6, 19e6);
    let text = render(&steady, Style::PLAIN);
    assert!(
        text.contains("in the rounds (-5 %)\n"),
        "a 5 % move is within the noise: no warning\n{text}"
    );
    assert!(
        !text.contains("measure again on a quieter machine"),
        "{text}"
    );

    // Without --load there is no calibration, so no ceiling at calibration and no line.
    let mut executor = SpeedMoves {
        mock: MockExecutor::new(),
        first: 20e6,
        then: 17e6,
        measured: 0,
    };
    let unpaced = plan(&["q5"], &[EngineKind::Weir, EngineKind::Timely], 2);
    let report = run_compare(&unpaced, &mut executor, &mut Quiet, &Outputs::default()).unwrap();
    assert!(report.ceilings.iter().all(|c| c.round > 0));
    assert!(!render(&report, Style::PLAIN).contains("machine speed"));
}

/// The mock, recording every spec it is asked to run.
struct Recording(MockExecutor, Vec<RunSpec>);

impl Executor for Recording {
    fn run(
        &mut self,
        spec: &RunSpec,
        progress: &mut dyn FnMut(&MetricsSnapshot) -> Flow,
    ) -> Result<RunReport, RunError> {
        self.1.push(spec.clone());
        self.0.run(spec, progress)
    }
}

#[test]
fn no_run_of_a_comparison_pays_for_operator_metrics() {
    // Unpaced, paced and --load (calibration) runs alike: nothing in a comparison shows
    // operators, so timely's event log stays off.
    let unpaced = plan(&["q5", "q8"], ALL4, 2);
    let paced = ComparePlan {
        rate: Some(1_000_000),
        ..plan(&["q5"], ALL4, 2)
    };
    let loaded = ComparePlan {
        load: Some(0.8),
        duration_s: Some(2.0),
        ..plan(&["q5"], ALL4, 2)
    };
    for p in [unpaced, paced, loaded] {
        let mut executor = Recording(MockExecutor::new(), Vec::new());
        run_compare(&p, &mut executor, &mut Quiet, &Outputs::default())
            .expect("the mock writes no files");
        assert!(executor.1.len() >= 2 * ALL4.len(), "{}", executor.1.len());
        for spec in &executor.1 {
            assert!(
                !spec.operator_metrics,
                "{} {} (rate {:?}) asked for operator metrics",
                spec.engine, spec.query, spec.rate
            );
        }
    }
}

/// Results fired by the end of input (q11's sessions in the mock) are reported on a line of
/// their own, in the table and the Markdown export alike; a query without them has no line.
#[test]
fn the_end_of_input_flush_is_reported_apart_from_the_latency_columns() {
    let engines = &[
        EngineKind::Weir,
        EngineKind::Timely,
        EngineKind::Differential,
    ];
    let report = mock_compare(&plan(&["q11"], engines, 3));
    let text = render(&report, Style::PLAIN);
    let line = text
        .lines()
        .find(|l| l.contains("end of input (every window still open fired at once"))
        .unwrap_or_else(|| panic!("no end-of-input line:\n{text}"));
    assert!(line.contains("weir 100,000 results within 3"), "{line}");
    assert!(line.contains("timely 100,000 results within 3"), "{line}");
    assert!(
        !line.contains("differential"),
        "differential observed no latency in the mock, so no flush either: {line}"
    );
    let md = to_markdown(&report);
    assert!(md.contains("- end of input (every window"), "{md}");
    let csv = to_csv(&report);
    let header: Vec<&str> = csv.lines().next().expect("a header").split(',').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let (results, max) = (
        column("end_of_input_results"),
        column("end_of_input_max_ns"),
    );
    for row in csv.lines().skip(1) {
        let fields: Vec<&str> = row.split(',').collect();
        if fields[2] == "differential" {
            assert_eq!((fields[results], fields[max]), ("", ""), "{row}");
        } else {
            assert_eq!(fields[results], "100000", "{row}");
            let max: u64 = fields[max].parse().expect("a number of ns");
            assert!((300_000_000..400_000_000).contains(&max), "{row}");
        }
    }
    let q7 = mock_compare(&plan(&["q7"], engines, 3));
    assert!(!render(&q7, Style::PLAIN).contains("end of input (every"));
    assert!(!to_markdown(&q7).contains("end of input (every"));
}

/// A paced run that kept up while a worker was busy nearly all of it ran at the engine's limit:
/// the verdict and the Markdown export say so for that engine, and only for it.
#[test]
fn a_paced_run_without_headroom_is_flagged() {
    let paced = ComparePlan {
        rate: Some(1_000_000),
        ..plan(&["q5"], &[EngineKind::Weir, EngineKind::Timely], 3)
    };
    let mut report = mock_compare(&paced);
    let render_pace = |report: &CompareReport| {
        render(report, Style::PLAIN)
            .lines()
            .filter(|l| l.contains("offered"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let before = render_pace(&report);
    assert!(
        before.iter().all(|l| l.ends_with("sustained in every run")),
        "the mock's workers are busy 90 % of each run: {before:?}"
    );
    // Two of weir's three measured runs: worker 1 busy 97 % of the run.
    let mut flagged = 0;
    for run in report.runs.iter_mut().filter(|r| r.engine == "weir") {
        if flagged < 2 {
            run.per_worker[1].busy_s = 0.97 * run.wall_s;
            run.per_worker[1].idle_s = 0.03 * run.wall_s;
            flagged += 1;
        }
    }
    refresh(&mut report, None, 0.05);
    let after = render_pace(&report);
    let weir = after
        .iter()
        .find(|l| l.trim_start().starts_with("weir"))
        .expect("weir's pace line");
    assert!(weir.contains("NO HEADROOM in 2 of 3"), "{weir}");
    let timely = after
        .iter()
        .find(|l| l.trim_start().starts_with("timely"))
        .expect("timely's pace line");
    assert!(timely.ends_with("sustained in every run"), "{timely}");
    let md = to_markdown(&report);
    assert!(md.contains("**no headroom in 2 of 3**"), "{md}");
}
