//! The regular join, the lookup join and the partitioned file sink as real dataflows (two
//! sources per worker), against sequential references on random inputs, at 1, 2, 3 and 8
//! workers, pinning on and off.

#![allow(clippy::unwrap_used)] // test helpers: a poisoned lock means a test already failed

#[path = "support/dataflow.rs"]
mod dataflow;
#[path = "support/step.rs"]
mod step;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use weir_engine::file_sink::{PartitionedFileSink, SUCCESS_FILE};
use weir_engine::joins::{LookupTable, RegularJoinSpec};
use weir_engine::{Collector, Config, IterSource, MetricsSnapshot, Stream, Worker, execute};

use dataflow::{OOO, Rec};

fn config(workers: usize, pinning: bool, batch: usize, collector: &Collector) -> Config {
    Config::new(workers)
        .with_pinning(pinning)
        .with_batch_size(batch)
        .with_ring_capacity(2)
        .with_collector(collector.clone())
}

/// Worker `me`'s share of `input` (record i goes to worker i % peers) as a source.
fn source(worker: &mut Worker, input: &[Rec]) -> Stream<Rec> {
    let (me, peers) = (worker.index(), worker.peers());
    let mine: Vec<Rec> = input
        .iter()
        .enumerate()
        .filter(|(i, _)| i % peers == me)
        .map(|(_, r)| *r)
        .collect();
    worker.source(IterSource::new(mine, |r: &Rec| r.1, OOO))
}

/// Runs `pipeline` over two inputs and collects its output.
fn run<O, F>(
    left: &[Rec],
    right: &[Rec],
    config: Config,
    collector: &Collector,
    pipeline: F,
) -> (Vec<O>, MetricsSnapshot)
where
    O: Send + 'static,
    F: Fn(Stream<Rec>, Stream<Rec>) -> Stream<O> + Sync,
{
    let out = Arc::new(Mutex::new(Vec::new()));
    execute(config, |worker| {
        let l = source(worker, left);
        let r = source(worker, right);
        let sink = Arc::clone(&out);
        pipeline(l, r).sink(move |batch| sink.lock().unwrap().append(batch));
    })
    .expect("job runs");
    let out = std::mem::take(&mut *out.lock().unwrap());
    (out, collector.latest())
}

/// Records in time order with jitter in `[0, OOO]`, ids unique within the side.
fn records(keys: u64, len: usize) -> impl Strategy<Value = Vec<Rec>> {
    prop::collection::vec((0..keys, 0..20_i64, 0..=OOO), 0..len).prop_map(|steps| {
        let mut base = 500_i64;
        steps
            .into_iter()
            .enumerate()
            .map(|(id, (key, step, jitter))| {
                base += step;
                (key, base + jitter, id as i64)
            })
            .collect()
    })
}

/// Left records with distinct keys (a primary key), in any order.
fn unique_keys(keys: u64) -> impl Strategy<Value = Vec<Rec>> {
    prop::sample::subsequence((0..keys).collect::<Vec<_>>(), 0..keys as usize)
        .prop_shuffle()
        .prop_map(|keys| {
            keys.into_iter()
                .enumerate()
                .map(|(i, k)| (k, 500 + i as i64 * 3, i as i64))
                .collect()
        })
}

fn workers() -> impl Strategy<Value = usize> {
    prop::sample::select(vec![1_usize, 2, 3, 8])
}

/// Every `(left id, right id)` pair with equal keys whose ids pass `keep`: the nested loop.
fn nested_loop(left: &[Rec], right: &[Rec], keep: impl Fn(i64, i64) -> bool) -> Vec<(i64, i64)> {
    let mut pairs: Vec<(i64, i64)> = left
        .iter()
        .flat_map(|l| right.iter().map(move |r| (l, r)))
        .filter(|(l, r)| l.0 == r.0 && keep(l.2, r.2))
        .map(|(l, r)| (l.2, r.2))
        .collect();
    pairs.sort_unstable();
    pairs
}

