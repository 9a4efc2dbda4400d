//! The Nexmark generator's parameters and the contract's constants: the timeline's base time
//! and default rate, the first ids, and the window sizes of the queries (every engine uses
//! these).
//!
//! A base module of `nexmark`: it imports nothing from the rest of it.

use crate::split::ConfigError;

/// `baseTime`: 2015-07-15T00:00:00Z in epoch ms.
pub const BASE_TIME_MS: u64 = 1_436_918_400_000;
/// The default event rate: 10,000,000 events per second of event time (the suite's TPS).
pub const DEFAULT_EVENT_RATE: u64 = 10_000_000;
/// The default bounded out-of-orderness of the watermark (the suite's DDL: 4 s).
pub const DEFAULT_OUT_OF_ORDERNESS_MS: u64 = 4000;
/// First person id.
pub const FIRST_PERSON_ID: u64 = 1000;
/// First auction id.
pub const FIRST_AUCTION_ID: u64 = 1000;
/// First category id.
pub const FIRST_CATEGORY_ID: u64 = 10;

// The window constants of the queries (part of the contract: every engine uses these).
/// q5's hopping window: size 10 s, slide 2 s.
pub const Q5_SIZE_MS: u64 = 10_000;
/// q5's slide.
pub const Q5_SLIDE_MS: u64 = 2_000;
/// q7 and q8's tumbling window, and q12's processing-time window.
pub const TUMBLE_MS: u64 = 10_000;
/// q11's session gap.
pub const SESSION_GAP_MS: u64 = 10_000;

/// The generator's parameters. The event set depends on these only (never on the worker
/// count); a digest is comparable between runs with equal configurations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NexmarkConfig {
    /// Events in the input (ids `0..events`); `u64::MAX` for an unbounded run.
    pub events: u64,
    /// Events per second of event time.
    pub event_rate: u64,
    /// Timestamp of event 0, epoch ms.
    pub base_time_ms: u64,
    /// Watermark = max timestamp - this.
    pub out_of_orderness_ms: u64,
    /// A bid goes to the hot auction unless `nextInt(ratio) == 0`: P(hot) = 1 - 1/ratio.
    pub hot_auction_ratio: u32,
    /// P(an auction's seller is hot) = 1 - 1/ratio.
    pub hot_seller_ratio: u32,
    /// P(a bid's bidder is hot) = 1 - 1/ratio.
    pub hot_bidder_ratio: u32,
}

impl Default for NexmarkConfig {
    fn default() -> Self {
        Self {
            events: 10_000_000,
            event_rate: DEFAULT_EVENT_RATE,
            base_time_ms: BASE_TIME_MS,
            out_of_orderness_ms: DEFAULT_OUT_OF_ORDERNESS_MS,
            hot_auction_ratio: 2,
            hot_seller_ratio: 4,
            hot_bidder_ratio: 4,
        }
    }
}

impl NexmarkConfig {
    /// The default configuration with `events` events.
    pub fn with_events(events: u64) -> Self {
        Self {
            events,
            ..Self::default()
        }
    }

    /// Checks every parameter; the error names the flag to fix.
    ///
    /// # Errors
    /// A zero event rate or a zero hot ratio.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.event_rate == 0 {
            return Err(ConfigError::Invalid {
                flag: "--event-rate",
                value: "0".into(),
                why: "events per second of event time must be at least 1",
            });
        }
        for (flag, v) in [
            ("hot auction ratio", self.hot_auction_ratio),
            ("hot seller ratio", self.hot_seller_ratio),
            ("hot bidder ratio", self.hot_bidder_ratio),
        ] {
            if v == 0 || i32::try_from(v).is_err() {
                return Err(ConfigError::Invalid {
                    flag,
                    value: v.to_string(),
                    why: "a hot ratio must be between 1 and 2^31-1 (1 = nothing is hot)",
                });
            }
        }
        Ok(())
    }

    /// The timestamp of event `id`.
    #[inline]
    pub fn timestamp(&self, id: u64) -> u64 {
        crate::split::timestamp_of(id, self.base_time_ms, self.event_rate)
    }
}
