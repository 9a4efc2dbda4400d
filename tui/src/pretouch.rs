//! `--pretouch SIZE`: fault in memory before a run, so that its state grows into pages the
//! process already holds instead of taking page faults while windows are due.
//!
//! A job's state grows fastest in its first windows: hash tables double, and each new table
//! is memory the process never touched. Touching a page for the first time costs a page fault
//! and zeroing (with transparent huge pages, 2 MiB at a time), and in a virtual machine whose
//! host hands memory back lazily, far more: on the 2-core VM of docs/RESULTS.md, q5 at 10 M
//! events/s took about 300 faults on its worker in the first 15 s, and its latest window
//! result came 155-242 ms after its watermark (2-5 ms with the memory pre-touched).
//! Pre-touching is the JVM's `-XX:+AlwaysPreTouch` for a native process.
//!
//! It works with the `weir` binary's allocator (mimalloc, see `main.rs`): the process keeps
//! the memory it frees instead of handing it back to the kernel, and mimalloc reserves memory
//! from the kernel in arenas of 1 GiB. [`pretouch`] allocates the size asked for rounded up
//! to whole blocks of [`BLOCK`] bytes, each of which fills most of one arena, writes every
//! byte of each and frees them all: the arenas are then resident, and the job's allocations,
//! wherever in an arena the allocator puts them, land on pages that are already there.
//! Smaller blocks do not do this: mimalloc aligns large blocks to 32 MiB chunks and leaves
//! the space between them untouched, where the job's tables then go. It applies to the
//! engines that run inside the `weir` process (weir, timely, differential) alike; Flink runs
//! in its own JVM, which `--pretouch` starts with `-XX:+AlwaysPreTouch` instead
//! (`RunSpec::jvm_pretouch`): the JVM writes its whole heap before the job starts.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use crate::compare::memory::{BadSize, gib, parse_size};

/// Bytes per pre-touched block: 7/8 of mimalloc's 1 GiB arena, so that one block fills one
/// arena (the rest holds the arena's own bookkeeping and the process's small objects).
pub const BLOCK: u64 = 896 << 20;

/// How much memory to pre-touch; zero: none (`off`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pretouch(pub u64);

impl Pretouch {
    /// Whether there is anything to touch.
    pub fn is_on(self) -> bool {
        self.0 > 0
    }

    /// How many [`BLOCK`]s [`pretouch`] writes: `self` rounded up to whole blocks. A partial
    /// block would leave the rest of its arena untouched, and the allocator places the job's
    /// memory there as readily as anywhere (q8 took 63 faults in such a rest).
    pub fn blocks(self) -> u64 {
        self.0.div_ceil(BLOCK)
    }

    /// The bytes [`pretouch`] writes: whole blocks, at least `self`.
    pub fn touched(self) -> u64 {
        self.blocks() * BLOCK
    }
}

impl FromStr for Pretouch {
    type Err = BadSize;

    fn from_str(s: &str) -> Result<Self, BadSize> {
        if s.trim().eq_ignore_ascii_case("off") {
            return Ok(Pretouch(0));
        }
        parse_size(s)
            .map(Pretouch)
            .ok_or_else(|| BadSize::new(s, "such as 1G or 800M, or 'off'"))
    }
}

impl fmt::Display for Pretouch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_on() {
            f.write_str(&gib(self.0))
        } else {
            f.write_str("off")
        }
    }
}

/// What `--pretouch` does for a local Flink run (`weir run` prints it, `weir compare`'s setup
/// line says it in short).
pub const FLINK_PRETOUCH: &str = "--pretouch: Flink's JVM writes its whole 4 GiB heap before \
     the job starts (-XX:+AlwaysPreTouch); the size is for the engines that run in the weir \
     process";

/// Why `--pretouch` does nothing for Flink on a cluster (`weir run` refuses it there,
/// `weir compare` says so and pre-touches the engines in the weir process).
pub const FLINK_CLUSTER_PRETOUCH: &str = "--pretouch cannot reach a Flink cluster's task \
     managers, which the cluster starts: set -XX:+AlwaysPreTouch in their JVM options \
     (env.java.opts.taskmanager)";

