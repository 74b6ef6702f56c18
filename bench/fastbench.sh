#!/usr/bin/env bash
# fastbench.sh BUILD_DIR [ROUNDS] - the uncontended fast path (issue 15's target: 1.3x of the
# bare pair): bench/lockbench's modes bare and under the runtime, alternated ROUNDS times
# (default 7) in the same run; best and median of the rounds (each round is itself lockbench's
# best of five), ns per lock+unlock pair, and the ratios of the bests and of the medians.
# Figures, not assertions (a shared machine).
set -u
BUILD=${1:-build}
ROUNDS=${2:-7}
LIB=$(realpath "$BUILD/lib/liblockgraph.so")
BENCH=$BUILD/bin/lockbench
stats() {   # stats N...: "best median"
  printf "%s\n" "$@" | sort -g | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f %.2f", v[1], m }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "-" }'; }
echo "== uncontended lock+unlock pairs, ns per pair: best / median of $ROUNDS rounds, bare and lockgraph alternated"
printf "%-34s %15s %15s %8s %8s\n" "case" "bare" "lockgraph" "best" "median"
for m in 1t 2t d2 d8 1m; do
  case $m in
    1t) what="1 thread, depth 1";; 2t) what="2 threads, own lock each, depth 1";;
    d2) what="1 thread, nested depth 2";; d8) what="1 thread, nested depth 8";;
    1m) what="1M distinct locks, steady state";;
  esac
  b=(); l=()
  for _ in $(seq "$ROUNDS"); do
    b+=("$("$BENCH" $m)")
    l+=("$(LD_PRELOAD=$LIB "$BENCH" $m)")
  done
  read -r bb bm < <(stats "${b[@]}")
  read -r lb lm < <(stats "${l[@]}")
  printf "%-34s %7s / %5s %7s / %5s %8s %8s\n" "$what" "$bb" "$bm" "$lb" "$lm" "$(ratio "$lb" "$bb")" "$(ratio "$lm" "$bm")"
done

# Instructions per pair, the steadier figure on a loaded machine (valgrind's callgrind: the
# exact count, no timing): lockbench MODE 100 under callgrind, the self cost of every
# function of glibc's mutex lock and unlock (bare) or of the interposed wrappers and their
# out-of-line halves (lockgraph, which include glibc's work they replicate), over the pairs
# made (2t: 1,000,000; 1m: 10,000 locks, 6 passes, its first pass's slow-path work left out).
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null || exit 0
TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT
cg_pairs() {   # cg_pairs MODE PRELOAD: instructions per pair
  local m=$1 pre=$2 pairs=1020001 re
  [ "$m" = 1m ] && pairs=60000
  [ "$m" = 2t ] && pairs=1000000
  if [ -n "$pre" ]; then
    re=':(pthread_mutex_(un)?lock|mutex_[a-z_]+)( |$)'
    LD_PRELOAD=$pre valgrind --tool=callgrind --callgrind-out-file="$TMPD/cg" "$BENCH" "$m" 100 >/dev/null 2>&1
  else
    re=':(pthread_mutex_(un)?lock(@@GLIBC[0-9_.]*)?|__pthread_mutex_(un)?lock[a-z_]*)( |$)'
    valgrind --tool=callgrind --callgrind-out-file="$TMPD/cg" "$BENCH" "$m" 100 >/dev/null 2>&1
  fi
  callgrind_annotate --auto=no "$TMPD/cg" 2>/dev/null |
    awk -v re="$re" -v n="$pairs" '$0 ~ "^ *[0-9,]+ .*" re { v = $1; gsub(",", "", v); s += v } END { printf "%.1f", s / n }'
}
echo "== instructions per lock+unlock pair (callgrind, exact: not timing)"
printf "%-34s %10s %10s %8s\n" "case" "bare" "lockgraph" "ratio"
for m in 1t 2t d2 d8 1m; do
  case $m in
    1t) what="1 thread, depth 1";; 2t) what="2 threads, own lock each, depth 1";;
    d2) what="1 thread, nested depth 2";;
    d8) what="1 thread, nested depth 8";; 1m) what="1M distinct locks (10,000 here)";;
  esac
  b=$(cg_pairs $m "")
  l=$(cg_pairs $m "$LIB")
  printf "%-34s %10s %10s %8s\n" "$what" "$b" "$l" "$(ratio "$l" "$b")"
done
