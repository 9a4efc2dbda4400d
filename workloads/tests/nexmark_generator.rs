//! Fidelity of the Nexmark generator over 1,000,000 events (proportions, hot shares, id and
//! timestamp formulas, field ranges), and determinism of the worker split.

use std::collections::HashSet;

use weir_workloads::nexmark::{
    BidSplit, EXTRA_POOL_LEN, Event, EventKind, NexmarkConfig, NexmarkSplit, generate_event, pools,
};
use weir_workloads::split::{Split, WATERMARK_END, WorkerSplit};

fn all_events(config: &NexmarkConfig, split: WorkerSplit) -> Vec<Event> {
    let mut s = NexmarkSplit::new(config, split).expect("valid config");
    let mut out = Vec::new();
    while s.fill(&mut out, 1000) {}
    out
}

fn is_letters(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_lowercase())
}

fn is_string_of(s: &str, max_len: usize) -> bool {
    s.len() < max_len
        && s.bytes().all(|b| b == b' ' || b.is_ascii_lowercase())
        && !s.starts_with(' ')
        && !s.ends_with(' ')
}

#[test]
fn fidelity_over_a_million_events() {
    let config = NexmarkConfig::with_events(1_000_000);
    let events = all_events(&config, WorkerSplit::SINGLE);
    assert_eq!(events.len(), 1_000_000);
    let cities = [
        "Phoenix",
        "Los Angeles",
        "San Francisco",
        "Boise",
        "Portland",
        "Bend",
        "Redmond",
        "Seattle",
        "Kent",
        "Cheyenne",
    ];
    let states = ["AZ", "CA", "ID", "OR", "WA", "WY"];
    let channels: HashSet<&str> = pools().channels().map(|(c, _)| c).collect();
    let urls: HashSet<&str> = pools().channels().map(|(_, u)| u).collect();
    let (mut persons, mut auctions, mut bids) = (0_u64, 0_u64, 0_u64);
    let (mut hot_auction, mut hot_bidder, mut hot_seller) = (0_u64, 0_u64, 0_u64);
    let mut seen_states = HashSet::new();
    for (i, event) in events.iter().enumerate() {
        let i = i as u64;
        let ts = 1_436_918_400_000 + i * 1000 / 10_000_000;
        assert_eq!(event.date_time(), ts, "timestamp of event {i}");
        assert_eq!(event.kind(), EventKind::of_id(i));
        let last_person = i / 50 + 1000;
        let last_auction = match i % 50 {
            0 => (3 * (i / 50) + 1000).checked_sub(1),
            r @ 1..=3 => Some(3 * (i / 50) + r - 1 + 1000),
            _ => Some(3 * (i / 50) + 2 + 1000),
        };
        match event {
            Event::Person(p) => {
                persons += 1;
                assert_eq!(p.id, last_person);
                assert!(cities.contains(&p.city));
                assert!(states.contains(&p.state));
                seen_states.insert(p.state);
                let (user, domain) = p
                    .email_address
                    .as_str()
                    .split_once('@')
                    .expect("an email has an @");
                assert!(is_string_of(user, 7), "{user:?}");
                let domain = domain.strip_suffix(".com").expect(".com");
                assert!(is_string_of(domain, 5), "{domain:?}");
                let cc = p.credit_card.as_str();
                assert_eq!(cc.len(), 19);
                assert!(
                    cc.split(' ')
                        .all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_digit()))
                );
                let (first, last) = p.name.split_once(' ').expect("first and last name");
                assert!(!first.is_empty() && !last.is_empty());
                assert!(is_letters(&p.extra) && !p.extra.is_empty());
            }
            Event::Auction(a) => {
                auctions += 1;
                assert_eq!(Some(a.id), last_auction);
                assert!((10..=14).contains(&a.category));
                assert!((100..=100_000_000).contains(&a.initial_bid));
                assert!(
                    a.reserve >= a.initial_bid + 100 && a.reserve <= a.initial_bid + 100_000_000
                );
                assert!(a.expires > a.date_time);
                assert!(a.seller >= 1000 && a.seller <= last_person + 10);
                if a.seller == (last_person - 1000) / 100 * 100 + 1000 {
                    hot_seller += 1;
                }
                assert!(is_string_of(a.item_name.as_str(), 20));
                assert!(is_string_of(a.description.as_str(), 100));
                assert!(is_letters(&a.extra));
            }
            Event::Bid(b) => {
                bids += 1;
                let last_auction = last_auction.expect("a bid comes after an auction");
                assert!(b.auction >= 1000 && b.auction <= last_auction + 10);
                // At most 100 auctions back (in flight), at most 10 ahead (the lead).
                assert!(b.auction + 100 >= last_auction);
                assert!(b.bidder + 999 >= last_person);
                assert!(b.bidder >= 1000 && b.bidder <= last_person + 10);
                assert!((100..=100_000_000).contains(&b.price));
                assert!((54..=81).contains(&b.extra.len()), "{}", b.extra.len());
                assert!(is_letters(&b.extra));
                assert!(channels.contains(b.channel.name()) && urls.contains(b.url()));
                if b.auction == (last_auction - 1000) / 100 * 100 + 1000 {
                    hot_auction += 1;
                }
                if b.bidder == (last_person - 1000) / 100 * 100 + 1001 {
                    hot_bidder += 1;
                }
            }
        }
    }
    assert_eq!((persons, auctions, bids), (20_000, 60_000, 920_000));
    assert_eq!(seen_states.len(), 6);
    // A hot pick and a random pick can coincide, so the observed share is a little above
    // 1 - 1/ratio; 1 % is the tolerance the issue asks for.
    let share = |n: u64, d: u64| n as f64 / d as f64;
    let a = share(hot_auction, bids);
    let b = share(hot_bidder, bids);
    let s = share(hot_seller, auctions);
    assert!((a - 0.5).abs() < 0.01, "hot auction share {a}");
    assert!((b - 0.75).abs() < 0.01, "hot bidder share {b}");
    assert!((s - 0.75).abs() < 0.01, "hot seller share {s}");
}

