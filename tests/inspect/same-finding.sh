#!/usr/bin/env bash
# same-finding.sh - one deadlock reads the same whichever way it was caught: `lockgraph run`
# (the runtime, live), `lockgraph attach` on the same program hung without lockgraph, and
# `lockgraph core` on a dump of it give the same summary and fix line (thread ids aside), for
# the demo's rwlock deadlock and for an ABBA mutex deadlock (tests/progs/hang.c). The demo's
# fix keeps its consistent order (resource1 before resource2) and names the call site past
# the lock helper every acquisition goes through (threads.c:226, not :78). And the fix of a
# racy ABBA (which thread closes the cycle is a race) is one line over 20 runs.
. "$LG_SRCDIR/tests/lib/sh-harness.sh"
LG=$LG_BIN/lockgraph
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T_TMP"; }
trap cleanup EXIT
. "$LG_SRCDIR/tests/inspect/procs.sh"

# The deadlock finding's summary and fix from a JSON report, thread ids replaced by N.
words() {
  python3 - "$1" <<'EOF'
import json, re, sys
r = json.load(open(sys.argv[1]))
f = [f for f in r["findings"] if f["kind"] == "deadlock"]
for x in f[:1]:
    for k in ("summary", "fix"):
        print(re.sub(r"thread [0-9]+", "thread N", x.get(k) or ""))
print(len(f))
EOF
}

# same NAME RUN-ARGS... -- : run it under lockgraph, then bare (attach, dump, core).
same() {
  local name=$1; shift
  mkdir -p "$T_TMP/$name-run" "$T_TMP/$name-bare"
  local args=("$@")
  check_status 66 "$name: run" "$LG" run --json "$T_TMP/$name-run.json" -- \
    "${args[@]//@DIR@/$T_TMP/$name-run}"
  start "${args[@]//@DIR@/$T_TMP/$name-bare}"
  check_status 66 "$name: attach" "$LG" attach "$PID" --json "$T_TMP/$name-attach.json"
  check_status 0 "$name: dump" "$LG" dump "$PID" -o "$T_TMP/$name.core"
  check_status 66 "$name: core" "$LG" core "$T_TMP/$name.core" "${args[0]}" \
    --json "$T_TMP/$name-core.json"
  kill -9 "$PID" 2>/dev/null
  words "$T_TMP/$name-run.json" >"$T_TMP/$name-run.words"
  words "$T_TMP/$name-attach.json" >"$T_TMP/$name-attach.words"
  words "$T_TMP/$name-core.json" >"$T_TMP/$name-core.words"
  check "$name: one deadlock under run: $(tail -1 "$T_TMP/$name-run.words")" \
    [ "$(tail -1 "$T_TMP/$name-run.words")" = 1 ]
  check "$name: attach says what run says: $(cat "$T_TMP/$name-run.words") / $(cat "$T_TMP/$name-attach.words")" \
    cmp -s "$T_TMP/$name-run.words" "$T_TMP/$name-attach.words"
  check "$name: core says what attach says: $(cat "$T_TMP/$name-core.words")" \
    cmp -s "$T_TMP/$name-attach.words" "$T_TMP/$name-core.words"
}

same demo "$LG_BIN/lockgraph-demo" --files 5 --writes 2 --dir @DIR@
check "demo: the summary" grep -qx 'thread N "mover" -> resource2 -> thread N "deleter" -> resource1 -> thread N: 2 threads wait for each other' "$T_TMP/demo-run.words"
# The lines of the demo's calls (read from the source, so edits to the demo do not break this).
# (the third lock_exclusive(&resource1, ...) is the deleter's, in the inconsistent order)
line=$(grep -n 'lock_exclusive(&resource1' "$LG_SRCDIR/demo/threads.c" | sed -n 3p | cut -d: -f1)
check "demo: the fix keeps resource1 before resource2, at the deleter's call (threads.c:$line)" \
  grep -qx "acquire resource1 before resource2 in every thread: thread N \"deleter\" holds resource2 while it waits for resource1 at threads.c:$line" "$T_TMP/demo-run.words"
# Where the threads were created: the runtime knows it, attach and core say nothing.
check "demo: creation stacks under run" grep -q '"created_stack"' "$T_TMP/demo-run.json"
check "demo: none from attach or core" bash -c "! grep -q '\"created_stack\"' '$T_TMP/demo-attach.json' '$T_TMP/demo-core.json'"
same abba "$LG_BIN/hang" abba
lines=$(grep -n '^LOCKER(lock_a, ' "$LG_SRCDIR/tests/progs/hang.c" | cut -d: -f1)
check "abba: the fix" grep -qx "acquire mutex_a before mutex_b in every thread: thread N \"locker-ba\" holds mutex_b while it waits for mutex_a at hang.c:$lines" "$T_TMP/abba-run.words"

# 20 runs of the ABBA under run: one fix line (read from the 20 reports in one python start).
for i in $(seq 20); do
  "$LG" run --json "$T_TMP/r$i.json" -- "$LG_BIN/hang" abba >/dev/null 2>&1
done
python3 - "$T_TMP"/r{1..20}.json <<'EOF' | sort | uniq -c >"$T_TMP/fixes"
import json, re, sys
for p in sys.argv[1:]:
    try:
        f = [f for f in json.load(open(p))["findings"] if f["kind"] == "deadlock"]
    except Exception as e:
        f = []
    print(re.sub(r"thread [0-9]+", "thread N", f[0].get("fix") or "") if f else "no deadlock in " + p)
EOF
check "20 runs of a racy ABBA: one fix line: $(cat "$T_TMP/fixes")" \
  grep -qx " *20 acquire mutex_a before mutex_b .*" "$T_TMP/fixes"
done_tests
