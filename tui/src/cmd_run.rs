//! `weir run`: validates the flags into a [`RunSpec`], starts the job through the runner,
//! shows the live console (or one progress line a second on stderr without a terminal),
//! then writes the [`RunReport`] (`--json`) and prints the summary.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use weir_workloads::catalog::Query;
use weir_workloads::catalog::{EngineKind, Workload};
use weir_workloads::cluster::TimelyCluster;
use weir_workloads::inputs::EventFile;
use weir_workloads::job::{EventFormat, RunError, RunLength, RunSpec, SourceMode};
use weir_workloads::report::RunReport;
use weir_workloads::runner;

use crate::console::{self, ConsoleState, Theme};
use crate::flamegraph::{FLINK_HINT, Sampler};
use crate::metrics_server::MetricsServer;
use crate::pretouch::{FLINK_CLUSTER_PRETOUCH, FLINK_PRETOUCH, Pretouch, pretouch, touched_line};
use crate::{panics, signals, summary};

/// Events per second of event time when neither `--rate` nor `--event-rate` is given
/// (docs/WORKLOADS.md 3.1: the Nexmark suite's TPS).
pub const DEFAULT_EVENT_RATE: u64 = 10_000_000;
/// How long `weir run` lasts when neither `--events` nor `--duration` is given.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);
/// Events per second of event time of the default timed run (no `--events`, `--duration`,
/// `--rate` or `--event-rate`). At the suite's 10 M/s, a run at a few million events/s moves
/// event time by less than one 10 s window in those 10 s, so no window would fire before the
/// end; at 1 M/s the 2 s slides of q5 close several times a second and the console shows
/// results and their latency as they come.
pub const DEMO_EVENT_RATE: u64 = 1_000_000;

/// The `--query` help text, from the catalog: every workload's queries and the default.
fn query_help() -> String {
    let mut parts = Vec::new();
    for workload in Workload::ALL {
        let names: Vec<&str> = Query::of(*workload)
            .filter(|q| !q.is_baseline())
            .map(Query::name)
            .collect();
        parts.push(format!(
            "{workload}: {} (default {})",
            names.join(" "),
            Query::default_for(*workload)
        ));
    }
    let baselines: Vec<String> = Query::all()
        .filter(|q| q.is_baseline())
        .map(|q| format!("{} {}", q.workload(), q))
        .collect();
    format!(
        "Query: {}; generator-only baselines (weir only): {}. `weir list` shows which engine \
         runs which",
        parts.join("; "),
        baselines.join(", ")
    )
}

/// The `--engine` help text, from the catalog and the registry.
fn engine_help() -> String {
    let names: Vec<&str> = EngineKind::ALL.iter().map(|e| e.as_str()).collect();
    let missing: Vec<&str> = EngineKind::ALL
        .iter()
        .filter(|e| !e.is_built())
        .map(|e| e.as_str())
        .collect();
    let lacking = if missing.is_empty() {
        String::new()
    } else {
        format!(" (this build lacks {})", missing.join(", "))
    };
    format!(
        "Engine: {} (sim: a deterministic fake for demos){lacking}",
        names.join(", ")
    )
}

