#!/usr/bin/env bash
# man.sh - the man pages: one per command in `lockgraph --help` plus lockgraph(1), generated
# from the same tables as --help, rendering without a warning; --help fits 80 columns and
# says the exit statuses that are true for that command.
. "$LG_SRCDIR/tests/lib/sh-harness.sh"
LG=$LG_BIN/lockgraph
MAN=$LG_BUILD/share/man/man1
cmds=$("$LG" --help | awk '/^commands:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {exit}')
check "the command list is not empty" [ -n "$cmds" ]
check "lockgraph.1 exists" test -s "$MAN/lockgraph.1"
for c in $cmds; do
  page=$MAN/lockgraph-$c.1
  check "lockgraph-$c.1 exists" test -s "$page"
  T_CHECKS=$((T_CHECKS + 1))
  warn=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
  [ -z "$warn" ] || fail "lockgraph-$c.1 renders with warnings: $warn"
  check "lockgraph(1) lists $c" grep -q "lockgraph\\\\-$c" "$MAN/lockgraph.1"
  # every option of --help is in the page
  for o in $("$LG" "$c" --help | grep -Eo '^  (-[a-zA-Z], )?--[a-z-]+' | grep -Eo -- '--[a-z-]+'); do
    check "lockgraph-$c.1 has $o" grep -q -- "$(printf '%s' "$o" | sed 's/-/\\\\-/g')" "$page"
  done
  "$LG" "$c" --help >"$T_TMP/help" 2>&1
  T_CHECKS=$((T_CHECKS + 1))
  wide=$(awk 'length($0) > 80' "$T_TMP/help")
  [ -z "$wide" ] || fail "$c --help is wider than 80 columns: $wide"
  check_grep "$c --help says its exit status" '^exit status: ' "$T_TMP/help"
done
T_CHECKS=$((T_CHECKS + 1))
warn=$(MANWIDTH=80 man --warnings -l "$MAN/lockgraph.1" 2>&1 >/dev/null)
[ -z "$warn" ] || fail "lockgraph.1 renders with warnings: $warn"
# commands that cannot find a defect do not claim 66
for c in help version dump; do
  "$LG" "$c" --help >"$T_TMP/help" 2>&1
  T_CHECKS=$((T_CHECKS + 1))
  ! grep -q '66' "$T_TMP/help" || fail "$c --help claims an exit status 66"
done
check_grep "attach says 66" '^exit status: 0 nothing found, 66 a defect found' <("$LG" attach --help)
check_grep "run names its env for --hang-timeout" 'env: LOCKGRAPH_HANG_TIMEOUT' <("$LG" run --help)
# the variable works: an invalid value is refused like the flag's
check_status 2 "LOCKGRAPH_HANG_TIMEOUT=bad is a usage error" env LOCKGRAPH_HANG_TIMEOUT=bad "$LG" run -- true
check_grep "names the value" "invalid value 'bad'" "$T_TMP/err"
check_status 2 "help --man nonsense" "$LG" help --man nonsense
done_tests
