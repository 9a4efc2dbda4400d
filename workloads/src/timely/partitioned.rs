//! q10's partitioned file sink on timely workers (timely and differential both use it), as
//! docs/WORKLOADS.md's q10 section lays the files out.
//!
//! Two operators:
//!
//! - **Writer** (one per worker, pipeline: rows stay where they were made). A row goes to the
//!   worker's own file of its partition `D/dt=<dt>/hm=<hm>/`, written as
//!   `.part-<engine>-<worker>.csv.inprogress` and renamed to `part-<engine>-<worker>.csv` when
//!   the partition is complete on this worker: its input frontier reached the minute's end
//!   (no row of that minute can come any more). The writer holds one capability per open
//!   partition, at the minute's end, and sends the minute to the committer under it once the
//!   file is renamed.
//! - **Committer** (exchanged by minute: one worker commits each partition). Once its frontier
//!   is past a minute's end, every worker that wrote to the partition has renamed its file, so
//!   it writes the empty `_SUCCESS`. At end of input every partition commits.
//!
//! State: one open file (a 64 KiB buffer) per partition a worker has rows for and whose minute
//! is not over, usually one or two at the event rates the suite runs; a partition's state is
//! freed when it commits. A write error fails the run with the path and the cause.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::{Stream, StreamVec};

use super::shared::{Ctx, Shared, SinkDir};
use super::stateless::route;
use super::windows::{Pending, reached};
use crate::catalog::EngineKind;
use crate::inputs::{SUCCESS_FILE, partition_dir};
use crate::job::{Result, RunError};
use crate::nexmark::format::write_csv_field;
use crate::nexmark::{Date, HourMinute, Q10Row};

/// Milliseconds per partition (a minute).
const MINUTE_MS: u64 = 60_000;

/// The directory q10 writes under for this run: `--sink-dir` (created if missing), or a fresh
/// directory under the system temp directory, removed after the run. Checked writable before
/// the job starts.
///
/// # Errors
/// A [`RunError::Config`] naming the directory when it cannot be created or written.
pub(crate) fn prepare_sink_dir(given: Option<&Path>, engine: EngineKind) -> Result<SinkDir> {
    let dir = given.map_or_else(
        || crate::job::fresh_temp_dir(&format!("weir-q10-{engine}")),
        Path::to_path_buf,
    );
    let unusable = |e: std::io::Error| {
        RunError::Config(format!(
            "--sink-dir {}: q10 cannot write its files there ({e}); give a directory this \
             user can create and write",
            dir.display()
        ))
    };
    std::fs::create_dir_all(&dir).map_err(unusable)?;
    let probe = dir.join(format!(".weir-probe-{}", std::process::id()));
    File::create(&probe).map_err(unusable)?;
    std::fs::remove_file(&probe).map_err(unusable)?;
    Ok(SinkDir::new(dir, given.is_none()))
}

/// One worker's open file of one partition.
struct OpenFile {
    out: BufWriter<File>,
    writing: PathBuf,
    done: PathBuf,
}

