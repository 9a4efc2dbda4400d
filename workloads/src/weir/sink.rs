//! Result sinks: every worker folds its result rows into its own [`Digest`] and, with
//! `--output FILE`, appends them as JSON lines (SELECT-order keys) to the one shared file, one
//! lock per batch.
//!
//! An updating query's result is a changelog ([`ResultSink::attach_changes`]): the digest adds
//! insertions with weight +1 and retractions with -1, so it is the final table's. Its
//! `--output` is the final table: the workers fold their changes into one shared table of JSON
//! rows, written when the job ends (sorted, so the file does not depend on the worker count);
//! with `--changelog` the file is the changelog itself, each line tagged `"op":"insert"` or
//! `"op":"retract"` in the order the sinks saw the changes. [`ResultSink::attach_sampled`] also records the latency of the rows that
//! carry an ingestion time (q0-q3): sink time minus that time, into the worker's histogram; the
//! stamp is not a column (digest and `--output` rows are the plain rows).

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use weir_engine::updating::{Change, Diff, Table};
use weir_engine::{LatencyRecorder, Stream};

use super::source::Stamped;
use crate::digest::{Digest, ResultRow};
use crate::job::{Result, RunError};

/// The `--output` file shared by the workers.
#[derive(Debug)]
pub(crate) struct OutputFile {
    path: String,
    writer: Mutex<BufWriter<File>>,
    error: Mutex<Option<std::io::Error>>,
    /// Write an updating query's changelog instead of its final table (`--changelog`).
    changelog: bool,
    /// An updating query's final table so far, as JSON rows (unless `changelog`).
    table: Mutex<Table<String>>,
    /// A retraction of a row the table did not hold (an engine bug), the first one.
    negative: Mutex<Option<String>>,
}

impl OutputFile {
    /// Creates (truncates) `path`; `changelog`: an updating query writes its changelog.
    pub(crate) fn create(path: &Path, changelog: bool) -> Result<Self> {
        let file = File::create(path).map_err(|source| RunError::Io {
            context: format!("--output {}: cannot create the file", path.display()),
            source,
        })?;
        Ok(Self {
            path: path.display().to_string(),
            writer: Mutex::new(BufWriter::with_capacity(1 << 20, file)),
            error: Mutex::new(None),
            changelog,
            table: Mutex::new(Table::new()),
            negative: Mutex::new(None),
        })
    }

    /// Folds a batch of changes (JSON rows) into the final table.
    fn fold(&self, changes: impl Iterator<Item = Change<String>>) {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        for change in changes {
            if let Err(e) = table.apply(change) {
                let mut negative = self.negative.lock().unwrap_or_else(PoisonError::into_inner);
                negative.get_or_insert(e.row);
            }
        }
    }

    fn write(&self, text: &str) {
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = writer.write_all(text.as_bytes()) {
            let mut error = self.error.lock().unwrap_or_else(PoisonError::into_inner);
            error.get_or_insert(e);
        }
    }

    /// Writes the final table of an updating query (if any), flushes the file; reports the
    /// first write error of the run.
    pub(crate) fn finish(&self) -> Result<()> {
        if let Some(row) = self
            .negative
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            return Err(RunError::Failed(format!(
                "--output {}: the query's changelog retracted a row its table did not hold \
                 (an engine bug): {row}",
                self.path
            )));
        }
        let table = std::mem::take(&mut *self.table.lock().unwrap_or_else(PoisonError::into_inner));
        if !table.is_empty() {
            let mut rows: Vec<String> = table.into_rows().collect();
            rows.sort_unstable();
            let mut text = String::new();
            for row in rows {
                text.push_str(&row);
                text.push('\n');
            }
            self.write(&text);
        }
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let flushed = writer.flush();
        let first = self
            .error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match first.map_or(flushed, Err) {
            Ok(()) => Ok(()),
            Err(source) => Err(RunError::Io {
                context: format!("--output {}: cannot write the result rows", self.path),
                source,
            }),
        }
    }
}

