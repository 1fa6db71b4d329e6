#!/usr/bin/env bash
# Issue 14, "outcomes that add up": on the sample fleet with a failure log that holds every kind
# of failure (caught; missed: WT02 had scored windows but no alarm before it; not observable: a
# turbine that is not in the log, and a failure before the audited period), with and without an
# episode merge gap, every episode, failure, count and sweep row in results.json must be what an
# independent implementation of the written rule (tests/check_outcomes.py) computes, the counts
# must add up, and the PDF must carry the Failures table and the sweep.
# Args: CLI SOURCE_DIR BUILD_DIR.
set -u
CLI=$(realpath "$1")
SRC=$(realpath "$2")
T=$(mktemp -d "${TMPDIR:-/tmp}/wfoutcomes.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
passes=0
ok() { passes=$((passes + 1)); echo "ok: $*"; }
bad() { fails=$((fails + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok "$2"; else bad "$2"; fi; }
command -v python3 > /dev/null || { echo "SKIP: python3 missing"; exit 77; }
export SOURCE_DATE_EPOCH=1735689600
cp -r "$SRC/samples" "$T/s"
chmod -R u+w "$T/s"
cd "$T/s" || exit 1
{
  cat failures.csv
  echo "WT02,2024-03-10T12:00:00Z,gearbox"
  echo "WT99,2024-03-05T00:00:00Z,blade"
  echo "WT05,2024-02-20T00:00:00Z,blade"
} > failures_all.csv
# IG only, few steps: the outcomes do not depend on the explanations
python3 - << 'PY'
import json
c = json.load(open("config.json"))
c["failures"]["path"] = "failures_all.csv"
c["explain"] = {"method": "ig", "steps": 4, "baseline": "zeros"}
json.dump(c, open("outcomes.json", "w"), indent=1)
c["report"]["episode_merge_gap_hours"] = 9
json.dump(c, open("outcomes_gap.json", "w"), indent=1)
PY
for c in outcomes outcomes_gap; do
  "$CLI" audit $c.json --out "$T/$c" --quiet 2> "$T/$c.err"
  check "[ -s '$T/$c/results.json' ]" "$c: the audit ran ($(tail -1 "$T/$c.err"))"
  python3 "$SRC/tests/check_outcomes.py" "$T/$c/results.json" 10800 > "$T/$c.txt" 2>&1
  check "[ $? -eq 0 ]" "$c: results.json outcomes follow the rule: $(tail -1 "$T/$c.txt")"
done
python3 - "$T/outcomes/results.json" "$T/outcomes_gap/results.json" > "$T/kinds.txt" 2>&1 << 'PY'
import json, sys
a, g = (json.load(open(p)) for p in sys.argv[1:3])
st = {(f["turbine_id"], f["time"]): f["outcome"] for f in a["failures"]}
assert st[("WT02", "2024-03-10T12:00:00Z")] == "missed", st
assert st[("WT99", "2024-03-05T00:00:00Z")] == "not observable", st
assert st[("WT05", "2024-02-20T00:00:00Z")] == "not observable", st
assert sum(v == "caught" for v in st.values()) == 5, st
o, og = a["outcomes"], g["outcomes"]
assert o["repeat_alarms"] > 0, o
assert og["episode_merge_gap_hours"] == 9 and o["episode_merge_gap_hours"] == 3, (o, og)
assert og["episodes"] < o["episodes"], (og["episodes"], o["episodes"])
print("missed and not observable named; a 9 h merge gap: %d episodes instead of %d" %
      (og["episodes"], o["episodes"]))
PY
check "[ $? -eq 0 ]" "each kind of failure is found ($(tail -1 "$T/kinds.txt"))"
pdftotext -layout "$T/outcomes/report.pdf" "$T/o.txt" 2> /dev/null
check "grep -q 'Failures in the log' '$T/o.txt' && grep -q 'WT99 .*blade *not observable' '$T/o.txt' && grep -q 'WT02 .*gearbox *missed' '$T/o.txt'" \
  "the PDF lists every failure with its outcome"
check "grep -q 'Threshold sweep' '$T/o.txt' && grep -q '\\* 0.500' '$T/o.txt'" \
  "the PDF has the threshold sweep with this run's threshold marked"
check "tr '\\n' ' ' < '$T/o.txt' | grep -q 'Failures in the log: 8: 5 caught (median lead [0-9.]* h), 1 missed, 2 not observable'" \
  "the summary counts add up in words"
# the Summary's score scale is colour-blind safe: blue - light - vermilion, not green - red
scale=$(unzip -p "$T/outcomes/report.xlsx" xl/worksheets/sheet1.xml 2> /dev/null | grep -o '<colorScale>.*</colorScale>')
check "grep -q 'FF2166AC.*FFF7F7F7.*FFD55E00' <<< \"\$scale\" && ! grep -qi '63BE7B\\|F8696B' <<< \"\$scale\"" \
  "the workbook's Summary score scale is blue-light-vermilion (colour-blind safe)"
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