/// Writes the rows of `rows` (`view` gives a row and its multiplicity, positive in an
/// append-only stream) into partitioned files under `dir`, and commits the partitions.
pub(crate) fn write_partitions<U: Clone + 'static>(
    rows: &Stream<'_, u64, Vec<U>>,
    ctx: &Ctx,
    dir: &Arc<SinkDir>,
    engine: EngineKind,
    view: fn(&U) -> (&Q10Row, i64),
) {
    let worker = rows.scope().index();
    let shared = Arc::clone(&ctx.shared);
    let root = Arc::clone(dir);
    let closed: StreamVec<'_, u64, u64> =
        rows.clone()
            .unary_frontier(Pipeline, "Q10WriteFiles", move |_cap, _info| {
                let mut open: HashMap<u64, OpenFile> = HashMap::new();
                let mut pending: Pending<()> = Pending::new();
                let mut line = String::new();
                let mut failed = false;
                move |(input, frontier), output| {
                    input.for_each(|cap, data| {
                        for update in data.iter() {
                            let (row, diff) = view(update);
                            if failed {
                                return;
                            }
                            let minute = row.date_time / MINUTE_MS;
                            pending.at((minute + 1) * MINUTE_MS, &cap);
                            line.clear();
                            csv_line(&mut line, row);
                            if diff < 1 {
                                fail(&shared, &mut failed, "q10: a row was retracted".into());
                                return;
                            }
                            let file = match open.entry(minute) {
                                Entry::Occupied(file) => Ok(file.into_mut()),
                                Entry::Vacant(slot) => open_file(&root, row, engine, worker)
                                    .map(|file| slot.insert(file)),
                            };
                            let written = file.and_then(|file| {
                                (0..diff).try_for_each(|_| file.out.write_all(line.as_bytes()))
                            });
                            if let Err(e) = written {
                                fail(&shared, &mut failed, write_error(&root, row, &e));
                            }
                        }
                    });
                    while let Some((end, cap, ())) = pending.next_ready(reached(frontier)) {
                        let minute = end / MINUTE_MS - 1;
                        if let Some(file) = open.remove(&minute)
                            && !failed
                            && let Err(e) = finish(file)
                        {
                            fail(&shared, &mut failed, e);
                        }
                        output.session(&cap).give(minute);
                    }
                }
            });
    let root = Arc::clone(dir);
    let shared = Arc::clone(&ctx.shared);
    // Minute end -> the minute to commit once the frontier is past it.
    let mut waiting: BTreeMap<u64, u64> = BTreeMap::new();
    closed.sink(
        Exchange::new(|m: &u64| route(*m as i64)),
        "Q10Commit",
        move |(input, frontier)| {
            input.for_each(|_cap, data| {
                for minute in data.drain(..) {
                    waiting.insert((minute + 1) * MINUTE_MS, minute);
                }
            });
            // Past the end: every worker's close notice for the minute has arrived.
            while let Some(entry) = waiting.first_entry() {
                if frontier.less_equal(entry.key()) {
                    break;
                }
                let start = entry.remove() * MINUTE_MS;
                let path = root
                    .join(partition_dir(
                        Date::of_epoch_ms(start),
                        HourMinute::of_epoch_ms(start),
                    ))
                    .join(SUCCESS_FILE);
                if let Err(e) = File::create(&path) {
                    shared.fail(format!("q10: committing {}: {e}", path.display()));
                }
            }
        },
    );
}

fn fail(shared: &Shared, failed: &mut bool, message: String) {
    *failed = true;
    shared.fail(message);
}

fn write_error(root: &Path, row: &Q10Row, e: &std::io::Error) -> String {
    let dir = root.join(partition_dir(row.dt, row.hm));
    format!("q10: writing under {}: {e}", dir.display())
}

/// Opens this worker's in-progress file of `row`'s partition.
fn open_file(
    root: &Path,
    row: &Q10Row,
    engine: EngineKind,
    worker: usize,
) -> std::io::Result<OpenFile> {
    let dir = root.join(partition_dir(row.dt, row.hm));
    std::fs::create_dir_all(&dir)?;
    let writing = dir.join(format!(".part-{engine}-{worker}.csv.inprogress"));
    let done = dir.join(format!("part-{engine}-{worker}.csv"));
    let out = BufWriter::with_capacity(1 << 16, File::create(&writing)?);
    Ok(OpenFile { out, writing, done })
}

/// Flushes and closes a partition's file and gives it its final name.
fn finish(file: OpenFile) -> std::result::Result<(), String> {
    let OpenFile { out, writing, done } = file;
    let describe = |e: std::io::Error| format!("q10: closing {}: {e}", writing.display());
    drop(out.into_inner().map_err(|e| describe(e.into_error()))?);
    std::fs::rename(&writing, &done).map_err(describe)
}

/// `auction,bidder,price,dateTime,extra` and a newline, `extra` quoted as `weir gen` quotes.
fn csv_line(out: &mut String, row: &Q10Row) {
    use std::fmt::Write as _;
    let _ = write!(
        out,
        "{},{},{},{},",
        row.auction, row.bidder, row.price, row.date_time
    );
    write_csv_field(out, row.extra);
    out.push('\n');
}
