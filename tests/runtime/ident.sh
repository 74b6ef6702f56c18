# ident.sh - lock identity and ownership (rt-ident): a lock released by another thread than
# its holder, locks of an unloaded library, churn and held-lock memory, no unexpected system
# call on the lock paths.
. "$(dirname "$0")/lib.sh"
IDENT=$LG_BIN/rt-ident

# A normal mutex and a read lock released by another thread: the holder's state forgets
# them. Without that, the holder's next lock adds M -> N and R -> N, main's N -> M, N -> R
# inverts them, and the second holder "exits holding" its lock.
lg_run handoff -- "$IDENT" handoff
# The hand-offs themselves are lock misuse (unlock-not-owner); no inversion follows them.
expect_rc handoff 66
check_grep "handoff ran" "handoff done" "$T_TMP/handoff.out"
expect handoff "cross-thread release, then a consistent order: no inversion" "sorted(set((x['kind'], x.get('misuse')) for x in f))" "[('lock-misuse', 'unlock-not-owner')]"
expect handoff "the holder whose lock was released exits holding nothing" "[n for n in r.get('notes', []) if 'exited holding' in n]" "[]"

# A library's static mutexes in one order, dlclose, another library mapped at the same
# addresses takes its own in the other order: its locks are new (no false inversion). Two
# builds of one source (same layout); if the loader put them elsewhere, the same library
# is loaded twice instead; the test needs the addresses to coincide and says so.
reuse_run() {
  lg_run dlreuse -- "$IDENT" dlreuse "$1" "$2"
  [ "$(grep -c '^locks ' "$T_TMP/dlreuse.out")" -eq 2 ] && [ "$(grep '^locks ' "$T_TMP/dlreuse.out" | sort -u | wc -l)" -eq 1 ]
}
LIBA=$LG_BUILD/lib/librt-reload-a.so LIBB=$LG_BUILD/lib/librt-reload-b.so
[ -f "$LIBA" ] || LIBA=$LG_BIN/../lib/librt-reload-a.so LIBB=$LG_BIN/../lib/librt-reload-b.so
reuse_run "$LIBA" "$LIBB" || reuse_run "$LIBA" "$LIBA"
T_CHECKS=$((T_CHECKS + 1))
echo "dlreuse: $(grep '^locks ' "$T_TMP/dlreuse.out" | tr '\n' ';')"
[ "$(grep -c '^locks ' "$T_TMP/dlreuse.out")" -eq 2 ] && [ "$(grep '^locks ' "$T_TMP/dlreuse.out" | sort -u | wc -l)" -eq 1 ] \
  || fail "dlreuse: the second library's mutexes are not at the first one's addresses: $(cat "$T_TMP/dlreuse.out" "$T_TMP/dlreuse.err")"
expect_rc dlreuse 0
expect dlreuse "a dlclose'd library's mutexes start fresh at the same addresses" "kinds()" "[]"

# A strict seccomp filter (the program's own system calls only, anything else kills it),
# installed after start-up, then threads lock: the runtime's lock paths make no other call
# (it asked the kernel for the thread's name, tid and affinity on a thread's first lock).
# The filter is real: one call outside it kills the bare program. No --json here: the
# report file is opened at exit (run reports on stderr instead).
T_CHECKS=$((T_CHECKS + 1))
timeout 60 "$IDENT" seccomp bad >/dev/null 2>&1
rc=$?
[ $rc -eq 159 ] || fail "seccomp bad: the filter did not kill a call outside it: status $rc, want 159 (SIGSYS)"
T_CHECKS=$((T_CHECKS + 1))
timeout 60 "$IDENT" seccomp >"$T_TMP/sc-bare.out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "seccomp done" "$T_TMP/sc-bare.out" || fail "seccomp (bare): status $rc: $(cat "$T_TMP/sc-bare.out")"
for i in 1 2 3; do
  T_CHECKS=$((T_CHECKS + 1))
  timeout -k 5 120 "$LG" run -- "$IDENT" seccomp >"$T_TMP/sc.out" 2>"$T_TMP/sc.err"
  rc=$?
  [ $rc -eq 0 ] && grep -q "seccomp done" "$T_TMP/sc.out" || fail "seccomp under run (round $i): status $rc, want 0: $(head -c 800 "$T_TMP/sc.err")"
  T_CHECKS=$((T_CHECKS + 1))
  ! grep -q "lockgraph:" "$T_TMP/sc.err" || fail "seccomp under run: a report: $(head -c 800 "$T_TMP/sc.err")"
