#!/usr/bin/env bash
# glib.sh - GLib's locks are checked with no change to the program: a GMutex ABBA and a
# GRWLock writers' ABBA are inversions naming the program's objects; GRWLock readers in
# opposite orders and a GRecMutex re-entry are silent (and the locks were seen: `record`
# names them); a GCond wait's re-acquisition is an edge; a real GMutex deadlock is ended by
# `run` (66); the same program hung without the runtime is explained by `attach`.
. "$LG_SRCDIR/tests/runtime/lib.sh"
P=$LG_BIN/glibprog

lg_run gmutex-abba -- "$P" gmutex-abba
expect_rc gmutex-abba 66
expect gmutex-abba "one inversion" "kinds()" "['lock-order-inversion']"
expect gmutex-abba "the GMutexes, by symbol" "sorted((l['name'], l['type']) for l in f[0]['locks'])" "[('A', 'mutex'), ('B', 'mutex')]"
check_grep "gmutex-abba: the family is said" 'mutex \(GMutex\) A' "$T_TMP/gmutex-abba.err"

lg_run grwlock-writer-abba -- "$P" grwlock-writer-abba
expect_rc grwlock-writer-abba 66
expect grwlock-writer-abba "the GRWLocks, not GLib's pthread objects inside" "sorted((l['name'], l['type']) for l in f[0]['locks'])" "[('RA', 'rwlock'), ('RB', 'rwlock')]"

for c in grwlock-read-read grecmutex-reentry; do
  lg_run "$c" -- "$P" "$c"
  expect_rc "$c" 0
  expect "$c" "silent" "kinds()" "[]"
  check_status 0 "$c: recorded" timeout -k 5 120 "$LG" record -o "$T_TMP/$c.trace" -- "$P" "$c"
  check_status 0 "$c: report of the trace" "$LG" report "$T_TMP/$c.trace"
  cp "$T_TMP/out" "$T_TMP/$c.report"
done
# The runtime saw the program's objects (the wrappers), not anonymous heap locks.
check_grep "grwlock-read-read: RA seen" '^  L[0-9]+ rwlock RA ' "$T_TMP/grwlock-read-read.report"
check_grep "grwlock-read-read: RB seen" '^  L[0-9]+ rwlock RB ' "$T_TMP/grwlock-read-read.report"
check_grep "grecmutex-reentry: R seen" '^  L[0-9]+ mutex R ' "$T_TMP/grecmutex-reentry.report"
check_grep "grecmutex-reentry: A seen" '^  L[0-9]+ mutex A ' "$T_TMP/grecmutex-reentry.report"

lg_run gcond -- "$P" gcond
expect_rc gcond 66
expect gcond "the re-acquisition is the edge" "[ 'cond-reacquire' in e['flags'] for e in f[0]['edges']].count(True)" "1"
expect gcond "A and B" "sorted(l['name'] for l in f[0]['locks'])" "['A', 'B']"

lg_run gmutex-deadlock -- "$P" gmutex-deadlock
expect_rc gmutex-deadlock 66
expect gmutex-deadlock "a deadlock" "kinds()" "['deadlock']"
expect gmutex-deadlock "the two lockers wait" "sorted(t['name'] for t in f[0]['threads'])" "['locker-ab', 'locker-ba']"
expect gmutex-deadlock "the GMutexes" "sorted(l['name'] for l in f[0]['locks'])" "['A', 'B']"
done_tests
