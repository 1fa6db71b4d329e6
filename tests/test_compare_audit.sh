#!/usr/bin/env bash
# Model comparison end to end (issue 15): `whyflag audit samples/config_compare.json` (the
# deployed int8 student A against its float teacher B) writes results.json's "comparison",
# scores.csv's score_b/flagged_b, the PDF's Model comparison chapter (pdftotext) and the
# workbook's Comparison sheet (unzip); the outputs are byte-identical with 1 and 2 threads and
# for 2 shards + merge (bootstrap intervals included); `--compare B.onnx` on the plain config
# runs the same comparison as a compare section; a bad B fails before any work, naming the file; a run without a
# comparison keeps the old scores.csv columns. Args: CLI SOURCE_DIR BUILD_DIR.
set -u
CLI=$(realpath "$1")
SRC=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/wfcompare.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
passes=0
skips=0
ok() { passes=$((passes + 1)); echo "ok: $*"; }
skip() { skips=$((skips + 1)); echo "SKIP: $*"; }
bad() { fails=$((fails + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok "$2"; else bad "$2"; fi; }

cp -r "$SRC/samples" "$T/samples"
chmod -R u+w "$T/samples"
cd "$T/samples" || exit 1
# a lighter run (KernelSHAP with 64 samples, 10 background windows) for the checks that need no
# sample-sized explanations: with its comparison (fast.json) and without (fast_plain.json)
python3 - "$SRC/tests/data/compare/config_fast.json" "$T/samples" << 'PY'
import json, sys
c = json.load(open(sys.argv[1]))
d = sys.argv[2]
c["model"] = d + "/aurora_int8.onnx"
c["log"]["path"] = d + "/sensor_log.csv"
c["failures"]["path"] = d + "/failures.csv"
c["compare"]["model"] = d + "/aurora_float.onnx"
json.dump(c, open(d + "/fast.json", "w"))
del c["compare"]
json.dump(c, open(d + "/fast_plain.json", "w"))
PY

# latency is measured only without SOURCE_DATE_EPOCH (timings are not reproducible)
"$CLI" audit fast.json --out "$T/lat" --quiet 2> "$T/lat.err"
check "[ \$? -eq 0 ]" "comparison audit without SOURCE_DATE_EPOCH exits 0 ($(tail -1 "$T/lat.err"))"
python3 - "$T/lat/results.json" > "$T/py0.out" 2>&1 << 'PY'
import json, sys
c = json.load(open(sys.argv[1]))["comparison"]
for m in ("a", "b"):
    s = c["models"][m]["seconds_per_window"]
    assert isinstance(s, float) and 0 < s < 0.01, (m, s)
PY
check "[ \$? -eq 0 ]" "seconds_per_window measured for both models ($(tail -1 "$T/py0.out"))"

export SOURCE_DATE_EPOCH=1735689600
"$CLI" audit config_compare.json --out "$T/one" --threads 2 --quiet 2> "$T/one.err"
rc=$?
check "[ $rc -eq 0 ]" "whyflag audit samples/config_compare.json exits 0 (rc=$rc: $(tail -2 "$T/one.err"))"

python3 - "$T/one/results.json" "$T/one/scores.csv" > "$T/py.out" 2>&1 << 'PY'
import csv, json, math, sys
r = json.load(open(sys.argv[1]))
c = r["comparison"]
rows = list(csv.DictReader(open(sys.argv[2])))
assert list(rows[0].keys())[-2:] == ["score_b", "flagged_b"], rows[0].keys()
ag = c["agreement"]
n = len(rows)
assert c["windows"] == n == sum(ag.values()), (c["windows"], n, ag)
both = sum(1 for x in rows if x["flagged"] == "1" and x["flagged_b"] == "1")
oa = sum(1 for x in rows if x["flagged"] == "1" and x["flagged_b"] == "0")
ob = sum(1 for x in rows if x["flagged"] == "0" and x["flagged_b"] == "1")
assert (ag["both"], ag["only_a"], ag["only_b"]) == (both, oa, ob), ag
for x in rows:
    assert int(x["flagged_b"]) == (float(x["score_b"]) >= c["models"]["b"]["threshold"]), x
d = [float(x["score"]) - float(x["score_b"]) for x in rows]
assert abs(c["score_difference"]["mean"] - sum(d) / n) < 1e-12
assert c["score_difference"]["max_abs"] == max(abs(v) for v in d)
# McNemar counts from the labels
b = sum(1 for x in rows if x["label"] in "01" and (x["flagged"] == x["label"]) and (x["flagged_b"] != x["label"]))
cc = sum(1 for x in rows if x["label"] in "01" and (x["flagged"] != x["label"]) and (x["flagged_b"] == x["label"]))
assert (c["mcnemar"]["b"], c["mcnemar"]["c"]) == (b, cc), c["mcnemar"]
for m in ("a", "b"):
    mm = c["models"][m]
    for k in ("alarm_episodes", "true_alarms", "false_alarms", "failures_caught", "failures_missed",
              "median_lead_hours", "precision", "recall", "parameters", "flops", "file_bytes"):
        assert k in mm, (m, k)
    p = mm["precision"]
    assert p["ci95"][0] <= p["value"] <= p["ci95"][1], p
    assert mm["seconds_per_window"] is None  # not measured under SOURCE_DATE_EPOCH
assert c["models"]["a"]["quantized"] and not c["models"]["b"]["quantized"]
# the deployed run's own figures are A's
assert c["models"]["a"]["flagged_windows"] == sum(1 for x in rows if x["flagged"] == "1")
e = c["explanations"]
assert e["disagreements"] == oa + ob and e["disagreements_explained"] == oa + ob
assert e["max_difference_check"] <= 1e-9, e["max_difference_check"]
for w in e["windows"]:
    if w["flagged_by"] != "both":
        s = sum(w["kernelshap_difference"])
        assert abs(s - (w["f_difference"] - w["base_difference"])) < 1e-12
        assert abs(w["f_difference"] - (w["score_a"] - w["score_b"])) < 1e-6
assert c["fidelity"]["student"] == "a" and c["fidelity"]["windows"] > 0
print("agreement", ag, "kappa", c["cohens_kappa"], "mcnemar", c["mcnemar"])
PY
check "[ \$? -eq 0 ]" "results.json comparison agrees with scores.csv ($(tail -1 "$T/py.out"))"

if command -v pdftotext > /dev/null; then
  pdftotext -layout "$T/one/report.pdf" "$T/one.txt" 2> /dev/null
  check "grep -q 'Model comparison' '$T/one.txt' && grep -q 'Where A and B disagree' '$T/one.txt' && grep -q 'Fidelity of the student' '$T/one.txt' && grep -q 'McNemar' '$T/one.txt'" \
    "pdftotext: the PDF has the Model comparison chapter"
  # the methods paragraph wraps wherever its other sentences end: read it as one line
  tr -s ' \n' '  ' < "$T/one.txt" > "$T/one_flat.txt"
  check "grep -q 'Model comparison: every window was also scored by float teacher' '$T/one_flat.txt'" \
    "pdftotext: the methods text names the comparison"
else
  skip "pdftotext missing: the PDF text check did not run"
fi
if command -v unzip > /dev/null; then
  mkdir -p "$T/x"
  unzip -q -o "$T/one/report.xlsx" -d "$T/x"
  check "grep -q '<sheet name=\"Comparison\"' '$T/x/xl/workbook.xml' && grep -l 'autoFilter ref=\"A1:K1717\"' '$T'/x/xl/worksheets/*.xml > /dev/null" \
    "unzip: the workbook has a filterable Comparison sheet, one row per window"
else
  skip "unzip missing: the workbook check did not run"
fi

# the same bytes with 1 thread, and for 2 shards + merge
"$CLI" audit config_compare.json --out "$T/t1" --threads 1 --quiet 2> /dev/null
for k in 0 1; do
  "$CLI" audit config_compare.json --shard "$k/2" --out "$T/s/shard-$k" --quiet 2> "$T/s$k.err" ||
    bad "shard $k/2: $(tail -1 "$T/s$k.err")"
done
"$CLI" merge "$T"/s/shard-1 "$T"/s/shard-0 --out "$T/m" --quiet 2> "$T/m.err"
check "[ \$? -eq 0 ]" "merge of 2 comparison shards exits 0 ($(tail -1 "$T/m.err"))"
for f in results.json scores.csv report.pdf report.xlsx; do
  check "cmp -s '$T/one/$f' '$T/t1/$f'" "$f: 1 thread = 2 threads"
  check "cmp -s '$T/one/$f' '$T/m/$f'" "$f: 2 shards + merge = one machine"
done

# --compare on a config without a compare section: the same comparison (B named by its file)
"$CLI" audit fast_plain.json --compare aurora_float.onnx --out "$T/flag" --quiet 2> "$T/flag.err"
check "[ \$? -eq 0 ]" "audit --compare aurora_float.onnx exits 0 ($(tail -1 "$T/flag.err"))"
python3 - "$T/lat/results.json" "$T/flag/results.json" > "$T/py2.out" 2>&1 << 'PY'
import json, sys
a = json.load(open(sys.argv[1]))["comparison"]
b = json.load(open(sys.argv[2]))["comparison"]
assert b["models"]["b"]["name"] == "aurora_float.onnx" and b["relation"] == "challenger"
for k in ("agreement", "cohens_kappa", "mcnemar", "score_difference"):
    assert a[k] == b[k], k
PY
check "[ \$? -eq 0 ]" "--compare gives the config's comparison ($(tail -1 "$T/py2.out"))"

# a bad B fails before any work, naming the file; no comparison: the old columns
"$CLI" audit fast_plain.json --compare "$SRC/tests/data/compare/bad_T.onnx" --out "$T/bad" --quiet 2> "$T/bad.err"
rc=$?
check "[ $rc -ne 0 ] && grep -q 'bad_T.onnx' '$T/bad.err' && [ ! -e '$T/bad/results.json' ]" \
  "a B with another window length fails before any work, naming it (rc=$rc: $(tail -1 "$T/bad.err"))"
"$CLI" audit fast_plain.json --out "$T/plain" --quiet 2> /dev/null
check "head -1 '$T/plain/scores.csv' | grep -qx 'turbine_id,start,end,score,flagged,label,component,interpolated' && ! grep -q comparison '$T/plain/results.json'" \
  "without a comparison scores.csv and results.json are as before"

echo "$passes passed, $fails failed, $skips skipped"
[ $fails -eq 0 ] || exit 1
[ $skips -eq 0 ] || exit 77
exit 0