#[test]
fn workers_partition_the_single_stream() {
    let config = NexmarkConfig::with_events(20_000);
    let single = all_events(&config, WorkerSplit::SINGLE);
    for workers in 1..=8 {
        let mut union: Vec<(u64, Event)> = Vec::new();
        for w in 0..workers {
            let split = WorkerSplit::new(w, workers).expect("valid split");
            let mine = all_events(&config, split);
            assert!(
                mine.windows(2)
                    .all(|p| p[0].date_time() <= p[1].date_time()),
                "worker {w} of {workers}: timestamps must not decrease"
            );
            // Recover each event's id from the split rule: the k-th owned id.
            let ids = (0..config.events).filter(|&i| split.owns(i));
            assert_eq!(mine.len() as u64, split.count(config.events));
            union.extend(ids.zip(mine));
        }
        union.sort_by_key(|(id, _)| *id);
        let union: Vec<Event> = union.into_iter().map(|(_, e)| e).collect();
        assert_eq!(union, single, "{workers} workers");
    }
}

#[test]
fn events_are_pure_functions_of_their_id() {
    let config = NexmarkConfig::with_events(5000);
    let single = all_events(&config, WorkerSplit::SINGLE);
    for id in [0, 1, 4, 49, 50, 1023, 1024, 4999] {
        assert_eq!(generate_event(&config, id), single[id as usize]);
    }
}

#[test]
fn bid_split_and_kind_filter_skip_without_changing_events() {
    let config = NexmarkConfig::with_events(10_000);
    let split = WorkerSplit::new(1, 3).expect("valid");
    let all = all_events(&config, split);
    let mut bids = Vec::new();
    let mut bs = BidSplit::new(&config, split).expect("valid");
    while bs.fill(&mut bids, 77) {}
    let expected: Vec<_> = all
        .iter()
        .filter_map(|e| match e {
            Event::Bid(b) => Some(*b),
            _ => None,
        })
        .collect();
    assert_eq!(bids, expected);
    let mut pa = Vec::new();
    let mut s = NexmarkSplit::new(&config, split)
        .expect("valid")
        .only(&[EventKind::Person, EventKind::Auction]);
    while s.fill(&mut pa, 5) {}
    let expected: Vec<_> = all
        .iter()
        .filter(|e| e.kind() != EventKind::Bid)
        .copied()
        .collect();
    assert_eq!(pa, expected);
}

#[test]
fn watermark_trails_the_max_timestamp() {
    let config = NexmarkConfig {
        events: 3000,
        event_rate: 100,
        ..NexmarkConfig::default()
    };
    let mut s = NexmarkSplit::new(&config, WorkerSplit::SINGLE).expect("valid");
    assert_eq!(s.watermark(), 0);
    let mut out = Vec::new();
    assert!(s.fill(&mut out, 1000));
    // Event 999 is at base + 9990 ms; out-of-orderness is 4 s.
    assert_eq!(s.watermark(), config.base_time_ms + 9990 - 4000);
    while s.fill(&mut out, 1000) {}
    assert_eq!(s.watermark(), WATERMARK_END);
    assert_eq!(out.len(), 3000);
}

#[test]
fn extra_pool_is_a_mebibyte_of_letters() {
    let pool = pools().extra_pool();
    assert_eq!(pool.len(), EXTRA_POOL_LEN as usize);
    assert!(is_letters(pool));
    assert_eq!(pools().channels().count(), 10_004);
}

#[test]
fn invalid_configuration_names_the_flag() {
    let config = NexmarkConfig {
        event_rate: 0,
        ..NexmarkConfig::default()
    };
    let err = NexmarkSplit::new(&config, WorkerSplit::SINGLE).expect_err("rate 0");
    assert!(err.to_string().contains("--event-rate"), "{err}");
}

#[test]
fn replay_serves_the_generated_events_with_the_same_watermarks() {
    use weir_workloads::split::Replay;
    let config = NexmarkConfig::with_events(5000);
    let split = WorkerSplit::new(1, 2).expect("valid");
    let mut live = NexmarkSplit::new(&config, split).expect("valid");
    let mut replay = Replay::record(
        &mut NexmarkSplit::new(&config, split).expect("valid"),
        config.out_of_orderness_ms,
    );
    assert_eq!(replay.events().len() as u64, split.count(config.events));
    assert_eq!(replay.watermark(), live.watermark());
    let (mut a, mut b) = (Vec::new(), Vec::new());
    loop {
        let more_live = live.fill(&mut a, 300);
        let more_replay = replay.fill(&mut b, 300);
        assert_eq!(more_live, more_replay);
        assert_eq!(a, b);
        // The replay's watermark follows the last event served; the live split's follows the
        // last id it consumed, which is the same id here (whole kinds, no skipping).
        assert_eq!(replay.watermark(), live.watermark());
        if !more_live {
            break;
        }
    }
    assert_eq!(replay.watermark(), WATERMARK_END);
    replay.rewind();
    assert_eq!(replay.next_slice(3), &a[..3]);
}
