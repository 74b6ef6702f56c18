#!/usr/bin/env bash
# The README's main job (`make demo`): the three-thread scenario from the write-up, under
# lockgraph, as the write-up tells it:
#   1. the inconsistent order (mover: resource1 -> resource2, deleter: resource2 -> resource1)
#      under `lockgraph run`: the deadlock is reported the moment it closes and the program is
#      ended with status 66, instead of hanging;
#   2. the same hang with no lockgraph loaded, explained from the outside by `lockgraph attach`
#      (the write-up's "memory dump" diagnosis); the process is left as it was, then killed;
#   3. the fix (both threads take resource1, then resource2) under `lockgraph run`: every file
#      created, moved and deleted, no finding, status 0.
# It always terminates: every wait is bounded and the hung demo of part 2 is killed by PID.
# Exit status 0 when each part behaved as described, 1 otherwise.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/demo/proc-view.sh"
lg=$build/bin/lockgraph
demo=$build/bin/lockgraph-demo
for f in "$lg" "$demo"; do
  [ -x "$f" ] || { echo "demo: '$f' is not built (run make)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/lockgraph-demo-run.XXXXXX") || exit 1
pid=
cleanup() { [ -n "$pid" ] && demo_kill "$pid"; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
ok=0

echo "== 1. the write-up's order, under lockgraph run: mover resource1 -> resource2, deleter resource2 -> resource1"
echo "\$ lockgraph run -- lockgraph-demo --files 50 --dir $work/1"
mkdir -p "$work/1"
start=$(date +%s%N)
timeout 60 "$lg" run -- "$demo" --files 50 --dir "$work/1" 2>&1
st=$?
ms=$((($(date +%s%N) - start) / 1000000))
echo "[lockgraph run ended with exit status $st after $ms ms, instead of hanging]"
[ "$st" -eq 66 ] || { echo "demo: expected exit status 66 from lockgraph run, got $st" >&2; ok=1; }

echo
echo "== 2. the same hang with no lockgraph loaded, explained from the outside"
echo "\$ lockgraph-demo --files 50 --dir $work/2 --quiet &"
mkdir -p "$work/2"
"$demo" --files 50 --dir "$work/2" --quiet &
pid=$!
if demo_wait_hung "$pid" "$work/2/folder1" 50 30; then
  echo "\$ lockgraph attach $pid --max-frames 3"
  timeout 60 "$lg" attach "$pid" --max-frames 3
  st=$?
  [ "$st" -eq 66 ] || { echo "demo: expected exit status 66 from lockgraph attach, got $st" >&2; ok=1; }
  demo_alive "$pid" && echo "[pid $pid is still alive and still hung, as attach left it; killing it]"
else
  echo "demo: the inconsistent run did not hang within 30 s" >&2
  ok=1
fi
demo_kill "$pid" && pid=

echo
echo "== 3. the fix, under lockgraph run: the mover and the deleter both take resource1, then resource2"
echo "\$ lockgraph run -- lockgraph-demo --order consistent"
timeout 120 "$lg" run -- "$demo" --order consistent 2>&1
st=$?
echo "[lockgraph run ended with exit status $st: no lock-order inversion, no deadlock]"
[ "$st" -eq 0 ] || { echo "demo: expected exit status 0 for the consistent order, got $st" >&2; ok=1; }
exit $ok
