#!/usr/bin/env bash
# Install what lockgraph's build and tests need, with apt-get, only when missing.
# Idempotent and silent when everything is present. Used by make, make test and .ci/run.
set -euo pipefail

# Build: compiler, cmake, elfutils (libdw/libelf) for unwinding and symbolization.
# Tests: gdb (gcore writes cores of live processes), procps (ps), libc6-dbg (glibc symbols),
# g++ (C++ std::mutex tests), clang (TSan comparison in bench), valgrind (Helgrind in bench),
# pigz, memcached + libmemcached-tools (real programs under the runtime in bench).
pkgs=(gcc g++ make cmake pkg-config libdw-dev libelf-dev elfutils gdb procps libc6-dbg python3)
[ "${LG_DEPS_BENCH:-0}" = 1 ] && pkgs+=(clang valgrind pigz memcached libmemcached-tools)

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
