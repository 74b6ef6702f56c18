#!/usr/bin/env bash
# trace-bench.sh - figures for the trace writer (bench/trace-emit.c): emit cost, the uncontended
# lock path with and without recording, throughput, bytes per million events; the same emit
# and throughput with a constant instead of the clock (-DLG_TRACE_BENCH_NO_CLOCK: what the
# writer itself costs per event); and the size of a realistic trace (tests/trace/contention.c,
# if built). Builds its own binaries with -O2. Figures, not assertions.
# usage: bash bench/trace-bench.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
srcs=("$root/bench/trace-emit.c" "$root/src/trace/writer.c" "$root/src/trace/encode.c")
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -I"$root/src" "${srcs[@]}" -o "$tmp/trace-emit" -lpthread
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -DLG_TRACE_BENCH_NO_CLOCK -I"$root/src" "${srcs[@]}" \
   -o "$tmp/trace-emit-noclock" -lpthread
echo "== trace writer (bench/trace-emit.c, 10M operations; best of 3 rounds) =="
"$tmp/trace-emit" "$tmp/bench.trace" 10000000
sync   # else the first run's 160 MB, still being written back, slow the second
"$tmp/trace-emit-noclock" "$tmp/bench.trace" 10000000
if [ -x "$build/bin/trace-contention" ] && [ -x "$build/bin/lockgraph" ]; then
  echo "== a real workload (tests/trace/contention.c: 4 threads x 20000, ASan build) =="
  LOCKGRAPH_TRACE="$tmp/c.trace" "$build/bin/trace-contention" counts 4 20000 >/dev/null
  events=$("$build/bin/lockgraph" report -f json "$tmp/c.trace" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
  bytes=$(stat -c %s "$tmp/c.trace")
  python3 -c "print('trace size: %.2f MB per million events (%d events, %d bytes, with stacks)' % ($bytes / ($events / 1e6) / 1e6, $events, $bytes))"
fi
