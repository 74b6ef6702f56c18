#!/usr/bin/env bash
# deps.sh [build|test|bench] - install what that job needs, with apt-get, only when missing.
# Idempotent and silent when everything is present. The default is `test` (LG_DEPS_BENCH=1
# still means `bench`). Used by make (build for `make`, `make demo` and `make install`; test
# for `make test`; bench for `make bench`) and so by .ci/run.
set -euo pipefail
job=${1:-test}
[ "${LG_DEPS_BENCH:-0}" = 1 ] && job=bench

# Build (and the demo, which needs nothing more): compiler, cmake, elfutils (libdw/libelf)
# for unwinding and symbolization; g++ because the project builds its C++ test programs too.
build=(gcc g++ make cmake pkg-config libdw-dev libelf-dev)
# Tests: elfutils (eu-* tools), gdb (gcore writes cores of live processes), procps (ps),
# libc6-dbg (glibc symbols), python3 (reads JSON reports), nodejs (its npm installs the SARIF
# schema validator), man-db (man pages render), clang + libclang-rt-dev (libFuzzer targets for
# the trace and core readers; its runtime is only a Recommends of clang), util-linux (setpriv)
# + passwd (useradd): tests/security act as a second, unprivileged user. Allocators and a real
# program linked with jemalloc (tests/runtime/allocators.sh): libjemalloc2,
# libtcmalloc-minimal4, libmimalloc2.0, redis-server, redis-tools (redis-cli). libglib2.0-dev:
# GLib programs built by tests/runtime/glib.sh (GMutex, GRecMutex, GRWLock, GCond interposed).
test=(elfutils libglib2.0-dev gdb procps libc6-dbg python3 clang libclang-rt-dev nodejs man-db util-linux passwd
      libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 redis-server redis-tools)
# Bench only: valgrind (Helgrind), clang also for TSan, pigz, memcached + libmemcached-tools
# (real programs under the runtime).
bench=(valgrind pigz memcached libmemcached-tools)

case $job in
  build) pkgs=("${build[@]}") ;;
  test)  pkgs=("${build[@]}" "${test[@]}") ;;
  bench) pkgs=("${build[@]}" "${test[@]}" "${bench[@]}") ;;
  *) echo "deps.sh: unknown job '$job' (build, test or bench)" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm (the SARIF validator's installer): Debian ships it apart from nodejs; a nodejs from
# elsewhere (NodeSource) carries its own, and Debian's npm package would conflict with it.
if [ "$job" != build ] && ! command -v npm >/dev/null; then
  missing+=(npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps.sh: missing ${missing[*]}; run as root to install them" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
echo "deps: apt-get update" >&2
$sudo apt-get update -qq >/dev/null
echo "deps: installing ${#missing[@]} package(s) for '$job' (a few minutes on a fresh machine): ${missing[*]}" >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done" >&2
