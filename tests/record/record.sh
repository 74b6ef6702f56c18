#!/usr/bin/env bash
# record.sh - `lockgraph record` end to end: the preloaded runtime records a real program's
# lock events (src/runtime/record.c), `lockgraph report` reads them back.
#  - demo (consistent order): the mover waits on resource1 for the creator's whole holding
#    time and is readied by the creator's release, both stacks in the demo's functions;
#    the Chrome export is valid, nests per thread and pairs its flows
#  - counts: a contention benchmark's own counters equal the report's, exactly, recorded by
#    default (uncontended acquisitions counted, not events) and with --all-events; an
#    uncontended program's default trace has no lock events at all, the same counts
#  - deadlock: the runtime reports hang abba and ends it with 66; the trace is readable up
#    to the deadlock, with both waits still open
#  - a fatal signal (forwarded SIGTERM) still leaves the events recorded so far, and so does
#    an exec
#  - bad usage: one line, exit 2 (or 1/127 for what cannot be run or written)
source "$LG_SRCDIR/tests/lib/sh-harness.sh"
LG="$LG_BIN/lockgraph"
CHECK="$LG_SRCDIR/tests/trace/chrome-check.py"

# ---- demo ----
mkdir -p "$T_TMP/demo"
check_status 0 "record the demo" timeout 120 "$LG" record -o "$T_TMP/d.trace" -- \
  "$LG_BIN/lockgraph-demo" --order consistent --files 200 --writes 20 --dir "$T_TMP/demo"
check_grep "demo ran to its summary" '^summary: 200 files created, 200 moved, 200 deleted' "$T_TMP/out"
check_grep "record says where the trace is" "^lockgraph record: wrote '.*d.trace' \([0-9]+ bytes\); see 'lockgraph report " "$T_TMP/err"
check_status 0 "demo report json" timeout 60 "$LG" report -f json --max-waits 0 "$T_TMP/d.trace"
check "mover waits for the creator's whole hold of resource1, readied by its release" python3 - "$T_TMP/out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
names = {t["tid"]: t["name"] for t in r["threads"]}
locks = {l["id"]: l for l in r["locks"]}
fn = lambda st: [f.get("function") for f in st]
assert r["closed"] and r["dropped"] == 0, r
r1 = [l for l in r["locks"] if l["name"] == "resource1"][0]
# the creator's one hold of resource1 (its top holder entry)
creator = [t for t, n in names.items() if n == "creator"][0]
ch = [h for h in r1["top_holders"] if h["tid"] == creator][0]
waits = [w for w in r["waits"] if names[w["tid"]] == "mover" and w["lock"] == r1["id"]]
w = max(waits, key=lambda w: w["duration_ns"])
ok = (w["owner"] == creator and w["readier"] == creator and w["acquired"] and w["ended"]
      and w["longest_holder"] == creator
      and w["release_ns"] <= w["end_ns"]
      # the creator's release ended it: the wait began before that release (no ratio of
      # durations: on a loaded machine the mover may start waiting late in the creator's hold)
      and w["begin_ns"] < w["release_ns"] and w["longest_hold_ns"] > 0
      and "mover_main" in fn(w["stack"]) and "creator_main" in fn(w["release_stack"])
      and "creator_main" not in fn(w["stack"]))
# every thread starts (THREAD_START from the pthread_create wrapper) before it first waits,
# and was created by the main thread
main = r["pid"]
mover = [t for t in r["threads"] if t["name"] == "mover"][0]
ok = ok and mover["begin_ns"] < w["begin_ns"]
if not ok:
    print(json.dumps(w, indent=1), ch); sys.exit(1)
PY
check_status 0 "demo report text" timeout 60 "$LG" report "$T_TMP/d.trace"
check_grep "text: the mover's wait is listed" '^  [0-9]+\. thread [0-9]+ "mover" waited [0-9.]+ [mun]?s for L[0-9]+ rwlock resource1' "$T_TMP/out"
check_grep "text: readied by the creator" 'readied by thread [0-9]+ "creator", which released it' "$T_TMP/out"
check_grep "text: waiter's stack in mover_main" ' mover_main at .*threads\.c:[0-9]+' "$T_TMP/out"
check_grep "text: release stack in creator_main" ' creator_main at .*threads\.c:[0-9]+' "$T_TMP/out"
check_grep "text: three named threads" '^  [0-9]+ +deleter ' "$T_TMP/out"
check_status 0 "demo chrome" timeout 60 "$LG" report -f chrome -o "$T_TMP/d.json" "$T_TMP/d.trace"
check "chrome json is valid, nests per thread, flows paired" python3 "$CHECK" "$T_TMP/d.json"
check_grep "chrome has flows" '"ph": "s"' "$T_TMP/d.json"
check_grep "chrome has the mover's wait slice" '"name": "wait L[0-9]+ rwlock resource1"' "$T_TMP/d.json"

