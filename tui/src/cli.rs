//! The command-line interface: `weir run | compare | gen | list`.

use clap::{Parser, Subcommand};

/// weir: run streaming workloads as fast as the hardware allows, watch them flow, compare engines.
#[derive(Debug, Parser)]
#[command(name = "weir", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a query on an engine and watch it live (Nexmark q5 on weir for 10 s by default).
    Run(Box<crate::cmd_run::RunArgs>),
    /// List workloads, queries and engines, and which engine runs which query.
    List(crate::cmd_list::ListArgs),
    /// Print the generator's events (JSON lines or CSV), for checking against other
    /// implementations.
    Gen(crate::cmd_gen::GenArgs),
    /// Compare engines on the same input: interleaved runs, verdict, reports and plots.
    Compare(Box<crate::cmd_compare::CompareArgs>),
}
