# lib.sh - sourced by the security tests: the harness, the tools, the unprivileged user (made
# by user.sh, the fixture), a world-writable sticky directory like /tmp ($PUB) where that user
# plants things, and a root-owned victim file a planted symlink points at.
. "$LG_SRCDIR/tests/lib/sh-harness.sh"
LG=$LG_BIN/lockgraph
CASES=$LG_BIN/rt-cases
HANG=$LG_BIN/hang
RTLIB=$LG_LIB/liblockgraph.so
U=lockgraph-test
chmod 755 "$T_TMP"
PUB=$T_TMP/pub
mkdir -p "$PUB" && chmod 1777 "$PUB"
VICTIM=$T_TMP/victim
echo victim >"$VICTIM"
chmod 644 "$VICTIM"

as_user() { setpriv --reuid="$U" --regid="$U" --clear-groups -- "$@"; }
# mode_of FILE: octal permission bits
mode_of() { stat -c %a "$1"; }
# check_victim WHAT: the file a planted symlink pointed at is untouched.
check_victim() { T_CHECKS=$((T_CHECKS + 1)); [ "$(cat "$VICTIM")" = victim ] || fail "$1: the symlink's target was written"; echo victim >"$VICTIM"; }
# plant_link PATH: the other user's symlink to the victim.
plant_link() { rm -f "$1"; as_user ln -s "$VICTIM" "$1"; }
# plant_file PATH: the other user's file, 0666, with a hard link PATH.keep to the same inode
# (what an attacker keeps to read what root writes into it).
plant_file() {
  rm -f "$1" "$1.keep"
  as_user sh -c 'echo planted >"$1" && chmod 666 "$1" && ln "$1" "$1.keep"' sh "$1"
}
# check_replaced WHAT PATH MODE: PATH is now root's regular file with MODE and content, and
# the other user's inode got nothing.
check_replaced() {
  T_CHECKS=$((T_CHECKS + 1))
  local d=$1 f=$2 m=$3
  if [ -L "$f" ] || [ ! -f "$f" ]; then fail "$d: '$f' is not a regular file"; return; fi
  [ "$(stat -c %u "$f")" = "$(id -u)" ] || fail "$d: '$f' is owned by uid $(stat -c %u "$f")"
  [ "$(mode_of "$f")" = "$m" ] || fail "$d: '$f' has mode $(mode_of "$f"), expected $m"
  [ -s "$f" ] || fail "$d: '$f' is empty"
  if [ -e "$f.keep" ]; then
    [ "$(cat "$f.keep")" = planted ] || fail "$d: the other user's file received data: $(head -c 100 "$f.keep")"
  fi
}
