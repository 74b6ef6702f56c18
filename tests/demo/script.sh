#!/usr/bin/env bash
# scripts/demo.sh (make demo) ends on its own, shows the fix completing and the hang with
# each thread waiting on the resource the other holds, and leaves no demo process behind.
. "$LG_SRCDIR/tests/lib/sh-harness.sh"
check_status 0 "scripts/demo.sh" env TMPDIR="$T_TMP" timeout 180 bash "$LG_SRCDIR/scripts/demo.sh" "$LG_BUILD"
out=$T_TMP/out
check_grep "consistent summary" '^summary: 1000 files created, 1000 moved, 1000 deleted' "$out"
check_grep "mover blocked on resource2, held by the deleter" 'mover +futex wait on 0x[0-9a-f]+ = &resource2\+(8|12): wants resource2, held by thread [0-9]+ \(deleter\)' "$out"
check_grep "deleter blocked on resource1, held by the mover" 'deleter +futex wait on 0x[0-9a-f]+ = &resource1\+(8|12): wants resource1, held by thread [0-9]+ \(mover\)' "$out"
check_grep "says it is a deadlock" 'a deadlock, exactly as in the write-up' "$out"
pid=$(grep -oE 'Killing pid [0-9]+' "$out" | grep -oE '[0-9]+')
check "hung demo pid reported" test -n "$pid"
check "hung demo killed" test ! -d "/proc/${pid:-0}"
check "temporary directories removed" test -z "$(ls -A "$T_TMP" | grep -v -e '^out$' -e '^err$')"
done_tests
