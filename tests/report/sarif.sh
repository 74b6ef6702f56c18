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

# A test suite under one `lockgraph run`, merged: five programs run by a shell script that
# ignores their statuses (the same inversion in two of them and in the forked child of a
# third; another inversion in the fourth; a fifth that switches to user nobody first, as a
# server dropping root does, into a directory only root may write) give FILE and FILE.<pid>
# per process; run ends with 66 although the script exited 0; `lockgraph merge` makes one
# report and one SARIF file of them: each distinct finding once, with every process that had it.
CASES=$LG_BIN/rt-cases
mkdir -p "$T_TMP/suite"
chmod 0755 "$T_TMP/suite"
printf '"%s" abba; "%s" abba; "%s" fork; "%s" c11; "%s" 65534; exit 0\n' "$CASES" "$CASES" \
  "$CASES" "$CASES" "$LG_BIN/report-switcher" >"$T_TMP/suite.sh"
check_status 66 "run a suite that exits 0" "$LG" run --json "$T_TMP/suite/lg.json" \
  --sarif "$T_TMP/run.sarif" -- /bin/bash "$T_TMP/suite.sh"
cp "$T_TMP/err" "$T_TMP/suite.err"
check_grep "run says the tree had defects" "^lockgraph run: [0-9]+ defects found in [0-9]+ processes the program ran \(first in pid [0-9]+\), though it exited 0" "$T_TMP/suite.err"
check_grep "run prints one merged summary" "^lockgraph run: [0-9]+ processes reported, 3 distinct findings \(3 defects\); one merged report: .*suite/lg.json" "$T_TMP/suite.err"
check_grep "each finding once, with its processes" "^  seen in 3 processes: pid [0-9]+ \(rt-cases\)" "$T_TMP/suite.err"
check "one report per process, and the merged one" test "$(ls "$T_TMP/suite" | wc -l)" -ge 7
check_grep "the switcher ran as nobody" "switcher: ran as uid 65534" "$T_TMP/out"
cp "$T_TMP/suite/lg.json" "$T_TMP/merged.json"
check "run --sarif is valid SARIF 2.1.0" validate "$T_TMP/run.sarif"
# `lockgraph merge` of the per-process reports gives the same findings.
check_status 66 "merge" "$LG" merge --json "$T_TMP/merged2.json" --sarif "$T_TMP/merged.sarif" \
  "$T_TMP/suite"/lg.json.*
"$LG" merge "$T_TMP/suite"/lg.json.* >"$T_TMP/merge.txt" 2>&1
check_grep "merge text: three distinct findings" "reports?, 3 distinct findings \(3 defects\)" "$T_TMP/merge.txt"
check_grep "merge text: processes listed" "seen in 3 processes: pid [0-9]+ \(rt-cases\)" "$T_TMP/merge.txt"
check "merged.json: each distinct finding once, with its processes" python3 - "$T_TMP/merged.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["merged"] is True and d["defects"] == 3, d.keys()
f = d["findings"]
assert len(f) == 3, [x["summary"] for x in f]
names = sorted(sorted(l["name"] for l in x["locks"]) for x in f)
assert names == [["c11_a", "c11_b"], ["mutex_a", "mutex_b"], ["sw_first", "sw_second"]], names
sw = [x for x in f if x["locks"][0]["name"].startswith("sw_")][0]
assert d["reports"][sw["reports"][0]]["command"][0].endswith("report-switcher")
ab = [x for x in f if x["locks"][0]["name"].startswith("mutex_")][0]
assert len(ab["reports"]) == 3, ab["reports"]          # abba twice, the fork's child once
pids = [d["reports"][i]["pid"] for i in ab["reports"]]
assert len(set(pids)) == 3, pids
assert all(d["reports"][i]["command"][0].endswith("rt-cases") for i in ab["reports"])
assert len(set(x["fingerprint"] for x in f)) == 3
PY
check "merge and run agree" python3 - "$T_TMP/merged.json" "$T_TMP/merged2.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
fp = lambda d: sorted((x["fingerprint"], len(x["reports"])) for x in d["findings"])
assert fp(a) == fp(b), (fp(a), fp(b))
PY
check "merged.sarif is valid SARIF 2.1.0" validate "$T_TMP/merged.sarif"
check "merged.sarif: three results, distinct fingerprints" python3 - "$T_TMP/merged.sarif" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["runs"][0]["results"]
assert len(res) == 3, len(res)
assert len(set(r["partialFingerprints"]["lockgraph/v1"] for r in res)) == 3
PY
echo '{"tool": "other"}' >"$T_TMP/foreign.json"
check_status 1 "merge of a foreign JSON" "$LG" merge "$T_TMP/foreign.json"
check_status 1 "merge of a directory" "$LG" merge "$T_TMP/suite"
check_status 2 "merge of nothing" "$LG" merge
clean=$(python3 -c 'import json,sys; print([p for p in sys.argv[1:] if json.load(open(p))["defects"] == 0][0])' "$T_TMP/suite"/lg.json.*)
check_status 0 "merge of a clean report" "$LG" merge -q "$clean"
# A relative --json, and a process that changes directory before it runs: its report still
# lands beside the others.
mkdir -p "$T_TMP/rel"
(cd "$T_TMP/rel" && "$LG" run --json lg.json -- /bin/bash -c "cd / && \"$CASES\" abba; exit 0" >/dev/null 2>&1)
check "a process that cd'd delivers its report to the --json directory" python3 - "$T_TMP/rel/lg.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(l["name"] for x in d["findings"] for l in x["locks"]) == ["mutex_a", "mutex_b"], d
PY
done_tests
