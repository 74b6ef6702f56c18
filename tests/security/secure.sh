#!/usr/bin/env bash
# secure.sh - the runtime in a setuid or setgid program trusts nothing of its environment:
# a copy of sec-suid (linked against liblockgraph.so, so the loader brings the runtime in
# where LD_PRELOAD would be ignored), made setuid-root or setgid-root and run by the
# unprivileged user with LOCKGRAPH_LOG, LOCKGRAPH_JSON and LOCKGRAPH_TRACE pointing into a
# directory only root can write, creates none of them. The same copy without the setuid bit
# creates them (in the user's own directory): the variables are what the runtime would obey.
. "$LG_SRCDIR/tests/security/lib.sh"
PROG=$LG_BIN/sec-suid
OUT=$T_TMP/rootonly
mkdir -m 775 "$OUT"   # root:root 775: only a setuid-root or setgid-root process could write here
for bit in u+s g+s; do
  cp "$PROG" "$T_TMP/prog-$bit"
  chown root:root "$T_TMP/prog-$bit"
  chmod 755 "$T_TMP/prog-$bit"
  chmod "$bit" "$T_TMP/prog-$bit"
  rm -f "$OUT"/*
  check_status 66 "$bit: runs (the inversion is still reported, on stderr)" as_user env LOCKGRAPH_LOG="$OUT/log" LOCKGRAPH_JSON="$OUT/json" \
    LOCKGRAPH_TRACE="$OUT/trace" timeout 60 "$T_TMP/prog-$bit"
  check_grep "$bit: the runtime is loaded and the process is AT_SECURE" "^runtime loaded, secure 1$" "$T_TMP/out"
  check "$bit: no log file" [ ! -e "$OUT/log" ]
  check "$bit: no JSON report" [ ! -e "$OUT/json" ]
  check "$bit: no trace" [ -z "$(ls -A "$OUT")" ]
done

# Control: the same program, not setuid, run by the user into a directory of the user's.
mkdir -m 777 "$T_TMP/user"
cp "$PROG" "$T_TMP/prog-plain"
chmod 755 "$T_TMP/prog-plain"
check_status 66 "plain: runs and reports" as_user env LOCKGRAPH_LOG="$T_TMP/user/log" \
  LOCKGRAPH_JSON="$T_TMP/user/json" LOCKGRAPH_TRACE="$T_TMP/user/trace" timeout 60 "$T_TMP/prog-plain"
check_grep "plain: not AT_SECURE" "^runtime loaded, secure 0$" "$T_TMP/out"
check "plain: log written" [ -s "$T_TMP/user/log" ]
check "plain: JSON written" [ -s "$T_TMP/user/json" ]
check "plain: trace written" [ -s "$T_TMP/user/trace" ]
done_tests
