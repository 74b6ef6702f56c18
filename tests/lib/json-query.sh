# json-query.sh - sourced by shell tests that check JSON reports with python expressions.
# One python process (a coprocess) answers every query of the test: a python start per
# check cost more than the runs themselves on a loaded machine (runtime-misuse ran past
# CTest's 300 s). Queries and answers are NUL-framed; the coprocess's pipes are
# close-on-exec, so no program under test inherits them.
#
#   json_query_start [PYTHON]   start it; PYTHON: more helper definitions (they see r and f)
#   json_query FILE EXPR        print str(EXPR) over r = FILE's JSON, f = r["findings"];
#                               "no-json:..." when FILE does not parse, "error:..." when EXPR
#                               raises
LG_JQ_SRC='
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
def answer(path, expr):
    global r, f   # globals, as the expression (and its comprehensions) expect
    try:
        r = json.load(open(path))
    except Exception as e:
        return "no-json:%s" % e
    f = r["findings"]
    return str(eval(expr))
def main():
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
json_query_start() {
  coproc LG_JQ { exec python3 -c "$LG_JQ_SRC
${1:-}
main()" 2>/dev/null; }
}
json_query() {
  local a
  printf '%s\0%s\0' "$1" "$2" >&"${LG_JQ[1]}" && IFS= read -r -d '' a <&"${LG_JQ[0]}" \
    || a="error: the query process is gone"
  printf '%s\n' "$a"
}
