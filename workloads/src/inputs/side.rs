//! q13's side table (docs/WORKLOADS.md, q13): the 10,000 rows `(key, value)` with `value` the
//! decimal text of `key`, for `key = 0 .. 9999`. q13 joins each bid with the row of key
//! `auction mod 10000`, so every bid matches.
//!
//! The suite reads it from a CSV file (`key,value` per line, no header, keys in any order);
//! `weir gen side-input` writes the default one, and `--side-input FILE` makes a run read
//! another. Without the flag every engine uses [`SideInput::builtin`], which equals the file
//! `weir gen side-input` writes. A file must hold every key exactly once: a missing, repeated
//! or out-of-range key would make q13 drop or duplicate bids.

use std::io::{self, Write};
use std::path::Path;

use super::text::{CsvRecords, InputError};
use crate::nexmark::format::write_csv_field;

/// Keys in the side table (`0 .. 10000`); q13's join key is `auction mod SIDE_INPUT_KEYS`.
pub const SIDE_INPUT_KEYS: u64 = 10_000;

/// q13's side table: the value of every key `0 .. 10000`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SideInput {
    /// `values[key]`.
    values: Vec<String>,
}

impl Default for SideInput {
    fn default() -> Self {
        Self::builtin()
    }
}

impl SideInput {
    /// The suite's table: `value = key` as decimal text.
    pub fn builtin() -> Self {
        Self {
            values: (0..SIDE_INPUT_KEYS).map(|k| k.to_string()).collect(),
        }
    }

    /// Reads a table from `path` (CSV `key,value`, one row per line, every key once).
    ///
    /// # Errors
    /// An [`InputError`] naming the file and the line (or the missing key).
    pub fn load(path: &Path) -> Result<Self, InputError> {
        let text = std::fs::read_to_string(path).map_err(|e| InputError::io(path, &e))?;
        Self::parse(path, &text)
    }

    /// Parses the text of a table file (`path` names it in errors).
    ///
    /// # Errors
    /// An [`InputError`] naming the line (or the missing key).
    pub fn parse(path: &Path, text: &str) -> Result<Self, InputError> {
        let mut values: Vec<Option<String>> = vec![None; SIDE_INPUT_KEYS as usize];
        let mut rows = 0;
        for (line, record) in CsvRecords::new(text) {
            let at = |what: String| InputError::line(path, line, what);
            let fields = record.map_err(at)?;
            rows += 1;
            let [key, value] = fields.as_slice() else {
                return Err(at(format!(
                    "expected two fields `key,value`, found {}",
                    fields.len()
                )));
            };
            let key: u64 = key
                .parse()
                .ok()
                .filter(|k| *k < SIDE_INPUT_KEYS)
                .ok_or_else(|| {
                    at(format!(
                        "the key '{key}' is not a whole number from 0 to {} (q13 joins on \
                         auction mod {SIDE_INPUT_KEYS})",
                        SIDE_INPUT_KEYS - 1
                    ))
                })?;
            let slot = &mut values[key as usize];
            if slot.is_some() {
                return Err(at(format!("the key {key} appears a second time")));
            }
            *slot = Some(value.to_string());
        }
        if rows == 0 {
            return Err(InputError::file(path, "the file is empty"));
        }
        let mut out = Vec::with_capacity(values.len());
        for (key, value) in values.into_iter().enumerate() {
            out.push(value.ok_or_else(|| {
                InputError::file(
                    path,
                    format!(
                        "the key {key} is missing: the table needs every key from 0 to {} \
                         (`weir gen side-input` writes the suite's)",
                        SIDE_INPUT_KEYS - 1
                    ),
                )
            })?);
        }
        Ok(Self { values: out })
    }

    /// The value q13 joins to a bid on `auction` (the key `auction mod 10000`).
    pub fn lookup(&self, auction: u64) -> &str {
        &self.values[(auction % SIDE_INPUT_KEYS) as usize]
    }

    /// Writes the table as the CSV file the suite reads (keys in increasing order).
    ///
    /// # Errors
    /// When writing fails.
    pub fn write_csv(&self, out: &mut impl Write) -> io::Result<()> {
        let mut line = String::new();
        for (key, value) in self.values.iter().enumerate() {
            line.clear();
            line.push_str(&key.to_string());
            line.push(',');
            write_csv_field(&mut line, value);
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SideInput, InputError> {
        SideInput::parse(Path::new("side.csv"), text)
    }

    #[test]
    fn the_builtin_table_round_trips_through_its_file() {
        let mut file = Vec::new();
        SideInput::builtin()
            .write_csv(&mut file)
            .expect("writes to memory");
        let text = String::from_utf8(file).expect("UTF-8");
        assert!(text.starts_with("0,0\n1,1\n"));
        assert!(text.ends_with("9999,9999\n"));
        assert_eq!(text.lines().count(), 10_000);
        let table = parse(&text).expect("the builtin file parses");
        assert_eq!(table, SideInput::builtin());
        assert_eq!(table.lookup(1_012_345), "2345");
        // CRLF line ends and any key order are fine.
        let reversed: String = text.lines().rev().flat_map(|l| [l, "\r\n"]).collect();
        assert_eq!(parse(&reversed).expect("valid"), SideInput::builtin());
    }

    #[test]
    fn bad_tables_name_the_line_or_key() {
        let full = |edit: &dyn Fn(&mut Vec<String>)| {
            let mut lines: Vec<String> = (0..10_000).map(|k| format!("{k},{k}")).collect();
            edit(&mut lines);
            lines.join("\n")
        };
        let e = parse(&full(&|l| l[4] = "4".into())).expect_err("one field");
        assert_eq!(e.line, Some(5));
        assert!(
            e.to_string()
                .contains("side.csv: line 5: expected two fields"),
            "{e}"
        );
        let e = parse(&full(&|l| l[6] = "x,6".into())).expect_err("bad key");
        assert_eq!(e.line, Some(7));
        let e = parse(&full(&|l| l[6] = "10000,6".into())).expect_err("key out of range");
        assert!(e.to_string().contains("from 0 to 9999"), "{e}");
        let e = parse(&full(&|l| l[9] = "3,3".into())).expect_err("repeated key");
        assert!(
            e.to_string()
                .contains("line 10: the key 3 appears a second time"),
            "{e}"
        );
        let e = parse(&full(&|l| {
            l.remove(77);
        }))
        .expect_err("missing key");
        assert!(e.to_string().contains("the key 77 is missing"), "{e}");
        assert!(parse("").is_err());
        let e = SideInput::load(Path::new("/nonexistent/side.csv")).expect_err("no file");
        assert!(
            e.to_string()
                .starts_with("/nonexistent/side.csv: cannot read it"),
            "{e}"
        );
    }
}
