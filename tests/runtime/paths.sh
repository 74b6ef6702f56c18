# paths.sh - one report per code path (issue 15, ThreadSanitizer's T19 shape): 45 locks taken
# nested in rotated orders by one loop is one inversion report that counts its lock sets, and
# the JSON keeps every set; a second, different code path is still its own report.
. "$(dirname "$0")/lib.sh"
PATHS=$LG_BIN/rt-paths

lg_run rot -- "$PATHS" rotated
expect_rc rot 66
expect rot "one report" "kinds()" "['lock-order-inversion']"
expect rot "sets counted" "f[0]['lock_sets'] > 1" "True"
expect rot "every set kept" "f[0]['lock_sets'] == 1 + len(f[0]['other_lock_sets'])" "True"
expect rot "sets are cycles of ring locks" \
  "all(len(s) >= 2 and all(n.startswith('ring') for n in s) for s in f[0]['other_lock_sets'])" "True"
expect rot "sets distinct" \
  "len(set(tuple(sorted(s)) for s in f[0]['other_lock_sets'] + [[l['name'] for l in f[0]['locks']]])) == f[0]['lock_sets']" "True"
T_CHECKS=$((T_CHECKS + 1))
n=$(grep -c "lock-order inversion (potential deadlock)" "$T_TMP/rot.err")
[ "$n" = 1 ] || fail "rot: $n inversion banners on stderr, want 1"
check_grep "rot exit line" "made that cycle on [0-9]+ more lock sets \(one report per code path; the JSON report lists them\)" "$T_TMP/rot.err"

lg_run two -- "$PATHS" two-sites
expect_rc two 66
expect two "two code paths, two reports" "kinds()" "['lock-order-inversion', 'lock-order-inversion']"
expect two "the ABBA stands alone" "sorted(sorted(l['name'] for l in x['locks']) for x in f if 'lock_sets' not in x)" "[['x', 'y']]"
T_CHECKS=$((T_CHECKS + 1))
n=$(grep -c "lock-order inversion (potential deadlock)" "$T_TMP/two.err")
[ "$n" = 2 ] || fail "two: $n inversion banners on stderr, want 2"

# One call site (grab) reached from two callers at the same depth: each edge's stack names
# the caller that really took p there.
lg_run depth -- "$PATHS" same-depth
expect_rc depth 66
expect depth "one inversion" "kinds()" "['lock-order-inversion']"
expect depth "p held from via_a, taken from via_b" \
  "sorted((e['holds'] == next(l['id'] for l in f[0]['locks'] if l['name'] == 'p'), [s['function'] for s in (e['holds_stack'] if e['holds'] == next(l['id'] for l in f[0]['locks'] if l['name'] == 'p') else e['stack'])][:3]) for e in f[0]['edges'])" \
  "[(False, ['grab', 'via_b', 'order_qp']), (True, ['grab', 'via_a', 'order_pq'])]"

done_tests
