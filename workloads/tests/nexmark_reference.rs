//! The sequential references on hand-computed inputs (each window type and join), and their
//! digests over generated input as committed vectors for the other engines.

#[path = "support/common.rs"]
mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use weir_workloads::catalog::{Query, Workload};
use weir_workloads::nexmark::reference::{
    q0, q1, q2, q3, q4, q5, q7, q8, q9, q11, q12_check, q18, q19,
};
use weir_workloads::nexmark::{
    Auction, Bid, Channel, Event, Extra, InlineStr, Person, Q0Row, Q1Row, Q2Row, Q3Row, Q4Row,
    Q5Row, Q7Row, Q8Row, Q11Row, Q12Row, TIE_PRICES, TIE_TIME_MS,
};
use weir_workloads::references::{self, CALENDAR_INPUT, ReferenceInput};

const T0: u64 = 1_436_918_400_000;

fn bid(auction: u64, bidder: u64, price: u64, t: u64) -> Event {
    Event::Bid(Bid {
        auction,
        bidder,
        price,
        channel: Channel::from_index(0).expect("Google is channel 0"),
        date_time: T0 + t,
        extra: Extra::from_static("x"),
        event_id: 0,
    })
}

fn person(id: u64, name: &'static str, state: &'static str, t: u64) -> Event {
    Event::Person(Person {
        id,
        name,
        email_address: InlineStr::try_from_str("a@b.com").expect("short ASCII"),
        credit_card: InlineStr::try_from_str("0000 0000 0000 0000").expect("short ASCII"),
        city: "Boise",
        state,
        date_time: T0 + t,
        extra: Extra::EMPTY,
    })
}

fn auction(id: u64, seller: u64, category: u64, t: u64, expires: u64) -> Event {
    Event::Auction(Auction {
        id,
        item_name: InlineStr::EMPTY,
        description: InlineStr::EMPTY,
        initial_bid: 1,
        reserve: 2,
        date_time: T0 + t,
        expires: T0 + expires,
        seller,
        category,
        extra: Extra::EMPTY,
    })
}

#[test]
fn q0_q1_q2_are_per_bid() {
    let events = [
        person(1000, "P", "OR", 0),
        bid(1230, 1, 1001, 5),
        bid(1231, 2, 7, 6),
    ];
    assert_eq!(
        q0(&events),
        vec![
            Q0Row {
                auction: 1230,
                bidder: 1,
                price: 1001,
                date_time: T0 + 5,
                extra: "x"
            },
            Q0Row {
                auction: 1231,
                bidder: 2,
                price: 7,
                date_time: T0 + 6,
                extra: "x"
            },
        ]
    );
    // 1001 * 0.908 = 908.908 -> 908908 at scale 3.
    assert_eq!(q1(&events)[0].price, 908_908);
    assert_eq!(
        q1(&events)[0],
        Q1Row {
            auction: 1230,
            bidder: 1,
            price: 908_908,
            date_time: T0 + 5,
            extra: "x"
        }
    );
    // 1230 = 10 * 123.
    assert_eq!(
        q2(&events),
        vec![Q2Row {
            auction: 1230,
            price: 1001
        }]
    );
}

#[test]
fn q3_joins_sellers_in_any_order_with_filters() {
    let events = [
        auction(2000, 1001, 10, 0, 100), // seller arrives later: still joins
        person(1001, "Kate White", "OR", 5),
        person(1002, "Luke Jones", "WA", 6), // wrong state
        auction(2001, 1002, 10, 7, 100),
        auction(2002, 1001, 11, 8, 100), // wrong category
        auction(2003, 1001, 10, 9, 100),
    ];
    assert_eq!(
        q3(&events),
        vec![
            Q3Row {
                name: "Kate White",
                city: "Boise",
                state: "OR",
                id: 2000
            },
            Q3Row {
                name: "Kate White",
                city: "Boise",
                state: "OR",
                id: 2003
            },
        ]
    );
}

#[test]
fn q4_averages_the_winning_bids_between_start_and_expiry() {
    let events = [
        auction(1, 7, 10, 100, 200),
        auction(2, 7, 10, 100, 150),
        auction(3, 7, 11, 100, 150),
        bid(1, 9, 50, 99),   // before the start: ignored
        bid(1, 9, 30, 100),  // at the start: counts
        bid(1, 9, 40, 200),  // at expiry: counts (max 40)
        bid(2, 9, 5, 120),   // max 5
        bid(2, 9, 500, 151), // after expiry: ignored
        bid(3, 9, 8, 150),
        bid(4, 9, 1000, 120), // no such auction
    ];
    // Category 10: (40 + 5) / 2 = 22 (truncated); category 11: 8.
    assert_eq!(
        q4(&events),
        vec![
            Q4Row {
                category: 10,
                avg: 22
            },
            Q4Row {
                category: 11,
                avg: 8
            }
        ]
    );
}