/// The state the regular join reported on every worker at the end.
fn join_state(snapshot: &MetricsSnapshot) -> Vec<Option<u64>> {
    snapshot
        .workers
        .iter()
        .flat_map(|w| &w.operators)
        .filter(|o| o.name == "regular_join")
        .map(|o| o.state_records)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any number of records per key on both sides, a residual condition on the ids.
    #[test]
    fn regular_join_matches_nested_loop(
        left in records(6, 120), right in records(6, 120), w in workers(), pin in any::<bool>(),
        batch in 1_usize..32,
    ) {
        let collector = Collector::new();
        let (out, snap) = run(&left, &right, config(w, pin, batch, &collector), &collector, |l, r| {
            l.regular_join(r, RegularJoinSpec::new(), |x| x.0, |x| x.0, |_, a, b| {
                ((a.2 + b.2) % 5 != 0).then_some((a.2, b.2))
            })
        });
        let mut got = out;
        got.sort_unstable();
        prop_assert_eq!(got, nested_loop(&left, &right, |a, b| (a + b) % 5 != 0));
        // Every worker has the operator; its state is freed at end of input.
        prop_assert_eq!(join_state(&snap), vec![Some(0); w]);
        prop_assert_eq!(snap.late(), 0);
    }

    /// Unique left keys (a primary key) arriving in any order relative to the right side.
    #[test]
    fn regular_join_with_unique_left_keys_matches_nested_loop(
        left in unique_keys(40), right in records(50, 150), w in workers(), pin in any::<bool>(),
        batch in 1_usize..32,
    ) {
        let collector = Collector::new();
        let (out, _) = run(&left, &right, config(w, pin, batch, &collector), &collector, |l, r| {
            l.regular_join(
                r,
                RegularJoinSpec::new().unique_left_keys(),
                |x| x.0,
                |x| x.0,
                |_, a, b| Some((a.2, b.2)),
            )
        });
        let mut got = out;
        got.sort_unstable();
        prop_assert_eq!(got, nested_loop(&left, &right, |_, _| true));
    }

    /// A static table with gaps: every record with a row joins it, the others yield nothing.
    #[test]
    fn lookup_join_matches_a_map_lookup(
        input in records(30, 200), rows in prop::collection::btree_map(0..30_u64, 0..1000_i64, 0..30),
        w in workers(), pin in any::<bool>(), batch in 1_usize..32, step in any::<bool>(),
    ) {
        let table: Arc<LookupTable<u64, i64>> =
            Arc::new(rows.iter().map(|(k, v)| (*k, *v)).collect());
        let (out, snap) = dataflow::run(&input, w, pin, batch, step, |l| {
            l.lookup_join(Arc::clone(&table), |x| x.0, |x, v| (x.2, *v))
        });
        let mut got = out;
        got.sort_unstable();
        let expected: Vec<(i64, i64)> = input
            .iter()
            .filter_map(|x| rows.get(&x.0).map(|v| (x.2, *v)))
            .collect();
        prop_assert_eq!(got, expected);
        let reported: BTreeSet<Option<u64>> = snap
            .workers
            .iter()
            .flat_map(|w| &w.operators)
            .filter(|o| o.name == "lookup_join")
            .map(|o| o.state_records)
            .collect();
        prop_assert_eq!(reported, BTreeSet::from([Some(rows.len() as u64)]));
    }

    /// Every record lands in its partition's files, every partition is committed, and the
    /// records passed on are exactly those written.
    #[test]
    fn file_sink_writes_every_record_once_and_commits_every_partition(
        input in records(3, 300), w in workers(), pin in any::<bool>(), batch in 1_usize..32,
        width in 10_i64..200, step in any::<bool>(),
    ) {
        let dir = scratch_dir();
        let sink = PartitionedFileSink::create(&dir).expect("writable");
        let (out, snap) = dataflow::run(&input, w, pin, batch, step, |l| {
            l.write_partitioned(
                &sink,
                move |x| (x.1.div_euclid(width), (x.1.div_euclid(width) + 1) * width),
                |p| PathBuf::from(format!("p={p}")),
                write_line,
            )
        });
        let summary = sink.finish().expect("no write error");
        let mut passed = out;
        passed.sort_unstable();
        let mut expected = input.clone();
        expected.sort_unstable();
        prop_assert_eq!(&passed, &expected);
        let (files, partitions) = read_back(&dir, width);
        prop_assert_eq!(files, expected);
        let expected_partitions: BTreeSet<i64> =
            input.iter().map(|x| x.1.div_euclid(width)).collect();
        prop_assert_eq!(partitions.len(), expected_partitions.len());
        prop_assert_eq!(summary.partitions, expected_partitions.len() as u64);
        prop_assert_eq!(summary.rows, input.len() as u64);
        prop_assert_eq!(snap.late(), 0);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}

/// A record as the line `key,time,id`.
fn write_line(x: &Rec, line: &mut String) {
    use std::fmt::Write as _;
    let _ = writeln!(line, "{},{},{}", x.0, x.1, x.2);
}

/// A fresh directory for one test case.
fn scratch_dir() -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "weir-file-sink-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// The records in the committed partitions under `dir`, checking that each partition has
/// `_SUCCESS`, no file is left in progress and every record lies in its partition.
fn read_back(dir: &Path, width: i64) -> (Vec<Rec>, BTreeMap<i64, usize>) {
    let mut rows = Vec::new();
    let mut partitions = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let p: i64 = name
            .strip_prefix("p=")
            .expect("a partition")
            .parse()
            .unwrap();
        assert!(path.join(SUCCESS_FILE).exists(), "{name} not committed");
        let mut files = 0;
        for file in std::fs::read_dir(&path).unwrap() {
            let file = file.unwrap().path();
            let fname = file.file_name().unwrap().to_string_lossy().into_owned();
            if fname == SUCCESS_FILE {
                continue;
            }
            assert!(!fname.starts_with('.'), "{fname} left in progress");
            files += 1;
            for line in std::fs::read_to_string(&file).unwrap().lines() {
                let f: Vec<i64> = line.split(',').map(|x| x.parse().unwrap()).collect();
                assert_eq!(f[1].div_euclid(width), p, "{line} in the wrong partition");
                rows.push((f[0] as u64, f[1], f[2]));
            }
        }
        partitions.insert(p, files);
    }
    rows.sort_unstable();
    (rows, partitions)
}

