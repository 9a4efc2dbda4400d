//! weir-workloads: the contract between engines (generators, digest, sequential references) and
//! the queries on every engine, with the runner that turns a [`job::RunSpec`] into a
//! [`report::RunReport`].

#![forbid(unsafe_code)]

pub mod flink;
pub mod job;
pub mod report;
pub mod runner;
pub mod sim;
