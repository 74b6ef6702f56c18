#!/usr/bin/env bash
# The README's main job: the demo under lockgraph (filled in as lockgraph grows).
set -u
build=${1:-build}
echo "lockgraph demo: not yet available" >&2
exit 1
