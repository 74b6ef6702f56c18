#!/bin/sh
# make.sh TARGET... - `make TARGET...` on any Debian 12, even a bare one (debootstrap minbase:
# no make, no compiler). Installs make with apt-get when it is missing (as root, or through
# sudo), then runs make, whose targets install the rest of what each needs (scripts/deps.sh:
# `demo` only the build's packages, `test` also the test tools). With no TARGET: `make`.
set -eu
cd "$(dirname "$0")"
if ! command -v make >/dev/null 2>&1; then
  sudo=
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
      echo "make.sh: make is not installed; run as root (or install make and sudo)" >&2
      exit 1
    }
    sudo=sudo
  fi
  echo "make.sh: installing make (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends make >/dev/null
fi
exec make "$@"
