# signals.sh - signal handlers that take locks, in a storm of signals (tests/runtime/signals.c):
# under `lockgraph run` and `lockgraph record`, 20 runs each, the program exits as bare with
# the same output (counts it forces), the JSON has no finding (no lock order in the program
# is inconsistent: a handler's lock "held" after the handler released it, or an edge from
# it, would be one), and no run hangs (`timeout` is only the hang guard). A fatal signal
# (SIGSEGV raised in a handler, SIGTERM to the process in the storm) ends the program with
# that signal's status.
. "$(dirname "$0")/lib.sh"
SIG=$LG_BIN/rt-signals
N=400
RUNS=20
GUARD=60            # seconds: a hang guard, far above a run's time on a loaded machine
MAX=$((64 << 20))   # a bound on each trace's size, not a check

T_CHECKS=$((T_CHECKS + 1))
timeout -k 5 $GUARD "$SIG" storm $N >"$T_TMP/bare.out" 2>&1
bare=$?
[ $bare -eq 0 ] && grep -q "^signals $N handled $N h1 $N h2 $N worker-ran yes$" "$T_TMP/bare.out" \
  || fail "bare run: status $bare: $(head -c 500 "$T_TMP/bare.out")"

# one NAME MODE: a storm under `lockgraph MODE`; status, output and JSON checked.
one() {
  local name=$1 mode=$2
  rm -f "$T_TMP/s.lgt"
  if [ "$mode" = run ]; then
    lg_run "$name" -- "$SIG" storm $N
  else
    timeout -k 5 $GUARD "$LG" record -o "$T_TMP/s.lgt" --max-size $MAX --json "$T_TMP/$name.json" \
      -- "$SIG" storm $N >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
    RC=$?
  fi
  expect_rc "$name" $bare
  T_CHECKS=$((T_CHECKS + 1))
  cmp -s "$T_TMP/bare.out" "$T_TMP/$name.out" || fail "$name: output differs: $(head -c 300 "$T_TMP/$name.out")"
  JSONS="$JSONS $T_TMP/$name.json"
}
JSONS=
for i in $(seq $RUNS); do
  one run$i run
  one rec$i record
done
# Every report at once (one python start: it costs more than a run on a loaded machine).
T_CHECKS=$((T_CHECKS + 1))
bad=$(python3 - $JSONS <<'PY'
import json, sys
for p in sys.argv[1:]:
    try:
        f = json.load(open(p))["findings"]
    except Exception as e:
        print("%s: no JSON (%s)" % (p, e)); continue
    if f:
        print("%s: findings %s" % (p, sorted(x["kind"] for x in f)))
PY
)
[ -z "$bad" ] || fail "findings where the program has none: $bad"

# A fatal signal ends the program with its status, as bare (128 + signal through timeout).
fatal() {
  local what=$1 at=$2 want=$3
  timeout -k 5 $GUARD "$SIG" $what $at >/dev/null 2>&1
  local b=$?
  T_CHECKS=$((T_CHECKS + 1))
  [ $b -eq $want ] || fail "bare $what: status $b, want $want"
  for i in 1 2 3; do
    lg_run $what-run$i -- "$SIG" $what $at
    expect_rc $what-run$i $want
    rm -f "$T_TMP/f.lgt"
    timeout -k 5 $GUARD "$LG" record -o "$T_TMP/f.lgt" --max-size $MAX -- "$SIG" $what $at \
      >/dev/null 2>"$T_TMP/$what-rec$i.err"
    RC=$?
    expect_rc $what-rec$i $want
  done
}
fatal segv $((N / 2)) $((128 + 11))
fatal term $((N / 2)) $((128 + 15))

# SIGTERM to a thread inside the runtime's slow path, with no handler of the program's (so
# the runtime's sections block no signal): the fatal-signal handler runs after the section
# (a handler run inside it would flush and report while the graph lock is held), writes the
# JSON with the program's one inversion, and the program dies of SIGTERM; under record too.
for i in 1 2 3 4 5; do
  lg_run section-run$i -- "$SIG" section 20
  expect_rc section-run$i $((128 + 15))
  expect section-run$i "the inversion in the JSON written as it died" \
    "len(inv())" 1
  rm -f "$T_TMP/s.lgt"
  timeout -k 5 $GUARD "$LG" record -o "$T_TMP/s.lgt" --max-size $MAX --json "$T_TMP/section-rec$i.json" \
    -- "$SIG" section 20 >/dev/null 2>"$T_TMP/section-rec$i.err"
  RC=$?
  expect_rc section-rec$i $((128 + 15))
  expect section-rec$i "the inversion in the JSON written as it died (record)" "len(inv())" 1
done
done_tests
