//! q10's files, read back (docs/WORKLOADS.md, q10): what the partitioned file sink must have
//! written under its directory `D` once the run is over.
//!
//! - A bid's row goes to a file in the partition directory `D/dt=<dt>/hm=<hm>/`
//!   ([`partition_dir`]); a partition value may also be written escaped the way Flink and Hive
//!   escape path names (`%3A` for `:`), and is read back decoded.
//! - Each line of a data file is one row's five non-partition columns as CSV:
//!   `auction,bidder,price,dateTime,extra`, integers in decimal (`dateTime` as epoch ms), `extra`
//!   quoted as `weir gen` quotes fields.
//! - File names, how many files a partition has and the order of lines are the engine's
//!   choice. Names starting with `.` or `_` are not data files (in-progress and marker files).
//! - Every partition directory holds an empty `_SUCCESS` file once committed; after the run
//!   every partition is committed.
//!
//! [`read_partitions`] checks all of that and returns the rows, with `dt` and `hm` taken from
//! the directory names; it fails when a row's `dt`/`hm` disagree with its `dateTime`. Their
//! digest must equal the digest of the rows the run emitted.

use std::path::{Path, PathBuf};

use super::text::{CsvRecords, InputError};
use crate::nexmark::{Date, HourMinute, Q10Row};

/// The marker file of a committed partition.
pub const SUCCESS_FILE: &str = "_SUCCESS";

/// The partition directory of `(dt, hm)` under the sink's directory: `dt=<dt>/hm=<hm>`.
pub fn partition_dir(dt: Date, hm: HourMinute) -> PathBuf {
    PathBuf::from(format!("dt={dt}")).join(format!("hm={hm}"))
}

/// Whether a directory entry is a data file or directory (not hidden, not a marker).
fn is_data(name: &str) -> bool {
    !name.starts_with('.') && !name.starts_with('_')
}

