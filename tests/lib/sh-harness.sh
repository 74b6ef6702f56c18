# sh-harness.sh - sourced by shell tests: check helpers that count failures and a summary.
# Every test prints "N checks, M failed" and exits non-zero when M > 0.
set -u
T_CHECKS=0
T_FAILED=0
T_TMP=$(mktemp -d)
trap 'rm -rf "$T_TMP"' EXIT

fail() { T_FAILED=$((T_FAILED + 1)); echo "FAIL: $*" >&2; }
pass() { :; }
# check DESCRIPTION COMMAND...: the command must succeed.
check() { local d=$1; shift; T_CHECKS=$((T_CHECKS + 1)); if "$@"; then pass; else fail "$d"; fi; }
# check_status WANT DESCRIPTION COMMAND...: exit status must be WANT; output in $T_TMP/out,err.
check_status() {
  local want=$1 d=$2; shift 2; T_CHECKS=$((T_CHECKS + 1))
  "$@" >"$T_TMP/out" 2>"$T_TMP/err"; local got=$?
  [ "$got" -eq "$want" ] || fail "$d: exit $got, expected $want; stderr: $(head -c 500 "$T_TMP/err")"
}
# check_grep DESCRIPTION PATTERN FILE
check_grep() { T_CHECKS=$((T_CHECKS + 1)); grep -Eq -- "$2" "$3" || fail "$1: /$2/ not in $3: $(head -c 800 "$3")"; }
check_lines() { T_CHECKS=$((T_CHECKS + 1)); local n; n=$(wc -l <"$3"); [ "$n" -eq "$2" ] || fail "$1: $n lines, expected $2: $(head -c 500 "$3")"; }
# wait_grep PATTERN FILE PID: wait until FILE matches PATTERN (grep -E) or PID has ended,
# bounded by 60 s (a hang guard for a loaded machine, not a check); 0 when FILE matches.
wait_grep() {
  local i
  for i in $(seq 1200); do
    grep -Eq -- "$1" "$2" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || break
    sleep 0.05
  done
  grep -Eq -- "$1" "$2" 2>/dev/null
}
done_tests() { echo "$T_CHECKS checks, $T_FAILED failed"; [ "$T_FAILED" -eq 0 ]; }
