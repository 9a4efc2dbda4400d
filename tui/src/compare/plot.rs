//! Plots of a comparison, each as SVG and PNG (plotters):
//! - `throughput.{svg,png}`: median throughput per engine per query, bars with min-max;
//! - `cpu.{svg,png}`: the same for events per CPU-second (only when some engine measured its
//!   CPU time);
//! - `latency-<query>.{svg,png}`: latency p50/p99/p99.9/max per engine (log scale), medians
//!   with min-max (only when some engine observed latency);
//! - `timeline-<query>.{svg,png}`: throughput over time of every measured run.
//!
//! Text needs a font to measure (both formats) and to rasterise (PNG). A fresh machine may have
//! no system fonts, so none are looked up: the Ubuntu Light face shipped inside the
//! `epaint_default_fonts` crate is registered with plotters' `ab_glyph` backend, for every
//! family name plotters asks for.
//!
//! **Layer.** Output: imports [`files`](super::files), [`fmt`](super::fmt) and the data types
//! ([`record`](super::record), [`summary`](super::summary)). [`export`](super::export) calls
//! [`write_plots`] with the other files; the live view borrows [`engine_color`].

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, FontTransform};

use super::files::{ExportError, write_atomic};
use super::fmt::{fmt_count, fmt_ns, fmt_si};
use super::record::CompareReport;
use super::summary::{EngineSummary, QuerySummary, Spread};

const SIZE: (u32, u32) = (1024, 576);

/// The colour of an engine in every plot (weir has the accent colour).
pub fn engine_color(engine: &str) -> RGBColor {
    match engine {
        "weir" => RGBColor(230, 97, 1),
        "timely" => RGBColor(33, 102, 172),
        "differential" => RGBColor(27, 158, 119),
        "flink" => RGBColor(117, 112, 179),
        _ => RGBColor(120, 120, 120),
    }
}

fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for family in ["sans-serif", "serif", "monospace"] {
            for style in [FontStyle::Normal, FontStyle::Bold] {
                // The bytes are a valid TrueType font shipped by the crate; a failure here would
                // only mean text is missing from the plots, which `write_plots` then reports.
                let _ = plotters::style::register_font(
                    family,
                    style,
                    epaint_default_fonts::UBUNTU_LIGHT,
                );
            }
        }
    });
}

type DrawResult = Result<(), String>;
/// `(median, min, max)`.
type MedMinMax = (f64, f64, f64);

/// Writes every plot of `report` into `dir`.
///
/// # Errors
/// When a plot cannot be drawn or written.
pub fn write_plots(report: &CompareReport, dir: &Path) -> Result<(), ExportError> {
    register_fonts();
    let queries = &report.summary.queries;
    if queries.is_empty() {
        return Ok(());
    }
    let title = format!(
        "{} · {} workers · {} events · {}",
        report.plan.workload,
        report.plan.workers,
        fmt_count(report.plan.events),
        report.plan.source
    );
    both(
        dir,
        "throughput",
        &Plot::Bars(queries, Metric::Throughput),
        &title,
    )?;
    // Per core as well as per wall second: only when some engine measured its CPU time.
    if queries
        .iter()
        .flat_map(|q| &q.engines)
        .any(|e| e.events_per_cpu_s.is_some())
    {
        both(
            dir,
            "cpu",
            &Plot::Bars(queries, Metric::PerCpuSecond),
            &title,
        )?;
    }
    for q in queries {
        if q.engines.iter().any(|e| e.latency_ns.is_some()) {
            both(
                dir,
                &format!("latency-{}", q.query),
                &Plot::Latency(q),
                &title,
            )?;
        }
        both(
            dir,
            &format!("timeline-{}", q.query),
            &Plot::Timeline(report, q),
            &title,
        )?;
    }
    Ok(())
}

/// What a bar plot shows per engine and query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Metric {
    /// Events per second of wall time (`throughput.svg`).
    Throughput,
    /// Events per CPU-second of the engine's own threads or processes (`cpu.svg`).
    PerCpuSecond,
}

impl Metric {
    fn of(self, e: &EngineSummary) -> Option<Spread> {
        match self {
            Metric::Throughput => Some(e.throughput_eps),
            Metric::PerCpuSecond => e.events_per_cpu_s,
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Metric::Throughput => "Throughput (median, min-max)",
            Metric::PerCpuSecond => "Events per CPU-second (median, min-max)",
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Metric::Throughput => "events/s",
            Metric::PerCpuSecond => "events per CPU-second",
        }
    }
}

