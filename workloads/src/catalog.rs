//! The catalog: every workload, query and engine weir knows, and which engine runs which query.
//!
//! It is the single source of what a query is: its name and workload, what it computes, its
//! result columns (taken from the contract's row types, so they cannot drift), its time domain,
//! whether its digest is comparable across engines, how its latency is observed, which events
//! its source generates, the generator-only baseline it is set against, and, per engine,
//! whether that engine runs it (with which API) or why not. Argument parsing and its errors,
//! `weir list` (text, JSON and Markdown), the `--help` text, `weir compare`, `scripts/bench.sh`
//! and the query tables of the README and `docs/` are all drawn from it.
//!
//! Adding a query: a [`Query`] variant and its [`QueryDef`] in [`CATALOG`] (same position), its
//! contract (result row type, sequential reference, committed reference digest), then one
//! dataflow per engine (`weir/nexmark.rs`, `timely/`, `differential/queries.rs`, Flink's
//! `Queries.java`). `docs/ARCHITECTURE.md` ("Adding a query") walks through it.
//!
//! A base module of the crate: it imports the contract's row types and nothing from the
//! engines or the runner.

use crate::digest::ResultRow;
use crate::names::{UnknownName, list, name_enum};
use crate::nexmark::{
    EventKind, Q0Row, Q1Row, Q2Row, Q3Row, Q4Row, Q5Row, Q6Row, Q7Row, Q8Row, Q9Row, Q10Row,
    Q11Row, Q12Row, Q13Row, Q14Row, Q15Row, Q16Row, Q17Row, Q18Row, Q19Row, Q20Row, Q21Row, Q22Row,
};
use crate::ysb::YsbRow;

name_enum!(
    /// A benchmark workload.
    Workload, "workload" {
        /// Nexmark (auctions, persons, bids).
        Nexmark = "nexmark",
        /// The Yahoo Streaming Benchmark.
        Ysb = "ysb",
    }
);

name_enum!(
    /// An engine that can run a workload.
    EngineKind, "engine" {
        /// weir-engine, in process.
        Weir = "weir",
        /// timely dataflow, in process (or across processes in cluster mode).
        Timely = "timely",
        /// differential dataflow, in process.
        Differential = "differential",
        /// Apache Flink in a JVM subprocess.
        Flink = "flink",
        /// A deterministic fake engine for tests and demos of the console.
        Sim = "sim",
    }
);

impl EngineKind {
    /// The cargo feature of `weir-workloads` (and `weir-tui`) that builds this engine's
    /// adapter; `None` for the engines every build has (weir and the sim).
    pub fn feature(self) -> Option<&'static str> {
        match self {
            EngineKind::Weir | EngineKind::Sim => None,
            EngineKind::Timely => Some("timely"),
            EngineKind::Differential => Some("differential"),
            EngineKind::Flink => Some("flink"),
        }
    }

    /// Whether this build has the engine's adapter (see [`EngineKind::feature`]).
    pub fn is_built(self) -> bool {
        match self {
            EngineKind::Weir | EngineKind::Sim => true,
            EngineKind::Timely => cfg!(feature = "timely"),
            EngineKind::Differential => cfg!(feature = "differential"),
            EngineKind::Flink => cfg!(feature = "flink"),
        }
    }

    /// The real engines (every engine but the sim), in display order.
    pub fn real() -> impl Iterator<Item = EngineKind> {
        EngineKind::ALL
            .iter()
            .copied()
            .filter(|e| *e != EngineKind::Sim)
    }
}

