#!/usr/bin/env bash
# record-bench.sh BUILD_DIR - what `lockgraph record` costs: bench/lockbench under `lockgraph
# run` (the runtime without recording) and under `lockgraph record` (the same runtime, every
# lock event written to a trace), ns per lock+unlock pair and their ratio; then, for each
# recorded run, the trace's size per million events and the recording throughput (events
# per second of the recorded span, all threads). Figures, not assertions (shared machine:
# lockbench keeps the best of five runs for the uncontended cases). lockbench runs 1/10 of
# its usual iterations here (SCALE 10) so the traces stay below 100 MB.
set -u
BUILD=${1:-build}
BIN=$BUILD/bin
LG=$BIN/lockgraph
BENCH=$BIN/lockbench
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
SCALE=10

[ -x "$BENCH" ] && [ -x "$LG" ] || { echo "record-bench: build first ($BENCH, $LG)" >&2; exit 1; }

echo "== lock+unlock pairs (ns per pair): lockgraph run vs lockgraph record"
printf "%-34s %9s %9s %7s %14s %14s\n" "case" "run" "record" "ratio" "MB/M events" "M events/s"
for m in 1t 2t d2 d8 c2 c4; do
  case $m in
    1t) what="1 thread, depth 1";; 2t) what="2 threads, own lock each";;
    d2) what="1 thread, nested depth 2";; d8) what="1 thread, nested depth 8";;
    c2) what="2 threads, one mutex (contended)";; c4) what="4 threads, one mutex (contended)";;
  esac
  run=$("$LG" run -- "$BENCH" $m $SCALE)
  rec=$("$LG" record -o "$TMP/t" -- "$BENCH" $m $SCALE 2>/dev/null)
  "$LG" report -f json --no-symbols --max-waits 1 "$TMP/t" >"$TMP/r.json" 2>/dev/null
  read -r mb evs < <(python3 -c '
import json, os, sys
r = json.load(open(sys.argv[1])); n = r["events"]; size = os.path.getsize(sys.argv[2])
print("%.2f %.1f" % (size / n, n / (r["duration_ns"] / 1e9) / 1e6) if n else "- -")' "$TMP/r.json" "$TMP/t")
  ratio=$(awk -v a="$rec" -v b="$run" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "-" }')
  printf "%-34s %9s %9s %7s %14s %14s\n" "$what" "$run" "$rec" "$ratio" "$mb" "$evs"
  rm -f "$TMP/t"
done
echo "(MB per million events = trace bytes / events; M events/s = events / recorded span)"
# The floor: a pair records two events, each stamped with one clock read, and back-to-back
# reads cannot go faster than one per `clock` ns; everything else can at best overlap them.
clk=$("$BENCH" clock)
run1=$("$LG" run -- "$BENCH" 1t $SCALE)
awk -v c="$clk" -v r="$run1" 'BEGIN { printf "clock read (lg_trace_tick): %.2f ns; two per pair: a recorded pair takes at least %.2f ns = %.2fx of run (%.2f ns), with all else free\n", c, 2 * c, 2 * c / r, r }'
