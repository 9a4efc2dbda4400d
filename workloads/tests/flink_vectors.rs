//! The Java port agrees with the committed vectors of the workloads contract: row encodings and
//! XXH3-128 hashes, the digest sum, `mix`, the `java.util.Random` port, the first 20 Nexmark and
//! YSB events in full and the digests of the first 1,000,000 raw events.
//!
//! Runs the real JVM (`weir.flink.Main vectors`); fails, naming the setup command, when
//! `scripts/setup-flink.sh` has not been run.

use std::path::PathBuf;

use serde_json::Value;
use weir_workloads::flink;

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(testdata(name))
        .unwrap_or_else(|e| panic!("reading testdata/{name}: {e}"))
}

/// `KIND {json}` lines of one kind, parsed.
fn lines_of<'a>(lines: &'a [String], kind: &str) -> Vec<&'a str> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix(kind).and_then(|r| r.strip_prefix(' ')))
        .collect()
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("bad JSON from the Java side ({e}): {s}"))
}

#[test]
fn java_port_reproduces_the_committed_vectors() {
    let digest_file = testdata("digest_vectors.tsv");
    let lines = flink::run_vectors(&[
        "--digest-vectors",
        digest_file.to_str().expect("UTF-8 path"),
        "--first",
        "20",
        "--raw-events",
        "1000000",
    ])
    .unwrap_or_else(|e| panic!("{e}"));

    // Row encodings and hashes, then the digest of the whole file.
    let tsv = read("digest_vectors.tsv");
    let expected_rows: Vec<Vec<&str>> = tsv
        .lines()
        .filter(|l| l.starts_with("row\t"))
        .map(|l| l.split('\t').collect())
        .collect();
    let vectors: Vec<Value> = lines_of(&lines, "VECTOR").into_iter().map(json).collect();
    let rows: Vec<&Value> = vectors.iter().filter(|v| v.get("row").is_some()).collect();
    assert_eq!(
        rows.len(),
        expected_rows.len(),
        "one Java line per committed row"
    );
    for (got, want) in rows.iter().zip(&expected_rows) {
        assert_eq!(got["encoding"], want[2], "encoding of row {}", want[1]);
        assert_eq!(got["hash"], want[3], "XXH3-128 of row {}", want[1]);
    }
    let digest: Vec<&str> = tsv
        .lines()
        .find(|l| l.starts_with("digest\t"))
        .expect("the file has a digest line")
        .split('\t')
        .collect();
    let sum = vectors
        .iter()
        .find(|v| v.get("digest_rows").is_some())
        .expect("Java printed the digest");
    assert_eq!(sum["digest_rows"].to_string(), digest[1]);
    assert_eq!(sum["digest_hash"], digest[2]);

    // mix() and the Random port (docs/WORKLOADS.md 2.2's vectors).
    let mix = |x: u64| {
        vectors
            .iter()
            .find(|v| v.get("mix").and_then(Value::as_u64) == Some(x))
            .map(|v| v["value"].as_str().expect("hex").to_string())
    };
    assert_eq!(mix(0).as_deref(), Some("e220a8397b1dcdaf"));
    assert_eq!(mix(1).as_deref(), Some("910a2dec89025cc1"));
    assert_eq!(mix(1000).as_deref(), Some("3c1eba8b4dccc148"));
    let random = vectors
        .iter()
        .find(|v| v.get("random_port").is_some())
        .expect("Java checked its Random port");
    assert_eq!(random["random_port"], "ok");
    assert_eq!(random["next_int_mix1"], -324_261_140);

    // The generators: first 20 events in full, and the 1M raw-row digests.
    let first20: Vec<&str> = lines_of(&lines, "EVENT");
    let want20 = read("nexmark_first20.jsonl");
    assert_eq!(first20.len(), 20);
    for (i, (got, want)) in first20.iter().zip(want20.lines()).enumerate() {
        assert_eq!(json(got), json(want), "Nexmark event {i}");
    }
    let ysb20 = lines_of(&lines, "YSB_EVENT");
    let want_ysb = read("ysb_first20.jsonl");
    assert_eq!(ysb20.len(), 20);
    for (i, (got, want)) in ysb20.iter().zip(want_ysb.lines()).enumerate() {
        assert_eq!(json(got), json(want), "YSB event {i}");
    }
    let raw: Vec<Value> = lines_of(&lines, "RAW").into_iter().map(json).collect();
    let nexmark_1m = read("nexmark_1m_digest.tsv");
    let mut checked = 0;
    for l in nexmark_1m.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = l.split('\t').collect();
        let got = raw
            .iter()
            .find(|v| v["scope"] == f[0])
            .unwrap_or_else(|| panic!("Java printed no raw digest for {}", f[0]));
        assert_eq!(got["rows"].to_string(), f[1], "rows of {}", f[0]);
        assert_eq!(got["hash"], f[2], "1M raw-row digest of {}", f[0]);
        checked += 1;
    }
    assert_eq!(checked, 4, "person, auction, bid and all");
    let ysb_raw = json(
        lines_of(&lines, "YSB_RAW")
            .first()
            .expect("Java printed the YSB digest"),
    );
    let ysb_1m = read("ysb_1m_digest.tsv");
    let want: Vec<&str> = ysb_1m
        .lines()
        .find(|l| l.starts_with("all\t"))
        .expect("an all line")
        .split('\t')
        .collect();
    assert_eq!(ysb_raw["rows"].to_string(), want[1]);
    assert_eq!(ysb_raw["hash"], want[2], "1M raw-row digest of YSB");
}