/// When to use colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When stdout is a terminal, `NO_COLOR` is unset and `TERM` is not `dumb`.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Flags of `weir run`. With no flags at all it runs Nexmark q5 on weir, one worker per core,
/// for 10 s, at 1 M events/s of event time ([`DEMO_EVENT_RATE`]).
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Workload: nexmark or ysb.
    #[arg(default_value = "nexmark")]
    pub workload: Workload,
    #[arg(long, help = query_help())]
    pub query: Option<String>,
    #[arg(long, short, default_value = "weir", help = engine_help())]
    pub engine: EngineKind,
    /// Worker threads (Flink: parallelism) [default: one per core].
    #[arg(long, short)]
    pub workers: Option<usize>,
    /// Process exactly this many events (comparable digests need equal counts).
    #[arg(long, conflicts_with = "duration", value_name = "N")]
    pub events: Option<u64>,
    /// Run for this long: seconds (`10`, `2.5s`), `500ms` or `2m` [default: 10 s].
    #[arg(long, value_name = "TIME")]
    pub duration: Option<String>,
    /// Offered rate, events/s of wall time [default: as fast as possible].
    #[arg(long, value_name = "R")]
    pub rate: Option<u64>,
    /// Events/s of event time [default: --rate when given, else 10,000,000; 1,000,000 for the
    /// default 10 s run without --events or --duration, so that its windows fire].
    #[arg(long, value_name = "R")]
    pub event_rate: Option<u64>,
    /// Where sources get events: generate (on the fly) or replay (pre-generated in memory)
    /// [default: generate; replay with --input].
    #[arg(long)]
    pub source: Option<SourceMode>,
    /// Nexmark events from FILE instead of the generator: JSON lines or CSV as `weir gen
    /// nexmark` writes them, the event id being the line's position. Read into memory before
    /// the clock starts; with --events N, only the first N.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["duration", "rate", "event_rate"])]
    pub input: Option<PathBuf>,
    /// q13's side table from FILE: CSV `key,value` lines as `weir gen side-input` writes them
    /// [default: that table, built in].
    #[arg(long, value_name = "FILE")]
    pub side_input: Option<PathBuf>,
    /// q10 writes its partitioned files under DIR (new or empty) [default: a fresh directory
    /// under the system's temporary directory, printed in the summary].
    #[arg(long, value_name = "DIR")]
    pub sink_dir: Option<PathBuf>,
    /// YSB only: how the source hands over events: records (in memory) or json (JSON lines
    /// that the query parses; weir only).
    #[arg(long, default_value = "records")]
    pub format: EventFormat,
    /// Do not pin worker i to core i.
    #[arg(long)]
    pub no_pin: bool,
    /// No live console: one progress line a second on stderr (automatic without a terminal).
    #[arg(long)]
    pub no_tui: bool,
    /// Write the RunReport as JSON to FILE (`-` = stdout, which then holds only the JSON).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the result rows as JSON lines to FILE, keyed by the result columns. An updating
    /// query (q4, q9, q15-q19) writes its final table: the rows left once its changelog is
    /// folded at end of input.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// With --output, an updating query writes its changelog instead of its final table:
    /// every insertion and retraction in the order the sinks saw them, each line tagged
    /// "op":"insert" or "op":"retract" (weir only).
    #[arg(long, requires = "output")]
    pub changelog: bool,
    /// Print only the final result line (nothing with `--json -`).
    #[arg(long, short)]
    pub quiet: bool,
    /// Colours: auto, always, never (NO_COLOR turns auto off).
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// Draw the console with ASCII characters only.
    #[arg(long)]
    pub ascii: bool,
    /// Console frames per second (1 to 60).
    #[arg(long, default_value_t = console::DEFAULT_FPS)]
    pub fps: u32,
    /// Serve the live metrics in the Prometheus text format at http://HOST:PORT/metrics while
    /// weir runs (port 0 picks a free port; the address is printed on stderr).
    #[arg(long, value_name = "HOST:PORT")]
    pub metrics_addr: Option<String>,
    /// Sample the run's CPU time and write a flame graph (SVG) to FILE at the end (weir,
    /// timely, differential; Flink draws its own, see the message).
    #[arg(long, value_name = "FILE.svg")]
    pub flamegraph: Option<PathBuf>,
    /// Timely cluster mode: the job spans N processes (run the same command in each, with its
    /// own --process); --workers is per process.
    #[arg(long, value_name = "N", help_heading = "Timely cluster mode")]
    pub processes: Option<usize>,
    /// Timely cluster mode: this process's index, 0 to N-1 [default: 0].
    #[arg(long, value_name = "I", help_heading = "Timely cluster mode")]
    pub process: Option<usize>,
    /// Timely cluster mode: one `host:port` line per process, in process order [default:
    /// localhost:2101, localhost:2102, ...].
    #[arg(long, value_name = "FILE", help_heading = "Timely cluster mode")]
    pub hostfile: Option<PathBuf>,
    /// Before the run, allocate SIZE (1G, 800M; rounded up to whole blocks of 896 MiB, each
    /// filling one of the allocator's arenas), write every byte and free it, so that the
    /// job's state grows into memory the process already holds instead of taking page faults
    /// while its first windows are due (weir, timely, differential; not part of the run's
    /// time; flink: its JVM writes its whole heap, -XX:+AlwaysPreTouch). Worth about the run's
    /// peak resident size; see docs/BENCHMARKING.md.
    #[arg(long, value_name = "SIZE", default_value = "off")]
    pub pretouch: Pretouch,
    /// Run on the Flink cluster whose REST API is at HOST:PORT (scripts/flink-cluster.sh start
    /// prints it) instead of a local MiniCluster; --workers is the job's parallelism.
    #[arg(long, value_name = "HOST:PORT", help_heading = "Flink cluster")]
    pub flink_cluster: Option<String>,
}