#[test]
fn q5_keeps_every_leader_of_every_hopping_window() {
    // T0 is a multiple of 2 s. A bid at T0 + 1000 lies in the windows starting at
    // T0 - 8000, -6000, -4000, -2000 and T0.
    let events = [
        bid(1, 0, 1, 1000),
        bid(2, 0, 1, 1500),
        bid(2, 0, 1, 2500), // windows T0 - 6000 .. T0 + 2000
    ];
    let rows = q5(&events);
    // Windows T0 - 8000: auction 1 and 2 tied at 1 -> both. T0 - 6000 .. T0: auction 2 has 2
    // bids -> only (2, 2), four windows. T0 + 2000: only the bid at 2500 -> (2, 1).
    let mut expected = vec![
        Q5Row { auction: 1, num: 1 },
        Q5Row { auction: 2, num: 1 },
        Q5Row { auction: 2, num: 1 },
    ];
    expected.extend(std::iter::repeat_n(Q5Row { auction: 2, num: 2 }, 4));
    expected.sort();
    assert_eq!(rows, expected);
}

#[test]
fn q7_matches_the_max_price_with_an_inclusive_window_end() {
    let events = [
        bid(1, 11, 100, 0),
        bid(2, 12, 300, 5_000),
        bid(3, 13, 300, 9_999),  // tie for the max of window [T0, T0+10s)
        bid(4, 14, 300, 10_000), // on the first window's end, and max of the second
        bid(5, 15, 200, 15_000),
    ];
    let row = |auction, price, bidder, t| Q7Row {
        auction,
        price,
        bidder,
        date_time: T0 + t,
        extra: "x",
    };
    let mut expected = vec![
        row(2, 300, 12, 5_000),
        row(3, 300, 13, 9_999),
        // Matches window 1 (BETWEEN includes its end) and window 2 (its own max).
        row(4, 300, 14, 10_000),
        row(4, 300, 14, 10_000),
    ];
    expected.sort();
    assert_eq!(q7(&events), expected);
}

#[test]
fn q8_joins_new_persons_and_sellers_in_the_same_tumbling_window() {
    let events = [
        person(1000, "Peter White", "OR", 1_000),
        person(1001, "Paul Smith", "CA", 2_000),
        auction(1, 1000, 10, 9_999, 20_000), // same window as person 1000
        auction(2, 1000, 10, 9_000, 20_000), // a second auction: still one row
        auction(3, 1001, 10, 10_000, 20_000), // next window: no row for 1001
    ];
    assert_eq!(
        q8(&events),
        vec![Q8Row {
            id: 1000,
            name: "Peter White",
            starttime: T0
        }]
    );
}

#[test]
fn q11_merges_touching_sessions_and_splits_longer_gaps() {
    let events = [
        bid(1, 7, 1, 0),
        bid(1, 7, 1, 10_000), // exactly the gap: touches, same session
        bid(1, 7, 1, 20_001), // 10.001 s later: new session
        bid(1, 8, 1, 5),
    ];
    let mut expected = vec![
        Q11Row {
            bidder: 7,
            bid_count: 2,
            starttime: T0,
            endtime: T0 + 20_000,
        },
        Q11Row {
            bidder: 7,
            bid_count: 1,
            starttime: T0 + 20_001,
            endtime: T0 + 30_001,
        },
        Q11Row {
            bidder: 8,
            bid_count: 1,
            starttime: T0 + 5,
            endtime: T0 + 10_005,
        },
    ];
    expected.sort();
    assert_eq!(q11(&events), expected);
}

#[test]
fn q12_check_accepts_any_split_into_windows_and_rejects_wrong_counts() {
    let events = [bid(1, 7, 1, 0), bid(1, 7, 1, 1), bid(1, 8, 1, 2)];
    let w = |bidder, bid_count, k: u64| Q12Row {
        bidder,
        bid_count,
        starttime: 1_700_000_000_000 + k * 10_000,
        endtime: 1_700_000_000_000 + (k + 1) * 10_000,
    };
    assert_eq!(q12_check(&[w(7, 2, 0), w(8, 1, 0)], &events), Ok(()));
    assert_eq!(
        q12_check(&[w(7, 1, 0), w(7, 1, 1), w(8, 1, 5)], &events),
        Ok(())
    );
    assert!(q12_check(&[w(7, 1, 0), w(8, 1, 0)], &events).is_err());
    assert!(q12_check(&[w(7, 1, 0), w(7, 1, 0), w(8, 1, 0)], &events).is_err());
    let mut bad = w(7, 2, 0);
    bad.starttime += 1;
    assert!(q12_check(&[bad, w(8, 1, 0)], &events).is_err());
}

