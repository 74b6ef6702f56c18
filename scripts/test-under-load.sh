#!/usr/bin/env bash
# test-under-load.sh - the whole test suite, N times in a row, while CPU hogs run beside it.
#
# CI machines are shared and loaded; a test whose result depends on timing fails there sooner
# or later. This is the check that it does not: by default 5 rounds of `make test` with two
# busy loops (one per core of a 2-core machine) competing for the CPUs.
#
#   bash scripts/test-under-load.sh [ROUNDS] [HOGS]      (BUILD=dir as for make)
#
# Exit 0 only when every round passed; the failing rounds' logs are kept and named.
set -uo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
hogs=${2:-2}
build=${BUILD:-build}
case "$rounds$hogs" in *[!0-9]*|'') echo "usage: $0 [ROUNDS] [HOGS]" >&2; exit 2 ;; esac

make BUILD="$build" all >/dev/null || { echo "test-under-load: the build failed" >&2; exit 1; }

pids=()
stop_hogs() { [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
trap stop_hogs EXIT
for _ in $(seq "$hogs"); do
  sh -c 'while :; do :; done' &
  pids+=($!)
done

logdir=$(mktemp -d "${TMPDIR:-/tmp}/lg-load.XXXXXX")
failed=0
for r in $(seq "$rounds"); do
  log="$logdir/round-$r.log"
  if (cd "$build" && ctest --output-on-failure -j "$(nproc)" --timeout 300) >"$log" 2>&1; then
    echo "round $r/$rounds: $(grep -E 'tests passed' "$log" | tail -n 1)"
    rm -f "$log"
  else
    failed=$((failed + 1))
    echo "round $r/$rounds: FAILED ($(grep -E '^[[:space:]]+[0-9]+ - ' "$log" | tr -s ' ' | tr '\n' ';')) log: $log"
  fi
done
echo "under $hogs CPU hogs: $((rounds - failed)) passed, $failed failed"
[ "$failed" -eq 0 ] && rmdir "$logdir" 2>/dev/null
[ "$failed" -eq 0 ]