/// A flag error: printed with the flag's name, exit code 2.
#[derive(Debug)]
struct UsageError(String);

fn usage<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

/// Parses a duration: `10`, `2.5s`, `500ms`, `2m`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t, 1.0)
    };
    let value: f64 = number.trim().parse().ok()?;
    (value.is_finite() && value >= 0.0).then(|| Duration::from_secs_f64(value * scale))
}

/// Turns the flags into a [`RunSpec`], or a message naming the flag at fault.
///
/// # Errors
/// A message naming the flag and its valid values.
pub fn build_spec(args: &RunArgs, command: String) -> Result<RunSpec, String> {
    spec_of(args, command).map_err(|e| e.0)
}

fn spec_of(args: &RunArgs, command: String) -> Result<RunSpec, UsageError> {
    let query = match &args.query {
        None => Query::default_for(args.workload),
        Some(name) => Query::parse(args.workload, name).map_err(|e| UsageError(e.to_string()))?,
    };
    check_cluster_flags(args)?;
    let flink_cluster = match &args.flink_cluster {
        None => None,
        Some(_) if args.engine != EngineKind::Flink => {
            return usage(format!(
                "--flink-cluster runs Flink on a cluster; engine '{}' runs here (use --engine \
                 flink, or leave --flink-cluster out)",
                args.engine
            ));
        }
        Some(address) => match weir_workloads::cluster::parse_flink_address(address) {
            Ok(address) => Some(address),
            Err(e) => return usage(e.to_string()),
        },
    };
    if let Err(e) = runner::check_format(args.format, args.workload, args.engine) {
        return usage(e.to_string());
    }
    let workers = match args.workers {
        Some(0) => return usage("--workers must be at least 1"),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
    };
    let source = input_source(args)?;
    let length = match (args.events, &args.duration) {
        (Some(0), _) => {
            return usage("--events must be at least 1 (or use --duration for a timed run)");
        }
        (Some(n), _) => RunLength::Events(n),
        (None, _) if args.input.is_some() => RunLength::Events(input_events(args)?),
        (None, Some(text)) => match parse_duration(text) {
            Some(d) if !d.is_zero() => RunLength::Duration(d),
            Some(_) => return usage("--duration must be more than 0"),
            None => {
                return usage(format!(
                    "invalid --duration '{text}': use seconds like 10 or 2.5s, or 500ms, or 2m"
                ));
            }
        },
        (None, None) => RunLength::Duration(DEFAULT_DURATION),
    };
    if args.rate == Some(0) {
        return usage(
            "--rate must be at least 1 event/s (leave it out to run as fast as possible)",
        );
    }
    if args.event_rate == Some(0) {
        return usage("--event-rate must be at least 1 event/s");
    }
    let event_rate = match (args.rate, args.event_rate) {
        (Some(r), Some(e)) if r != e => {
            return usage(format!(
                "--rate {r} and --event-rate {e} disagree: a paced run's event time follows the \
                 wall clock, so --event-rate must equal --rate (or be left out)"
            ));
        }
        (Some(r), _) => r,
        (None, Some(e)) => e,
        (None, None)
            if args.events.is_none() && args.duration.is_none() && args.input.is_none() =>
        {
            DEMO_EVENT_RATE
        }
        (None, None) => DEFAULT_EVENT_RATE,
    };
    if !(1..=60).contains(&args.fps) {
        return usage(format!("--fps {} is out of range: use 1 to 60", args.fps));
    }
    for (flag, path) in [("--json", &args.json), ("--output", &args.output)] {
        if let Some(path) = path.as_ref().filter(|p| p.as_os_str() != "-") {
            check_parent(flag, path)?;
        }
    }
    if args.output.as_ref().is_some_and(|p| p.as_os_str() == "-") {
        return usage(
            "--output needs a file name (the result rows can be large); use --json - for the report on stdout",
        );
    }
    let cluster = match cluster_of(args) {
        None => None,
        Some(Ok(cluster)) => Some(cluster),
        Some(Err(e)) => return usage(e.to_string()),
    };
    Ok(RunSpec {
        query,
        engine: args.engine,
        workers,
        pinning: !args.no_pin,
        length,
        rate: args.rate,
        event_rate,
        source,
        format: args.format,
        output: args.output.clone(),
        input: args.input.clone(),
        side_input: args.side_input.clone(),
        // q10 always writes its files somewhere the user can find them.
        sink_dir: args
            .sink_dir
            .clone()
            .or_else(|| (query == Query::Q10).then(weir_workloads::weir::fresh_sink_dir)),
        changelog: args.changelog,
        command,
        cluster,
        flink_cluster,
        // The console's dataflow view and the summary's bottleneck line show them.
        operator_metrics: true,
        jvm_pretouch: args.pretouch.is_on() && args.engine == EngineKind::Flink,
    })
}