done
# The same under record: no system call outside the filter on the recording paths (thread
# names and tids, lock names, trace writes) nor at thread exit and process exit; the trace
# reads whole with every acquisition the workers made.
for i in 1 2; do
  T_CHECKS=$((T_CHECKS + 1))
  rm -f "$T_TMP/sc.trace"
  timeout -k 5 120 "$LG" record -o "$T_TMP/sc.trace" -- "$IDENT" seccomp >"$T_TMP/sc.out" 2>"$T_TMP/sc.err"
  rc=$?
  [ $rc -eq 0 ] && grep -q "seccomp done" "$T_TMP/sc.out" || fail "seccomp under record (round $i): status $rc, want 0: $(head -c 800 "$T_TMP/sc.err")"
  T_CHECKS=$((T_CHECKS + 1))
  timeout 60 "$LG" report -f json "$T_TMP/sc.trace" >"$T_TMP/sc.json" 2>"$T_TMP/sc.rerr" \
    && python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); n=sum(l.get("acquisitions",0) for l in r["locks"]); assert r["closed"] and n >= 4*2000*6, (r["closed"], n)' "$T_TMP/sc.json" \
    || fail "seccomp under record (round $i): the trace does not read whole: $(head -c 800 "$T_TMP/sc.rerr")"
done

# 5,000 locks held at once, three rounds: memory linear in N (every held lock an edge source
# made N^2/2 edges: 1.6 GB here). Generous bound: 40 KB a lock above a 100 MB base.
lg_run hold -- "$IDENT" hold 5000
expect_rc hold 0
expect hold "5,000 held at once: no finding" "kinds()" "[]"
T_CHECKS=$((T_CHECKS + 1))
hwm=$(sed -n 's/^held 5000 VmHWM \([0-9]*\)$/\1/p' "$T_TMP/hold.out")
[ -n "$hwm" ] && [ "$hwm" -lt $((100000 + 5000 * 40)) ] || fail "hold: VmHWM ${hwm:-?} kB for 5,000 held locks, want < $((100000 + 5000 * 40)) kB"

# free() of a block holding locks on several pages and 64 KiB regions (one a spinlock at a
# 4-byte offset): each of the four is forgotten, once.
lg_run bigfree --verbose -- "$IDENT" bigfree
expect_rc bigfree 0
check_grep "bigfree ran" "bigfree done" "$T_TMP/bigfree.out"
check_grep "bigfree: the four locks of the block forgotten" ", 4 freed locks," "$T_TMP/bigfree.err"

# Churn: 10^6 mutexes created, used, destroyed and freed, then 10^6 used and freed without
# destroy: runs to its end, counts every one, memory bounded (lock records are reused by
# address: a churn at one address is one record).
# The counts (--verbose): a new generation of a lock taken again from the same call site with
# nothing held is the fast path (it was a slow path and a chain each: 2 million), and each
# free() of a live lock kills it once (a destroyed one is dead already).
lg_run churn --verbose -- "$IDENT" churn 1000000
expect_rc churn 0
check_grep "churn: a few slow paths and chains, not one per lock" " [0-9] chains \\(0 flushes\\), 0 edges, [0-9] slow paths," "$T_TMP/churn.err"
check_grep "churn: every lock freed alive is forgotten once" ", 1000000 freed locks," "$T_TMP/churn.err"
expect churn "churn: no finding" "kinds()" "[]"
check_grep "churn: every lock created" "^churn 2000000 VmHWM" "$T_TMP/churn.out"
T_CHECKS=$((T_CHECKS + 1))
hwm=$(sed -n 's/^churn 2000000 VmHWM \([0-9]*\)$/\1/p' "$T_TMP/churn.out")
[ -n "$hwm" ] && [ "$hwm" -lt 100000 ] || fail "churn: VmHWM ${hwm:-?} kB, want < 100 MB"

done_tests
