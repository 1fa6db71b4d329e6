#!/usr/bin/env bash
# Owen values (explain groups "hierarchy") against shap 0.42.1's PartitionExplainer (issue 13).
# whyflag explains 6 Aurora windows with the MLP over the channel hierarchy of a 50-window
# background; tests/data/owen/owen_shap_ref.json holds shap's PartitionExplainer values for the
# same game (channels as players, a masked channel takes the background window's row, same
# background, same binary tree, max_evals far above the 58 evaluations the tree needs, link
# identity), made by tests/data/owen/gen_owen_shap.py. Checked here:
#  - link identity on both sides, every window exact, players = the 8 channels;
#  - whyflag's dendrogram (results.json dependence.linkage) is scipy's complete linkage on 1 - |r|
#    that shap was given: same merges and sizes, heights within 1e-9;
#  - max |whyflag - shap| <= 1e-6 per value (whyflag runs the MLP in float32, the reference in
#    float64), and the same for base value and f(x);
#  - the tree matters: shap's values differ from the flat-hierarchy Shapley values by > 1e-3.
# Args: CLI SOURCE_DIR BUILD_DIR.
set -u
CLI=$1
SRC=$2
D="$SRC/tests/data/owen"
T=$(mktemp -d "${TMPDIR:-/tmp}/wfowen.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
passes=0
ok() { passes=$((passes + 1)); echo "ok: $*"; }
bad() { fails=$((fails + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok "$2"; else bad "$2"; fi; }
command -v python3 > /dev/null || { echo "SKIP: python3 missing"; exit 77; }

"$CLI" explain --model "$SRC/tests/data/aurora/mlp.onnx" --windows "$D/windows.json" \
    --background "$D/background.json" --groups hierarchy --nsamples exact --method kernelshap \
    --link identity --out "$T/r.json" --quiet 2> "$T/err"
check "[ $? -eq 0 ]" "explain --groups hierarchy exits 0 ($(tail -2 "$T/err"))"

out=$(python3 - "$T/r.json" "$D/owen_shap_ref.json" "$D/windows.json" <<'PY' 2>&1
import json, sys
r = json.load(open(sys.argv[1]))
ref = json.load(open(sys.argv[2]))
ws = json.load(open(sys.argv[3]))["windows"]
assert r["settings"]["groups"] == "hierarchy" and r["settings"]["link"] == "identity"
assert r["channels"] == ref["channels"]
lk = r["dependence"]["linkage"]
assert len(lk) == len(ref["linkage"])
for m, z in zip(lk, ref["linkage"]):
    assert (m["a"], m["b"], m["size"]) == (z[0], z[1], z[3]), (m, z)
    assert abs(m["height"] - z[2]) <= 1e-9, (m, z)
assert len(r["windows"]) == len(ref["windows"]) == len(ws)
md = mb = 0.0
sep = float("inf")
for w, s, x in zip(r["windows"], ref["windows"], ws):
    assert (w["turbine_id"], w["start"]) == (x["turbine_id"], x["start"])
    k = w["kernelshap"]
    assert k["link"] == "identity" and k["exact"] and k["players"] == ref["channels"]
    d = max(abs(a - b) for a, b in zip(k["values"], s["values"]))
    md = max(md, d)
    mb = max(mb, abs(k["base_value"] - s["base_value"]), abs(k["f_x"] - s["f_x"]))
    assert d <= 1e-6, (x["index"], d, k["values"], s["values"])
    sep = min(sep, max(abs(a - b) for a, b in zip(s["values"], s["shapley_enumerated"])))
assert mb <= 1e-6, mb
assert sep > 1e-3, sep
print("%d windows, max |whyflag - shap PartitionExplainer| %.3g, base/f(x) %.3g, "
      "Owen vs Shapley >= %.3g" % (len(ws), md, mb, sep))
PY
)
check "[ $? -eq 0 ]" "Owen values match shap 0.42.1 PartitionExplainer within 1e-6 ($out)"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ] || exit 1