/// The source mode: `--source`, else replay with `--input` (the file is read into memory),
/// else generate.
fn input_source(args: &RunArgs) -> Result<SourceMode, UsageError> {
    match (args.source, &args.input) {
        (Some(SourceMode::Generate), Some(_)) => usage(
            "--input reads the file into memory before the clock starts (the replay mode): \
             leave --source out, or use --source replay",
        ),
        (Some(source), _) => Ok(source),
        (None, Some(_)) => Ok(SourceMode::Replay),
        (None, None) => Ok(SourceMode::Generate),
    }
}

/// The number of events in the `--input` file (read now, before anything starts; the
/// engines reuse the parsed file).
fn input_events(args: &RunArgs) -> Result<u64, UsageError> {
    let Some(path) = &args.input else {
        return Ok(0);
    };
    if args.workload != Workload::Nexmark {
        return usage(format!(
            "--input reads Nexmark events; {} events are generated (leave --input out)",
            args.workload
        ));
    }
    EventFile::load(path)
        .map(EventFile::len)
        .map_err(|e| UsageError(format!("--input {e}")))
}

/// The cluster flags are for timely only, and `--process` must be below `--processes`.
fn check_cluster_flags(args: &RunArgs) -> Result<(), UsageError> {
    let given = args.processes.is_some() || args.process.is_some() || args.hostfile.is_some();
    if !given {
        return Ok(());
    }
    if args.engine != EngineKind::Timely {
        return usage(format!(
            "--processes, --process and --hostfile are timely's cluster mode; engine '{}' \
             runs in one process (use --engine timely, or leave them out)",
            args.engine
        ));
    }
    let Some(processes) = args.processes else {
        return usage("--process and --hostfile need --processes N (the number of processes)");
    };
    if processes == 0 {
        return usage("--processes must be at least 1");
    }
    let process = args.process.unwrap_or(0);
    if process >= processes {
        return usage(format!(
            "--process {process} must be below --processes {processes} (processes are numbered \
             from 0)"
        ));
    }
    if let Some(file) = &args.hostfile
        && !file.is_file()
    {
        return usage(format!(
            "--hostfile {}: no such file (give one host:port line per process)",
            file.display()
        ));
    }
    Ok(())
}

