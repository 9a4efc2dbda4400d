//! The result digest: an order-independent, duplicate-sensitive fingerprint of a multiset of
//! rows (docs/WORKLOADS.md, section 7, which fixes the encoding).
//!
//! A row is encoded column by column in SELECT order ([`RowEncoder`]), hashed with XXH3-128
//! (seed 0), and the digest is `(rows, sum of hashes mod 2^128)`. Addition commutes, so workers
//! digest their own output and [`Digest::merge`] combines them; a retraction subtracts
//! ([`Digest::add_weighted`]), so an updating result folds to the digest of its final table.
//!
//! Cost: encoding writes a few bytes per column into a reused buffer (an integer's decimal text
//! by itoa); the hash is one XXH3 call per row (see `benches/benches/digest.rs` for ns/row).

use std::fmt::Write as _;

use crate::report::DigestSummary;

/// One column value of a result row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// An integer: ids, counts, prices, epoch-ms timestamps, scaled decimals.
    Int(i64),
    /// A string.
    Str(&'a str),
    /// SQL NULL.
    Null,
}

/// Receives a row's columns in SELECT order (the digest encoder and the JSON writer).
pub trait ColumnSink {
    /// One integer column.
    fn int(&mut self, v: i64);
    /// One string column.
    fn str(&mut self, v: &str);
    /// One NULL column.
    fn null(&mut self);

    /// One column of any kind.
    fn value(&mut self, v: Value<'_>) {
        match v {
            Value::Int(i) => self.int(i),
            Value::Str(s) => self.str(s),
            Value::Null => self.null(),
        }
    }
}

/// A typed result row of one query: its column names and how it encodes.
pub trait ResultRow {
    /// Column names in SELECT order (also the JSON keys of `--output`).
    const COLUMNS: &'static [&'static str];

    /// Feeds the columns, in the order of [`Self::COLUMNS`], to `sink`.
    fn write_columns(&self, sink: &mut impl ColumnSink);

    /// The row as one JSON object (no trailing newline), keys = [`Self::COLUMNS`].
    fn to_json(&self) -> String {
        let mut w = JsonRowWriter::new(Self::COLUMNS);
        self.write_columns(&mut w);
        w.finish()
    }
}

/// Builds the canonical byte encoding of one row.
///
/// | value | bytes |
/// | --- | --- |
/// | integer | `I`, one length byte `n`, `n` ASCII bytes of the decimal text (`-` first if negative) |
/// | string | `S`, the UTF-8 length as 4 bytes little-endian, the bytes |
/// | NULL | `N` |
#[derive(Debug, Default, Clone)]
pub struct RowEncoder {
    buf: Vec<u8>,
}

impl RowEncoder {
    /// An empty encoder; reuse it across rows to avoid allocation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets the current row.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// The encoded bytes of the current row.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The XXH3-128 hash of the current row, as `high64 << 64 | low64`.
    pub fn hash(&self) -> u128 {
        xxhash_rust::xxh3::xxh3_128(&self.buf)
    }

    /// Encodes `row` (clearing first) and returns its hash.
    pub fn hash_row(&mut self, row: &impl ResultRow) -> u128 {
        self.clear();
        row.write_columns(self);
        self.hash()
    }
}

impl ColumnSink for RowEncoder {
    #[inline]
    fn int(&mut self, v: i64) {
        // Decimal text, two digits per step (itoa): the hottest part of the digest on rows of
        // timestamps and ids. A hand-written formatter into a stack array appended with one
        // copy measured slower (q0 3.4 %, q1 1.3 % in throughput; 2.8-3.6 % more
        // instructions under callgrind), so itoa stays. Also tried and slower (q0 and q13,
        // 1 worker, medians of 5 interleaved runs, 1-6 %): the text written straight into the
        // row two digits at a time, or eight at a time in 32-bit arithmetic; and built in
        // registers by multiply-and-shift, stored at once (slower still in the digest bench).
        let mut text = itoa::Buffer::new();
        let digits = text.format(v).as_bytes();
        self.buf.push(b'I');
        self.buf.push(digits.len() as u8);
        self.buf.extend_from_slice(digits);
    }

