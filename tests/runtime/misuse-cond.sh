# misuse-cond.sh - lock misuse findings of condition waits (issue 13): cond-mutex-not-held
# (Helgrind's tc23 cases among them) and cond-two-mutexes, its bookkeeping and its legal
# look-alikes, each case of misuse.c under `lockgraph run` (misuse-lib.sh).
. "$(dirname "$0")/misuse-lib.sh"

misuse_case cond-wait-unlocked "['cond-mutex-not-held']" mu None "['misuse']"
misuse_case cond-wait-unlocked-errorcheck "['cond-mutex-not-held']" emu EPERM "['misuse']"
# Helgrind tc23 #4: the mutex is another thread's (named as its holder, with its stack).
misuse_case cond-wait-other-holds "['cond-mutex-not-held']" emu EPERM "['misuse', 'acquired']"
# Helgrind tc23 #4 as written (a normal mutex: glibc releases the other thread's lock for the
# wait): the same finding, and no exit-holding for the other thread, whose lock glibc's word
# shows free when it ends (the wait released it, this thread unlocked it after).
misuse_case cond-wait-other-holds-normal "['cond-mutex-not-held']" mu None "['misuse', 'acquired']"
# tc23 #1 and #3: a mutex 4 bytes into a real one, an rwlock passed as the mutex. For glibc
# both are normal mutexes nobody holds, and the claim is that: no thread holds it.
misuse_case cond-wait-bogus-mutex "['cond-mutex-not-held']" bogus_mx+4 None "['misuse']"
misuse_case cond-wait-rwlock "['cond-mutex-not-held']" cond_rw None "['misuse']"
# Two threads wait on cv at once with cm1 and cm2 (the second wait is the misuse): both
# mutexes, the condvar, the other waiter's thread and where it waits.
misuse_case cond-two-mutexes "['cond-two-mutexes']" cm2 None "['misuse', 'other-wait']"
misuse_case cnd-two-mutexes "['cond-two-mutexes']" xm2 None "['misuse', 'other-wait']"
# A waiter that siglongjmp'd out of its wait with cm1 waits again with cm2, and main waits
# with cm1 meanwhile: found, and named with cm2 (its stale record of cm1 was withdrawn).
misuse_case cond-jumped-rewait-overlap "['cond-two-mutexes']" cm1 None "['misuse', 'other-wait']"
expect cond-jumped-rewait-overlap "the other wait is with cm2" \
  "[l['name'] for l in f[0]['locks'] if l['id'] == f[0]['sites'][1]['lock']]" "['cm2']"

expect cond-wait-other-holds "holder is the other thread" "f[0]['sites'][0]['thread'] != f[0]['sites'][1]['thread']" "True"
# The condition variable is in the finding.
expect cond-wait-unlocked "condvar" "[l['name'] for l in f[0]['locks']]" "['mu', 'cv']"
expect cond-two-mutexes "both mutexes and the condvar" "[l['name'] for l in f[0]['locks']]" "['cm2', 'cv', 'cm1']"
expect cond-two-mutexes "the other wait is another thread's" "f[0]['sites'][0]['thread'] != f[0]['sites'][1]['thread']" "True"
expect cond-two-mutexes "the other wait is with cm1" \
  "[l['name'] for l in f[0]['locks'] if l['id'] == f[0]['sites'][1]['lock']]" "['cm1']"
expect cond-two-mutexes "the other wait's call site" "f[0]['sites'][1]['stack'][0]['function']" "wait_until_released"
check_grep "cond-two-mutexes: the other wait's stanza" \
  "^meanwhile thread [0-9]+ .* waits on the same condition with L[0-9]+ at:" "$T_TMP/cond-two-mutexes.err"
check_grep "cond-two-mutexes: the summary names the other thread" \
  "with mutex cm2, while thread [0-9]+ .* waits on it with mutex cm1" "$T_TMP/cond-two-mutexes.err"

# Legal look-alikes of condition waits: no finding, status 0, same results.
legal_case cond-ok cond-reuse-other-mutex cond-two-condvars cond-timeout-other-mutex \
  cond-cancel-other-mutex cond-signal-other-mutex cond-jumped-out cond-jumped-rewait \
  cond-signal-unlocked

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

done_tests
