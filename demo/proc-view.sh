# proc-view.sh - sourced by scripts/demo.sh and tests/demo/*.sh: look at a running
# lockgraph-demo from the outside with nothing but /proc and nm (no lockgraph, no ptrace),
# so the demo's tests have an oracle that does not depend on lockgraph itself: find a thread
# by name, the futex address it sleeps on, the address of resource1/resource2 and the rwlock's
# writer; wait (bounded) until the demo hangs; end it by PID.

# demo_alive PID: the process exists and has not ended (a zombie has ended).
demo_alive() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  [ "${s%% *}" != Z ]
}

# demo_tid PID NAME: the thread of PID whose name (comm) is NAME.
demo_tid() {
  local t
  for t in /proc/"$1"/task/*; do
    [ "$(cat "$t/comm" 2>/dev/null)" = "$2" ] && { echo "${t##*/}"; return 0; }
  done
  return 1
}

# demo_futex_addr PID TID: prints the futex address (hex) the thread sleeps on; fails unless
# the thread is in state S inside syscall 202 (futex).
demo_futex_addr() {
  local stat sys
  stat=$(cat "/proc/$1/task/$2/stat" 2>/dev/null) || return 1
  stat=${stat##*) }                  # the name may hold spaces; the state follows ") "
  [ "${stat%% *}" = S ] || return 1
  read -r -a sys <"/proc/$1/task/$2/syscall" 2>/dev/null || return 1
  [ "${sys[0]:-}" = 202 ] || return 1
  echo "${sys[1]}"
}

# demo_symbol_addr PID SYMBOL: run-time address (decimal) of a global in the demo (a PIE):
# its nm value plus the load base, the start of the executable's mapping at file offset 0.
demo_symbol_addr() {
  local exe off base
  exe=$(readlink -f "/proc/$1/exe") || return 1
  off=$(nm "$exe" 2>/dev/null | awk -v s="$2" '$3 == s { print $1; exit }')
  [ -n "$off" ] || return 1
  base=$(awk -v e="$exe" '$6 == e && $3 == "00000000" { split($1, r, "-"); print r[1]; exit }' \
    "/proc/$1/maps")
  [ -n "$base" ] || return 1
  echo $((16#$base + 16#$off))
}

# demo_wait_hung PID FOLDER1 N SECONDS: poll until FOLDER1 holds N files and the threads
# "mover" and "deleter" both sleep in a futex wait; fails after SECONDS or if PID ends.
demo_wait_hung() {
  local pid=$1 dir=$2 n=$3 deadline=$((SECONDS + $4)) m d
  while [ "$SECONDS" -le "$deadline" ]; do
    demo_alive "$pid" || return 1
    if [ "$(find "$dir" -mindepth 1 -maxdepth 1 -name 'file*' 2>/dev/null | wc -l)" -eq "$n" ]; then
      m=$(demo_tid "$pid" mover) && d=$(demo_tid "$pid" deleter) &&
        demo_futex_addr "$pid" "$m" >/dev/null && demo_futex_addr "$pid" "$d" >/dev/null &&
        return 0
    fi
    sleep 0.1
  done
  return 1
}

# demo_read_u32 PID ADDR: the 32-bit word at ADDR (decimal) in PID's memory, via /proc/PID/mem.
demo_read_u32() {
  dd if="/proc/$1/mem" bs=1 skip="$2" count=4 2>/dev/null | od -An -tu4 | tr -d ' '
}

# demo_writer_of PID RESOURCE: the TID that holds RESOURCE exclusively (glibc 2.36
# __cur_writer at +24 of pthread_rwlock_t; 0 when free or read-held).
demo_writer_of() {
  local a
  a=$(demo_symbol_addr "$1" "$2") || return 1
  demo_read_u32 "$1" $((a + 24))
}

# demo_kill PID: SIGKILL and wait (at most 10 s) until it is gone or a zombie; reaps our child.
demo_kill() {
  local pid=$1 i
  kill -KILL "$pid" 2>/dev/null
  for i in $(seq 100); do
    demo_alive "$pid" || break
    sleep 0.1
  done
  wait "$pid"
  [ ! -d "/proc/$pid" ]
} 2>/dev/null   # bash's "Killed" job notice would read like an error
