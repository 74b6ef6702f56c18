#!/usr/bin/env bash
# record-bench.sh BUILD_DIR [ROUNDS] - what `lockgraph record` costs, writes and takes to report.
#  1. bench/lockbench bare, under `lockgraph run` (the runtime without recording), `lockgraph
#     record` (by default: uncontended acquisitions counted, 1 hold in 256 timed) and `lockgraph
#     record --all-events` (every event stamped and written), alternated ROUNDS times (default
#     5) in the same run: best and median ns per lock+unlock pair of each (each round is
#     lockbench's own best of five), the ratios of record and --all-events to run (of the bests
#     and of the medians), and the last round's traces' events and size.
#  2. bench/serverbench, a server-like load (THREADS threads, LOCKS per-object mutexes, some
#     shared ones contended), the same four ways alternated ROUNDS times: requests per CPU
#     second of the serving threads (best and median; their own CPU clocks, what a shared
#     machine distorts least), wall requests per second (median), and the trace bytes and
#     events per second of the last round.
#  3. `lockgraph report` of a large --all-events trace of the same load (about 60 MB): wall
#     time, CPU time and peak memory (/usr/bin/time -v), text, JSON and Chrome
#     (bench/report-bench.sh).
# Figures, not assertions (a shared machine). lockbench runs 1/10 of its usual iterations
# (SCALE 10) so the --all-events traces stay below 100 MB.
set -u
BUILD=${1:-build}
ROUNDS=${2:-${RECORD_ROUNDS:-5}}
BIN=$BUILD/bin
LG=$BIN/lockgraph
BENCH=$BIN/lockbench
SERVER=$BIN/serverbench
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
SCALE=10
THREADS=${SERVER_THREADS:-8}
LOCKS=${SERVER_LOCKS:-10000}
SECS=${SERVER_SECONDS:-3}
BIG_SECS=${BIG_SECONDS:-2}

[ -x "$BENCH" ] && [ -x "$LG" ] && [ -x "$SERVER" ] || { echo "record-bench: build first ($BENCH, $SERVER, $LG)" >&2; exit 1; }

# events and bytes of a trace: "EVENTS MB"
trace_facts() {
  "$LG" report -f json --no-symbols --max-waits 1 "$1" >"$TMP/r.json" 2>/dev/null
  python3 -c '
import json, os, sys
r = json.load(open(sys.argv[1])); print(r["events"], "%.2f" % (os.path.getsize(sys.argv[2]) / 1e6))' "$TMP/r.json" "$1"
}
# stats ORDER N...: "best median" (ORDER min: the smallest is best; max: the largest)
stats() {
  local o=$1; shift
  printf "%s\n" "$@" | sort -g | awk -v o="$o" '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf (o == "min" ? "%.2f %.2f" : "%.0f %.0f"), (o == "min" ? v[1] : v[NR]), m }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "-" }'; }
# one measurement: HOW (bare run record all) then the program and its arguments
under() {
  local how=$1; shift
  case $how in
    bare) "$@";;
    run) "$LG" run -- "$@";;
    record) "$LG" record -o "$TMP/t" -- "$@" 2>/dev/null;;
    all) "$LG" record --all-events -o "$TMP/t" -- "$@" 2>/dev/null;;
  esac
}

echo "== 1. lock+unlock pairs, ns per pair: best / median of $ROUNDS rounds, bare, run, record and record --all-events alternated"
printf "%-32s %15s %15s %15s %15s %13s %13s %9s %9s\n" "case" "bare" "run" "record" "all-events" \
  "record/run" "all/run" "events" "events(a)"
