#!/usr/bin/env bash
# Measures, on a quiet machine, three things about one `weir run`:
#   1. the cost of --flamegraph sampling: throughput with and without it (must be < 3 %);
#   2. the report's CPU seconds against /usr/bin/time's user + system for the same run
#      (must agree within 5 %; the report leaves out start-up and the main thread, so it is
#      expected slightly below);
#   3. with -B BASE, the cost of per-operator metrics: throughput of BASE (a weir built before
#      them) against this one;
#   4. with -e NAME=VALUE, the cost of what that environment variable turns off: throughput of
#      the same binary with it set (arm "env") against without (e.g. -e WEIR_TIMELY_OPERATORS=off,
#      timely's and differential's per-operator metrics).
# ROUNDS interleaved rounds (the order of the arms rotates every round, so drift does not
# favour one arm); prints every run, then the medians, and the load average before and after.
#
# Usage: scripts/overhead.sh [-n ROUNDS] [-b BINARY] [-B BASE_BINARY] [-e NAME=VALUE] -- RUN-ARGS...
# Example (release build first: cargo build --release -p weir-tui):
#   scripts/overhead.sh -n 5 -- nexmark --query q5 --engine weir --workers 1 --events 150000000
# Give each run 10 s or more: on a 2-core VM, 1-2 s runs differ by up to 20 % between rounds
# and sampling's start-up weighs on them (docs/RESULTS.md, "What the profiling tools cost").
# Needs python3 and /usr/bin/time. Do not run it while anything else loads the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=5
bin=target/release/weir
base=
env_set=
while getopts n:b:B:e: opt; do
    case $opt in
        n) rounds=$OPTARG ;;
        b) bin=$OPTARG ;;
        B) base=$OPTARG ;;
        e) env_set=$OPTARG ;;
        *) echo "usage: $0 [-n ROUNDS] [-b BINARY] [-B BASE_BINARY] [-e NAME=VALUE] -- RUN-ARGS..." >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || { echo "give the run's arguments after --, e.g. -- nexmark --query q5 --engine weir --events 50000000" >&2; exit 2; }
[ -x "$bin" ] || { echo "$bin not found: cargo build --release -p weir-tui first, or pass -b" >&2; exit 2; }
[ -z "$base" ] || [ -x "$base" ] || { echo "-B $base is not an executable" >&2; exit 2; }
case $env_set in
    '' | [A-Za-z_]*=*) ;;
    *) echo "-e takes NAME=VALUE, not '$env_set'" >&2; exit 2 ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

arms=(plain flame)
[ -n "$base" ] && arms+=(base)
[ -n "$env_set" ] && arms+=(env)

run_arm() { # $1: arm, $2: output prefix, then the run's arguments
    local arm=$1 out=$2 exe=$bin
    shift 2
    local extra=() envs=()
    case $arm in
        flame) extra=(--flamegraph "$out.svg") ;;
        base) exe=$base ;;
        env) envs=("$env_set") ;;
    esac
    if ! env "${envs[@]}" /usr/bin/time -f '%U %S' -o "$out.cpu" "$exe" run "$@" "${extra[@]}" \
        --no-tui --quiet --json "$out.json" >/dev/null 2>"$out.err"; then
        echo "the $arm run failed:" >&2
        cat "$out.err" >&2
        exit 1
    fi
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$rounds"); do
    n=${#arms[@]}
    for k in $(seq 0 $((n - 1))); do
        arm=${arms[$(((i + k) % n))]}
        run_arm "$arm" "$tmp/$arm-$i" "$@"
    done
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$tmp" "$rounds" "$env_set" "${arms[@]}" <<'PY'
import json, statistics, sys
tmp, rounds, env_set, arms = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
eps = {a: [] for a in arms}
ratios = []
print(f"{'arm':<6} {'round':>5} {'events/s':>14} {'report CPU s':>13} {'time(1) CPU s':>14} {'report/time':>11}")
for a in arms:
    for i in range(1, rounds + 1):
        r = json.load(open(f"{tmp}/{a}-{i}.json"))
        user, system = map(float, open(f"{tmp}/{a}-{i}.cpu").read().split()[-2:])
        eps[a].append(r["throughput_eps"])
        cpu = r.get("cpu")
        rep = cpu["user_s"] + cpu["system_s"] if cpu else float("nan")
        ratio = rep / (user + system) if user + system > 0 else float("nan")
        if a == "plain":
            ratios.append(ratio)
        print(f"{a:<6} {i:>5} {r['throughput_eps']:>14.0f} {rep:>13.2f} {user + system:>14.2f} {ratio:>11.3f}")
med = {a: statistics.median(v) for a, v in eps.items()}
print()
print(f"median events/s: " + ", ".join(f"{a} {v:.0f}" for a, v in med.items()))
print(f"flame graph sampling costs {100 * (1 - med['flame'] / med['plain']):.2f} % of throughput (target < 3 %)")
# The two arms of a round ran back to back, so a round's pair sees the same machine state: the
# mean of the per-round costs, with its 95 % confidence interval (Student's t), says how sure the
# figure is on a noisy machine.
pairs = [100 * (1 - f / p) for p, f in zip(eps["plain"], eps["flame"])]
if len(pairs) >= 2:
    t95 = {2: 12.71, 3: 4.30, 4: 3.18, 5: 2.78, 6: 2.57, 7: 2.45, 8: 2.36, 9: 2.31, 10: 2.26,
           11: 2.23, 12: 2.20, 13: 2.18, 14: 2.16, 15: 2.14, 16: 2.13, 17: 2.12, 18: 2.11,
           19: 2.10, 20: 2.09}.get(len(pairs), 2.0)
    half = t95 * statistics.stdev(pairs) / len(pairs) ** 0.5
    print(f"  paired by round: mean {statistics.mean(pairs):.2f} % +- {half:.2f} (95 % CI), "
          f"rounds: {', '.join(f'{c:.1f}' for c in pairs)} %")
if "base" in med:
    print(f"per-operator metrics cost {100 * (1 - med['plain'] / med['base']):.2f} % of throughput against the base binary")
if "env" in med:
    print(f"what {env_set} turns off costs {100 * (1 - med['plain'] / med['env']):.2f} % of throughput "
          f"(paired by round: {', '.join(f'{100 * (1 - p / e):.2f}' for p, e in zip(eps['plain'], eps['env']))} %)")
print(f"report CPU / time(1) CPU: median {statistics.median(ratios):.3f}, range {min(ratios):.3f} .. {max(ratios):.3f} (target within 5 %)")
PY
