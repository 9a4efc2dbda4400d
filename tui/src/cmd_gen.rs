//! `weir gen`: prints the generator's events, so anyone can check them against another
//! implementation (the Java port, a spreadsheet, `jq`), or feed them back with `--input`; and
//! `weir gen side-input` prints q13's side table (the file `--side-input` reads).
//!
//! Nexmark JSON lines carry `"kind"` and the Nexmark DDL's field names; CSV has no header (the
//! kinds have different columns): the kind, then the same fields in the same order. YSB JSON
//! lines are the original benchmark's format (every value a string); its CSV has a header.

use std::fmt::Write as _;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use weir_workloads::inputs::SideInput;
use weir_workloads::nexmark::{self, NexmarkConfig, NexmarkSplit, format};
use weir_workloads::split::{Split, WorkerSplit};
use weir_workloads::ysb::{YsbConfig, YsbSplit};

/// Output format of `weir gen`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GenFormat {
    /// One JSON object per line (`json` is accepted too).
    #[value(alias = "json")]
    Jsonl,
    /// Comma-separated values.
    Csv,
}

/// What `weir gen` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GenWhat {
    /// Nexmark events (persons, auctions, bids).
    Nexmark,
    /// YSB ad events.
    Ysb,
    /// q13's side table: 10,000 CSV lines `key,value` (the file `--side-input` reads).
    SideInput,
}

/// Flags of `weir gen`.
#[derive(Debug, Clone, Args)]
pub struct GenArgs {
    /// What to print: nexmark or ysb events, or side-input (q13's side table, CSV).
    #[arg(value_enum)]
    pub what: GenWhat,
    /// Events of the input to consider (ids 0..N); with --workers, this worker's share of them
    /// is printed. Needed for nexmark and ysb.
    #[arg(long, value_name = "N")]
    pub events: Option<u64>,
    /// Events per second of event time (sets the timestamps).
    #[arg(long, value_name = "R", default_value_t = nexmark::DEFAULT_EVENT_RATE)]
    pub event_rate: u64,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: GenFormat,
    /// Split the input among this many workers (print only --worker's share).
    #[arg(long, value_name = "W", requires = "worker")]
    pub workers: Option<usize>,
    /// Which worker's share to print, 0-based (needs --workers).
    #[arg(long, value_name = "I", requires = "workers")]
    pub worker: Option<usize>,
    /// Nexmark only: the tie input, where bids share price and second (times floored to the
    /// second, 4 bid prices), to check the tie-breaks of q9, q18 and q19 with --input.
    #[arg(long)]
    pub ties: bool,
}

/// Runs `weir gen`.
pub fn run(args: &GenArgs) -> anyhow::Result<ExitCode> {
    let split = match (args.workers, args.worker) {
        (Some(workers), Some(worker)) => WorkerSplit::new(worker, workers)?,
        _ => WorkerSplit::SINGLE,
    };
    if args.ties && args.what != GenWhat::Nexmark {
        eprintln!(
            "error: --ties makes Nexmark bids tie; leave it out for weir gen ysb and side-input"
        );
        return Ok(ExitCode::from(2));
    }
    let events = match (args.what, args.events) {
        (GenWhat::SideInput, None) => 0,
        (GenWhat::SideInput, Some(_)) => {
            eprintln!(
                "error: weir gen side-input prints the fixed 10,000-row table; leave --events out"
            );
            return Ok(ExitCode::from(2));
        }
        (_, Some(n)) => n,
        (what, None) => {
            let name = if what == GenWhat::Nexmark {
                "nexmark"
            } else {
                "ysb"
            };
            eprintln!("error: weir gen {name} needs --events N (the events 0..N to print)");
            return Ok(ExitCode::from(2));
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = match args.what {
        GenWhat::SideInput => SideInput::builtin().write_csv(&mut out),
        GenWhat::Nexmark => {
            let config = NexmarkConfig {
                events,
                event_rate: args.event_rate,
                ..NexmarkConfig::default()
            };
            let source = NexmarkSplit::new(&config, split)?;
            nexmark_events(source, args.format, args.ties, &mut out)
        }
        GenWhat::Ysb => {
            let config = YsbConfig {
                events,
                event_rate: args.event_rate,
                ..YsbConfig::default()
            };
            let source = YsbSplit::new(&config, split)?;
            ysb_events(source, args.format, &mut out)
        }
    };
    match result.and_then(|()| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // `weir gen ... | head` closes the pipe early: not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e).context("writing events to stdout"),
    }
}

fn nexmark_events(
    mut source: NexmarkSplit,
    format: GenFormat,
    ties: bool,
    out: &mut impl Write,
) -> io::Result<()> {
    let mut batch = Vec::with_capacity(1024);
    let mut text = String::with_capacity(1 << 16);
    loop {
        batch.clear();
        let more = source.fill(&mut batch, 1024);
        text.clear();
        if ties {
            for event in &mut batch {
                *event = nexmark::tied(event);
            }
        }
        for event in &batch {
            match format {
                GenFormat::Jsonl => format::write_json(&mut text, event),
                GenFormat::Csv => format::write_csv(&mut text, event),
            }
        }
        out.write_all(text.as_bytes())?;
        if !more {
            return Ok(());
        }
    }
}

fn ysb_events(mut source: YsbSplit, format: GenFormat, out: &mut impl Write) -> io::Result<()> {
    let mut text = String::with_capacity(1 << 16);
    if format == GenFormat::Csv {
        out.write_all(b"user_id,page_id,ad_id,ad_type,event_type,event_time,ip_address\n")?;
    }
    let mut batch = Vec::with_capacity(1024);
    loop {
        text.clear();
        batch.clear();
        let more = source.fill(&mut batch, 1024);
        for e in &batch {
            match format {
                GenFormat::Jsonl => e.write_json(&mut text),
                GenFormat::Csv => {
                    for (k, field) in [e.user_id, e.page_id, e.ad_id, e.ad_type, e.event_type]
                        .into_iter()
                        .enumerate()
                    {
                        if k > 0 {
                            text.push(',');
                        }
                        format::write_csv_field(&mut text, field);
                    }
                    let _ = write!(text, ",{}", e.event_time);
                    text.push(',');
                    format::write_csv_field(&mut text, e.ip_address);
                    text.push('\n');
                }
            }
        }
        out.write_all(text.as_bytes())?;
        if !more {
            return Ok(());
        }
    }
}
