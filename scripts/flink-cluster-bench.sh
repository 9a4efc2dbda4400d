#!/usr/bin/env bash
# Flink on a standalone cluster next to Flink's local MiniCluster, on the same input: interleaved
# rounds (each round runs every query on the MiniCluster, then on the cluster), every run's
# digest checked, the load average recorded before each run (docs/SCALING.md, docs/RESULTS.md).
#
#   scripts/flink-cluster-bench.sh [--queries q5,q7] [--workers 2] [--events 3000000]
#       [--event-rate 10000000] [--rounds 5] [--cluster HOST:PORT] [--out DIR]
#
# Without --cluster it starts a cluster of --workers TaskManagers x 1 slot on this machine
# (scripts/flink-cluster.sh, free ports, a temporary run directory) and stops it at the end, also
# when a run fails or the script is interrupted. The weir binary is target/release/weir (cargo
# build --release first, a no-op when it is current), or $WEIR. Writes DIR/runs.csv (one line
# per run), DIR/runs/ (every run's weir report) and DIR/summary.md: per query, the MiniCluster's
# and the cluster's median, min and max throughput side by side, their ratio, start-up times,
# the digest (the script fails if two runs of a query disagree) and the load averages seen.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

QUERIES=q5,q7 WORKERS=2 EVENTS=3000000 EVENT_RATE=10000000 ROUNDS=5 CLUSTER="" OUT=bench-out/flink-cluster
while [ $# -gt 0 ]; do
    case "$1" in
        --queries) QUERIES=$2; shift 2 ;;
        --workers) WORKERS=$2; shift 2 ;;
        --events) EVENTS=$2; shift 2 ;;
        --event-rate) EVENT_RATE=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --cluster) CLUSTER=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) printf 'flink-cluster-bench: unknown option %s\n' "$1" >&2; exit 2 ;;
    esac
done
say() { printf 'flink-cluster-bench: %s\n' "$*" >&2; }

for n in "$WORKERS" "$EVENTS" "$EVENT_RATE" "$ROUNDS"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || { say "error: --workers, --events, --event-rate and --rounds take numbers >= 1, got '$n'"; exit 2; }
done
if [ -z "${WEIR:-}" ]; then
    # A no-op when the release binary is up to date; never measure a stale one.
    cargo build --release --locked -p weir-tui >&2
    WEIR=$ROOT/target/release/weir
fi
[ -x "$WEIR" ] || { say "error: \$WEIR=$WEIR is not an executable"; exit 2; }
scripts/setup-flink.sh
mkdir -p "$OUT/runs"

RUN_DIR=""
if [ -z "$CLUSTER" ]; then
    RUN_DIR=$(mktemp -d)
    trap 'scripts/flink-cluster.sh stop --dir "$RUN_DIR" || true; rm -rf "$RUN_DIR"' EXIT
    read -r REST RPC < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
    CLUSTER=$(scripts/flink-cluster.sh start --dir "$RUN_DIR" --taskmanagers "$WORKERS" --slots 1 \
        --rest-port "$REST" --rpc-port "$RPC")
fi
say "cluster at $CLUSTER; MiniCluster in weir's JVM subprocess; $ROUNDS rounds of ${QUERIES//,/ }"

CSV="$OUT/runs.csv"
echo "round,query,mode,events,wall_s,throughput_eps,startup_s,rows,digest,load1,load5" > "$CSV"
IFS=, read -r -a QS <<<"$QUERIES"
for round in $(seq "$ROUNDS"); do
    for q in "${QS[@]}"; do
        for mode in minicluster cluster; do
            json="$OUT/runs/$q-$mode-$round.json"
            extra=()
            [ "$mode" = minicluster ] || extra=(--flink-cluster "$CLUSTER")
            read -r load1 load5 _ < /proc/loadavg
            "$WEIR" run nexmark --engine flink --query "$q" --workers "$WORKERS" --events "$EVENTS" \
                --event-rate "$EVENT_RATE" "${extra[@]}" --no-tui --quiet --json "$json" >&2
            python3 - "$json" "$round" "$q" "$mode" "$load1" "$load5" >> "$CSV" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(",".join(map(str, [sys.argv[2], sys.argv[3], sys.argv[4], r["events"], round(r["wall_s"], 3),
      round(r["throughput_eps"]), round(r["startup_s"], 2), r["digest"]["rows"], r["digest"]["hash"],
      sys.argv[5], sys.argv[6]])))
PY
        done
    done
done

python3 - "$CSV" "$WORKERS" "$EVENTS" "$EVENT_RATE" "$ROUNDS" "$CLUSTER" "$(git rev-parse --short HEAD)" \
    "$(nproc)" > "$OUT/summary.md" <<'PY'
import csv, statistics, sys
path, workers, events, event_rate, rounds, cluster, commit, cpus = sys.argv[1:]
rows = list(csv.DictReader(open(path)))
print(f"Flink {workers} workers: MiniCluster (one JVM, 4 GiB heap) vs the cluster at {cluster} "
      f"({workers} TaskManagers x 1 slot unless given); {int(events):,} events at "
      f"{int(event_rate):,} ev/s of event time, {rounds} interleaved rounds; commit {commit}, "
      f"{cpus} CPUs.\n")
print("| query | MiniCluster ev/s median (min-max) | cluster ev/s median (min-max) | cluster / Mini "
      "| start-up s Mini / cluster | digest: rows, hash | load1 seen |")
print("|---|---:|---:|---:|---:|---|---|")
bad = []
for q in dict.fromkeys(r["query"] for r in rows):
    of = [r for r in rows if r["query"] == q]
    digests = {(r["rows"], r["digest"]) for r in of}
    if len(digests) != 1:
        bad.append(f"{q}: {len(digests)} different digests {sorted(digests)}")
    t, s = {}, {}
    for mode in ("minicluster", "cluster"):
        t[mode] = [float(r["throughput_eps"]) for r in of if r["mode"] == mode]
        s[mode] = statistics.median(float(r["startup_s"]) for r in of if r["mode"] == mode)
    cell = lambda x: f"{statistics.median(x):,.0f} ({min(x):,.0f}-{max(x):,.0f})"
    ratio = statistics.median(t["cluster"]) / statistics.median(t["minicluster"])
    loads = [float(r["load1"]) for r in of]
    print(f"| {q} | {cell(t['minicluster'])} | {cell(t['cluster'])} | {ratio:.2f} | "
          f"{s['minicluster']:.1f} / {s['cluster']:.1f} | {of[0]['rows']}, {of[0]['digest'][:12]}… | "
          f"{min(loads):.2f}-{max(loads):.2f} |")
for b in bad:
    print(f"\nDIGEST MISMATCH {b}")
sys.exit(1 if bad else 0)
PY
cat "$OUT/summary.md"
say "runs in $CSV, summary in $OUT/summary.md"
