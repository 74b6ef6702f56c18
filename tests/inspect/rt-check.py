"""rt-check.py - checks a report of attach/core on a hung program that runs the lockgraph
runtime (tests/inspect/runtime.sh): read owners come from the runtime's records (flagged
owners_from_runtime, never inferred), every deadlock edge carries the stack where its held
lock was taken (holds_stack, innermost frame = the function of tests/progs/hang.c that took
it), waits are annotated in the program's code (not the runtime's interposers), and the report
says the runtime's state was read.

usage: rt-check.py REPORT.json MODE
"""
import json
import sys

# mode -> (lock name -> function that took it, read-held locks, thread names)
EXPECT = {
    "abba": ({"mutex_a": "lock_a", "mutex_b": "lock_b"}, set(), {"locker-ab", "locker-ba"}),
    "rwlock-rw": ({"rw_x": "rdlock_x", "rw_y": "rdlock_y"}, {"rw_x", "rw_y"},
                  {"reader-x", "reader-y"}),
    "self-rw": ({"rw_x": "upgrade_self"}, {"rw_x"}, {"self-locker"}),
}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def main():
    path, mode = sys.argv[1], sys.argv[2]
    takers, shared, names = EXPECT[mode]
    r = json.load(open(path))
    dead = [f for f in r["findings"] if f["kind"] == "deadlock"]
    check(len(dead) == 1, f"want 1 deadlock, got {len(dead)}")
    check(any("lockgraph runtime" in n and "state version 1" in n for n in r.get("notes", [])),
          f"no note that the runtime's state was read: {r.get('notes')}")
    check(any("agree with the kernel on every recorded wait" in n for n in r.get("notes", [])),
          "the runtime's recorded waits were not cross-checked as agreeing")
    if not dead:
        return
    f = dead[0]
    # The runtime waits in timed slices; its records say the program's calls have no timeout.
    check(not f["timed"], "deadlock flagged timed (the runtime's own wait slices)")
    check("cannot make progress" in r["verdict"], f"verdict: {r['verdict']}")
    tname = {t["tid"]: t.get("name") for t in f["threads"]}
    check(set(tname.values()) == names, f"threads {set(tname.values())}, want {names}")
    lock = {l["id"]: l for l in f["locks"]}
    check(not any("inferred" in n for n in f.get("notes", [])), "an inferred-reader note")
    for l in f["locks"]:
        check(not l.get("owner_inferred"), f"{l['name']}: owner inferred")
        if l["name"] in shared:
            check(l.get("owners_from_runtime"), f"{l['name']}: owner not from the runtime")
            check(l.get("owner") in tname, f"{l['name']}: owner {l.get('owner')} not in the cycle")
        else:
            check(not l.get("owners_from_runtime"), f"{l['name']}: owner from the runtime")
    check(len(f["edges"]) == len(names), f"{len(f['edges'])} edges")
    for e in f["edges"]:
        held = lock[e["holds"]]["name"]
        hs = e["holds_stack"]
        check(hs, f"thread {e['thread']}: no holds_stack for {held}")
        if hs:
            check(hs[0].get("function") == takers[held],
                  f"{held} taken in {hs[0].get('function')}, want {takers[held]}")
            check(not any("liblockgraph" in (fr.get("module") or "") for fr in hs),
                  f"{held}: holds_stack has runtime frames")
        want_mode = "shared" if held in shared else "exclusive"
        check(e["holds_mode"] == want_mode, f"{held} held {e['holds_mode']}, want {want_mode}")
        st = e["stack"]
        check(st and "liblockgraph" not in (st[0].get("module") or ""),
              f"thread {e['thread']}: wait annotated in the runtime: {st[:1]}")


main()
if failures:
    print("\n".join(failures))
    sys.exit(1)
