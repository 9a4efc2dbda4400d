//! weir-workloads: the contract between engines (generators, digest, sequential references),
//! the [`catalog`] of workloads, queries and engines, the queries on every engine, and the
//! [`runner`] that turns a [`job::RunSpec`] into a [`report::RunReport`].
//!
//! Layers (a module imports only from layers above it):
//! 1. base: [`names`], [`random`], [`split`], [`report`], [`digest`];
//! 2. the contract: [`nexmark`], [`ysb`] (generators, result rows, references), [`inputs`]
//!    (events from a file, q13's side table, q10's files read back), then [`catalog`] and
//!    [`cluster`];
//! 3. the job interface: [`job`] (`RunSpec`, `Job`, `Outcome`), and [`ceiling`] (the
//!    memory-read ceiling of a run's input);
//! 4. the engine adapters: [`weir`], [`sim`], and behind cargo features `timely`,
//!    `differential` (which builds on the timely adapter's harness) and `flink`;
//! 5. [`runner`]: the registry of the adapters this build has.

#![forbid(unsafe_code)]

pub mod catalog;
pub mod ceiling;
pub mod cluster;
pub mod cpu;
#[cfg(feature = "differential")]
pub mod differential;
pub mod digest;
#[cfg(feature = "flink")]
pub mod flink;
pub mod inputs;
pub mod job;
pub mod names;
pub mod nexmark;
pub mod random;
pub mod references;
pub mod report;
pub mod runner;
pub mod sim;
pub mod split;
#[cfg(feature = "timely")]
pub mod timely;
pub mod weir;
pub mod ysb;
