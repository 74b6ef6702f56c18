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

# jq_py NAME EXPR: evaluate a python expression over the report `r` (dict); prints it.
# One python process (a coprocess started here) answers every query of the test: a python
# start per check cost more than the runs themselves on a loaded machine (runtime-misuse
# ran past CTest's 300 s). Queries and answers are NUL-framed; the coprocess's pipes are
# close-on-exec, so no program under test inherits them.
LG_PYQ_SRC='
import json, sys
inp, out = sys.stdin.buffer, sys.stdout.buffer
def field():
    b = bytearray()
    while True:
        c = inp.read(1)
        if not c:
            return None
        if c == b"\0":
            return b.decode("utf-8", "replace")
        b += c
def kinds(): return sorted(x["kind"] for x in f)
def inv(): return [x for x in f if x["kind"] == "lock-order-inversion"]
def funcs(st): return [fr.get("function") or "" for fr in st]
def answer(path, expr):
    global r, f   # globals, as the expression (and its comprehensions) expect
    try:
        r = json.load(open(path))
    except Exception as e:
        return "no-json:%s" % e
    f = r["findings"]
    return str(eval(expr))
while True:
    path, expr = field(), field()
    if path is None or expr is None:
        break
    try:
        a = answer(path, expr)
    except Exception as e:
        a = "error:%s: %s" % (type(e).__name__, e)
    out.write(a.encode("utf-8", "replace") + b"\0")
    out.flush()
'
coproc LG_PYQ { exec python3 -c "$LG_PYQ_SRC" 2>/dev/null; }
jq_py() {
  local a
  printf '%s\0%s\0' "$T_TMP/$1.json" "$2" >&"${LG_PYQ[1]}" && IFS= read -r -d '' a <&"${LG_PYQ[0]}" \
    || a="error: the query process is gone"
  printf '%s\n' "$a"
}

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
