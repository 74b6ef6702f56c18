#!/usr/bin/env bash
# run.sh BUILD_DIR - `make bench`: lock+unlock cost bare, under lockgraph, under
# ThreadSanitizer (the same source rebuilt with clang -fsanitize=thread) and under Helgrind,
# then contended throughput, then real programs (pigz, memcached) under `lockgraph run`.
# Figures, not assertions: the machine is shared, so every uncontended figure is the best of
# five runs (lockbench does that internally).
set -u
BUILD=${1:-build}
BIN=$BUILD/bin
LIB=$(realpath "$BUILD/lib/liblockgraph.so")
LG=$BIN/lockgraph
BENCH=$BIN/lockbench
SRC=$(dirname "$0")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; [ -n "${MCPID:-}" ] && kill $MCPID 2>/dev/null' EXIT

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "-") printf "%.1fx", a / b; else printf "-" }'; }

TSAN=
if command -v clang >/dev/null; then
  clang -O2 -g -fsanitize=thread -pthread -I"$SRC/../src" "$SRC/lockbench.c" -o "$TMP/lockbench-tsan" 2>/dev/null && TSAN=$TMP/lockbench-tsan
fi
HG=
command -v valgrind >/dev/null && HG=1

echo "== uncontended lock+unlock pairs (ns per pair; ratio to the bare calls in the same run)"
printf "%-34s %9s %18s %18s %20s\n" "case" "bare" "lockgraph" "tsan" "helgrind"
for m in 1t 2t d2 d8 1m; do
  case $m in
    1t) what="1 thread, depth 1";; 2t) what="2 threads, own lock each, depth 1";;
    d2) what="1 thread, nested depth 2";; d8) what="1 thread, nested depth 8";;
    1m) what="1M distinct locks, steady state";;
  esac
  bare=$("$BENCH" $m)
  lg=$(LD_PRELOAD=$LIB "$BENCH" $m)
  ts=-; [ -n "$TSAN" ] && ts=$(TSAN_OPTIONS=report_signal_unsafe=0 "$TSAN" $m 2>/dev/null)
  hg=-; [ -n "$HG" ] && hg=$(valgrind --tool=helgrind -q "$BENCH" $m 400 2>/dev/null)
  printf "%-34s %9s %10s (%5s) %10s (%5s) %12s (%5s)\n" "$what" "$bare" "$lg" "$(ratio "$lg" "$bare")" \
    "$ts" "$(ratio "$ts" "$bare")" "$hg" "$(ratio "$hg" "$bare")"
done
echo "(helgrind runs 1/400 of the iterations; its figure is per pair all the same)"

echo
echo "== contended: N threads on one mutex (ns per lock+unlock, all threads; ratio to bare)"
printf "%-34s %9s %18s\n" "case" "bare" "lockgraph"
for m in c2 c4 c8; do
  bare=$("$BENCH" $m); lg=$(LD_PRELOAD=$LIB "$BENCH" $m)
  printf "%-34s %9s %10s (%5s)\n" "${m#c} threads" "$bare" "$lg" "$(ratio "$lg" "$bare")"
done

echo
echo "== waits that block: one forced wait per round, best of 3 (wall ns and CPU ns of all threads per wait)"
printf "%-30s %16s %22s %14s\n" "case" "bare wall/cpu" "lockgraph wall/cpu" "extra cpu"
WAIT=$BIN/waitbench
best_of3() {   # best_of3 CMD...: the "wall cpu" line with the least CPU of three runs
  for _ in 1 2 3; do "$@"; done | sort -n -k2 | head -n 1
}
for m in mutex rwlock cond; do
  read -r bw bc < <(best_of3 "$WAIT" $m)
  read -r lw lc < <(best_of3 env LD_PRELOAD="$LIB" "$WAIT" $m)
  case $m in
    mutex) what="pthread_mutex_lock waits";; rwlock) what="pthread_rwlock_wrlock waits";;
    cond) what="pthread_cond_wait ping-pong";;
  esac
  printf "%-30s %16s %22s %11s ns\n" "$what" "$bw/$bc" "$lw/$lc ($(ratio "$lc" "$bc"))" "$((lc - bc))"
done

findings() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(len(r['findings']), 'findings,', r['defects'], 'defects')" "$1" 2>/dev/null || echo "no report"; }
secs() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); awk -v n=$((e - s)) 'BEGIN { printf "%.2f", n / 1e9 }'; }

echo
echo "== real programs"
if command -v pigz >/dev/null; then
  # 96 MB of compressible text.
  python3 -c "
import random, sys
random.seed(1)
words = [''.join(random.choice('abcdefghij') for _ in range(random.randint(2, 9))) for _ in range(5000)]
out = sys.stdout
for _ in range(1200000): out.write(' '.join(random.choice(words) for _ in range(12)) + '\n')
" >"$TMP/data.txt"
  bare=$(secs pigz -p 2 -k -f "$TMP/data.txt")
  rm -f "$TMP/data.txt.gz"
  lg=$(secs "$LG" run --json "$TMP/pigz.json" -- pigz -p 2 -k -f "$TMP/data.txt")
  printf "pigz -p 2, %s MB: bare %s s, lockgraph %s s (%s), %s\n" \
    $(( $(stat -c %s "$TMP/data.txt") / 1000000 )) "$bare" "$lg" "$(ratio "$lg" "$bare")" "$(findings "$TMP/pigz.json")"
else
  echo "pigz: not installed (LG_DEPS_BENCH=1 scripts/deps.sh)"
fi

SLAP=$(command -v memcslap || command -v memcaslap || true)
if command -v memcached >/dev/null && [ -n "$SLAP" ]; then
  mc_run() {   # mc_run LABEL [lockgraph run ...]: memcached with 4 threads, a load of 200k ops
    local port=$((20000 + RANDOM % 20000))
    "$@" memcached -u nobody -t 4 -l 127.0.0.1 -p $port -U 0 >/dev/null 2>&1 &
    MCPID=$!
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
    local s e
    s=$(date +%s%N)
    timeout 120 "$SLAP" --servers=127.0.0.1:$port --concurrency=8 --execute-number=25000 >/dev/null 2>&1
    e=$(date +%s%N)
    kill -TERM $MCPID 2>/dev/null; wait $MCPID 2>/dev/null; MCPID=
    awk -v n=$((e - s)) 'BEGIN { printf "%.0f", 200000 / (n / 1e9) }'
  }
  chmod 755 "$TMP"; : >"$TMP/mc.json"; chmod 666 "$TMP/mc.json"   # memcached runs as nobody
  bare=$(mc_run)
  lg=$(mc_run "$LG" run --json "$TMP/mc.json" --)
  printf "memcached -t 4 + %s (8 clients, 200k ops, loopback): bare %s ops/s, lockgraph %s ops/s (%s of bare), %s\n" \
    "$(basename "$SLAP")" "$bare" "$lg" "$(awk -v a="$lg" -v b="$bare" 'BEGIN { printf "%.0f%%", 100 * a / b }')" "$(findings "$TMP/mc.json")"
else
  echo "memcached/memcslap: not installed (LG_DEPS_BENCH=1 scripts/deps.sh)"
fi
