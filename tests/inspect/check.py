#!/usr/bin/env python3
"""check.py REPORT.json MODE [--core] [--stripped]: check an attach/core report of
`hang MODE` against what that hang must show. One table entry per hung program: adding one
(e.g. the demo) is one line in EXPECT and one in attach.sh's MODES.
check.py --batch: the same for every line "REPORT.json MODE [FLAGS]" of stdin, in one python
start (attach.sh checks ~50 reports); one line per failed report, then "N reports, M failed"."""
import json
import sys

# mode: (finding kind or None, lock names in the cycle/finding, thread names in it,
#        functions that must appear in the waiting stacks, extra checks)
EXPECT = {
    "abba":      ("deadlock", {"mutex_a", "mutex_b"}, {"locker-ab", "locker-ba"}, {"lock_a", "lock_b"}, {}),
    "rwlock-ww": ("deadlock", {"rw_x", "rw_y"}, {"writer-xy", "writer-yx"}, {"wrlock_x", "wrlock_y"}, {}),
    "rwlock-wr": ("deadlock", {"rw_x", "rw_y"}, {"writer-x", "writer-y"}, {"rdlock_x", "rdlock_y"}, {"mode": "shared"}),
    "rwlock-rw": ("deadlock", {"rw_x", "rw_y"}, {"reader-x", "reader-y"}, {"wrlock_x", "wrlock_y"}, {"readers": {"rw_x": 1, "rw_y": 1}, "inferred": True}),
    "ring3":     ("deadlock", {"mutex_a", "mutex_b", "mutex_c"}, {"ring-1", "ring-2", "ring-3"}, set(), {}),
    "self":      ("deadlock", {"mutex_a"}, {"self-locker"}, {"relock_self"}, {"self": True}),
    "self-rw":   ("deadlock", {"rw_x"}, {"self-locker"}, {"upgrade_self"}, {"self": True, "inferred": True, "readers": {"rw_x": 1}}),
    "robust":    ("deadlock", {"mutex_a", "mutex_b"}, {"locker-ab", "locker-ba"}, {"lock_a", "lock_b"}, {"attr": "robust"}),
    "pi":        ("deadlock", {"mutex_a", "mutex_b"}, {"locker-ab", "locker-ba"}, {"lock_a", "lock_b"}, {"attr": "priority-inheritance"}),
    "timed":     ("deadlock", {"mutex_a", "mutex_b"}, {"locker-ab", "timed-ba"}, {"timed_lock_a"}, {"timed": True}),
    "c11":       ("deadlock", {"c11_a", "c11_b"}, {"c11-ab", "c11-ba"}, {"c11_lock_a", "c11_lock_b"}, {"attr": "c11"}),
    "cond":      ("no-progress", set(), set(), set(), {"waits": {"cond-waiter": ("condvar", "cond_never")}}),
    "sem":       ("no-progress", set(), set(), set(), {"waits": {"sem-waiter": ("semaphore", "sem_never")}}),
    "orphan":    ("orphaned-lock", {"mutex_a"}, {"hang"}, set(), {"exited_owner": "mutex_a"}),
    "join":      ("deadlock", {"mutex_a"}, {"hang", "joinee"}, set(), {}),
    "idle":      ("no-progress", set(), set(), set(), {"waits": {"hang": ("condvar", "cond_never")}}),
    "read":      (None, set(), set(), set(), {"syscall": ("reader", "read(fd "), "owner": {"mutex_a": "reader"}}),
    "barrier":   ("no-progress", set(), set(), set(), {"waits": {"at-barrier": ("barrier", "three")}}),
    "kinds":     ("deadlock", {"mutex_a", "mutex_b"}, {"locker-ab", "locker-ba"}, set(), {"attr": "recursive", "attr2": "errorcheck"}),
    "spin":      (None, set(), set(), set(), {"waits": {"spinner-ab": ("spinlock", "spin_b"), "spinner-ba": ("spinlock", "spin_a")}}),
    "demo":      ("deadlock", {"resource1", "resource2"}, {"mover", "deleter"}, {"mover_main", "deleter_main"}, {}),
    "pshared":   ("deadlock", {"mutex_a", "mutex_b"}, {"locker-ab", "locker-ba"}, set(), {"attr": "adaptive", "attr2": "process-shared"}),
    # stdout's FILE lock (glibc _IO_lock_t: its owner is a thread descriptor) in a cycle
    "stdio":     ("deadlock", {"stdout", "mutex_a"}, {"writer", "file-holder"}, {"write_line", "lock_a"}, {"types": {"stdout": "FILE"}, "never": "orphaned-lock"}),
    # a program's own futex lock (word 2 beside zeros): a futex wait, never a mutex
    "futex":     ("no-progress", set(), set(), set(), {"raw_futex": "futex-waiter", "never_type": "mutex"}),
    "stack-aa":  ("deadlock", set(), {"self-locker"}, {"stack_aa"}, {"self": True, "stack_lock": "stack_aa"}),
    "stack-aba": ("deadlock", set(), {"self-locker"}, {"stack_aba"}, {"self": True, "stack_lock": "stack_aba"}),
}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def check_report(argv):
    path, mode = argv[0], argv[1]
    core = "--core" in argv
    stripped = "--stripped" in argv
    names = not core or "--names" in argv   # plain cores carry no thread names
    r = json.load(open(path))
    kind, locks, threads, funcs, extra = EXPECT[mode]
    tids = {t["tid"]: t for t in r["threads"]}
    tname = {t["tid"]: t.get("name") for t in r["threads"]}
    check(r.get("verdict"), "no verdict")
    check(len(r["threads"]) >= 1, "no threads")
    kinds = [f["kind"] for f in r["findings"]]
    if kind is None:
        check(not any(f["defect"] for f in r["findings"]), f"unexpected defects {kinds}")
    else:
        check(kind in kinds, f"no {kind} finding, got {kinds}")
    f = next((f for f in r["findings"] if f["kind"] == kind), None)
    if f and locks:
        got = {l["name"] for l in f["locks"] if l["type"] != "thread"}
        if not stripped:
            check(got == locks, f"locks {got} != {locks}")
        else:
            check(len(got) == len(locks), f"locks {got}, expected {len(locks)}")
    if f and threads and names:
        got = {tname.get(e["thread"]) for e in f["edges"] if "waiting" in e["flags"]}
        check(got == threads, f"threads {got} != {threads}")
    if f and kind == "deadlock":
        # every waiting thread's lock is held by the next thread of the cycle
        owners = {l["id"]: l.get("owner") for l in f["locks"]}
        joins = {l["id"] for l in f["locks"] if l["type"] == "thread"}
        waiters = {e["thread"] for e in f["edges"]}
        for e in f["edges"]:
            check("waiting" in e["flags"], "edge not flagged waiting")
            check(owners.get(e["acquires"]) in waiters,
                  f"owner of {e['acquires']} ({owners.get(e['acquires'])}) not in the cycle")
            # a joined thread holds nothing: it is what its joiner waits for
            check(e["holds"] is not None or joins, "edge without a held lock")
        if funcs and not stripped:
            fns = {fr.get("function") for e in f["edges"] for fr in e["stack"]}
            check(funcs <= fns, f"functions {funcs - fns} missing from the waiting stacks")
        if stripped:
            frames = [fr for e in f["edges"] for fr in e["stack"]]
            mine = [fr for fr in frames if (fr.get("module") or "").endswith("hang-stripped")]
            check(mine, "no frame in hang-stripped")
            check(all(fr.get("function") is None and fr.get("offset") for fr in mine),
                  "stripped frames should be module+offset")
        if extra.get("inferred"):
            check(any("inferred to read-hold" in n for n in f["notes"]), "no inferred-reader note")
            check(all(l.get("owner_inferred") for l in f["locks"]), "owners not flagged inferred")
        if extra.get("self"):
            check(f["self"], "not flagged self")
        if extra.get("timed"):
            check(f["timed"], "not flagged timed")
        if "mode" in extra:
            check(any(e["acquires_mode"] == extra["mode"] for e in f["edges"]),
                  f"no {extra['mode']} wait")
        for a in ("attr", "attr2"):
            if a in extra:
                attrs = " ".join(l.get("attrs") or "" for l in f["locks"])
                check(extra[a] in attrs, f"attrs '{attrs}' lack {extra[a]}")
    if f and "types" in extra:
        for name, typ in extra["types"].items():
            got = [l["type"] for l in f["locks"] if l.get("name") == name]
            check(got == [typ], f"{name} has type {got}, want {typ}")
    if "never" in extra:
        check(extra["never"] not in kinds, f"reported {extra['never']}: {kinds}")
    if f and "stack_lock" in extra:
        # named after the thread whose stack holds it, and the function (when unwound)
        ls = [l for l in f["locks"] if l["type"] == "mutex"]
        check(len(ls) == 1, f"{len(ls)} mutexes in the self-deadlock, want 1")
        for l in ls:
            n = l.get("name") or ""
            check(n.startswith("stack of thread "), f"stack lock named {n!r}")
            check(stripped or n.endswith(" in " + extra["stack_lock"]),
                  f"stack lock {n!r} does not name {extra['stack_lock']}")
            check(l.get("owner") in {e["thread"] for e in f["edges"]}, "owner not the waiter")
    if "raw_futex" in extra:
        ws = [t for t in r["threads"] if t.get("name") == extra["raw_futex"] or not names]
        ok = False
        for t in ws:
            l = next((l for l in r.get("locks", []) if l["id"] == t.get("wait_lock")), None)
            ok |= bool(l and l["type"] == "futex" and not l.get("owner") and
                       (t.get("wait") or "").startswith("futex wait on 0x") and
                       "(value 2)" in (t.get("wait") or ""))
        check(ok, f"{extra['raw_futex']} does not show a plain futex wait with its value")
    if "never_type" in extra:
        got = [l for l in r.get("locks", []) if l["type"] == extra["never_type"]]
        check(not got, f"reported as {extra['never_type']}: {got}")
    rlocks = {l.get("name"): l for l in r.get("locks", [])}
    for name, n in extra.get("readers", {}).items():
        check(rlocks.get(name, {}).get("readers") == n,
              f"{name} readers {rlocks.get(name, {}).get('readers')} != {n}")
    for who, (typ, lname) in extra.get("waits", {}).items():
        ws = [t for t in r["threads"] if t.get("name") == who or not names]
        ok = False
        for t in ws:
            wl = t.get("wait_lock")
            l = next((l for l in r.get("locks", []) if l["id"] == wl), None)
            ok |= bool(l and l["type"] == typ and (stripped or l["name"] == lname))
        check(ok, f"{who} does not wait on {typ} {lname}")
    if "exited_owner" in extra:
        l = rlocks.get(extra["exited_owner"], {})
        check(l.get("owner_exited") is True and l.get("owner") not in tids,
              f"{extra['exited_owner']} owner not exited: {l}")
    if "syscall" in extra and names:
        who, prefix = extra["syscall"]
        t = next((t for t in r["threads"] if t.get("name") == who), {})
        check((t.get("wait") or "").startswith(prefix) and "pipe:[" in (t.get("wait") or ""),
              f"{who} wait {t.get('wait')!r} does not name the pipe")
    for name, who in extra.get("owner", {}).items():
        l = rlocks.get(name, {})
        check(names is False or tname.get(l.get("owner")) == who, f"{name} owner {l.get('owner')}")
    # every blocked thread has a stack
    for t in r["threads"]:
        check(t.get("stack"), f"thread {t['tid']} has no stack")


def main():
    global failures
    if sys.argv[1:2] != ["--batch"]:
        check_report(sys.argv[1:])
        if failures:
            print(f"{sys.argv[2]}: " + "; ".join(failures))
            sys.exit(1)
        return
    sets = [line.split() for line in sys.stdin.read().splitlines() if line.strip()]
    bad = 0
    for argv in sets:
        failures = []
        try:
            check_report(argv)
        except Exception as e:   # a missing or broken report fails its line, not the batch
            failures.append(f"{type(e).__name__}: {e}")
        if failures:
            bad += 1
            print(f"{' '.join(argv)}: " + "; ".join(failures))
    print(f"{len(sets)} reports, {bad} failed")
    sys.exit(1 if bad else 0)


main()