/// The reference digest of every comparable Nexmark query of the catalog over generated input
/// at two event rates, the calendar input (every hour of the day, a day boundary) and the tie
/// input, as committed vectors: a change of any reference (or of the generator) fails here
/// until it is blessed on purpose.
#[test]
fn reference_digests_over_generated_input() {
    let mut text = String::from(
        "# Digests of the sequential references over generated Nexmark input; every engine must\n\
         # produce these. config<TAB>query<TAB>rows<TAB>hash\n",
    );
    let (calendar_events, calendar_rate) = CALENDAR_INPUT;
    let inputs = [
        (
            "events=200000,event_rate=10000000".to_string(),
            ReferenceInput::generate(200_000, 10_000_000),
            false,
        ),
        (
            "events=200000,event_rate=10000".to_string(),
            ReferenceInput::generate(200_000, 10_000),
            false,
        ),
        (
            format!("events={calendar_events},event_rate={calendar_rate}"),
            ReferenceInput::generate(calendar_events, calendar_rate),
            true,
        ),
        (
            "ties,events=50000,event_rate=1000".to_string(),
            ReferenceInput::tied(50_000, 1_000),
            // q14's price filter keeps none of the tie input's four small prices.
            false,
        ),
    ];
    for (name, input, every_query_has_rows) in inputs {
        let input = input.expect("a valid configuration");
        for query in Query::of(Workload::Nexmark) {
            let Some(d) = references::digest(query, &input).expect("no overflow") else {
                continue;
            };
            assert!(
                d.rows > 0 || !every_query_has_rows,
                "{query} on {name} has no rows"
            );
            let _ = writeln!(text, "{name}\t{query}\t{}\t{}", d.rows, d.hash);
        }
    }
    common::check_or_bless("nexmark_reference_digests.tsv", &text);
}

/// Bids of one auction: `(event id, price, dateTime offset)`, bidder = event id.
fn tie_bids(auction: u64, bids: &[(u64, u64, u64)]) -> Vec<Event> {
    bids.iter()
        .map(|&(id, price, t)| {
            let Event::Bid(b) = bid(auction, id, price, t) else {
                unreachable!("bid() makes bids")
            };
            Event::Bid(Bid { event_id: id, ..b })
        })
        .collect()
}

#[test]
fn q9_breaks_ties_by_earliest_time_then_smallest_event_id() {
    let mut events = vec![self::auction(1, 7, 10, 0, 100)];
    // Equal price 50: times 5, 5, 7; the later id 30 loses to id 20 at the same time.
    events.extend(tie_bids(
        1,
        &[(30, 50, 5), (20, 50, 5), (10, 50, 7), (40, 40, 1)],
    ));
    let rows = q9(&events);
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].bidder, rows[0].price), (20, 50));
}

#[test]
fn q18_keeps_the_latest_bid_then_the_greatest_event_id() {
    // Bidder = event id in tie_bids, so give every bid the same bidder by hand.
    let same_bidder = |events: Vec<Event>| -> Vec<Event> {
        events
            .into_iter()
            .map(|e| match e {
                Event::Bid(b) => Event::Bid(Bid { bidder: 9, ..b }),
                other => other,
            })
            .collect()
    };
    let events = same_bidder(tie_bids(1, &[(2, 70, 5), (4, 30, 5), (9, 99, 3)]));
    let rows = q18(&events);
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].price, rows[0].date_time), (30, T0 + 5));
}

#[test]
fn q19_ranks_equal_prices_by_event_id_and_keeps_ten() {
    // Twelve bids at price 10 (ids 1..=12, given in reverse) and one higher bid.
    let mut bids: Vec<(u64, u64, u64)> = (1..=12).rev().map(|id| (id, 10, 0)).collect();
    bids.push((99, 20, 1));
    let rows = q19(&tie_bids(1, &bids));
    let ranked: Vec<(u64, u64)> = {
        let mut r: Vec<(u64, u64)> = rows.iter().map(|r| (r.rank_number, r.bidder)).collect();
        r.sort_unstable();
        r
    };
    let expected: Vec<(u64, u64)> = std::iter::once((1, 99))
        .chain((2..=10).map(|rank| (rank, rank - 1)))
        .collect();
    assert_eq!(ranked, expected);
}

#[test]
fn the_tie_input_has_ties_and_keeps_the_timeline() {
    let input = ReferenceInput::tied(50_000, 1_000).expect("a valid configuration");
    let mut groups: BTreeMap<(u64, u64, u64), u32> = BTreeMap::new();
    let mut last = 0;
    for (id, event) in input.nexmark.iter().enumerate() {
        assert!(event.date_time() >= last, "event {id} goes back in time");
        last = event.date_time();
        if let Event::Bid(b) = event {
            assert_eq!(b.event_id, id as u64);
            assert!(b.price <= 100 * TIE_PRICES && b.date_time % TIE_TIME_MS == 0);
            *groups.entry((b.auction, b.price, b.date_time)).or_default() += 1;
        }
    }
    let tied = groups.values().filter(|&&n| n > 1).count();
    assert!(
        tied > 1_000,
        "only {tied} groups of bids share auction, price and time"
    );
}
