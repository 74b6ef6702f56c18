#!/usr/bin/env bash
# trace-report.sh - the trace pipeline end to end: a real multi-threaded program records
# itself with the writer (as the runtime will), `lockgraph report` reads it back.
#  - counts: the report's acquisitions and contended acquisitions per lock equal the
#    program's own atomic counters, exactly; text, JSON and Chrome outputs are valid
#  - demo: the move thread waits on resource1 for the creation thread's whole run and is
#    readied by the creation thread's release, with both stacks symbolized
#  - deadlock: a program that deadlocks still leaves a readable trace (waits never ended)
#  - fork: the child does not write into the parent's trace
#  - budget: a byte budget stops recording with one message; the trace stays readable
#  - damage: truncated and corrupted traces give one warning line and exit 1, never a crash
source "$LG_SRCDIR/tests/lib/sh-harness.sh"
LG="$LG_BIN/lockgraph"
PROG="$LG_BIN/trace-contention"
CHECK="$LG_SRCDIR/tests/trace/chrome-check.py"
export ASAN_OPTIONS=detect_leaks=0

# ---- counts ----
check_status 0 "contention records" env LOCKGRAPH_TRACE="$T_TMP/c.trace" timeout 120 "$PROG" counts 4 20000
cp "$T_TMP/out" "$T_TMP/counts.json"
check_status 0 "report json" timeout 60 "$LG" report --format json "$T_TMP/c.trace"
cp "$T_TMP/out" "$T_TMP/report.json"
check "counts match the program's own counters" python3 - "$T_TMP/counts.json" "$T_TMP/report.json" <<'PY'
import json, sys
want = json.load(open(sys.argv[1]))["locks"]
got = {l["id"]: l for l in json.load(open(sys.argv[2]))["locks"]}
bad = 0
for w in want:
    g = got.get(w["id"])
    if not g or g["acquisitions"] != w["acquisitions"] or g["contended"] != w["contended"] or g["name"] != w["name"]:
        print("lock %s: program %r, report %r" % (w["id"], w, g)); bad += 1
hot = got[1]
if hot["acquisitions"] != 80000: print("hot lock acquisitions", hot["acquisitions"]); bad += 1
sys.exit(1 if bad else 0)
PY
check_status 0 "report text" timeout 60 "$LG" report "$T_TMP/c.trace"
check_grep "summary line" '^lockgraph report: pid [0-9]+, 6 threads, 7 locks, [0-9]+ events over' "$T_TMP/out"
check_grep "worker thread row" '^  [0-9]+ +worker-0 ' "$T_TMP/out"
check_grep "hot lock row" '^  L1 mutex hot +80000 ' "$T_TMP/out"
check_grep "longest waits section" '^longest waits \(10 of [0-9]+\)' "$T_TMP/out"
check_grep "symbolized frames" ' lk_lock at .*contention.c:[0-9]+' "$T_TMP/out"
check_status 0 "report chrome" timeout 60 "$LG" report -f chrome -o "$T_TMP/c.json" "$T_TMP/c.trace"
check "chrome json is valid, nests, has flows" python3 "$CHECK" "$T_TMP/c.json"
check_grep "chrome has flows" '"ph": "s"' "$T_TMP/c.json"
check_grep "chrome names the wait slices by lock" '"name": "wait L1 mutex hot"' "$T_TMP/c.json"
check "unit goldens' chrome is valid too" python3 "$CHECK" "$LG_SRCDIR/tests/trace/golden/timeline-chrome.golden"
check "unit goldens' json parses" python3 -m json.tool "$LG_SRCDIR/tests/trace/golden/timeline-json.golden" /dev/null

# ---- demo ----
check_status 0 "demo records" env LOCKGRAPH_TRACE="$T_TMP/d.trace" timeout 60 "$PROG" demo
check_status 0 "demo report json" timeout 60 "$LG" report -f json "$T_TMP/d.trace"
check "move waits for creation's whole run, readied by its release" python3 - "$T_TMP/out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
names = {t["tid"]: t["name"] for t in r["threads"]}
w = r["waits"][0]
fn = lambda st: [f.get("function") for f in st]
ok = (names[w["tid"]] == "move" and w["lock"] == 1 and names.get(w["readier"]) == "creation"
      and names.get(w["owner"]) == "creation" and w["begin_ns"] < w["release_ns"]
      and "move_thread" in fn(w["stack"]) and "creation_thread" in fn(w["release_stack"]))
# creation held resource1 through the wait and its release ended it (no ratio of durations:
# how late the move thread starts waiting depends on the machine's load, and which of the
# two holds of resource1 is longer too: creation's ends once move is queued, and move's own
# short hold can be stretched by preemption, so creation need not be the top holder, only one)
holders = [h["tid"] for h in [l for l in r["locks"] if l["id"] == 1][0]["top_holders"]]
creation = [t for t in holders if names.get(t) == "creation"]
ok = (ok and len(creation) == 1 and w["longest_holder"] == creation[0]
      and w["release_ns"] <= w["end_ns"] and w["longest_hold_ns"] > 0)
