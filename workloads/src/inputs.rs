//! Files a run reads or writes besides the generators: Nexmark events from a file (`--input`,
//! [`EventFile`]), q13's side table (`--side-input`, [`SideInput`]) and q10's partitioned
//! files read back for checking ([`read_partitions`]).
//!
//! Every reader parses the whole file before a job starts, and a fault is an [`InputError`]
//! that names the file and the line (1-based): a run never starts on half a file.
//!
//! A contract-level module: it imports the Nexmark types and the split rule, nothing from the
//! engines or the runner.

mod events;
mod partitions;
mod side;
mod text;

pub use events::{EventFile, MAX_BID_PRICE, WorkerInput};
pub use partitions::{SUCCESS_FILE, partition_dir, read_partitions};
pub use side::{SIDE_INPUT_KEYS, SideInput};
pub use text::InputError;