/// The timely cluster the flags describe, if any.
fn cluster_of(
    args: &RunArgs,
) -> Option<Result<TimelyCluster, weir_workloads::cluster::ClusterError>> {
    let processes = args.processes?;
    let process = args.process.unwrap_or(0);
    Some(match &args.hostfile {
        Some(file) => TimelyCluster::from_hostfile(processes, process, file),
        None => TimelyCluster::localhost(processes, process),
    })
}

fn check_parent(flag: &str, path: &Path) -> Result<(), UsageError> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    match parent {
        Some(dir) if !dir.is_dir() => usage(format!(
            "{flag} {}: the directory {} does not exist",
            path.display(),
            dir.display()
        )),
        _ => Ok(()),
    }
}

/// The command line as typed, quoted where needed, for the report.
fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                a
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn color_enabled(choice: ColorChoice, tty: bool) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    use_color(choice, tty, no_color, dumb)
}

/// Whether to use colours: `always`/`never` win; `auto` wants a terminal, no (non-empty)
/// `NO_COLOR` and a `TERM` other than `dumb`.
pub fn use_color(choice: ColorChoice, tty: bool, no_color: bool, dumb_term: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => tty && !no_color && !dumb_term,
    }
}

/// Runs `weir run` with parsed flags; returns the process exit code: 0 when the job ended (or
/// was stopped with `q`), 130 / 143 when SIGINT (Ctrl-C) / SIGTERM stopped it (the summary
/// and `--json` still come), 1 when the job fails, 2 for bad flags.
pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let spec = match spec_of(args, command_line()) {
        Ok(spec) => spec,
        Err(UsageError(msg)) => {
            eprintln!("error: {msg}");
            return Ok(ExitCode::from(2));
        }
    };
    let stdout_tty = std::io::stdout().is_terminal();
    let tui = stdout_tty && !args.no_tui && !args.quiet;
    let json_stdout = args.json.as_ref().is_some_and(|p| p.as_os_str() == "-");
    if let Err(e) = signals::install() {
        eprintln!(
            "warning: cannot handle SIGINT/SIGTERM ({e}); they will end weir without a summary"
        );
    }
    let metrics = match args
        .metrics_addr
        .as_deref()
        .map(MetricsServer::bind)
        .transpose()
    {
        Ok(bound) => bound,
        Err(e) => {
            eprintln!(
                "error: --metrics-addr {}: cannot listen there ({e}); give a free HOST:PORT of \
                 this machine, e.g. 127.0.0.1:9464 (port 0 picks a free one)",
                args.metrics_addr.as_deref().unwrap_or_default()
            );
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(cluster) = &spec.cluster {
        panics::watch_cluster(cluster);
    }
    if args.pretouch.is_on() && spec.engine == EngineKind::Flink {
        // Flink's memory is its JVM's heap: the JVM pre-touches it (spec.jvm_pretouch).
        if spec.flink_cluster.is_some() {
            eprintln!("error: {FLINK_CLUSTER_PRETOUCH}, and leave --pretouch out");
            return Ok(ExitCode::from(2));
        }
        if !args.quiet && !json_stdout {
            eprintln!("{FLINK_PRETOUCH}");
        }
    } else if args.pretouch.is_on() {
        match pretouch(args.pretouch) {
            Ok(took) if !args.quiet && !json_stdout => eprintln!(
                "{}, before the run's clock starts",
                touched_line(args.pretouch, took)
            ),
            Ok(_) => {}
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(2));
            }
        }
    }
    let sampler = if args.flamegraph.is_some() {
        let title = format!(
            "weir run {} {} on {}",
            spec.workload(),
            spec.query,
            spec.engine
        );
        match Sampler::start(spec.engine, title) {
            Ok(None) => {
                eprintln!("--flamegraph: not sampled. {FLINK_HINT}");
                None
            }
            Ok(sampler) => sampler,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::FAILURE);
            }
        }
    } else {
        None
    };
    let job = match runner::start(&spec) {
        Ok(job) => job,
        Err(e @ RunError::Config(_)) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    // Serves until weir exits, so a scraper also sees the final figures while the summary is
    // printed.
    let _metrics = match metrics.map(|bound| bound.serve(job.collector.clone(), &spec)) {
        Some(Ok(server)) => {
            eprintln!("metrics: http://{}/metrics", server.addr());
            Some(server)
        }
        Some(Err(e)) => {
            eprintln!("warning: the metrics server could not start ({e}); running without it");
            None
        }
        None => None,
    };
    let mut final_frame = Vec::new();
    let stopped_early = if tui {
        let theme = Theme::new(spec.engine, color_enabled(args.color, true), args.ascii);
        match console::watch(&job, &spec, theme, args.fps, &signals::stop_requested) {
            Ok(watched) => {
                final_frame = watched.final_frame;
                if !job.is_finished() {
                    eprintln!("waiting for the job to finish its open windows...");
                }
                watched.stopped_early
            }
            Err(e) => {
                // The job is unaffected: carry on as without a terminal.
                eprintln!("warning: the console failed ({e}); continuing with --no-tui");
                progress_loop(&job, &spec, false)
            }
        }
    } else {
        progress_loop(&job, &spec, args.quiet)
    };
    let collector = job.collector.clone();
    let report = match job.wait() {
        Ok(report) => report,
        Err(e) => {
            if !json_stdout {
                for line in &final_frame {
                    println!("{line}");
                }
            }
            eprintln!("error: the job failed: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if let (Some(sampler), Some(path)) = (sampler, &args.flamegraph) {
        match sampler.finish(path) {
            Ok(samples) => eprintln!("flame graph: {} ({samples} samples)", path.display()),
            Err(e) => eprintln!("warning: {e}"),
        }
    }
    if let Some(path) = &args.json {
        write_json(&report, path)?;
    }
    let mut text = if args.quiet {
        format!("{}\n", summary::final_line(&report))
    } else {
        summary::text(&report, stopped_early)
    };
    if !args.quiet {
        text.push_str(&operators_line(&collector.latest(), report.query.as_str()));
    }
    if let Some(dir) = &spec.sink_dir {
        let _ = std::fmt::Write::write_fmt(
            &mut text,
            format_args!("partitioned files: {}\n", dir.display()),
        );
    }
    let summary_tty = if json_stdout {
        std::io::stderr().is_terminal()
    } else {
        stdout_tty
    };
    let text = if color_enabled(args.color, summary_tty) {
        summary::colorize(&text)
    } else {
        text
    };
    if json_stdout {
        if !args.quiet {
            eprint!("{text}");
        }
    } else {
        let mut out = std::io::stdout().lock();
        // The console's last frame stays on the normal screen, above the summary.
        for line in &final_frame {
            writeln!(out, "{line}")?;
        }
        out.write_all(text.as_bytes())?;
        out.flush()?;
    }
    Ok(ExitCode::from(signals::exit_code().unwrap_or(0)))
}

/// The summary's lines on where the time went, for an engine that reports its operators
/// (weir; timely and differential through timely's log; Flink's job vertices from its
/// metrics): the bottleneck over the whole run, as the dataflow view names it, and the busiest
/// operators' own share of wall time on that worker (a flame graph of the run shows the same
/// order). Empty for engines that report no operators.
fn operators_line(last: &weir_engine::MetricsSnapshot, query: &str) -> String {
    let window = crate::console::operators::OperatorWindow::default();
    let Some(dataflow) = window.dataflow(last) else {
        return String::new();
    };
    let Some(bottleneck) = &dataflow.bottleneck else {
        return String::new();
    };
    let w = bottleneck.worker;
    let mut own: Vec<(&str, f64)> = dataflow
        .ops
        .iter()
        .filter_map(|o| o.workers.get(w).map(|r| (o.name.as_str(), r.busy)))
        .collect();
    own.sort_by(|a, b| b.1.total_cmp(&a.1));
    let top: Vec<String> = own
        .iter()
        .take(3)
        .map(|(name, busy)| format!("{name} {}", crate::console::fmt::pct(*busy)))
        .collect();
    format!(
        "bottleneck (whole run): {}\noperators' own time on w{w}: {}\n",
        bottleneck.whole_run_line(query),
        top.join(", ")
    )
}

/// Without a console: a progress line on stderr every second (unless `quiet`) until the job
/// ends; SIGINT or SIGTERM stops it. Returns whether the job was stopped early.
fn progress_loop(job: &weir_workloads::job::Job, spec: &RunSpec, quiet: bool) -> bool {
    const POLL: Duration = Duration::from_millis(50);
    const EVERY: Duration = Duration::from_secs(1);
    let mut state = ConsoleState::new(spec.clone());
    let mut next = Instant::now() + EVERY;
    let mut stopped = false;
    while !job.is_finished() {
        if let Some(stop) = signals::received()
            && !stopped
        {
            job.stop.raise();
            stopped = true;
            if !quiet {
                eprintln!("{}", signals::stopping_line(stop));
            }
        }
        std::thread::sleep(POLL);
        if Instant::now() >= next {
            next += EVERY;
            state.ingest(job.collector.latest());
            if !quiet {
                eprintln!("{}", summary::progress_line(&state));
            }
        }
    }
    stopped
}

fn write_json(report: &RunReport, path: &Path) -> anyhow::Result<()> {
    let mut json = serde_json::to_string_pretty(report)?;
    json.push('\n');
    if path.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(json.as_bytes())?;
        out.flush()?;
    } else {
        std::fs::write(path, json).map_err(|e| {
            anyhow::anyhow!("--json {}: cannot write the report: {e}", path.display())
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{ColorChoice, DEFAULT_EVENT_RATE, DEMO_EVENT_RATE, RunArgs, build_spec, use_color};

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    fn event_rate(flags: &[&str]) -> u64 {
        let cli = Cli::try_parse_from(std::iter::once("run").chain(flags.iter().copied()))
            .expect("valid flags");
        build_spec(&cli.run, String::new())
            .expect("valid spec")
            .event_rate
    }

    #[test]
    fn the_default_timed_run_uses_the_demo_event_rate_and_everything_else_the_suites() {
        assert_eq!(event_rate(&[]), DEMO_EVENT_RATE);
        assert_eq!(event_rate(&["--query", "q7"]), DEMO_EVENT_RATE);
        assert_eq!(event_rate(&["--events", "1000"]), DEFAULT_EVENT_RATE);
        assert_eq!(event_rate(&["--duration", "5"]), DEFAULT_EVENT_RATE);
        assert_eq!(event_rate(&["--rate", "5000"]), 5000);
        assert_eq!(event_rate(&["--event-rate", "7000"]), 7000);
    }

    #[test]
    fn color_choice() {
        assert!(use_color(ColorChoice::Auto, true, false, false));
        assert!(!use_color(ColorChoice::Auto, false, false, false));
        assert!(!use_color(ColorChoice::Auto, true, true, false));
        assert!(!use_color(ColorChoice::Auto, true, false, true));
        assert!(use_color(ColorChoice::Always, false, true, true));
        assert!(!use_color(ColorChoice::Never, true, false, false));
    }
}
