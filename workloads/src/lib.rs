//! weir-workloads: the contract between engines (generators, digest, sequential references) and
//! the queries on every engine, with the runner that turns a [`job::RunSpec`] into a
//! [`report::RunReport`].

#![forbid(unsafe_code)]

pub mod differential;
pub mod digest;
pub mod flink;
pub mod job;
pub mod nexmark;
pub mod random;
pub mod report;
pub mod runner;
pub mod sim;
pub mod split;
pub mod timely;
pub mod weir;
pub mod ysb;
