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
# Each locker's first acquisitions: their stacks are their own unwinding, every frame.
expect abba "held stacks unwound" "[any(fr.get('shared') for fr in e['holds_stack']) for e in f[0]['edges']]" "[False, False]"
expect abba "held stacks' callers" "sorted(e['holds_stack'][1]['function'] for e in f[0]['edges'])" "['run_side', 'run_side']"
# The same deadlock after main took both locks through the same lockers: the runtime reuses
# main's unwinding for the lockers' acquisitions (same call site, nothing held). Only the call
# site is theirs, and the report must not say main's callers are the lockers' own.
dl_case abba-warm deadlock 2
expect abba-warm "held call sites own" "sorted((e['holds_stack'][0]['function'], e['holds_stack'][0].get('shared', False)) for e in f[0]['edges'])" "[('lock_a', False), ('lock_b', False)]"
expect abba-warm "held callers marked" "[all(fr.get('shared') for fr in e['holds_stack'][1:]) and len(e['holds_stack']) > 1 for e in f[0]['edges']]" "[True, True]"
expect abba-warm "no unmarked warm_up" "[fr['function'] for e in f[0]['edges'] for fr in e['holds_stack'] + e['stack'] if not fr.get('shared') and fr['function'] in ('warm_up', 'main')]" "[]"
expect abba-warm "wait stacks own" "[e['stack'][1]['function'] for e in f[0]['edges'] if 'waiting' in e['flags']]" "['run_side', 'run_side']"
check_grep "abba-warm: the text says so" '^        callers not unwound for this acquisition; the first one seen at this call site came from:$' "$T_TMP/abba-warm.err"
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

