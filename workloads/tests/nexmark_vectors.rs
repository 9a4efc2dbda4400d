//! The generator's committed vectors, which the Java port must reproduce: the first 20 events
//! in full (JSON lines, as `weir gen nexmark --format jsonl` prints them) and the digest of the
//! first 1,000,000 events as raw rows (docs/WORKLOADS.md 4.5 and 6).

#[path = "support/common.rs"]
mod common;

use std::fmt::Write as _;

use weir_workloads::digest::{Digest, RowEncoder};
use weir_workloads::nexmark::format::{write_json, write_raw_row};
use weir_workloads::nexmark::{EventKind, NexmarkConfig, NexmarkSplit};
use weir_workloads::split::{Split, WorkerSplit};

#[test]
fn first_20_events() {
    let config = NexmarkConfig::with_events(20);
    let split = NexmarkSplit::new(&config, WorkerSplit::SINGLE).expect("valid config");
    let mut text = String::new();
    for event in split {
        write_json(&mut text, &event);
    }
    common::check_or_bless("nexmark_first20.jsonl", &text);
}

#[test]
fn digest_of_the_first_million_events() {
    let config = NexmarkConfig::with_events(1_000_000);
    let mut split = NexmarkSplit::new(&config, WorkerSplit::SINGLE).expect("valid config");
    let mut all = Digest::new();
    let mut per_kind = [Digest::new(), Digest::new(), Digest::new()];
    let mut enc = RowEncoder::new();
    let mut batch = Vec::with_capacity(4096);
    loop {
        batch.clear();
        let more = split.fill(&mut batch, 4096);
        for event in &batch {
            enc.clear();
            write_raw_row(&mut enc, event);
            let h = enc.hash();
            all.add_hash(h, 1);
            per_kind[event.kind() as usize].add_hash(h, 1);
        }
        if !more {
            break;
        }
    }
    let mut text = String::from(
        "# Digest of the raw rows of Nexmark events 0..1000000 (default configuration:\n\
         # event rate 10000000/s, base time 1436918400000, hot ratios 2/4/4).\n\
         # scope<TAB>rows<TAB>hash\n",
    );
    for (kind, d) in [EventKind::Person, EventKind::Auction, EventKind::Bid]
        .iter()
        .zip(&per_kind)
    {
        let _ = writeln!(text, "{}\t{}\t{}", kind.as_str(), d.rows(), d.hash_hex());
    }
    let _ = writeln!(text, "all\t{}\t{}", all.rows(), all.hash_hex());
    common::check_or_bless("nexmark_1m_digest.tsv", &text);
}
