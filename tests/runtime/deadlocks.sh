# deadlocks.sh - real deadlocks (tests/progs/hang.c) are caught the moment they close: each
# run must end within a few seconds (bounded by `timeout`, so nothing can hang CI) with the
# right report and exit status 66; a contention stress test that cannot deadlock reports
# nothing.
. "$(dirname "$0")/lib.sh"
HANG=$LG_BIN/hang

# dl_case MODE KIND NTHREADS: the run ends by itself with status 66 and one finding of KIND
# whose waiting edges involve NTHREADS threads.
dl_case() {
  local mode=$1 kind=$2 n=$3; shift 3
  lg_run "$mode" "$@" -- "$HANG" "$mode"
  expect_rc "$mode" 66
  expect "$mode" "kind" "kinds()" "['$kind']"
  expect "$mode" "waiting threads" "len(set(e['thread'] for e in f[0]['edges'] if 'waiting' in e['flags']))" "$n"
  expect "$mode" "wait stacks" "all(len(e['stack']) > 0 for e in f[0]['edges'] if 'waiting' in e['flags'])" "True"
}

dl_case abba deadlock 2
expect abba "held-by stanza" "sorted(t['name'] for t in f[0]['threads'])" "['locker-ab', 'locker-ba']"
expect abba "held locks' stacks" "all(len(e['holds_stack']) > 0 for e in f[0]['edges'])" "True"
# The lines of hang.c's lock_a/lock_b, read from the source so edits to hang.c do not break this.
lines=$(grep -n '^LOCKER(lock_[ab], ' "$LG_SRCDIR/tests/progs/hang.c" | cut -d: -f1 | paste -sd'|')
check_grep "abba: jstack-style stanza" "waits to lock L[0-9]+ mutex mutex_[ab] .* at hang.c:($lines)," "$T_TMP/abba.err"
check_grep "abba: held by" "held by thread [0-9]+ \"locker-b?a" "$T_TMP/abba.err"
# The fix keeps the order of the cycle's first-created thread (locker-ab: mutex_a, then
# mutex_b) and names the one thread that breaks it, whichever thread closed the cycle (a race
# here: both take their first lock at the same moment); tests/inspect/same-finding.sh runs it
# 20 times.
check_grep "abba: fix" '^Fix: acquire mutex_a before mutex_b in every thread: thread [0-9]+ "locker-ba" holds mutex_b while it waits for mutex_a at hang.c:[0-9]+$' "$T_TMP/abba.err"
# Where each thread of the finding was created: two_sides' two pthread_create calls.
created=$(grep -n '^    pthread_create(&t[12], NULL, run_side, &s[12]);' "$LG_SRCDIR/tests/progs/hang.c" | cut -d: -f1 | paste -sd, | sed 's/,/, /g')
expect abba "creation stacks" "sorted(t['created_stack'][0]['line'] for t in f[0]['threads'] if t.get('created_stack'))" "[$created]"
check_grep "abba: created at, in the text" '^  created at:$' "$T_TMP/abba.err"
dl_case rwlock-ww deadlock 2
check_grep "rwlock-ww: write-lock" "waits to write-lock" "$T_TMP/rwlock-ww.err"
dl_case rwlock-rw deadlock 2
dl_case rwlock-wr deadlock 2
check_grep "rwlock-wr: read-lock" "waits to read-lock" "$T_TMP/rwlock-wr.err"
# A writer-preferring rwlock: the reader holds it, a writer queues, the reader reads it again
# (native: a deadlock every time). The writer stays queued in glibc for its whole wait, so the
# program deadlocks under the runtime too, and it is reported as the cycle of the two.
dl_case rwlock-prefer-writer deadlock 2
expect rwlock-prefer-writer "the reader and the writer" "sorted(t['name'] for t in f[0]['threads'])" "['reader', 'writer']"
expect rwlock-prefer-writer "one lock, both modes" "sorted((l['name'], e['acquires_mode']) for e in f[0]['edges'] if 'waiting' in e['flags'] for l in f[0]['locks'] if l['id'] == e['acquires'])" "[('rw_x', 'exclusive'), ('rw_x', 'shared')]"
dl_case ring3 deadlock 3
check_grep "ring3: fix keeps ring-1's order and names the thread out of it" '^Fix: keep the order mutex_a, mutex_b, mutex_c in every thread: thread [0-9]+ "ring-3" holds mutex_c while it waits for mutex_a at hang.c:[0-9]+; take mutex_a before mutex_c there$' "$T_TMP/ring3.err"
dl_case self deadlock 1
expect self "self flag" "f[0]['self']" "True"
dl_case self-rw deadlock 1
check_grep "self-rw: upgrade" "rwlocks cannot be upgraded" "$T_TMP/self-rw.err"
dl_case robust deadlock 2
dl_case pi deadlock 2
dl_case spin deadlock 2
dl_case c11 deadlock 2
# A deadlock closed by a condition variable's re-acquisition of its mutex (inside glibc).
lg_run conddl -- "$CASES" cond-deadlock
expect_rc conddl 66
expect conddl "kind" "kinds()" "['deadlock']"
expect conddl "re-acquisition edge" "[e['flags'] for e in f[0]['edges'] if 'cond-reacquire' in e['flags']]" "[['cond-reacquire', 'waiting']]"
expect conddl "where the condition wait was called" "'cond_waiter_holding_b' in str(f[0]['edges'])" "True"

