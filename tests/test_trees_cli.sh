#!/bin/bash
# Issue 11 at the CLI: `whyflag explain` with --method treeshap / ig / both and --treeshap-output
# on the tree sample (samples/aurora_gbc.onnx), bad flag values named in the error, and
# --method treeshap refused for a model that is not a tree ensemble. The values themselves are
# checked against the library and the references in test_trees_audit and test_trees.
# usage: test_trees_cli.sh <whyflag> <source dir> <build dir>
set -u
CLI=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 > /dev/null || { echo "python3 missing: skipped"; exit 77; }

"$CLI" windows "$SRC/samples/config_trees.json" --out "$T/all.json" 2> /dev/null ||
    fail "whyflag windows"
python3 - "$T/all.json" "$T/w.json" << 'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["windows"] = d["windows"][100:124]
json.dump(d, open(sys.argv[2], "w"))
PY
M="$SRC/samples/aurora_gbc.onnx"

# TreeSHAP alone, on the margin and on the probability
"$CLI" explain --model "$M" --windows "$T/w.json" --method treeshap --out "$T/ts.json" --quiet ||
    fail "explain --method treeshap"
"$CLI" explain --model "$M" --windows "$T/w.json" --method treeshap --treeshap-output probability \
    --out "$T/tp.json" --quiet || fail "explain --treeshap-output probability"
# IG alone on a tree model: not applicable, and not an error
"$CLI" explain --model "$M" --windows "$T/w.json" --method ig --out "$T/ig.json" --quiet ||
    fail "explain --method ig on a tree model must not fail"
python3 - "$T/ts.json" "$T/tp.json" "$T/ig.json" << 'PY' || fail "results.json checks"
import json, sys
ts, tp, ig = (json.load(open(p)) for p in sys.argv[1:4])
assert ts["settings"]["method"] == "treeshap", ts["settings"]
assert ts["settings"]["treeshap_output"] == "margin"
assert tp["settings"]["treeshap_output"] == "probability"
for w, wp in zip(ts["windows"], tp["windows"]):
    t = w["treeshap"]
    assert "kernelshap" not in w and "ig" not in w, w.keys()
    assert t["output"] == "margin" and t["variant"] == "interventional" and t["exact"]
    assert abs(sum(t["values"]) - (t["f_x"] - t["base_value"])) <= 1e-6, t
    assert len(t["players"]) == 8 and w["top_channel"] in t["players"]
    p = wp["treeshap"]
    assert p["output"] == "probability" and not p["exact"]
    assert abs(sum(p["values"]) - (p["f_x"] - p["base_value"])) <= 1e-6, p
    assert abs(p["f_x"] - w["score"]) <= 1e-6, (p["f_x"], w["score"])  # p(x) is the score
    assert p["base_value"] > 0 and p["base_value"] < 1
for w in ig["windows"]:
    assert w["ig"]["status"] == "not_applicable", w
    assert "no gradient" in w["ig"]["reason"], w["ig"]["reason"]
    assert "status" not in w or w["status"] == "ok", w
print("trees cli: %d windows, margin and probability TreeSHAP, IG not applicable" % len(ig["windows"]))
PY

# bad values name the flag
out=$("$CLI" explain --model "$M" --windows "$T/w.json" --treeshap-output logodds --out "$T/x.json" 2>&1)
[ $? -eq 2 ] || fail "bad --treeshap-output must exit 2"
echo "$out" | grep -q -- '--treeshap-output: found "logodds", expected "margin" or "probability"' ||
    fail "message: $out"
out=$("$CLI" explain --model "$M" --windows "$T/w.json" --method tree --out "$T/x.json" 2>&1)
[ $? -eq 2 ] || fail "bad --method must exit 2"
echo "$out" | grep -q -- '--method: found "tree", expected "kernelshap", "ig", "treeshap" or "both"' ||
    fail "message: $out"
# TreeSHAP on a network: refused, naming explain.method
out=$("$CLI" explain --model "$SRC/samples/aurora_int8.onnx" --windows "$T/w.json" --method treeshap \
    --out "$T/x.json" 2>&1)
[ $? -ne 0 ] || fail "--method treeshap on a network must fail"
echo "$out" | grep -q 'explain.method "treeshap"' || fail "message: $out"
echo "PASS"
