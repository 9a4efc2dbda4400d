//! Exchange queue fill as a W x W heat map: row = producer worker, column = consumer worker,
//! shade = fill of the fullest ring between them. A full row means one producer is blocked on
//! many consumers; a full column means one consumer cannot keep up (skew).
//!
//! When W is too large for the area, producers and consumers are grouped into blocks and
//! each cell shows the fullest ring in its block, so a hot spot never disappears.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::fmt;
use super::panel::{self, message};
use super::state::ConsoleState;
use super::theme::Theme;

/// Draws the heat map into `area` (with its border).
pub fn render(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let title = format!(
        " exchange queue fill (producer {} consumer) ",
        theme.arrow()
    );
    let Some(inner) = panel::open(state, theme, title, area, buf) else {
        return;
    };
    let Some(fill) = state.latest().exchange_fill.as_ref() else {
        panel::unavailable(state, theme, "exchange queues", inner, buf);
        return;
    };
    let w = fill.len();
    if w == 0 || inner.height < 3 || inner.width < 12 {
        message(theme, "no exchange in this dataflow", inner, buf);
        return;
    }
    const LABEL: u16 = 5;
    // Legend on the last row, consumer header on the first.
    let grid_rows = (inner.height - 2) as usize;
    // Cells 2 to 6 columns wide (a glyph run and a gap), as wide as the area allows.
    let cell_w: usize = ((inner.width - LABEL) as usize / w).clamp(2, 6);
    let grid_cols = ((inner.width - LABEL) as usize / cell_w).max(1);
    let rows = w.min(grid_rows);
    let cols = w.min(grid_cols);
    let group_r = w.div_ceil(rows);
    let group_c = w.div_ceil(cols);
    let rows = w.div_ceil(group_r);
    let cols = w.div_ceil(group_c);
    // Header: consumer indices (first of each group).
    for c in 0..cols {
        let x = inner.x + LABEL + (c * cell_w) as u16;
        let label = (c * group_c).to_string();
        if label.len() < cell_w || c % 2 == 0 {
            buf.set_stringn(x, inner.y, label, cell_w, theme.dim());
        }
    }
    let mut hottest = 0.0_f32;
    for r in 0..rows {
        let y = inner.y + 1 + r as u16;
        let label = if group_r == 1 {
            format!("p{r}")
        } else {
            format!("p{}", r * group_r)
        };
        buf.set_stringn(
            inner.x,
            y,
            format!("{label:<5}"),
            LABEL as usize,
            theme.dim(),
        );
        for c in 0..cols {
            let v = block_max(fill, r * group_r, group_r, c * group_c, group_c);
            hottest = hottest.max(v);
            let (glyph, style) = theme.shade(v);
            let x = inner.x + LABEL + (c * cell_w) as u16;
            buf.set_string(x, y, glyph.repeat(cell_w - 1), style);
        }
    }
    let [s0, s1, s2, s3, s4] = [0.0, 0.25, 0.5, 0.75, 1.0].map(|f| theme.shade(f));
    let mut legend = vec![
        Span::styled(s0.0, s0.1),
        Span::styled(" 0 ", theme.dim()),
        Span::styled(s1.0, s1.1),
        Span::styled(" 25 ", theme.dim()),
        Span::styled(s2.0, s2.1),
        Span::styled(" 50 ", theme.dim()),
        Span::styled(s3.0, s3.1),
        Span::styled(" 75 ", theme.dim()),
        Span::styled(s4.0, s4.1),
        Span::styled(" 100%  ", theme.dim()),
        Span::raw(format!("fullest {}", fmt::pct(f64::from(hottest)))),
    ];
    if group_r > 1 || group_c > 1 {
        legend.push(Span::styled(
            format!("  ({group_r}x{group_c} workers per cell)"),
            theme.dim(),
        ));
    }
    let y = inner.bottom() - 1;
    Line::from(legend).render(Rect::new(inner.x, y, inner.width, 1), buf);
}

fn block_max(fill: &[Vec<f32>], r0: usize, rn: usize, c0: usize, cn: usize) -> f32 {
    fill.iter()
        .skip(r0)
        .take(rn)
        .flat_map(|row| row.iter().skip(c0).take(cn))
        .copied()
        .fold(0.0, f32::max)
}
