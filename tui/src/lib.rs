//! weir-tui: the `weir` command line (run, compare, gen, list), the live console and reports.

#![forbid(unsafe_code)]

pub mod cli;
pub mod cmd_compare;
pub mod cmd_gen;
pub mod cmd_list;
pub mod cmd_run;
pub mod compare;
pub mod console;
pub mod flamegraph;
pub mod metrics_server;
pub mod panics;
pub mod pretouch;
pub mod signals;
pub mod summary;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// Parses `args` and runs the command; errors are printed to stderr with their causes.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    panics::install();
    match &cli.command {
        Command::List(args) => Ok(cmd_list::run(args)),
        Command::Gen(args) => cmd_gen::run(args),
        Command::Run(args) => cmd_run::run(args),
        Command::Compare(args) => cmd_compare::run(args),
    }
}
