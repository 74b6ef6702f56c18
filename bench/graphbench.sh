#!/usr/bin/env bash
# graphbench.sh BUILD_DIR - `make bench`: the cost of the lock-order analysis on programs with
# many locks (bench/graphbench.c), each bare and under the runtime in the same run, best of
# three rounds; and the number of reports for ThreadSanitizer's T19 shape (one per code path).
# Figures, not assertions (a shared machine).
set -u
BUILD=${1:-build}
LIB=$(realpath "$BUILD/lib/liblockgraph.so")
BENCH=$BUILD/bin/graphbench
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else printf "-" }'; }
best() {   # best "SECONDS RSS" of three runs of "$@"
  local b="" br=""
  for _ in 1 2 3; do
    read -r s r < <("$@")
    if [ -z "$b" ] || awk -v a="$s" -v c="$b" 'BEGIN { exit !(a < c) }'; then b=$s; br=$r; fi
  done
  echo "$b $br"
}

echo "== lock-order analysis (seconds, peak RSS; best of 3; ratio to bare in the same run)"
printf "%-58s %8s %10s %9s %10s %7s\n" "case" "bare s" "bare RSS" "lg s" "lg RSS" "ratio"
row() {
  local what=$1; shift
  read -r bs br < <(best "$BENCH" "$@")
  read -r ls lr < <(best env LD_PRELOAD="$LIB" "$BENCH" "$@")
  printf "%-58s %8s %8sKB %9s %8sKB %7s\n" "$what" "$bs" "$br" "$ls" "$lr" "$(ratio "$ls" "$bs")"
}
row "random DAG: 2,000 mutexes, 8 threads, 2,000 rounds each" dag 2000
row "Abseil windows: 131,072 mutexes, locks i..i+4" windows 1
row "TSan rwlock stress: 256 rwlocks, 8 threads, 20,000 rounds" rwstress 20000

echo "== reports per code path (ThreadSanitizer T19 shape: 45 locks nested in rotated orders)"
json=$(mktemp)
"$BUILD/bin/lockgraph" run --json "$json" -- "$BUILD/bin/rt-paths" rotated >/dev/null 2>&1
python3 - "$json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["findings"]
sets = sum(x.get("lock_sets", 1) for x in f)
print("%d report(s) for %d lock sets" % (len(f), sets))
PY
rm -f "$json"