/// A query of the catalog. Each variant has exactly one [`QueryDef`] ([`Query::def`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Query {
    /// Nexmark's generator-only baseline, all event kinds.
    NexmarkGen,
    /// Nexmark's generator-only baseline, bids only.
    NexmarkGenBids,
    /// Nexmark q0.
    Q0,
    /// Nexmark q1.
    Q1,
    /// Nexmark q2.
    Q2,
    /// Nexmark q3.
    Q3,
    /// Nexmark q4.
    Q4,
    /// Nexmark q5.
    Q5,
    /// Nexmark q6.
    Q6,
    /// Nexmark q7.
    Q7,
    /// Nexmark q8.
    Q8,
    /// Nexmark q9.
    Q9,
    /// Nexmark q10.
    Q10,
    /// Nexmark q11.
    Q11,
    /// Nexmark q12.
    Q12,
    /// Nexmark q13.
    Q13,
    /// Nexmark q14.
    Q14,
    /// Nexmark q15.
    Q15,
    /// Nexmark q16.
    Q16,
    /// Nexmark q17.
    Q17,
    /// Nexmark q18.
    Q18,
    /// Nexmark q19.
    Q19,
    /// Nexmark q20.
    Q20,
    /// Nexmark q21.
    Q21,
    /// Nexmark q22.
    Q22,
    /// YSB's generator-only baseline.
    YsbGen,
    /// The YSB query.
    Ysb,
}

/// The time a query's results depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeDomain {
    /// No window: results do not wait for the watermark (stateless queries, regular joins,
    /// final tables emitted at end of input). Peer engines run these with no out-of-orderness
    /// delay on their watermarks.
    Untimed,
    /// Event-time windows closed by the watermark.
    EventTime,
    /// Processing-time windows closed by the wall clock.
    ProcessingTime,
}

impl TimeDomain {
    /// `untimed`, `event`, `processing`.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeDomain::Untimed => "untimed",
            TimeDomain::EventTime => "event",
            TimeDomain::ProcessingTime => "processing",
        }
    }
}

/// What a query emits, and so how its digest is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Rows emitted once each (append-only): the digest is over every row emitted.
    Append,
    /// An updating result: the digest is over the final table at end of input (insertions
    /// minus retractions; no row's count may go negative).
    FinalTable,
    /// No result rows (a generator-only baseline).
    Nothing,
}

impl Output {
    /// `append`, `final table`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Output::Append => "append",
            Output::FinalTable => "final table",
            Output::Nothing => "none",
        }
    }
}

/// Whether two engines' digests of a query must be equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparability {
    /// Every engine computes the same multiset from the same events.
    Comparable,
    /// The result legitimately differs between runs; the text says why.
    NotComparable(&'static str),
}

/// How a query's latency is observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Latency {
    /// Window results: sink time minus the time the watermark that closed the window was
    /// emitted.
    WindowResults,
    /// Sampled records (ids with `id % 1024 == 0`, the same on every engine): sink time minus
    /// ingestion time.
    SampledRecords,
    /// Not observed; the text says why.
    NotObserved(&'static str),
}

impl Latency {
    /// `window results`, `sampled records`, `not observed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Latency::WindowResults => "window results",
            Latency::SampledRecords => "sampled records",
            Latency::NotObserved(_) => "not observed",
        }
    }
}

/// The events a query's source generates (the others are skipped without being generated;
/// their ids still advance the timeline and the watermark).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    /// Bids only, through the bid generator (a 56-byte `Bid` per event).
    Bids,
    /// Persons and auctions.
    PersonsAndAuctions,
    /// Auctions and bids.
    AuctionsAndBids,
    /// Every Nexmark event.
    AllEvents,
    /// YSB's ad events.
    YsbEvents,
}

impl Reads {
    /// The Nexmark event kinds read (empty for YSB).
    pub fn kinds(self) -> &'static [EventKind] {
        match self {
            Reads::Bids => &[EventKind::Bid],
            Reads::PersonsAndAuctions => &[EventKind::Person, EventKind::Auction],
            Reads::AuctionsAndBids => &[EventKind::Auction, EventKind::Bid],
            Reads::AllEvents => &[EventKind::Person, EventKind::Auction, EventKind::Bid],
            Reads::YsbEvents => &[],
        }
    }

    /// `bids`, `persons, auctions`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Reads::Bids => "bids",
            Reads::PersonsAndAuctions => "persons, auctions",
            Reads::AuctionsAndBids => "auctions, bids",
            Reads::AllEvents => "persons, auctions, bids",
            Reads::YsbEvents => "ad events",
        }
    }
}

