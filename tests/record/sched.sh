#!/usr/bin/env bash
# sched.sh - `lockgraph record --sched`: the kernel's view from a private tracefs instance.
# As root with tracefs (this machine): the demo's mover is woken by the creator (the kernel
# agrees with the runtime's readying thread), threads have on-CPU time, the instance is gone
# afterwards and tracefs is mounted or not as before; a deadlock's open waits have no waker.
# Without root or tracefs: one clear error line and exit 1, and nothing is run.
source "$LG_SRCDIR/tests/lib/sh-harness.sh"
LG="$LG_BIN/lockgraph"
TRACING=/sys/kernel/tracing
mounted_before=$(grep -c " $TRACING tracefs " /proc/mounts)

if [ "$(id -u)" != 0 ] || ! grep -qw tracefs /proc/filesystems; then
  check_status 1 "--sched without root or tracefs" "$LG" record --sched -o "$T_TMP/s.trace" -- true
  check_grep "says why" '^lockgraph record: --sched: ' "$T_TMP/err"
  check_lines "one line" 1 "$T_TMP/err"
  done_tests; exit
fi

mkdir -p "$T_TMP/demo"
check_status 0 "record the demo with --sched" timeout 120 "$LG" record --sched -o "$T_TMP/s.trace" -- \
  "$LG_BIN/lockgraph-demo" --order consistent --files 200 --writes 20 --dir "$T_TMP/demo"
check "no lockgraph tracefs instance left" bash -c "! ls $TRACING/instances 2>/dev/null | grep -q '^lockgraph-'"
check "tracefs mounted as before" test "$(grep -c " $TRACING tracefs " /proc/mounts)" = "$mounted_before"
check_status 0 "report json" timeout 60 "$LG" report -f json --max-waits 0 "$T_TMP/s.trace"
check "the kernel saw the creator wake the mover; threads ran" python3 - "$T_TMP/out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
names = {t["tid"]: t["name"] for t in r["threads"]}
tid = {v: k for k, v in names.items()}
w = max((w for w in r["waits"] if names[w["tid"]] == "mover"), key=lambda w: w["duration_ns"])
bad = []
if not (w["readier"] == tid["creator"] and w["woken_by"] == tid["creator"]):
    bad.append("waker")
if not (w["begin_ns"] <= w["woken_ns"] <= w["end_ns"]):
    bad.append("wake time")
for t in r["threads"]:
    life = t["end_ns"] - t["begin_ns"]
    # us-precise kernel clock against ns events: 0.1 ms of slack
    if not (t["on_cpu_ns"] > 0 and t["on_cpu_ns"] + t["runnable_ns"] <= life + 100000):
        bad.append("times of %s: on %d + runnable %d > life %d" % (t["name"], t["on_cpu_ns"], t["runnable_ns"], life))
# the creator does the work (4000 writes while holding resource1), the mover mostly waits
c = [t for t in r["threads"] if t["name"] == "creator"][0]
m = [t for t in r["threads"] if t["name"] == "mover"][0]
if not m["on_cpu_ns"] < c["on_cpu_ns"]:
    bad.append("mover on cpu %d >= creator %d" % (m["on_cpu_ns"], c["on_cpu_ns"]))
if bad: print(bad); sys.exit(1)
PY
check_status 0 "report text" timeout 60 "$LG" report "$T_TMP/s.trace"
check_grep "the kernel's view table" "^threads, the kernel's view$" "$T_TMP/out"
check_grep "the mover's wake-up" '^     kernel: woken at \+[0-9.]+ [mu]?s by thread [0-9]+ "creator"$' "$T_TMP/out"
check_status 0 "chrome still valid" timeout 60 "$LG" report -f chrome -o "$T_TMP/s.json" "$T_TMP/s.trace"
check "chrome check" python3 "$LG_SRCDIR/tests/trace/chrome-check.py" "$T_TMP/s.json"

check_status 66 "a deadlock with --sched" timeout 60 "$LG" record --sched -o "$T_TMP/d.trace" -- "$LG_BIN/hang" abba
check "no instance left after the deadlock either" bash -c "! ls $TRACING/instances 2>/dev/null | grep -q '^lockgraph-'"
check_status 0 "deadlock report json" timeout 60 "$LG" report -f json "$T_TMP/d.trace"
check "open waits: no waker, threads known to the kernel" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
w = [x for x in r["waits"] if not x["ended"]]
sys.exit(0 if len(w) == 2 and all(x["woken_by"] is None for x in w)
         and all("on_cpu_ns" in t for t in r["threads"]) else 1)' "$T_TMP/out"
check_status 127 "--sched with a program that cannot be run" "$LG" record --sched -o "$T_TMP/n.trace" -- "$T_TMP/none"
check "and leaves no instance" bash -c "! ls $TRACING/instances 2>/dev/null | grep -q '^lockgraph-'"
done_tests
