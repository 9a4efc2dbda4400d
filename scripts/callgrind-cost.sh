#!/usr/bin/env bash
# Instruction counts (callgrind; repeatable under load, unlike timings) of the same weir runs
# on two binaries, to show what a change costs per event: BASE (before) and NEW (after).
# For each query: total instructions (Ir) of `weir run` on 1 worker, and the difference.
#
# Usage: scripts/callgrind-cost.sh BASE NEW [EVENTS] [QUERIES]
# Example (build each commit with cargo build --release -p weir-tui --no-default-features):
#   scripts/callgrind-cost.sh /tmp/weir-before target/release/weir 2000000 "q1 q5"
# Needs valgrind.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 BASE NEW [EVENTS] [QUERIES]" >&2; exit 2; }
base=$1
new=$2
events=${3:-2000000}
queries=${4:-q1 q5}
for b in "$base" "$new"; do
    [ -x "$b" ] || { echo "$b is not an executable" >&2; exit 2; }
done
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ir() { # $1: binary, $2: query -> total instructions
    valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$1" run nexmark --query "$2" \
        --engine weir --workers 1 --events "$events" --no-tui --quiet >/dev/null 2>"$tmp/err" ||
        { cat "$tmp/err" >&2; exit 1; }
    sed -n 's/^summary: //p' "$tmp/out"
}

printf '%-6s %16s %16s %9s %12s\n' query base_Ir new_Ir change Ir/event
for q in $queries; do
    a=$(ir "$base" "$q")
    b=$(ir "$new" "$q")
    python3 -c "a,b,e=$a,$b,$events; print(f'{\"$q\":<6} {a:>16,} {b:>16,} {100*(b-a)/a:>8.2f}% {b/e:>12.1f}')"
done
