#!/usr/bin/env bash
# lifebench.sh BUILD_DIR - `make bench`: the cost of lock life (create/destroy churn, locks
# freed without destroy, free() of a large block, many locks held at once), each case bare
# and under the runtime in the same run. Figures, not assertions (a shared machine): the
# timed cases are the best of three rounds inside lifebench.
set -u
BUILD=${1:-build}
LIB=$(realpath "$BUILD/lib/liblockgraph.so")
BENCH=$BUILD/bin/lifebench
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else printf "-" }'; }

echo "== lock life (seconds, peak RSS; ratio to bare in the same run)"
printf "%-46s %8s %10s %9s %10s %7s\n" "case" "bare s" "bare RSS" "lg s" "lg RSS" "ratio"
row() {
  local what=$1; shift
  read -r bs br < <("$BENCH" "$@")
  read -r ls lr < <(LD_PRELOAD=$LIB "$BENCH" "$@")
  printf "%-46s %8s %8sKB %9s %8sKB %7s\n" "$what" "$bs" "$br" "$ls" "$lr" "$(ratio "$ls" "$bs")"
}
row "20M heap mutexes init+lock+destroy+free" churn 20000000
row "20M heap mutexes init+lock+free (no destroy)" freed 20000000
row "20M heap mutexes init+destroy+free" initonly 20000000
row "800 MiB block with a mutex, freed (x20)" bigfree 800
row "5,000 mutexes held at once (3 rounds)" held 5000
row "20,000 mutexes held at once (3 rounds)" held 20000
