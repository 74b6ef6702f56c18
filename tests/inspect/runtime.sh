#!/usr/bin/env bash
# runtime.sh - attach / dump / core on hung programs that run the lockgraph runtime
# (LD_PRELOAD, LOCKGRAPH_ON_DEADLOCK=wait keeps them hung after the runtime's own report):
# read owners are the runtime's records (not inferred), every held lock of a deadlock has its
# acquisition stack, the same from a dump read back by `core` and from a gcore core
# (rt-check.py). A runtime that publishes an unknown state version is ignored: the report is
# the one without the runtime.
. "$LG_SRCDIR/tests/lib/sh-harness.sh"
LG=$LG_BIN/lockgraph
HANG=$LG_BIN/hang
RT=$LG_BUILD/lib/liblockgraph.so
RTCHECK="python3 $LG_SRCDIR/tests/inspect/rt-check.py"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T_TMP"; }
trap cleanup EXIT
. "$LG_SRCDIR/tests/inspect/procs.sh"

for mode in rwlock-rw self-rw abba; do
  start env LD_PRELOAD="$RT" LOCKGRAPH_ON_DEADLOCK=wait "$HANG" "$mode"
  check_status 66 "attach $mode (runtime)" "$LG" attach "$PID" --json "$T_TMP/$mode.json"
  check "attach $mode (runtime) report" $RTCHECK "$T_TMP/$mode.json" "$mode"
  check "attach $mode (runtime): target alive" kill -0 "$PID"
  check_status 0 "dump $mode (runtime)" "$LG" dump "$PID" -o "$T_TMP/$mode.core"
  check_status 66 "core $mode (runtime)" "$LG" core "$T_TMP/$mode.core" "$HANG" \
    --json "$T_TMP/$mode.core.json"
  check "core $mode (runtime) report" $RTCHECK "$T_TMP/$mode.core.json" "$mode"
  if [ "$mode" = rwlock-rw ]; then
    check_status 66 "attach $mode (runtime) text" "$LG" attach "$PID"
    check_grep "text: read-held by name" 'write-lock rwlock rw_y, read-held by thread [0-9]+ "reader-y"' "$T_TMP/out"
    check_grep "text: held lock's stack" '^  holds L[0-9], read-locked at:$' "$T_TMP/out"
    check_grep "text: owner column" 'rwlock +rw_x +thread [0-9]+ "reader-x" \(reader\)' "$T_TMP/out"
  fi
  kill -9 "$PID" 2>/dev/null
  rm -f "$T_TMP/$mode.core"
done

# The held stacks the runtime reused from main's earlier acquisitions at the same call sites
# (hang.c abba-warm): attach shows each call site as the holder's and marks the callers as
# the first acquisition's, as the runtime's own report does (tests/runtime/deadlocks.sh).
start env LD_PRELOAD="$RT" LOCKGRAPH_ON_DEADLOCK=wait "$HANG" abba-warm
check_status 66 "attach abba-warm (runtime)" "$LG" attach "$PID" --json "$T_TMP/warm.json"
check "attach abba-warm: call sites own, callers shared" python3 - "$T_TMP/warm.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
f = [x for x in d["findings"] if x["kind"] == "deadlock"][0]
hs = [e["holds_stack"] for e in f["edges"] if e.get("holds_stack")]
assert len(hs) == 2, hs
for s in hs:
    assert s[0]["function"] in ("lock_a", "lock_b") and not s[0].get("shared"), s[0]
    assert len(s) > 1 and all(fr.get("shared") for fr in s[1:]), s
PY
kill -9 "$PID" 2>/dev/null

# A core written by gcore (no LOCKGRAPH note: the thread names come from the runtime's
# records too).
start env LD_PRELOAD="$RT" LOCKGRAPH_ON_DEADLOCK=wait "$HANG" rwlock-rw
if timeout 60 gcore -o "$T_TMP/g" "$PID" >/dev/null 2>&1; then
  check_status 66 "core from gcore (runtime)" "$LG" core "$T_TMP/g.$PID" "$HANG" --json "$T_TMP/g.json"
  check "gcore (runtime) report" $RTCHECK "$T_TMP/g.json" rwlock-rw
else
  fail "gcore could not write a core of $PID"
fi
kill -9 "$PID" 2>/dev/null
rm -f "$T_TMP/g.$PID"

# A runtime whose published version this lockgraph does not know: its state is not used (one
# note) and the report is what it was before attach could read the runtime: no owner from its
# records, no acquisition stacks. The version field is patched in a copy of the library
# (published.h: the 64-bit magic, then the 32-bit version).
off=$(python3 - "$RT" <<'PY'
import subprocess, sys
syms = subprocess.run(["readelf", "-W", "--dyn-syms", sys.argv[1]], capture_output=True, text=True).stdout
a = int(next(l.split()[1] for l in syms.splitlines() if l.split()[-1:] == ["lg_runtime_state"]), 16)
secs = subprocess.run(["readelf", "-W", "-S", sys.argv[1]], capture_output=True, text=True).stdout
for l in secs.splitlines():
    p = l.replace("[ ", "[").split()
    if len(p) > 5 and p[0].startswith("[") and p[1] == ".data":
        addr, off = int(p[3], 16), int(p[4], 16)
        print(off + (a - addr) + 8)
PY
)
cp "$RT" "$T_TMP/liblockgraph.so"
printf '\x63\x00\x00\x00' | dd of="$T_TMP/liblockgraph.so" bs=1 seek="$off" conv=notrunc status=none
start env LD_PRELOAD="$T_TMP/liblockgraph.so" LOCKGRAPH_ON_DEADLOCK=wait "$HANG" rwlock-rw
# The runtime's waits are the program's own untimed calls, so the outside view is the bare
# process's: the readers are inferred (as for a process without the runtime, attach.sh).
check_status 66 "attach (unknown runtime version)" "$LG" attach "$PID" --json "$T_TMP/v99.json"
check_grep "unknown version: readers inferred, as without the runtime" '"owner_inferred": true' "$T_TMP/v99.json"
check_grep "unknown version: one note" 'publishes state version 99, this lockgraph reads version 1: not used' "$T_TMP/v99.json"
check "unknown version: no owner from the runtime" bash -c "! grep -q owners_from_runtime '$T_TMP/v99.json'"
check "unknown version: no acquisition stacks" bash -c "! grep -q '\"holds_stack\": \[{' '$T_TMP/v99.json'"
kill -9 "$PID" 2>/dev/null
done_tests
