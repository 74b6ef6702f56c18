#!/usr/bin/env bash
# Every golden JSON file is valid JSON and keeps the documented contract's keys.
. "$LG_SRCDIR/tests/lib/sh-harness.sh"
for f in "$LG_SRCDIR"/tests/*/golden/*.json; do
  check "$f is valid JSON with the contract keys" python3 - "$f" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tool"] == "lockgraph" and isinstance(d["version"], str)
assert isinstance(d["command"], list) and isinstance(d["pid"], int)
for f in d["findings"]:
    assert f["kind"] and isinstance(f["summary"], str)
    ids = {l["id"] for l in f["locks"]}
    for l in f["locks"]:
        assert set(l) >= {"id", "address", "type", "name"} and l["address"].startswith("0x")
    for t in f["threads"]:
        assert isinstance(t["tid"], int) and "name" in t
    for e in f["edges"]:
        assert set(e) >= {"thread", "holds", "holds_mode", "holds_stack", "acquires",
                          "acquires_mode", "stack"}
        assert e["acquires"] in ids and (e["holds"] is None or e["holds"] in ids)
        for fr in e["stack"] + e["holds_stack"]:
            assert set(fr) >= {"address", "module", "function", "file", "line"}
PY
done
done_tests
