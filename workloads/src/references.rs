//! The sequential reference of every catalog query, by [`Query`]: the one dispatch that the
//! every-engine tests, the committed reference digests and `weir` itself use, so adding a query
//! means adding its reference function and one arm here.
//!
//! A query's reference digest is the digest of its reference rows over the same events any
//! engine reads ([`ReferenceInput`]: generated, or read from an `--input` file) and, for q13,
//! the same side table. Queries whose results are not deterministic (q12's processing-time
//! windows) have none: they are checked by invariants
//! ([`crate::nexmark::reference::q12_check`]); nor do the generator-only baselines.

use std::path::Path;

use crate::catalog::{Comparability, Query};
use crate::digest::{Digest, ResultRow};
use crate::inputs::{EventFile, InputError, SideInput};
use crate::nexmark::reference::{self, SumOverflow};
use crate::nexmark::{Event, NexmarkConfig, NexmarkSplit, tied};
use crate::report::DigestSummary;
use crate::split::{ConfigError, Split, WorkerSplit};
use crate::ysb::{self, YsbConfig, YsbEvent, YsbSplit};

/// The contract's calendar input: 100,000 events at 1 event per second of event time, 27.8
/// hours from 2015-07-15T00:00:00Z, so every hour of the day (q14), a day boundary (q10, q15,
/// q16, q17) and auctions that last many minutes (q4, q6, q9) occur. `(events, event_rate)`.
pub const CALENDAR_INPUT: (u64, u64) = (100_000, 1);

/// The whole input of a run, generated in one sequence (worker split 0 of 1) or read from a
/// file, with q13's side table.
#[derive(Clone, Debug)]
pub struct ReferenceInput {
    /// Nexmark events `0..events`.
    pub nexmark: Vec<Event>,
    /// YSB events `0..events`.
    pub ysb: Vec<YsbEvent>,
    /// q13's side table (the built-in one unless a test sets another).
    pub side_input: SideInput,
}

impl ReferenceInput {
    /// Generates `events` events of each workload at `event_rate` events/s of event time.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the flag when the configuration is invalid.
    pub fn generate(events: u64, event_rate: u64) -> Result<Self, ConfigError> {
        let nexmark = NexmarkConfig {
            event_rate,
            ..NexmarkConfig::with_events(events)
        };
        let ysb = YsbConfig {
            event_rate,
            ..YsbConfig::with_events(events)
        };
        Ok(Self {
            nexmark: all(NexmarkSplit::new(&nexmark, WorkerSplit::SINGLE)?),
            ysb: all(YsbSplit::new(&ysb, WorkerSplit::SINGLE)?),
            side_input: SideInput::builtin(),
        })
    }

    /// The tie input ([`crate::nexmark::tied`]) of `events` events at `event_rate` events/s of
    /// event time (no YSB events): what `weir gen nexmark --ties` writes.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the flag when the configuration is invalid.
    pub fn tied(events: u64, event_rate: u64) -> Result<Self, ConfigError> {
        let config = NexmarkConfig {
            event_rate,
            ..NexmarkConfig::with_events(events)
        };
        let generated = all(NexmarkSplit::new(&config, WorkerSplit::SINGLE)?);
        Ok(Self {
            nexmark: generated.iter().map(tied).collect(),
            ysb: Vec::new(),
            side_input: SideInput::builtin(),
        })
    }

    /// The Nexmark events of an `--input` file (no YSB events).
    ///
    /// # Errors
    /// An [`InputError`] naming the file and line at fault.
    pub fn from_file(path: &Path) -> Result<Self, InputError> {
        Ok(Self {
            nexmark: EventFile::load(path)?.events().to_vec(),
            ysb: Vec::new(),
            side_input: SideInput::builtin(),
        })
    }
}

fn all<S: Split>(mut split: S) -> Vec<S::Event> {
    let mut out = Vec::new();
    while split.fill(&mut out, 1 << 16) {}
    out
}

fn digest_of<R: ResultRow>(rows: &[R]) -> DigestSummary {
    let mut digest = Digest::new();
    for row in rows {
        digest.add(row);
    }
    digest.summary()
}

/// The reference digest of `query` over `input`; `None` when the catalog says the query's
/// digest is not comparable (q12, the baselines).
///
/// # Errors
/// [`SumOverflow`] when q17's sum of prices does not fit its 64-bit column (the run of any
/// engine fails on such an input too).
pub fn digest(query: Query, input: &ReferenceInput) -> Result<Option<DigestSummary>, SumOverflow> {
    if query.def().digest != Comparability::Comparable {
        return Ok(None);
    }
    let events = &input.nexmark;
    Ok(Some(match query {
        Query::Q0 => digest_of(&reference::q0(events)),
        Query::Q1 => digest_of(&reference::q1(events)),
        Query::Q2 => digest_of(&reference::q2(events)),
        Query::Q3 => digest_of(&reference::q3(events)),
        Query::Q4 => digest_of(&reference::q4(events)),
        Query::Q5 => digest_of(&reference::q5(events)),
        Query::Q6 => digest_of(&reference::q6(events)),
        Query::Q7 => digest_of(&reference::q7(events)),
        Query::Q8 => digest_of(&reference::q8(events)),
        Query::Q9 => digest_of(&reference::q9(events)),
        Query::Q10 => digest_of(&reference::q10(events)),
        Query::Q11 => digest_of(&reference::q11(events)),
        Query::Q13 => digest_of(&reference::q13(events, &input.side_input)),
        Query::Q14 => digest_of(&reference::q14(events)),
        Query::Q15 => digest_of(&reference::q15(events)),
        Query::Q16 => digest_of(&reference::q16(events)),
        Query::Q17 => digest_of(&reference::q17(events)?),
        Query::Q18 => digest_of(&reference::q18(events)),
        Query::Q19 => digest_of(&reference::q19(events)),
        Query::Q20 => digest_of(&reference::q20(events)),
        Query::Q21 => digest_of(&reference::q21(events)),
        Query::Q22 => digest_of(&reference::q22(events)),
        Query::Ysb => digest_of(&ysb::reference(&input.ysb)),
        Query::NexmarkGen | Query::NexmarkGenBids | Query::Q12 | Query::YsbGen => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_comparable_query_has_a_reference_with_rows() {
        let (events, rate) = CALENDAR_INPUT;
        let input = ReferenceInput::generate(events / 5, rate).expect("a valid configuration");
        for query in Query::all() {
            let comparable = query.def().digest == Comparability::Comparable;
            match digest(query, &input).expect("no overflow on generated input") {
                Some(d) => assert!(d.rows > 0, "{query}: no reference rows on this input"),
                None => assert!(!comparable, "{query} is comparable but has no reference"),
            }
        }
    }
}
