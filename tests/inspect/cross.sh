#!/usr/bin/env bash
# cross.sh - hangs that cross a process boundary (tests/progs/hang.c): two processes
# deadlocked through process-shared mutexes in shared memory (`procs`), found by attach from
# either PID and from both, and by `run --hang-timeout`; a child forked while another thread
# of the parent held a private mutex (`fork-held`), which it then waits for forever: an
# orphaned lock whose owner is named as the parent's thread (never a live owner here, never a
# wait-for edge into the parent's copy), from attach, a dump read back by core, and
# `run --hang-timeout` with the runtime's own watch off. Every started process is killed.
. "$LG_SRCDIR/tests/lib/sh-harness.sh"
LG=$LG_BIN/lockgraph
HANG=$LG_BIN/hang
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T_TMP"; }
trap cleanup EXIT
. "$LG_SRCDIR/tests/inspect/procs.sh"

# py JSON EXPR: evaluate EXPR over the report r (f: its findings); prints the result.
. "$LG_SRCDIR/tests/lib/json-query.sh"
json_query_start '
def pid_of(name): return [t.get("pid", r.get("pid")) for t in r["threads"] if t.get("name") == name]'
py() { json_query "$1" "$2"; }
expect() {   # DESCRIPTION JSON EXPR WANT
  T_CHECKS=$((T_CHECKS + 1))
  local got; got=$(py "$2" "$3")
  [ "$got" = "$4" ] || fail "$1: got '$got', want '$4'"
}

# ---- two processes, ABBA through process-shared mutexes ----
start "$HANG" procs
parent=$PID
child=$(pgrep -P "$parent" | head -1)
check "procs: child pid printed" [ -n "$child" ]
PIDS+=("$child")
settle "$child" || fail "procs: child did not settle"
for from in parent child both; do
  case $from in
    parent) args=("$parent") ;;
    child) args=("$child") ;;
    both) args=("$parent" "$child") ;;
  esac
  j=$T_TMP/procs-$from.json
  check_status 66 "attach procs from the $from" "$LG" attach "${args[@]}" --json "$j"
  expect "procs ($from): one deadlock" "$j" "[x['kind'] for x in f]" "['deadlock']"
  expect "procs ($from): its two threads" "$j" "sorted(t['name'] for t in f[0]['threads'])" "['child-ba', 'parent-ab']"
  expect "procs ($from): each in its own process" "$j" "(pid_of('parent-ab'), pid_of('child-ba'))" "([$parent], [$child])"
  expect "procs ($from): two waiting edges" "$j" "len([e for e in f[0]['edges'] if 'waiting' in e['flags']])" "2"
  expect "procs ($from): owners are the other side" "$j" "sorted(l['owner'] for l in f[0]['locks'])" "$(python3 -c "print(sorted([$parent, $child]))")"
  expect "procs ($from): nobody exited" "$j" "any(l.get('owner_exited') for l in r['locks'])" "False"
done
"$LG" attach "$child" --max-frames 1 >"$T_TMP/procs.txt" 2>&1
check_grep "procs text: the other process named" "thread $parent \"parent-ab\" of process $parent" "$T_TMP/procs.txt"
check_grep "procs text: both processes in the verdict" "^lockgraph: processes $child \(child-ba\) and $parent \(parent-ab\), 2 threads: 1 deadlock; the processes cannot make progress" "$T_TMP/procs.txt"
kill -9 "$parent" "$child"

# run --hang-timeout watches the whole tree: the runtime in each process sees only its half.
timeout -s KILL 60 "$LG" run --hang-timeout 1 --json "$T_TMP/procs-run.json" -- "$HANG" procs \
  >"$T_TMP/procs-run.out" 2>"$T_TMP/procs-run.err"
rc=$?
check "procs under run --hang-timeout: a defect (exit $rc, want 66)" [ "$rc" = 66 ]
expect "procs under run: the cross-process deadlock" "$T_TMP/procs-run.json" "[(x['kind'], sorted(t['name'] for t in x['threads'])) for x in f]" "[('deadlock', ['child-ba', 'parent-ab'])]"
check_grep "procs under run: says the tree was ended" 'the program was ended' "$T_TMP/procs-run.err"

# ---- a private mutex copied locked by fork ----
start "$HANG" fork-held
parent=$PID
child=$(pgrep -P "$parent" | head -1)
PIDS+=("$child")
settle "$child" || fail "fork-held: child did not settle"
holder=$(for t in /proc/"$parent"/task/*; do [ "$(cat "$t/comm")" = holder ] && basename "$t"; done)
for from in child both; do
  [ "$from" = child ] && args=("$child") || args=("$parent" "$child")
  j=$T_TMP/fh-$from.json
  check_status 66 "attach fork-held from the $from" "$LG" attach "${args[@]}" --json "$j"
  expect "fork-held ($from): an orphaned lock, no deadlock" "$j" "[x['kind'] for x in f]" "['orphaned-lock']"
  expect "fork-held ($from): the parent's holder, flagged" "$j" "[(l['owner'], l.get('owner_pid'), l.get('owner_forked')) for l in f[0]['locks']]" "[($holder, $parent, True)]"
  expect "fork-held ($from): the waiter is the child" "$j" "[t['name'] for t in f[0]['threads'] if t.get('state') == 'blocked']" "['forked']"
  expect "fork-held ($from): said so" "$j" "'which held it when this process was forked' in f[0]['summary']" "True"
done
check_status 0 "dump fork-held child" "$LG" dump "$child" -o "$T_TMP/fh.core"
check_status 66 "core of the fork-held child" "$LG" core "$T_TMP/fh.core" "$HANG" --json "$T_TMP/fh-core.json"
expect "fork-held core: an orphaned lock" "$T_TMP/fh-core.json" "[x['kind'] for x in f]" "['orphaned-lock']"
rm -f "$T_TMP/fh.core"
kill -9 "$parent" "$child"

# The runtime reports it itself in the child (tests/runtime); with its watch off, the tree
# watcher explains it from the outside.
timeout -s KILL 60 "$LG" run --hang-timeout 1 --deadlocks 0 --json "$T_TMP/fh-run.json" -- \
  "$HANG" fork-held >"$T_TMP/fh-run.out" 2>"$T_TMP/fh-run.err"
rc=$?
check "fork-held under run --hang-timeout: a defect (exit $rc, want 66)" [ "$rc" = 66 ]
expect "fork-held under run: the orphan, owned in the parent" "$T_TMP/fh-run.json" "[(x['kind'], x['locks'][0].get('owner_forked')) for x in f]" "[('orphaned-lock', True)]"

done_tests
