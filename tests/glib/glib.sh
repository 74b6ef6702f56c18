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
# Hung for real without the runtime: `attach` names the waits GMutex (GLib's own futex words,
# which record no owner: none is invented), by address and symbol.
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done' EXIT
. "$LG_SRCDIR/tests/inspect/procs.sh"
start "$P" gmutex-deadlock
check_status 0 "attach: a hang with no owner to follow is no deadlock claimed" "$LG" attach "$PID" --json "$T_TMP/attach.json"
cp "$T_TMP/out" "$T_TMP/attach.out"
check_grep "attach: the waits are GMutex waits" 'waits here: lock mutex GMutex at 0x[0-9a-f]+ \(A\)' "$T_TMP/attach.out"
T_CHECKS=$((T_CHECKS + 1))
got=$(python3 - "$T_TMP/attach.json" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
ls = [l for l in r.get("locks", []) if re.fullmatch(r"GMutex at 0x[0-9a-f]+ \((A|B)\)", l.get("name") or "")]
print(sorted((l["name"].split()[-1], l["type"], bool(l.get("owner"))) for l in ls),
      sorted(f["kind"] for f in r["findings"]))
PY
)
[ "$got" = "[('(A)', 'mutex', False), ('(B)', 'mutex', False)] ['no-progress']" ] || fail "attach: locks and findings: $got"

# Under the runtime (left waiting by --on-deadlock wait) the runtime's records give the
# GMutexes' holders, so `attach` finds the cycle.
start "$LG" run --on-deadlock wait -- "$P" gmutex-deadlock
prog=$(pgrep -P "$PID" -f glibprog | head -1)
PIDS+=("$prog")
settle "$prog" || fail "gmutex-deadlock under run: threads did not settle"
check_status 66 "attach under the runtime: the deadlock" "$LG" attach "$prog" --json "$T_TMP/attach-rt.json"
T_CHECKS=$((T_CHECKS + 1))
got=$(python3 - "$T_TMP/attach-rt.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
f = [x for x in r["findings"] if x["kind"] == "deadlock"]
print(len(f), sorted(l["name"].split()[0] + " " + l["name"].split()[-1] for l in f[0]["locks"]) if f else None)
PY
)
[ "$got" = "1 ['GMutex (A)', 'GMutex (B)']" ] || fail "attach under the runtime: $got"
done_tests
