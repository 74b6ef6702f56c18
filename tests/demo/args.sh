#!/usr/bin/env bash
# lockgraph-demo's command line: --help, and each bad argument gives exit 2 with exactly one
# line on stderr naming what is wrong (and starts no thread: it returns at once).
. "$LG_SRCDIR/tests/lib/sh-harness.sh"
demo=$LG_BIN/lockgraph-demo

check_status 0 "--help" timeout 10 "$demo" --help
check_grep "--help usage" '^usage: lockgraph-demo \[OPTION\.\.\.\]$' "$T_TMP/out"
for o in files writes order dir quiet help; do
  check_grep "--help lists --$o" "^  --$o( |\$)" "$T_TMP/out"
done
check_lines "--help: nothing on stderr" 0 "$T_TMP/err"

# bad ARGS... EXPECTED-MESSAGE (the whole stderr line)
bad() {
  local want=${*: -1}
  check_status 2 "bad: ${*:1:$#-1}" timeout 10 "$demo" "${@:1:$#-1}"
  check_lines "bad: ${*:1:$#-1}: one line on stderr" 1 "$T_TMP/err"
  T_CHECKS=$((T_CHECKS + 1))
  [ "$(cat "$T_TMP/err")" = "lockgraph-demo: $want" ] || fail "bad: ${*:1:$#-1}: got '$(cat "$T_TMP/err")', expected 'lockgraph-demo: $want'"
  check_lines "bad: ${*:1:$#-1}: nothing on stdout" 0 "$T_TMP/out"
}
range="expected a whole number from 1 to 1000000"
bad --files x "invalid value 'x' for --files: $range"
bad --files 0 "invalid value '0' for --files: $range"
bad --files -5 "invalid value '-5' for --files: $range"
bad --files 1000001 "invalid value '1000001' for --files: $range"
bad --files 99999999999999999999999 "invalid value '99999999999999999999999' for --files: $range"
bad --files 12abc "invalid value '12abc' for --files: $range"
bad --files= "invalid value '' for --files: $range"
bad --writes 10001 "invalid value '10001' for --writes: expected a whole number from 1 to 10000"
bad --writes=0 "invalid value '0' for --writes: expected a whole number from 1 to 10000"
bad --order sideways "invalid value 'sideways' for --order: expected 'inconsistent' or 'consistent'"
bad --bogus "unknown option '--bogus'"
bad --files "option '--files' needs a value (N)"
bad --quiet=1 "option '--quiet' takes no value"
bad -x "unexpected argument '-x'"
bad extra "unexpected argument 'extra'"
bad --dir "$T_TMP/missing" "cannot use '$T_TMP/missing' for --dir: No such file or directory"
touch "$T_TMP/file"
bad --dir "$T_TMP/file" "cannot use '$T_TMP/file' for --dir: Not a directory"

# A directory the demo may not write into. Root may write anywhere, so as root the check
# runs as nobody (setpriv, util-linux) against a world-readable, read-only directory.
ro=$(mktemp -d "${TMPDIR:-/tmp}/lg-demo-ro.XXXXXX"); chmod 555 "$ro"
trap 'rm -rf "$T_TMP"; rmdir "$ro"' EXIT
as=(); [ "$(id -u)" -eq 0 ] && as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
check_status 2 "read-only --dir" timeout 10 "${as[@]}" "$demo" --dir "$ro"
check_lines "read-only --dir: one line" 1 "$T_TMP/err"
check_grep "read-only --dir named" "^lockgraph-demo: cannot use '$ro' for --dir: Permission denied\$" "$T_TMP/err"
check "read-only --dir: nothing created" test -z "$(ls -A "$ro")"

# --help output that cannot be written is an error.
if [ -w /dev/full ]; then
  "$demo" --help >/dev/full 2>/dev/null; st=$?
  T_CHECKS=$((T_CHECKS + 1)); [ $st -eq 1 ] || fail "--help to /dev/full: exit $st"
fi
done_tests