# ---- counts: by default (counted) and with --all-events, the same counts ----
for mode in default all; do
  opt=(); [ $mode = all ] && opt=(--all-events)
  check_status 0 "record the contention benchmark ($mode)" timeout 120 "$LG" record "${opt[@]}" -o "$T_TMP/c-$mode.trace" -- \
    "$LG_BIN/record-counts" 4 20000 40
  cp "$T_TMP/out" "$T_TMP/counts-$mode.json"
  check_status 0 "counts report json ($mode)" timeout 60 "$LG" report -f json --max-waits 0 "$T_TMP/c-$mode.trace"
  cp "$T_TMP/out" "$T_TMP/c-$mode.json"
  check "report counts equal the program's own counters ($mode)" python3 - "$T_TMP/counts-$mode.json" "$T_TMP/out" $mode <<'PY'
import json, sys
want = json.load(open(sys.argv[1]))["locks"]
r = json.load(open(sys.argv[2]))
counted = sys.argv[3] == "default"
got = {l["name"]: l for l in r["locks"]}
bad = 0
for w in want:
    g = got.get(w["name"])
    for k in ("acquisitions", "contended", "trylock_failed"):
        if g is None or (k in w and g[k] != w[k]):
            print("lock %s %s: program %r, report %r" % (w["name"], k, w.get(k), g and g[k])); bad += 1
if got["hot"]["acquisitions"] != 80000 or got["handoff"]["contended"] != 40: bad += 1
if r["dropped"] != 0 or not r["closed"]: bad += 1
if r.get("counted", False) != counted: print("counted", r.get("counted")); bad += 1
names = sorted(t["name"] for t in r["threads"] if t["tid"] != r["pid"])
if names != ["holder", "waiter"] + ["worker"] * 4: print(names); bad += 1
# the main thread is there too: it created the others (pthread_create is wrapped)
if [t["name"] for t in r["threads"] if t["tid"] == r["pid"]] != ["record-counts"]: bad += 1
# per thread: the workers' acquisitions are 2 x 20000 each (hot and plain)
tids = {t["tid"]: t for t in r["threads"]}
if sorted(t["acquisitions"] for t in r["threads"] if t["name"] == "worker") != [40000] * 4: bad += 1
# each handoff round: the holder released the mutex while the waiter was blocked on it, so
# the waiter's wait was readied by the holder (a release that found a waiter is an event)
holder = [t["tid"] for t in r["threads"] if t["name"] == "holder"][0]
h = got["handoff"]["id"]
hw = [w for w in r["waits"] if w["lock"] == h and tids[w["tid"]]["name"] == "waiter"]
if len(hw) != 40 or any(w["readier"] != holder or not w["release_stack"] for w in hw):
    print("handoff waits", len(hw), [w["readier"] for w in hw]); bad += 1
sys.exit(1 if bad else 0)
PY
done
check "by default the trace has far fewer events than with --all-events, the same acquisitions" python3 - "$T_TMP/c-default.json" "$T_TMP/c-all.json" <<'PY'
import json, sys
d, a = (json.load(open(p)) for p in sys.argv[1:3])
# --all-events: an acquisition and a release per pair, at least 2 x (80000 + 80000 + 80)
assert a["events"] >= 2 * 160080, a["events"]
assert d["events"] < a["events"] / 4, (d["events"], a["events"])
# what the program forces is the same (hot's contention depends on the scheduling: each run
# matched the program's own counters above)
da = {l["name"]: l["acquisitions"] for l in d["locks"]}
aa = {l["name"]: l["acquisitions"] for l in a["locks"]}
hc = [[l["contended"] for l in r["locks"] if l["name"] == "handoff"] for r in (d, a)]
assert da == aa and hc == [[40], [40]], (da, aa, hc)
PY

# ---- spinlock waits name their releaser: a spinlock's word shows no waiter, so the waiter
# lists itself for its holder's release (record-count.h); each of the 12 rounds forces the
# wait (the spinner's own CPU clock runs 50 ms while the holder holds the lock) ----
for mode in default all; do
  opt=(); [ $mode = all ] && opt=(--all-events)
  check_status 0 "record 12 spinlock hand-offs ($mode)" timeout 120 "$LG" record "${opt[@]}" -o "$T_TMP/sp-$mode.trace" -- \
    "$LG_BIN/record-counts" spin 12
  check_status 0 "their report ($mode)" timeout 60 "$LG" report -f json --max-waits 0 "$T_TMP/sp-$mode.trace"
  check "every spinlock wait was readied by the holder, at its release ($mode)" python3 - "$T_TMP/out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
