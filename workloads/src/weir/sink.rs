//! Result sinks: every worker folds its result rows into its own [`Digest`] and, with
//! `--output FILE`, appends them as JSON lines (SELECT-order keys) to the one shared file, one
//! lock per batch.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use weir_engine::Stream;

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
            {
                let mut digest = self.digest.lock().unwrap_or_else(PoisonError::into_inner);
                for row in batch.iter() {
                    digest.add(row);
                }
            }
            if let Some(output) = &self.output {
                text.clear();
                for row in batch.iter() {
                    text.push_str(&row.to_json());
                    text.push('\n');
                }
                output.write(&text);
            }
            batch.clear();
        });
    }
}
