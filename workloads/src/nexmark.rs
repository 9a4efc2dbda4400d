//! Nexmark: the canonical generator (docs/WORKLOADS.md, section 4), its event and result
//! row types, and the sequential references of the queries.
//!
//! Event `i` has id `i` and timestamp `base_time + floor(i * 1000 / event_rate)`; its kind is
//! fixed by `i % 50` (1 person : 3 auctions : 46 bids); its fields are drawn from a fresh
//! [`JavaRandom`](crate::random::JavaRandom) seeded with [`mix(i)`](crate::random::mix) in Beam's
//! draw order. Workers split the ids as [`crate::split`] describes. The exact definition, for
//! the Java port, is in `docs/WORKLOADS.md` (sections 2-4).
//!
//! ```
//! use weir_workloads::nexmark::{NexmarkConfig, NexmarkSplit, Event};
//! use weir_workloads::split::{Split, WorkerSplit};
//!
//! let config = NexmarkConfig::with_events(1000);
//! let mut split = NexmarkSplit::new(&config, WorkerSplit::SINGLE)?;
//! let mut batch = Vec::new();
//! while split.fill(&mut batch, 256) {}
//! assert_eq!(batch.len(), 1000);
//! assert!(matches!(batch[0], Event::Person(_)));
//! # Ok::<(), weir_workloads::split::ConfigError>(())
//! ```

mod config;
mod event;
pub mod format;
mod functions;
mod generator;
mod pools;
pub mod reference;
mod rows;
mod ties;

pub use config::{
    BASE_TIME_MS, DEFAULT_EVENT_RATE, DEFAULT_OUT_OF_ORDERNESS_MS, FIRST_AUCTION_ID,
    FIRST_CATEGORY_ID, FIRST_PERSON_ID, NexmarkConfig, Q5_SIZE_MS, Q5_SLIDE_MS, SESSION_GAP_MS,
    TUMBLE_MS,
};
pub use event::{
    Auction, Bid, Channel, ChannelTableFull, Event, EventKind, Extra, InlineStr, InlineStrError,
    Person,
};
pub use functions::{
    BidTimeType, Date, HourMinute, PriceBand, channel_id, count_char, hour_of_day, q14_keeps,
    url_dirs,
};
pub use generator::{
    BidSplit, NexmarkSplit, generate_auction, generate_bid, generate_event, generate_person,
};
pub use pools::{EXTRA_POOL_LEN, Pools, pools};
pub use ties::{TIE_PRICES, TIE_TIME_MS, tied};

pub use rows::{
    BandCounts, BidStats, Q0Row, Q1Row, Q2Row, Q3Row, Q4Row, Q5Row, Q6Row, Q7Row, Q8Row, Q9Row,
    Q10Row, Q11Row, Q12Row, Q13Row, Q14Row, Q15Row, Q16Row, Q17Row, Q18Row, Q19Row, Q20Row, Q21Row,
    Q22Row,
};