tids = {t["tid"]: t["name"] for t in r["threads"]}
holder = [t for t, n in tids.items() if n == "holder"]
spin = [l["id"] for l in r["locks"] if l["name"] == "spin"]
w = [w for w in r["waits"] if w["lock"] in spin and tids.get(w["tid"]) == "spinner"]
ok = len(holder) == 1 and len(spin) == 1 and len(w) == 12
ok = ok and all(x["readier"] == holder[0] and x["release_stack"] for x in w)
if not ok:
    print("holder", holder, "spin", spin, "waits", [(x["tid"], x.get("readier")) for x in w])
sys.exit(0 if ok else 1)
PY
done

# ---- an uncontended program: counts, not events ----
for mode in default all; do
  opt=(); [ $mode = all ] && opt=(--all-events)
  check_status 0 "record an uncontended program ($mode)" timeout 120 "$LG" record "${opt[@]}" -o "$T_TMP/s-$mode.trace" -- \
    "$LG_BIN/record-counts" solo 5000
  cp "$T_TMP/out" "$T_TMP/solo-$mode.json"
  check_status 0 "its report ($mode)" timeout 60 "$LG" report -f json "$T_TMP/s-$mode.trace"
  cp "$T_TMP/out" "$T_TMP/s-$mode.json"
done
check "solo: both report the program's counts; by default only thread events, holds sampled" python3 - "$T_TMP/solo-default.json" "$T_TMP/s-default.json" "$T_TMP/s-all.json" <<'PY'
import json, sys
want = {l["name"]: l["acquisitions"] for l in json.load(open(sys.argv[1]))["locks"]}
d, a = (json.load(open(p)) for p in sys.argv[2:4])
for r in (d, a):
    # the heap lock is named by where it was first taken
    for l in r["locks"]:
        if l["name"].startswith("heap, first taken in take_heap (counts.c:"):
            l["name"] = "heap"
    got = {l["name"]: l["acquisitions"] for l in r["locks"] if l["name"] in want}
    assert got == want and all(l["contended"] == 0 for l in r["locks"]), (got, want)
    assert [t["acquisitions"] for t in r["threads"]] == [sum(want.values())], r["threads"]
# --all-events: every acquisition and release is an event (plus the main thread's start)
assert a["events"] == 2 * sum(want.values()) + 1, a["events"]
# by default: the thread's start only, and the counts; about 1 hold in 64 timed (5000 of
# each lock at least: every lock has samples, so a time held)
assert d["events"] == 1 and d.get("counted") and not a.get("counted"), (d["events"], d.get("counted"))
assert all(l["total_hold_ns"] > 0 and l["top_holders"][0]["holds"] == l["acquisitions"]
           for l in d["locks"] if l["name"] in want), d["locks"]
PY

# ---- many locks in one thread: its counts table grows, nothing is lost ----
check_status 0 "record 5000 locks x 3" timeout 120 "$LG" record -o "$T_TMP/m.trace" -- "$LG_BIN/record-counts" many 5000 3
check_status 0 "its report, every lock" timeout 60 "$LG" report -f json --all "$T_TMP/m.trace"
check "every one of the 5000 locks taken exactly 3 times" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
acq = [l["acquisitions"] for l in r["locks"]]
sys.exit(0 if len(acq) == 5000 and set(acq) == {3} and r["threads"][0]["acquisitions"] == 15000 else 1)' "$T_TMP/out"

# ---- a stripped program: globals by module+offset, the heap lock by its call site ----
strip -o "$T_TMP/counts-stripped" "$LG_BIN/record-counts"
check_status 0 "record the stripped program" timeout 120 "$LG" record -o "$T_TMP/st.trace" -- "$T_TMP/counts-stripped" solo 100
check_status 0 "its report" timeout 60 "$LG" report -f json "$T_TMP/st.trace"
check "globals are module+offset (the symbols' offsets in the unstripped build), the heap lock its call site" python3 - "$T_TMP/out" "$LG_BIN/record-counts" <<'PY'
import json, re, subprocess, sys
r = json.load(open(sys.argv[1]))
names = sorted(l["name"] for l in r["locks"])
# the module's base: its lowest PT_LOAD (0 for a PIE)
loads = [int(l.split()[2], 16) for l in subprocess.check_output(["readelf", "-lW", sys.argv[2]], text=True).splitlines() if l.strip().startswith("LOAD")]
base = min(loads) & ~0xfff
syms = {}
for l in subprocess.check_output(["nm", sys.argv[2]], text=True).splitlines():
    f = l.split()
    if len(f) == 3 and f[2] in ("plain", "inner", "table"):
        syms[f[2]] = "counts-stripped+0x%x" % (int(f[0], 16) - base)
