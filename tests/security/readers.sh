#!/usr/bin/env bash
# readers.sh - inputs that are not what they claim, and every path option of run/record:
#  - report, core and --suppressions take regular files only: a FIFO, /dev/zero, a directory
#    each get one line at once (timeout-bounded: a hang is exit 124, not a pass);
#  - a 100 GB sparse trace (a real trace, then a hole) is read chunk by chunk under a 1 GB
#    address-space limit: the damage is named, nothing near the file's size is allocated;
#  - a core that shrinks while being read (truncated at a fixed point by shrink.c) is one
#    line and exit 1, not SIGBUS; a core cut after its headers is one line too;
#  - run/record path options: a directory, a FIFO, a missing or unwritable directory are a
#    usage error (2) naming the option, before the program starts (it would create a file);
#  - the runtime given such paths by hand neither hangs nor stops the program.
. "$LG_SRCDIR/tests/security/lib.sh"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T_TMP"; }
trap cleanup EXIT
. "$LG_SRCDIR/tests/inspect/procs.sh"

FIFO=$T_TMP/fifo
mkfifo "$FIFO"
DIR=$T_TMP/dir
mkdir "$DIR"
T="timeout 30"

# Readers.
check_status 66 "a trace" "$LG" record -o "$T_TMP/t.trace" -- "$CASES" abba
for input in "$FIFO:not a regular file" "/dev/zero:not a regular file" "$DIR:Is a directory"; do
  f=${input%%:*} why=${input#*:}
  check_status 1 "report $f" $T "$LG" report "$f"
  check_grep "report $f: one line" "^lockgraph report: cannot read trace file '$f': $why$" "$T_TMP/err"
  check_lines "report $f: one line only" 1 "$T_TMP/err"
  check_status 1 "core $f" $T "$LG" core "$f"
  check_grep "core $f: one line" "cannot open core file '$f': $why$" "$T_TMP/err"
  check_lines "core $f: one line only" 1 "$T_TMP/err"
done

cp "$T_TMP/t.trace" "$T_TMP/sparse.trace"
size=$(stat -c %s "$T_TMP/sparse.trace")
truncate -s 100G "$T_TMP/sparse.trace"
check_status 1 "report of a 100 GB sparse trace" bash -c 'ulimit -v 1000000; exec timeout 60 "$@"' sh "$LG" report "$T_TMP/sparse.trace"
check_grep "sparse: the damage is named where it is" "damaged after [0-9]+ events \(at byte $size of 107374182400\): no chunk starts at offset $size \(bad chunk magic\)" "$T_TMP/err"
check_grep "sparse: what was readable is reported" "abba|thread" "$T_TMP/out"

start "$HANG" abba
check_status 0 "dump" "$LG" dump "$PID" -o "$T_TMP/c.core"
kill -9 "$PID"
size=$(stat -c %s "$T_TMP/c.core")
# Cut after the headers and notes: the size check before reading.
cp "$T_TMP/c.core" "$T_TMP/cut.core"
truncate -s $((size / 2)) "$T_TMP/cut.core"
check_status 1 "core cut short" $T "$LG" core "$T_TMP/cut.core" "$HANG"
check_grep "core cut short: one line" "^lockgraph core: core file '$T_TMP/cut.core' is truncated \([0-9]+ of $size bytes\)$" "$T_TMP/err"
check_lines "core cut short: one line only" 1 "$T_TMP/err"
# Shrinking while read: after the checks, when libdwfl is given the core.
for cut in $((size / 2)) 4096; do
  cp "$T_TMP/c.core" "$T_TMP/shrink.core"
  check_status 1 "core shrinking to $cut bytes while read" env LD_PRELOAD="$LG_LIB/libsec-shrink.so" \
    LG_SHRINK_FILE="$T_TMP/shrink.core" LG_SHRINK_SIZE=$cut $T "$LG" core "$T_TMP/shrink.core" "$HANG"
  check_grep "core shrinking to $cut: one line" "^lockgraph core: core file '$T_TMP/shrink.core' changed while being read \(now $cut of [0-9]+ bytes\)$" "$T_TMP/err"
  check_lines "core shrinking to $cut: one line only" 1 "$T_TMP/err"
done

# Path options of run and record: usage errors naming the option, before the program runs
# (the program would create $T_TMP/ran).
mkdir -m 755 "$T_TMP/ro"   # root's: the other user cannot write in it
for cmd in run "record -o $T_TMP/r.trace"; do
  c=${cmd%% *}
  for opt in json log suppressions; do
    cases=("$DIR:Is a directory" "$FIFO:not a regular file" "$T_TMP/nodir/x:No such file or directory")
    for input in "${cases[@]}"; do
      f=${input%%:*} why=${input#*:}
      what="JSON report"; verb=write
      [ $opt = log ] && what="log file"
      [ $opt = suppressions ] && { what="suppressions file"; verb=read; }
      rm -f "$T_TMP/ran"
      check_status 2 "$c --$opt $f" $T "$LG" $cmd --$opt "$f" -- touch "$T_TMP/ran"
      check_grep "$c --$opt $f: named" "^lockgraph $c: --$opt: cannot $verb $what '$f': $why$" "$T_TMP/err"
      check "$c --$opt $f: the program did not start" [ ! -e "$T_TMP/ran" ]
    done
    if [ $opt != suppressions ]; then
      check_status 2 "$c --$opt unwritable directory" as_user $T "$LG" $cmd --$opt "$T_TMP/ro/x" -- true
      check_grep "$c --$opt unwritable: named" "^lockgraph $c: --$opt: cannot write $what '$T_TMP/ro/x': Permission denied$" "$T_TMP/err"
    fi
  done
done
for input in "$DIR:Is a directory" "$FIFO:not a regular file" "$T_TMP/nodir/x:No such file or directory" "$VICTIM.link:it is a symbolic link \(not followed\)"; do
  f=${input%%:*} why=${input#*:}
  ln -sf "$VICTIM" "$VICTIM.link"
  rm -f "$T_TMP/ran"
  check_status 2 "record -o $f" $T "$LG" record -o "$f" -- touch "$T_TMP/ran"
  check_grep "record -o $f: named" "^lockgraph record: --output: cannot write trace file '$f': $why$" "$T_TMP/err"
  check "record -o $f: the program did not start" [ ! -e "$T_TMP/ran" ]
  [ "$f" = "$T_TMP/nodir/x" ] || check "record -o $f: left in place" [ -e "$f" ]
done
check_victim "record -o symlink"

# The runtime given a FIFO or a directory by hand: one message each, the program runs and
# keeps its status (66: the inversion), nothing waits for a reader. A trace path taken by
# something else is left alone: the trace goes to FILE.<pid> (as for a child process).
for var in LOCKGRAPH_JSON LOCKGRAPH_LOG LOCKGRAPH_SUPPRESSIONS LOCKGRAPH_TRACE; do
  for f in "$FIFO" "$DIR"; do
    rm -f "$f".[0-9]*
    check_status 66 "runtime $var=$f" $T env LD_PRELOAD="$RTLIB" $var="$f" "$CASES" abba
    if [ $var = LOCKGRAPH_TRACE ]; then
      tf=$(ls "$f".[0-9]* 2>/dev/null | head -1)
      check "runtime $var=$f: the trace went to FILE.<pid>" [ -n "$tf" ] && [ -f "$tf" ]
      [ -n "$tf" ] && check "runtime $var=$f: FILE.<pid> is 0600" [ "$(mode_of "$tf")" = 600 ]
    else
      check_grep "runtime $var=$f: one message" "^lockgraph: .*'$f': (not a regular file|Is a directory)" "$T_TMP/err"
    fi
  done
done
done_tests
