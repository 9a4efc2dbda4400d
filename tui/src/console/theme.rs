//! Colours and glyphs: one accent colour per engine, a no-colour mode (`--color never`,
//! `NO_COLOR`) and an ASCII fallback (`--ascii`) for terminals without Unicode block glyphs.

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;
use ratatui::widgets::{Block, Borders};
use weir_workloads::catalog::EngineKind;

const ASCII_BORDER: border::Set<'static> = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

/// Vertical bar glyphs from empty to full, in eighths.
const BARS_UNICODE: [&str; 9] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];
const BARS_ASCII: [&str; 9] = [" ", ".", ".", "_", "-", "=", "=", "#", "#"];
/// Heat-map shades from empty to full.
const SHADES_UNICODE: [&str; 5] = ["·", "░", "▒", "▓", "█"];
const SHADES_ASCII: [&str; 5] = [".", "-", "+", "*", "#"];

/// How the console draws: colours on or off, Unicode or ASCII glyphs, the engine's accent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Theme {
    color: bool,
    ascii: bool,
    accent: Color,
}

impl Theme {
    /// A theme for `engine`, with colours when `color` and ASCII-only glyphs when `ascii`.
    pub fn new(engine: EngineKind, color: bool, ascii: bool) -> Self {
        Self {
            color,
            ascii,
            accent: accent_of(engine),
        }
    }

    /// Whether glyphs are restricted to ASCII.
    pub fn ascii(&self) -> bool {
        self.ascii
    }

    /// Whether colours are on.
    pub fn color(&self) -> bool {
        self.color
    }

    fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    /// The engine's accent colour (titles, the throughput chart, the gauge).
    pub fn accent(&self) -> Style {
        self.fg(self.accent)
    }

    /// Bold text in the accent colour.
    pub fn title(&self) -> Style {
        self.accent().add_modifier(Modifier::BOLD)
    }

    /// Secondary text (labels, axes).
    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    /// Values worth attention.
    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    /// Values that are wrong (dropped records, failures).
    pub fn bad(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// Healthy values.
    pub fn good(&self) -> Style {
        self.fg(Color::Green)
    }

    /// Busy time in the worker bars.
    pub fn busy(&self) -> Style {
        self.fg(Color::Green)
    }

    /// Backpressured time in the worker bars.
    pub fn backpressured(&self) -> Style {
        self.fg(Color::Red)
    }

    /// Time held by source alignment in the worker bars.
    pub fn held(&self) -> Style {
        self.fg(Color::Yellow)
    }

    /// Idle time in the worker bars.
    pub fn idle(&self) -> Style {
        self.dim()
    }

    /// Key names in the hints bar.
    pub fn key(&self) -> Style {
        self.accent().add_modifier(Modifier::BOLD)
    }

    /// A bordered panel with `title`.
    pub fn block<'a>(&self, title: impl Into<ratatui::text::Line<'a>>) -> Block<'a> {
        let block = Block::new()
            .borders(Borders::ALL)
            .border_style(self.dim())
            .title(title.into().style(self.title()));
        if self.ascii {
            block.border_set(ASCII_BORDER)
        } else {
            block
        }
    }

    /// The glyph of a vertical bar filled `eighths` / 8 (clamped to 0..=8).
    pub fn bar(&self, eighths: usize) -> &'static str {
        let set = if self.ascii {
            &BARS_ASCII
        } else {
            &BARS_UNICODE
        };
        set[eighths.min(8)]
    }

    /// The heat-map glyph and style for a queue fill in `0.0..=1.0`.
    pub fn shade(&self, fill: f32) -> (&'static str, Style) {
        let set = if self.ascii {
            &SHADES_ASCII
        } else {
            &SHADES_UNICODE
        };
        let fill = fill.clamp(0.0, 1.0);
        let level = if fill <= 0.0 {
            0
        } else {
            ((fill * 4.0).ceil() as usize).clamp(1, 4)
        };
        let color = match level {
            0 => Color::DarkGray,
            1 => Color::Green,
            2 => Color::Yellow,
            3 => Color::LightRed,
            _ => Color::Red,
        };
        (set[level], self.fg(color))
    }

    /// Glyphs for a horizontal bar: (filled, empty).
    pub fn hbar(&self) -> (&'static str, &'static str) {
        if self.ascii {
            ("#", ".")
        } else {
            ("█", "░")
        }
    }

    /// Glyphs for busy, backpressured, held and idle segments of a worker bar.
    pub fn split_glyphs(&self) -> [&'static str; 4] {
        if self.ascii {
            ["#", "!", "~", "."]
        } else {
            ["█", "▓", "▒", "░"]
        }
    }

    /// The separator between header fields.
    pub fn sep(&self) -> &'static str {
        if self.ascii { " | " } else { " │ " }
    }

    /// The arrow between producer and consumer.
    pub fn arrow(&self) -> &'static str {
        if self.ascii { "->" } else { "→" }
    }
}

fn accent_of(engine: EngineKind) -> Color {
    match engine {
        EngineKind::Weir => Color::Cyan,
        EngineKind::Timely => Color::Yellow,
        EngineKind::Differential => Color::Magenta,
        EngineKind::Flink => Color::LightRed,
        EngineKind::Sim => Color::LightBlue,
    }
}
