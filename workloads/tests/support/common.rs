//! Shared helpers of the integration tests (not a test target of its own).

#![allow(dead_code)]

use std::path::PathBuf;

/// Path of a file in `workloads/testdata/`.
pub(crate) fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

/// Whether the run should rewrite the committed vectors instead of checking them
/// (`WEIR_BLESS=1`, used only when the contract deliberately changes).
pub(crate) fn bless() -> bool {
    std::env::var_os("WEIR_BLESS").is_some_and(|v| v == "1")
}

/// Compares `actual` with the committed file, or rewrites the file under `WEIR_BLESS=1`.
pub(crate) fn check_or_bless(name: &str, actual: &str) {
    let path = testdata(name);
    if bless() {
        std::fs::write(&path, actual).expect("testdata is writable when blessing");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    if expected != actual {
        let (line, (e, a)) = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .find(|(_, (e, a))| e != a)
            .unwrap_or((0, ("(length differs)", "(length differs)")));
        panic!(
            "{} differs from the generated text at line {}:\n  committed: {e}\n  generated: {a}",
            path.display(),
            line + 1
        );
    }
}

/// Lists on the test's stderr, past libtest's output capture (so `cargo test` shows it even
/// when the test passes), the catalog entries a test did not run and why.
pub(crate) fn report_skipped(test: &str, skipped: &[String]) {
    use std::io::Write as _;
    if skipped.is_empty() {
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{test}: {} not run:", skipped.len());
    for line in skipped {
        let _ = writeln!(err, "  {line}");
    }
}

/// Writes `events` to a file in the temporary directory as `weir gen nexmark` writes them
/// (JSON lines, or CSV when `csv`), for `--input`.
pub(crate) fn event_file(
    name: &str,
    events: &[weir_workloads::nexmark::Event],
    csv: bool,
) -> PathBuf {
    use weir_workloads::nexmark::format;
    let mut text = String::new();
    for event in events {
        if csv {
            format::write_csv(&mut text, event);
        } else {
            format::write_json(&mut text, event);
        }
    }
    let path = std::env::temp_dir().join(format!("weir-test-{}-{name}", std::process::id()));
    std::fs::write(&path, text).expect("the temporary directory is writable");
    path
}
