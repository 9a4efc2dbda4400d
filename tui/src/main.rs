//! The `weir` command. Everything lives in the library so tests can drive it without a terminal.

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's number for its purge delay option (`mi_option_purge_delay` in mimalloc 3's
/// `mimalloc.h`, which the Rust bindings leave unnamed); a test below checks it still names
/// the purge delay.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc's number for its arena reserve option (`mi_option_arena_reserve`, in KiB): how
/// much memory it reserves from the OS at a time. `weir_tui::pretouch::BLOCK` is sized to fill
/// one such arena; a test below checks the number and the size.
#[cfg(test)]
const ARENA_RESERVE: libmimalloc_sys::mi_option_t = 23;

/// The environment variables through which mimalloc reads the purge delay at start-up.
const PURGE_DELAY_ENV: [&str; 2] = ["MIMALLOC_PURGE_DELAY", "MIMALLOC_RESET_DELAY"];

/// Keeps memory the job frees inside the process instead of giving it back to the OS, unless
/// the user set the purge delay in the environment.
///
/// By default mimalloc returns freed memory (`madvise`) a second after it was freed. In a
/// streaming job, memory freed at one point is needed again moments later: a hash table that
/// grows frees its old table, a fired window's state is dropped while the next window's fills.
/// Each return cost a worker 0.3-0.5 ms in one system call (splitting huge pages and shooting
/// down every core's TLB), then page faults and zeroing to get the memory back, and it landed
/// wherever the worker happened to be, also between a watermark and the results it fires.
/// Memory is still reused within the process; the resident size does not shrink after a peak.
/// It applies to every engine `weir` runs in-process (weir, timely, differential) alike.
fn keep_freed_memory() {
    if PURGE_DELAY_ENV
        .iter()
        .all(|name| std::env::var_os(name).is_none())
    {
        // SAFETY: `mi_option_set` is not thread safe; this runs first thing in `main`, before
        // the program starts any thread, and `PURGE_DELAY` is a valid option (tested below).
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
    }
}

fn main() -> ExitCode {
    keep_freed_memory();
    weir_tui::main_with_args(std::env::args_os())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Option 15 is the purge delay: its default is mimalloc 3's 1,000 ms (the environment
    /// may set another value, which the test then sees), and setting it takes. Option 23 is
    /// the arena reserve, 1 GiB, which a pre-touched block fills most of. (One test, because
    /// options must not be set while another thread reads them.)
    #[test]
    fn the_purge_delay_and_arena_reserve_options_are_the_ones_weir_relies_on() {
        // SAFETY: the only test in this binary, so no other thread reads or sets options.
        let before = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        let from_env = PURGE_DELAY_ENV
            .iter()
            .find_map(|name| std::env::var(name).ok());
        match &from_env {
            Some(value) => assert_eq!(before.to_string(), value.trim()),
            None => assert_eq!(before, 1_000, "mimalloc's default purge delay"),
        }
        keep_freed_memory();
        // SAFETY: as above.
        let after = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        if from_env.is_none() {
            assert_eq!(after, -1);
        }
        // SAFETY: as above.
        let arena_kib = unsafe { libmimalloc_sys::mi_option_get(ARENA_RESERVE) };
        if std::env::var_os("MIMALLOC_ARENA_RESERVE").is_none() {
            let arena = (arena_kib as u64) << 10;
            assert_eq!(arena, 1 << 30, "mimalloc's default arena reserve");
            let block = weir_tui::pretouch::BLOCK;
            assert!(
                block < arena && block >= arena / 8 * 7,
                "a pre-touched block fills most of one arena"
            );
        }
    }
}
