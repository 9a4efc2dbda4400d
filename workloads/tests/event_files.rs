//! `--input` files: what `weir gen nexmark` writes (JSON lines and CSV) reads back as the same
//! events, ids and tie-break included; the workers' shares cover the file once; a malformed
//! line is an error naming the file and the line.

#[path = "support/common.rs"]
mod common;

use std::path::Path;

use weir_workloads::catalog::Reads;
use weir_workloads::inputs::{EventFile, InputError};
use weir_workloads::nexmark::{Event, format};
use weir_workloads::references::ReferenceInput;
use weir_workloads::split::WorkerSplit;

fn parse(name: &str, text: &str) -> Result<EventFile, InputError> {
    EventFile::parse(
        Path::new(name),
        Box::leak(text.to_string().into_boxed_str()),
    )
}

#[test]
fn generated_and_tied_events_read_back_equal_in_both_formats() {
    let generated = ReferenceInput::generate(5_000, 1_000).expect("valid");
    let tied = ReferenceInput::tied(5_000, 1_000).expect("valid");
    for events in [&generated.nexmark, &tied.nexmark] {
        for csv in [false, true] {
            let path = common::event_file(&format!("read-back-{csv}"), events, csv);
            let file = EventFile::load(&path).unwrap_or_else(|e| panic!("{e}"));
            // Compared as text and bid event ids: `InlineStr`'s derived equality also compares
            // the stale bytes that trimming leaves after the text.
            let text = |e: &Event| {
                let mut s = String::new();
                format::write_json(&mut s, e);
                let id = match e {
                    Event::Bid(b) => Some(b.event_id),
                    _ => None,
                };
                (s, id)
            };
            let read = file.events();
            assert_eq!(read.len(), events.len());
            for (k, (r, g)) in read.iter().zip(events.iter()).enumerate() {
                assert_eq!(text(r), text(g), "csv: {csv}: event {k}");
            }
            assert_eq!(file.len(), events.len() as u64);
            std::fs::remove_file(&path).expect("removable");
        }
    }
}

#[test]
fn worker_shares_cover_the_first_n_events_once() {
    let input = ReferenceInput::generate(10_000, 1_000).expect("valid");
    let path = common::event_file("shares.jsonl", &input.nexmark, false);
    let file = EventFile::load(&path).unwrap_or_else(|e| panic!("{e}"));
    for workers in [1, 2, 3] {
        let limit = 7_000;
        let mut ids: Vec<u64> = Vec::new();
        let mut bids = 0;
        for w in 0..workers {
            let split = WorkerSplit::new(w, workers).expect("w < workers");
            let share = file.worker_events(limit, split, Reads::AuctionsAndBids.kinds());
            assert!(share.events.iter().all(|e| !matches!(e, Event::Person(_))));
            bids += file.worker_bids(limit, split).events.len();
            ids.extend(share.events.iter().filter_map(|e| match e {
                Event::Bid(b) => Some(b.event_id),
                _ => None,
            }));
        }
        ids.sort_unstable();
        let expected: Vec<u64> = input.nexmark[..limit as usize]
            .iter()
            .filter_map(|e| match e {
                Event::Bid(b) => Some(b.event_id),
                _ => None,
            })
            .collect();
        assert_eq!(ids, expected, "{workers} workers");
        assert_eq!(bids, expected.len());
    }
    std::fs::remove_file(&path).expect("removable");
}

#[test]
fn a_malformed_line_names_the_file_and_the_line() {
    let input = ReferenceInput::generate(3, 1_000).expect("valid");
    let (mut json, mut csv) = (String::new(), String::new());
    for e in &input.nexmark {
        format::write_json(&mut json, e);
        format::write_csv(&mut csv, e);
    }
    let bad_json = [
        "not json\n",
        "{\"kind\":\"bid\"}\n",
        "{\"kind\":\"tree\",\"id\":1}\n",
        "\n",
    ];
    for bad in bad_json {
        let e = parse("events.jsonl", &format!("{json}{bad}")).expect_err(bad);
        assert_eq!(e.line, Some(4), "{bad:?}: {e}");
        let text = e.to_string();
        assert!(text.starts_with("events.jsonl: line 4: "), "{text}");
    }
    let bad_csv = ["bid,1,2\n", "bid,1,2,x,y,z,7,e\n", "bid,\"open\n"];
    for bad in bad_csv {
        let e = parse("events.csv", &format!("{csv}{bad}")).expect_err(bad);
        assert_eq!(e.line, Some(4), "{bad:?}: {e}");
        assert!(e.to_string().starts_with("events.csv: line 4: "), "{e}");
    }
    // Time going back is a fault of the later line.
    let mut events = input.nexmark.clone();
    events.swap(0, 2);
    let mut text = String::new();
    for e in &events {
        format::write_json(&mut text, e);
    }
    assert!(events[0].date_time() > events[1].date_time());
    let e = parse("back.jsonl", &text).expect_err("time goes back");
    assert_eq!(e.line, Some(2), "{e}");
    let missing = EventFile::load(Path::new("/no/such/events.jsonl")).expect_err("no file");
    assert!(
        missing.to_string().contains("/no/such/events.jsonl"),
        "{missing}"
    );
}