#[test]
fn an_unwritable_sink_directory_is_refused_before_the_job() {
    let file = scratch_dir();
    std::fs::write(&file, "not a directory").unwrap();
    let err = PartitionedFileSink::create(&file.join("sub")).expect_err("under a file");
    let text = err.to_string();
    assert!(text.contains("weir-file-sink-test-"), "{text}");
    assert!(text.contains("cannot write files there"), "{text}");
    std::fs::remove_file(&file).unwrap();
}

/// A record whose partition the frontier passed is counted late, neither written nor passed.
#[test]
fn late_records_are_counted_not_written() {
    let dir = scratch_dir();
    let sink = PartitionedFileSink::create(&dir).expect("writable");
    let collector = Collector::new();
    let config = Config::new(1)
        .with_pinning(false)
        .with_batch_size(1)
        .with_latency_budget(std::time::Duration::ZERO)
        .with_collector(collector.clone());
    let passed = Arc::new(Mutex::new(Vec::new()));
    let out = Arc::clone(&passed);
    execute(config, |worker| {
        // No out-of-orderness: the record at 3 comes after the frontier passed 25.
        let input = vec![(1_u64, 5_i64, 0_i64), (1, 25, 1), (1, 3, 2)];
        let out = Arc::clone(&out);
        worker
            .source(IterSource::new(input, |r: &Rec| r.1, 0))
            .write_partitioned(
                &sink,
                |x| (x.1 / 10, x.1 / 10 * 10 + 10),
                |p| PathBuf::from(format!("p={p}")),
                write_line,
            )
            .for_each(move |r| out.lock().unwrap().push(r.2));
    })
    .expect("job runs");
    assert_eq!(*passed.lock().unwrap(), vec![0, 1]);
    assert_eq!(collector.latest().late(), 1);
    let summary = sink.finish().expect("no error");
    assert_eq!((summary.rows, summary.partitions), (2, 2));
    std::fs::remove_dir_all(&dir).unwrap();
}
