#!/usr/bin/env bash
# report-bench.sh BUILD_DIR [TRACE] - what `lockgraph report` takes for a large trace: wall
# time, CPU time (user + system: the steadier figure on a shared machine) and peak memory
# (/usr/bin/time -v), for text, JSON and the Chrome export. Without TRACE it records one:
# bench/serverbench (8 threads, 10,000 object locks) under `lockgraph record --all-events`
# for BIG_SECONDS (default 1: about 60-75 MB here). The report streams the trace (it is never
# held in memory), so memory should stay flat as the trace grows; the aim (issue 18) is a
# 60 MB trace in under 2 s and 200 MB. Figures, not assertions.
set -u
BUILD=${1:-build}
LG=$BUILD/bin/lockgraph
SERVER=$BUILD/bin/serverbench
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
SECS=${BIG_SECONDS:-1}
[ -x "$LG" ] && [ -x "$SERVER" ] || { echo "report-bench: build first ($LG, $SERVER)" >&2; exit 1; }

TRACE=${2:-}
if [ -z "$TRACE" ]; then
  TRACE=$TMP/big
  "$LG" record --all-events -o "$TRACE" -- "$SERVER" 8 10000 "$SECS" >/dev/null 2>&1
fi
mb=$(python3 -c 'import os,sys; print("%.1f" % (os.path.getsize(sys.argv[1]) / 1e6))' "$TRACE")
events=$("$LG" report -f json --no-symbols --max-waits 1 "$TRACE" 2>/dev/null |
         python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
echo "== report of a large trace: $mb MB, $events events (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
printf "%-32s %10s %10s %10s\n" "how" "wall" "cpu s" "peak MB"
run() {
  local what=$1; shift
  /usr/bin/time -v "$LG" report "$@" "$TRACE" >/dev/null 2>"$TMP/time"
  awk -v w="$what" -F': ' '/Elapsed \(wall clock\)/ { wall = $2 } /User time/ { u = $2 }
    /System time/ { s = $2 } /Maximum resident set size/ { m = $2 }
    END { printf "%-32s %10s %10.2f %10.0f\n", w, wall, u + s, m / 1024 }' "$TMP/time"
}
run "text --no-symbols" -f text --no-symbols
run "json --no-symbols" -f json --no-symbols
run "chrome --no-symbols" -f chrome --no-symbols -o "$TMP/c.json"
run "text (symbolized)" -f text
