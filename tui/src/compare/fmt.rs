//! Formatting shared by every output of `weir compare` (the verdict, the baseline block, the
//! Markdown report, the plots' labels, the stderr progress lines and the live view): numbers with
//! SI prefixes and a fixed number of significant digits, durations in the unit that reads best,
//! counts with thousands separators, run labels grouped into ranges, and the [`Style`] (colour
//! and Unicode or ASCII glyphs) text is drawn with.
//!
//! Every function is pure and formats plain numbers and strings, so any output can use it and
//! two outputs that show the same figure show the same text.
//!
//! **Layer.** Base: imports nothing from the crate. Every other `compare` module may use it.

/// How text output is drawn: colours and glyphs of the verdict and the baseline block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    /// ANSI colours.
    pub color: bool,
    /// Unicode symbols (`×`, `…`, `★`, `✓`); plain ASCII otherwise.
    pub unicode: bool,
}

impl Style {
    /// No colour, Unicode symbols: the form snapshot tests and files use.
    pub const PLAIN: Style = Style {
        color: false,
        unicode: true,
    };

    /// `text` in the ANSI SGR `code` (`"1;31"`), or unchanged without colour.
    pub(super) fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub(super) fn red(self, t: &str) -> String {
        self.paint("1;31", t)
    }
    pub(super) fn green(self, t: &str) -> String {
        self.paint("32", t)
    }
    pub(super) fn yellow(self, t: &str) -> String {
        self.paint("33", t)
    }
    pub(super) fn bold(self, t: &str) -> String {
        self.paint("1", t)
    }
    pub(super) fn dim(self, t: &str) -> String {
        self.paint("2", t)
    }
    pub(super) fn times(self) -> &'static str {
        if self.unicode { "×" } else { "x" }
    }
    pub(super) fn ellipsis(self) -> &'static str {
        if self.unicode { "…" } else { ".." }
    }
    pub(super) fn star(self) -> &'static str {
        if self.unicode { "★" } else { "*" }
    }
    pub(super) fn check(self) -> &'static str {
        if self.unicode { "✓" } else { "ok" }
    }
    pub(super) fn cross(self) -> &'static str {
        if self.unicode { "✗" } else { "XX" }
    }
    pub(super) fn pm(self) -> &'static str {
        if self.unicode { "±" } else { "+-" }
    }
}

/// A rate in events/s with four significant digits: `12.31 M ev/s`.
pub fn fmt_eps(eps: f64) -> String {
    format!("{} ev/s", fmt_si(eps))
}

/// A number with an SI prefix and four significant digits: `12.31 M`, `862.0 k`, `950`.
pub fn fmt_si(x: f64) -> String {
    let (v, unit) = if x >= 1e9 {
        (x / 1e9, " G")
    } else if x >= 1e6 {
        (x / 1e6, " M")
    } else if x >= 1e3 {
        (x / 1e3, " k")
    } else {
        (x, "")
    };
    format!("{}{unit}", sig4(v))
}

fn sig4(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.1}")
    } else if v >= 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// A duration in nanoseconds, in the unit that reads best: `850 µs`, `1.23 ms`, `2.10 s`.
pub fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{} s", sig3(ns / 1e9))
    } else if ns >= 1e6 {
        format!("{} ms", sig3(ns / 1e6))
    } else if ns >= 1e3 {
        format!("{} µs", sig3(ns / 1e3))
    } else {
        format!("{ns:.0} ns")
    }
}

fn sig3(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// An integer with thousands separators: `10,000,000`.
pub fn fmt_count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Groups run labels (`weir round 3`, `weir warm-up`) by engine, with rounds as ranges:
/// `weir: warm-up, rounds 1-5; flink: round 2`.
pub fn compress_runs(labels: &[String]) -> String {
    let mut engines: Vec<(&str, bool, Vec<usize>)> = Vec::new();
    for label in labels {
        let (engine, what) = label.split_once(' ').unwrap_or((label.as_str(), ""));
        let idx = engines
            .iter()
            .position(|e| e.0 == engine)
            .unwrap_or_else(|| {
                engines.push((engine, false, Vec::new()));
                engines.len() - 1
            });
        if what == "warm-up" {
            engines[idx].1 = true;
        } else if let Some(r) = what.strip_prefix("round ").and_then(|r| r.parse().ok()) {
            engines[idx].2.push(r);
        }
    }
    let parts: Vec<String> = engines
        .into_iter()
        .map(|(engine, warmup, mut rounds)| {
            rounds.sort_unstable();
            let mut ranges: Vec<String> = Vec::new();
            let mut i = 0;
            while i < rounds.len() {
                let mut j = i;
                while j + 1 < rounds.len() && rounds[j + 1] == rounds[j] + 1 {
                    j += 1;
                }
                ranges.push(if i == j {
                    rounds[i].to_string()
                } else {
                    format!("{}-{}", rounds[i], rounds[j])
                });
                i = j + 1;
            }
            let mut what: Vec<String> = Vec::new();
            if warmup {
                what.push("warm-up".to_string());
            }
            if !rounds.is_empty() {
                let plural = if rounds.len() == 1 { "round" } else { "rounds" };
                what.push(format!("{plural} {}", ranges.join(",")));
            }
            format!("{engine}: {}", what.join(", "))
        })
        .collect();
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(fmt_eps(12_314_000.0), "12.31 M ev/s");
        assert_eq!(fmt_eps(862_000.0), "862.0 k ev/s");
        assert_eq!(fmt_si(950.0), "950.0");
        assert_eq!(fmt_si(1.5e9), "1.500 G");
        assert_eq!(fmt_ns(850_000.0), "850 µs");
        assert_eq!(fmt_ns(1_234_000.0), "1.23 ms");
        assert_eq!(fmt_ns(2_100_000_000.0), "2.10 s");
        assert_eq!(fmt_count(10_000_000), "10,000,000");
        assert_eq!(fmt_count(999), "999");
    }

    #[test]
    fn run_labels_group_into_ranges() {
        let labels: Vec<String> = [
            "weir warm-up",
            "weir round 1",
            "flink round 2",
            "weir round 2",
            "weir round 4",
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            compress_runs(&labels),
            "weir: warm-up, rounds 1-2,4; flink: round 2"
        );
    }

    #[test]
    fn style_paints_only_with_colour() {
        let colour = Style {
            color: true,
            unicode: false,
        };
        assert_eq!(colour.red("x"), "\x1b[1;31mx\x1b[0m");
        assert_eq!(colour.green("x"), "\x1b[32mx\x1b[0m");
        assert_eq!(Style::PLAIN.red("x"), "x");
        assert_eq!((colour.times(), Style::PLAIN.times()), ("x", "×"));
    }
}
