#!/usr/bin/env bash
# The live console's own cost: PAIRS interleaved pairs of the same `weir run`, one with the
# console (in a detached tmux session of fixed size, so it really draws) and one with --no-tui.
# Prints each run's throughput and the CPU seconds of the whole process, then the medians and
# the relative difference. The console must change throughput by less than 2 %.
#
# Usage: scripts/console-cost.sh [-n PAIRS] [-s COLSxROWS] [-b BINARY] -- RUN-ARGS...
# Example (release build first: cargo build --release):
#   scripts/console-cost.sh -n 5 -s 200x50 -- nexmark --query q5 --engine weir --events 200000000
# Needs tmux, python3 and /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."

pairs=5
size=80x24
bin=target/release/weir
while getopts n:s:b: opt; do
    case $opt in
        n) pairs=$OPTARG ;;
        s) size=$OPTARG ;;
        b) bin=$OPTARG ;;
        *) echo "usage: $0 [-n PAIRS] [-s COLSxROWS] [-b BINARY] -- RUN-ARGS..." >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || { echo "give the run's arguments after --, e.g. -- nexmark --engine weir --events 100000000" >&2; exit 2; }
[ -x "$bin" ] || { echo "$bin not found: cargo build --release first, or pass -b" >&2; exit 2; }
cols=${size%x*}
rows=${size#*x}
tmp=$(mktemp -d)
sock="weir-cost-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$tmp"' EXIT
args=$(printf '%q ' "$@")

with_console() { # $1: output prefix
    tmux -L "$sock" -f /dev/null new-session -d -s c -x "$cols" -y "$rows" \
        "/usr/bin/time -f '%U %S' -o '$1.cpu' '$bin' run $args --json '$1.json'; tmux -L '$sock' wait-for -S done"
    tmux -L "$sock" wait-for done
    tmux -L "$sock" kill-session -t c 2>/dev/null || true
    [ -s "$1.json" ] || { echo "the run with the console failed (no report written)" >&2; exit 1; }
}

without_console() { # $1: output prefix, then the run's arguments
    local out=$1
    shift
    if ! /usr/bin/time -f '%U %S' -o "$out.cpu" "$bin" run "$@" --no-tui --quiet --json "$out.json" >/dev/null 2>"$out.err"; then
        echo "the run without the console failed:" >&2
        cat "$out.err" >&2
        exit 1
    fi
}

for i in $(seq 1 "$pairs"); do
    # Alternate the order so drift (thermal, other load) does not favour one side.
    if [ $((i % 2)) -eq 1 ]; then
        with_console "$tmp/tui-$i"
        without_console "$tmp/plain-$i" "$@"
    else
        without_console "$tmp/plain-$i" "$@"
        with_console "$tmp/tui-$i"
    fi
done

python3 - "$tmp" "$pairs" "$size" <<'EOF'
import json, statistics, sys
tmp, pairs, size = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def load(kind, i):
    with open(f"{tmp}/{kind}-{i}.json") as f:
        eps = json.load(f)["throughput_eps"]
    with open(f"{tmp}/{kind}-{i}.cpu") as f:
        user, sys_ = map(float, f.read().split()[-2:])
    return eps, user + sys_
rows = {k: [load(k, i) for i in range(1, pairs + 1)] for k in ("tui", "plain")}
print(f"{'run':>4} {'console ev/s':>14} {'cpu s':>7} {'no-tui ev/s':>14} {'cpu s':>7}")
for i in range(pairs):
    (a, ac), (b, bc) = rows["tui"][i], rows["plain"][i]
    print(f"{i + 1:>4} {a:>14,.0f} {ac:>7.2f} {b:>14,.0f} {bc:>7.2f}")
med = {k: statistics.median(e for e, _ in v) for k, v in rows.items()}
cpu = {k: statistics.median(c for _, c in v) for k, v in rows.items()}
diff = (med["tui"] - med["plain"]) / med["plain"] * 100
print(f"median throughput with the console ({size}): {med['tui']:,.0f} ev/s, without: "
      f"{med['plain']:,.0f} ev/s, difference {diff:+.2f} %")
print(f"median CPU seconds with the console: {cpu['tui']:.2f}, without: {cpu['plain']:.2f}")
EOF