    #[inline]
    fn str(&mut self, v: &str) {
        let len = u32::try_from(v.len())
            .expect("a result string is shorter than 4 GiB")
            .to_le_bytes();
        self.buf
            .extend_from_slice(&[b'S', len[0], len[1], len[2], len[3]]);
        self.buf.extend_from_slice(v.as_bytes());
    }

    #[inline]
    fn null(&mut self) {
        self.buf.push(b'N');
    }
}

/// The canonical hash of a row given as values (tests and tools; engines use [`Digest::add`]).
pub fn hash_values(values: &[Value<'_>]) -> u128 {
    let mut enc = RowEncoder::new();
    for &v in values {
        enc.value(v);
    }
    enc.hash()
}

/// The running digest of a multiset of rows: `(rows, sum of row hashes mod 2^128)`.
///
/// ```
/// use weir_workloads::digest::{Digest, Value};
/// let mut a = Digest::new();
/// a.add_values(&[Value::Int(1), Value::Str("x")]);
/// let mut b = Digest::new();
/// b.add_values(&[Value::Int(2), Value::Null]);
/// let mut ab = a.clone();
/// ab.merge(&b);
/// let mut ba = b.clone();
/// ba.merge(&a);
/// assert_eq!(ab, ba);
/// assert_eq!(ab.rows(), 2);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Digest {
    rows: i64,
    sum: u128,
    enc: RowEncoder,
}

impl Digest {
    /// The digest of the empty multiset.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one row.
    #[inline]
    pub fn add(&mut self, row: &impl ResultRow) {
        let h = self.enc.hash_row(row);
        self.add_hash(h, 1);
    }

    /// Adds a row `weight` times; a negative weight retracts (updating results fold to their
    /// final multiset this way).
    #[inline]
    pub fn add_weighted(&mut self, row: &impl ResultRow, weight: i64) {
        let h = self.enc.hash_row(row);
        self.add_hash(h, weight);
    }

    /// Adds one row given as values.
    pub fn add_values(&mut self, values: &[Value<'_>]) {
        self.add_hash(hash_values(values), 1);
    }

    /// Adds a precomputed row hash `weight` times.
    #[inline]
    pub fn add_hash(&mut self, hash: u128, weight: i64) {
        self.rows += weight;
        let w = i128::from(weight) as u128;
        self.sum = self.sum.wrapping_add(hash.wrapping_mul(w));
    }

    /// Adds another digest (e.g. another worker's).
    pub fn merge(&mut self, other: &Digest) {
        self.rows += other.rows;
        self.sum = self.sum.wrapping_add(other.sum);
    }

    /// A digest from its two numbers (a partial digest sent between processes).
    pub fn from_parts(rows: i64, sum: u128) -> Self {
        Self {
            rows,
            sum,
            enc: RowEncoder::default(),
        }
    }

    /// Rows in the multiset (negative only if more rows were retracted than added).
    pub fn rows(&self) -> i64 {
        self.rows
    }

    /// The sum of row hashes mod 2^128.
    pub fn sum(&self) -> u128 {
        self.sum
    }

    /// The sum as 32 lowercase hex digits.
    pub fn hash_hex(&self) -> String {
        format!("{:032x}", self.sum)
    }

    /// The report form. A negative row count (a retraction without its row, i.e. an engine bug)
    /// is reported as 0 rows; check [`Digest::rows`] first where that can happen.
    pub fn summary(&self) -> DigestSummary {
        DigestSummary {
            rows: u64::try_from(self.rows).unwrap_or(0),
            hash: self.hash_hex(),
        }
    }
}

impl PartialEq for Digest {
    fn eq(&self, other: &Digest) -> bool {
        self.rows == other.rows && self.sum == other.sum
    }
}

impl Eq for Digest {}

impl PartialEq<DigestSummary> for Digest {
    fn eq(&self, other: &DigestSummary) -> bool {
        self.summary() == *other
    }
}

/// Writes one row as a JSON object.
#[derive(Debug)]
pub struct JsonRowWriter {
    columns: &'static [&'static str],
    next: usize,
    out: String,
}

