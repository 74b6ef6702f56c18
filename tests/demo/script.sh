#!/usr/bin/env bash
# scripts/demo.sh (make demo) tells the write-up's story under lockgraph and ends on its own:
# `lockgraph run` catches the inconsistent order's deadlock (exit 66, jstack-style stanzas
# naming the mover, the deleter and both resources); `lockgraph attach` explains the same hang
# with no runtime loaded and leaves the process alive; the consistent order runs clean under
# `lockgraph run` (exit 0). No demo process or temporary directory is left behind.
. "$LG_SRCDIR/tests/lib/sh-harness.sh"
check_status 0 "scripts/demo.sh" env TMPDIR="$T_TMP" timeout 180 bash "$LG_SRCDIR/scripts/demo.sh" "$LG_BUILD"
out=$T_TMP/out
check_grep "run: deadlock banner" '^=+ lockgraph: deadlock =+$' "$out"
check_grep "run: mover waits for resource2 held by the deleter" \
  'thread [0-9]+ "mover" waits to write-lock L[0-9]+ rwlock resource2 .*' "$out"
check_grep "run: the deleter holds it" '^ +held by thread [0-9]+ "deleter"$' "$out"
check_grep "run: deleter waits for resource1" 'thread [0-9]+ "deleter" waits to write-lock L[0-9]+ rwlock resource1 ' "$out"
check_grep "run: the fix is the write-up's (keep resource1 before resource2; change the deleter)" \
  '^Fix: acquire resource1 before resource2 in every thread: thread [0-9]+ "deleter" holds resource2 while it waits for resource1 at threads.c:[0-9]+$' "$out"
# The stanzas name the calls, not the lock helper every acquisition passes through
# (lock_exclusive, threads.c:78): under run and under attach alike.
mline=$(grep -n 'lock_exclusive(&resource2' "$LG_SRCDIR/demo/threads.c" | sed -n 1p | cut -d: -f1)
dline=$(grep -n 'lock_exclusive(&resource1' "$LG_SRCDIR/demo/threads.c" | sed -n 3p | cut -d: -f1)
check "run and attach: the mover waits at its call, threads.c:$mline" \
  [ "$(grep -cE "\"mover\" waits to write-lock L[0-9]+ rwlock resource2 \(0x[0-9a-f]+\) at threads.c:$mline,$" "$out")" = 2 ]
check "run and attach: the deleter waits at its call, threads.c:$dline" \
  [ "$(grep -cE "\"deleter\" waits to write-lock L[0-9]+ rwlock resource1 \(0x[0-9a-f]+\) at threads.c:$dline,$" "$out")" = 2 ]
hline=$(grep -n 'pthread_rwlock_wrlock(r)' "$LG_SRCDIR/demo/threads.c" | sed -n 1p | cut -d: -f1)
check "no stanza names the helper's line (threads.c:$hline)" \
  bash -c "! grep -qE 'rwlock resource[12] \(0x[0-9a-f]+\) at threads.c:$hline,' '$out'"
check_grep "run: ended with 66 instead of hanging" '^\[lockgraph run ended with exit status 66 after [0-9]+ ms, instead of hanging\]$' "$out"
check_grep "attach: verdict" '^lockgraph: process [0-9]+ \(lockgraph-demo\), 3 threads: 1 deadlock; the process cannot make progress' "$out"
check_grep "attach: wait chain" '\[thread [0-9]+ "mover"\] -> \[rwlock resource2\] -> \[thread [0-9]+ "deleter"\] -> \[rwlock resource1\] -> \[thread [0-9]+ "mover"\] !!!Deadlock!!!' "$out"
check_grep "attach: last line" '^Found 1 deadlock\.$' "$out"
check_grep "attach: target left alive" '^\[pid [0-9]+ is still alive and still hung, as attach left it; killing it\]$' "$out"
check_grep "consistent: summary" '^summary: 1000 files created, 1000 moved, 1000 deleted' "$out"
check_grep "consistent: clean under run" '^\[lockgraph run ended with exit status 0: no lock-order inversion, no deadlock\]$' "$out"
pid=$(grep -oE '^\[pid [0-9]+ is still alive' "$out" | grep -oE '[0-9]+')
check "hung demo killed" test ! -d "/proc/${pid:-0}"
# Its own demo processes only (their work directory is under this test's TMPDIR): other
# runs of the suite on the same machine have theirs.
check "no demo process left" test -z "$(pgrep -f "$T_TMP/lockgraph-demo-run" || true)"
check "temporary directories removed" test -z "$(ls -A "$T_TMP" | grep -v -e '^out$' -e '^err$')"
done_tests
