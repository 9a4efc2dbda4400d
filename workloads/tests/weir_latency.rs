//! Per-record latency of the un-windowed queries on weir (q0-q3): the events with
//! `id % 1024 == 0` carry their ingestion time to the sink, so a run reports exactly one latency
//! sample per result row that such an event made, and the digest does not change.

use std::collections::HashMap;

use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::digest::{Digest, ResultRow};
use weir_workloads::job::{RunLength, RunSpec, SourceMode};
use weir_workloads::nexmark::reference::{q0, q1, q3};
use weir_workloads::nexmark::{Event, EventKind, NexmarkConfig, NexmarkSplit, generate_event};
use weir_workloads::report::{DigestSummary, RunReport};
use weir_workloads::runner;
use weir_workloads::split::{Split, WorkerSplit};

const EVENTS: u64 = 200_000;
/// q3's rows are rare (category-10 auctions of sellers in three states), and rarer still among
/// one id in 1024: a larger input of persons and auctions only.
const Q3_EVENTS: u64 = 2_000_000;
const SAMPLE_EVERY: u64 = 1024;

fn spec(query: &str, workers: usize, source: SourceMode, rate: Option<u64>) -> RunSpec {
    spec_n(query, EVENTS, workers, source, rate)
}

fn spec_n(
    query: &str,
    events: u64,
    workers: usize,
    source: SourceMode,
    rate: Option<u64>,
) -> RunSpec {
    RunSpec {
        workers,
        length: RunLength::Events(events),
        rate,
        event_rate: rate.unwrap_or(10_000_000),
        source,
        command: format!("test latency {query}"),
        ..RunSpec::new(
            Query::parse(Workload::Nexmark, query).expect("a catalog query"),
            EngineKind::Weir,
        )
    }
}

fn run(spec: &RunSpec) -> RunReport {
    runner::start(spec)
        .unwrap_or_else(|e| panic!("{}: cannot start: {e}", spec.query))
        .wait()
        .unwrap_or_else(|e| panic!("{}: failed: {e}", spec.query))
}

/// The whole input in id order (one worker produces every id, so event `i` has id `i`).
fn events(event_rate: u64) -> Vec<Event> {
    let config = NexmarkConfig {
        event_rate,
        ..NexmarkConfig::with_events(EVENTS)
    };
    let mut split = NexmarkSplit::new(&config, WorkerSplit::SINGLE).expect("valid config");
    let mut out = Vec::new();
    while split.fill(&mut out, 1 << 16) {}
    assert_eq!(out.len() as u64, EVENTS);
    out
}

fn digest_of<R: ResultRow>(rows: &[R]) -> DigestSummary {
    let mut d = Digest::new();
    for r in rows {
        d.add(r);
    }
    d.summary()
}

/// The sampled ids that are bids: each makes exactly one q0/q1 row.
fn sampled_bids() -> u64 {
    (0..EVENTS)
        .step_by(SAMPLE_EVERY as usize)
        .filter(|&id| EventKind::of_id(id) == EventKind::Bid)
        .count() as u64
}

/// q3's input (persons and auctions of `0..Q3_EVENTS`, with their ids) and the rows a sampled
/// auction made by arriving: a category-10 auction with a sampled id whose seller is a person
/// in OR, ID or CA not younger than the auction.
fn q3_input() -> (Vec<Event>, u64) {
    let config = NexmarkConfig::with_events(Q3_EVENTS);
    let events: Vec<(u64, Event)> = (0..Q3_EVENTS)
        .filter(|&id| EventKind::of_id(id) != EventKind::Bid)
        .map(|id| (id, generate_event(&config, id)))
        .collect();
    let sellers: HashMap<u64, u64> = events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Person(p) if matches!(p.state, "OR" | "ID" | "CA") => Some((p.id, p.date_time)),
            _ => None,
        })
        .collect();
    let sampled = events
        .iter()
        .filter(|(id, _)| id % SAMPLE_EVERY == 0)
        .filter(|(_, e)| match e {
            Event::Auction(a) if a.category == 10 => sellers
                .get(&a.seller)
                .is_some_and(|&person_time| a.date_time >= person_time),
            _ => false,
        })
        .count() as u64;
    (events.into_iter().map(|(_, e)| e).collect(), sampled)
}

fn samples(report: &RunReport) -> u64 {
    report.latency_ns.as_ref().map_or(0, |l| l.samples)
}

#[test]
fn q0_and_q1_record_one_sample_per_sampled_bid() {
    let expected = sampled_bids();
    assert!(expected > 100, "the input has sampled bids");
    let input = events(10_000_000);
    for (query, digest) in [
        ("q0", digest_of(&q0(&input))),
        ("q1", digest_of(&q1(&input))),
    ] {
        for (workers, source) in [(1, SourceMode::Generate), (2, SourceMode::Replay)] {
            let report = run(&spec(query, workers, source, None));
            assert_eq!(
                report.digest, digest,
                "{query} at {workers} workers, {source}"
            );
            assert_eq!(
                samples(&report),
                expected,
                "{query} at {workers} workers, {source}: one sample per sampled bid"
            );
            let latency = report.latency_ns.expect("a latency summary");
            assert!(latency.p50 > 0 && latency.p50 <= latency.p99 && latency.p99 <= latency.max);
        }
    }
}

#[test]
fn paced_q1_stamps_the_scheduled_time() {
    // 200,000 events at 2 M/s: 0.1 s of input.
    let rate = 2_000_000;
    let report = run(&spec("q1", 2, SourceMode::Generate, Some(rate)));
    assert_eq!(report.digest, digest_of(&q1(&events(rate))));
    assert_eq!(samples(&report), sampled_bids());
}

#[test]
fn q3_records_the_rows_its_sampled_auctions_make() {
    let (input, expected) = q3_input();
    assert!(expected > 0, "the input has sampled q3 rows");
    let digest = digest_of(&q3(&input));
    for (workers, source) in [(1, SourceMode::Generate), (3, SourceMode::Replay)] {
        let report = run(&spec_n("q3", Q3_EVENTS, workers, source, None));
        assert_eq!(report.digest, digest, "q3 at {workers} workers, {source}");
        assert_eq!(
            samples(&report),
            expected,
            "q3 at {workers} workers, {source}: one sample per row of a sampled auction"
        );
    }
}

#[test]
fn q2_keeps_the_digest_and_samples_only_its_rows() {
    let input = events(10_000_000);
    let rows = weir_workloads::nexmark::reference::q2(&input);
    let sampled = (0..EVENTS)
        .step_by(SAMPLE_EVERY as usize)
        .filter(|&id| match input[id as usize] {
            Event::Bid(b) => b.auction % 123 == 0,
            _ => false,
        })
        .count() as u64;
    let report = run(&spec("q2", 2, SourceMode::Generate, None));
    assert_eq!(report.digest, digest_of(&rows));
    assert_eq!(samples(&report), sampled);
}
