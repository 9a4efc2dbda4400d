//! `--flamegraph FILE.svg`: a sampled CPU profile of a run, drawn as a flame graph.
//!
//! Sampling uses the `pprof` crate: a `SIGPROF` interval timer (`setitimer(ITIMER_PROF)`)
//! that fires per CPU time the process uses, on whichever thread is running, and records
//! that thread's stack; no root and no `perf` are needed. The flame graph is rendered by
//! `inferno` (through pprof's `flamegraph` feature).
//!
//! **What is sampled.** The whole `weir` process: an in-process engine's workers (weir,
//! timely, differential) and, with the console on, the console thread (its share is small and
//! shows up under its own frames). Flink runs in its own JVM, which this sampler cannot see:
//! for Flink, weir says where Flink's own flame graphs are instead of writing an empty file.
//!
//! **Cost.** [`FREQUENCY_HZ`] samples per CPU-second, each unwinding one stack. `perf` puts
//! the signal handler and its unwinding at about 0.2 % of a q8 run's CPU; building the graph
//! (symbols from the binary's debug info) runs on the main thread after the run. Throughput
//! A/B runs (`scripts/overhead.sh`) of q8, the most sensitive query: over 26 interleaved pairs
//! -0.2 % with a 95 % interval of -1.8 to 1.4 % (docs/RESULTS.md); single 5-round runs read
//! 0-4.5 %, the machine's drift.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use weir_workloads::catalog::EngineKind;

/// Samples per second of CPU time. Odd, so the timer does not beat with 10 ms periodic work.
pub const FREQUENCY_HZ: i32 = 99;

/// What Flink users get instead (its sampling lives in the JVM).
pub const FLINK_HINT: &str = "Flink runs in its own JVM, which weir's sampler cannot see: Flink \
     draws its own flame graphs (set rest.flamegraph.enabled: true on a Flink cluster, run \
     with --flink-cluster, and open the job's operator, tab 'FlameGraph', in Flink's web UI)";

/// Errors of the sampler.
#[derive(Debug, thiserror::Error)]
pub enum FlameError {
    /// The sampler could not start (for example the signal timer is in use).
    #[error("--flamegraph: the sampler could not start: {0}")]
    Start(String),
    /// Building or writing the graph failed.
    #[error("--flamegraph {path}: could not write the flame graph: {why}")]
    Write {
        /// Where it was to go.
        path: PathBuf,
        /// Why it failed.
        why: String,
    },
}

/// A running sampler; [`Sampler::finish`] writes the graph.
pub struct Sampler {
    guard: pprof::ProfilerGuard<'static>,
    title: String,
}

impl std::fmt::Debug for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sampler")
            .field("title", &self.title)
            .finish_non_exhaustive()
    }
}

impl Sampler {
    /// Starts sampling this process for a run of `engine`, titled `title`. `Ok(None)` for an
    /// engine that runs outside this process (Flink): see [`FLINK_HINT`].
    ///
    /// # Errors
    /// [`FlameError::Start`] when the sampler cannot start.
    pub fn start(engine: EngineKind, title: String) -> Result<Option<Self>, FlameError> {
        if engine == EngineKind::Flink {
            return Ok(None);
        }
        let guard = without_huge_pages(|| {
            pprof::ProfilerGuardBuilder::default()
                .frequency(FREQUENCY_HZ)
                // Never unwind inside these: the signal may interrupt them where unwinding is
                // unsafe (pprof's advice).
                .blocklist(&["libc", "libgcc", "pthread", "vdso"])
                .build()
        })
        .map_err(|e| FlameError::Start(e.to_string()))?;
        Ok(Some(Self { guard, title }))
    }

    /// Stops sampling and writes the flame graph to `path` (an SVG). Returns the number of
    /// samples drawn.
    ///
    /// # Errors
    /// [`FlameError::Write`] when the report cannot be built or the file written.
    pub fn finish(self, path: &Path) -> Result<usize, FlameError> {
        let fail = |why: String| FlameError::Write {
            path: path.to_path_buf(),
            why,
        };
        let report = self
            .guard
            .report()
            .build()
            .map_err(|e| fail(e.to_string()))?;
        // Stopping resets pprof's table, allocating it afresh: also in small pages, so the
        // next sampled run of a comparison does not start beside a table in huge pages.
        without_huge_pages(|| drop(self.guard));
        let samples: usize = report.data.values().map(|&n| n as usize).sum();
        if samples == 0 {
            return Err(fail(format!(
                "no samples: the run used less CPU time than one sampling interval ({} ms); \
                 run more events",
                1000 / FREQUENCY_HZ
            )));
        }
        let file = File::create(path).map_err(|e| fail(e.to_string()))?;
        let mut options = pprof::flamegraph::Options::default();
        options.title.clone_from(&self.title);
        options.count_name = "samples".to_string();
        report
            .flamegraph_with_options(BufWriter::new(file), &mut options)
            .map_err(|e| fail(e.to_string()))?;
        Ok(samples)
    }
}

/// Runs `f` with transparent huge pages off for the pages this process faults in meanwhile,
/// then restores the previous setting (Linux `prctl(PR_SET_THP_DISABLE)`; elsewhere just `f`).
///
/// pprof allocates its table of samples (about 116 MB) when it starts and again when it
/// stops. The allocator (mimalloc) asks for huge pages for it, and that idle table in huge
/// pages cost q8 3-5 % of its throughput, while the same memory in 4 KiB pages costs nothing
/// measurable (docs/RESULTS.md, "What the profiling tools cost"). The engine's own allocations
/// happen outside `f` and keep huge pages, so a sampled run measures the same engine.
fn without_huge_pages<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(target_os = "linux")]
    {
        use rustix::thread::{disable_transparent_huge_pages, transparent_huge_pages_are_disabled};
        // Only a process that had them on gets them back; an error leaves them as they were.
        let switch = transparent_huge_pages_are_disabled() == Ok(false)
            && disable_transparent_huge_pages(true).is_ok();
        let out = f();
        if switch {
            let _ = disable_transparent_huge_pages(false);
        }
        out
    }
    #[cfg(not(target_os = "linux"))]
    f()
}
