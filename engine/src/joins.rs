//! Joins that no window bounds: the regular join of two keyed streams ([`RegularJoin`],
//! [`Stream::regular_join`](crate::Stream::regular_join)) and the lookup join against a static
//! table loaded before the job starts ([`LookupTable`],
//! [`Stream::lookup_join`](crate::Stream::lookup_join)).
//!
//! Layer: dataflow, beside [`window`](crate::window), whose key hash and map they share. The
//! state machine of the regular join knows nothing of workers; its operator partitions both
//! inputs by the join key. The lookup join needs no exchange: every worker reads the same
//! shared table.

mod lookup;
mod regular;

pub use lookup::LookupTable;
pub use regular::{RegularJoin, RegularJoinSpec};