/// Where one worker's results go.
#[derive(Clone, Debug)]
pub(crate) struct ResultSink {
    pub(crate) digest: Arc<Mutex<Digest>>,
    pub(crate) output: Option<Arc<OutputFile>>,
}

impl ResultSink {
    /// Consumes `stream` as the query's result.
    pub(crate) fn attach<R: ResultRow + 'static>(self, stream: Stream<R>) {
        let mut text = String::new();
        stream.sink(move |batch| {
            self.digest(batch.iter());
            self.write(&mut text, batch.iter());
            batch.clear();
        });
    }

    /// Consumes `stream` as the query's result, recording `now - ingest` of every row that
    /// carries an ingestion time into `latency`.
    pub(crate) fn attach_sampled<R: ResultRow + 'static>(
        self,
        stream: Stream<Stamped<R>>,
        latency: LatencyRecorder,
    ) {
        let mut text = String::new();
        stream.sink(move |batch| {
            let mut now = None;
            for ingest in batch.iter().filter_map(|s| s.ingest) {
                let now = *now.get_or_insert_with(|| latency.now_ns());
                latency.record(now.saturating_sub(ingest.get()));
            }
            self.digest(batch.iter().map(|s| &s.value));
            self.write(&mut text, batch.iter().map(|s| &s.value));
            batch.clear();
        });
    }

    /// Consumes the changelog `stream` as an updating query's result: the digest folds it
    /// (insertions +1, retractions -1) and the engine counts it into the table metrics.
    pub(crate) fn attach_changes<R: ResultRow + 'static>(self, stream: Stream<Change<R>>) {
        let mut text = String::new();
        stream.table_sink(move |batch| {
            {
                let mut digest = self.digest.lock().unwrap_or_else(PoisonError::into_inner);
                for c in batch.iter() {
                    digest.add_weighted(&c.row, c.diff.weight());
                }
            }
            if let Some(output) = &self.output {
                if output.changelog {
                    text.clear();
                    for c in batch.iter() {
                        text.push_str(&tagged(c.diff, &c.row.to_json()));
                        text.push('\n');
                    }
                    output.write(&text);
                } else {
                    output.fold(batch.iter().map(|c| Change {
                        diff: c.diff,
                        row: c.row.to_json(),
                    }));
                }
            }
            batch.clear();
        });
    }

    fn digest<'a, R: ResultRow + 'a>(&self, rows: impl Iterator<Item = &'a R>) {
        let mut digest = self.digest.lock().unwrap_or_else(PoisonError::into_inner);
        for row in rows {
            digest.add(row);
        }
    }

    /// Appends `rows` to the `--output` file, if there is one (`text` is a reused buffer).
    fn write<'a, R: ResultRow + 'a>(&self, text: &mut String, rows: impl Iterator<Item = &'a R>) {
        if let Some(output) = &self.output {
            text.clear();
            for row in rows {
                text.push_str(&row.to_json());
                text.push('\n');
            }
            output.write(text);
        }
    }
}

/// A changelog line: the row's JSON object with `"op":"insert"` or `"op":"retract"` first.
fn tagged(diff: Diff, row: &str) -> String {
    let columns = row.strip_prefix('{').unwrap_or(row);
    let sep = if columns == "}" { "" } else { "," };
    format!("{{\"op\":\"{}\"{sep}{columns}", diff.name())
}

/// A failure a worker found while running (a q17 sum beyond 64 bits): the first one fails
/// the run when the job ends.
#[derive(Clone, Debug, Default)]
pub(crate) struct RunFailure(Arc<Mutex<Option<String>>>);

impl RunFailure {
    /// Records `message` unless a failure was recorded before.
    pub(crate) fn raise(&self, message: String) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(message);
    }

    /// The first failure recorded.
    pub(crate) fn take(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changelog_lines_lead_with_the_op() {
        assert_eq!(
            tagged(Diff::Retract, r#"{"a":1,"b":"x"}"#),
            r#"{"op":"retract","a":1,"b":"x"}"#
        );
        assert_eq!(tagged(Diff::Insert, "{}"), r#"{"op":"insert"}"#);
    }
}