/// What [`pretouch`] did, for the line printed after it: "pre-touched 1.75 GiB (--pretouch
/// 1.00 GiB in whole blocks of 896 MiB) in 1.05 s".
pub fn touched_line(size: Pretouch, took: Duration) -> String {
    format!(
        "pre-touched {} (--pretouch {size} in whole blocks of {}) in {:.2} s",
        gib(size.touched()),
        gib(BLOCK),
        took.as_secs_f64()
    )
}

/// Allocates `size` rounded up to whole [`BLOCK`]s ([`Pretouch::touched`]), writes every
/// byte of it and frees it; returns how long that took.
///
/// # Errors
/// A message for `--pretouch` when the machine does not have `size` available (read from
/// `/proc/meminfo` or the cgroup) or the allocation fails: nothing is touched then.
pub fn pretouch(size: Pretouch) -> Result<Duration, String> {
    if let Some(available) = weir_engine::available_memory()
        && size.touched() > available
    {
        return Err(format!(
            "--pretouch {size}: that is {} in whole blocks of {}, and this machine has only {} \
             available (the run's own state needs memory too); give less, or leave --pretouch \
             out",
            gib(size.touched()),
            gib(BLOCK),
            gib(available)
        ));
    }
    let start = Instant::now();
    let mut held: Vec<Vec<u8>> = Vec::new();
    for _ in 0..size.blocks() {
        let mut block = Vec::new();
        block.try_reserve_exact(BLOCK as usize).map_err(|e| {
            format!("--pretouch {size}: cannot allocate it ({e}); give a smaller size")
        })?;
        // Written, not zero-allocated: memory fresh from the kernel is known to be zero, so
        // a zeroed allocation would skip the writes that fault the pages in.
        block.resize(BLOCK as usize, 0x5a);
        // Kept until every block is touched, so that each one takes fresh memory.
        held.push(block);
    }
    drop(held);
    Ok(start.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_off_is_zero() {
        let size = |s: &str| s.parse::<Pretouch>().unwrap();
        assert_eq!(size("1G"), Pretouch(1 << 30));
        assert_eq!(size("800M"), Pretouch(800 << 20));
        assert_eq!(size(" OFF "), Pretouch(0));
        assert!(!size("off").is_on());
        assert_eq!(size("1G").to_string(), "1.00 GiB");
        assert_eq!(size("off").to_string(), "off");
        for bad in ["", "auto", "-1G", "0", "12X"] {
            let err = bad.parse::<Pretouch>().unwrap_err().to_string();
            assert!(
                err.contains("1G or 800M") && err.contains(&format!("'{bad}'")),
                "{err}"
            );
        }
    }

    #[test]
    fn sizes_round_up_to_whole_blocks() {
        assert_eq!(Pretouch(0).blocks(), 0);
        assert_eq!(Pretouch(BLOCK).blocks(), 1);
        assert_eq!(Pretouch(1 << 30).touched(), 2 * BLOCK);
        assert_eq!(Pretouch(2 << 30).blocks(), 3);
        assert_eq!(Pretouch(4096).touched(), BLOCK);
        assert_eq!(Pretouch(3 * BLOCK + 1).blocks(), 4);
    }

    #[test]
    fn touching_more_than_the_machine_has_is_refused_before_touching() {
        let available = weir_engine::available_memory().expect("Linux has /proc/meminfo");
        let err = pretouch(Pretouch(available * 2)).unwrap_err();
        assert!(
            err.contains("available") && err.contains("--pretouch"),
            "{err}"
        );
        // A small one is touched, as one whole block (and takes measurable time).
        let took = pretouch(Pretouch(8 << 20)).expect("one block is available");
        assert!(took > Duration::ZERO);
        assert_eq!(
            touched_line(Pretouch(8 << 20), Duration::from_millis(1_050)),
            "pre-touched 896 MiB (--pretouch 8 MiB in whole blocks of 896 MiB) in 1.05 s"
        );
    }
}