/// `%XX` escapes decoded (Flink's and Hive's partition path escaping).
fn unescape(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The sorted entries of a directory, as `(name, path, is_dir)`.
fn entries(dir: &Path) -> Result<Vec<(String, PathBuf, bool)>, InputError> {
    let read = std::fs::read_dir(dir).map_err(|e| InputError::io(dir, &e))?;
    let mut out = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| InputError::io(dir, &e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry
            .file_type()
            .map_err(|e| InputError::io(&path, &e))?
            .is_dir();
        out.push((name, path, is_dir));
    }
    out.sort();
    Ok(out)
}

/// The value of a `key=value` partition directory.
fn partition_value(name: &str, key: &str, path: &Path) -> Result<String, InputError> {
    name.strip_prefix(key)
        .and_then(|v| v.strip_prefix('='))
        .and_then(unescape)
        .ok_or_else(|| {
            InputError::file(
                path,
                format!("expected a partition directory '{key}=<value>', found '{name}'"),
            )
        })
}

/// Reads every partition under q10's sink directory `dir` back into rows (see the module
/// docs for what is checked).
///
/// # Errors
/// An [`InputError`] naming the file (and line) at fault.
pub fn read_partitions(dir: &Path) -> Result<Vec<Q10Row<String>>, InputError> {
    let mut rows = Vec::new();
    for (name, dt_path, is_dir) in entries(dir)? {
        if !is_data(&name) {
            continue;
        }
        if !is_dir {
            return Err(InputError::file(
                &dt_path,
                "a file outside any partition (rows go under dt=<dt>/hm=<hm>/)",
            ));
        }
        let dt = partition_value(&name, "dt", &dt_path)?;
        for (name, hm_path, is_dir) in entries(&dt_path)? {
            if !is_data(&name) {
                continue;
            }
            if !is_dir {
                return Err(InputError::file(
                    &hm_path,
                    "a file outside any partition (rows go under dt=<dt>/hm=<hm>/)",
                ));
            }
            let hm = partition_value(&name, "hm", &hm_path)?;
            read_partition(&hm_path, &dt, &hm, &mut rows)?;
        }
    }
    Ok(rows)
}

/// Reads the data files of one partition directory.
fn read_partition(
    dir: &Path,
    dt: &str,
    hm: &str,
    rows: &mut Vec<Q10Row<String>>,
) -> Result<(), InputError> {
    let mut committed = false;
    for (name, path, is_dir) in entries(dir)? {
        if name == SUCCESS_FILE {
            committed = true;
            continue;
        }
        if !is_data(&name) {
            continue;
        }
        if is_dir {
            return Err(InputError::file(
                &path,
                "a directory inside a partition (expected data files)",
            ));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| InputError::io(&path, &e))?;
        for (line, record) in CsvRecords::new(&text) {
            let at = |what: String| InputError::line(&path, line, what);
            let fields = record.map_err(at)?;
            let [auction, bidder, price, date_time, extra] = fields.as_slice() else {
                return Err(at(format!(
                    "expected 5 fields (auction,bidder,price,dateTime,extra), found {}",
                    fields.len()
                )));
            };
            let int = |name: &str, text: &str| {
                text.parse::<u64>()
                    .map_err(|_| at(format!("{name} '{text}' is not a whole number")))
            };
            let date_time = int("dateTime", date_time)?;
            let row = Q10Row {
                auction: int("auction", auction)?,
                bidder: int("bidder", bidder)?,
                price: int("price", price)?,
                date_time,
                extra: extra.to_string(),
                dt: Date::of_epoch_ms(date_time),
                hm: HourMinute::of_epoch_ms(date_time),
            };
            if row.dt.as_str() != dt || row.hm.as_str() != hm {
                return Err(at(format!(
                    "dateTime {date_time} is {} {} UTC, but the row is in partition dt={dt}/hm={hm}",
                    row.dt, row.hm
                )));
            }
            rows.push(row);
        }
    }
    if committed {
        Ok(())
    } else {
        Err(InputError::file(
            dir,
            format!("the partition was not committed (no {SUCCESS_FILE} file)"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn partitions_read_back_with_their_fields_checked() {
        let dir = std::env::temp_dir().join(format!("weir-q10-parts-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // 2015-07-15T00:00:00Z and one minute later.
        let t0 = 1_436_918_400_000_u64;
        let p0 = dir.join(partition_dir(
            Date::of_epoch_ms(t0),
            HourMinute::of_epoch_ms(t0),
        ));
        assert!(p0.ends_with("dt=2015-07-15/hm=00:00"));
        write(
            &p0.join("part-0"),
            &format!("1,2,3,{t0},x\n4,5,6,{},\"a,b\"\n", t0 + 5),
        );
        write(&p0.join(".part-1.inprogress"), "garbage");
        write(&p0.join(SUCCESS_FILE), "");
        // Flink's escaped form of the same kind of directory.
        let p1 = dir.join("dt=2015-07-15").join("hm=00%3A01");
        write(&p1.join("part-0"), &format!("7,8,9,{},\n", t0 + 60_000));
        write(&p1.join(SUCCESS_FILE), "");
        let rows = read_partitions(&dir).expect("valid partitions");
        let mut found: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.hm.as_str(), r.extra.as_str()))
            .collect();
        found.sort_unstable();
        assert_eq!(found, [("00:00", "a,b"), ("00:00", "x"), ("00:01", "")]);

        // A row in the wrong minute, and a partition without its marker.
        write(&p1.join("part-1"), &format!("7,8,9,{t0},\n"));
        let e = read_partitions(&dir).expect_err("wrong partition");
        assert_eq!(e.line, Some(1));
        assert!(e.to_string().contains("but the row is in partition"), "{e}");
        std::fs::remove_file(p1.join("part-1")).expect("rm");
        std::fs::remove_file(p1.join(SUCCESS_FILE)).expect("rm");
        let e = read_partitions(&dir).expect_err("not committed");
        assert!(e.to_string().contains("no _SUCCESS file"), "{e}");
        write(&p1.join(SUCCESS_FILE), "");
        write(&dir.join("stray.csv"), "");
        assert!(read_partitions(&dir).is_err());
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
