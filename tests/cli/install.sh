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
# The header needs no link: a program built with the Cflags alone runs without the runtime
# (the calls do nothing) and talks to it under `lockgraph run`.
T_CHECKS=$((T_CHECKS + 1))
libs=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --libs lockgraph 2>&1)
[ -z "$(echo "$libs" | tr -d ' ')" ] || fail "pkg-config --libs should be empty: '$libs'"
check "a program builds with the Cflags alone" cc -Wall -Wextra -Werror $cflags -o "$T_TMP/uses-header" \
  "$LG_SRCDIR/tests/cli/header/uses-header.c" -lpthread
check_status 0 "it runs without the runtime" "$T_TMP/uses-header"
check_grep "without the runtime lg_version() is NULL" '^runtime: none$' "$T_TMP/out"
check_grep "and it runs to its end" '^done$' "$T_TMP/out"
check_status 66 "under lockgraph run: the inversion is found" "$prefix/bin/lockgraph" run --json "$T_TMP/h.json" -- "$T_TMP/uses-header"
check_grep "under the runtime lg_version() is its version" '^runtime: [0-9]+\.[0-9]+\.[0-9]+$' "$T_TMP/out"
check_grep "the report uses the header's names" '"name": "queue lock"' "$T_TMP/h.json"
check_grep "both names" '"name": "stats lock"' "$T_TMP/h.json"
check_grep "the annotated spinlock, by its name" '"name": "journal spin"' "$T_TMP/h.json"
check_grep "as a custom lock" '"type": "custom"' "$T_TMP/h.json"

for f in "$LG_BIN"/*; do
  case $(basename "$f") in lockgraph|lockgraph-demo)
    check "$(basename "$f") installed" test -x "$prefix/bin/$(basename "$f")";;
  esac
done
if [ -f "$LG_LIB/liblockgraph.so" ]; then
  check "runtime installed" test -f "$prefix/lib/liblockgraph.so"
fi
done_tests