/// One of the plots.
enum Plot<'a> {
    Bars(&'a [QuerySummary], Metric),
    Latency(&'a QuerySummary),
    Timeline(&'a CompareReport, &'a QuerySummary),
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &Plot<'_>,
    title: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    match plot {
        Plot::Bars(queries, metric) => bars(root, queries, *metric, title),
        Plot::Latency(q) => latency(root, q, title),
        Plot::Timeline(report, q) => timeline(root, report, q, title),
    }
}

/// Draws one plot twice: into `<name>.svg` and `<name>.png`.
fn both(dir: &Path, name: &str, plot: &Plot<'_>, title: &str) -> Result<(), ExportError> {
    let svg_path = dir.join(format!("{name}.svg"));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw(&root, plot, title).map_err(|message| ExportError::Plot {
            path: svg_path.clone(),
            message,
        })?;
    }
    write_atomic(&svg_path, svg.as_bytes())?;

    let png_path = dir.join(format!("{name}.png"));
    // The image encoder picks the format from the extension, so the temporary name keeps it.
    let tmp = dir.join(format!(".tmp-{}-{name}.png", std::process::id()));
    {
        let root = BitMapBackend::new(&tmp, SIZE).into_drawing_area();
        draw(&root, plot, title).map_err(|message| ExportError::Plot {
            path: png_path.clone(),
            message,
        })?;
    }
    std::fs::rename(&tmp, &png_path).map_err(|source| ExportError::Io {
        path: png_path,
        source,
    })
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// How the value labels above the bars are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValueLabels {
    /// Horizontal, centred over the bar: every label fits its bar's width.
    Flat,
    /// Rotated to run upwards: some label is wider than a bar (many queries or engines).
    Upright,
}

/// The bars of `metric`: per query, one bar per engine (median) with a min-max error bar and
/// the median printed above it (an engine without the figure has no bar). The legend sits in
/// a band of its own under the title, never over the bars; value labels turn upright when a
/// bar is narrower than its label, and the y axis leaves room above the tallest bar for them.
fn bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    queries: &[QuerySummary],
    metric: Metric,
    title: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let mut engines: Vec<&str> = Vec::new();
    for q in queries {
        for e in &q.engines {
            if !engines.contains(&e.engine.as_str()) {
                engines.push(&e.engine);
            }
        }
    }
    let (head, body) = root.split_vertically(76);
    head.draw(&Text::new(
        format!("{} · {title}", metric.heading()),
        (16, 12),
        ("sans-serif", 22).into_font(),
    ))
    .map_err(err)?;
    legend(&head, &engines, 16, 46)?;

    let per_group = engines.len() as i32 + 1;
    let slots = queries.len() as i32 * per_group - 1;
    let label_font = ("sans-serif", 14).into_font();
    let labels: Vec<String> = queries
        .iter()
        .flat_map(|q| q.engines.iter().filter_map(|e| metric.of(e)))
        .map(|s| fmt_si(s.median))
        .collect();
    let widest = labels
        .iter()
        .filter_map(|l| body.estimate_text_size(l, &label_font.clone().into()).ok())
        .map(|(w, _)| w)
        .max()
        .unwrap_or(0);
    let (body_w, body_h) = body.dim_in_pixel();
    // Plotting area: the body less the margins (16 each side) and the label areas.
    let plot_w = f64::from(body_w.saturating_sub(32 + 80)).max(1.0);
    let plot_h = f64::from(body_h.saturating_sub(32 + 36)).max(1.0);
    let slot_px = plot_w / f64::from(slots.max(1));
    let mode = if f64::from(widest) + 6.0 <= slot_px {
        ValueLabels::Flat
    } else {
        ValueLabels::Upright
    };
    let label_px = match mode {
        ValueLabels::Flat => 22.0,
        ValueLabels::Upright => f64::from(widest) + 12.0,
    };
    let top = queries
        .iter()
        .flat_map(|q| q.engines.iter().filter_map(|e| metric.of(e)))
        .map(|s| s.max)
        .fold(1.0, f64::max);
    // The tallest error bar ends `label_px` below the top of the plot.
    let y_max = top / (1.0 - (label_px / plot_h).min(0.6)) * 1.02;
    let mut chart = ChartBuilder::on(&body)
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(96)
        .build_cartesian_2d((0..slots - 1).into_segmented(), 0.0..y_max)
        .map_err(err)?;
    let centre = |qi: usize| qi as i32 * per_group + (per_group - 1) / 2;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(slots as usize + 1)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(s) => (0..queries.len())
                .find(|&qi| centre(qi) == *s)
                .map_or_else(String::new, |qi| queries[qi].query.clone()),
            _ => String::new(),
        })
        .y_desc(metric.unit())
        .y_label_formatter(&|v| fmt_si(*v))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    let gap = y_max * 4.0 / plot_h;
    for (ei, engine) in engines.iter().enumerate() {
        let color = engine_color(engine);
        let bars: Vec<(i32, f64, f64, f64)> = queries
            .iter()
            .enumerate()
            .filter_map(|(qi, q)| {
                let s = metric.of(q.engine(engine)?)?;
                Some((qi as i32 * per_group + ei as i32, s.median, s.min, s.max))
            })
            .collect();
        chart
            .draw_series(bars.iter().map(|&(slot, median, _, _)| {
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(slot), 0.0),
                        (SegmentValue::Exact(slot + 1), median),
                    ],
                    color.filled(),
                );
                bar.set_margin(0, 0, 4, 4);
                bar
            }))
            .map_err(err)?;
        chart
            .draw_series(bars.iter().map(|&(slot, median, min, max)| {
                ErrorBar::new_vertical(
                    SegmentValue::CenterOf(slot),
                    min,
                    median,
                    max,
                    BLACK.stroke_width(2),
                    10,
                )
            }))
            .map_err(err)?;
        let style = match mode {
            ValueLabels::Flat => label_font
                .clone()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Bottom)),
            ValueLabels::Upright => label_font
                .clone()
                .transform(FontTransform::Rotate270)
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        };
        chart
            .draw_series(bars.iter().map(|&(slot, median, _, max)| {
                Text::new(
                    fmt_si(median),
                    (SegmentValue::CenterOf(slot), max + gap),
                    style.clone(),
                )
            }))
            .map_err(err)?;
    }
    root.present().map_err(err)
}