/// Whether an engine runs a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// It does, written with this API.
    Runs(&'static str),
    /// It does not; the text says why.
    Not(&'static str),
}

impl Support {
    /// Whether the engine runs the query.
    pub fn runs(self) -> bool {
        matches!(self, Support::Runs(_))
    }
}

/// Per engine, whether it runs a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Engines {
    /// weir-engine.
    pub weir: Support,
    /// timely dataflow.
    pub timely: Support,
    /// differential dataflow.
    pub differential: Support,
    /// Apache Flink.
    pub flink: Support,
}

impl Engines {
    /// The entry of `engine`; the sim runs what weir runs (it stands in for it).
    pub fn of(&self, engine: EngineKind) -> Support {
        match engine {
            EngineKind::Weir | EngineKind::Sim => self.weir,
            EngineKind::Timely => self.timely,
            EngineKind::Differential => self.differential,
            EngineKind::Flink => self.flink,
        }
    }
}

/// Everything the project knows about one query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryDef {
    /// The query.
    pub query: Query,
    /// Its workload.
    pub workload: Workload,
    /// Its name within the workload (`q5`, `gen`, `ysb`).
    pub name: &'static str,
    /// What it computes, one short phrase.
    pub computes: &'static str,
    /// Result columns in SELECT order (the `--output` JSON names and the digest's order).
    pub columns: &'static [&'static str],
    /// The time its results depend on.
    pub time: TimeDomain,
    /// What it emits.
    pub output: Output,
    /// Whether digests agree across engines.
    pub digest: Comparability,
    /// How latency is observed.
    pub latency: Latency,
    /// The events its source generates.
    pub reads: Reads,
    /// The generator-only baseline whose source generates the same events, if one does.
    pub baseline: Option<Query>,
    /// Which engine runs it.
    pub engines: Engines,
}

/// The API of weir's queries.
const WEIR: Support = Support::Runs("weir operators");
/// The API of timely's queries.
const TIMELY: Support = Support::Runs("timely operators");
/// The API of differential's queries.
const DIFFERENTIAL: Support = Support::Runs("collections");
/// Flink's DataStream API.
const FLINK_DATASTREAM: Support = Support::Runs("DataStream");
/// Flink SQL through the Table API, over the DataStream source bridged into tables.
const FLINK_SQL: Support = Support::Runs("SQL (Table API)");
/// Every engine runs the query.
const EVERY_ENGINE: Engines = Engines {
    weir: WEIR,
    timely: TIMELY,
    differential: DIFFERENTIAL,
    flink: FLINK_DATASTREAM,
};
/// A generator-only baseline: weir's own source into a counting sink.
const BASELINE_ONLY: Engines = {
    const WHY: &str = "a generator-only baseline measures weir's own source";
    Engines {
        weir: WEIR,
        timely: Support::Not(WHY),
        differential: Support::Not(WHY),
        flink: Support::Not(WHY),
    }
};
const NO_COLUMNS: &[&str] = &[];
const NO_RESULTS: &str = "a baseline emits no results";
/// Why an updating query's latency is not observed.
const FINAL_AT_END: &str = "its result is final only at end of input";