# main holds mutex_a and joins a thread that waits for it: a cycle through a join.
dl_case join deadlock 2
expect join "join edge" "sorted(l['type'] for l in f[0]['locks'])" "['mutex', 'thread']"
# The quitter's exit itself is lock misuse (exit-holding, issue 13); without that finding the
# exit is a note, and the orphaned wait is the finding.
dl_case orphan orphaned-lock 1 --misuse all,-exit-holding
check_grep "orphan: exit noted" 'thread [0-9]+ "quitter" exited holding 1 lock \(mutex_a\)' "$T_TMP/orphan.err"
expect orphan "exited holder" "[t['state'] for t in f[0]['threads'] if t['name'] == 'quitter']" "['exited']"
lg_run orphan-misuse -- "$HANG" orphan
expect_rc orphan-misuse 66
expect orphan-misuse "exit-holding, then the orphaned wait" "[(x['kind'], x.get('misuse')) for x in f]" "[('lock-misuse', 'exit-holding'), ('orphaned-lock', None)]"
expect orphan-misuse "the quitter's lock" "(f[0]['threads'][0]['name'], f[0]['locks'][0]['name'])" "('quitter', 'mutex_a')"

# A thread cancelled in pthread_cond_wait leaves with the mutex glibc re-took for it: with no
# cleanup handler it exits holding it, and main's lock of it is the orphan (not a hang, not a
# lock nobody holds). With a handler that unlocks it, nothing is wrong and the program ends.
# The cancelled thread exits holding the mutex glibc re-took for it: exit-holding (issue 13),
# left out here so the orphaned wait is the finding and the exit a note.
dl_case cond-cancel orphaned-lock 1 --misuse all,-exit-holding
expect cond-cancel "the cancelled thread exited holding cond_mutex" "[(t['name'], t['state']) for t in f[0]['threads'] if t['name'] == 'cancelled']" "[('cancelled', 'exited')]"
expect cond-cancel "the lock" "[l['name'] for l in f[0]['locks']]" "['cond_mutex']"
check_grep "cond-cancel: exit noted" 'thread [0-9]+ "cancelled" exited holding 1 lock \(cond_mutex\)' "$T_TMP/cond-cancel.err"
lg_run cond-cancel-clean -- "$HANG" cond-cancel-clean
expect_rc cond-cancel-clean 0
expect cond-cancel-clean "no findings" "kinds()" "[]"
check_grep "cond-cancel-clean: main took the mutex" "^main: took cond_mutex$" "$T_TMP/cond-cancel-clean.out"
# A child forked while another thread held mutex_a locks it: its holder was not copied. The
# child reports it (its own JSON, FILE.<pid>) and exits 66; the parent passes that on.
lg_run fork-held -- "$HANG" fork-held
expect_rc fork-held 66
child=$(sed -n 's/^child \([0-9]*\)$/\1/p' "$T_TMP/fork-held.out")
T_CHECKS=$((T_CHECKS + 1))
cp "$T_TMP/fork-held.json.$child" "$T_TMP/fork-held-child.json" 2>/dev/null || fail "fork-held: no report of the child $child"
expect fork-held-child "an orphaned lock" "kinds()" "['orphaned-lock']"
ppid=$(jq_py fork-held "[x['pid'] for x in r['reports'] if x['pid'] != $child][0]")   # the merged report's other process
expect fork-held-child "the parent's holder, not in the child" "[(t['name'], t['state'], t.get('pid')) for t in f[0]['threads'] if t['name'] == 'holder']" "[('holder', 'not in this process', $ppid)]"
expect fork-held-child "its acquisition stack" "[len(e['holds_stack']) > 0 for e in f[0]['edges'] if e['thread'] != $child]" "[True]"
expect fork-held-child "the fork site" "'when this process was forked (at hang.c:' in f[0]['summary']" "True"
expect fork-held "the merged report has the child's orphan" "kinds()" "['orphaned-lock']"

