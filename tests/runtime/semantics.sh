# semantics.sh - every interposed lock call returns what glibc returns and leaves the lock as
# glibc leaves it (tests/runtime/semantics.c prints one line per call, arguments and state):
# the program's output under `lockgraph run` is the bare program's, line for line. The misuse
# it does on purpose (EDEADLK, EPERM...) is reported as lock misuse (issue 13) and changes
# no result; with --misuse none it is no finding at all.
. "$(dirname "$0")/lib.sh"
SEM=$LG_BIN/rt-semantics

T_CHECKS=$((T_CHECKS + 1))
timeout -k 5 120 "$SEM" >"$T_TMP/bare.out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q '^semantics done$' "$T_TMP/bare.out" || fail "bare run: status $rc: $(tail -c 500 "$T_TMP/bare.out")"
# The program covers what the issue names: count its answers.
for what in EINVAL EDEADLK EPERM EBUSY EAGAIN EOWNERDEAD ENOTRECOVERABLE ETIMEDOUT thrd_timedout thrd_error; do
  T_CHECKS=$((T_CHECKS + 1))
  grep -q -- "-> $what " "$T_TMP/bare.out" || fail "bare run never answers $what"
done
lg_run sem -- "$SEM"
expect_rc sem 66
expect sem "only lock misuse" "sorted(set(kinds()))" "['lock-misuse']"
# What the program does on purpose, each reported (the subkinds it does, not counts).
expect sem "subkinds" "sorted(set(x['misuse'] for x in f))" \
  "['cond-mutex-not-held', 'destroy-held', 'relock-refused', 'unlock-not-held', 'unlock-not-owner', 'use-after-destroy']"
T_CHECKS=$((T_CHECKS + 1))
diff "$T_TMP/bare.out" "$T_TMP/sem.out" >"$T_TMP/sem.diff" || fail "results or lock states differ under the runtime: $(head -c 3000 "$T_TMP/sem.diff")"
lg_run quiet --misuse none -- "$SEM"
expect_rc quiet 0
expect quiet "no finding" "kinds()" "[]"
T_CHECKS=$((T_CHECKS + 1))
diff "$T_TMP/bare.out" "$T_TMP/quiet.out" >"$T_TMP/quiet.diff" || fail "results differ with --misuse none: $(head -c 3000 "$T_TMP/quiet.diff")"
# The same while recording (every event takes the slow path).
T_CHECKS=$((T_CHECKS + 1))
timeout -k 5 120 "$LG" record -o "$T_TMP/sem.lgt" -- "$SEM" >"$T_TMP/rec.out" 2>"$T_TMP/rec.err"
rc=$?
[ $rc -eq 66 ] || fail "record: status $rc: $(head -c 800 "$T_TMP/rec.err")"
T_CHECKS=$((T_CHECKS + 1))
diff "$T_TMP/bare.out" "$T_TMP/rec.out" >"$T_TMP/rec.diff" || fail "results differ under record: $(head -c 3000 "$T_TMP/rec.diff")"
done_tests
