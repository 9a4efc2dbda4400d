//! The sequential reference of every catalog query, by [`Query`]: the one dispatch that the
//! every-engine tests, the committed reference digests and `weir` itself use, so adding a query
//! means adding its reference function and one arm here.
//!
//! A query's reference digest is the digest of its reference rows over the same events any
//! engine reads ([`ReferenceInput`]). Queries whose results are not deterministic (q12's
//! processing-time windows) have none: they are checked by invariants
//! ([`crate::nexmark::reference::q12_check`]); nor do the generator-only baselines.

use crate::catalog::{Comparability, Query};
use crate::digest::{Digest, ResultRow};
use crate::nexmark::{Event, NexmarkConfig, NexmarkSplit, reference};
use crate::report::DigestSummary;
use crate::split::{ConfigError, Split, WorkerSplit};
use crate::ysb::{self, YsbConfig, YsbEvent, YsbSplit};

/// The whole input of a run, generated in one sequence (worker split 0 of 1).
#[derive(Clone, Debug)]
pub struct ReferenceInput {
    /// Nexmark events `0..events`.
    pub nexmark: Vec<Event>,
    /// YSB events `0..events`.
    pub ysb: Vec<YsbEvent>,
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
pub fn digest(query: Query, input: &ReferenceInput) -> Option<DigestSummary> {
    if query.def().digest != Comparability::Comparable {
        return None;
    }
    let events = &input.nexmark;
    Some(match query {
        Query::Q0 => digest_of(&reference::q0(events)),
        Query::Q1 => digest_of(&reference::q1(events)),
        Query::Q2 => digest_of(&reference::q2(events)),
        Query::Q3 => digest_of(&reference::q3(events)),
        Query::Q4 => digest_of(&reference::q4(events)),
        Query::Q5 => digest_of(&reference::q5(events)),
        Query::Q7 => digest_of(&reference::q7(events)),
        Query::Q8 => digest_of(&reference::q8(events)),
        Query::Q11 => digest_of(&reference::q11(events)),
        Query::Ysb => digest_of(&ysb::reference(&input.ysb)),
        Query::NexmarkGen | Query::NexmarkGenBids | Query::Q12 | Query::YsbGen => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_comparable_query_has_a_reference_with_rows() {
        let input = ReferenceInput::generate(20_000, 1_000).expect("a valid configuration");
        for query in Query::all() {
            let comparable = query.def().digest == Comparability::Comparable;
            match digest(query, &input) {
                Some(d) => assert!(d.rows > 0, "{query}: no reference rows on this input"),
                None => assert!(!comparable, "{query} is comparable but has no reference"),
            }
        }
    }
}
