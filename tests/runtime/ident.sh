# ident.sh - lock identity and ownership (rt-ident): a lock released by another thread than
# its holder, locks of an unloaded library, churn and held-lock memory, no unexpected system
# call on the lock paths.
. "$(dirname "$0")/lib.sh"
IDENT=$LG_BIN/rt-ident

# A normal mutex and a read lock released by another thread: the holder's state forgets
# them. Without that, the holder's next lock adds M -> N and R -> N, main's N -> M, N -> R
# inverts them, and the second holder "exits holding" its lock.
lg_run handoff -- "$IDENT" handoff
expect_rc handoff 0
check_grep "handoff ran" "handoff done" "$T_TMP/handoff.out"
expect handoff "cross-thread release, then a consistent order: no finding" "kinds()" "[]"
expect handoff "the holder whose lock was released exits holding nothing" "[n for n in r.get('notes', []) if 'exited holding' in n]" "[]"

done_tests