if not ok: print(json.dumps(w, indent=1)); sys.exit(1)
PY
check_status 0 "demo report text" timeout 60 "$LG" report "$T_TMP/d.trace"
check_grep "demo: the move thread's wait" '^  1\. thread [0-9]+ "move" waited [0-9.]+ [mun]?s for L1 mutex resource1' "$T_TMP/out"
check_grep "demo: readied by creation" 'readied by thread [0-9]+ "creation", which released it' "$T_TMP/out"

# ---- deadlock ----
check_status 66 "deadlocking program" env LOCKGRAPH_TRACE="$T_TMP/dl.trace" timeout 60 "$PROG" deadlock
check_status 0 "deadlock trace is readable" timeout 60 "$LG" report "$T_TMP/dl.trace"
check_grep "both waits are open at the end" 'dl-a" waited .* \(still waiting when the trace ended\)' "$T_TMP/out"
check_grep "the other one too" 'dl-b" waited .* \(still waiting when the trace ended\)' "$T_TMP/out"
check_grep "no end record noted" '^note: the trace has no end record' "$T_TMP/out"

# ---- fork ----
check_status 0 "fork program" env LOCKGRAPH_TRACE="$T_TMP/f.trace" timeout 60 "$PROG" fork
check_status 0 "fork trace report" timeout 60 "$LG" report -f json "$T_TMP/f.trace"
check "only the parent's 4 events" python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["events"] == 4 and len(r["threads"]) == 1 else 1)' "$T_TMP/out"
check "no file for the child" test -z "$(ls "$T_TMP" | grep '^f\.trace\.')"

# ---- budget ----
check_status 0 "budgeted recording" env LOCKGRAPH_TRACE="$T_TMP/b.trace" LOCKGRAPH_TRACE_MAX=20000 timeout 60 "$PROG" counts 2 5000
check_lines "one budget message" 1 "$T_TMP/err"
check_grep "budget message" '^lockgraph: trace budget of 20000 bytes exhausted; recording stopped' "$T_TMP/err"
check "budget respected" test "$(stat -c %s "$T_TMP/b.trace")" -le 20200
check_status 0 "budgeted trace readable" timeout 60 "$LG" report "$T_TMP/b.trace"
check_grep "budget note" '^note: trace budget of 20000 bytes exhausted' "$T_TMP/out"

# ---- damage ----
size=$(stat -c %s "$T_TMP/d.trace")
crashes=0; bad=0
for cut in 0 5 63 64 65 70 100 200 $((size / 3)) $((size / 2)) $((size - 30)) $((size - 1)); do
  head -c "$cut" "$T_TMP/d.trace" >"$T_TMP/cut.trace"
  timeout 30 "$LG" report "$T_TMP/cut.trace" >"$T_TMP/cut.out" 2>"$T_TMP/cut.err"; rc=$?
  [ $rc -ge 2 ] && { crashes=$((crashes + 1)); echo "cut $cut: exit $rc" >&2; }
  [ "$(wc -l <"$T_TMP/cut.err")" -le 1 ] || { bad=$((bad + 1)); echo "cut $cut: $(cat "$T_TMP/cut.err")" >&2; }
done
check "truncations never crash" test $crashes -eq 0
check "truncations give at most one line on stderr" test $bad -eq 0
head -c $((size - 30)) "$T_TMP/d.trace" >"$T_TMP/cut.trace"
check_status 1 "truncated trace exits 1" "$LG" report "$T_TMP/cut.trace"
check_grep "truncation warning" "^lockgraph report: warning: trace file '.*cut.trace' is damaged after [0-9]+ events \(at byte [0-9]+ of [0-9]+\): the chunk at offset [0-9]+ is cut short" "$T_TMP/err"
check_grep "tables of what was readable" '^threads(, most waiting first)?$' "$T_TMP/out"
cp "$T_TMP/d.trace" "$T_TMP/bad.trace"
printf '\x55' | dd of="$T_TMP/bad.trace" bs=1 seek=$((size / 2)) conv=notrunc status=none
check_status 1 "corrupt trace exits 1" "$LG" report "$T_TMP/bad.trace"
check_grep "corruption warning" 'is corrupt \(checksum mismatch\)|is malformed' "$T_TMP/err"
head -c 40 "$T_TMP/d.trace" >"$T_TMP/hdr.trace"
check_status 1 "cut header exits 1" "$LG" report "$T_TMP/hdr.trace"
check_grep "header error" "^lockgraph report: cannot read trace file '.*hdr.trace': the header is truncated \(40 of 64 bytes\)$" "$T_TMP/err"
check_status 1 "not a trace" "$LG" report "$LG_SRCDIR/README.md"
check_grep "bad magic" "not a lockgraph trace \(bad magic\)$" "$T_TMP/err"
check_status 2 "two files" "$LG" report a b
check_status 2 "bad format" "$LG" report -f xml "$T_TMP/d.trace"
check_grep "bad format message" "invalid value 'xml' for --format" "$T_TMP/err"
done_tests
