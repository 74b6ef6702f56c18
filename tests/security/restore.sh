#!/usr/bin/env bash
# restore.sh BUILD - the security fixture's cleanup: put back the modes of the folders above
# the build tree that user.sh gave go+x (listed in BUILD/security-perms as "MODE DIR").
set -u
list=${1:?}/security-perms
[ -f "$list" ] || exit 0
while read -r m d; do
  [ -d "$d" ] && chmod "$m" "$d"
done <"$list"
rm -f "$list"