/// A one-row legend (a colour swatch and the engine's name per engine) starting at `(x, y)`.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    engines: &[&str],
    x: i32,
    y: i32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let font = ("sans-serif", 15).into_font();
    let mut at = x;
    for engine in engines {
        let color = engine_color(engine);
        area.draw(&Rectangle::new(
            [(at, y), (at + 14, y + 12)],
            color.filled(),
        ))
        .map_err(err)?;
        area.draw(&Text::new(
            engine.to_string(),
            (at + 20, y - 1),
            font.clone(),
        ))
        .map_err(err)?;
        let (w, _) = area
            .estimate_text_size(engine, &font.clone().into())
            .map_err(err)?;
        at += 20 + w as i32 + 24;
    }
    Ok(())
}

fn latency<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    q: &QuerySummary,
    title: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let names = ["p50", "p99", "p99.9", "max"];
    let points: Vec<(&str, [MedMinMax; 4])> = q
        .engines
        .iter()
        .filter_map(|e| {
            e.latency_ns.map(|l| {
                let t = |s: Spread| (s.median, s.min, s.max);
                (e.engine.as_str(), [t(l.p50), t(l.p99), t(l.p999), t(l.max)])
            })
        })
        .collect();
    let lo = points
        .iter()
        .flat_map(|(_, p)| p.iter().map(|x| x.1))
        .fold(f64::INFINITY, f64::min)
        .max(1.0)
        / 1.5;
    let hi = points
        .iter()
        .flat_map(|(_, p)| p.iter().map(|x| x.2))
        .fold(lo * 10.0, f64::max)
        * 1.5;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("Latency {} (median, min-max over runs) · {title}", q.query),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(96)
        .build_cartesian_2d((0..3i32).into_segmented(), (lo..hi).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(5)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => names.get(*i as usize).map_or("", |n| n).to_string(),
            _ => String::new(),
        })
        .y_desc("latency")
        .y_label_formatter(&|v| fmt_ns(*v))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    for (engine, p) in &points {
        let color = engine_color(engine);
        let line: Vec<(SegmentValue<i32>, f64)> = (0..4)
            .map(|i| (SegmentValue::CenterOf(i as i32), p[i].0))
            .collect();
        chart
            .draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))
            .map_err(err)?
            .label(*engine)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
            });
        chart
            .draw_series(
                line.iter()
                    .map(|(x, y)| Circle::new((x.clone(), *y), 4, color.filled())),
            )
            .map_err(err)?;
        chart
            .draw_series((0..4).map(|i| {
                ErrorBar::new_vertical(
                    SegmentValue::CenterOf(i as i32),
                    p[i].1,
                    p[i].0,
                    p[i].2,
                    color.stroke_width(1),
                    8,
                )
            }))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// Rate between successive samples: `(midpoint seconds, events/s)`.
