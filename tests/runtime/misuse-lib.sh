# misuse-lib.sh - what misuse.sh, misuse-cond.sh and misuse-legal.sh share: each case of
# tests/runtime/misuse.c under `lockgraph run`, its findings checked (misuse_case) or their
# absence (legal_case), and the program's own output (every call's result) the bare run's,
# line for line. Three scripts, so each stays well inside CTest's time on a loaded machine.
. "$(dirname "$0")/lib.sh"
MIS=$LG_BIN/rt-misuse MIS_SRC=misuse.c   # the cases' program and its source file

# misuse_case CASE SUBKINDS LOCK REFUSED ROLES: one run; SUBKINDS the sorted list of the
# findings' subkinds, LOCK the first lock's name ("heap": any heap address), REFUSED the first finding's "refused",
# ROLES the first finding's site roles in order.
misuse_case() {
  local c=$1 subs=$2 lock=$3 refused=$4 roles=$5
  T_CHECKS=$((T_CHECKS + 1))
  timeout -k 5 60 "$MIS" "$c" >"$T_TMP/$c.bare" 2>&1 || fail "$c: bare run failed: $(head -c 300 "$T_TMP/$c.bare")"
  lg_run "$c" -- "$MIS" "$c"
  expect_rc "$c" 66
  expect "$c" "kinds" "sorted(set(kinds()))" "['lock-misuse']"
  expect "$c" "subkinds" "sorted(x['misuse'] for x in f)" "$subs"
  if [ "$lock" = heap ] || [ "$lock" = stack ]; then   # named by its address
    expect "$c" "lock" "f[0]['locks'][0]['name'].startswith('$lock 0x')" True
  else
    expect "$c" "lock" "f[0]['locks'][0]['name']" "$lock"
  fi
  expect "$c" "refused" "f[0]['refused']" "$refused"
  expect "$c" "site roles" "[s['role'] for s in f[0]['sites']]" "$roles"
  expect "$c" "misuse site in the case's function" \
    "all(s['stack'] and s['stack'][0]['file'].endswith('/$MIS_SRC') for s in f[0]['sites'])" "True"
  T_CHECKS=$((T_CHECKS + 1))
  diff "$T_TMP/$c.bare" "$T_TMP/$c.out" >/dev/null || fail "$c: results differ under the runtime: $(diff "$T_TMP/$c.bare" "$T_TMP/$c.out" | head -c 800)"
  local first=${subs#\[\'}; first=${first%%\'*}
  check_grep "$c: text stanza" "lockgraph: lock misuse \\($first\\)" "$T_TMP/$c.err"
  check_grep "$c: why line" "^Why: " "$T_TMP/$c.err"
}

# legal_case CASE...: a legal look-alike each: no finding, status 0, the bare run's results.
legal_case() {
  local c
  for c in "$@"; do
    timeout -k 5 60 "$MIS" "$c" >"$T_TMP/$c.bare" 2>&1
    lg_run "$c" -- "$MIS" "$c"
    expect_rc "$c" 0
    expect "$c" "no finding" "kinds()" "[]"
    T_CHECKS=$((T_CHECKS + 1))
    grep -q "^done $c\$" "$T_TMP/$c.out" && diff "$T_TMP/$c.bare" "$T_TMP/$c.out" >/dev/null ||
      fail "$c: results differ under the runtime: $(diff "$T_TMP/$c.bare" "$T_TMP/$c.out" | head -c 800)"
  done
}