/// Every query, in [`Query`] order (`weir list` order).
pub const CATALOG: &[QueryDef] = &[
    QueryDef {
        query: Query::NexmarkGen,
        workload: Workload::Nexmark,
        name: "gen",
        computes: "generator-only baseline (source -> counting sink)",
        columns: NO_COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::Nothing,
        digest: Comparability::NotComparable(NO_RESULTS),
        latency: Latency::NotObserved(NO_RESULTS),
        reads: Reads::AllEvents,
        baseline: None,
        engines: BASELINE_ONLY,
    },
    QueryDef {
        query: Query::NexmarkGenBids,
        workload: Workload::Nexmark,
        name: "gen-bids",
        computes: "generator-only baseline, bids only",
        columns: NO_COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::Nothing,
        digest: Comparability::NotComparable(NO_RESULTS),
        latency: Latency::NotObserved(NO_RESULTS),
        reads: Reads::Bids,
        baseline: None,
        engines: BASELINE_ONLY,
    },
    QueryDef {
        query: Query::Q0,
        workload: Workload::Nexmark,
        name: "q0",
        computes: "pass-through",
        columns: <Q0Row>::COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::Append,
        digest: Comparability::Comparable,
        latency: Latency::SampledRecords,
        reads: Reads::Bids,
        baseline: Some(Query::NexmarkGenBids),
        engines: EVERY_ENGINE,
    },
    QueryDef {
        query: Query::Q1,
        workload: Workload::Nexmark,
        name: "q1",
        computes: "currency conversion (map)",
        columns: <Q1Row>::COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::Append,
        digest: Comparability::Comparable,
        latency: Latency::SampledRecords,
        reads: Reads::Bids,
        baseline: Some(Query::NexmarkGenBids),
        engines: EVERY_ENGINE,
    },
    QueryDef {
        query: Query::Q2,
        workload: Workload::Nexmark,
        name: "q2",
        computes: "selection (filter)",
        columns: <Q2Row>::COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::Append,
        digest: Comparability::Comparable,
        latency: Latency::SampledRecords,
        reads: Reads::Bids,
        baseline: Some(Query::NexmarkGenBids),
        engines: EVERY_ENGINE,
    },
    QueryDef {
        query: Query::Q3,
        workload: Workload::Nexmark,
        name: "q3",
        computes: "local item suggestion (join)",
        columns: <Q3Row>::COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::Append,
        digest: Comparability::Comparable,
        latency: Latency::SampledRecords,
        reads: Reads::PersonsAndAuctions,
        baseline: None,
        engines: EVERY_ENGINE,
    },
    QueryDef {
        query: Query::Q4,
        workload: Workload::Nexmark,
        name: "q4",
        computes: "average price per category (join + aggregate)",
        columns: <Q4Row>::COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::FinalTable,
        digest: Comparability::Comparable,
        latency: Latency::NotObserved(FINAL_AT_END),
        reads: Reads::AuctionsAndBids,
        baseline: Some(Query::NexmarkGen),
        engines: EVERY_ENGINE,
    },
    QueryDef {
        query: Query::Q5,
        workload: Workload::Nexmark,
        name: "q5",
        computes: "hot items (sliding window)",
        columns: <Q5Row>::COLUMNS,
        time: TimeDomain::EventTime,
        output: Output::Append,
        digest: Comparability::Comparable,
        latency: Latency::WindowResults,
        reads: Reads::Bids,
        baseline: Some(Query::NexmarkGenBids),
        engines: EVERY_ENGINE,
    },
    QueryDef {
        query: Query::Q6,
        workload: Workload::Nexmark,
        name: "q6",
        computes: "average selling price by seller (last 10 closed auctions)",
        columns: <Q6Row>::COLUMNS,
        time: TimeDomain::EventTime,
        output: Output::Append,
        digest: Comparability::Comparable,
        latency: Latency::WindowResults,
        reads: Reads::AuctionsAndBids,
        baseline: Some(Query::NexmarkGen),
        engines: Engines {
            weir: WEIR,
            timely: TIMELY,
            differential: DIFFERENTIAL,
            flink: FLINK_DATASTREAM,
        },
    },
    QueryDef {
        query: Query::Q7,
        workload: Workload::Nexmark,
        name: "q7",
        computes: "highest bid (tumbling window)",
        columns: <Q7Row>::COLUMNS,
        time: TimeDomain::EventTime,
        output: Output::Append,
        digest: Comparability::Comparable,
        latency: Latency::WindowResults,
        reads: Reads::Bids,
        baseline: Some(Query::NexmarkGenBids),
        engines: EVERY_ENGINE,
    },
    QueryDef {
        query: Query::Q8,
        workload: Workload::Nexmark,
        name: "q8",
        computes: "new users (window join)",
        columns: <Q8Row>::COLUMNS,
        time: TimeDomain::EventTime,
        output: Output::Append,
        digest: Comparability::Comparable,
        latency: Latency::WindowResults,
        reads: Reads::PersonsAndAuctions,
        baseline: None,
        engines: EVERY_ENGINE,
    },
    QueryDef {
        query: Query::Q9,
        workload: Workload::Nexmark,
        name: "q9",
        computes: "winning bid per auction (join + top-1)",
        columns: <Q9Row>::COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::FinalTable,
        digest: Comparability::Comparable,
        latency: Latency::NotObserved(FINAL_AT_END),
        reads: Reads::AuctionsAndBids,
        baseline: Some(Query::NexmarkGen),
        engines: Engines {
            weir: WEIR,
            timely: TIMELY,
            differential: DIFFERENTIAL,
            flink: FLINK_SQL,
        },
    },
    QueryDef {
        query: Query::Q10,
        workload: Workload::Nexmark,
        name: "q10",
        computes: "log to file system (partitioned file sink)",
        columns: <Q10Row>::COLUMNS,
        time: TimeDomain::EventTime,
        output: Output::Append,
        digest: Comparability::Comparable,
        latency: Latency::SampledRecords,
        reads: Reads::Bids,
        baseline: Some(Query::NexmarkGenBids),
        engines: Engines {
            weir: WEIR,
            timely: TIMELY,
            differential: DIFFERENTIAL,
            flink: FLINK_SQL,
        },
    },
    QueryDef {
        query: Query::Q11,
        workload: Workload::Nexmark,
        name: "q11",
        computes: "user sessions (session window)",
        columns: <Q11Row>::COLUMNS,
        time: TimeDomain::EventTime,
        output: Output::Append,
        digest: Comparability::Comparable,
        latency: Latency::WindowResults,
        reads: Reads::Bids,
        baseline: Some(Query::NexmarkGenBids),
        engines: EVERY_ENGINE,
    },
    QueryDef {
        query: Query::Q12,
        workload: Workload::Nexmark,
        name: "q12",
        computes: "bids per user (processing-time window)",
        columns: <Q12Row>::COLUMNS,
        time: TimeDomain::ProcessingTime,
        output: Output::Append,
        digest: Comparability::NotComparable("processing-time query"),
        latency: Latency::NotObserved("its windows close on the wall clock, not a watermark"),
        reads: Reads::Bids,
        baseline: Some(Query::NexmarkGenBids),
        engines: EVERY_ENGINE,
    },
    QueryDef {
        query: Query::Q13,
        workload: Workload::Nexmark,
        name: "q13",
        computes: "bounded side input join (lookup in a static table)",
        columns: <Q13Row>::COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::Append,
        digest: Comparability::Comparable,
        latency: Latency::SampledRecords,
        reads: Reads::Bids,
        baseline: Some(Query::NexmarkGenBids),
        engines: Engines {
            weir: WEIR,
            timely: TIMELY,
            differential: DIFFERENTIAL,
            flink: FLINK_SQL,
        },
    },
    QueryDef {
        query: Query::Q14,
        workload: Workload::Nexmark,
        name: "q14",
        computes: "calculation (filter, map, count_char)",
        columns: <Q14Row>::COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::Append,
        digest: Comparability::Comparable,
        latency: Latency::SampledRecords,
        reads: Reads::Bids,
        baseline: Some(Query::NexmarkGenBids),
        engines: Engines {
            weir: WEIR,
            timely: TIMELY,
            differential: DIFFERENTIAL,
            flink: FLINK_SQL,
        },
    },
    QueryDef {
        query: Query::Q15,
        workload: Workload::Nexmark,
        name: "q15",
        computes: "bidding statistics per day (distinct counts)",
        columns: <Q15Row>::COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::FinalTable,
        digest: Comparability::Comparable,
        latency: Latency::NotObserved(FINAL_AT_END),
        reads: Reads::Bids,
        baseline: Some(Query::NexmarkGenBids),
        engines: Engines {
            weir: WEIR,
            timely: TIMELY,
            differential: DIFFERENTIAL,
            flink: FLINK_SQL,
        },
    },
    QueryDef {
        query: Query::Q16,
        workload: Workload::Nexmark,
        name: "q16",
        computes: "channel statistics per day (distinct counts)",
        columns: <Q16Row>::COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::FinalTable,
        digest: Comparability::Comparable,
        latency: Latency::NotObserved(FINAL_AT_END),
        reads: Reads::Bids,
        baseline: Some(Query::NexmarkGenBids),
        engines: Engines {
            weir: WEIR,
            timely: TIMELY,
            differential: DIFFERENTIAL,
            flink: FLINK_SQL,
        },
    },
    QueryDef {
        query: Query::Q17,
        workload: Workload::Nexmark,
        name: "q17",
        computes: "auction statistics per day (aggregates)",
        columns: <Q17Row>::COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::FinalTable,
        digest: Comparability::Comparable,
        latency: Latency::NotObserved(FINAL_AT_END),
        reads: Reads::Bids,
        baseline: Some(Query::NexmarkGenBids),
        engines: Engines {
            weir: WEIR,
            timely: TIMELY,
            differential: DIFFERENTIAL,
            flink: FLINK_SQL,
        },
    },
    QueryDef {
        query: Query::Q18,
        workload: Workload::Nexmark,
        name: "q18",
        computes: "last bid per bidder and auction (dedup)",
        columns: <Q18Row>::COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::FinalTable,
        digest: Comparability::Comparable,
        latency: Latency::NotObserved(FINAL_AT_END),
        reads: Reads::Bids,
        baseline: Some(Query::NexmarkGenBids),
        engines: Engines {
            weir: WEIR,
            timely: TIMELY,
            differential: DIFFERENTIAL,
            flink: FLINK_SQL,
        },
    },
    QueryDef {
        query: Query::Q19,
        workload: Workload::Nexmark,
        name: "q19",
        computes: "top-10 bids per auction (top-N)",
        columns: <Q19Row>::COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::FinalTable,
        digest: Comparability::Comparable,
        latency: Latency::NotObserved(FINAL_AT_END),
        reads: Reads::Bids,
        baseline: Some(Query::NexmarkGenBids),
        engines: Engines {
            weir: WEIR,
            timely: TIMELY,
            differential: DIFFERENTIAL,
            flink: FLINK_SQL,
        },
    },
    QueryDef {
        query: Query::Q20,
        workload: Workload::Nexmark,
        name: "q20",
        computes: "bids with their auction, category 10 (join)",
        columns: <Q20Row>::COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::Append,
        digest: Comparability::Comparable,
        latency: Latency::SampledRecords,
        reads: Reads::AuctionsAndBids,
        baseline: Some(Query::NexmarkGen),
        engines: Engines {
            weir: WEIR,
            timely: TIMELY,
            differential: DIFFERENTIAL,
            flink: FLINK_SQL,
        },
    },
    QueryDef {
        query: Query::Q21,
        workload: Workload::Nexmark,
        name: "q21",
        computes: "channel id of each bid (string functions)",
        columns: <Q21Row>::COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::Append,
        digest: Comparability::Comparable,
        latency: Latency::SampledRecords,
        reads: Reads::Bids,
        baseline: Some(Query::NexmarkGenBids),
        engines: Engines {
            weir: WEIR,
            timely: TIMELY,
            differential: DIFFERENTIAL,
            flink: FLINK_SQL,
        },
    },
    QueryDef {
        query: Query::Q22,
        workload: Workload::Nexmark,
        name: "q22",
        computes: "URL directories of each bid (split)",
        columns: <Q22Row>::COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::Append,
        digest: Comparability::Comparable,
        latency: Latency::SampledRecords,
        reads: Reads::Bids,
        baseline: Some(Query::NexmarkGenBids),
        engines: Engines {
            weir: WEIR,
            timely: TIMELY,
            differential: DIFFERENTIAL,
            flink: FLINK_SQL,
        },
    },
    QueryDef {
        query: Query::YsbGen,
        workload: Workload::Ysb,
        name: "gen",
        computes: "generator-only baseline (source -> counting sink)",
        columns: NO_COLUMNS,
        time: TimeDomain::Untimed,
        output: Output::Nothing,
        digest: Comparability::NotComparable(NO_RESULTS),
        latency: Latency::NotObserved(NO_RESULTS),
        reads: Reads::YsbEvents,
        baseline: None,
        engines: BASELINE_ONLY,
    },
    QueryDef {
        query: Query::Ysb,
        workload: Workload::Ysb,
        name: "ysb",
        computes: "campaign counts (10 s tumbling window)",
        columns: YsbRow::COLUMNS,
        time: TimeDomain::EventTime,
        output: Output::Append,
        digest: Comparability::Comparable,
        latency: Latency::WindowResults,
        reads: Reads::YsbEvents,
        baseline: Some(Query::YsbGen),
        engines: EVERY_ENGINE,
    },
];

