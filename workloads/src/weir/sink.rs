//! Result sinks: every worker folds its result rows into its own [`Digest`] and, with
//! `--output FILE`, appends them as JSON lines (SELECT-order keys) to the one shared file, one
//! lock per batch. [`ResultSink::attach_sampled`] also records the latency of the rows that
//! carry an ingestion time (q0-q3): sink time minus that time, into the worker's histogram; the
//! stamp is not a column (digest and `--output` rows are the plain rows).

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

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
}

impl OutputFile {
    /// Creates (truncates) `path`.
    pub(crate) fn create(path: &Path) -> Result<Self> {
        let file = File::create(path).map_err(|source| RunError::Io {
            context: format!("--output {}: cannot create the file", path.display()),
            source,
        })?;
        Ok(Self {
            path: path.display().to_string(),
            writer: Mutex::new(BufWriter::with_capacity(1 << 20, file)),
            error: Mutex::new(None),
        })
    }

    fn write(&self, text: &str) {
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = writer.write_all(text.as_bytes()) {
            let mut error = self.error.lock().unwrap_or_else(PoisonError::into_inner);
            error.get_or_insert(e);
        }
    }

    /// Flushes the file; reports the first write error of the run.
    pub(crate) fn finish(&self) -> Result<()> {
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
