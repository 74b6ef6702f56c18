#!/usr/bin/env bash
# annobench.sh BUILD_DIR - `make bench`: an uncontended lock/unlock pair of an annotated
# spinlock (lockgraph.h's lg_mutex_*) and of a pthread mutex, bare and under the runtime, in
# the same run (best of three rounds inside annobench). Figures, not assertions.
set -u
BUILD=${1:-build}
LIB=$(realpath "$BUILD/lib/liblockgraph.so")
B=$BUILD/bin/annobench
echo "== annotated locks (ns per uncontended lock/unlock pair, best of 3)"
printf "%-10s %14s %14s %14s %14s\n" "threads" "annotated bare" "annotated lg" "pthread bare" "pthread lg"
for n in 1 2; do
  read -r _ ab _ pb < <("$B" "$n" 1000000)
  read -r _ al _ pl < <(LD_PRELOAD=$LIB "$B" "$n" 1000000)
  printf "%-10s %14s %14s %14s %14s\n" "$n" "$ab" "$al" "$pb" "$pl"
done