pub fn rates(samples: &[(f64, u64)]) -> Vec<(f64, f64)> {
    samples
        .windows(2)
        .filter_map(|w| {
            let dt = w[1].0 - w[0].0;
            (dt > 0.0).then(|| {
                (
                    f64::midpoint(w[0].0, w[1].0),
                    w[1].1.saturating_sub(w[0].1) as f64 / dt,
                )
            })
        })
        .collect()
}

fn timeline<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    report: &CompareReport,
    q: &QuerySummary,
    title: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let runs = timeline_runs(report, &q.query);
    let x_max = runs
        .iter()
        .flat_map(|r| r.points.iter().map(|p| p.0))
        .fold(0.0, f64::max)
        .max(0.1)
        * 1.05;
    let y_max = runs
        .iter()
        .flat_map(|r| r.points.iter().map(|p| p.1))
        .fold(1.0, f64::max)
        * 1.15;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!(
                "Throughput over time {} (every measured run) · {title}",
                q.query
            ),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(96)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the run's clock started")
        .y_desc("events/s")
        .y_label_formatter(&|v| fmt_si(*v))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    let mut labelled: Vec<&str> = Vec::new();
    for run in &runs {
        let (engine, color) = (run.engine, engine_color(run.engine));
        let series = chart
            .draw_series(LineSeries::new(
                run.points.clone(),
                color.mix(0.8).stroke_width(2),
            ))
            .map_err(err)?;
        if !labelled.contains(&engine) {
            labelled.push(engine);
            series.label(engine).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
            });
        }
        if run.mean_only {
            chart
                .draw_series(
                    run.points
                        .iter()
                        .map(|&p| Circle::new(p, 4, color.filled())),
                )
                .map_err(err)?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    if let Some(note) = short_runs_note(&runs) {
        root.draw(&Text::new(
            note,
            (100, 44),
            ("sans-serif", 15).into_font().color(&BLACK),
        ))
        .map_err(err)?;
    }
    root.present().map_err(err)
}

/// One measured run on the timeline.
struct TimelineRun<'a> {
    engine: &'a str,
    round: usize,
    /// `(seconds, events/s)`.
    points: Vec<(f64, f64)>,
    /// Too short for two rates between samples: drawn as its mean rate over its wall time.
    mean_only: bool,
}

/// The runs of `query` on the timeline. A run needs two rates (three samples, ~100 ms apart)
/// to draw a line; a shorter one is drawn flat at its mean rate (events / wall time, from its
/// report) from 0 to its wall time, with markers, and named in a note, so no run vanishes.
fn timeline_runs<'a>(report: &'a CompareReport, query: &str) -> Vec<TimelineRun<'a>> {
    report
        .series
        .iter()
        .zip(&report.runs)
        .filter(|(s, _)| s.query == query)
        .map(|(s, run)| {
            let points = rates(&s.samples);
            let mean_only = points.len() < 2;
            TimelineRun {
                engine: &s.engine,
                round: s.round,
                points: if mean_only {
                    vec![(0.0, run.throughput_eps), (run.wall_s, run.throughput_eps)]
                } else {
                    points
                },
                mean_only,
            }
        })
        .collect()
}

/// "weir (rounds 1-3), timely (round 2): shorter than two samples, drawn at their mean rate".
fn short_runs_note(runs: &[TimelineRun<'_>]) -> Option<String> {
    let mut engines: Vec<(&str, Vec<usize>)> = Vec::new();
    for run in runs.iter().filter(|r| r.mean_only) {
        match engines.iter_mut().find(|(e, _)| *e == run.engine) {
            Some((_, rounds)) => rounds.push(run.round),
            None => engines.push((run.engine, vec![run.round])),
        }
    }
    if engines.is_empty() {
        return None;
    }
    let named: Vec<String> = engines
        .iter()
        .map(|(engine, rounds)| {
            let list: Vec<String> = rounds.iter().map(ToString::to_string).collect();
            let word = if rounds.len() == 1 { "round" } else { "rounds" };
            format!("{engine} ({word} {})", list.join(", "))
        })
        .collect();
    Some(format!(
        "{}: too short for a rate over time (samples every 100 ms); drawn flat at the mean rate, with dots",
        named.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_between_samples() {
        let r = rates(&[(0.0, 0), (0.5, 100), (1.0, 300), (1.0, 300)]);
        assert_eq!(r, vec![(0.25, 200.0), (0.75, 400.0)]);
    }
}
