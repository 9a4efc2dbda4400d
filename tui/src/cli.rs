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
    /// List workloads, queries and engines, and which engine runs which query.
    List,
    /// Print the generator's events (JSON lines or CSV), for checking against other
    /// implementations.
    Gen(crate::cmd_gen::GenArgs),
}
