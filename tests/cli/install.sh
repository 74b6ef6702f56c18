#!/usr/bin/env bash
# make install into a prefix; the installed tool works from another directory and finds its
# runtime library and pkg-config file relative to the prefix.
. "$LG_SRCDIR/tests/lib/sh-harness.sh"
prefix=$T_TMP/prefix
check "cmake --install" cmake --install "$LG_BUILD" --prefix "$prefix" >/dev/null
cd /
check_status 0 "installed --help" "$prefix/bin/lockgraph" --help
check_status 2 "installed nonsense" "$prefix/bin/lockgraph" nonsense
check_lines "installed nonsense: one line" 1 "$T_TMP/err"
check "header installed" test -f "$prefix/include/lockgraph/lockgraph.h"
check "pkg-config file" test -f "$prefix/lib/pkgconfig/lockgraph.pc"
T_CHECKS=$((T_CHECKS + 1))
cflags=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags lockgraph 2>&1)
case "$cflags" in *"$prefix"*|*prefix/lib/pkgconfig/../../include*) ;; *) fail "pkg-config cflags: $cflags";; esac
for f in "$LG_BIN"/*; do
  case $(basename "$f") in lockgraph|lockgraph-demo)
    check "$(basename "$f") installed" test -x "$prefix/bin/$(basename "$f")";;
  esac
done
if [ -f "$LG_LIB/liblockgraph.so" ]; then
  check "runtime installed" test -f "$prefix/lib/liblockgraph.so"
fi
done_tests
