#!/usr/bin/env bash
# user.sh - the CTest fixture of the security tests: the unprivileged user they run commands
# as (another user on the same machine: the one who plants symlinks and files), created once
# and kept (idempotent). The tests run as root in CI, which is what makes planted files
# dangerous; without root there is nobody to protect and no user to create.
set -u
U=lockgraph-test
# The user runs the built tools (bin/, lib/ of BUILD, the first argument): every folder above
# them must let others pass (search, not read), and the group too (a setgid-root copy runs
# with group root, so a root-group folder is judged by its group bits). A clone in a 0700
# folder (mktemp -d) would not; such folders get go+x for the tests' duration, their modes
# listed in BUILD/security-perms for restore.sh (the fixture's cleanup) to put back.
grant_search() {
  local d=$1 list=$1/security-perms
  : >"$list"
  while [ "$d" != / ] && [ -n "$d" ]; do
    local m
    m=$(stat -c %a "$d" 2>/dev/null) || break
    if [ "$(( 0$m & 011 ))" -ne 9 ]; then
      chmod go+x "$d" && printf '%s %s\n' "$m" "$d" >>"$list"
    fi
    d=$(dirname "$d")
  done
}
if id -u "$U" >/dev/null 2>&1; then
  echo "user $U exists"
  [ -n "${1:-}" ] && grant_search "$1"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "the security tests run as root (they act as root facing another user); not root" >&2
  exit 1
fi
useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$U" ||
  id -u "$U" >/dev/null 2>&1 || exit 1
echo "created user $U"
[ -n "${1:-}" ] && grant_search "$1"
exit 0
