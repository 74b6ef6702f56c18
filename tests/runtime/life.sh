# life.sh - lock identity and process life under the runtime: freed/stack/re-initialised
# locks start fresh, a million lock instances stay bounded, 1000 threads, fork, dlopen,
# constructors, output kept.
. "$(dirname "$0")/lib.sh"

lg_run freed -- "$CASES" freed-reuse
expect_rc freed 0
check_grep "freed block reused at the same address" "reused 1" "$T_TMP/freed.out"
expect freed "freed lock memory reused: no phantom cycle" "kinds()" "[]"

lg_run stack -- "$CASES" stack-reuse
expect_rc stack 0
T_CHECKS=$((T_CHECKS + 1))
[ "$(sort -u "$T_TMP/stack.out" | wc -l)" -eq 1 ] || fail "stack locks were not at the same address: $(cat "$T_TMP/stack.out")"
expect stack "stack mutex at the same address in two calls" "kinds()" "[]"

lg_run reinit -- "$CASES" destroy-reinit
expect_rc reinit 0
expect reinit "destroyed and re-initialised" "kinds()" "[]"

# The runtime does glibc's plain-mutex trylock itself: every kind must behave, and leave
# glibc's fields, exactly as without it (also with lock elision asked for: glibc's own path).
"$CASES" mutex-kinds >"$T_TMP/kinds-bare.out" 2>&1
T_CHECKS=$((T_CHECKS + 1))
[ "$(grep -c 'owner-is-me 1' "$T_TMP/kinds-bare.out")" -eq 9 ] || fail "mutex-kinds (bare) is not the expected program: $(cat "$T_TMP/kinds-bare.out")"
lg_run kinds -- "$CASES" mutex-kinds
# Its cross-thread unlocks are lock misuse, and so is the owner's unlock after one went
# through (normal, adaptive: glibc let it, so the owner unlocks a free mutex); nothing else.
expect_rc kinds 66
expect kinds "every mutex kind: no finding but the misuse it does" "sorted(set((x['kind'], x.get('misuse')) for x in f))" "[('lock-misuse', 'unlock-not-held'), ('lock-misuse', 'unlock-not-owner')]"
T_CHECKS=$((T_CHECKS + 1))
diff "$T_TMP/kinds-bare.out" "$T_TMP/kinds.out" >"$T_TMP/kinds.diff" || fail "mutex kinds differ under the runtime: $(cat "$T_TMP/kinds.diff")"
# With elision asked for, compare against the bare program with elision too (on a CPU with
# RTM, glibc's own elided paths run; the cross-thread unlock is left out: it faults bare).
GLIBC_TUNABLES=glibc.elision.enable=1 "$CASES" mutex-kinds-elided >"$T_TMP/kinds-el-bare.out" 2>&1
el_bare=$?
T_CHECKS=$((T_CHECKS + 1))
[ "$el_bare" -eq 0 ] && [ "$(grep -c ': lock 0 ' "$T_TMP/kinds-el-bare.out")" -eq 9 ] || fail "mutex-kinds-elided (bare) is not the expected program: status $el_bare: $(cat "$T_TMP/kinds-el-bare.out")"
GLIBC_TUNABLES=glibc.elision.enable=1 lg_run kinds-elision -- "$CASES" mutex-kinds-elided
expect_rc kinds-elision 0
T_CHECKS=$((T_CHECKS + 1))
diff "$T_TMP/kinds-el-bare.out" "$T_TMP/kinds-elision.out" >"$T_TMP/kinds-el.diff" || fail "mutex kinds differ under the runtime with elision asked for: $(cat "$T_TMP/kinds-el.diff")"

lg_run million -- "$CASES" million
expect_rc million 0
expect million "a million lock instances" "kinds()" "[]"
T_CHECKS=$((T_CHECKS + 1))
hwm=$(awk '/VmHWM/ {print $2}' "$T_TMP/million.out")
[ -n "$hwm" ] && [ "$hwm" -lt 1500000 ] || fail "million: VmHWM ${hwm:-?} kB, want < 1.5 GB"

lg_run threads -- "$CASES" threads1000
expect_rc threads 0
expect threads "1000 threads" "kinds()" "[]"

