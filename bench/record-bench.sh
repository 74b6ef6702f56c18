#!/usr/bin/env bash
# record-bench.sh BUILD_DIR - what `lockgraph record` costs, writes and takes to report.
#  1. bench/lockbench under `lockgraph run` (the runtime without recording), `lockgraph
#     record` (by default: uncontended acquisitions counted, 1 hold in 64 timed) and `lockgraph
#     record --all-events` (every event stamped and written): ns per lock+unlock pair, the
#     ratios to run, and each trace's events and size.
#  2. bench/serverbench, a server-like load (THREADS threads, LOCKS per-object mutexes, some
#     shared ones contended): requests per second under run and record, and the trace bytes
#     per second of the run, by default and with --all-events.
#  3. `lockgraph report` of a large --all-events trace of the same load (about 60 MB): wall
#     time and peak memory (/usr/bin/time -v), text and JSON.
# Figures, not assertions (shared machine: lockbench keeps the best of five runs for the
# uncontended cases). lockbench runs 1/10 of its usual iterations (SCALE 10) so the
# --all-events traces stay below 100 MB.
set -u
BUILD=${1:-build}
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

echo "== 1. lock+unlock pairs (ns per pair): run, record (default), record --all-events"
printf "%-34s %7s %7s %7s %7s %7s %10s %9s %10s %9s\n" "case" "run" "record" "ratio" "all-ev" "ratio" \
  "events" "MB" "events(a)" "MB(a)"
for m in 1t 2t d2 d8 c2 c4; do
  case $m in
    1t) what="1 thread, depth 1";; 2t) what="2 threads, own lock each";;
    d2) what="1 thread, nested depth 2";; d8) what="1 thread, nested depth 8";;
    c2) what="2 threads, one mutex (contended)";; c4) what="4 threads, one mutex (contended)";;
  esac
  run=$("$LG" run -- "$BENCH" $m $SCALE)
  rec=$("$LG" record -o "$TMP/t" -- "$BENCH" $m $SCALE 2>/dev/null)
  read -r ev mb < <(trace_facts "$TMP/t"); rm -f "$TMP/t"
  all=$("$LG" record --all-events -o "$TMP/t" -- "$BENCH" $m $SCALE 2>/dev/null)
  read -r eva mba < <(trace_facts "$TMP/t"); rm -f "$TMP/t"
  r1=$(awk -v a="$rec" -v b="$run" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "-" }')
  r2=$(awk -v a="$all" -v b="$run" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "-" }')
  printf "%-34s %7s %7s %7s %7s %7s %10s %9s %10s %9s\n" "$what" "$run" "$rec" "$r1" "$all" "$r2" "$ev" "$mb" "$eva" "$mba"
done
clk=$("$BENCH" clock)
echo "(clock read: $clk ns; --all-events stamps two per pair)"

echo
echo "== 2. server-like load: serverbench $THREADS threads, $LOCKS object locks, ${SECS}s"
printf "%-26s %14s %14s %12s %12s %14s\n" "how" "requests/s" "pairs/s" "trace MB" "MB/s" "events/s"
read -r rq pr < <("$LG" run -- "$SERVER" "$THREADS" "$LOCKS" "$SECS")
printf "%-26s %14s %14s %12s %12s %14s\n" "lockgraph run" "$rq" "$pr" "-" "-" "-"
for how in default all; do
  opt=(); [ $how = all ] && opt=(--all-events)
  read -r rq pr < <("$LG" record "${opt[@]}" -o "$TMP/s" -- "$SERVER" "$THREADS" "$LOCKS" "$SECS" 2>/dev/null)
  read -r ev mb < <(trace_facts "$TMP/s")
  printf "%-26s %14s %14s %12s %12s %14s\n" "lockgraph record${opt[*]:+ ${opt[*]}}" "$rq" "$pr" "$mb" \
    "$(awk -v m="$mb" -v s="$SECS" 'BEGIN { printf "%.3f", m / s }')" \
    "$(awk -v e="$ev" -v s="$SECS" 'BEGIN { printf "%.0f", e / s }')"
  rm -f "$TMP/s"
done

echo
echo "== 3. report of a large trace: serverbench --all-events for ${BIG_SECS}s"
"$LG" record --all-events -o "$TMP/big" -- "$SERVER" "$THREADS" "$LOCKS" "$BIG_SECS" >/dev/null 2>&1
printf "trace: %s MB\n" "$(python3 -c 'import os,sys; print("%.1f" % (os.path.getsize(sys.argv[1]) / 1e6))' "$TMP/big")"
for f in text json; do
  /usr/bin/time -v "$LG" report -f $f --no-symbols "$TMP/big" >/dev/null 2>"$TMP/time"
  awk -v f=$f -F': ' '/Elapsed \(wall clock\)/ { w = $2 } /Maximum resident set size/ { m = $2 }
    END { printf "report -f %-5s --no-symbols: %s wall, %.0f MB peak\n", f, w, m / 1024 }' "$TMP/time"
done
/usr/bin/time -v "$LG" report "$TMP/big" >/dev/null 2>"$TMP/time"
awk -F': ' '/Elapsed \(wall clock\)/ { w = $2 } /Maximum resident set size/ { m = $2 }
  END { printf "report (text, symbolized):   %s wall, %.0f MB peak\n", w, m / 1024 }' "$TMP/time"
