//! `weir compare`: the command line around [`crate::compare`].
//!
//! Exit status: 0 when every run finished and all digests agree; 1 when the engines disagree
//! on a result, a run failed, or nothing could be measured; 130 when interrupted (Ctrl-C or
//! `q`) without a failure; 2 for a bad command line (a flag's value included).

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::inputs::EventFile;
use weir_workloads::job::{EventFormat, SourceMode};

use crate::compare::fmt::Style;
use crate::compare::live::LiveConsole;
use crate::compare::mock::MockExecutor;
use crate::compare::progress::LineProgress;
use crate::compare::record::CompareReport;
use crate::compare::verdict;
use crate::compare::{ComparePlan, Executor, Observer, Outputs, RunnerExecutor};

/// Default events per run.
pub const DEFAULT_EVENTS: u64 = 10_000_000;
/// Default events per second of event time (docs/WORKLOADS.md 3.1: the Nexmark suite's TPS).
pub const DEFAULT_EVENT_RATE: u64 = 10_000_000;
/// Default seconds of events per run under `--load`.
pub const DEFAULT_LOAD_SECONDS: f64 = 30.0;

/// When to colour the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When stdout is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// `weir compare <nexmark|ysb> [options]`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Exit status: 0 all runs finished and agree; 1 digest disagreement, failed run or nothing measured; 2 bad command line; 130 interrupted.\n\nMethod: one unreported warm-up run per engine and query, then --runs rounds that run the engines round-robin; ratios are computed within each round, then their median and min-max are reported. See docs/ARCHITECTURE.md, \"weir compare\"."
)]
pub struct CompareArgs {
    /// The workload: nexmark or ysb.
    pub workload: String,
    /// Queries, comma-separated (q5,q7), or `all`: every query one of --engines runs [default:
    /// q5 for nexmark, ysb for ysb].
    #[arg(long, short = 'q')]
    pub query: Option<String>,
    /// Engines, comma-separated, in the order each round runs them.
    #[arg(long, short = 'e', default_value = "weir,timely,differential,flink")]
    pub engines: String,
    /// Measured runs per engine and query (rounds).
    #[arg(long, short = 'r', default_value_t = 5)]
    pub runs: usize,
    /// Worker threads for every engine [default: one per core].
    #[arg(long, short = 'w')]
    pub workers: Option<usize>,
    /// Events per run (every run gets the same input, so digests are comparable) [default:
    /// 10,000,000; with --input, the file's events].
    #[arg(long, short = 'n')]
    pub events: Option<u64>,
    /// Offered rate in events/s of wall time, the same for every engine (for latency
    /// comparisons) [default: as fast as possible].
    #[arg(long, conflicts_with = "load")]
    pub rate: Option<u64>,
    /// Offer each engine this fraction of its own maximum (e.g. 0.8): two calibration runs per
    /// engine and query measure the maximum first (an unpaced probe, then a steady-state run in
    /// which windows close), replacing the warm-up; each engine then runs on its own input.
    #[arg(long)]
    pub load: Option<f64>,
    /// Seconds of events per paced run (--rate or --load): its input is the offered rate times
    /// this [default with --load: 30; with --rate: --events events].
    #[arg(long)]
    pub duration: Option<f64>,
    /// Events per second of event time; must equal --rate when both are set.
    #[arg(long)]
    pub event_rate: Option<u64>,
    /// Where sources get events: generate (on the fly) or replay (pre-generated in memory)
    /// [default: generate; replay with --input].
    #[arg(long)]
    pub source: Option<String>,
    /// Nexmark events from FILE for every run instead of the generator: JSON lines or CSV as
    /// `weir gen nexmark` writes them (read into memory before each run's clock starts).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["rate", "event_rate"])]
    pub input: Option<PathBuf>,
    /// q13's side table from FILE (CSV as `weir gen side-input` writes it) [default: that
    /// table, built in].
    #[arg(long, value_name = "FILE")]
    pub side_input: Option<PathBuf>,
    /// YSB only: records (in memory) or json (JSON lines parsed inside the job; weir only).
    #[arg(long, default_value = "records")]
    pub format: String,
    /// Write report.json, report.csv, report.md and plots (SVG, PNG) here, after every run.
    #[arg(long, short = 'o')]
    pub out: Option<PathBuf>,
    /// Compare with an earlier report.json written by `weir compare --out`.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// A change against --baseline smaller than this (percent) is called noise.
    #[arg(long, default_value_t = 5.0)]
    pub noise_threshold: f64,
    /// Skip the warm-up run (its figures are never reported anyway).
    #[arg(long)]
    pub no_warmup: bool,
    /// Do not pin worker i to core i.
    #[arg(long)]
    pub no_pin: bool,
    /// No live console: progress lines on stderr (automatic without a terminal).
    #[arg(long)]
    pub no_tui: bool,
    /// Colour: auto, always or never (NO_COLOR is honoured by auto).
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// ASCII symbols only (x, .., *, ok) in the verdict.
    #[arg(long)]
    pub ascii: bool,
    /// Use the deterministic fake executor instead of real engines (tests and demos).
    #[arg(long, hide = true)]
    pub mock: bool,
    /// Sample the first run of every engine and query (the warm-up, unless --no-warmup) and
    /// write its flame graph into DIR, named after workload, query, engine, workers and source
    /// (e.g. nexmark-q5-weir-w2-generate.svg; weir, timely, differential; Flink draws its own,
    /// see the message).
    #[arg(long, value_name = "DIR")]
    pub flamegraph: Option<PathBuf>,
    /// Run flink on the Flink cluster whose REST API is at HOST:PORT (scripts/flink-cluster.sh
    /// start prints it) instead of a local MiniCluster; the other engines run here as usual.
    #[arg(long, value_name = "HOST:PORT")]
    pub flink_cluster: Option<String>,
    /// Stop a run (weir, timely, differential: they run in this process) once the process
    /// holds more than SIZE resident (16G, 800M), and record it as failed so that the other
    /// runs go on; `auto`: what weir holds when the run starts plus 90 % of the memory
    /// available then; `off`: never (a run that outgrows memory is then killed by the kernel,
    /// with the whole comparison).
    #[arg(long, value_name = "SIZE", default_value = "auto")]
    pub max_memory: crate::compare::memory::MemoryLimit,
    /// Before the first run, allocate SIZE (1G, 800M; rounded up to whole blocks of 896 MiB,
    /// each filling one of the allocator's arenas), write every byte and free it, so that
    /// the runs' state grows into memory this process already holds instead of taking page
    /// faults while their first windows are due (weir, timely, differential alike; each local
    /// flink run's JVM writes its whole heap instead, -XX:+AlwaysPreTouch). Worth about the
    /// largest run's resident size; see docs/BENCHMARKING.md.
    #[arg(long, value_name = "SIZE", default_value = "off")]
    pub pretouch: crate::pretouch::Pretouch,
}