/// A query name that `--query` does not know for a workload.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown query '{got}' for {workload} (--query); valid values: {}", list(.valid))]
pub struct UnknownQuery {
    /// The workload.
    pub workload: Workload,
    /// The text given.
    pub got: String,
    /// The workload's query names.
    pub valid: Vec<&'static str>,
}

/// Fewer window closings than this in a run (see [`Query::window_closings`]) and its figures
/// describe a few windows, mostly the final flush at end of input, not windows closing as a
/// stream runs: `weir run` and `weir compare` warn.
pub const MIN_WINDOW_CLOSINGS: u64 = 10;

impl Query {
    /// Every query, in catalog order.
    pub fn all() -> impl Iterator<Item = Query> {
        CATALOG.iter().map(|d| d.query)
    }

    /// The queries of `workload`, in catalog order.
    pub fn of(workload: Workload) -> impl Iterator<Item = Query> {
        CATALOG
            .iter()
            .filter(move |d| d.workload == workload)
            .map(|d| d.query)
    }

    /// The query `name` of `workload` (case-insensitive).
    ///
    /// # Errors
    /// [`UnknownQuery`] listing the workload's queries.
    pub fn parse(workload: Workload, name: &str) -> Result<Query, UnknownQuery> {
        Query::of(workload)
            .find(|q| q.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| UnknownQuery {
                workload,
                got: name.to_string(),
                valid: Query::of(workload).map(Query::name).collect(),
            })
    }