# The tree's reports merged (--json FILE is the merged one; the parent's own is FILE.<pid>).
own_report() {   # own_report NAME: $T_TMP/NAME-own.json, the first process's own report
  cp "$(jq_py "$1" "r['reports'][0]['file']")" "$T_TMP/$1-own.json" 2>/dev/null
}
lg_run fork -- "$CASES" fork
expect_rc fork 66   # a forked child found a defect: the tree's status
expect fork "merged: the child's cycle, seen in one process" "[(x['kind'], len(x['reports'])) for x in f]" "[('lock-order-inversion', 1)]"
own_report fork
expect fork-own "parent's report: no finding of its own" "kinds()" "[]"
expect fork-own "parent's report notes the child" "any('found in forked child processes' in n for n in r.get('notes', []))" "True"
check_grep "fork: children consistent, last child finds its cycle" "fork bad 0" "$T_TMP/fork.out"

lg_run dl -- "$CASES" dlopen "$LG_BUILD/lib/librt-plugin.so"
expect_rc dl 66
expect dl "dlopen'ed library's locks" "sorted(l['name'] for l in f[0]['locks'])" "['plugin_first', 'plugin_second']"

lg_run ctor -- "$CASES" ctor
expect_rc ctor 66
expect ctor "locks taken in a constructor before main" "sorted(l['name'] for l in f[0]['locks'])" "['ctor_x', 'ctor_y']"

lg_run output -- "$CASES" output
expect_rc output 66
check_grep "program output kept" "line 999" "$T_TMP/output.out"

lg_run term -- "$CASES" term
expect_rc term 143
expect term "JSON written when the program dies of a signal" "kinds()" "['lock-order-inversion']"

# A budget exhausted: one message, the program goes on.
T_CHECKS=$((T_CHECKS + 1))
LOCKGRAPH_MAX_LOCKS=16 timeout 60 "$LG" run -- "$CASES" many-held >/dev/null 2>"$T_TMP/budget.err"
rc=$?
[ $rc -eq 0 ] || fail "budget: exit $rc"
T_CHECKS=$((T_CHECKS + 1))
[ "$(grep -c 'lock budget exhausted' "$T_TMP/budget.err")" -eq 1 ] || fail "budget: want one message: $(head -c 500 "$T_TMP/budget.err")"

# Plain LD_PRELOAD works too and reports on stderr.
T_CHECKS=$((T_CHECKS + 1))
timeout 60 env LD_PRELOAD="$LG_BUILD/lib/liblockgraph.so" "$CASES" abba >/dev/null 2>"$T_TMP/pre.err"
rc=$?
[ $rc -eq 66 ] || fail "LD_PRELOAD: exit $rc"
check_grep "LD_PRELOAD report on stderr" "lock-order inversion" "$T_TMP/pre.err"

# A forked child's findings go to its own JSON (FILE.<pid>), never over the parent's.
lg_run forkinv -- "$CASES" fork-inversion
expect_rc forkinv 66
child=$(sed -n 's/^child \([0-9]*\) status 66$/\1/p' "$T_TMP/forkinv.out")
T_CHECKS=$((T_CHECKS + 1))
[ -n "$child" ] || fail "forkinv: the child did not exit 66: $(cat "$T_TMP/forkinv.out")"
own_report forkinv
expect forkinv-own "parent's JSON: its own pid" "r['pid'] != $child" "True"
expect forkinv-own "parent's JSON: no finding" "kinds()" "[]"
expect forkinv "merged: the child's inversion, from the child" "[r['reports'][i]['pid'] for i in f[0]['reports']]" "[$child]"
cp "$T_TMP/forkinv.json.$child" "$T_TMP/forkinv-child.json" 2>/dev/null
expect forkinv-child "child's JSON: the inversion" "kinds()" "['lock-order-inversion']"
expect forkinv-child "child's JSON: its pid" "r['pid']" "$child"
check_grep "parent's note names the child's JSON" "first in pid $child; its JSON report: $T_TMP/forkinv.json.$child" "$T_TMP/forkinv.err"

done_tests
