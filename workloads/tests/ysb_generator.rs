//! The YSB generator: committed vectors (first 20 events as JSON lines, digest of the first
//! 1,000,000 raw rows), split determinism, field ranges, and the reference query on a
//! hand-computed input.

#[path = "support/common.rs"]
mod common;

use std::collections::HashMap;
use std::fmt::Write as _;

use weir_workloads::digest::{Digest, RowEncoder};
use weir_workloads::split::{Split, WATERMARK_END, WorkerSplit};
use weir_workloads::ysb::{
    AD_TYPES, EVENT_TYPES, YsbConfig, YsbEvent, YsbRow, YsbSplit, parse_json_line, reference,
    tables,
};

fn all(config: &YsbConfig, split: WorkerSplit) -> Vec<YsbEvent> {
    let mut s = YsbSplit::new(config, split).expect("valid");
    let mut out = Vec::new();
    while s.fill(&mut out, 999) {}
    out
}

#[test]
fn first_20_events() {
    let config = YsbConfig::with_events(20);
    let mut s = YsbSplit::new(&config, WorkerSplit::SINGLE).expect("valid");
    let mut text = String::new();
    while s.fill_json(&mut text, 7) {}
    common::check_or_bless("ysb_first20.jsonl", &text);
}

#[test]
fn digest_of_the_first_million_events() {
    let config = YsbConfig::with_events(1_000_000);
    let mut d = Digest::new();
    let mut enc = RowEncoder::new();
    let mut views = 0_u64;
    for e in all(&config, WorkerSplit::SINGLE) {
        enc.clear();
        e.write_raw_row(&mut enc);
        d.add_hash(enc.hash(), 1);
        views += u64::from(e.event_type == "view");
        assert!(AD_TYPES.contains(&e.ad_type));
        assert!(EVENT_TYPES.contains(&e.event_type));
    }
    // About a third of the events are views.
    assert!((views as f64 / 1e6 - 1.0 / 3.0).abs() < 0.01, "{views}");
    let text = format!(
        "# Digest of the raw rows of YSB events 0..1000000 (event rate 10000000/s, base time\n\
         # 1436918400000): (\"ysb\", user_id, page_id, ad_id, ad_type, event_type, event_time,\n\
         # ip_address).\n# scope<TAB>rows<TAB>hash\nall\t{}\t{}\n",
        d.rows(),
        d.hash_hex()
    );
    common::check_or_bless("ysb_1m_digest.tsv", &text);
}

#[test]
fn workers_partition_the_single_stream() {
    let config = YsbConfig::with_events(12_345);
    let single = all(&config, WorkerSplit::SINGLE);
    for workers in 1..=8 {
        let mut union = Vec::new();
        for w in 0..workers {
            let split = WorkerSplit::new(w, workers).expect("valid");
            let mine = all(&config, split);
            assert!(mine.windows(2).all(|p| p[0].event_time <= p[1].event_time));
            let ids = (0..config.events).filter(|&i| split.owns(i));
            union.extend(ids.zip(mine));
        }
        union.sort_by_key(|(id, _)| *id);
        let union: Vec<YsbEvent> = union.into_iter().map(|(_, e)| e).collect();
        assert_eq!(union, single, "{workers} workers");
    }
}

#[test]
fn json_source_parses_back_to_the_records() {
    let config = YsbConfig::with_events(3000);
    let records = all(&config, WorkerSplit::SINGLE);
    let mut s = YsbSplit::new(&config, WorkerSplit::SINGLE).expect("valid");
    let mut text = String::new();
    while s.fill_json(&mut text, 500) {}
    assert_eq!(s.watermark(), WATERMARK_END);
    let parsed: Vec<_> = text
        .lines()
        .map(|l| parse_json_line(l).expect("generated lines parse"))
        .collect();
    assert_eq!(parsed.len(), records.len());
    for (p, r) in parsed.iter().zip(&records) {
        assert_eq!(
            (p.ad_id, p.event_type, p.event_time),
            (r.ad_id, r.event_type, r.event_time)
        );
    }
}

#[test]
fn reference_counts_views_per_campaign_window() {
    let t = tables();
    let ads: Vec<(&str, &str)> = t.ad_campaigns().collect();
    // Ads 0 and 9 belong to campaign 0, ad 10 to campaign 1.
    let (ad0, c0) = ads[0];
    let (ad9, c0b) = ads[9];
    let (ad10, c1) = ads[10];
    assert_eq!(c0, c0b);
    let base = 1_436_918_400_000_u64;
    let ev = |ad: &'static str, event_type: &'static str, t: u64| YsbEvent {
        user_id: "u",
        page_id: "p",
        ad_id: ad,
        ad_type: "banner",
        event_type,
        event_time: base + t,
        ip_address: "1.2.3.4",
    };
    let events = [
        ev(ad0, "view", 0),
        ev(ad9, "view", 9_999),
        ev(ad0, "click", 5),      // not a view
        ev(ad0, "view", 10_000),  // next window
        ev(ad10, "view", 10_001), // other campaign
        ev("not-an-ad", "view", 1),
        ev(ad10, "purchase", 3),
    ];
    let mut expected = vec![
        YsbRow {
            campaign_id: c0,
            window_start: base,
            count: 2,
        },
        YsbRow {
            campaign_id: c0,
            window_start: base + 10_000,
            count: 1,
        },
        YsbRow {
            campaign_id: c1,
            window_start: base + 10_000,
            count: 1,
        },
    ];
    expected.sort();
    assert_eq!(reference(&events), expected);
}

#[test]
fn ads_and_campaigns_are_spread_evenly() {
    let events = all(&YsbConfig::with_events(200_000), WorkerSplit::SINGLE);
    let mut per_campaign: HashMap<&str, u64> = HashMap::new();
    for e in &events {
        *per_campaign
            .entry(
                tables()
                    .campaign_of(e.ad_id)
                    .expect("every generated ad has a campaign"),
            )
            .or_default() += 1;
    }
    assert_eq!(per_campaign.len(), 100);
    // 2000 expected per campaign; a binomial spread of ~45.
    assert!(per_campaign.values().all(|&n| (1700..2300).contains(&n)));
}

#[test]
fn reference_digests_over_generated_input() {
    let mut text = String::from(
        "# Digests of the YSB reference over generated input; every engine must produce these.\n\
         # config<TAB>rows<TAB>hash\n",
    );
    for (name, config) in [
        (
            "events=1000000,event_rate=10000000",
            YsbConfig::with_events(1_000_000),
        ),
        (
            "events=300000,event_rate=10000",
            YsbConfig {
                events: 300_000,
                event_rate: 10_000,
                ..YsbConfig::default()
            },
        ),
    ] {
        let rows = reference(&all(&config, WorkerSplit::SINGLE));
        let mut d = Digest::new();
        for r in &rows {
            d.add(r);
        }
        assert!(d.rows() > 0);
        let _ = writeln!(text, "{name}\t{}\t{}", d.rows(), d.hash_hex());
    }
    common::check_or_bless("ysb_reference_digests.tsv", &text);
}
