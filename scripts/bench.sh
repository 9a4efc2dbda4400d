#!/usr/bin/env bash
# Reproduces docs/RESULTS.md: every query x every engine at 1 and 2 workers, in both source
# modes, with a generator-only baseline next to every result (BENCHMARKING.md).
#
# Everything lands in bench-out/ (git-ignored): one `weir compare` directory per
# (workload, source, workers) with report.json/csv/md and plots, one generator-only report per
# (workload, source, workers), and RESULTS.md with the table to paste into docs/RESULTS.md,
# which is also printed on stdout.
#
# Knobs (environment):
#   WORKLOADS="nexmark ysb"   ENGINES=weir,timely,differential,flink   WORKERS="1 2"
#   SOURCES="generate replay" EVENTS=10000000   RUNS=5   NEXMARK_QUERIES=all
#   OUT=bench-out             WEIR=path/to/weir (default: build target/release/weir)
#   STEPS=all | baselines | table  (baselines: only the generator-only runs, into an existing
#                                   OUT; table: only re-render RESULTS.md from OUT)
#   MODE=burst | steady       burst (default): the suite's event rate (10 M events/s of event
#                             time), so EVENTS events span EVENTS / 10 M seconds of event time
#                             and 10 s windows fire once, at end of input: the table measures
#                             ingestion into few windows. steady: event rate EVENTS /
#                             STEADY_SPAN_S (default 200 s of event time), so every query's
#                             windows close throughout the run (20 times for 10 s windows, 100
#                             for q5's 2 s slide): the table measures windows closing as a
#                             stream runs. Output goes to OUT/<workload>-<source>-w<n>[-steady].
# Every comparison also measures the physical ceiling of the query's input in every round
# (memory-read for replay, generator-only for generate) and the table sets each engine beside it.
# A quick smoke test of the script itself on the fake engine:
#   ENGINES=sim NEXMARK_QUERIES=q5 WORKLOADS=nexmark EVENTS=200000 RUNS=2 scripts/bench.sh
#
# Generator-only baselines run `weir run <workload> --query gen|gen-bids --engine weir ... --json
# FILE` (source -> counting sink, no exchange, no operator). Which baselines a workload has,
# and which one each query is set against (the one whose source generates the events the query
# reads), come from the query catalog: `weir list --format json` (its `baseline` field; "n/a"
# where no baseline matches, e.g. q3 and q8, which read persons and auctions only).
#
# Exit status: 1 if any comparison failed (digest disagreement or a failed run), else 0.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKLOADS=${WORKLOADS:-"nexmark ysb"}
ENGINES=${ENGINES:-weir,timely,differential,flink}
WORKERS=${WORKERS:-"1 2"}
SOURCES=${SOURCES:-"generate replay"}
EVENTS=${EVENTS:-10000000}
RUNS=${RUNS:-5}
NEXMARK_QUERIES=${NEXMARK_QUERIES:-all}
OUT=${OUT:-bench-out}
STEPS=${STEPS:-all}
MODE=${MODE:-burst}
STEADY_SPAN_S=${STEADY_SPAN_S:-200}
case $MODE in
    burst) EVENT_RATE=10000000; SUFFIX="" ;;
    steady) EVENT_RATE=$((EVENTS / STEADY_SPAN_S)); SUFFIX="-steady" ;;
    *) echo "MODE is burst or steady (got '$MODE')" >&2; exit 2 ;;
esac

if [[ -z "${WEIR:-}" ]]; then
    echo "==> cargo build --release -p weir-tui" >&2
    cargo build --release --locked -p weir-tui >&2
    WEIR=target/release/weir
fi

mkdir -p "$OUT"
# The catalog: queries, their baselines, which engines run them.
"$WEIR" list --format json >"$OUT/catalog.json"
catalog() { python3 -c "import json, sys; c = json.load(open('$OUT/catalog.json')); $1" "${@:2}"; }
status=0
for workload in $WORKLOADS; do
    queries=all
    if [[ $workload == nexmark ]]; then queries=$NEXMARK_QUERIES; fi
    # The workload's generator-only baselines (queries that emit nothing).
    baselines=$(catalog "print(' '.join(q['name'] for q in c['queries'] \
        if q['workload'] == sys.argv[1] and q['output'] == 'none'))" "$workload")
    for source in $SOURCES; do
        for workers in $WORKERS; do
            dir="$OUT/$workload-$source-w$workers$SUFFIX"
            [[ $STEPS == table ]] && continue
            if [[ $STEPS == all ]]; then
                echo "==> $workload $source, $workers worker(s): $ENGINES on $queries" >&2
                echo "$(date -u +%FT%TZ) $dir: load average $(cut -d' ' -f1-3 /proc/loadavg)" \
                    >>"$OUT/load.txt"
                if ! "$WEIR" compare "$workload" --query "$queries" --engines "$ENGINES" \
                    --runs "$RUNS" --workers "$workers" --events "$EVENTS" --source "$source" \
                    --event-rate "$EVENT_RATE" --out "$dir" --no-tui --color never \
                    >"$dir.verdict.txt"; then
                    echo "    comparison FAILED (see $dir.verdict.txt)" >&2
                    status=1
                fi
            fi
            for base in $baselines; do
                echo "==> generator-only baseline $base: $workload $source, $workers worker(s)" >&2
                if ! "$WEIR" run "$workload" --query "$base" --engine weir --workers "$workers" \
                    --events "$EVENTS" --event-rate "$EVENT_RATE" --source "$source" --no-tui \
                    --json "$dir.$base.json" \
                    >/dev/null 2>"$dir.$base.err"; then
                    echo "    no generator-only baseline: $(head -n 1 "$dir.$base.err")" >&2
                    rm -f "$dir.$base.json"
                fi
            done
        done
    done
