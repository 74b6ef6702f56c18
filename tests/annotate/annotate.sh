#!/usr/bin/env bash
# annotate.sh - annotated locks (lockgraph.h's lg_mutex_*) take part in what pthread locks
# do: an ABBA inversion of a spinlock pair and of a futex-lock pair (exit 66, both locks
# named, type "custom"), live deadlocks ended at once by `run` (66; `timeout` is only a hang
# guard), a self-deadlock, a trylock and read-read orders that are no inversion, a recursive
# re-entry, misuse (below).
# Without the runtime the same binary runs as a plain program (the annotations do nothing):
# the inversions run to their end, the deadlocks hang.
. "$LG_SRCDIR/tests/runtime/lib.sh"
P=$LG_BIN/annotate-custom

for c in spin-abba futex-abba; do
  lg_run "$c" -- "$P" "$c"
  expect_rc "$c" 66
  expect "$c" "one inversion" "kinds()" "['lock-order-inversion']"
  expect "$c" "both locks, by name" "sorted(l['name'] for l in f[0]['locks'])" "['lock A', 'lock B']"
  expect "$c" "lock type" "sorted(set(l['type'] for l in f[0]['locks']))" "['custom']"
  # The header's inline wrappers are left out: the program's frame that locks comes first.
  expect "$c" "the acquisition sites" "all(funcs(e['stack'])[0] == 'lock_lock' for e in f[0]['edges'])" "True"
  check_grep "$c: text names the family" 'custom \(annotated\) lock A' "$T_TMP/$c.err"
done

for c in spin-deadlock futex-deadlock; do
  lg_run "$c" -- "$P" "$c"
  expect_rc "$c" 66
  expect "$c" "a deadlock" "kinds()" "['deadlock']"
  expect "$c" "two waiting threads" "len(set(e['thread'] for e in f[0]['edges'] if 'waiting' in e['flags']))" "2"
  expect "$c" "both locks" "sorted(l['name'] for l in f[0]['locks'])" "['lock A', 'lock B']"
  check_grep "$c: the wait is placed in the program" 'waits to lock L[0-9]+ custom \(annotated\) lock [AB] \(0x[0-9a-f]+\) at custom\.c:[0-9]+,' "$T_TMP/$c.err"
done

lg_run self -- "$P" self
expect_rc self 66
expect self "a self-deadlock" "(kinds(), f[0]['self'])" "(['deadlock'], True)"

for c in spin-try read-read recursive; do
  lg_run "$c" -- "$P" "$c"
  expect_rc "$c" 0
  expect "$c" "silent" "kinds()" "[]"
  check_grep "$c: ran to its end under the runtime" "^$c: done \(runtime [0-9]" "$T_TMP/$c.out"
done

# Misuse, claimed from the annotations (the program's own account of every acquisition):
# a release of a lock nobody holds, a release by another thread than the holder (a hand-over:
# the holder then no longer holds it, so thread 3's B then A is no inversion), a destroy of a
# held lock, a thread that ends holding one. Both lock implementations.
# misuse CASE SUBKIND ROLES
misuse() {
  local c=$1 sub=$2 roles=$3
  lg_run "$c" -- "$P" "$c"
  expect_rc "$c" 66
  expect "$c" "one misuse" "(kinds(), f[0]['misuse'])" "(['lock-misuse'], '$sub')"
  expect "$c" "the lock" "[(l['name'], l['type']) for l in f[0]['locks']]" "[('lock A', 'custom')]"
  expect "$c" "site roles" "[s['role'] for s in f[0]['sites']]" "$roles"
  expect "$c" "nothing refused" "f[0].get('refused')" "None"
  check_grep "$c: text stanza" "lockgraph: lock misuse \\($sub\\)" "$T_TMP/$c.err"
  check_grep "$c: ran to its end under the runtime" "^$c: done \\(runtime [0-9]" "$T_TMP/$c.out"
}
for impl in spin futex; do
  misuse "$impl-unlock-unheld" unlock-not-held "['misuse']"
  misuse "$impl-foreign-unlock" unlock-not-owner "['misuse', 'acquired']"
  expect "$impl-foreign-unlock" "the holder is another thread" "f[0]['sites'][0]['thread'] != f[0]['sites'][1]['thread']" "True"
  misuse "$impl-destroy-held" destroy-held "['misuse', 'acquired']"
  expect "$impl-destroy-held" "the holder is the destroyer" "f[0]['sites'][0]['thread'] == f[0]['sites'][1]['thread']" "True"
  misuse "$impl-exit-holding" exit-holding "['acquired']"
done
# --misuse none: the annotations are only bookkeeping again.
lg_run misuse-off --misuse none -- "$P" spin-foreign-unlock
expect_rc misuse-off 0
expect misuse-off "silent" "kinds()" "[]"

# `record`: the locks by name and type; an announced wait is a wait in the trace only when
# the lock was held by another thread (every acquisition is announced, contended or not).
for c in "spin-abba 66" "spin-contended 0"; do
  set -- $c; c=$1
  check_status "$2" "$c: recorded" timeout -k 5 120 "$LG" record -o "$T_TMP/$c.trace" -- "$P" "$c"
  check_status 0 "$c: report of the trace" "$LG" report "$T_TMP/$c.trace"
  cp "$T_TMP/out" "$T_TMP/$c.report"
done
check_grep "spin-abba: recorded, by name" '^  L[0-9]+ custom lock A +2 +0 ' "$T_TMP/spin-abba.report"
check_grep "spin-abba: no waits" 'no thread waited for a lock' "$T_TMP/spin-abba.report"
check_grep "spin-contended: one contended acquisition" '^  L[0-9]+ custom lock A +2 +1 ' "$T_TMP/spin-contended.report"

# The same binary without the runtime.
for c in spin-abba futex-abba spin-try read-read recursive spin-contended \
         {spin,futex}-{unlock-unheld,foreign-unlock,destroy-held,exit-holding}; do
  check_status 0 "$c without the runtime" "$P" "$c"
  check_grep "$c: ran as a plain program" "^$c: done \(runtime none\)" "$T_TMP/out"
done
for c in spin-deadlock futex-deadlock; do
  # Native: a real deadlock never ends (124 is timeout's status for "still running").
  check_status 124 "$c without the runtime hangs" timeout 2 "$P" "$c"
done
# The published state: a deadlock of annotated futex locks left waiting (--on-deadlock wait)
# is explained by `attach` from the runtime's records (the kernel shows only futex words):
# both waits, their custom locks and their holders, so the cycle.
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done' EXIT
. "$LG_SRCDIR/tests/inspect/procs.sh"
start "$LG" run --on-deadlock wait -- "$P" futex-deadlock
prog=$(pgrep -P "$PID" -f annotate-custom | head -1)
PIDS+=("$prog")
settle "$prog" || fail "futex-deadlock under run: threads did not settle"
check_status 66 "attach to the annotated deadlock" "$LG" attach "$prog" --json "$T_TMP/attach.json"
T_CHECKS=$((T_CHECKS + 1))
got=$(python3 - "$T_TMP/attach.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
f = [x for x in r["findings"] if x["kind"] == "deadlock"]
print(len(f), sorted((l["name"], l["type"]) for l in f[0]["locks"]) if f else None)
PY
)
[ "$got" = "1 [('A', 'custom'), ('B', 'custom')]" ] || fail "attach: the annotated deadlock: $got"
done_tests
