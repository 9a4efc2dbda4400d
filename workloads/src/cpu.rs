//! CPU time of a run: user and system seconds, read from Linux's `/proc`.
//!
//! **What is counted.** In-process engines (weir, timely, differential) run their workers as
//! threads of this process, so a run's CPU is the process's CPU over the run *minus* that of
//! the thread that started and waited for it (the thread that draws the console): what is left
//! is the engine's own threads (workers with their sources, the job's driver thread). Threads
//! that ended during the run still count: the kernel folds a finished thread's time into the
//! process totals. Flink runs in a JVM: its adapter reads the JVM process instead, from when
//! the job starts running (the JVM's start-up is not part of the run).
//!
//! **Resolution.** `/proc/<pid>/stat` counts in clock ticks of 1/100 s (`USER_HZ`, fixed at 100
//! in the kernel's ABI on every architecture Linux supports), the same accounting `getrusage`
//! and `/usr/bin/time` report. Off Linux the readings are `None`, and reports say so (null).
//!
//! Cost: one small file read per mark, two marks per run.

use std::thread::ThreadId;

use serde::{Deserialize, Serialize};

/// Clock ticks per second in `/proc` (the kernel's `USER_HZ`).
const TICKS_PER_S: f64 = 100.0;

/// User and system CPU seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuTime {
    /// Seconds in user mode.
    pub user_s: f64,
    /// Seconds in the kernel on the process's behalf.
    pub system_s: f64,
}

impl CpuTime {
    /// User plus system seconds.
    pub fn total_s(self) -> f64 {
        self.user_s + self.system_s
    }

    /// `self - earlier`, clamped at zero.
    #[must_use]
    pub fn since(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user_s: (self.user_s - earlier.user_s).max(0.0),
            system_s: (self.system_s - earlier.system_s).max(0.0),
        }
    }

    /// Reads `/proc/<pid>/stat` (or `/proc/thread-self/stat` with `"thread-self"`).
    pub fn of_proc(pid: &str) -> Option<CpuTime> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        parse_stat(&stat)
    }

    /// This whole process, all threads (finished ones included).
    pub fn process() -> Option<CpuTime> {
        Self::of_proc("self")
    }

    /// The calling thread.
    pub fn thread() -> Option<CpuTime> {
        Self::of_proc("thread-self")
    }
}

/// Fields 14 and 15 (`utime`, `stime`) of a `stat` line. The command name (field 2) is in
/// parentheses and may hold spaces, so fields are counted after its closing parenthesis.
fn parse_stat(stat: &str) -> Option<CpuTime> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(CpuTime {
        user_s: user as f64 / TICKS_PER_S,
        system_s: system as f64 / TICKS_PER_S,
    })
}

/// The process's and the calling thread's CPU at the start of a run.
#[derive(Clone, Copy, Debug)]
pub struct CpuMark {
    process: CpuTime,
    thread: CpuTime,
    thread_id: ThreadId,
}

impl CpuMark {
    /// Marks now; `None` where `/proc` is not readable.
    pub fn now() -> Option<CpuMark> {
        Some(CpuMark {
            process: CpuTime::process()?,
            thread: CpuTime::thread()?,
            thread_id: std::thread::current().id(),
        })
    }

    /// The CPU the rest of the process used since the mark: everything but the calling thread
    /// when it is the thread that made the mark (else the whole process).
    pub fn engine_since(self) -> Option<CpuTime> {
        let process = CpuTime::process()?.since(self.process);
        if std::thread::current().id() != self.thread_id {
            return Some(process);
        }
        let own = CpuTime::thread()?.since(self.thread);
        Some(process.since(own))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utime_and_stime_after_a_name_with_spaces() {
        let line = "4242 (weir w0 (x)) R 1 2 3 4 5 6 7 8 9 10 250 31 0 0 20 0 3 0 100 1 2";
        let cpu = parse_stat(line).expect("a stat line");
        assert!((cpu.user_s - 2.5).abs() < 1e-9);
        assert!((cpu.system_s - 0.31).abs() < 1e-9);
        assert!(parse_stat("garbage").is_none());
    }
}
