#!/bin/bash
# Path-dependent TreeSHAP at the CLI (`--treeshap-covers`, config `explain.treeshap_covers`):
#  - `whyflag explain --method treeshap --groups cell` on gbc_flat with covers from the
#    background file and from the training windows, against shap's own C implementation
#    (tests/data/trees/shap_path_refs.json, see gen_shap_path.py), within 1e-6;
#  - a config naming a covers file relative to the config folder, variant "path_dependent" in
#    results.json, the values adding up to f(x) - base;
#  - refused combinations and missing files named in the error.
# usage: test_treeshap_path_cli.sh <whyflag> <source dir> <build dir>
set -u
CLI=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 > /dev/null || { echo "python3 missing: skipped"; exit 77; }
D="$SRC/tests/data"

# the 4 reference windows and the 50 background windows as windows files
python3 - "$D" "$T" << 'PY' || fail "windows files"
import json, sys
d, t = sys.argv[1], sys.argv[2]
W = json.load(open(d + "/data/windows.json"))
refs = json.load(open(d + "/trees/shap_path_refs.json"))
bg = json.load(open(d + "/explain/background.json"))
for name, idx in [("w4", refs["shap_windows"]), ("bg50", bg["indices"])]:
    o = dict(W)
    o["windows"] = [W["windows"][i] for i in idx]
    o["n_windows"] = len(idx)
    json.dump(o, open("%s/%s.json" % (t, name), "w"))
PY

M="$D/trees/gbc_flat.onnx"
run() { "$CLI" explain --model "$M" --windows "$T/w4.json" --method treeshap --groups cell \
    --background "$T/bg50.json" --quiet "$@"; }
run --treeshap-covers background --out "$T/pb.json" || fail "explain --treeshap-covers background"
run --treeshap-covers "$D/data/windows.json" --out "$T/pt.json" ||
    fail "explain --treeshap-covers FILE"
run --out "$T/pi.json" || fail "explain (interventional)"
python3 - "$D/trees/shap_path_refs.json" "$T/pb.json" "$T/pt.json" "$T/pi.json" << 'PY' ||
import json, sys
ref = json.load(open(sys.argv[1]))["models"]["gbc_flat"]
for cset, path in [("background", sys.argv[2]), ("training", sys.argv[3])]:
    r = json.load(open(path))
    assert r["settings"]["treeshap_covers"], r["settings"]
    worst = 0
    for i, w in enumerate(r["windows"]):
        t = w["treeshap"]
        assert t["variant"] == "path_dependent" and t["output"] == "margin", t["variant"]
        assert len(t["values"]) == 288
        worst = max([worst] + [abs(a - b) for a, b in zip(t["values"], ref[cset]["phi"][i])])
        assert abs(t["base_value"] - ref[cset]["expected_value"][i]) <= 1e-6
        assert abs(sum(t["values"]) - (t["f_x"] - t["base_value"])) <= 1e-6
    assert worst <= 1e-6, (cset, worst)
    print("cli path-dependent TreeSHAP, %s covers: max |whyflag - shap| %.3g" % (cset, worst))
r = json.load(open(sys.argv[4]))
assert "treeshap_covers" not in r["settings"]
assert all(w["treeshap"]["variant"] == "interventional" for w in r["windows"])
PY
    fail "values against shap"

# a config naming a covers file relative to its folder; method both: KernelSHAP beside
mkdir -p "$T/cfg/data"
cp "$T/bg50.json" "$T/cfg/data/covers.json"
python3 - "$SRC/samples/config_trees.json" "$T/cfg/c.json" "$SRC/samples" << 'PY' || fail "config"
import json, os, sys
c = json.load(open(sys.argv[1]))
s = sys.argv[3]
c["model"] = os.path.join(s, c["model"])
c["log"]["path"] = os.path.join(s, c["log"]["path"])
c["failures"]["path"] = os.path.join(s, c["failures"]["path"])
c["explain"]["treeshap_covers"] = "data/covers.json"
c["explain"]["background"]["size"] = 10
c["output_dir"] = "out"
json.dump(c, open(sys.argv[2], "w"))
PY
"$CLI" explain --config "$T/cfg/c.json" --windows "$T/w4.json" --out "$T/pc.json" --quiet ||
    fail "explain --config with treeshap_covers"
python3 - "$T/pc.json" "$T/cfg/data/covers.json" << 'PY' || fail "config results"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["settings"]["treeshap_covers"] == sys.argv[2], r["settings"]["treeshap_covers"]
for w in r["windows"]:
    t = w["treeshap"]
    assert t["variant"] == "path_dependent" and len(t["values"]) == 8
    assert abs(sum(t["values"]) - (t["f_x"] - t["base_value"])) <= 1e-6
    c = w["treeshap_vs_kernelshap"]
    assert c["compared"] == "ranks" and c["max_abs_difference"] is None, c
print("config: %d windows, path-dependent TreeSHAP beside KernelSHAP (ranks compared)" %
      len(r["windows"]))
PY

# refused: probability output, a missing covers file
out=$(run --treeshap-covers background --treeshap-output probability --out "$T/x.json" 2>&1)
[ $? -ne 0 ] || fail "path-dependent + probability must fail"
echo "$out" | grep -q "path-dependent TreeSHAP explains the margin only" || fail "message: $out"
out=$(run --treeshap-covers "$T/nope.json" --out "$T/x.json" 2>&1)
[ $? -ne 0 ] || fail "a missing covers file must fail"
echo "$out" | grep -q "nope.json" || fail "message does not name the file: $out"
echo "ok"
