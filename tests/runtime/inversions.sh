# inversions.sh - lock-order semantics of the runtime, one case per line of the issue and of
# peers.md's table: each asserts the findings in the JSON report and the exit status.
. "$(dirname "$0")/lib.sh"

# ABBA across two threads: one inversion, 2 locks, 2 edges, both stacks of every edge name
# the functions that took the locks, thread names, lock names.
# stdout's FILE lock taken with flockfile against a mutex, both orders: an inversion naming
# stdout (its lock is recursive: taken twice, no self-deadlock). The same with printf taking
# it inside glibc (inline, not a call the runtime sees): nothing is claimed.
lg_run stdio-inv -- "$CASES" stdio-inversion
expect_rc stdio-inv 66
expect stdio-inv "kinds" "kinds()" "['lock-order-inversion']"
expect stdio-inv "stdout and mutex_a" "sorted((l['name'], l['type']) for l in f[0]['locks'])" "[('mutex_a', 'mutex'), ('stdout', 'FILE')]"
expect stdio-inv "both threads" "sorted(t['name'] for t in f[0]['threads'])" "['file-first', 'mutex-first']"
check_grep "stdio-inv: the program's output" "^mutex-then-file$" "$T_TMP/stdio-inv.out"
lg_run stdio-printf -- "$CASES" stdio-printf
expect_rc stdio-printf 0
expect stdio-printf "no claim about printf's inner lock" "kinds()" "[]"

lg_run abba -- "$CASES" abba
expect_rc abba 66
expect abba "kinds" "kinds()" "['lock-order-inversion']"
expect abba "locks" "sorted(l['name'] for l in f[0]['locks'])" "['mutex_a', 'mutex_b']"
expect abba "edges" "len(f[0]['edges'])" "2"
expect abba "stacks" "all('path_ab' in funcs(e['stack'])+funcs(e['holds_stack']) or 'path_ba' in funcs(e['stack'])+funcs(e['holds_stack']) for e in f[0]['edges'])" "True"
expect abba "both stacks" "all(len(e['stack']) > 0 and len(e['holds_stack']) > 0 for e in f[0]['edges'])" "True"
expect abba "thread names" "sorted(t['name'] for t in f[0]['threads'])" "['ab-thread', 'ba-thread']"
expect abba "not same thread" "f[0]['same_thread']" "False"
expect abba "fix" "'mutex_' in (f[0]['fix'] or '') and 'cases.c:' in f[0]['fix']" "True"
check_grep "abba text banner" "lock-order inversion \(potential deadlock\)" "$T_TMP/abba.err"
check_grep "abba scenario" "\*\*\* DEADLOCK \*\*\*" "$T_TMP/abba.err"

lg_run named -- "$CASES" named
expect named "lg_lock_name" "sorted(l['name'] for l in f[0]['locks'])" "['queue lock', 'stats lock']"

lg_run one -- "$CASES" abba-one
expect_rc one 66
expect one "same thread" "[x['same_thread'] for x in f]" "[True]"

lg_run nothing -- "$CASES" nothing
expect_rc nothing 0
expect nothing "no findings" "kinds()" "[]"

lg_run gate -- "$CASES" gate
expect_rc gate 0
expect gate "gated only" "kinds()" "['gated-cycle']"
expect gate "gate named" "'gate_g' in ' '.join(f[0]['notes'])" "True"
lg_run gatelost -- "$CASES" gate-lost
expect_rc gatelost 66
expect gatelost "gate lost" "'lock-order-inversion' in kinds()" "True"

lg_run rdrd -- "$CASES" rdrd
expect_rc rdrd 0
expect rdrd "rdlock A,B / B,A silent" "kinds()" "[]"
lg_run rdrdwr -- "$CASES" rdrd-wr
expect_rc rdrdwr 0
expect rdrdwr "rd M0,rd M1 / rd M1,wr M0 silent" "kinds()" "[]"
lg_run rdwr -- "$CASES" rdwr
expect_rc rdwr 66
expect rdwr "rd X,wr Y / rd Y,wr X reported" "kinds()" "['lock-order-inversion']"
expect rdwr "modes" "sorted((e['holds_mode'], e['acquires_mode']) for e in f[0]['edges'])" "[('shared', 'exclusive'), ('shared', 'exclusive')]"
lg_run prefw -- "$CASES" rdrd-prefer-writer
expect_rc prefw 66
expect prefw "writer-preferring readers are non-recursive" "kinds()" "['lock-order-inversion']"
expect prefw "read locks stay shared" "sorted(set(e['acquires_mode'] for e in inv()[0]['edges']) | set(e['holds_mode'] for e in inv()[0]['edges']))" "['shared']"
check_grep "scenario: read-locks" "read-lock\\(rw_x\\)" "$T_TMP/prefw.err"
T_CHECKS=$((T_CHECKS + 1))
grep -q "write-lock" "$T_TMP/prefw.err" && fail "prefw: a read lock printed as write-lock"

