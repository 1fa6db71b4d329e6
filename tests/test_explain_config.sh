#!/usr/bin/env bash
# `whyflag explain --config` and `whyflag audit` draw the same background from the same config
# (the audit library's wf_audit_background), so they give the same KernelSHAP values for the same
# window, and the background windows results.json lists are the ones the values came from.
# Args: CLI SOURCE_DIR BUILD_DIR.
set -u
CLI=$(realpath "$1")
SRC=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/wfexcfg.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
passes=0
ok() { passes=$((passes + 1)); echo "ok: $*"; }
bad() { fails=$((fails + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok "$2"; else bad "$2"; fi; }
command -v python3 > /dev/null || { echo "SKIP: python3 missing"; exit 77; }

export SOURCE_DATE_EPOCH=1735689600
cp -r "$SRC/samples" "$T/samples"
chmod -R u+w "$T/samples"
cd "$T/samples" || exit 1
"$CLI" audit config.json --out "$T/audit" --quiet 2> "$T/audit.err"
check "[ -s '$T/audit/results.json' ]" "the sample audit ran ($(tail -1 "$T/audit.err"))"
"$CLI" windows config.json --out "$T/windows.json" 2> /dev/null
# Three flagged windows of the audit, cut again by `whyflag windows`, into a windows file.
python3 - "$T/audit/results.json" "$T/windows.json" "$T/pick.json" << 'PY'
import json, sys
r = json.load(open(sys.argv[1]))
w = json.load(open(sys.argv[2]))
flagged = [x for x in r["windows"] if x.get("kernelshap")][:3]
keys = {(x["turbine_id"], x["start"]) for x in flagged}
w["windows"] = [x for x in w["windows"] if (x["turbine_id"], x["start"]) in keys]
w.pop("skipped", None)
w["n_windows"] = len(w["windows"])
assert len(w["windows"]) == 3, len(w["windows"])
json.dump(w, open(sys.argv[3], "w"))
PY
check "[ $? -eq 0 ]" "three flagged windows picked"
"$CLI" explain --config config.json --windows "$T/pick.json" --out "$T/expl.json" --quiet \
  2> "$T/expl.err"
check "[ $? -eq 0 ]" "explain --config ran ($(tail -1 "$T/expl.err"))"
python3 - "$T/audit/results.json" "$T/expl.json" > "$T/cmp.txt" 2>&1 << 'PY'
import json, sys
a = json.load(open(sys.argv[1]))
e = json.load(open(sys.argv[2]))
aw = {(x["turbine_id"], x["start"]): x for x in a["windows"] if x.get("kernelshap")}
worst = 0.0
n = 0
for x in e["windows"]:
    ka, ke = aw[(x["turbine_id"], x["start"])]["kernelshap"], x["kernelshap"]
    assert ka["players"] == ke["players"], (ka["players"], ke["players"])
    for p, q in zip(ka["values"], ke["values"]):
        worst = max(worst, abs(p - q))
    n += 1
assert n == 3, n
assert a["background"]["n"] == e["background"]["n"] == 50
assert a["background"]["windows"] == e["background"]["windows"], "different background windows"
assert len(a["background"]["windows"]) == 50
print("max |difference| %.3g over %d windows" % (worst, n))
assert worst == 0.0, worst
PY
check "[ $? -eq 0 ]" "explain --config gives the audit's KernelSHAP values and background ($(tail -1 "$T/cmp.txt"))"
# The same window gets the same sentence from both commands (one rule, wf_explain_checks_build),
# and explain carries the dependence of the background as the audit does.
python3 - "$T/audit/results.json" "$T/expl.json" > "$T/why.txt" 2>&1 << 'PY'
import json, sys
a = json.load(open(sys.argv[1]))
e = json.load(open(sys.argv[2]))
aw = {(x["turbine_id"], x["start"]): x for x in a["windows"] if x.get("kernelshap")}
n = 0
for x in e["windows"]:
    wa, we = aw[(x["turbine_id"], x["start"])]["why"], x["why"]
    assert isinstance(we, dict) and we["text"], we
    assert wa == we, (wa, we)
    n += 1
assert n == 3, n
assert e["dependence"] == a["dependence"], "different dependence"
assert e["explanation_checks"]["windows_with_why"] == 3, e["explanation_checks"]
print("%d sentences equal, e.g. %r" % (n, x["why"]["text"][:80]))
PY
check "[ $? -eq 0 ]" "explain --config writes the audit's why sentence and dependence ($(tail -1 "$T/why.txt"))"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
