#!/usr/bin/env bash
# files.sh - every file lockgraph writes, facing another user on the same machine (root runs
# lockgraph, as in CI): a symlink planted at the output path is not followed (refused, its
# target untouched); a file pre-created there by the other user (0666, with a hard link kept
# to read what lands in it) is replaced by root's own file, the other user's inode gets
# nothing, or, for an appended log, is refused; modes: cores and traces 0600 whatever the
# umask, reports 0644 minus the umask (never group- or world-writable, even when replacing
# root's own 0666 file).
. "$LG_SRCDIR/tests/security/lib.sh"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T_TMP"; }
trap cleanup EXIT
. "$LG_SRCDIR/tests/inspect/procs.sh"

start "$HANG" abba
HPID=$PID
check_status 0 "base core" "$LG" dump "$HPID" -o "$T_TMP/base.core"
check_status 66 "base trace" "$LG" record -o "$T_TMP/base.trace" -- "$CASES" abba

# NAME|STATUS written|STATUS refused|KIND (private, report, log)|COMMAND with @F@ the output.
# "refused" for a path option of run/record is the up-front usage error (2); the runtime's
# own files (LOCKGRAPH_* set by hand) are refused at the time, with one message, and the
# program's status stands.
W=(
  "dump|0|1|private|\"\$LG\" dump $HPID -o @F@"
  "attach-json|66|1|report|\"\$LG\" attach $HPID --json @F@"
  "attach-dot|66|1|report|\"\$LG\" attach $HPID --dot @F@"
  "core-json|66|1|report|\"\$LG\" core \"\$T_TMP/base.core\" \"\$HANG\" --json @F@"
  "core-dot|66|1|report|\"\$LG\" core \"\$T_TMP/base.core\" \"\$HANG\" --dot @F@"
  "report|0|1|report|\"\$LG\" report \"\$T_TMP/base.trace\" -o @F@"
  "record|66|2|private|\"\$LG\" record -o @F@ -- \"\$CASES\" abba"
  "run-json|66|2|report|\"\$LG\" run --json @F@ -- \"\$CASES\" abba"
  "run-log|66|2|log|\"\$LG\" run --log @F@ -- \"\$CASES\" abba"
  "runtime-json|66|66|report|env LD_PRELOAD=\"\$RTLIB\" LOCKGRAPH_JSON=@F@ \"\$CASES\" abba"
  "runtime-log|66|66|log|env LD_PRELOAD=\"\$RTLIB\" LOCKGRAPH_LOG=@F@ \"\$CASES\" abba"
)
w() { local cmd=${1//@F@/\"\$F\"}; eval "timeout 120 $cmd"; }

for entry in "${W[@]}"; do
  IFS='|' read -r name ok refused kind cmd <<<"$entry"
  F=$PUB/$name.out
  want=644; [ "$kind" = private ] && want=600

  # A planted symlink: refused, its target untouched.
  plant_link "$F"
  check_status "$refused" "$name: symlink" w "$cmd"
  check_grep "$name: symlink named" "'$F': it is a symbolic link \(not followed\)" "$T_TMP/err"
  check_victim "$name: symlink"
  check "$name: the symlink is left as it was" [ -L "$F" ]
  rm -f "$F"

  # Pre-created by the other user, 0666, a hard link kept.
  plant_file "$F"
  if [ "$kind" = log ]; then
    check_status "$refused" "$name: other user's log" w "$cmd"
    check_grep "$name: other user's log named" "'$F': it belongs to another user" "$T_TMP/err"
    check "$name: other user's log untouched" [ "$(cat "$F")" = planted ]
  else
    check_status "$ok" "$name: other user's file" w "$cmd"
    check_replaced "$name: other user's file" "$F" "$want"
  fi
  rm -f "$F" "$F.keep"

  # Modes: umask 0 gives no group/world write; 077 is honoured; root's own 0666 file is
  # replaced (a log: its g+w/o+w dropped) rather than written through.
  umask 000
  check_status "$ok" "$name: umask 000" w "$cmd"
  umask 022
  check_replaced "$name: umask 000" "$F" "$want"
  rm -f "$F"
  umask 077
  check_status "$ok" "$name: umask 077" w "$cmd"
  umask 022
  check_replaced "$name: umask 077" "$F" 600
  rm -f "$F"
  echo old >"$F"
  chmod 666 "$F"
  umask 000
  check_status "$ok" "$name: own 0666 file" w "$cmd"
  umask 022
  check_replaced "$name: own 0666 file" "$F" "$want"
  rm -f "$F"
done

# A forked or exec'd child's FILE.<pid>: the exec'd program keeps the shell's pid, and with
# LOCKGRAPH_ROOT_PID naming another process the runtime in it writes FILE.<its pid>.
F=$PUB/child.json
child() { sh -c "$1"'; exec env LOCKGRAPH_ROOT_PID=1 LD_PRELOAD="$3" LOCKGRAPH_JSON="$2" "$4" abba' \
  sh "$VICTIM" "$F" "$RTLIB" "$CASES"; }
check_status 66 "child json: symlink" child 'ln -s "$1" "$2.$$"'
check_grep "child json: symlink named" "cannot write JSON report '$F\.[0-9]+': it is a symbolic link" "$T_TMP/err"
check_victim "child json: symlink"
rm -f "$F".*
export U
check_status 66 "child json: other user's file" \
  child 'setpriv --reuid="$U" --regid="$U" --clear-groups -- sh -c "echo planted >$2.$$; chmod 666 $2.$$; ln $2.$$ $2.keep"'
cf=$(ls "$F".[0-9]* 2>/dev/null | head -1)
check "child json: written" [ -n "$cf" ]
[ -n "$cf" ] && check_replaced "child json: other user's file" "$cf" 644
check "child json: the kept inode got nothing" [ "$(cat "$F.keep")" = planted ]

# The runtime's trace (LOCKGRAPH_TRACE by hand): the first process claims FILE with O_EXCL;
# anything already there (a planted symlink, another user's file) is left alone and the trace
# goes to FILE.<pid>, created 0600.
F=$PUB/rt.trace
for what in symlink file; do
  rm -f "$F" "$F".*
  if [ $what = symlink ]; then plant_link "$F"; else plant_file "$F"; fi
  check_status 66 "runtime trace, planted $what" timeout 120 env LD_PRELOAD="$RTLIB" LOCKGRAPH_TRACE="$F" "$CASES" abba
  tf=$(ls "$F".[0-9]* 2>/dev/null | head -1)
  check "runtime trace, planted $what: written to FILE.<pid>" [ -n "$tf" ]
  [ -n "$tf" ] && check_replaced "runtime trace, planted $what" "$tf" 600
  check_victim "runtime trace, planted $what"
  [ $what = file ] && check "runtime trace: the other user's file untouched" [ "$(cat "$F")" = planted ]
done
rm -f "$F" "$F".*

# Refused where the kernel does not let root's rename through: the other user runs lockgraph
# and root's file sits in the sticky directory.
echo root-file >"$PUB/rootfile"
chmod 666 "$PUB/rootfile"
cp "$T_TMP/base.trace" "$T_TMP/readable.trace"
chmod 644 "$T_TMP/readable.trace"
check_status 1 "another user cannot replace root's file" as_user "$LG" report "$T_TMP/readable.trace" -o "$PUB/rootfile"
check_grep "named as another user's" "cannot create '$PUB/rootfile': it belongs to another user" "$T_TMP/err"
check "root's file untouched" [ "$(cat "$PUB/rootfile")" = root-file ]
check "no temporary file left" [ -z "$(ls -A "$PUB" | grep -v '^rootfile$\|^child\.json')" ]
done_tests
