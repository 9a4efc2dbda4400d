//! What every reader of `inputs` shares: the error that names a file and a line, and the CSV
//! records of a text with the line each starts on.
//!
//! The base of `inputs`: it imports only the CSV record reader of `nexmark::format`.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use crate::nexmark::format::read_csv_record;

/// A file that cannot be used: what is wrong, in which file and (when it is about one line)
/// on which line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {what}", path.display(), line.map(|l| format!(": line {l}")).unwrap_or_default())]
pub struct InputError {
    /// The file (or directory).
    pub path: PathBuf,
    /// The line, from 1, when the fault is on one line.
    pub line: Option<usize>,
    /// What is wrong and what to do.
    pub what: String,
}

impl InputError {
    /// A fault of the whole file.
    pub(crate) fn file(path: &Path, what: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            line: None,
            what: what.into(),
        }
    }

    /// A fault on line `line` (from 1).
    pub(crate) fn line(path: &Path, line: usize, what: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            line: Some(line),
            what: what.into(),
        }
    }

    /// The file cannot be read.
    pub(crate) fn io(path: &Path, e: &std::io::Error) -> Self {
        Self::file(path, format!("cannot read it: {e}"))
    }
}

/// The CSV records of a text, each with the line (from 1) it starts on; a record spans more
/// than one line only when a quoted field holds a line break. A byte-order mark is skipped.
pub(crate) struct CsvRecords<'a> {
    rest: &'a str,
    /// The line the next record starts on.
    line: usize,
}

impl<'a> CsvRecords<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            rest: text.strip_prefix('\u{feff}').unwrap_or(text),
            line: 1,
        }
    }
}

impl<'a> Iterator for CsvRecords<'a> {
    /// `(line, fields)`, or `(line, what is wrong)`.
    type Item = (usize, Result<Vec<Cow<'a, str>>, String>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let line = self.line;
        let rest = self.rest;
        match read_csv_record(rest) {
            Ok((fields, next)) => {
                let consumed = &rest[..rest.len() - next.len()];
                self.line +=
                    consumed.matches('\n').count() + usize::from(!consumed.ends_with('\n'));
                self.rest = next;
                Some((line, Ok(fields)))
            }
            Err(what) => {
                self.rest = "";
                Some((line, Err(what)))
            }
        }
    }
}