for m in 1t 2t d2 d8 1m; do
  case $m in
    1t) what="1 thread, depth 1";; 2t) what="2 threads, own lock each";;
    d2) what="1 thread, nested depth 2";; d8) what="1 thread, nested depth 8";;
    1m) what="1 thread, 100,000 locks";;
  esac
  b=(); r=(); c=(); a=()
  for k in $(seq "$ROUNDS"); do
    b+=("$(under bare "$BENCH" $m $SCALE)")
    r+=("$(under run "$BENCH" $m $SCALE)")
    c+=("$(under record "$BENCH" $m $SCALE)")
    [ "$k" = "$ROUNDS" ] && read -r ev _ < <(trace_facts "$TMP/t"); rm -f "$TMP/t"
    a+=("$(under all "$BENCH" $m $SCALE)")
    [ "$k" = "$ROUNDS" ] && read -r eva _ < <(trace_facts "$TMP/t"); rm -f "$TMP/t"
  done
  read -r bb bm < <(stats min "${b[@]}"); read -r rb rm_ < <(stats min "${r[@]}")
  read -r cb cm < <(stats min "${c[@]}"); read -r ab am < <(stats min "${a[@]}")
  printf "%-32s %7s / %5s %7s / %5s %7s / %5s %7s / %5s %6s/%-6s %6s/%-6s %9s %9s\n" "$what" "$bb" "$bm" "$rb" "$rm_" \
    "$cb" "$cm" "$ab" "$am" "$(ratio "$cb" "$rb")" "$(ratio "$cm" "$rm_")" "$(ratio "$ab" "$rb")" "$(ratio "$am" "$rm_")" "$ev" "$eva"
done
clk=$("$BENCH" clock)
echo "(ratios: of the bests / of the medians; clock read: $clk ns, --all-events stamps two per pair)"

echo
echo "== 2. server-like load: serverbench $THREADS threads, $LOCKS object locks, ${SECS}s, $ROUNDS rounds alternated"
printf "%-26s %23s %12s %9s %10s %10s %12s\n" "how" "req/CPU-s best / median" "vs run" "req/s" "trace MB" "MB/s" "events/s"
declare -A cpu wall
for how in bare run record all; do cpu[$how]=""; wall[$how]=""; done
for k in $(seq "$ROUNDS"); do
  for how in bare run record all; do
    read -r rq _ rc < <(under $how "$SERVER" "$THREADS" "$LOCKS" "$SECS")
    cpu[$how]+="$rc "; wall[$how]+="$rq "
    if [ "$k" = "$ROUNDS" ] && { [ $how = record ] || [ $how = all ]; }; then
      read -r ev mb < <(trace_facts "$TMP/t")
      eval "ev_$how=\$ev mb_$how=\$mb"
    fi
    rm -f "$TMP/t"
  done
done
read -r runb runm < <(stats max ${cpu[run]})
for how in bare run record all; do
  read -r cb cm < <(stats max ${cpu[$how]})
  read -r _ wm < <(stats max ${wall[$how]})
  case $how in bare) name="bare";; run) name="lockgraph run";; record) name="lockgraph record";;
    all) name="lockgraph record --all-events";; esac
  tr_mb=-; tr_s=-; tr_e=-
  if [ $how = record ] || [ $how = all ]; then
    eval "tr_mb=\$mb_$how tr_ev=\$ev_$how"
    tr_s=$(awk -v m="$tr_mb" -v s="$SECS" 'BEGIN { printf "%.3f", m / s }')
    tr_e=$(awk -v e="$tr_ev" -v s="$SECS" 'BEGIN { printf "%.0f", e / s }')
  fi
  printf "%-26s %11s / %9s %5s/%-6s %9s %10s %10s %12s\n" "$name" "$cb" "$cm" "$(ratio "$runb" "$cb")" \
    "$(ratio "$runm" "$cm")" "$wm" "$tr_mb" "$tr_s" "$tr_e"
done
echo "(vs run: run's requests per CPU second over this one's, of the bests / of the medians: the cost as a factor)"

echo
# 3. the report of a large trace of the same load: its own script (also alone: report-bench.sh)
BIG_SECONDS=$BIG_SECS bash "$(dirname "$0")/report-bench.sh" "$BUILD"
