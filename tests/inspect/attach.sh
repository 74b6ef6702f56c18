#!/usr/bin/env bash
# attach.sh - lockgraph attach / dump / core on real hung processes (tests/progs/hang.c):
# for every mode the right finding, cycle, owners and stacks (check.py); after attach and
# dump the target is alive and its threads are in the same waits; the dump read back by
# `lockgraph core` gives the same findings; gcore cores and stripped binaries work; bad input
# gets one line and a non-zero exit. Every started process is killed on exit.
. "$LG_SRCDIR/tests/lib/sh-harness.sh"
LG=$LG_BIN/lockgraph
HANG=$LG_BIN/hang
# check.py's checks of each report are queued (REPORT MODE [FLAGS]) and made in one python
# start at the end (check_reports): one per report cost more than the attaches themselves.
REPORTS=()
check_reports() {
  local out n bad
  out=$(printf '%s\n' "${REPORTS[@]}" | python3 "$LG_SRCDIR/tests/inspect/check.py" --batch)
  n=$(tail -n 1 <<<"$out" | sed -n 's/^\([0-9]*\) reports, [0-9]* failed$/\1/p')
  T_CHECKS=$((T_CHECKS + ${#REPORTS[@]}))
  [ "$n" = "${#REPORTS[@]}" ] || fail "check.py --batch: $(tail -c 500 <<<"$out")"
  while IFS= read -r bad; do fail "report: $bad"; done < <(sed '$d' <<<"$out")
}
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T_TMP"; }
trap cleanup EXIT

# NAME EXIT [COMMAND...]: one line per hung program; COMMAND defaults to `hang NAME`, and
# check.py holds NAME's expectations. Another hung program (e.g. the demo) is one line here,
# e.g. "demo 66 $LG_BIN/lockgraph-demo --order inconsistent --dir $T_TMP/demo", plus one
# line in check.py's EXPECT.
MODES=(
  "abba 66" "rwlock-ww 66" "rwlock-wr 66" "rwlock-rw 66" "ring3 66" "self 66" "self-rw 66"
  "robust 66" "pi 66" "timed 66" "c11 66" "cond 0" "sem 0" "orphan 66" "join 66" "idle 0"
  "read 0" "barrier 0" "kinds 66" "pshared 66" "stdio 66" "futex 0" "stack-aa 66" "stack-aba 66"
  "demo 66 $LG_BIN/lockgraph-demo --order inconsistent --files 20 --writes 2 --dir $T_TMP/demo"
)
mkdir -p "$T_TMP/demo"

. "$LG_SRCDIR/tests/inspect/procs.sh"

for entry in "${MODES[@]}"; do
  set -- $entry
  mode=$1 want=$2
  shift 2
  [ $# -gt 0 ] || set -- "$HANG" "$mode"
  exe=$1
  start "$@"
  before=$(syscalls "$PID")
  check_status "$want" "attach $mode" "$LG" attach "$PID" --json "$T_TMP/$mode.json"
  REPORTS+=("$T_TMP/$mode.json $mode")
  check "attach $mode: target alive" kill -0 "$PID"
  after=$(syscalls "$PID")
  check "attach $mode: same waits after attach" [ "$before" = "$after" ]
  check_status 0 "dump $mode" "$LG" dump "$PID" -o "$T_TMP/$mode.core"
  check "dump $mode: target alive" kill -0 "$PID"
  after=$(syscalls "$PID")
  check "dump $mode: same waits after dump" [ "$before" = "$after" ]
  check_status "$want" "core $mode" "$LG" core "$T_TMP/$mode.core" "$exe" \
    --json "$T_TMP/$mode.core.json"
  REPORTS+=("$T_TMP/$mode.core.json $mode --core --names")
  kill -9 "$PID" 2>/dev/null
  rm -f "$T_TMP/$mode.core"
  rm -rf "$T_TMP/demo"/*
done

# After attach the process is free to continue when the cause goes away: in `read` mode the
# lock holder waits for a pipe; feed it, and the holder runs on and exits holding mutex_a,
# which a second attach reports as orphaned.
start "$HANG" read
check_status 0 "attach read" "$LG" attach "$PID" --max-frames 1
check_grep "read: chain ends in the pipe" '\[thread [0-9]+ "reader"\] blocked in read\(fd [0-9]+ -> pipe:\[' "$T_TMP/out"
rfd=$(sed -n 's/.*"reader"\] blocked in read(fd \([0-9]*\) -> pipe.*/\1/p' "$T_TMP/out" | head -1)
pipe=$(readlink /proc/"$PID"/fd/"$rfd")
for f in /proc/"$PID"/fd/*; do   # the write end: the other descriptor of the same pipe
  [ "$(basename "$f")" != "$rfd" ] && [ "$(readlink "$f")" = "$pipe" ] && echo x >"$f" && break
done
for i in $(seq 100); do
  [ "$(ls /proc/"$PID"/task | wc -l)" -lt 3 ] && break
  sleep 0.05
done
check "read: the holder ran on and exited after attach" [ "$(ls /proc/"$PID"/task | wc -l)" -eq 2 ]
settle "$PID"
check_status 66 "attach after the holder exited" "$LG" attach "$PID" --json "$T_TMP/orph.json"
check_grep "orphaned now" '"kind": "orphaned-lock"' "$T_TMP/orph.json"
kill -9 "$PID"

# Spinlocks spin in user mode: the threads run, each spinning on the other's lock. Not
# settled (they never block); checked once and ended at once to spare the CPUs.
: >"$T_TMP/spin.out"
"$HANG" spin >"$T_TMP/spin.out" 2>&1 &
PID=$!
PIDS+=("$PID")
disown "$PID"
for i in $(seq 100); do grep -q ready "$T_TMP/spin.out" && break; sleep 0.05; done
ok=1
for i in $(seq 50); do   # both spinners inside pthread_spin_lock
  "$LG" attach "$PID" --json "$T_TMP/spin.json" >/dev/null 2>&1
  python3 "$LG_SRCDIR/tests/inspect/check.py" "$T_TMP/spin.json" spin >/dev/null && { ok=0; break; }
  sleep 0.05
done
check "attach spin: both spinners on each other's spinlock" [ "$ok" = 0 ]
check_grep "spinner state" '"state": "running", "wait": "spin on spinlock spin_[ab]' "$T_TMP/spin.json"
kill -9 "$PID"

# Text, DOT and a gcore core of the ABBA deadlock.
start "$HANG" abba
check_status 66 "attach text" "$LG" attach "$PID" --dot "$T_TMP/abba.dot"
check_grep "verdict first" '^lockgraph: process [0-9]+ \(hang\), 3 threads: 1 deadlock; the process cannot make progress; stopped for' <(head -1 "$T_TMP/out")
check_grep "stanza" 'waits to lock L[0-9] mutex \(normal\) mutex_b .* at hang.c:[0-9]+,' "$T_TMP/out"
check_grep "held by" 'held by thread [0-9]+ "locker-ba"' "$T_TMP/out"
check_grep "contended table" '^  L[0-9]+ +mutex +mutex_a +thread [0-9]+ "locker-ab"' "$T_TMP/out"
check_grep "wait chain" '\[thread [0-9]+ "locker-ab"\] -> \[mutex mutex_b\] -> \[thread [0-9]+ "locker-ba"\] -> \[mutex mutex_a\] -> \[thread [0-9]+ "locker-ab"\] !!!Deadlock!!!' "$T_TMP/out"
check_grep "annotated frame" '\^\^\^ waits here: lock mutex mutex_a' "$T_TMP/out"
check_grep "last line" '^Found 1 deadlock\.$' <(tail -1 "$T_TMP/out")
check_grep "dot graph" 'digraph lockgraph' "$T_TMP/abba.dot"
check_grep "dot waits" 'waits' "$T_TMP/abba.dot"
if timeout 60 gcore -o "$T_TMP/g" "$PID" >/dev/null 2>&1; then
  check_status 66 "core from gcore" "$LG" core "$T_TMP/g.$PID" "$HANG" --json "$T_TMP/g.json"
  REPORTS+=("$T_TMP/g.json abba --core")
  check_status 66 "core from gcore without EXE" "$LG" core "$T_TMP/g.$PID"
  check_status 1 "core with the wrong EXE" "$LG" core "$T_TMP/g.$PID" /bin/true
  check_lines "wrong EXE: one line" 1 "$T_TMP/err"
  check_grep "wrong EXE message" "core is not from '/bin/true'" "$T_TMP/err"
  head -c 200000 "$T_TMP/g.$PID" >"$T_TMP/trunc.core"
  check_status 1 "truncated core" "$LG" core "$T_TMP/trunc.core" "$HANG"
  check_lines "truncated: one line" 1 "$T_TMP/err"
  check_grep "truncated message" "is truncated" "$T_TMP/err"
else
  fail "gcore could not write a core of $PID"
fi
check "gcore: target alive" kill -0 "$PID"
# Other tools read our dumps too (the LOCKGRAPH note is ignored): gdb finds the libraries.
check_status 0 "dump for gdb" "$LG" dump "$PID" -o "$T_TMP/abba.core"
timeout 60 gdb -batch -ex "thread apply all bt" "$HANG" "$T_TMP/abba.core" >"$T_TMP/gdb.out" 2>&1
check_grep "gdb reads the dump" 'lock_b \(\) at .*hang.c' "$T_TMP/gdb.out"
check_grep "gdb sees the futex word" 'futex_word=0x[0-9a-f]+ <mutex_a>' "$T_TMP/gdb.out"

# Already traced by another debugger: one line, the target unharmed.
timeout 20 gdb -p "$PID" -batch -ex 'shell sleep 3' >/dev/null 2>&1 &
GDB=$!
PIDS+=("$GDB")
for i in $(seq 100); do
  grep -q '^TracerPid:[[:space:]]*[1-9]' /proc/"$PID"/status && break
  sleep 0.05
done
check_status 1 "attach to a traced process" "$LG" attach "$PID"
check_lines "traced: one line" 1 "$T_TMP/err"
check_grep "traced message" "cannot attach to process $PID" "$T_TMP/err"
wait "$GDB" 2>/dev/null
check "traced: target alive" kill -0 "$PID"
kill -9 "$PID"

# A target running the lockgraph runtime is recognised by its mapped liblockgraph*.so (any
# library under that name will do for the check; the data exchange is not implemented).
cp "$(ldd "$HANG" | sed -n 's/.*libc.so.6 => \([^ ]*\).*/\1/p' | sed 's/libc.so.6/libm.so.6/')" \
  "$T_TMP/liblockgraph.so"
start env LD_PRELOAD="$T_TMP/liblockgraph.so" "$HANG" abba
check_status 66 "attach with the runtime loaded" "$LG" attach "$PID" --max-frames 1
check_grep "runtime noted" "the target runs the lockgraph runtime \($T_TMP/liblockgraph.so\)" "$T_TMP/out"
kill -9 "$PID"

# Without stacks (--no-stacks) the layouts alone still find the cycle.
start "$HANG" abba
check_status 66 "attach --no-stacks" "$LG" attach "$PID" --no-stacks --json -
check_grep "no-stacks: the cycle" '"summary": "thread [0-9]+ \\"locker-ab\\" -> mutex_b -> thread [0-9]+ \\"locker-ba\\" -> mutex_a -> thread [0-9]+: 2 threads wait for each other"' "$T_TMP/out"
kill -9 "$PID"

# Layouts alone (no stacks) are evidence only where they are consistent: stdout's lock is
# libc's own (its FILE points at it), a stack mutex is named after the thread's stack, and a
# word of 2 beside zeros is no mutex.
for m in stdio futex stack-aa; do
  start "$HANG" "$m"
  want=66; [ "$m" = futex ] && want=0
  check_status "$want" "attach --no-stacks $m" "$LG" attach "$PID" --no-stacks --json "$T_TMP/ns-$m.json"
  case $m in
    stdio) check_grep "no-stacks stdio: the cycle through stdout" '"summary": "thread [0-9]+ \\"(writer|file-holder)\\" -> (stdout|mutex_a) -> thread [0-9]+ \\"(writer|file-holder)\\" -> (stdout|mutex_a) -> thread [0-9]+: 2 threads wait for each other"' "$T_TMP/ns-$m.json" ;;
    futex) check_grep "no-stacks futex: a plain futex wait" '"wait": "futex wait on 0x[0-9a-f]+ \(value 2\)"' "$T_TMP/ns-$m.json"
           check "no-stacks futex: no mutex" bash -c "! grep -q '\"type\": \"mutex\"' '$T_TMP/ns-$m.json'" ;;
    stack-aa) check_grep "no-stacks stack-aa: self-deadlock on the thread's stack" '"summary": "thread [0-9]+ \\"self-locker\\" waits to lock stack of thread [0-9]+[^"]*, which it holds itself"' "$T_TMP/ns-$m.json" ;;
  esac
  if [ "$m" = stdio ]; then   # and from a gcore core
    if timeout 60 gcore -o "$T_TMP/gs" "$PID" >/dev/null 2>&1; then
      check_status 66 "core of stdio from gcore" "$LG" core "$T_TMP/gs.$PID" "$HANG" --json "$T_TMP/gs.json"
      REPORTS+=("$T_TMP/gs.json stdio --core")
      rm -f "$T_TMP/gs.$PID"
    else
      fail "gcore could not write a core of $PID"
    fi
  fi
  kill -9 "$PID"
done

# The main thread has exited (pthread_exit in main): its /proc/PID/maps and memory went with
# it, so they are read through a live thread; the other two threads' deadlock is found.
start "$HANG" main-exit
check_status 66 "attach main-exit" "$LG" attach "$PID" --json "$T_TMP/me.json"
check_grep "main-exit: the cycle of the two live threads" '"summary": "thread [0-9]+ \\"locker-ab\\" -> mutex_b -> thread [0-9]+ \\"locker-ba\\" -> mutex_a -> thread [0-9]+: 2 threads wait for each other"' "$T_TMP/me.json"
check_grep "main-exit: says the main thread exited" 'the main thread of process [0-9]+ has exited; its other 2 threads are inspected' "$T_TMP/me.json"
check "main-exit: target alive" kill -0 "$PID"
kill -9 "$PID"

# Stripped binary: module+offset frames, same cycle.
start "$LG_BIN/hang-stripped" abba
check_status 66 "attach stripped" "$LG" attach "$PID" --json "$T_TMP/s.json"
REPORTS+=("$T_TMP/s.json abba --stripped")
kill -9 "$PID"

# Bad input: one line, non-zero exit.
check_status 1 "no such pid" "$LG" attach 99999999
check_lines "no such pid: one line" 1 "$T_TMP/err"
check_grep "no such pid message" "no process with pid 99999999" "$T_TMP/err"
check_status 2 "attach without pid" "$LG" attach
check_status 2 "attach bad pid" "$LG" attach 12x
check_status 2 "dump without -o" "$LG" dump 1
echo "not a core" >"$T_TMP/text"
check_status 1 "text file as core" "$LG" core "$T_TMP/text"
check_grep "text file message" "is not an ELF core file" "$T_TMP/err"
check_lines "text file: one line" 1 "$T_TMP/err"
check_status 1 "ELF that is not a core" "$LG" core "$HANG"
check_lines "not a core: one line" 1 "$T_TMP/err"
check_status 1 "missing core" "$LG" core "$T_TMP/none"
check_grep "missing core message" "cannot open core file" "$T_TMP/err"
# A zombie: listed in /proc, but nothing to attach to. The child ends only once its parent
# is `sleep 60` (exec'd by the shell that started it), which never reaps it; looked for until
# it is a zombie (a loaded machine may take seconds), bounded by the parent's life.
bash -c 'sh -c '\''until [ "$(cat /proc/$PPID/comm)" = sleep ]; do sleep 0.01; done'\'' & exec sleep 60' &
zp=$!
PIDS+=($zp)
disown $zp
Z=
for _ in $(seq 1200); do
  z=$(pgrep -P $zp | head -1)
  [ -n "$z" ] && [ "$(sed 's/.*) //' /proc/$z/stat 2>/dev/null | cut -d' ' -f1)" = Z ] && { Z=$z; break; }
  kill -0 $zp 2>/dev/null || break
  sleep 0.05
done
check "a zombie to attach to" [ -n "$Z" ]
check_status 1 "zombie" "$LG" attach "${Z:-0}"
check_lines "zombie: one line" 1 "$T_TMP/err"
check_grep "zombie: says so" "is a zombie: it has exited" "$T_TMP/err"
check_status 1 "dump of no such pid" "$LG" dump 99999999 -o "$T_TMP/x.core"
check "no core left behind" [ ! -e "$T_TMP/x.core" ]

check_reports
done_tests