    /// The workload's default query (`weir run` and `weir compare` without `--query`).
    pub fn default_for(workload: Workload) -> Query {
        match workload {
            Workload::Nexmark => Query::Q5,
            Workload::Ysb => Query::Ysb,
        }
    }

    /// How often the query's event-time windows close, in ms of event time: the slide of its
    /// tumbling or hopping windows, the gap of its sessions; `None` for queries without
    /// event-time windows (and for queries not listed here yet).
    pub fn window_period_ms(self) -> Option<u64> {
        use crate::nexmark::{Q5_SLIDE_MS, SESSION_GAP_MS, TUMBLE_MS};
        match self {
            Query::Q5 => Some(Q5_SLIDE_MS),
            Query::Q7 | Query::Q8 => Some(TUMBLE_MS),
            Query::Q11 => Some(SESSION_GAP_MS),
            Query::Ysb => Some(crate::ysb::WINDOW_MS),
            _ => None,
        }
    }

    /// How many times the query's windows close before the end of an input of `events` events
    /// at `event_rate` events/s of event time (its event-time span over
    /// [`Query::window_period_ms`]); the windows still open then fire once, at end of input.
    /// A run meant to measure windows closing (latency, steady state) needs many: see
    /// [`MIN_WINDOW_CLOSINGS`].
    pub fn window_closings(self, events: u64, event_rate: u64) -> Option<u64> {
        let period = self.window_period_ms()?;
        let span_ms = u128::from(events) * 1000 / u128::from(event_rate.max(1));
        Some((span_ms / u128::from(period)).min(u128::from(u64::MAX)) as u64)
    }

