#!/usr/bin/env bash
# Soak test: a long paced run of each given query on weir, sampling the process's resident
# memory (VmRSS) every second, to show that memory stays flat once windows close.
#
#   scripts/soak.sh [--minutes M] [--rate R] [--workers W] [--out DIR] QUERY...
#
# Defaults: 10 minutes per query at 100,000 events/s (paced, so event time follows the wall
# clock and windows close as in production), one worker per core, output in
# target/soak-<date>. Queries are Nexmark query names (q5, q11, ...); the script runs exactly
# the ones given, in order, says so, and stops with an error at the first one weir refuses
# (e.g. a query that does not exist yet): nothing is skipped silently.
#
# Per query it writes DIR/<query>.tsv (`seconds<TAB>rss_kib`) and DIR/<query>.log (weir's
# stderr and summary), and prints one line: RSS at the start (1 s), after the first windows
# closed (30 s), at the end, the maximum, and the growth over the second half of the run.
#
# The binary is $WEIR if set, else target/release/weir (built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=10
rate=100000
workers=""
out="target/soak-$(date +%Y%m%d-%H%M%S)"
queries=()
while [ $# -gt 0 ]; do
    case "$1" in
        --minutes) minutes="$2"; shift 2 ;;
        --rate) rate="$2"; shift 2 ;;
        --workers) workers="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        -*) echo "soak: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) queries+=("$1"); shift ;;
    esac
done
if [ ${#queries[@]} -eq 0 ]; then
    echo "soak: name the queries to run, e.g. scripts/soak.sh q5 q11" >&2
    exit 2
fi

weir="${WEIR:-target/release/weir}"
if [ ! -x "$weir" ]; then
    echo "soak: building $weir (cargo build --release -p weir-tui)" >&2
    cargo build --release -p weir-tui --locked >&2
fi
mkdir -p "$out"
worker_flag=()
if [ -n "$workers" ]; then worker_flag=(--workers "$workers"); fi

echo "soak: running ${queries[*]} for ${minutes} min each at ${rate} events/s; files in $out" >&2
echo "soak: load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# Prints the RSS (KiB) at the first sample at or after second $2 of file $1.
rss_at() { awk -v t="$2" 'NR > 1 && $1 >= t { print $2; exit }' "$1"; }

ran=()
for query in "${queries[@]}"; do
    tsv="$out/$query.tsv"
    log="$out/$query.log"
    "$weir" run nexmark --engine weir --query "$query" --rate "$rate" \
        --duration "${minutes}m" --no-tui "${worker_flag[@]}" >"$log" 2>&1 &
    pid=$!
    printf 'seconds\trss_kib\n' >"$tsv"
    start=$(date +%s)
    while kill -0 "$pid" 2>/dev/null; do
        rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
        if [ -n "$rss" ]; then
            printf '%s\t%s\n' "$(( $(date +%s) - start ))" "$rss" >>"$tsv"
        fi
        sleep 1
    done
    if ! wait "$pid"; then
        echo "soak: weir refused or failed on $query (see $log); ran so far: ${ran[*]:-none}" >&2
        tail -5 "$log" >&2
        exit 1
    fi
    ran+=("$query")
    last=$(tail -1 "$tsv" | cut -f1)
    half=$(( last / 2 ))
    first=$(rss_at "$tsv" 1)
    closed=$(rss_at "$tsv" 30)
    mid=$(rss_at "$tsv" "$half")
    end=$(tail -1 "$tsv" | cut -f2)
    max=$(awk 'NR > 1 && $2 > m { m = $2 } END { print m }' "$tsv")
    printf '%s: rss start %s MiB, after 30 s %s MiB, end (%s s) %s MiB, max %s MiB, second half %+d MiB\n' \
        "$query" "$(( first / 1024 ))" "$(( closed / 1024 ))" "$last" "$(( end / 1024 ))" \
        "$(( max / 1024 ))" "$(( (end - mid) / 1024 ))"
done
echo "soak: ran ${ran[*]}; load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
