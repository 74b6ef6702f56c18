#!/usr/bin/env bash
# The command line itself: help, version, unknown commands and options, exit statuses.
. "$LG_SRCDIR/tests/lib/sh-harness.sh"
lg=$LG_BIN/lockgraph

check_status 0 "--help" "$lg" --help
check_grep "--help lists commands" '^commands:' "$T_TMP/out"
check_grep "--help names exit statuses" '66 means a defect' "$T_TMP/out"
check_status 0 "help" "$lg" help
check_status 0 "help version" "$lg" help version
check_grep "help version shows usage" '^usage: lockgraph version' "$T_TMP/out"
check_status 0 "version --help" "$lg" version --help
check_grep "CMD --help shows usage" '^usage: lockgraph version' "$T_TMP/out"
check_status 0 "--version" "$lg" --version
check_grep "--version prints it" '^lockgraph [0-9]+\.[0-9]+\.[0-9]+$' "$T_TMP/out"
check_status 0 "-V" "$lg" -V

check_status 2 "no arguments" "$lg"
check_grep "no arguments prints usage" '^usage:' "$T_TMP/err"
check_status 2 "unknown command" "$lg" nonsense
check_lines "unknown command: one line" 1 "$T_TMP/err"
check_grep "unknown command names it" "unknown command 'nonsense'" "$T_TMP/err"
check_status 2 "typo" "$lg" versoin
check_grep "typo suggests the closest" "did you mean 'version'" "$T_TMP/err"
check_status 2 "unknown global option" "$lg" --frobnicate
check_lines "unknown option: one line" 1 "$T_TMP/err"
check_grep "unknown option names it" "'--frobnicate'" "$T_TMP/err"
check_status 2 "unknown command option" "$lg" version --bogus
check_grep "unknown command option names it" "lockgraph version: unknown option '--bogus'" "$T_TMP/err"
check_status 2 "help for unknown command" "$lg" help nonsense
check_status 0 "help --help" "$lg" help --help
check_grep "help --help shows help's usage" '^usage: lockgraph help' "$T_TMP/out"
check_status 2 "transposed letters" "$lg" rnu
check_grep "a transposition is one typo" "did you mean 'run'" "$T_TMP/err"
check_status 2 "not a typo of anything" "$lg" nope
check_grep "no far-fetched suggestion" "^lockgraph: unknown command 'nope' \\(see 'lockgraph --help'\\)$" "$T_TMP/err"
check_status 2 "stray operand" "$lg" version extra
check_grep "stray operand named" "unexpected argument 'extra'" "$T_TMP/err"

# Output that cannot be written is an error, not a silent success.
if [ -w /dev/full ]; then
  "$lg" --help >/dev/full 2>"$T_TMP/err"; st=$?
  T_CHECKS=$((T_CHECKS + 1)); [ $st -eq 1 ] || fail "write to /dev/full: exit $st"
fi
done_tests
