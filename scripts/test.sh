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
cargo test --workspace --locked

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
