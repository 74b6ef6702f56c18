#!/usr/bin/env bash
# The README's main job (`make demo`): the three-thread scenario from the write-up.
# 1. consistent order (the fix): every file created, moved, deleted; the demo's summary;
# 2. inconsistent order (the write-up): it hangs; /proc shows which thread waits on which
#    resource and who holds it; then the script kills it. It always terminates: every wait is
#    bounded and the hung demo is killed by PID.
#
# Under lockgraph: put "$build/bin/lockgraph" run -- in front of the two demo invocations
# (the `run` array below); demo_pid in demo/proc-view.sh already finds the demo when a
# launcher sits in front of it.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/demo/proc-view.sh"
demo=$build/bin/lockgraph-demo
[ -x "$demo" ] || { echo "demo: '$demo' is not built (run make)" >&2; exit 1; }
run=()   # later: run=("$build/bin/lockgraph" run --)

work=$(mktemp -d "${TMPDIR:-/tmp}/lockgraph-demo-run.XXXXXX") || exit 1
pid=
cleanup() { [ -n "$pid" ] && demo_kill "$pid"; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== 1. consistent order (the fix): the mover and the deleter both take resource1, then resource2"
echo "\$ lockgraph-demo --order consistent"
timeout 120 "${run[@]}" "$demo" --order consistent || { echo "demo: consistent run failed" >&2; exit 1; }

echo
echo "== 2. inconsistent order (the write-up): mover resource1 -> resource2, deleter resource2 -> resource1"
echo "\$ lockgraph-demo --order inconsistent --files 50 --dir $work &"
"${run[@]}" "$demo" --order inconsistent --files 50 --dir "$work" &
launcher=$!
if ! demo_wait_hung "$launcher" "$work/folder1" 50 30; then
  echo "demo: the inconsistent run did not hang within 30 s" >&2
  pid=$launcher
  exit 1
fi
pid=$(demo_pid "$launcher") || pid=$launcher
echo
echo "It hangs: 50 files in folder1, none moved or deleted. What /proc shows (pid $pid):"
demo_show_threads "$pid"
echo
echo "The mover holds resource1 and waits for resource2; the deleter holds resource2 and waits"
echo "for resource1: a deadlock, exactly as in the write-up. Taking the resources in one order"
echo "everywhere (part 1) is the fix. Killing pid $pid."
demo_kill "$launcher" && pid=
[ -z "$pid" ] || { echo "demo: pid $pid did not end" >&2; exit 1; }
exit 0