done

python3 - "$OUT" >"$OUT/RESULTS.md" <<'PY'
import glob, json, os, sys

out = sys.argv[1]
with open(os.path.join(out, "catalog.json")) as f:
    catalog = json.load(f)
# The baseline each query is set against, by (workload, query): the catalog's.
baseline_of = {(q["workload"], q["name"]): q["baseline"] for q in catalog["queries"]}

def si(x):
    for div, unit in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if x >= div:
            return f"{x / div:.3g}{unit}"
    return f"{x:.3g}"

rows = []
machine = versions = command = None
for path in sorted(glob.glob(os.path.join(out, "*", "report.json"))):
    with open(path) as f:
        report = json.load(f)
    bases = {}
    for base in {b for b in baseline_of.values() if b}:
        base_path = os.path.dirname(path) + f".{base}.json"
        if os.path.exists(base_path):
            with open(base_path) as f:
                bases[base] = json.load(f).get("throughput_eps")
    plan = report["plan"]
    if report["runs"]:
        machine = report["runs"][0]["machine"]
        versions = report["runs"][0]["versions"]
    for q in report["summary"]["queries"]:
        engines = {e["engine"]: e for e in q["engines"]}
        # The baseline whose source generates what the query reads (None: no baseline matches).
        base = baseline_of.get((plan["workload"], q["query"]))
        ceiling = q.get("ceiling")
        if ceiling:
            # Measured beside the engines in every round (weir compare): memory-read or
            # generator-only.
            rows.append((plan, q, engines, (ceiling["throughput_eps"]["median"], ceiling["kind"])))
        else:
            gen = bases.get(base) if base else None
            rows.append((plan, q, engines, (gen, "generator-only") if gen else None))

engines = []
for _, _, es, _ in rows:
    for name in es:
        if name not in engines:
            engines.append(name)

print("| workload | query | source | workers | event rate | " + " | ".join(f"{e} (ev/s)" for e in engines)
      + " | weir vs others | ceiling | weir / ceiling | window closings | digests |")
print("|---|---|---|---:|---:|" + "---:|" * len(engines) + "---|---:|---:|---:|---|")
for plan, q, es, ceiling in rows:
    gen, kind = ceiling if ceiling else (None, None)
    cells = []
    for e in engines:
        s = es.get(e)
        cells.append("n/a" if s is None else
                     f"{si(s['throughput_eps']['median'])} ({si(s['throughput_eps']['min'])}–{si(s['throughput_eps']['max'])})")
    ratios = []
    for r in q["ratios"]:
        if "weir" not in (r["faster"], r["slower"]):
            continue
        other = r["slower"] if r["faster"] == "weir" else r["faster"]
        if r["too_close"]:
            ratios.append(f"≈ {other}")
        elif r["faster"] == "weir":
            ratios.append(f"{r['ratio']['median']:.2f}× ± {r['plus_minus']:.2f} vs {other}")
        else:
            ratios.append(f"{other} {r['ratio']['median']:.2f}× faster")
    weir = es.get("weir")
    eff = f"{weir['throughput_eps']['median'] / gen:.0%}" if (weir and gen) else "n/a"
    digest = "agree" if q["digest"]["agree"] else ("DISAGREE" if q["digest"]["comparable"] else "n/c")
    closings = q.get("window_closings")
    print(f"| {plan['workload']} | {q['query']} | {plan['source']} | {plan['workers']} | {si(plan['event_rate'])}/s | "
          + " | ".join(cells)
          + f" | {'; '.join(ratios) or 'n/a'} | {si(gen) + ' ev/s (' + kind + ')' if gen else 'n/a'} | {eff}"
          + f" | {'n/a' if closings is None else closings} | {digest} |")

print()
print("Medians over the measured runs with (min–max); ratios are computed within each round, then "
      "their median is taken (`weir compare`); ≈ means too close to call.")
if rows:
    plan = rows[0][0]
    print(f"{plan['events']:,} events per run, {plan['runs']} runs per engine after "
          f"{plan['warmup_runs']} warm-up, round-robin.")
if machine:
    print(f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GiB, {machine['os']}.")
if versions:
    print("Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items() if v) + ".")
load = os.path.join(out, "load.txt")
if os.path.exists(load):
    with open(load) as f:
        avgs = [float(l.split("load average ")[1].split()[0]) for l in f if "load average" in l]
    if avgs:
        print(f"Load average (1 min) at the start of each comparison: {min(avgs):.2f} to {max(avgs):.2f} ({load}).")
print("Reproduce with `scripts/bench.sh`; every comparison's files are in `bench-out/`.")
PY

cat "$OUT/RESULTS.md"
exit $status
