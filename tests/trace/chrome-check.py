#!/usr/bin/env python3
"""chrome-check.py FILE: validate lockgraph's Chrome trace-event JSON.

Checks: it parses; displayTimeUnit is the first key; every X slice has ts/dur >= 0; slices on
each (pid, tid) nest strictly (no partial overlap); every thread track with slices is named by
an M thread_name event; flows come in s/f pairs with the same id, cat and name, s no later
than f, f has "bp": "e", and each end sits inside a slice on its own track. Prints a summary
line; exits 1 with the first problems otherwise."""
import json
import sys
from collections import defaultdict

def ns(v):
    return round(float(v) * 1000)

def main(path):
    text = open(path).read()
    doc = json.loads(text)
    problems = []
    if not text.lstrip().startswith('{"displayTimeUnit"'):
        problems.append("displayTimeUnit is not the first key")
    events = doc["traceEvents"]
    tracks = defaultdict(list)
    named = set()
    flows = defaultdict(list)
    for e in events:
        ph = e["ph"]
        if ph == "X":
            b, d = ns(e["ts"]), ns(e["dur"])
            if b < 0 or d < 0:
                problems.append("negative ts/dur: %r" % e)
            tracks[(e["pid"], e["tid"])].append((b, b + d, e["name"]))
        elif ph == "M" and e["name"] == "thread_name":
            named.add((e["pid"], e["tid"]))
        elif ph in "sf":
            flows[e["id"]].append(e)
    nslices = 0
    for key, sl in tracks.items():
        if key not in named:
            problems.append("track %r has slices but no thread_name" % (key,))
        sl.sort(key=lambda s: (s[0], -s[1]))
        stack = []
        for b, e, name in sl:
            nslices += 1
            while stack and stack[-1][1] <= b:
                stack.pop()
            if stack and e > stack[-1][1]:
                problems.append("slices overlap on %r: %r and %r" % (key, stack[-1], (b, e, name)))
            stack.append((b, e, name))
    for fid, pair in flows.items():
        kinds = sorted(p["ph"] for p in pair)
        if kinds != ["f", "s"]:
            problems.append("flow %r is not one s and one f: %r" % (fid, kinds))
            continue
        s = next(p for p in pair if p["ph"] == "s")
        f = next(p for p in pair if p["ph"] == "f")
        if (s["cat"], s["name"]) != (f["cat"], f["name"]):
            problems.append("flow %r: cat/name differ" % fid)
        if f.get("bp") != "e":
            problems.append("flow %r: f without bp e" % fid)
        if ns(s["ts"]) > ns(f["ts"]):
            problems.append("flow %r goes back in time" % fid)
        for p in (s, f):
            t = ns(p["ts"])
            if not any(b <= t <= e for b, e, _ in tracks.get((p["pid"], p["tid"]), [])):
                problems.append("flow %r %s at %d is in no slice of its track" % (fid, p["ph"], t))
    if problems:
        for p in problems[:10]:
            print("chrome-check: " + p)
        return 1
    print("chrome-check: ok: %d slices on %d tracks, %d flows" % (nslices, len(tracks), len(flows)))
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
