#!/usr/bin/env bash
# Peak resident memory (RSS) of a short weir run by worker count: what a job costs before
# records do (the exchange's per-worker and per-pair memory), for docs/RESULTS.md.
#
#   scripts/rss-by-workers.sh [--query Q] [--events N] [WORKERS...]
#
# Defaults: q5, 1000 events, workers 2 16 64 256. Each count runs
#   weir run nexmark --engine weir --query Q --events N --workers W --no-pin --no-tui --quiet
# under /usr/bin/time -v and prints one line: workers, maximum RSS (MiB), exit status. RSS is
# not a timing measurement: it does not depend on the machine's load. The binary is $WEIR if
# set, else target/release/weir (built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

query=q5
events=1000
counts=()
while [ $# -gt 0 ]; do
    case "$1" in
        --query) query="$2"; shift 2 ;;
        --events) events="$2"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        -*) echo "rss-by-workers: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) counts+=("$1"); shift ;;
    esac
done
if [ ${#counts[@]} -eq 0 ]; then counts=(2 16 64 256); fi
if [ ! -x /usr/bin/time ]; then
    echo "rss-by-workers: needs GNU time at /usr/bin/time (apt-get install time)" >&2
    exit 2
fi

weir="${WEIR:-target/release/weir}"
if [ ! -x "$weir" ]; then
    echo "rss-by-workers: building $weir (cargo build --release -p weir-tui)" >&2
    cargo build --release -p weir-tui --locked >&2
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT

printf 'workers\tmax_rss_mib\texit\n'
for w in "${counts[@]}"; do
    status=0
    /usr/bin/time -v -o "$log" "$weir" run nexmark --engine weir --query "$query" \
        --events "$events" --workers "$w" --no-pin --no-tui --quiet >/dev/null 2>&1 || status=$?
    kib=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")
    printf '%s\t%s\t%s\n' "$w" "$(awk -v k="$kib" 'BEGIN { printf "%.1f", k / 1024 }')" "$status"
done
