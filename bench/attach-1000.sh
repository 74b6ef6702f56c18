#!/usr/bin/env bash
# attach-1000.sh BUILD - how long `lockgraph attach` takes on a process with 1,000 threads
# (an ABBA deadlock plus 1,000 idle threads), and how long the target is stopped; the same for
# `lockgraph dump` and `lockgraph core` on the dump. Median of 5 runs each. Figures only:
# nothing is asserted. Call from `make bench`: bash bench/attach-1000.sh $(BUILD)
set -u
BUILD=${1:-build}
LG=$BUILD/bin/lockgraph
HANG=$BUILD/bin/hang
N=${LG_BENCH_THREADS:-1000}
TMP=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill -9 $PID 2>/dev/null; rm -rf "$TMP"' EXIT

"$HANG" abba --idle "$N" >"$TMP/out" 2>&1 &
PID=$!
disown "$PID"
for i in $(seq 200); do grep -q ready "$TMP/out" && break; sleep 0.05; done
# wait until every thread is parked (no "running" in /proc)
for i in $(seq 200); do
  n=$(cat /proc/$PID/task/*/syscall 2>/dev/null | grep -vc '^running' || true)
  [ "$n" -ge $((N + 3)) ] && break
  sleep 0.05
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

: >"$TMP/total"; : >"$TMP/stopped"
for i in 1 2 3 4 5; do
  t0=$(date +%s%N)
  "$LG" attach "$PID" --max-frames 1 >"$TMP/report" 2>&1
  ms "$t0" >>"$TMP/total"
  sed -n 's/.*stopped for \([0-9.]*\) ms.*/\1/p' "$TMP/report" | head -1 >>"$TMP/stopped"
done
threads=$(sed -n 's/.*), \([0-9]*\) threads:.*/\1/p' "$TMP/report" | head -1)
echo "attach: $threads threads, total $(median <"$TMP/total") ms, target stopped $(median <"$TMP/stopped") ms (median of 5)"

: >"$TMP/total"; : >"$TMP/stopped"
for i in 1 2 3 4 5; do
  t0=$(date +%s%N)
  "$LG" dump "$PID" -o "$TMP/core" 2>"$TMP/dump.err"
  ms "$t0" >>"$TMP/total"
  sed -n 's/.*stopped for \([0-9.]*\) ms.*/\1/p' "$TMP/dump.err" >>"$TMP/stopped"
done
echo "dump:   total $(median <"$TMP/total") ms, target stopped $(median <"$TMP/stopped") ms, core $(du -k "$TMP/core" | cut -f1) KiB on disk"

: >"$TMP/total"
for i in 1 2 3 4 5; do
  t0=$(date +%s%N)
  "$LG" core "$TMP/core" "$HANG" --max-frames 1 >/dev/null 2>&1
  ms "$t0" >>"$TMP/total"
done
echo "core:   total $(median <"$TMP/total") ms (median of 5)"
