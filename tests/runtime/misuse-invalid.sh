# misuse-invalid.sh - invalid-lock (issue 13): lock calls on memory that holds no mutex glibc
# knows (Helgrind's tc09 #3 and tc20's 0xff mutexes, a never-initialised stack mutex, a
# misaligned or read-only one, C11, a condition wait), each with its finding, glibc's EINVAL
# and the bare run's results (misuse-lib.sh); and their look-alikes: EINVAL for the call's
# arguments (a priority-protect ceiling, a timeout, a clock), zeroed and statically
# initialised mutexes, a 0xff rwlock (glibc never refuses one), kinds glibc's lock takes,
# a lock the runtime saw alive: no finding, the bare run's results. --misuse, suppressions.
. "$(dirname "$0")/misuse-lib.sh"
MIS=$LG_BIN/rt-misuse-invalid MIS_SRC=misuse-invalid.c

# tc20: lock, trylock, timedlock, clocklock and unlock of a 0xff mutex, three times from each
# call site: one finding per site.
misuse_case ff-mutex "['invalid-lock', 'invalid-lock', 'invalid-lock', 'invalid-lock', 'invalid-lock']" \
  ff_mu EINVAL "['misuse']"
expect ff-mutex "one per call site, in call order" \
  "[x['sites'][0]['stack'][0]['line'] for x in f] == sorted(set(x['sites'][0]['stack'][0]['line'] for x in f))" True
expect ff-mutex "the kind word in a note" "'holds 0xffffffff' in f[0]['notes'][0]" True
check_grep "ff-mutex: the summary" \
  "uses mutex ff_mu at misuse-invalid.c:[0-9]+: the memory at 0x[0-9a-f]+ holds no initialised mutex" \
  "$T_TMP/ff-mutex.err"
# tc09 #3: the unlock of 0xffffffff ints on the stack, from a function called twice.
misuse_case tc09-bogus "['invalid-lock']" stack EINVAL "['misuse']"
# A stack mutex never initialised, with what an earlier call left in its bytes.
misuse_case uninit-stack "['invalid-lock', 'invalid-lock']" stack EINVAL "['misuse']"
T_CHECKS=$((T_CHECKS + 1))
grep -q "^kind 0xa5a5a5a5$" "$T_TMP/uninit-stack.bare" ||
  fail "uninit-stack: the mutex's bytes are not the earlier call's: $(head -3 "$T_TMP/uninit-stack.bare")"
# Misaligned (one byte into 0xff bytes), and in a read-only page (a store would kill it).
misuse_case misaligned "['invalid-lock', 'invalid-lock']" ff_bytes+1 EINVAL "['misuse']"
misuse_case readonly "['invalid-lock', 'invalid-lock', 'invalid-lock', 'invalid-lock']" heap EINVAL "['misuse']"
# A condition wait with a 0xff mutex (timed and not): EINVAL, nothing re-acquired.
misuse_case cond-ff "['invalid-lock', 'invalid-lock']" ff_cv_mu EINVAL "['misuse']"
expect cond-ff "no other finding (no exit-holding, no cond-mutex-not-held)" "len(f)" 2
# C11: every mtx_* call on a 0xff mtx_t.
misuse_case c11-ff "['invalid-lock', 'invalid-lock', 'invalid-lock', 'invalid-lock']" ff_mtx EINVAL "['misuse']"
# A kind with bit 2 in zeroed memory (its lock word "free"): invalid-lock, not unlock-not-held.
misuse_case kind4 "['invalid-lock', 'invalid-lock']" kind4_mu EINVAL "['misuse']"
expect kind4 "the kind word in a note" "'holds 0x4,' in f[0]['notes'][0]" True

# The look-alikes.
legal_case pp-ceiling bad-timeout calloc-mutex static-inits ff-rwlock elision-kind high-kind \
  overwritten-live
# glibc's EINVAL happened where the case says it does (else the case tests nothing).
for w in "pp-ceiling:rc lock-pp=EINVAL" "bad-timeout:rc timedlock-ff-nsec-1e9=EINVAL" \
         "bad-timeout:rc timedlock-nsec-1e9=EINVAL" "overwritten-live:rc lock-overwritten=EINVAL" \
         "elision-kind:rc trylock-elision-errorcheck=EINVAL" "elision-kind:rc lock-elision-errorcheck=0"; do
  c=${w%%:*}; line=${w#*:}
  T_CHECKS=$((T_CHECKS + 1))
  if [ "$c" = pp-ceiling ] && grep -q "^fifo no" "$T_TMP/$c.bare"; then
    echo "note: pp-ceiling: no SCHED_FIFO here: glibc answers the PP lock without EINVAL"
    continue
  fi
  grep -q "^$line " "$T_TMP/$c.bare" || fail "$c: bare run lacks '$line': $(head -c 400 "$T_TMP/$c.bare")"
done

# Suppressible by a frame of the misusing call; --misuse turns it off.
printf 'function:tc09_nearly\n' >"$T_TMP/supp"
lg_run supp --suppressions "$T_TMP/supp" -- "$MIS" tc09-bogus
expect_rc supp 0
expect supp "suppressed" "kinds()" "[]"
lg_run off --misuse all,-invalid-lock -- "$MIS" ff-mutex
expect_rc off 0
expect off "no finding" "kinds()" "[]"
lg_run only --misuse invalid-lock -- "$MIS" kind4
expect_rc only 66
done_tests