heap = [n for n in names if n.startswith("heap, first taken at counts-stripped+0x")]
assert sorted(syms.values()) == sorted(n for n in names if not n.startswith("heap")), (names, syms)
assert len(heap) == 1 and len(names) == 4, names
PY

# ---- exec: the events before it are flushed ----
check_status 0 "record a program that execs" timeout 60 "$LG" record -o "$T_TMP/e.trace" -- "$LG_BIN/record-counts" exec 7
check_status 0 "exec trace report" timeout 60 "$LG" report -f json "$T_TMP/e.trace"
check "the 7 acquisitions before exec are in the trace" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if [l["acquisitions"] for l in r["locks"] if l["name"] == "plain"] == [7] else 1)' "$T_TMP/out"

# ---- deadlock ----
check_status 66 "record a deadlocking program" timeout 60 "$LG" record -o "$T_TMP/dl.trace" -- "$LG_BIN/hang" abba
check_grep "the runtime reported the deadlock" 'deadlock' "$T_TMP/err"
check_status 0 "deadlock trace is readable" timeout 60 "$LG" report "$T_TMP/dl.trace"
check_grep "no end record noted" '^note: the trace has no end record' "$T_TMP/out"
check_grep "locker-ab still waits for mutex_b" 'locker-ab" waited .* for L[0-9]+ mutex mutex_b, .*\(still waiting when the trace ended\)' "$T_TMP/out"
check_grep "locker-ba still waits for mutex_a" 'locker-ba" waited .* for L[0-9]+ mutex mutex_a, .*\(still waiting when the trace ended\)' "$T_TMP/out"
check_status 0 "deadlock trace json" timeout 60 "$LG" report -f json "$T_TMP/dl.trace"
check "two open waits, each held by the other" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
w = [x for x in r["waits"] if not x["ended"]]
# the trace ends at the flush made when the deadlock was found, after both waits began
sys.exit(0 if len(w) == 2 and {x["owner"] for x in w} == {x["tid"] for x in w} and not r["closed"]
         and all(x["duration_ns"] > 0 for x in w) else 1)' "$T_TMP/out"
check_status 66 "a program found on PATH" env PATH="$LG_BIN:$PATH" timeout 60 "$LG" record -o "$T_TMP/p.trace" -- hang abba
check_grep "its global locks are named (argv[0] has no '/')" 'Fix: acquire mutex_[ab] before mutex_[ab]' "$T_TMP/err"
check_status 0 "its trace report" timeout 60 "$LG" report "$T_TMP/p.trace"
check_grep "names in the trace too" '^  L[0-9]+ mutex mutex_a ' "$T_TMP/out"
check_status 0 "runtime options pass through: --on-deadlock wait, then SIGTERM" bash -c '
  "$1" record --on-deadlock wait -o "$2" -- "$3" abba >/dev/null 2>"$2.err" & p=$!
  for i in $(seq 1 300); do grep -q deadlock "$2.err" && break; sleep 0.1; done
  kill -TERM $p; wait $p; st=$?; [ $st -eq 143 ] || { echo "exit $st" >&2; exit 1; }' _ "$LG" "$T_TMP/w.trace" "$LG_BIN/hang"
check_status 0 "the killed program's trace is readable" timeout 60 "$LG" report "$T_TMP/w.trace"
check_grep "and keeps the waits" 'locker-ab" waited .*\(still waiting when the trace ended\)' "$T_TMP/out"

