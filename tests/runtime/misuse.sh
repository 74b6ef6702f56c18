# misuse.sh - lock misuse findings (issue 13): each case of tests/runtime/misuse.c under
# `lockgraph run`: the subkind, the lock, glibc's refusal, the sites, exit status 66; and the
# program's own output (every call's result) is the bare run's, line for line. The legal
# look-alikes get no finding and exit 0.
. "$(dirname "$0")/lib.sh"
MIS=$LG_BIN/rt-misuse

# misuse_case CASE SUBKINDS LOCK REFUSED ROLES: one run; SUBKINDS the sorted list of the
# findings' subkinds, LOCK the first lock's name ("heap": any heap address), REFUSED the first finding's "refused",
# ROLES the first finding's site roles in order.
misuse_case() {
  local c=$1 subs=$2 lock=$3 refused=$4 roles=$5
  T_CHECKS=$((T_CHECKS + 1))
  timeout -k 5 60 "$MIS" "$c" >"$T_TMP/$c.bare" 2>&1 || fail "$c: bare run failed: $(head -c 300 "$T_TMP/$c.bare")"
  lg_run "$c" -- "$MIS" "$c"
  expect_rc "$c" 66
  expect "$c" "kinds" "sorted(set(kinds()))" "['lock-misuse']"
  expect "$c" "subkinds" "sorted(x['misuse'] for x in f)" "$subs"
  if [ "$lock" = heap ]; then   # a heap lock is named by its address
    expect "$c" "lock" "f[0]['locks'][0]['name'].startswith('heap 0x')" True
  else
    expect "$c" "lock" "f[0]['locks'][0]['name']" "$lock"
  fi
  expect "$c" "refused" "f[0]['refused']" "$refused"
  expect "$c" "site roles" "[s['role'] for s in f[0]['sites']]" "$roles"
  expect "$c" "misuse site in the case's function" \
    "all(s['stack'] and s['stack'][0]['file'].endswith('misuse.c') for s in f[0]['sites'])" "True"
  T_CHECKS=$((T_CHECKS + 1))
  diff "$T_TMP/$c.bare" "$T_TMP/$c.out" >/dev/null || fail "$c: results differ under the runtime: $(diff "$T_TMP/$c.bare" "$T_TMP/$c.out" | head -c 800)"
  local first=${subs#\[\'}; first=${first%%\'*}
  check_grep "$c: text stanza" "lockgraph: lock misuse \\($first\\)" "$T_TMP/$c.err"
  check_grep "$c: why line" "^Why: " "$T_TMP/$c.err"
}

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
misuse_case cond-wait-destroyed "['use-after-destroy']" gone_mu EINVAL "['misuse', 'destroyed']"
misuse_case mtx-after-destroy "['use-after-destroy']" gone_mtx EINVAL "['misuse', 'destroyed']"
misuse_case reinit-held "['reinit-live']" live_mu None "['misuse', 'acquired']"
misuse_case reinit-other-holds "['reinit-live']" live_rw None "['misuse', 'acquired']"
misuse_case exit-locked "['exit-holding']" mu None "['acquired']"
misuse_case errorcheck-relock "['relock-refused']" emu EDEADLK "['misuse', 'acquired']"
# two call sites: two findings (wrlock again, then rdlock)
misuse_case rwlock-wrlock-twice "['relock-refused', 'relock-refused']" rw EDEADLK "['misuse', 'acquired']"
misuse_case cond-wait-unlocked "['cond-mutex-not-held']" mu None "['misuse']"
misuse_case cond-wait-unlocked-errorcheck "['cond-mutex-not-held']" emu EPERM "['misuse']"
# Helgrind tc23 #4: the mutex is another thread's (named as its holder, with its stack).
misuse_case cond-wait-other-holds "['cond-mutex-not-held']" emu EPERM "['misuse', 'acquired']"
# Two threads wait on cv at once with cm1 and cm2 (the second wait is the misuse): both
# mutexes, the condvar, the other waiter's thread and where it waits.
misuse_case cond-two-mutexes "['cond-two-mutexes']" cm2 None "['misuse', 'other-wait']"
misuse_case cnd-two-mutexes "['cond-two-mutexes']" xm2 None "['misuse', 'other-wait']"
# A waiter that siglongjmp'd out of its wait with cm1 waits again with cm2, and main waits
# with cm1 meanwhile: found, and named with cm2 (its stale record of cm1 was withdrawn).
misuse_case cond-jumped-rewait-overlap "['cond-two-mutexes']" cm1 None "['misuse', 'other-wait']"
expect cond-jumped-rewait-overlap "the other wait is with cm2" \
  "[l['name'] for l in f[0]['locks'] if l['id'] == f[0]['sites'][1]['lock']]" "['cm2']"

# The holder's thread and the misusing thread are told apart.
expect unlock-other-thread "holder is another thread" "f[0]['sites'][0]['thread'] != f[0]['sites'][1]['thread']" "True"
expect destroy-locked "holder is the destroyer" "f[0]['sites'][0]['thread'] == f[0]['sites'][1]['thread']" "True"
# The cross-thread unlock is no lock-order inversion (it once made one).
expect unlock-other-thread "no inversion" "inv()" "[]"
# The destroy is the program's, by the same thread, in the case's function.
expect destroy-then-lock "destroyed by the user" "f[0]['sites'][1]['thread'] == f[0]['sites'][0]['thread']" "True"
expect cond-wait-other-holds "holder is the other thread" "f[0]['sites'][0]['thread'] != f[0]['sites'][1]['thread']" "True"
expect reinit-other-holds "holder is the other thread" "f[0]['sites'][0]['thread'] != f[0]['sites'][1]['thread']" "True"
# The condition variable is in the finding.
expect cond-wait-unlocked "condvar" "[l['name'] for l in f[0]['locks']]" "['mu', 'cv']"
expect cond-two-mutexes "both mutexes and the condvar" "[l['name'] for l in f[0]['locks']]" "['cm2', 'cv', 'cm1']"
expect cond-two-mutexes "the other wait is another thread's" "f[0]['sites'][0]['thread'] != f[0]['sites'][1]['thread']" "True"
expect cond-two-mutexes "the other wait is with cm1" \
  "[l['name'] for l in f[0]['locks'] if l['id'] == f[0]['sites'][1]['lock']]" "['cm1']"
expect cond-two-mutexes "the other wait's call site" "f[0]['sites'][1]['stack'][0]['function']" "wait_until_released"
check_grep "cond-two-mutexes: the other wait's stanza" \
  "^meanwhile thread [0-9]+ .* waits on the same condition with L3 at:" "$T_TMP/cond-two-mutexes.err"
check_grep "cond-two-mutexes: the summary names the other thread" \
  "with mutex cm2, while thread [0-9]+ .* waits on it with mutex cm1" "$T_TMP/cond-two-mutexes.err"

# Legal look-alikes: no finding, status 0, same results.
for c in recursive-ok destroy-unlocked trylock-own cond-ok robust-recovery robust-waiter cancel-cleanup \
         lock-backoff sem-handoff heap-stack-reuse fork destroy-reinit reinit-free \
         cond-reuse-other-mutex cond-two-condvars cond-timeout-other-mutex cond-cancel-other-mutex \
         cond-signal-other-mutex cond-jumped-out cond-jumped-rewait; do
  timeout -k 5 60 "$MIS" "$c" >"$T_TMP/$c.bare" 2>&1
  lg_run "$c" -- "$MIS" "$c"
  expect_rc "$c" 0
  expect "$c" "no finding" "kinds()" "[]"
  T_CHECKS=$((T_CHECKS + 1))
  grep -q "^done $c\$" "$T_TMP/$c.out" && diff "$T_TMP/$c.bare" "$T_TMP/$c.out" >/dev/null ||
    fail "$c: results differ under the runtime: $(diff "$T_TMP/$c.bare" "$T_TMP/$c.out" | head -c 800)"
done

# cond-two-mutexes' bookkeeping (--verbose counts the waits that found another mutex bound
# to the condvar and looked for its waiter): a wait that timed out, was cancelled, or returned
# leaves the condvar unbound, so the next wait with another mutex is the fast path; a waiter
# that was signalled is still in its call (it waits for cm1, held by the signaller), so the
# wait with cm2 looks, and finds it woken: silent by POSIX's rule, not by luck.
for c in cond-reuse-other-mutex cond-two-condvars cond-timeout-other-mutex cond-cancel-other-mutex; do
  lg_run "$c-v" --verbose -- "$MIS" "$c"
  check_grep "$c: no condvar check" ", 0 condvar checks, 0 findings" "$T_TMP/$c-v.err"
done
lg_run cond-signal-v --verbose -- "$MIS" cond-signal-other-mutex
check_grep "cond-signal-other-mutex: one check, no finding" ", 1 condvar checks, 0 findings" "$T_TMP/cond-signal-v.err"
# A waiter that siglongjmp'd out of its wait still counts in the runtime's word (its wrapper
# was jumped over), so main's wait with cm2 is checked: the waiter's published wait is found,
# but the kernel shows it asleep elsewhere, so no claim.
lg_run cond-jumped-v --verbose -- "$MIS" cond-jumped-out
check_grep "cond-jumped-out: one check, no finding" ", 1 condvar checks, 0 findings" "$T_TMP/cond-jumped-v.err"
# The condvar table full: one note, the program runs to its end with its own results.
"$MIS" cond-many >"$T_TMP/cond-many.bare" 2>&1
lg_run cond-many -- "$MIS" cond-many
expect_rc cond-many 0
expect cond-many "no finding" "kinds()" "[]"
expect cond-many "one note" "len([n for n in r['notes'] if 'condition variable table full' in n])" "1"
T_CHECKS=$((T_CHECKS + 1))
diff "$T_TMP/cond-many.bare" "$T_TMP/cond-many.out" >/dev/null && grep -q "^timed out 60000 of 60000$" "$T_TMP/cond-many.out" ||
  fail "cond-many: results differ under the runtime: $(diff "$T_TMP/cond-many.bare" "$T_TMP/cond-many.out" | head -c 800)"
# Off by --misuse, suppressible by a frame of the misusing wait.
lg_run cond-off --misuse all,-cond-two-mutexes -- "$MIS" cond-two-mutexes
expect_rc cond-off 0
expect cond-off "no finding" "kinds()" "[]"
printf 'function:wait_until_released\n' >"$T_TMP/cond-supp"
lg_run cond-supp --suppressions "$T_TMP/cond-supp" -- "$MIS" cond-two-mutexes
expect_rc cond-supp 0
expect cond-supp "suppressed" "kinds()" "[]"

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