/// The queries `--query all` means: every query of the workload but the generator-only
/// baselines (which run on weir only) that at least one of `engines` runs, in catalog order.
/// A query that some of them do not run is still planned: those runs are recorded as
/// unsupported.
pub fn workload_queries(workload: Workload, engines: &[EngineKind]) -> Vec<Query> {
    Query::of(workload)
        .filter(|q| !q.is_baseline() && runs_on_any(*q, engines))
        .collect()
}

/// The queries of `workload` that `--query all` leaves out because none of `engines` runs
/// them (the generator-only baselines aside).
pub fn queries_left_out(workload: Workload, engines: &[EngineKind]) -> Vec<Query> {
    Query::of(workload)
        .filter(|q| !q.is_baseline() && !runs_on_any(*q, engines))
        .collect()
}

fn runs_on_any(query: Query, engines: &[EngineKind]) -> bool {
    engines.iter().any(|e| query.support(*e).runs())
}

/// Checks the arguments and turns them into a plan.
///
/// # Errors
/// A message naming the flag that is wrong and what to do.
pub fn plan(
    args: &CompareArgs,
    command: String,
    started_at: String,
) -> anyhow::Result<ComparePlan> {
    let workload: Workload = args
        .workload
        .parse()
        .with_context(|| format!("workload '{}'", args.workload))?;
    let mut engines = Vec::new();
    for name in args
        .engines
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let engine: EngineKind = name.parse().context("--engines")?;
        if engines.contains(&engine) {
            bail!("--engines lists '{engine}' twice; each engine runs once per round");
        }
        engines.push(engine);
    }
    if engines.is_empty() {
        bail!("--engines is empty; name at least one engine, e.g. --engines weir,timely");
    }
    let queries = match args.query.as_deref().map(str::trim) {
        None => vec![Query::default_for(workload)],
        Some("all") => workload_queries(workload, &engines),
        Some(list) => {
            let mut qs = Vec::new();
            for name in list.split(',').map(str::trim) {
                let q = Query::parse(workload, name).map_err(|e| anyhow::anyhow!("{e}, or all"))?;
                if qs.contains(&q) {
                    bail!("--query lists '{q}' twice");
                }
                qs.push(q);
            }
            qs
        }
    };
    if queries.is_empty() {
        bail!("--query all: none of --engines runs a {workload} query (see `weir list`)");
    }
    if args.runs == 0 {
        bail!("--runs must be at least 1 (5 or more for a ratio worth quoting)");
    }
    let workers = args
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    if workers == 0 {
        bail!("--workers must be at least 1");
    }
    let source: SourceMode = match (args.source.as_deref(), &args.input) {
        (None, Some(_)) => SourceMode::Replay,
        (None, None) => SourceMode::Generate,
        (Some(text), _) => text.parse().context("--source")?,
    };
    let events = match (args.events, &args.input) {
        (Some(0), _) => bail!("--events must be at least 1"),
        (Some(n), _) => n,
        (None, None) => DEFAULT_EVENTS,
        (None, Some(path)) => {
            if workload != Workload::Nexmark {
                bail!(
                    "--input reads Nexmark events; {workload} events are generated (leave --input out)"
                );
            }
            EventFile::load(path)
                .map_err(|e| anyhow::anyhow!("--input {e}"))?
                .len()
        }
    };
    if args.input.is_some() && source == SourceMode::Generate {
        bail!(
            "--input reads the file into memory before the clock starts (the replay mode): leave --source out, or use --source replay"
        );
    }
    if args.rate == Some(0) {
        bail!("--rate must be at least 1 event/s; leave it out to run as fast as possible");
    }
    if let Some(load) = args.load
        && !(load > 0.0 && load <= 2.0)
    {
        bail!("--load is a fraction of each engine's maximum in (0, 2], e.g. 0.8 for 80 %");
    }
    if let Some(d) = args.duration
        && !(d > 0.0 && d.is_finite())
    {
        bail!("--duration is the seconds of events per paced run, e.g. 30");
    }
    if args.duration.is_some() && args.rate.is_none() && args.load.is_none() {
        bail!(
            "--duration sets the length of paced runs; give --rate or --load too (unpaced runs use --events)"
        );
    }
    let duration_s = args.duration.or(args.load.map(|_| DEFAULT_LOAD_SECONDS));
    let event_rate = match (args.rate, args.event_rate) {
        (Some(r), Some(e)) if r != e => bail!(
            "--event-rate ({e}) must equal --rate ({r}) when both are set, so windows close in real time; leave --event-rate out"
        ),
        (Some(r), _) => r,
        (None, Some(0)) => bail!("--event-rate must be at least 1"),
        (None, Some(e)) => e,
        (None, None) => DEFAULT_EVENT_RATE,
    };
    let format: EventFormat = args.format.parse().context("--format")?;
    if format == EventFormat::Json {
        if workload != Workload::Ysb {
            bail!(
                "--format json is for ysb only: {workload} events are in-memory records (leave --format out)"
            );
        }
        if let Some(engine) = engines
            .iter()
            .find(|&&e| weir_workloads::runner::check_format(format, workload, e).is_err())
        {
            bail!(
                "--format json is implemented on weir only; --engines lists {engine} (use --engines weir, or leave --format out)"
            );
        }
    }
    let flink_cluster = match &args.flink_cluster {
        None => None,
        Some(_) if !engines.contains(&EngineKind::Flink) => bail!(
            "--flink-cluster runs flink on a cluster, but --engines does not list flink (add it, or leave --flink-cluster out)"
        ),
        Some(address) => Some(weir_workloads::cluster::parse_flink_address(address)?),
    };
    if !(0.0..100.0).contains(&args.noise_threshold) {
        bail!("--noise-threshold is a percentage in [0, 100), e.g. 5");
    }
    Ok(ComparePlan {
        workload,
        queries,
        engines,
        runs: args.runs,
        warmup: !args.no_warmup,
        workers,
        pinning: !args.no_pin,
        events,
        rate: args.rate,
        load: args.load,
        duration_s,
        event_rate,
        source,
        format,
        input: args.input.clone(),
        side_input: args.side_input.clone(),
        command,
        started_at,
        flink_cluster,
        pretouch: args.pretouch,
    })
}

