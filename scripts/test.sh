#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this and nothing else):
# formatting, clippy with warnings denied, the module-layering check, every test of every crate
# (unit, integration, doc), the rustdoc build, and a compile check of every criterion bench.
#
# It installs what it needs itself on a fresh machine that has only Rust, Java 17, Python 3.11
# and gcc.
set -euo pipefail
cd "$(dirname "$0")/.."

# A one-shot run gains nothing from incremental compilation and it doubles the target folder.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

step() { printf '\n==> %s\n' "$*" >&2; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings denied)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "module layering: no import cycles inside a crate (scripts/module-cycles.py)"
scripts/module-cycles.py --self-test
# The crates whose modules are layered; add a crate's directory here once its cycles are gone.
scripts/module-cycles.py engine workloads tui

step "Flink 2.3 and weir's Java job (scripts/setup-flink.sh; the Flink tests run the real JVM)"
scripts/setup-flink.sh

step "tmux (the console's terminal tests drive the real binary in it)"
if ! command -v tmux >/dev/null 2>&1; then
    sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null
fi
tmux -V

step "cargo test (every crate)"
# tui/tests/flink_cluster.rs starts a Flink cluster (a JobManager and two TaskManagers, separate
# JVMs) in a temporary run directory and stops it when the test ends, passed or failed. If the
# test process itself dies (killed, out of memory), nothing in it runs: so the tests get their
# own TMPDIR, and on any exit every cluster run directory left in it is stopped with
# scripts/flink-cluster.sh stop, which ends every JVM carrying that directory as its marker.
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/weir-test.XXXXXX")
stop_test_clusters() {
    local d attempt
    # A killed test can leave its `flink-cluster.sh start` running, which may launch a JVM after
    # a stop (and stops everything itself once it sees the JobManager gone): stop until none is left.
    for attempt in 1 2 3 4 5; do
        # tempfile's directories are dot-named (.tmpXXXXXX), which a glob would skip.
        while IFS= read -r -d '' d; do
            [ -d "$d/pids" ] || continue
            scripts/flink-cluster.sh stop --dir "$d" >/dev/null 2>&1 \
                || echo "test.sh: could not stop the Flink cluster of $d (scripts/flink-cluster.sh status --dir $d)" >&2
        done < <(find "$TEST_TMP" -mindepth 1 -maxdepth 1 -type d -print0 2>/dev/null)
        pgrep -f -- "-Dweir.flink.cluster=$TEST_TMP" >/dev/null || break
        sleep 3
    done
    rm -rf "$TEST_TMP"
}
trap stop_test_clusters EXIT
TMPDIR=$TEST_TMP cargo test --workspace --locked
stop_test_clusters
trap - EXIT
left=$(pgrep -fa -- "-Dweir.flink.cluster=$TEST_TMP" || true)
if [ -n "$left" ]; then
    echo "JVMs of the tests' Flink clusters are still running:" >&2
    echo "$left" >&2
    exit 1
fi

step "loom model of the engine's park/wake protocol"
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p weir-engine --lib --locked loom

step "rustdoc (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "criterion benches compile"
cargo bench -p weir-benches --benches --no-run --profile dev --locked

step "weir-only build: --no-default-features links neither timely nor differential"
# The peer engines' adapters are cargo features that the default build turns on; without them
# `weir` runs weir (and the sim) only, and refuses the others naming the feature to enable.
linked=$(cargo tree -p weir-tui --no-default-features --locked -e normal --prefix none \
    | awk '{print $1}' | grep -xE 'timely|differential-dataflow' | sort -u || true)
if [ -n "$linked" ]; then
    echo "the weir-only build links: $linked" >&2
    exit 1
fi
cargo clippy -p weir-tui --no-default-features --all-targets --locked -- -D warnings
cargo test -p weir-tui --no-default-features --locked --test build_features --test list_cli
# Leave the default build's binary in target/ for whoever runs the tests next.
cargo build -p weir-tui --locked

step "all tests passed"
