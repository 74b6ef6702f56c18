#!/usr/bin/env bash
# fuzz.sh [SECONDS] [BUILD_DIR] - open-ended random fuzzing of the trace and core readers (the
# CTest targets run a fixed seed for a fixed count). Each target runs SECONDS (default 600)
# with a random seed, in fork mode so one crash does not end the run; crashing inputs are
# left as crash-* in fuzz-out/TARGET/. Put a crashing input, once fixed, in the target's seed
# directory (tests/trace/corpus, tests/inspect/core-corpus) so CTest keeps checking it.
set -u
SECS=${1:-600}
BUILD=${2:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "$BUILD/bin" && pwd) || { echo "fuzz.sh: no $BUILD/bin: run make first" >&2; exit 2; }
for t in fuzz-trace-reader fuzz-core-reader; do
  [ -x "$BIN/$t" ] || { echo "fuzz.sh: $BIN/$t missing (clang is needed to build it)" >&2; exit 2; }
done
out=$PWD/fuzz-out
mkdir -p "$out/trace/work" "$out/core/work" "$out/core/seeds"
"$BIN/fuzz-core-mutate" --seed "$out/core/seeds/min.core" >/dev/null
status=0
(cd "$out/trace" && "$BIN/fuzz-trace-reader" -max_total_time="$SECS" -fork=1 -ignore_crashes=1 \
   -timeout=10 -rss_limit_mb=2048 work "$ROOT/tests/trace/corpus" >log 2>&1) || status=1
(cd "$out/core" && ASAN_OPTIONS=detect_leaks=0 "$BIN/fuzz-core-reader" -max_total_time="$SECS" \
   -fork=1 -ignore_crashes=1 -timeout=10 -rss_limit_mb=2048 -max_len=65536 work seeds \
   "$ROOT/tests/inspect/core-corpus" >log 2>&1) || status=1
n=$(find "$out" -name 'crash-*' | wc -l)
echo "fuzz.sh: $n crashing input(s) under $out (logs: $out/trace/log, $out/core/log)"
[ "$n" -eq 0 ] && [ "$status" -eq 0 ]
