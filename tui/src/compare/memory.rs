//! `--max-memory`: how much memory a run of `weir compare` may hold before it is stopped.
//!
//! weir, timely and differential run inside the `weir` process, so a run whose state outgrows
//! the machine (differential's arrangements of a long steady-state calibration run, say) would
//! get the whole comparison killed by the kernel, with every other engine's results. Instead
//! the executor reads the process's resident memory while a run goes on and, past the limit,
//! ends the run's input early and records the run as failed, naming the memory it held. Flink
//! runs in its own JVM, whose heap Flink bounds itself; its runs are not watched.

use std::fmt;
use std::str::FromStr;

/// The share of the memory available when a run starts that [`MemoryLimit::Auto`] lets it take.
pub const AUTO_SHARE: f64 = 0.9;

/// When a run is stopped for the memory the process holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MemoryLimit {
    /// What the process holds when the run starts plus [`AUTO_SHARE`] of what the machine (or
    /// the cgroup) has available then.
    #[default]
    Auto,
    /// This many bytes resident.
    Bytes(u64),
    /// Never.
    Off,
}

impl MemoryLimit {
    /// The resident size (bytes) past which the run about to start is stopped; `None` when
    /// there is none (`off`, or memory cannot be read on this system).
    pub fn resolve(self) -> Option<u64> {
        match self {
            MemoryLimit::Auto => {
                let available = weir_engine::available_memory()?;
                Some(weir_engine::resident_memory()? + (available as f64 * AUTO_SHARE) as u64)
            }
            MemoryLimit::Bytes(bytes) => Some(bytes),
            MemoryLimit::Off => None,
        }
    }
}

/// A `--max-memory` or `--pretouch` value that is not a size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{text}' is not a memory size: give a number of bytes with an optional unit (K, M, G or \
     T, powers of 1024), {examples}"
)]
pub struct BadSize {
    text: String,
    examples: &'static str,
}

impl BadSize {
    /// `text` is not a size; `examples` ends the message ("such as 1G, or 'off'").
    pub fn new(text: &str, examples: &'static str) -> Self {
        Self {
            text: text.to_string(),
            examples,
        }
    }
}

/// Bytes in `text`: a number with an optional unit K, M, G or T (powers of 1024, with or
/// without a trailing `B` or `iB`, any case); `None` unless it is at least one byte.
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    let number = text.trim_end_matches("ib").trim_end_matches('b');
    let (digits, shift) = match number.char_indices().last() {
        Some((at, 'k')) => (&number[..at], 10),
        Some((at, 'm')) => (&number[..at], 20),
        Some((at, 'g')) => (&number[..at], 30),
        Some((at, 't')) => (&number[..at], 40),
        _ => (number, 0),
    };
    let value: f64 = digits.trim().parse().ok()?;
    let bytes = value * (1_u64 << shift) as f64;
    (bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

impl FromStr for MemoryLimit {
    type Err = BadSize;

    fn from_str(s: &str) -> Result<Self, BadSize> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(MemoryLimit::Auto),
            "off" => Ok(MemoryLimit::Off),
            _ => parse_size(s)
                .map(MemoryLimit::Bytes)
                .ok_or_else(|| BadSize::new(s, "such as 16G or 800M, or 'auto' or 'off'")),
        }
    }
}

impl fmt::Display for MemoryLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemoryLimit::Auto => f.write_str("auto"),
            MemoryLimit::Off => f.write_str("off"),
            MemoryLimit::Bytes(bytes) => f.write_str(&gib(*bytes)),
        }
    }
}

/// `bytes` in GiB with two decimals (or MiB below one GiB), for messages.
pub fn gib(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= (1_u64 << 30) as f64 {
        format!("{:.2} GiB", b / (1_u64 << 30) as f64)
    } else {
        format!("{:.0} MiB", b / (1_u64 << 20) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_powers_of_1024() {
        let bytes = |s: &str| s.parse::<MemoryLimit>().unwrap();
        assert_eq!(bytes("16G"), MemoryLimit::Bytes(16 << 30));
        assert_eq!(bytes("800m"), MemoryLimit::Bytes(800 << 20));
        assert_eq!(bytes("1.5GiB"), MemoryLimit::Bytes(3 << 29));
        assert_eq!(bytes("64KB"), MemoryLimit::Bytes(64 << 10));
        assert_eq!(bytes("4096"), MemoryLimit::Bytes(4096));
        assert_eq!(bytes(" Off "), MemoryLimit::Off);
        assert_eq!(bytes("auto"), MemoryLimit::Auto);
        for bad in ["", "G", "12X", "-1G", "0", "nan", "1e30T"] {
            let err = bad.parse::<MemoryLimit>().unwrap_err().to_string();
            assert!(
                err.contains("16G") && err.contains(&format!("'{bad}'")),
                "{err}"
            );
        }
    }

    #[test]
    fn the_process_memory_is_read_and_bounds_the_automatic_limit() {
        let rss = weir_engine::resident_memory().expect("Linux has /proc/self/status");
        assert!(rss > 1 << 20, "a test process holds more than 1 MiB: {rss}");
        let limit = MemoryLimit::Auto.resolve().expect("meminfo is readable");
        assert!(limit > rss);
        assert_eq!(MemoryLimit::Bytes(5).resolve(), Some(5));
        assert_eq!(MemoryLimit::Off.resolve(), None);
    }
}
