# lib.sh - sourced by the runtime tests: run a program under `lockgraph run` with a JSON
# report, and query that report with python3.
. "$LG_SRCDIR/tests/lib/sh-harness.sh"
LG=$LG_BIN/lockgraph
CASES=$LG_BIN/rt-cases

# lg_run NAME [lockgraph run options] -- PROG ARGS: JSON in $T_TMP/NAME.json, text in
# $T_TMP/NAME.err, stdout in $T_TMP/NAME.out, status in $RC. Bounded by `timeout`.
lg_run() {
  local name=$1; shift
  timeout -k 5 120 "$LG" run --json "$T_TMP/$name.json" "$@" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
  RC=$?
}

# jq_py NAME EXPR: evaluate a python expression over the report `r` (dict) of NAME, with
# `f` its findings and the helpers below; prints it (one python for the test: json-query.sh).
. "$LG_SRCDIR/tests/lib/json-query.sh"
json_query_start '
def kinds(): return sorted(x["kind"] for x in f)
def inv(): return [x for x in f if x["kind"] == "lock-order-inversion"]
def funcs(st): return [fr.get("function") or "" for fr in st]'
jq_py() { json_query "$T_TMP/$1.json" "$2"; }

# expect NAME DESCRIPTION EXPR WANT
expect() {
  T_CHECKS=$((T_CHECKS + 1))
  local got; got=$(jq_py "$1" "$3")
  [ "$got" = "$4" ] || fail "$1: $2: got '$got', want '$4'; stderr: $(head -c 1500 "$T_TMP/$1.err")"
}
expect_rc() {
  T_CHECKS=$((T_CHECKS + 1))
  [ "$RC" -eq "$2" ] || fail "$1: exit status $RC, want $2; stderr: $(head -c 1500 "$T_TMP/$1.err")"
}