impl JsonRowWriter {
    /// A writer for a row with these column names.
    pub fn new(columns: &'static [&'static str]) -> Self {
        Self {
            columns,
            next: 0,
            out: String::from("{"),
        }
    }

    fn key(&mut self) {
        if self.next > 0 {
            self.out.push(',');
        }
        let name = self.columns.get(self.next).copied().unwrap_or("?");
        write_json_str(&mut self.out, name);
        self.out.push(':');
        self.next += 1;
    }

    /// The JSON text.
    pub fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

impl ColumnSink for JsonRowWriter {
    fn int(&mut self, v: i64) {
        self.key();
        let _ = write!(self.out, "{v}");
    }

    fn str(&mut self, v: &str) {
        self.key();
        write_json_str(&mut self.out, v);
    }

    fn null(&mut self) {
        self.key();
        self.out.push_str("null");
    }
}

/// Appends `s` as a JSON string literal.
pub fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(values: &[Value<'_>]) -> Vec<u8> {
        let mut e = RowEncoder::new();
        for &v in values {
            e.value(v);
        }
        e.bytes().to_vec()
    }

    #[test]
    fn encoding_follows_the_table() {
        assert_eq!(enc(&[Value::Int(0)]), b"I\x010");
        assert_eq!(enc(&[Value::Int(-12)]), b"I\x03-12");
        assert_eq!(
            enc(&[Value::Int(i64::MIN)]),
            b"I\x14-9223372036854775808".to_vec()
        );
        assert_eq!(enc(&[Value::Str("ab")]), b"S\x02\x00\x00\x00ab");
        assert_eq!(enc(&[Value::Null, Value::Str("")]), b"NS\x00\x00\x00\x00");
    }

    #[test]
    fn integers_encode_as_their_decimal_text() {
        let mut cases = vec![
            0, 9, 10, 99, 100, 999, 1_000, 9_999, 10_000, 99_999, 100_000,
        ];
        cases.extend([i64::MAX, i64::MIN, i64::MIN + 1, 1_700_000_000_123]);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..100_000 {
            // xorshift: every digit count and sign, many times.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push((x >> (x % 64)) as i64);
        }
        for v in cases.iter().flat_map(|&v| [v, v.saturating_neg()]) {
            let text = v.to_string();
            let mut expected = vec![b'I', text.len() as u8];
            expected.extend_from_slice(text.as_bytes());
            assert_eq!(enc(&[Value::Int(v)]), expected, "{v}");
        }
    }

    #[test]
    fn xxh3_128_is_high_then_low() {
        // The XXH3-128 of empty input from the reference implementation:
        // high64 = 99aa06d3014798d8, low64 = 6001c324468d497f.
        assert_eq!(
            RowEncoder::new().hash(),
            0x99aa_06d3_0147_98d8_6001_c324_468d_497f
        );
    }

    #[test]
    fn weights_and_retractions_cancel() {
        let row = [Value::Int(5), Value::Str("x")];
        let mut d = Digest::new();
        d.add_hash(hash_values(&row), 3);
        d.add_hash(hash_values(&row), -3);
        assert_eq!(d, Digest::new());
        assert_eq!(d.hash_hex(), "0".repeat(32));
    }

    #[test]
    fn json_escapes() {
        let mut s = String::new();
        write_json_str(&mut s, "a\"b\\c\n\u{1}");
        assert_eq!(s, r#""a\"b\\c\n\u0001""#);
    }
}
