//! The digest contract: committed row-hash and multiset vectors (the Java port checks the same
//! file), order independence and duplicate sensitivity.

#[path = "support/common.rs"]
mod common;

use std::fmt::Write as _;

use proptest::prelude::*;
use weir_workloads::digest::{ColumnSink, Digest, RowEncoder, Value, hash_values};

fn vector_rows() -> Vec<Vec<Value<'static>>> {
    vec![
        vec![],
        vec![Value::Int(0)],
        vec![Value::Int(-1)],
        vec![Value::Int(i64::MAX)],
        vec![Value::Int(i64::MIN)],
        vec![Value::Str("")],
        vec![Value::Str("a")],
        vec![Value::Str("h\u{e9}llo w\u{f6}rld")],
        vec![Value::Null],
        vec![
            Value::Int(1000),
            Value::Int(1001),
            Value::Int(12_345),
            Value::Int(1_436_918_400_000),
            Value::Str("abcxyz"),
        ],
        vec![
            Value::Str("Peter Shultz"),
            Value::Str("Phoenix"),
            Value::Str("OR"),
            Value::Int(1000),
        ],
        vec![Value::Null, Value::Int(7), Value::Str("x")],
        // Longer than 240 bytes: XXH3's long-input path.
        vec![Value::Str(Box::leak("x".repeat(300).into_boxed_str()))],
    ]
}

fn json(values: &[Value<'_>]) -> String {
    let items: Vec<serde_json::Value> = values
        .iter()
        .map(|v| match *v {
            Value::Int(i) => serde_json::Value::from(i),
            Value::Str(s) => serde_json::Value::from(s),
            Value::Null => serde_json::Value::Null,
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[test]
fn committed_digest_vectors() {
    let mut text = String::from(
        "# weir digest test vectors (docs/WORKLOADS.md, section 7).\n\
         # row<TAB>values as a JSON array<TAB>canonical encoding (hex)<TAB>XXH3-128 (32 hex)\n\
         # digest<TAB>rows<TAB>sum of hashes mod 2^128 (32 hex): every row above once, the\n\
         # q0-like row (1000, 1001, ...) twice more\n",
    );
    let mut digest = Digest::new();
    for row in vector_rows() {
        let mut enc = RowEncoder::new();
        for &v in &row {
            enc.value(v);
        }
        let h = enc.hash();
        let _ = writeln!(text, "row\t{}\t{}\t{h:032x}", json(&row), hex(enc.bytes()));
        digest.add_hash(h, 1);
    }
    digest.add_hash(hash_values(&vector_rows()[9]), 2);
    let _ = writeln!(text, "digest\t{}\t{}", digest.rows(), digest.hash_hex());
    common::check_or_bless("digest_vectors.tsv", &text);
}

proptest! {
    #[test]
    fn order_independent(rows in prop::collection::vec((any::<i64>(), "[a-z]{0,6}"), 0..40), seed in any::<u64>()) {
        let mut forward = Digest::new();
        for (i, s) in &rows {
            forward.add_values(&[Value::Int(*i), Value::Str(s)]);
        }
        // A deterministic shuffle, and a split into two merged halves.
        let mut shuffled = rows.clone();
        let n = shuffled.len();
        for k in (1..n).rev() {
            let j = (weir_workloads::random::mix(seed ^ k as u64) % (k as u64 + 1)) as usize;
            shuffled.swap(k, j);
        }
        let (a, b) = shuffled.split_at(n / 2);
        let mut da = Digest::new();
        let mut db = Digest::new();
        for (i, s) in a {
            da.add_values(&[Value::Int(*i), Value::Str(s)]);
        }
        for (i, s) in b {
            db.add_values(&[Value::Int(*i), Value::Str(s)]);
        }
        db.merge(&da);
        prop_assert_eq!(forward, db);
    }

    #[test]
    fn duplicate_sensitive(i in any::<i64>(), s in "[a-z]{0,6}") {
        let row = [Value::Int(i), Value::Str(&s)];
        let mut once = Digest::new();
        once.add_values(&row);
        let mut twice = once.clone();
        twice.add_values(&row);
        prop_assert_ne!(once.sum(), twice.sum());
        prop_assert_eq!(twice.rows(), 2);
        // Two equal rows do not cancel (a XOR digest would).
        prop_assert_ne!(twice.sum(), 0);
    }
}

#[test]
fn column_boundaries_matter() {
    // ("ab", "c") and ("a", "bc") must differ: strings are length-prefixed.
    let a = hash_values(&[Value::Str("ab"), Value::Str("c")]);
    let b = hash_values(&[Value::Str("a"), Value::Str("bc")]);
    assert_ne!(a, b);
    // An integer and the string of its digits differ.
    assert_ne!(
        hash_values(&[Value::Int(12)]),
        hash_values(&[Value::Str("12")])
    );
    // NULL differs from the empty string and from 0.
    assert_ne!(hash_values(&[Value::Null]), hash_values(&[Value::Str("")]));
    assert_ne!(hash_values(&[Value::Null]), hash_values(&[Value::Int(0)]));
}
