#!/usr/bin/env bash
# graphbench.sh BUILD_DIR - `make bench`: the cost of the lock-order analysis on programs with
# many locks (bench/graphbench.c), each bare and under the runtime in the same run, best and
# median of five rounds; and the number of reports for ThreadSanitizer's T19 shape (one per
# code path). The first three rows are issue 15's programs as given: their bare times are a few
# milliseconds (thread start-up is much of them); the scaled rows do more of the same work, so
# bare takes long enough to time (windows: later passes meet only known chains).
# Figures, not assertions (a shared machine).
set -u
BUILD=${1:-build}
LIB=$(realpath "$BUILD/lib/liblockgraph.so")
BENCH=$BUILD/bin/graphbench
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else printf "-" }'; }
best() {   # "BEST_S MEDIAN_S RSS" of five runs of "$@" (RSS of the best)
  local ts=() b="" br=""
  for _ in 1 2 3 4 5; do
    read -r s r < <("$@")
    ts+=("$s")
    if [ -z "$b" ] || awk -v a="$s" -v c="$b" 'BEGIN { exit !(a < c) }'; then b=$s; br=$r; fi
  done
  echo "$b $(printf "%s\n" "${ts[@]}" | sort -g | sed -n 3p) $br"
}

echo "== lock-order analysis (seconds best / median of 5, peak RSS; ratio to bare in the same run)"
printf "%-58s %15s %9s %15s %9s %7s %7s\n" "case" "bare s" "bare RSS" "lg s" "lg RSS" "best" "median"
row() {
  local what=$1; shift
  read -r bs bm br < <(best "$BENCH" "$@")
  read -r ls lm lr < <(best env LD_PRELOAD="$LIB" "$BENCH" "$@")
  printf "%-58s %7s / %5s %7sKB %7s / %5s %7sKB %7s %7s\n" "$what" "$bs" "$bm" "$br" "$ls" "$lm" "$lr" \
    "$(ratio "$ls" "$bs")" "$(ratio "$lm" "$bm")"
}
row "random DAG: 2,000 mutexes, 8 threads, 2,000 rounds each" dag 2000
row "Abseil windows: 131,072 mutexes, locks i..i+4" windows 1
row "TSan rwlock stress: 256 rwlocks, 8 threads, 20,000 rounds" rwstress 20000
row "scaled: random DAG, 25,000 rounds each" dag 25000
row "scaled: Abseil windows, 40 passes" windows 40
row "scaled: TSan rwlock stress, 200,000 rounds" rwstress 200000

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
