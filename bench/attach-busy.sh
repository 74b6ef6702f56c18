#!/usr/bin/env bash
# attach-busy.sh BUILD - `lockgraph attach` on a busy server: 128 threads that compute and
# sleep for microseconds in turn (never blocked for long, mostly on a CPU) plus an ABBA
# deadlocked pair (`hang abba --busy 128`). Reports the whole attach's wall time and how long
# the target was stopped (from the verdict line), median of 5. Nothing may wait on a running
# thread before the stop (its system-call state is read from registers once stopped), so this
# stays well under a second. Figures only: nothing is asserted. LG_BENCH_BUSY sets the count.
# The target runs at nice 19 so the bench does not crowd out other work on the machine; the
# scheduler still keeps its threads on the CPUs whenever they are free.
# Call from `make bench`: bash bench/attach-busy.sh $(BUILD)
set -u
BUILD=${1:-build}
LG=$BUILD/bin/lockgraph
HANG=$BUILD/bin/hang
N=${LG_BENCH_BUSY:-128}
TMP=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill -9 $PID 2>/dev/null; rm -rf "$TMP"' EXIT

nice -n 19 "$HANG" abba --busy "$N" >"$TMP/out" 2>&1 &
PID=$!
disown "$PID"
for i in $(seq 200); do grep -q ready "$TMP/out" && break; sleep 0.05; done
for i in $(seq 200); do   # every thread created (busy ones, the pair, main)
  [ "$(ls /proc/$PID/task 2>/dev/null | wc -l)" -ge $((N + 3)) ] && break
  sleep 0.05
done
sleep 0.5   # the pair settles into its deadlock

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: >"$TMP/total"; : >"$TMP/stopped"
for i in 1 2 3 4 5; do
  t0=$(date +%s%N)
  "$LG" attach "$PID" --max-frames 1 >"$TMP/report" 2>&1
  echo $(( ($(date +%s%N) - t0) / 1000000 )) >>"$TMP/total"
  sed -n 's/.*stopped for \([0-9.]*\) ms.*/\1/p' "$TMP/report" | head -1 >>"$TMP/stopped"
done
threads=$(sed -n 's/.*), \([0-9]*\) threads:.*/\1/p' "$TMP/report" | head -1)
found=$(sed -n 's/.* threads: \([^;]*\);.*/\1/p' "$TMP/report" | head -1)
echo "attach-busy: $threads threads ($N busy), $found; total $(median <"$TMP/total") ms, target stopped $(median <"$TMP/stopped") ms (median of 5)"
