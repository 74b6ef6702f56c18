#!/usr/bin/env bash
# access.sh - attach says what is wrong with a process it cannot inspect, in one line each
# (src/inspect/access.c): a kernel thread, a zombie, lockgraph itself, a process another user
# may not trace (EPERM, with the uids and the missing capability); exit 1, never a hang.
. "$LG_SRCDIR/tests/security/lib.sh"
check_status 1 "a kernel thread" timeout 60 "$LG" attach 2
check_grep "kernel thread: named as such" '^lockgraph attach: process 2 \(kthreadd\) is a kernel thread: it has no user-space locks to inspect$' "$T_TMP/err"
check_lines "kernel thread: one line" 1 "$T_TMP/err"
# a zombie: its parent sleeps without collecting it
python3 -c 'import os, time
p = os.fork()
if p == 0: os._exit(0)
print(p, flush=True); time.sleep(120)' >"$T_TMP/zpid" &
parent=$!
for _ in $(seq 1200); do [ -s "$T_TMP/zpid" ] && grep -q '^Z' <(awk '{print $3}' /proc/"$(cat "$T_TMP/zpid")"/stat 2>/dev/null) && break; sleep 0.05; done
z=$(cat "$T_TMP/zpid")
check_status 1 "a zombie" timeout 60 "$LG" attach "$z"
check_grep "zombie: names its parent" "^lockgraph attach: process $z \\(python3\\) is a zombie: it has exited and waits for its parent \\(process $parent\\)" "$T_TMP/err"
kill "$parent" 2>/dev/null
check_status 1 "lockgraph itself" timeout 60 bash -c 'exec "$0" attach $$' "$LG"
check_grep "itself: says so" 'is lockgraph itself' "$T_TMP/err"
sleep 60 &
s=$!
# the forked shell is "bash" until it has exec'd sleep: attach names the program it finds
for _ in $(seq 1200); do [ "$(cat /proc/"$s"/comm 2>/dev/null)" = sleep ] && break; sleep 0.05; done
check_status 1 "another user's process (EPERM)" as_user timeout 60 "$LG" attach "$s"
check_grep "EPERM: names uids and the capability" "^lockgraph attach: cannot attach to process $s \\(sleep\\): not permitted: it runs as uid 0 and lockgraph as uid [0-9]+ without CAP_SYS_PTRACE" "$T_TMP/err"
check_lines "EPERM: one line" 1 "$T_TMP/err"
kill "$s"
done_tests
