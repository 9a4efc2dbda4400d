//! Plots of a comparison, each as SVG and PNG (plotters):
//! - `throughput.{svg,png}`: median throughput per engine per query, bars with min-max;
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
use plotters::style::FontStyle;

use super::files::{ExportError, write_atomic};
use super::fmt::{fmt_count, fmt_ns, fmt_si};
use super::record::CompareReport;
use super::summary::{QuerySummary, Spread};

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
    both(dir, "throughput", &Plot::Throughput(queries), &title)?;
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

/// One of the plots.
enum Plot<'a> {
    Throughput(&'a [QuerySummary]),
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
        Plot::Throughput(queries) => throughput(root, queries, title),
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

fn throughput<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    queries: &[QuerySummary],
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
    let per_group = engines.len() as i32 + 1;
    let slots = queries.len() as i32 * per_group - 1;
    let y_max = queries
        .iter()
        .flat_map(|q| q.engines.iter().map(|e| e.throughput_eps.max))
        .fold(1.0, f64::max)
        * 1.15;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("Throughput (median, min-max) · {title}"),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(80)
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
        .y_desc("events/s")
        .y_label_formatter(&|v| fmt_si(*v))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    for (ei, engine) in engines.iter().enumerate() {
        let color = engine_color(engine);
        let bars: Vec<(i32, f64, f64, f64)> = queries
            .iter()
            .enumerate()
            .filter_map(|(qi, q)| {
                q.engine(engine).map(|e| {
                    let s = e.throughput_eps;
                    (qi as i32 * per_group + ei as i32, s.median, s.min, s.max)
                })
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
            .map_err(err)?
            .label(*engine)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
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
        chart
            .draw_series(bars.iter().map(|&(slot, median, _, max)| {
                Text::new(
                    fmt_si(median),
                    (SegmentValue::CenterOf(slot), max + y_max * 0.015),
                    ("sans-serif", 14).into_font().color(&BLACK).pos(
                        plotters::style::text_anchor::Pos::new(
                            plotters::style::text_anchor::HPos::Center,
                            plotters::style::text_anchor::VPos::Bottom,
                        ),
                    ),
                )
            }))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
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
        .y_label_area_size(80)
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
    let runs: Vec<(&str, Vec<(f64, f64)>)> = report
        .series
        .iter()
        .filter(|s| s.query == q.query)
        .map(|s| (s.engine.as_str(), rates(&s.samples)))
        .collect();
    let x_max = runs
        .iter()
        .flat_map(|(_, r)| r.iter().map(|p| p.0))
        .fold(0.0, f64::max)
        .max(0.1)
        * 1.05;
    let y_max = runs
        .iter()
        .flat_map(|(_, r)| r.iter().map(|p| p.1))
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
        .y_label_area_size(80)
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
    for (engine, points) in &runs {
        let color = engine_color(engine);
        let series = chart
            .draw_series(LineSeries::new(
                points.clone(),
                color.mix(0.8).stroke_width(2),
            ))
            .map_err(err)?;
        if !labelled.contains(engine) {
            labelled.push(engine);
            series.label(*engine).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
            });
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
    root.present().map_err(err)
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
