# procs.sh - sourced by the inspect tests: start a hung program and wait (bounded) until its
# threads settle in their waits. Needs PIDS (array) and T_TMP; sets PID.

# tid nr uaddr op val of every thread, sorted: "the same waits". An interrupted timed futex
# wait resumes as restart_syscall (219) with the same arguments: the same wait.
syscalls() {
  local f
  for f in /proc/"$1"/task/*/syscall; do
    echo "$(basename "$(dirname "$f")") $(cut -d' ' -f1-4 "$f" 2>/dev/null)"
  done | sed 's/ 219 / 202 /' | sort
}

# Wait until every thread sits in a system call and nothing changes for a while (bounded by
# 60 s: a guard for a loaded machine, where a start can take seconds; it returns at once).
settle() {
  local prev="" cur i
  for i in $(seq 1200); do
    cur=$(syscalls "$1")
    if [ -n "$cur" ] && [ "$cur" = "$prev" ] && ! grep -q running <<<"$cur"; then
      return 0
    fi
    prev=$cur
    sleep 0.05
  done
  return 1
}

# start PROG ARGS...: run it in the background, wait for "ready" and for its threads to settle.
start() {
  local out="$T_TMP/start.$RANDOM"
  : >"$out"
  "$@" >"$out" 2>&1 &
  PID=$!
  PIDS+=("$PID")
  disown "$PID"   # no "Killed" lines from the shell when we end it
  local i
  # hang prints "ready"; the demo's last line before its deadlock is the deleter's request.
  for i in $(seq 1200); do
    grep -qE '^(ready|deleter: holds resource2, waiting for resource1)$' "$out" && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
  done
  settle "$PID" || fail "$*: threads did not settle: $(syscalls "$PID")"
}
