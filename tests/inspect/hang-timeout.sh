#!/usr/bin/env bash
# hang-timeout.sh - `lockgraph run --hang-timeout SECONDS`: hangs the runtime cannot see (a
# condition variable or semaphore nobody signals) are explained and ended with status 124; a
# deadlock the runtime was told not to catch is ended with 66; programs that run (busy), sleep
# (nanosleep: a timed wait that ends by itself) or wait for I/O are left alone. Every run is
# bounded by timeout(1) with SIGKILL (status 137, never mistaken for run's own 124).
. "$LG_SRCDIR/tests/lib/sh-harness.sh"
LG=$LG_BIN/lockgraph
HANG=$LG_BIN/hang

# run_timed NAME COMMAND...: run it, status in $rc, seconds taken in $took.
run_timed() {
  local name=$1 s e
  shift
  s=$(date +%s%N)
  timeout -s KILL 60 "$@" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
  rc=$?
  e=$(date +%s%N)
  took=$(((e - s) / 1000000))
}

for mode in cond sem; do
  run_timed "$mode" "$LG" run --hang-timeout 1 --json "$T_TMP/$mode.json" -- "$HANG" "$mode"
  check "$mode: ended as a hang (exit $rc, want 124)" [ "$rc" = 124 ]
  check_grep "$mode: no-progress report" '^={20} lockgraph: no-progress ={20}$' "$T_TMP/$mode.err"
  check_grep "$mode: the JSON says it" '"kind": "no-progress"' "$T_TMP/$mode.json"
  check_grep "$mode: says it ended the program" 'no thread made progress for 1 s; the program was ended' "$T_TMP/$mode.err"
done
check_grep "cond: names the waiter and the condvar" 'thread [0-9]+ "cond-waiter": wait on condvar cond_never' "$T_TMP/cond.err"
check_grep "sem: names the waiter and the semaphore" 'thread [0-9]+ "sem-waiter": wait on semaphore sem_never' "$T_TMP/sem.err"
check_grep "cond: the join is not mistaken for a timed wait" 'cannot make progress' "$T_TMP/cond.err"

# A deadlock the runtime does not watch for (--deadlocks 0): found from the outside, --log.
run_timed abba "$LG" run --hang-timeout 1 --deadlocks 0 --log "$T_TMP/abba.log" -- "$HANG" abba
check "abba: ended as a defect (exit $rc, want 66)" [ "$rc" = 66 ]
check_grep "abba: deadlock in the log" '^={20} lockgraph: deadlock ={20}$' "$T_TMP/abba.log"
check_grep "abba: acquisition stacks from the runtime" '^  holds L[0-9], locked at:$' "$T_TMP/abba.log"
check "abba: nothing on stderr" [ ! -s "$T_TMP/abba.err" ]

# The stdio deadlock: the writer blocks inside printf on stdout's lock (taken inline by glibc:
# no call the runtime sees), the other thread holds it (flockfile) and waits for the writer's
# mutex. The runtime claims nothing; the watcher finds the cycle through stdout's FILE lock.
run_timed stdio "$LG" run --hang-timeout 1 --json "$T_TMP/stdio.json" -- "$HANG" stdio
check "stdio: ended as a defect (exit $rc, want 66)" [ "$rc" = 66 ]
check_grep "stdio: the cycle through stdout" '"summary": "thread [0-9]+ \\"(writer|file-holder)\\" -> (stdout|mutex_a) -> thread [0-9]+ \\"(writer|file-holder)\\" -> (stdout|mutex_a) -> thread [0-9]+: 2 threads wait for each other"' "$T_TMP/stdio.json"

# Busy for 3 s (CPU time changes): not a hang.
run_timed busy "$LG" run --hang-timeout 1 -- bash -c 'e=$((SECONDS + 3)); while [ $SECONDS -lt $e ]; do :; done'
check "busy: runs to its end (exit $rc, want 0)" [ "$rc" = 0 ]
check "busy: no report" [ ! -s "$T_TMP/busy.err" ]

# Asleep in nanosleep for 3 s: no activity at all, but a timed wait ends by itself, so the
# inspection the probe triggers says a thread can still run, and the program is left alone.
run_timed sleep "$LG" run --hang-timeout 1 -- sleep 3
check "sleep: runs to its end (exit $rc, want 0)" [ "$rc" = 0 ]
check "sleep: took its 3 s (took $took ms)" [ "$took" -ge 2900 ]
check "sleep: no report" [ ! -s "$T_TMP/sleep.err" ]

# Waiting for I/O that never comes (a pipe): an outside event could end it, so not ended
# (inspected every second, left alone). Both processes are ended here, by pid.
"$LG" run --hang-timeout 1 -- "$HANG" read >"$T_TMP/read.out" 2>"$T_TMP/read.err" &
lgpid=$!
# The child is looked for until it exists (a loaded machine may take seconds to start it);
# then 4 s of being left alone. Without a child, run itself is ended so the wait is bounded.
child=
for _ in $(seq 600); do child=$(pgrep -P "$lgpid"); [ -n "$child" ] && break; sleep 0.1; done
sleep 4
check "read: the program was started" [ -n "$child" ]
check "read: still running after 4 s" kill -0 "$lgpid"
check "read: no report" bash -c "! grep -q 'lockgraph:' '$T_TMP/read.err'"
if [ -n "$child" ]; then kill -9 $child 2>/dev/null; else kill -9 "$lgpid" 2>/dev/null; fi
wait "$lgpid" 2>/dev/null
rc=$?
check "read: run reports its program's SIGKILL (exit $rc, want 137)" [ "$rc" = 137 ]

check_status 2 "bad --hang-timeout" "$LG" run --hang-timeout soon -- true
check_grep "bad --hang-timeout: one line" "^lockgraph run: invalid value 'soon' for --hang-timeout: expected seconds" "$T_TMP/err"
done_tests
