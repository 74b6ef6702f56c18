#!/usr/bin/env bash
# user.sh - the CTest fixture of the security tests: the unprivileged user they run commands
# as (another user on the same machine: the one who plants symlinks and files), created once
# and kept (idempotent). The tests run as root in CI, which is what makes planted files
# dangerous; without root there is nobody to protect and no user to create.
set -u
U=lockgraph-test
if id -u "$U" >/dev/null 2>&1; then
  echo "user $U exists"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "the security tests run as root (they act as root facing another user); not root" >&2
  exit 1
fi
useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$U" ||
  id -u "$U" >/dev/null 2>&1 || exit 1
echo "created user $U"
