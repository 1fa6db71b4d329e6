#!/bin/bash
# The workbook of a tree model (issue 11): `whyflag audit` on the tree sample
# (samples/config_trees.json, method both) with path-dependent TreeSHAP (explain.treeshap_covers
# "background"). The Attributions sheet gains a "TreeSHAP value (margin, path-dependent)" column
# beside KernelSHAP's, each row's number equal to results.json's treeshap value of that window
# and channel; each turbine sheet shows the best window's TreeSHAP values in column E.
# usage: test_trees_xlsx.sh <whyflag> <source dir> <build dir>
set -u
CLI=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 > /dev/null || { echo "python3 missing: skipped"; exit 77; }

python3 - "$SRC/samples/config_trees.json" "$T/c.json" "$SRC/samples" << 'PY' || fail "config"
import json, os, sys
c = json.load(open(sys.argv[1]))
s = sys.argv[3]
for k in [("model",), ("log", "path"), ("failures", "path")]:
    d = c
    for part in k[:-1]:
        d = d[part]
    d[k[-1]] = os.path.join(s, d[k[-1]])
c["explain"]["treeshap_covers"] = "background"
c["explain"]["background"]["size"] = 20
json.dump(c, open(sys.argv[2], "w"))
PY
"$CLI" audit "$T/c.json" --out "$T/out" --quiet > /dev/null 2>&1 || fail "whyflag audit"
python3 - "$T/out/results.json" "$T/out/report.xlsx" << 'PY' || fail "workbook checks"
import json, re, sys, zipfile
r = json.load(open(sys.argv[1]))
z = zipfile.ZipFile(sys.argv[2])
wb = z.read("xl/workbook.xml").decode()
sheets = re.findall(r'<sheet name="([^"]+)" sheetId="\d+" r:id="rId(\d+)"', wb)
ss = [re.sub(r"<[^>]+>", "", m) for m in
      re.findall(r"<si>(.*?)</si>", z.read("xl/sharedStrings.xml").decode(), re.S)]
def cells(i):
    x = z.read("xl/worksheets/sheet%d.xml" % i).decode()
    out = {}
    for ref, t, body in re.findall(r'<c r="([A-Z]+\d+)"([^>]*)>(.*?)</c>', x, re.S):
        v = re.search(r"<v>(.*?)</v>", body)
        if v:
            out[ref] = ss[int(v.group(1))] if 't="s"' in t else float(v.group(1))
    return out
att = cells(int([i for n, i in sheets if n == "Attributions"][0]))
head = "TreeSHAP value (margin, path-dependent)"
assert att.get("K1") == head, att.get("K1")
assert att.get("G1") == "KernelSHAP value"
wins = [w for w in r["windows"] if "treeshap" in w]
assert wins and all(w["treeshap"]["variant"] == "path_dependent" for w in wins)
# rows in order: explained windows x channels, as results.json lists them
vals = [v for w in wins for v in w["treeshap"]["values"]]
col = [att["K%d" % (i + 2)] for i in range(len(vals))]
worst = max(abs(a - b) for a, b in zip(vals, col))
assert worst <= 1e-9 * max(1, max(abs(v) for v in vals)), worst
nt = 0
for n, i in sheets:
    c = cells(int(i))
    if c.get("E4") == head:
        nt += 1
        assert all(isinstance(c.get("E%d" % k), float) for k in range(5, 13)), n
assert nt >= 1, "no turbine sheet with TreeSHAP values"
print("workbook: %d TreeSHAP rows equal results.json (max diff %.3g), %d turbine sheets" %
      (len(col), worst, nt))
PY
echo ok
