#!/usr/bin/env bash
# bare-machine.sh [DIR] - the README's two commands on a bare Debian 12, as a new user gets
# them: a debootstrap minbase bookworm in DIR (default /var/tmp/lockgraph-bare: no make, no
# compiler, no git, nothing added), the project's tracked files copied in, then, as root in
# a chroot, `./make.sh demo` and `./make.sh test`, each checked by its exit status and the
# demo also by its story (the deadlock caught, exit 66; the fixed order finishing). Needs
# root, debootstrap (installed if missing) and the Debian mirror (LG_MIRROR to override).
# A DIR that already holds a minbase is reused as it is (remove it for a bare run again).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-/var/tmp/lockgraph-bare}
MIRROR=${LG_MIRROR:-http://deb.debian.org/debian}
say() { echo "bare-machine: $*" >&2; }
[ "$(id -u)" -eq 0 ] || { say "must run as root (debootstrap, chroot, mounts)"; exit 2; }
command -v git >/dev/null || { say "git is needed to list the project's files"; exit 2; }
if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
if [ ! -x "$DIR/usr/bin/apt-get" ]; then
  say "debootstrap --variant=minbase bookworm into $DIR (a few minutes)"
  mkdir -p "$DIR"
  debootstrap --variant=minbase bookworm "$DIR" "$MIRROR" >"$DIR.debootstrap.log" 2>&1 \
    || { say "debootstrap failed; see $DIR.debootstrap.log"; exit 1; }
fi
for tool in make gcc cc cmake; do
  if chroot "$DIR" /bin/sh -c "command -v $tool" >/dev/null 2>&1; then
    say "note: $tool is already in $DIR (not a bare machine any more: remove $DIR for one)"
  fi
done

mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
for m in proc sys dev dev/pts; do
  mkdir -p "$DIR/$m"
  case $m in
    proc) mount -t proc proc "$DIR/proc" ;;
    sys) mount -t sysfs sys "$DIR/sys" ;;
    dev) mount --bind /dev "$DIR/dev" ;;
    dev/pts) mount -t devpts devpts "$DIR/dev/pts" ;;
  esac
  mounted+=("$DIR/$m")
done
cp /etc/resolv.conf "$DIR/etc/resolv.conf"
# The network's own certificate authorities (a TLS-inspecting egress proxy installs its CA on
# the host, in /usr/local/share/ca-certificates): the tests' npm install needs them to reach
# the registry. They are the network's, not a package the project adds; apt uses plain HTTP.
extra_ca=
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
  cat /usr/local/share/ca-certificates/*.crt >"$DIR/root/network-ca.crt"
  extra_ca=NODE_EXTRA_CA_CERTS=/root/network-ca.crt
fi

# The project as a clone has it: tracked files only, no build tree.
rm -rf "$DIR/root/lockgraph"
mkdir -p "$DIR/root/lockgraph"
git -C "$ROOT" ls-files -z | (cd "$ROOT" && tar --null -T - -cf -) | tar -xf - -C "$DIR/root/lockgraph"

in_root() { chroot "$DIR" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 $extra_ca \
              PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
status=0
say "running ./make.sh demo"
set +e
in_root /bin/bash -c 'cd /root/lockgraph && ./make.sh demo' >"$DIR.demo.log" 2>&1
rc=$?
set -e
if [ $rc -ne 0 ]; then
  say "FAIL: ./make.sh demo exited $rc; see $DIR.demo.log"; status=1
elif ! grep -q "exit status 66" "$DIR.demo.log" || ! grep -qi "deadlock" "$DIR.demo.log"; then
  say "FAIL: the demo's story is not in $DIR.demo.log"; status=1
else
  say "ok: ./make.sh demo"
fi
say "running ./make.sh test (the whole suite)"
set +e
in_root /bin/bash -c 'cd /root/lockgraph && ./make.sh test' >"$DIR.test.log" 2>&1
rc=$?
set -e
if [ $rc -ne 0 ]; then
  say "FAIL: ./make.sh test exited $rc; see $DIR.test.log"; status=1
else
  say "ok: ./make.sh test: $(grep -E 'tests passed' "$DIR.test.log" | tail -1)"
fi
exit $status
