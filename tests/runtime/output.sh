# output.sh - the runtime's own output (rt-output): reports, --log and the trace go to
# descriptors the runtime took at start, never into the program's data; an _exit, an exec
# with other threads running and a fatal signal still deliver the JSON (and the trace).
. "$(dirname "$0")/lib.sh"
OUT=$LG_BIN/rt-output
INV='[x["kind"] for x in f]'

# exact FILE WANT DESCRIPTION: the file holds exactly WANT (and a newline).
exact() {
  T_CHECKS=$((T_CHECKS + 1))
  local got; got=$(cat "$1" 2>/dev/null | od -c | head -c 400)
  [ "$(cat "$1" 2>/dev/null)" = "$2" ] && [ "$(wc -c <"$1")" -eq $((${#2} + 1)) ] \
    || fail "$3: $1 holds: $got"
}

# fd 2 closed, a data file opened on it: the file holds only what the program wrote; the
# report reaches the original stderr and the JSON.
lg_run fd2file -- "$OUT" fd2file "$T_TMP/data2"
expect_rc fd2file 66
exact "$T_TMP/data2" "data" "fd2file: the data file on fd 2 holds only the program's bytes"
check_grep "fd2file: the inversion reaches the original stderr" "lock-order inversion" "$T_TMP/fd2file.err"
expect fd2file "the JSON has the inversion" "$INV" "['lock-order-inversion']"

# A pipe dup2'd over fd 2: nothing of lockgraph's reaches it.
lg_run fd2pipe -- "$OUT" fd2pipe
expect_rc fd2pipe 66
check_grep "fd2pipe: the pipe on fd 2 got nothing" "^pipe 0$" "$T_TMP/fd2pipe.out"
check_grep "fd2pipe: the inversion reaches the original stderr" "lock-order inversion" "$T_TMP/fd2pipe.err"

# Every descriptor >= 3 closed, two files opened: --log and record's trace are unaffected.
lg_run closeall --log "$T_TMP/log" -- "$OUT" closeall "$T_TMP/p" "$T_TMP/q"
expect_rc closeall 66
exact "$T_TMP/p" "p-data" "closeall --log: the first data file"
exact "$T_TMP/q" "q-data" "closeall --log: the second data file"
check_grep "closeall: the inversion is in the log" "lock-order inversion" "$T_TMP/log"
T_CHECKS=$((T_CHECKS + 1))
! grep -q "lock-order inversion" "$T_TMP/closeall.err" || fail "closeall: the report went to stderr, not --log"
rm -f "$T_TMP/p" "$T_TMP/q"
check_status 66 "record closeall" timeout -k 5 120 "$LG" record -o "$T_TMP/c.trace" -- "$OUT" closeall "$T_TMP/p" "$T_TMP/q"
exact "$T_TMP/p" "p-data" "closeall under record: the first data file"
exact "$T_TMP/q" "q-data" "closeall under record: the second data file"
check_status 0 "closeall: the trace reads whole" timeout 60 "$LG" report -f json "$T_TMP/c.trace"
check "closeall: the trace has the 1000 locks made after the files were opened" python3 - "$T_TMP/out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n = sum(l.get("acquisitions", 0) for l in r["locks"])
assert r["closed"] and n >= 1004, (r["closed"], n)
PY

# _exit after an inversion: the JSON, and the defect's status.
lg_run uexit -- "$OUT" _exit
expect uexit "_exit: the JSON has the inversion" "$INV" "['lock-order-inversion']"
expect_rc uexit 66

# A thread execs /bin/true while two others lock: the JSON of the image before the exec, the
# defect's status, and under record a trace that reads whole up to the exec.
lg_run exec -- "$OUT" exec
expect exec "exec: the JSON has the inversion" "$INV" "['lock-order-inversion']"
expect_rc exec 66
timeout -k 5 120 "$LG" record -o "$T_TMP/e.trace" -- "$OUT" exec >"$T_TMP/rec.out" 2>"$T_TMP/rec.err"
check_status 0 "exec: the trace reads whole" timeout 60 "$LG" report -f json "$T_TMP/e.trace"
check "exec: the trace has the inversion's locks (4 acquisitions at least)" python3 - "$T_TMP/out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n = sum(l.get("acquisitions", 0) for l in r["locks"])
assert n >= 4, n
PY

# Fatal signals after an inversion, through the program's own crash handler (which restores
# the default): the handler ran, the JSON, and the signal's status (128 + N).
for s in segv:139 abrt:134; do
  m=${s%%:*} want=${s##*:}
  lg_run "$m" -- "$OUT" "$m"
  check_grep "$m: the program's handler ran" "^crash handler$" "$T_TMP/$m.out"
  expect "$m" "$m: the JSON has the inversion" "$INV" "['lock-order-inversion']"
  expect_rc "$m" "$want"
done
done_tests
