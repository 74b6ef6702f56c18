#!/usr/bin/env bash
# Install what lockgraph's build and tests need, with apt-get, only when missing.
# Idempotent and silent when everything is present. Used by make, make test and .ci/run.
set -euo pipefail

# Build: compiler, cmake, elfutils (libdw/libelf) for unwinding and symbolization.
# Tests: gdb (gcore writes cores of live processes), procps (ps), libc6-dbg (glibc symbols),
# g++ (C++ std::mutex tests), nodejs (its npm installs the SARIF schema validator), man-db (man pages render), clang + libclang-rt-dev (libFuzzer targets for the trace and core readers; its
# runtime is only a Recommends of clang), util-linux (setpriv) + passwd (useradd): tests/security
# act as a second, unprivileged user. Bench only: valgrind (Helgrind), clang also for TSan,
# pigz, memcached + libmemcached-tools (real programs under the runtime).
# Allocators and a real program linked with jemalloc (tests/runtime/allocators.sh):
# libjemalloc2, libtcmalloc-minimal4, libmimalloc2.0, redis-server, redis-tools (redis-cli).
pkgs=(gcc g++ make cmake pkg-config libdw-dev libelf-dev elfutils gdb procps libc6-dbg python3 clang libclang-rt-dev nodejs man-db util-linux passwd
      libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 redis-server redis-tools)
[ "${LG_DEPS_BENCH:-0}" = 1 ] && pkgs+=(valgrind pigz memcached libmemcached-tools)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