. "$LG_SRCDIR/tests/inspect/procs.sh"   # settle, syscalls
# bg_run NAME [run options] -- PROG ARGS: `lockgraph run --log $T_TMP/NAME.log` in the
# background, in its own process group (timeout's: a 120 s hang guard); sets BG.
bg_run() {
  local name=$1; shift
  : >"$T_TMP/$name.log"
  timeout -s KILL 120 "$LG" run --log "$T_TMP/$name.log" "$@" >"$T_TMP/$name.out" 2>&1 &
  BG=$!
}
# bg_stop: end the background run and its program (the whole group); its status in RC.
bg_stop() { kill -KILL -- -"$BG" 2>/dev/null; wait "$BG"; RC=$?; }
# bg_prog: the program run started (its child), once it exists.
bg_prog() {
  local i lg
  for i in $(seq 1200); do
    lg=$(pgrep -P "$BG") && pgrep -P "$lg" && return 0
    kill -0 "$BG" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# A timed wait in a cycle is a stall: reported as such (timed), the program is left to its
# timeout (an hour here: we stop it once the report is out, and not before).
bg_run timed -- "$HANG" timed
T_CHECKS=$((T_CHECKS + 1))
wait_grep "stall \(a wait cycle that ends at a timeout\)" "$T_TMP/timed.log" "$BG" \
  || fail "timed: no stall report: $(head -c 600 "$T_TMP/timed.log")"
T_CHECKS=$((T_CHECKS + 1))
kill -0 "$BG" 2>/dev/null || fail "timed: the program did not wait for its timeout"
bg_stop

# --on-deadlock: abort ends with SIGABRT (134 = 128+6); wait leaves it hung (we kill it).
lg_run abort --on-deadlock=abort -- "$HANG" abba
expect_rc abort 134
expect abort "json written before abort" "kinds()" "['deadlock']"
bg_run wait --on-deadlock=wait -- "$HANG" abba
T_CHECKS=$((T_CHECKS + 1))
wait_grep "==== lockgraph: deadlock ====" "$T_TMP/wait.log" "$BG" \
  || fail "on-deadlock=wait: no report: $(head -c 600 "$T_TMP/wait.log")"
# After the report the program is left in its deadlock: alive, its threads settled in waits.
T_CHECKS=$((T_CHECKS + 1))
prog=$(bg_prog) && settle "$prog" && kill -0 "$BG" 2>/dev/null \
  || fail "on-deadlock=wait: the program did not stay in its deadlock"
bg_stop

# Long waits: a wait with no cycle longer than --wait-timeout is reported (informational:
# the program's own exit status stands), with the holder and where it took the lock.
# long_run NAME MODE: `lg_run NAME --wait-timeout 0.5 -- cases MODE` in the background; the
# holder keeps the lock until the report's last line (the holder's state) is out, then
# SIGUSR1 releases it (cases.c), so the report finds it holding however slow the machine.
long_run() {
  local name=$1 mode=$2 pid kid
  timeout -k 5 120 "$LG" run --wait-timeout 0.5 --json "$T_TMP/$name.json" -- "$CASES" "$mode" \
    >"$T_TMP/$name.out" 2>"$T_TMP/$name.err" &
  pid=$!
  wait_grep '^holder thread [0-9]+ "' "$T_TMP/$name.err" $pid
  kid=$(pgrep -P "$(pgrep -P $pid)") && kill -USR1 "$kid"
  wait $pid
  RC=$?
}
long_run long slow-owner
expect_rc long 0
expect long "long-wait finding" "kinds()" "['long-wait']"
expect long "holder named" "[t['name'] for t in f[0]['threads'] if t['name'] == 'sleeper']" "['sleeper']"
check_grep "long-wait text" "has waited more than 0.5 s to lock mutex_a" "$T_TMP/long.err"
# The holder sleeps in nanosleep: never signalled (it would wake early); the report says why.
check_grep "sleeping holder: kernel state and why no stack" "holder thread [0-9]+ \"sleeper\" is sleeping.*; no current stack: not interrupted: a signal would cut its (clock_)?nanosleep short" "$T_TMP/long.err"
# The holder computes, or reads a pipe (restartable): its current user stack is shown, and
# the read is not interrupted.
long_run busy busy-owner
expect_rc busy 0
expect busy "long-wait finding" "kinds()" "['long-wait']"
expect busy "computing holder's current stack" "'busy_computing' in funcs([t for t in f[0]['threads'] if t['name'] == 'computer'][0]['stack'])" "True"
check_grep "busy holder: current stack printed" "current stack:" "$T_TMP/busy.err"
long_run reader read-owner
expect_rc reader 0
expect reader "reading holder's current stack" "'reading_pipe' in funcs([t for t in f[0]['threads'] if t['name'] == 'reader'][0]['stack'])" "True"
check_grep "the holder's read was restarted, not cut short" "^owner done$" "$T_TMP/reader.out"
T_CHECKS=$((T_CHECKS + 1))
grep -q "read interrupted" "$T_TMP/reader.out" && fail "reader: the sampling signal interrupted the holder's read"
check_grep "long-wait: what the holder does now" 'holder thread [0-9]+ "sleeper" is sleeping' "$T_TMP/long.err"

# Hangs with no lock cycle (a condition wait nobody signals, a semaphore nobody posts) are
# not deadlocks: nothing is reported, the program is left alone (we stop it).
# The check is made once the program is in its hang ("ready", every thread settled in its
# wait): the runtime reports a cycle before the wait that closes it blocks.
for mode in cond sem idle; do
  bg_run $mode -- "$HANG" $mode
  T_CHECKS=$((T_CHECKS + 1))
  wait_grep "^ready$" "$T_TMP/$mode.out" "$BG" && prog=$(bg_prog) && settle "$prog" \
    && kill -0 "$BG" 2>/dev/null || fail "$mode: did not stay waiting: $(head -c 300 "$T_TMP/$mode.out")"
  T_CHECKS=$((T_CHECKS + 1))
  [ ! -s "$T_TMP/$mode.log" ] || fail "$mode: reported: $(head -c 300 "$T_TMP/$mode.log")"
  bg_stop
done

# No false deadlock under heavy contention with one global order.
lg_run stress -- "$LG_BIN/rt-stress" 12 4000
expect_rc stress 0
expect stress "no findings" "kinds()" "[]"
check_grep "stress finished" "stress done" "$T_TMP/stress.out"

done_tests
