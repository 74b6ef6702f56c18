# misuse.sh - lock misuse findings (issue 13), unlocks, destroys, frees, inits, relocks,
# thread exits: each case of misuse.c with its subkind, lock, glibc's refusal, sites, status
# 66 (misuse-lib.sh); and --misuse, suppressions. Condition waits: misuse-cond.sh; the legal
# look-alikes: misuse-legal.sh.
. "$(dirname "$0")/misuse-lib.sh"

misuse_case double-unlock "['unlock-not-held']" mu None "['misuse']"
misuse_case unlock-never-locked "['unlock-not-held']" mu None "['misuse']"
misuse_case errorcheck-double-unlock "['unlock-not-held']" emu EPERM "['misuse']"
misuse_case recursive-over-unlock "['unlock-not-held']" rmu EPERM "['misuse']"
misuse_case rwlock-double-unlock "['unlock-not-held']" rw None "['misuse']"
misuse_case spin-double-unlock "['unlock-not-held']" spin None "['misuse']"
misuse_case unlock-other-thread "['unlock-not-owner']" mu None "['misuse', 'acquired']"
misuse_case errorcheck-unlock-other-thread "['unlock-not-owner']" emu EPERM "['misuse', 'acquired']"
misuse_case rwlock-unlock-other-reader "['unlock-not-owner']" rw None "['misuse', 'acquired']"
misuse_case destroy-locked "['destroy-held']" mu2 EBUSY "['misuse', 'acquired']"
misuse_case destroy-rwlock-held "['destroy-held']" rw None "['misuse', 'acquired']"
misuse_case destroy-then-lock "['use-after-destroy', 'use-after-destroy', 'use-after-destroy']" gone_mu EINVAL "['misuse', 'destroyed']"
misuse_case destroy-free-lock "['use-after-destroy']" heap EINVAL "['misuse', 'destroyed']"
misuse_case destroy-twice "['use-after-destroy']" gone_mu None "['misuse', 'destroyed']"
# free() of memory holding a held lock: destroy-held, the misusing site "freed".
misuse_case free-held "['destroy-held']" heap None "['freed', 'acquired']"
misuse_case free-other-holds "['destroy-held']" heap None "['freed', 'acquired']"
expect free-held "holder is the freeing thread" "f[0]['sites'][0]['thread'] == f[0]['sites'][1]['thread']" "True"
expect free-other-holds "holder is the other thread, a reader" \
  "(f[0]['sites'][0]['thread'] != f[0]['sites'][1]['thread'], f[0]['sites'][1]['mode'])" "(True, 'shared')"
check_grep "free-held: the stanza says freed" "frees the memory of L1 at:" "$T_TMP/free-held.err"
# A held mutex freed (four times, one call site), its memory allocated again and initialised:
# the free is destroy-held once, the new lock's init is no reinit-live.
misuse_case reinit-free "['destroy-held']" heap None "['freed', 'acquired']"
misuse_case cond-wait-destroyed "['use-after-destroy']" gone_mu EINVAL "['misuse', 'destroyed']"
misuse_case mtx-after-destroy "['use-after-destroy']" gone_mtx EINVAL "['misuse', 'destroyed']"
misuse_case reinit-held "['reinit-live']" live_mu None "['misuse', 'acquired']"
misuse_case reinit-other-holds "['reinit-live']" live_rw None "['misuse', 'acquired']"
misuse_case exit-locked "['exit-holding']" mu None "['acquired']"
misuse_case errorcheck-relock "['relock-refused']" emu EDEADLK "['misuse', 'acquired']"
# two call sites: two findings (wrlock again, then rdlock)
misuse_case rwlock-wrlock-twice "['relock-refused', 'relock-refused']" rw EDEADLK "['misuse', 'acquired']"
# tc12/tc20's rwlock unlocks: never locked, a write lock twice, two read locks thrice.
misuse_case rwlock-unlock-cases "['unlock-not-held', 'unlock-not-held', 'unlock-not-held']" rw_un1 None "['misuse']"
expect rwlock-unlock-cases "one per lock" "[x['locks'][0]['name'] for x in f]" "['rw_un1', 'rw_un2', 'rw_un3']"
# tc22: a detached thread ends by pthread_exit holding two locks: one finding, both locks.
misuse_case exit-locked-detached "['exit-holding']" dm1 None "['acquired', 'acquired']"
expect exit-locked-detached "both locks" "[l['name'] for l in f[0]['locks']]" "['dm1', 'dm2']"
# TSan's mutex_destroy_locked2: a thread destroys its own locked local mutex.
misuse_case destroy-locked-in-thread "['destroy-held']" stack EBUSY "['misuse', 'acquired']"
# tc09 twice: the child's unlock of the parent's local mutex is the only misuse (one call
# site: one finding); the next call's new local at the same place, locked again, is none.
misuse_case unlock-other-reuse "['unlock-not-owner']" stack None "['misuse', 'acquired']"

# The holder's thread and the misusing thread are told apart.
expect unlock-other-thread "holder is another thread" "f[0]['sites'][0]['thread'] != f[0]['sites'][1]['thread']" "True"
expect destroy-locked "holder is the destroyer" "f[0]['sites'][0]['thread'] == f[0]['sites'][1]['thread']" "True"
# The cross-thread unlock is no lock-order inversion (it once made one).
expect unlock-other-thread "no inversion" "inv()" "[]"
# The destroy is the program's, by the same thread, in the case's function.
expect destroy-then-lock "destroyed by the user" "f[0]['sites'][1]['thread'] == f[0]['sites'][0]['thread']" "True"
expect reinit-other-holds "holder is the other thread" "f[0]['sites'][0]['thread'] != f[0]['sites'][1]['thread']" "True"

# Suppressible like every finding: by a frame of the misusing call.
printf 'function:double_unlock\n' >"$T_TMP/supp"
lg_run supp --suppressions "$T_TMP/supp" -- "$MIS" double-unlock
expect_rc supp 0
expect supp "suppressed" "kinds()" "[]"

# --misuse turns subkinds off: the program is the same, the finding is gone.
lg_run off --misuse all,-unlock-not-held -- "$MIS" double-unlock
expect_rc off 0
expect off "no finding" "kinds()" "[]"
lg_run none --misuse none -- "$MIS" exit-locked
expect_rc none 0
expect none "no finding, a note instead" "[n for n in r['notes'] if 'exited holding' in n] != []" "True"
lg_run only --misuse exit-holding -- "$MIS" exit-locked
expect_rc only 66
T_CHECKS=$((T_CHECKS + 1))
"$LG" run --misuse all,-bogus -- true >"$T_TMP/bad.out" 2>"$T_TMP/bad.err"
[ $? -eq 2 ] && grep -q -- "--misuse" "$T_TMP/bad.err" || fail "a bad --misuse value is a usage error: $(cat "$T_TMP/bad.err")"
T_CHECKS=$((T_CHECKS + 1))
LOCKGRAPH_MISUSE=nonsense LD_PRELOAD=$LG_LIB/liblockgraph.so "$MIS" double-unlock >/dev/null 2>"$T_TMP/env.err"
grep -q "invalid value 'nonsense' for LOCKGRAPH_MISUSE" "$T_TMP/env.err" || fail "a bad LOCKGRAPH_MISUSE: $(cat "$T_TMP/env.err")"
done_tests