# ---- bad usage ----
check_status 2 "no -o" "$LG" record -- true
check_lines "one line" 1 "$T_TMP/err"
check_grep "says -o is needed" '^lockgraph record: expected -o FILE for the trace$' "$T_TMP/err"
check_status 2 "no program" "$LG" record -o "$T_TMP/x.trace"
check_grep "says the program is missing" "^lockgraph record: expected a program to run after '--'$" "$T_TMP/err"
check_status 2 "bad runtime option value" "$LG" record -o "$T_TMP/x.trace" --on-deadlock sometimes -- true
check_grep "names the bad value" "^lockgraph record: invalid value 'sometimes' for --on-deadlock" "$T_TMP/err"
check_status 2 "unknown option" "$LG" record -o "$T_TMP/x.trace" --colour -- true
check_status 127 "missing program" "$LG" record -o "$T_TMP/x.trace" -- "$T_TMP/no-such-program"
check_grep "says it cannot run it" "^lockgraph record: cannot run '.*no-such-program': No such file or directory$" "$T_TMP/err"
check_status 2 "unwritable trace" "$LG" record -o "$T_TMP/no/such/dir/x.trace" -- true
check_grep "says it cannot write the trace" "^lockgraph record: --output: cannot write trace file '.*x.trace': No such file or directory$" "$T_TMP/err"
check_status 0 "program status passes through" "$LG" record -o "$T_TMP/t.trace" -- true
check_status 3 "program status 3" "$LG" record -o "$T_TMP/t.trace" -- sh -c 'exit 3'

# ---- the answer first: a program whose worst lock is known (worst.c) ----
check_status 0 "record worst" timeout 120 "$LG" record -o "$T_TMP/w.trace" -- "$LG_BIN/record-worst"
check_status 0 "report worst" timeout 60 "$LG" report "$T_TMP/w.trace"
cp "$T_TMP/out" "$T_TMP/worst.txt"
check "summary and tables lead with hot_lock, then warm_lock (more waits, less waiting)" python3 - "$T_TMP/worst.txt" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().split("\n")
i = lines.index("summary")
assert lines[1] == "" and "most waiting:" in lines[i + 1] and "hot_lock: " in lines[i + 1], lines[i:i + 5]
assert "over 2 waits" in lines[i + 1], lines[i + 1]
assert "warm_lock: " in lines[i + 2] and "over 3 waits" in lines[i + 2], lines[i + 2]
assert lines[i + 3].strip().startswith("longest wait:") and "hot_lock" in lines[i + 3], lines[i + 3]
assert lines[i + 4].strip().startswith("waited most:"), lines[i + 4]
t = lines.index("locks, most waiting first")
assert "hot_lock" in lines[t + 2] and "warm_lock" in lines[t + 3], lines[t:t + 4]
rows = [l for l in lines[t + 2:] if re.match(r"  L\d+ ", l)]
assert len(rows) == 20, len(rows)
assert "  (13 more locks, with less waiting: --all lists every one)" in lines, "no more-rows line"
PY
check_status 0 "report worst --all" timeout 60 "$LG" report --all "$T_TMP/w.trace"
check "--all lists all 33 locks" python3 - "$T_TMP/out" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
t = text.index("locks, most waiting first")
rows = [l for l in text[t:].split("\n\n")[0].split("\n") if re.match(r"  L\d+ ", l)]
assert len(rows) == 33 and "more locks" not in text, len(rows)
PY
# the export's bound on holds: with every hold recorded (--all-events)
check_status 0 "record worst --all-events" timeout 120 "$LG" record --all-events -o "$T_TMP/wa.trace" -- "$LG_BIN/record-worst"
check_status 0 "chrome export of worst" timeout 60 "$LG" report -f chrome -o "$T_TMP/w.json" "$T_TMP/wa.trace"
check "chrome: valid, named after the program, waits and only the holds that made them" python3 - "$T_TMP/w.json" "$CHECK" <<'PY'
import json, subprocess, sys
assert subprocess.call([sys.executable, sys.argv[2], sys.argv[1]]) == 0
d = json.load(open(sys.argv[1]))
ev = d["traceEvents"]
pn = [e for e in ev if e.get("name") == "process_name"][0]["args"]["name"]
assert pn.startswith("record-worst (pid "), pn
waits = [e for e in ev if e.get("cat") == "lock-wait"]
holds = [e for e in ev if e.get("cat") == "lock-hold"]
assert len(waits) == 5, len(waits)
assert all("filler" not in h["name"] and "cold_lock" not in h["name"] for h in holds), holds
assert 0 < len(holds) <= 10 and d["otherData"]["omitted_holds"] >= 31, (len(holds), d["otherData"])
PY
check_grep "report says what the export left out" "the Chrome trace leaves out [0-9]+ holds \\(at most" "$T_TMP/err"
check_status 0 "chrome --all-holds" timeout 60 "$LG" report -f chrome --all-holds -o "$T_TMP/wa.json" "$T_TMP/wa.trace"
check "chrome --all-holds: every hold" python3 - "$T_TMP/wa.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
holds = [e for e in d["traceEvents"] if e.get("cat") == "lock-hold"]
assert d["otherData"]["omitted_holds"] == 0 and sum("filler" in h["name"] for h in holds) == 30, d["otherData"]
PY

done_tests