    /// Where `engine`'s latency for this query measures another interval than the catalog's
    /// rule ([`QueryDef::latency`]), what it measures instead; comparisons print it beside the
    /// figures so that unlike intervals are never read as like.
    pub fn latency_caveat(self, engine: EngineKind) -> Option<&'static str> {
        match (self, engine) {
            (Query::Q8, EngineKind::Weir) => Some(
                "weir emits a q8 row as soon as the person and the auction are both in the \
                 window, before the window closes: its latency counts from the batch that \
                 completed the row, the other engines' from the watermark that closed the window",
            ),
            _ => None,
        }
    }

    /// Its catalog entry.
    pub fn def(self) -> &'static QueryDef {
        let def = &CATALOG[self as usize];
        debug_assert_eq!(def.query, self, "CATALOG is in Query order");
        def
    }

    /// Its name within its workload (`q5`, `gen`, `ysb`).
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// Its workload.
    pub fn workload(self) -> Workload {
        self.def().workload
    }

    /// Whether `engine` runs it.
    pub fn support(self, engine: EngineKind) -> Support {
        self.def().engines.of(engine)
    }

    /// Whether it is a generator-only baseline.
    pub fn is_baseline(self) -> bool {
        self.def().output == Output::Nothing
    }
}

impl std::fmt::Display for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an unknown engine name was refused (re-exported for callers that parse engines).
pub type UnknownEngine = UnknownName;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_is_in_query_order_and_names_are_unique_per_workload() {
        for (i, def) in CATALOG.iter().enumerate() {
            assert_eq!(def.query as usize, i, "{} is out of order", def.name);
            assert_eq!(def.query.def(), def);
        }
        for workload in Workload::ALL {
            let names: Vec<&str> = Query::of(*workload).map(Query::name).collect();
            let mut unique = names.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), names.len(), "{workload}: {names:?}");
        }
    }

    #[test]
    fn window_closings_follow_the_event_time_span() {
        // 10 M events at 10 M events/s span 1 s of event time: no 10 s window closes before
        // the end of input, and a 2 s slide none either.
        assert_eq!(Query::Q7.window_closings(10_000_000, 10_000_000), Some(0));
        assert_eq!(Query::Q5.window_closings(10_000_000, 10_000_000), Some(0));
        // 30 s of event time: 15 q5 slides, 3 YSB windows.
        assert_eq!(Query::Q5.window_closings(30_000_000, 1_000_000), Some(15));
        assert_eq!(Query::Ysb.window_closings(600_000_000, 20_000_000), Some(3));
        assert_eq!(Query::Q0.window_closings(1, 1), None);
        // A period belongs to queries whose windows close on the watermark and whose latency
        // is observed on those results. Not every such query has one: q6 closes each auction
        // at its own expiry (no period), q10's partitions are a sink's, not its results'.
        let periodic: Vec<Query> = CATALOG
            .iter()
            .map(|def| def.query)
            .filter(|q| q.window_period_ms().is_some())
            .collect();
        assert_eq!(
            periodic,
            [Query::Q5, Query::Q7, Query::Q8, Query::Q11, Query::Ysb]
        );
        for query in periodic {
            let def = query.def();
            assert_eq!(
                (def.time, def.output, def.latency),
                (
                    TimeDomain::EventTime,
                    Output::Append,
                    Latency::WindowResults
                ),
                "{}",
                def.name
            );
        }
    }

    #[test]
    fn parse_is_case_insensitive_and_lists_the_valid_names() {
        assert_eq!(Query::parse(Workload::Nexmark, "Q5"), Ok(Query::Q5));
        assert_eq!(Query::parse(Workload::Ysb, "gen"), Ok(Query::YsbGen));
        assert_eq!(
            Query::parse(Workload::Nexmark, "gen"),
            Ok(Query::NexmarkGen)
        );
        let err = Query::parse(Workload::Nexmark, "q23").expect_err("q23 is not in the catalog");
        assert_eq!(
            err.to_string(),
            "unknown query 'q23' for nexmark (--query); valid values: gen, gen-bids, q0, q1, q2, \
             q3, q4, q5, q6, q7, q8, q9, q10, q11, q12, q13, q14, q15, q16, q17, q18, q19, q20, \
             q21, q22"
        );
        assert!(Query::parse(Workload::Ysb, "q5").is_err());
    }

    #[test]
    fn baselines_read_what_their_queries_read() {
        for def in CATALOG {
            if let Some(baseline) = def.baseline {
                let base = baseline.def();
                assert!(
                    baseline.is_baseline(),
                    "{}: {} is no baseline",
                    def.name,
                    base.name
                );
                assert_eq!(base.workload, def.workload);
                // A baseline may generate more kinds than the query reads (q4 reads auctions
                // and bids, `gen` generates all three), never fewer.
                for kind in def.reads.kinds() {
                    assert!(base.reads.kinds().contains(kind), "{}", def.name);
                }
            }
        }
    }

    #[test]
    fn only_queries_with_results_have_columns_and_comparable_digests() {
        for def in CATALOG {
            let nothing = def.output == Output::Nothing;
            assert_eq!(def.columns.is_empty(), nothing, "{}", def.name);
            if nothing {
                assert!(matches!(def.digest, Comparability::NotComparable(_)));
            }
        }
    }
}
