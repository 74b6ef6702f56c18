#!/usr/bin/env bash
# annobench.sh BUILD_DIR [RUNS] - `make bench`: an uncontended lock/unlock pair of an
# annotated spinlock (lockgraph.h's lg_mutex_*) and of a pthread mutex, bare and under the
# runtime. Each run of annobench is the best of its three rounds; the script makes RUNS
# runs (default 5) and prints the best and the median of them, "best / median" ns per pair.
# Figures, not assertions.
set -u
BUILD=${1:-build}
RUNS=${2:-5}
LIB=$(realpath "$BUILD/lib/liblockgraph.so")
B=$BUILD/bin/annobench
# best / median of the numbers on stdin
stat() { sort -g | awk '{v[NR]=$1} END {printf "%.0f / %.0f", v[1], v[int((NR+1)/2)]}'; }
echo "== annotated locks (ns per uncontended lock/unlock pair, best / median of $RUNS runs)"
printf "%-8s %16s %16s %16s %16s\n" "threads" "annotated bare" "annotated lg" "pthread bare" "pthread lg"
for n in 1 2; do
  ab=() al=() pb=() pl=()
  for ((i = 0; i < RUNS; i++)); do
    read -r _ a _ p < <("$B" "$n" 1000000)
    ab+=("$a") pb+=("$p")
    read -r _ a _ p < <(LD_PRELOAD=$LIB "$B" "$n" 1000000)
    al+=("$a") pl+=("$p")
  done
  printf "%-8s %16s %16s %16s %16s\n" "$n" "$(printf '%s\n' "${ab[@]}" | stat)" \
    "$(printf '%s\n' "${al[@]}" | stat)" "$(printf '%s\n' "${pb[@]}" | stat)" \
    "$(printf '%s\n' "${pl[@]}" | stat)"
done
