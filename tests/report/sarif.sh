#!/usr/bin/env bash
# sarif.sh - SARIF output is valid SARIF 2.1.0: the writer's golden file and what `lockgraph
# run --sarif` writes for a real program, checked against the OASIS schema (shipped in npm's
# @microsoft/jest-sarif) with Ajv; installed once into a cache folder from the npm registry.
. "$LG_SRCDIR/tests/lib/sh-harness.sh"
npmdir=${LG_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lockgraph-test-npm}
schema=$npmdir/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json
if [ ! -f "$schema" ] || [ ! -d "$npmdir/node_modules/ajv-draft-04" ]; then
  mkdir -p "$npmdir"
  timeout 600 npm install --no-audit --no-fund --silent --prefix "$npmdir" \
    @microsoft/jest-sarif@1.0.0-beta.0 ajv@8 ajv-draft-04@1 ajv-formats@3 >"$T_TMP/npm.log" 2>&1 \
    || { fail "cannot install the SARIF validator from npm: $(tail -5 "$T_TMP/npm.log")"; done_tests; exit 1; }
fi
validate() { NODE_PATH=$npmdir/node_modules node "$LG_SRCDIR/tests/report/sarif-validate.js" "$schema" "$@"; }

# The validator itself rejects what is not SARIF (so a pass below means something).
echo '{"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}' >"$T_TMP/bad.sarif"
invalid() { ! validate "$@" 2>/dev/null; }
check "the validator rejects a log without a driver name" invalid "$T_TMP/bad.sarif"
check "the writer's golden log is valid SARIF 2.1.0" validate "$LG_SRCDIR/tests/model/golden/two-processes.sarif"

# attach and core of a real deadlock: one deadlock result at a line of hang.c, valid.
LG=$LG_BIN/lockgraph
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T_TMP"' EXIT
. "$LG_SRCDIR/tests/inspect/procs.sh"
start "$LG_BIN/hang" abba
check_status 66 "attach --sarif" "$LG" attach "$PID" --sarif "$T_TMP/attach.sarif"
check_status 0 "dump" "$LG" dump "$PID" -o "$T_TMP/abba.core"
check_status 66 "core --sarif" "$LG" core "$T_TMP/abba.core" "$LG_BIN/hang" --sarif "$T_TMP/core.sarif"
for f in attach core; do
  check "$f.sarif is valid SARIF 2.1.0" validate "$T_TMP/$f.sarif"
  check "$f.sarif: one deadlock result in hang.c with a stable fingerprint" python3 - "$T_TMP/$f.sarif" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
res = d["runs"][0]["results"]
dl = [r for r in res if r["ruleId"] == "deadlock"]
assert len(dl) == 1, res
loc = dl[0]["locations"][0]["physicalLocation"]
assert loc["artifactLocation"]["uri"].endswith("hang.c") and loc["region"]["startLine"] > 0, loc
assert len(dl[0]["partialFingerprints"]["lockgraph/v1"]) == 16
PY
done
check "attach and core agree on the deadlock's fingerprint" python3 - "$T_TMP/attach.sarif" "$T_TMP/core.sarif" <<'PY'
import json, sys
fp = [[r["partialFingerprints"]["lockgraph/v1"] for r in json.load(open(p))["runs"][0]["results"]
       if r["ruleId"] == "deadlock"] for p in sys.argv[1:]]
assert fp[0] == fp[1], fp
PY
done_tests
