#!/usr/bin/env bash
# Inconsistent order (the write-up): the demo hangs on every run. Ten runs; each must reach,
# within 20 s, the state "all files created in folder1, none moved, mover and deleter asleep
# in a futex wait", with the mover's futex inside resource2 and the deleter's inside
# resource1 (each held by the other, per __cur_writer); then SIGKILL ends it in bounded time.
# Last, SIGINT ends a hung run (no lockgraph: the default disposition).
. "$LG_SRCDIR/tests/lib/sh-harness.sh"
. "$LG_SRCDIR/demo/proc-view.sh"
demo=$LG_BIN/lockgraph-demo
n=50
hung=0

for run in $(seq 10); do
  d=$T_TMP/run$run; mkdir "$d"
  # Odd runs name the order, even runs rely on the default being the write-up's.
  args=(--files $n --writes 3 --dir "$d"); [ $((run % 2)) = 1 ] && args+=(--order inconsistent)
  "$demo" "${args[@]}" >"$T_TMP/out$run" 2>"$T_TMP/err$run" &
  pid=$!
  T_CHECKS=$((T_CHECKS + 1))
  if ! demo_wait_hung "$pid" "$d/folder1" $n 20; then
    fail "run $run: not hung with $n files in folder1 within 20 s: $(cat "$T_TMP/out$run" "$T_TMP/err$run")"
    demo_kill "$pid"
    continue
  fi
  hung=$((hung + 1))
  check "run $run: process still there" test -d "/proc/$pid"
  check "run $run: creator finished ($n files in folder1)" test "$(ls "$d/folder1" | wc -l)" -eq $n
  check "run $run: nothing moved (folder2 empty)" test "$(ls -A "$d/folder2" | wc -l)" -eq 0
  check "run $run: creator thread ended" test -z "$(demo_tid "$pid" creator)"

  mover=$(demo_tid "$pid" mover); deleter=$(demo_tid "$pid" deleter)
  r1=$(demo_symbol_addr "$pid" resource1); r2=$(demo_symbol_addr "$pid" resource2)
  check "run $run: resource1 and resource2 found with nm" test -n "$r1" -a -n "$r2"
  m_addr=$(demo_futex_addr "$pid" "$mover"); d_addr=$(demo_futex_addr "$pid" "$deleter")
  # pthread_rwlock_t futex words: +8 (__wrphase_futex) or +12 (__writers_futex).
  in_lock() { local a=$(($1)); [ "$a" -eq $(($2 + 8)) ] || [ "$a" -eq $(($2 + 12)) ]; }
  check "run $run: mover waits on resource2 ($m_addr vs $(printf %#x "$r2"))" in_lock "$m_addr" "$r2"
  check "run $run: deleter waits on resource1 ($d_addr vs $(printf %#x "$r1"))" in_lock "$d_addr" "$r1"
  check "run $run: mover holds resource1" test "$(demo_writer_of "$pid" resource1)" = "$mover"
  check "run $run: deleter holds resource2" test "$(demo_writer_of "$pid" resource2)" = "$deleter"

  check_grep "run $run: mover line" '^mover: holds resource1, waiting for resource2$' "$T_TMP/out$run"
  check_grep "run $run: deleter line" '^deleter: holds resource2, waiting for resource1$' "$T_TMP/out$run"
  check_grep "run $run: creator line" "^creator: created $n files in $d/folder1, releasing resource1\$" "$T_TMP/out$run"
  check_lines "run $run: nothing on stderr" 0 "$T_TMP/err$run"

  check "run $run: SIGKILL ends it" demo_kill "$pid"
done
T_CHECKS=$((T_CHECKS + 1))
echo "inconsistent order hung $hung of 10 runs"
[ $hung -eq 10 ] || fail "hung $hung of 10 runs"

# Ctrl-C: SIGINT with its default disposition ends the hang. Job control gives the demo its
# own process group, so bash does not start it with SIGINT ignored (as it does for plain &).
set -m
d=$T_TMP/int; mkdir "$d"
"$demo" --files 5 --writes 1 --dir "$d" >/dev/null 2>&1 &
pid=$!
set +m
T_CHECKS=$((T_CHECKS + 1))
if demo_wait_hung "$pid" "$d/folder1" 5 20; then
  kill -INT "$pid"
  for i in $(seq 100); do demo_alive "$pid" || break; sleep 0.1; done
  if demo_alive "$pid"; then fail "SIGINT: still running after 10 s"; demo_kill "$pid"; fi
  wait "$pid"; st=$?
  [ $st -eq 130 ] || fail "SIGINT: exit status $st, expected 130"
else
  fail "SIGINT run did not hang"; demo_kill "$pid"
fi
done_tests