# A timed wait in a cycle is a stall: reported as such (timed), the program is left to its
# timeout (an hour here: we stop it once the report is out).
T_CHECKS=$((T_CHECKS + 1))
timeout -s KILL 4 "$LG" run --log "$T_TMP/timed.log" -- "$HANG" timed >/dev/null 2>&1
grep -q "stall (a wait cycle that ends at a timeout)" "$T_TMP/timed.log" \
  || fail "timed: no stall report: $(head -c 600 "$T_TMP/timed.log")"

# --on-deadlock: abort ends with SIGABRT (134 = 128+6); wait leaves it hung (we kill it).
lg_run abort --on-deadlock=abort -- "$HANG" abba
expect_rc abort 134
expect abort "json written before abort" "kinds()" "['deadlock']"
T_CHECKS=$((T_CHECKS + 1))
timeout -s KILL 3 "$LG" run --on-deadlock=wait --log "$T_TMP/wait.log" -- "$HANG" abba >/dev/null 2>&1
rc=$?
[ $rc -eq 137 ] || fail "on-deadlock=wait: exit $rc, want killed (137)"
check_grep "on-deadlock=wait still reports" "==== lockgraph: deadlock ====" "$T_TMP/wait.log"

# Long waits: a wait with no cycle longer than --wait-timeout is reported (informational:
# the program's own exit status stands), with the holder and where it took the lock.
lg_run long --wait-timeout 0.5 -- "$CASES" slow-owner
expect_rc long 0
expect long "long-wait finding" "kinds()" "['long-wait']"
expect long "holder named" "[t['name'] for t in f[0]['threads'] if t['name'] == 'sleeper']" "['sleeper']"
check_grep "long-wait text" "has waited more than 0.5 s to lock mutex_a" "$T_TMP/long.err"
# The holder sleeps in nanosleep: never signalled (it would wake early); the report says why.
check_grep "sleeping holder: kernel state and why no stack" "holder thread [0-9]+ \"sleeper\" is sleeping.*; no current stack: not interrupted: a signal would cut its (clock_)?nanosleep short" "$T_TMP/long.err"
# The holder computes, or reads a pipe (restartable): its current user stack is shown, and
# the read is not interrupted.
lg_run busy --wait-timeout 0.5 -- "$CASES" busy-owner
expect_rc busy 0
expect busy "long-wait finding" "kinds()" "['long-wait']"
expect busy "computing holder's current stack" "'busy_computing' in funcs([t for t in f[0]['threads'] if t['name'] == 'computer'][0]['stack'])" "True"
check_grep "busy holder: current stack printed" "current stack:" "$T_TMP/busy.err"
lg_run reader --wait-timeout 0.5 -- "$CASES" read-owner
expect_rc reader 0
expect reader "reading holder's current stack" "'reading_pipe' in funcs([t for t in f[0]['threads'] if t['name'] == 'reader'][0]['stack'])" "True"
check_grep "the holder's read was restarted, not cut short" "^owner done$" "$T_TMP/reader.out"
T_CHECKS=$((T_CHECKS + 1))
grep -q "read interrupted" "$T_TMP/reader.out" && fail "reader: the sampling signal interrupted the holder's read"
check_grep "long-wait: what the holder does now" 'holder thread [0-9]+ "sleeper" is sleeping' "$T_TMP/long.err"

# Hangs with no lock cycle (a condition wait nobody signals, a semaphore nobody posts) are
# not deadlocks: nothing is reported, the program is left alone (we stop it).
for mode in cond sem idle; do
  T_CHECKS=$((T_CHECKS + 1))
  timeout -s KILL 2 "$LG" run --log "$T_TMP/$mode.log" -- "$HANG" $mode >/dev/null 2>&1
  rc=$?
  [ $rc -eq 137 ] || fail "$mode: exit $rc, want to be still waiting (killed: 137)"
  T_CHECKS=$((T_CHECKS + 1))
  [ ! -s "$T_TMP/$mode.log" ] || fail "$mode: reported: $(head -c 300 "$T_TMP/$mode.log")"
done

# No false deadlock under heavy contention with one global order.
lg_run stress -- "$LG_BIN/rt-stress" 12 4000
expect_rc stress 0
expect stress "no findings" "kinds()" "[]"
check_grep "stress finished" "stress done" "$T_TMP/stress.out"

done_tests