# A nested read of a writer-preferring rwlock: a same-thread hazard, reported once.
lg_run reread -- "$CASES" reread-prefer-writer
expect_rc reread 66
expect reread "nested read reported once" "[(x['kind'], x['self'], len(x['edges'])) for x in f]" "[('lock-order-inversion', True, 1)]"
expect reread "both reads shared" "[(e['holds_mode'], e['acquires_mode']) for e in f[0]['edges']]" "[('shared', 'shared')]"
check_grep "reread summary" "^nested read lock of rw_x, a writer-preferring rwlock whose readers do not nest" "$T_TMP/reread.err"
lg_run rereaddef -- "$CASES" reread
expect_rc rereaddef 0
expect rereaddef "nested read of a default rwlock is fine" "kinds()" "[]"

lg_run try -- "$CASES" trylock
expect_rc try 0
expect try "trylock back-off silent" "kinds()" "[]"
lg_run tryfail -- "$CASES" trylock-failed
expect_rc tryfail 0
expect tryfail "failed trylock leaves no trace" "kinds()" "[]"

lg_run timed -- "$CASES" timed
expect_rc timed 66
expect timed "timed inversion" "[(x['kind'], x['timed']) for x in f]" "[('lock-order-inversion', True)]"
expect timed "timed edge" "sum('timed' in e['flags'] for e in f[0]['edges'])" "1"
check_grep "timed banner" "through a timed lock" "$T_TMP/timed.err"

lg_run rec -- "$CASES" recursive
expect_rc rec 0
expect rec "recursive re-entry silent" "kinds()" "[]"

lg_run cond -- "$CASES" cond
expect_rc cond 66
expect cond "cond re-acquisition edge" "[ 'cond-reacquire' in e['flags'] for e in f[0]['edges']].count(True)" "1"
expect cond "one finding for the one cycle (a second thread's A=>B adds nothing)" "len(f)" "1"
expect cond "one thread's code paths" "f[0]['same_thread']" "True"
T_CHECKS=$((T_CHECKS + 1))
[ "$(grep -c '^cycle of 2 locks' "$T_TMP/cond.err")" = 1 ] || fail "cond: the cycle printed $(grep -c '^cycle of 2 locks' "$T_TMP/cond.err") times"

lg_run c11 -- "$CASES" c11
expect_rc c11 66
expect c11 "C11 mtx inversion" "sorted(l['name'] for l in f[0]['locks'])" "['c11_a', 'c11_b']"
lg_run spin -- "$CASES" spin
expect_rc spin 66
expect spin "spinlock inversion" "[l['type'] for l in f[0]['locks']]" "['spinlock', 'spinlock']"

lg_run manyheld -- "$CASES" many-held
expect_rc manyheld 0
expect manyheld "200 held at once" "kinds()" "[]"
lg_run manycycle -- "$CASES" many-cycle
expect_rc manycycle 66
expect manycycle "cycle at depth 150" "len(inv())" "1"
expect manycycle "its locks" "sorted(l['name'] for l in f[0]['locks'])" "['many+6000', 'mutex_a']"

lg_run ring -- "$CASES" ring1000
expect_rc ring 66
expect ring "1000-lock cycle" "[len(x['locks']) for x in f]" "[1000]"
expect ring "same thread" "f[0]['same_thread']" "True"
expect ring "the JSON keeps every edge" "len(f[0]['edges'])" "1000"
T_CHECKS=$((T_CHECKS + 1))
[ "$(wc -c <"$T_TMP/ring.err")" -lt 20000 ] || fail "ring: text report of a 1000-lock cycle is $(wc -c <"$T_TMP/ring.err") bytes"
check_grep "ring: elided edges counted" "^\.\.\. 992 more edges \(5 to 996\) not shown; the JSON report has them all$" "$T_TMP/ring.err"
check_grep "ring: summary elided" "^cycle of 1000 locks: ring => ring\+40 => ring\+80 => \.\.\. \(996 more\) => ring\+39960 => ring " "$T_TMP/ring.err"
check_grep "ring: the fix names one acquisition and a bounded order" "^Fix: keep the order ring => ring\+40 => ring\+80 => \.\.\. \(995 more\) => ring\+39920 => ring\+39960 that the other acquisitions follow: thread [0-9]+ takes ring \(at cases.c:[0-9]+\) while holding ring\+39960 .*; take ring before ring\+39960 there$" "$T_TMP/ring.err"

# C++: std::mutex ABBA reported; scoped_lock both orders, shared_lock rd/rd, recursive silent.
lg_run cxxabba -- "$LG_BIN/rt-cxx" mutex-abba
expect_rc cxxabba 66
expect cxxabba "std::mutex" "len(inv())" "1"
lg_run scoped -- "$LG_BIN/rt-cxx" scoped-both
expect_rc scoped 0
expect scoped "std::scoped_lock both orders" "kinds()" "[]"
lg_run shared -- "$LG_BIN/rt-cxx" shared-rdrd
expect_rc shared 0
expect shared "std::shared_mutex readers" "kinds()" "[]"
lg_run cxxrec -- "$LG_BIN/rt-cxx" recursive
expect_rc cxxrec 0
lg_run cxxtimed -- "$LG_BIN/rt-cxx" timed-abba
expect_rc cxxtimed 66
expect cxxtimed "std::timed_mutex" "[x['timed'] for x in f]" "[True]"

done_tests