fn read_baseline(path: &PathBuf) -> anyhow::Result<CompareReport> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--baseline {}: cannot read it", path.display()))?;
    CompareReport::from_json(&text)
        .map_err(|e| anyhow::anyhow!("--baseline {}: {e}", path.display()))
}

fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=.,/:+@".contains(c))
    {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

fn setup(
    args: &CompareArgs,
    command: String,
    started_at: String,
) -> anyhow::Result<(ComparePlan, Outputs)> {
    let plan = plan(args, command, started_at)?;
    let outputs = Outputs {
        dir: args.out.clone(),
        baseline: args.baseline.as_ref().map(read_baseline).transpose()?,
        noise_threshold: args.noise_threshold / 100.0,
    };
    if let Some(dir) = &outputs.dir
        && dir.exists()
        && !dir.is_dir()
    {
        bail!("--out {}: exists and is not a directory", dir.display());
    }
    Ok((plan, outputs))
}

/// Runs `weir compare`.
pub(crate) fn run(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let command = std::env::args()
        .map(|a| shell_quote(&a))
        .collect::<Vec<_>>()
        .join(" ");
    // The fake executor is deterministic down to the clock, so its output can be snapshot.
    let started_at = if args.mock {
        "2026-01-01T00:00:00Z".to_string()
    } else {
        crate::compare::now_rfc3339()
    };
    let command = if args.mock {
        "weir compare (mock)".to_string()
    } else {
        command
    };
    // A bad command line exits 2 (like clap's own errors), never 1, which means "the engines
    // disagree or a run failed".
    let (plan, outputs) = match setup(args, command, started_at) {
        Ok(ok) => ok,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(2));
        }
    };
    if plan.pretouch.is_on() && plan.flink_cluster.is_some() {
        eprintln!("note: {}", crate::pretouch::FLINK_CLUSTER_PRETOUCH);
    }
    if plan.pretouches_in_process() && !args.mock {
        match crate::pretouch::pretouch(plan.pretouch) {
            Ok(took) => eprintln!(
                "{}, before the first run",
                crate::pretouch::touched_line(plan.pretouch, took)
            ),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(2));
            }
        }
    }
    if args.query.as_deref().map(str::trim) == Some("all") {
        let left_out = queries_left_out(plan.workload, &plan.engines);
        if !left_out.is_empty() {
            let names: Vec<&str> = left_out.iter().map(|q| q.name()).collect();
            eprintln!(
                "note: --query all leaves out {} (no engine of --engines runs them; see `weir list`)",
                names.join(", ")
            );
        }
    }
    let stdout_tty = std::io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    let style = Style {
        color: match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout_tty && !no_color && !dumb,
        },
        unicode: !args.ascii && !dumb,
    };
    let mut mock = MockExecutor::new();
    let mut real = RunnerExecutor {
        memory_limit: args.max_memory,
        ..RunnerExecutor::default()
    };
    if let Some(dir) = &args.flamegraph {
        match crate::compare::FlameGraphs::new(dir.clone()) {
            Ok(graphs) => real.flamegraphs = Some(graphs),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(2));
            }
        }
    }
    let executor: &mut dyn Executor = if args.mock { &mut mock } else { &mut real };
    let title = format!(
        "weir compare {} {}",
        plan.workload,
        plan.queries
            .iter()
            .map(|q| q.name())
            .collect::<Vec<_>>()
            .join(",")
    );
    let use_tui = !args.no_tui && stdout_tty && std::io::stderr().is_terminal() && !dumb;
    // SIGINT / SIGTERM stop the comparison after the current run (its partial figures are not
    // counted; everything finished is exported); a second one exits at once.
    if let Err(e) = crate::signals::install() {
        eprintln!("warning: cannot handle SIGINT/SIGTERM ({e}); they will end weir at once");
    }
    let interrupt = crate::signals::stop_flag();
    let tui_color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color,
    };
    let live = if use_tui {
        match LiveConsole::new(title, plan.runs, tui_color, !style.unicode) {
            Ok(live) => Some(live.with_interrupt(Arc::clone(&interrupt))),
            Err(e) => {
                eprintln!("note: no live console ({e}); progress lines follow");
                None
            }
        }
    } else {
        None
    };
    let mut observer: Box<dyn Observer> = match live {
        Some(live) => Box::new(live),
        None => Box::new(LineProgress::new(
            std::io::stderr(),
            plan.runs,
            Duration::from_secs(1),
            Arc::clone(&interrupt),
        )),
    };
    let result = crate::compare::run_compare(&plan, executor, observer.as_mut(), &outputs);
    drop(observer); // restores the terminal before anything is printed
    let report = result?;
    print!("{}", verdict::render(&report, style));
    for note in real.flamegraphs.iter().flat_map(|g| &g.notes) {
        eprintln!("{note}");
    }
    if let Some(dir) = &outputs.dir {
        eprintln!(
            "wrote {} (report.json, report.csv, report.md, plots as SVG and PNG)",
            dir.display()
        );
    }
    Ok(if report.failed() {
        ExitCode::FAILURE
    } else if report.interrupted {
        // `q` in the console, Ctrl-C (130) or SIGTERM (143).
        ExitCode::from(crate::signals::exit_code().unwrap_or(130))
    } else if report.summary.queries.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> CompareArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrap {
            #[command(flatten)]
            args: CompareArgs,
        }
        let argv = ["weir-compare"].iter().chain(extra);
        Wrap::try_parse_from(argv)
            .expect("valid test arguments")
            .args
    }

    #[test]
    fn defaults_and_query_lists() {
        let p = plan(&args(&["nexmark"]), String::new(), String::new()).expect("valid");
        assert_eq!(p.queries, vec![Query::Q5]);
        assert_eq!(p.engines.len(), 4);
        assert_eq!((p.runs, p.warmup, p.events), (5, true, DEFAULT_EVENTS));
        assert_eq!((p.rate, p.event_rate), (None, DEFAULT_EVENT_RATE));
        let p = plan(
            &args(&["ysb", "--query", "all"]),
            String::new(),
            String::new(),
        )
        .expect("valid");
        assert_eq!(p.queries, vec![Query::Ysb]);
        let p = plan(
            &args(&["nexmark", "-q", "all"]),
            String::new(),
            String::new(),
        )
        .expect("valid");
        // Every query but the generator-only baselines: q0-q22.
        assert_eq!(p.queries.len(), 23);
        assert!(queries_left_out(Workload::Nexmark, &p.engines).is_empty());
        // Flink alone runs every query too.
        assert!(queries_left_out(Workload::Nexmark, &[EngineKind::Flink]).is_empty());
        let p = plan(
            &args(&["nexmark", "-q", " Q7 ,q5", "--rate", "1000"]),
            String::new(),
            String::new(),
        )
        .expect("valid");
        assert_eq!(p.queries, vec![Query::Q7, Query::Q5]);
        assert_eq!((p.rate, p.event_rate), (Some(1000), 1000));
        let e = plan(
            &args(&["nexmark", "-q", "q5,q5"]),
            String::new(),
            String::new(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("twice"));
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("--query"), "--query");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
