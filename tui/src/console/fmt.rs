//! Number formatting shared by the console and the summary: counts with thousands
//! separators, rates and sizes with SI prefixes, durations with a unit that fits.

/// `12345678` -> `12,345,678`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A value with an SI prefix and three significant digits: `4_120_000.0` -> `4.12M`.
pub fn si(value: f64) -> String {
    let (scaled, prefix) = if value >= 1e9 {
        (value / 1e9, "G")
    } else if value >= 1e6 {
        (value / 1e6, "M")
    } else if value >= 1e3 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    if prefix.is_empty() {
        return format!("{value:.0}");
    }
    let decimals = if scaled >= 100.0 {
        0
    } else if scaled >= 10.0 {
        1
    } else {
        2
    };
    format!("{scaled:.decimals$}{prefix}")
}

/// An events-per-second rate: `4.12M ev/s`.
pub fn rate(events_per_sec: f64) -> String {
    format!("{} ev/s", si(events_per_sec))
}

/// A duration in nanoseconds with a unit that keeps three significant digits: `850 ns`,
/// `712 µs` (`us` when `ascii`), `1.19 ms`, `2.31 s`.
pub fn nanos(ns: u64, ascii: bool) -> String {
    let micro = if ascii { "us" } else { "µs" };
    let v = ns as f64;
    let (scaled, unit) = if ns < 1_000 {
        return format!("{ns} ns");
    } else if ns < 1_000_000 {
        (v / 1e3, micro)
    } else if ns < 1_000_000_000 {
        (v / 1e6, "ms")
    } else {
        (v / 1e9, "s")
    };
    let decimals = if scaled >= 100.0 {
        0
    } else if scaled >= 10.0 {
        1
    } else {
        2
    };
    format!("{scaled:.decimals$} {unit}")
}

/// Seconds for elapsed times and ETAs: `4.5 s`, `1m05s`, `2h03m`.
pub fn secs(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        return "-".to_string();
    }
    if s < 60.0 {
        return format!("{s:.1} s");
    }
    let total = s.round() as u64;
    if total < 3600 {
        format!("{}m{:02}s", total / 60, total % 60)
    } else {
        format!("{}h{:02}m", total / 3600, (total % 3600) / 60)
    }
}

/// Milliseconds of event time: `850 ms`, `4.00 s`.
pub fn millis(ms: i64) -> String {
    if ms.abs() < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.2} s", ms as f64 / 1000.0)
    }
}

/// A fraction as a percentage: `0.8` -> `80%`.
pub fn pct(fraction: f64) -> String {
    format!("{:.0}%", fraction * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(12_345_678), "12,345,678");
        assert_eq!(si(950.0), "950");
        assert_eq!(si(4_123_000.0), "4.12M");
        assert_eq!(si(41_230_000.0), "41.2M");
        assert_eq!(si(412_300.0), "412k");
        assert_eq!(rate(2e9), "2.00G ev/s");
        assert_eq!(nanos(850, false), "850 ns");
        assert_eq!(nanos(712_000, false), "712 µs");
        assert_eq!(nanos(712_000, true), "712 us");
        assert_eq!(nanos(1_190_000, false), "1.19 ms");
        assert_eq!(nanos(2_310_000_000, false), "2.31 s");
        assert_eq!(secs(4.54), "4.5 s");
        assert_eq!(secs(65.0), "1m05s");
        assert_eq!(secs(7380.0), "2h03m");
        assert_eq!(secs(f64::NAN), "-");
        assert_eq!(millis(850), "850 ms");
        assert_eq!(millis(4000), "4.00 s");
        assert_eq!(pct(0.8), "80%");
    }
}
