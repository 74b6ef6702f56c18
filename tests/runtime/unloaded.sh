# unloaded.sh - a program the runtime cannot be loaded into is not a clean run: `run` and
# `record` say so in one line with the reason, the JSON says "checked": false with the
# reason, and the status is 69 when the program exited 0 (its own status when it failed).
# Cases: a static executable, a setuid copy owned by nobody (run by root: AT_SECURE, the
# loader ignores LD_PRELOAD), `env -u LD_PRELOAD PROG` and a wrapper script that unsets it
# and execs PROG (the runtime loaded into env and sh, which exec'd without it).
. "$(dirname "$0")/lib.sh"
STATIC=$LG_BIN/rt-static
OUT=$LG_BIN/rt-output

# unloaded NAME WANT_RC REASON_PATTERN -- PROG...: the line, the JSON field, the status.
unloaded() {
  local name=$1 want=$2 why=$3; shift 4
  lg_run "$name" -- "$@"
  expect_rc "$name" "$want"
  T_CHECKS=$((T_CHECKS + 1))
  [ "$(grep -c '^lockgraph run: nothing was checked: the runtime was not loaded into ' "$T_TMP/$name.err")" -eq 1 ] \
    || fail "$name: not one 'nothing was checked' line: $(head -c 600 "$T_TMP/$name.err")"
  check_grep "$name: the line gives the reason" "$why" "$T_TMP/$name.err"
  expect "$name" "the JSON says nothing was checked" "r.get('checked')" "False"
  expect "$name" "the JSON gives the reason" "bool(__import__('re').search(r'''$why''', r.get('unchecked_reason', '')))" "True"
  expect "$name" "the JSON has no findings" "kinds()" "[]"
}

unloaded static 69 "is statically linked" -- "$STATIC"
unloaded static-fails 3 "is statically linked" -- "$STATIC" 3

cp "$OUT" "$T_TMP/suid-output"
chmod 755 "$T_TMP"
chown nobody "$T_TMP/suid-output" && chmod 4755 "$T_TMP/suid-output"
unloaded setuid 69 "is setuid \\(owner uid [0-9]+\\)" -- "$T_TMP/suid-output" _exit

unloaded env-u 69 "exec'd a program without it" -- env -u LD_PRELOAD "$OUT" _exit
unloaded wrapper 69 "exec'd a program without it" -- sh -c 'unset LD_PRELOAD; exec "$0" _exit' "$OUT"

# record: the same line, and no "wrote" line for a trace of nothing.
check_status 69 "record a static program" timeout -k 5 120 "$LG" record -o "$T_TMP/s.trace" -- "$STATIC"
check_grep "record: the line with the reason" "^lockgraph record: nothing was checked: the runtime was not loaded into '.*rt-static': .*is statically linked" "$T_TMP/err"
check_lines "record: one line on stderr" 1 "$T_TMP/err"

# The runtime loaded: no such line, no "checked" key, the defect's status.
lg_run loaded -- "$OUT" _exit
expect_rc loaded 66
T_CHECKS=$((T_CHECKS + 1))
! grep -q "nothing was checked" "$T_TMP/loaded.err" || fail "loaded: said nothing was checked"
expect loaded "a checked run has no 'checked' key" "'checked' in r" "False"
done_tests
