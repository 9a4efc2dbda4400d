//! Result latency: p50 / p99 / p99.9 / max and a histogram with log-spaced buckets, over all
//! results since the start (the engine's cumulative hdrhistogram).

use hdrhistogram::Histogram;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::fmt;
use super::panel::{self, message};
use super::state::ConsoleState;
use super::theme::Theme;

/// Draws the latency panel into `area` (with its border).
pub fn render(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let Some(inner) = panel::open(state, theme, " latency (since start) ", area, buf) else {
        return;
    };
    let Some(hist) = state.latest().latency_ns.as_ref() else {
        panel::unavailable(state, theme, "result latency", inner, buf);
        return;
    };
    if hist.is_empty() {
        message(theme, "no results yet (windows have not fired)", inner, buf);
        return;
    }
    let lines = percentile_lines(hist, theme, inner.width);
    let used = lines.len() as u16;
    Paragraph::new(lines).render(inner, buf);
    if inner.height > used + 1 {
        let rest = Rect::new(
            inner.x,
            inner.y + used + 1,
            inner.width,
            inner.height - used - 1,
        );
        histogram(hist, theme, rest, buf);
    }
}

fn percentile_lines(hist: &Histogram<u64>, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let a = theme.ascii();
    let items = [
        (
            "p50",
            fmt::nanos(hist.value_at_quantile(0.5), a),
            Style::new(),
        ),
        (
            "p99",
            fmt::nanos(hist.value_at_quantile(0.99), a),
            Style::new(),
        ),
        (
            "p99.9",
            fmt::nanos(hist.value_at_quantile(0.999), a),
            theme.warn(),
        ),
        ("max", fmt::nanos(hist.max(), a), theme.warn()),
    ];
    let cell = |(name, value, style): &(&'static str, String, Style)| {
        vec![
            Span::styled(format!("{name:<6}"), theme.dim()),
            Span::styled(format!("{value:>9}  "), *style),
        ]
    };
    let samples = Line::from(vec![
        Span::styled("samples ", theme.dim()),
        Span::raw(fmt::count(hist.len())),
    ]);
    if width >= 4 * 17 + 16 {
        let mut spans: Vec<Span<'static>> = items.iter().flat_map(cell).collect();
        spans.push(Span::styled("n ", theme.dim()));
        spans.push(Span::raw(fmt::count(hist.len())));
        vec![Line::from(spans)]
    } else {
        vec![
            Line::from([cell(&items[0]), cell(&items[1])].concat()),
            Line::from([cell(&items[2]), cell(&items[3])].concat()),
            samples,
        ]
    }
}

/// Log-spaced buckets between the smallest and largest latency, one per row. Buckets whose
/// bounds print alike (a narrow range: at the extreme, every result at one latency) are merged
/// into one row, so no two rows carry the same label.
fn histogram(hist: &Histogram<u64>, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let rows = area.height as usize;
    if rows == 0 || area.width < 24 {
        return;
    }
    let buckets = buckets(hist, rows.min(32), theme.ascii());
    let total = hist.len().max(1) as f64;
    let peak = buckets.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
    let (full, _) = theme.hbar();
    let label_w = 11usize;
    let pct_w = 7usize;
    let bar_w = area.width as usize - label_w - pct_w;
    let le = if theme.ascii() { "<=" } else { "≤" };
    for (i, (label, count)) in buckets.iter().enumerate() {
        let y = area.y + i as u16;
        buf.set_stringn(area.x, y, format!("{le}{label:>9} "), label_w, theme.dim());
        let len = ((*count as f64 / peak) * bar_w as f64).round() as usize;
        let len = if *count > 0 { len.max(1) } else { 0 };
        buf.set_string(area.x + label_w as u16, y, full.repeat(len), theme.accent());
        buf.set_string(
            area.x + (label_w + bar_w) as u16,
            y,
            format!("{:>6.1}%", *count as f64 / total * 100.0),
            Style::new(),
        );
    }
}

/// At most `n` buckets `(upper bound as printed, samples)`, log-spaced between the smallest and
/// the largest latency; buckets whose printed bounds are equal are merged into the later one.
fn buckets(hist: &Histogram<u64>, n: usize, ascii: bool) -> Vec<(String, u64)> {
    let lo = hist.min().max(1) as f64;
    let hi = hist.max().max(1) as f64;
    let ratio = if hi > lo {
        (hi / lo).powf(1.0 / n as f64)
    } else {
        1.0
    };
    // Upper bound of bucket i; the last one is exactly the max.
    let bounds: Vec<u64> = (1..=n)
        .map(|i| {
            if i == n {
                hist.max()
            } else {
                (lo * ratio.powi(i as i32)).round() as u64
            }
        })
        .collect();
    let mut counts = vec![0u64; n];
    for v in hist.iter_recorded() {
        let value = hist
            .highest_equivalent(v.value_iterated_to())
            .min(hist.max());
        let i = bounds.partition_point(|b| *b < value).min(n - 1);
        counts[i] += v.count_at_value();
    }
    let mut merged: Vec<(String, u64)> = Vec::with_capacity(n);
    for (bound, count) in bounds.iter().zip(counts) {
        let label = fmt::nanos(*bound, ascii);
        match merged.last_mut() {
            Some(last) if last.0 == label => last.1 += count,
            _ => merged.push((label, count)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use hdrhistogram::Histogram;

    use super::buckets;

    #[test]
    fn one_distinct_latency_is_one_row_holding_every_sample() {
        let mut h = Histogram::<u64>::new(3).expect("valid histogram");
        h.record_n(520_000_000, 40).expect("in range");
        let rows = buckets(&h, 20, true);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].1, 40);
    }

    #[test]
    fn rows_never_repeat_a_label_and_keep_every_sample() {
        let mut h = Histogram::<u64>::new(3).expect("valid histogram");
        for v in [519_000_000, 520_000_000, 521_000_000, 2_000_000_000] {
            h.record_n(v, 5).expect("in range");
        }
        let rows = buckets(&h, 20, true);
        let mut labels: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        labels.dedup();
        assert_eq!(labels.len(), rows.len(), "{rows:?}");
        assert_eq!(rows.iter().map(|r| r.1).sum::<u64>(), 20);
    }
}
