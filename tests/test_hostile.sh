#!/usr/bin/env bash
# Issue 17, "nothing lost, nothing silent, nothing forged": hostile logs and inputs through the
# CLI. Each case is a class of defect, with the rule it checks:
# - turbine ids over 63 bytes, with control bytes or not UTF-8 stay distinct turbines (cut +
#   hash suffix) and a sharded run + merge gives the one-machine results byte for byte;
# - a row stamped 1970-01-01 or with a mistyped year is rejected as an outlier (with a note),
#   never reshaping its turbine's grid;
# - a run that can score no window exits 4 with a message and writes no report; rejected rows
#   and skipped windows are reported by reason;
# - a stray quote cannot swallow the rest of the log;
# - inputs that are not regular files (FIFO) are refused at once;
# - turbines named like fixed sheets, cut mid-character or with forbidden characters give a
#   valid workbook; CSV cells cannot start a formula;
# - keygen does not overwrite a key; an invalid SOURCE_DATE_EPOCH is an error; verify without
#   --pubkey says when a signature went unchecked.
# Args: CLI SOURCE_DIR BUILD_DIR.
set -u
CLI=$(realpath "$1")
SRC=$(realpath "$2")
T=$(mktemp -d "${TMPDIR:-/tmp}/wfhostile.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
passes=0
skips=0
ok() { passes=$((passes + 1)); echo "ok: $*"; }
skip() { skips=$((skips + 1)); echo "SKIP: $*"; }
bad() { fails=$((fails + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok "$2"; else bad "$2"; fi; }

export SOURCE_DATE_EPOCH=1735689600
cd "$T" || exit 1
cp "$SRC/samples/aurora_int8.onnx" "$SRC/samples/failures.csv" .
# two turbines of the sample (5,184 rows): fast
awk -F, 'NR == 1 || $1 == "WT01" || $1 == "WT03"' "$SRC/samples/sensor_log.csv" > clean.csv

# config.json for log $1 (in this folder)
mkconfig() {
  cat > "${2:-config.json}" << JSON
{
  "model": "aurora_int8.onnx",
  "log": {
    "path": "$1", "turbine_column": "turbine_id", "time_column": "timestamp",
    "time_format": "${3:-iso8601}", "cadence_seconds": 600,
    "channels": [
      {"name": "wind_speed", "column": "wind_speed"}, {"name": "rotor_rpm", "column": "rotor_rpm"},
      {"name": "power_kw", "column": "power_kw"}, {"name": "pitch_deg", "column": "pitch_deg"},
      {"name": "gearbox_oil_temp", "column": "gearbox_oil_temp"},
      {"name": "bearing_temp", "column": "bearing_temp"},
      {"name": "nacelle_temp", "column": "nacelle_temp"},
      {"name": "vibration_rms", "column": "vibration_rms"}
    ]
  },
  "window": {"length": 36, "stride": 18, "missing": "skip"},
  "failures": {"path": "failures.csv", "horizon_hours": 72},
  "threshold": 0.5,
  "explain": {"method": "ig", "steps": 4, "baseline": "mean",
              "background": {"source": "sample", "size": 4}, "seed": 1},
  "output_dir": "out"
}
JSON
}
# number of "windows" (scored) in a results.json
# windows scored / skipped, summed over results.json's turbines
nturb() { python3 -c 'import json, sys; print(sum(t[sys.argv[2]] for t in json.load(open(sys.argv[1]))["turbines"]))' "$1" "$2" 2> /dev/null || echo -1; }
nscored() { nturb "$1" scored; }
nskipped() { nturb "$1" skipped; }

mkconfig clean.csv clean.json
"$CLI" audit clean.json --out "$T/clean" --quiet 2> clean.err
check "[ -s '$T/clean/results.json' ]" "the clean two-turbine audit runs ($(tail -1 clean.err))"
CLEAN=$(nscored "$T/clean/results.json")
check "[ '$CLEAN' = 286 ]" "the clean log gives 286 windows (got $CLEAN)"

# ---------------------------------------------------------------- 1, 8, 17: turbine ids
L70=$(printf 'A%.0s' $(seq 1 70))
awk -F, -v OFS=, -v p="$L70" 'NR > 1 && $1 == "WT01" {$1 = p "1"} NR > 1 && $1 == "WT03" {$1 = p "3"} {print}' \
  clean.csv > longid.csv
mkconfig longid.csv longid.json
"$CLI" audit longid.json --out "$T/longid" --quiet 2> longid.err
check "[ \"\$(nscored '$T/longid/results.json')\" = $CLEAN ]" \
  "ids sharing their first 63 bytes stay two turbines: same windows as the clean log"
check "[ \$(grep -o '\"turbine_id\": \"A\{54\}~[0-9a-f]\{8\}\"' '$T/longid/results.json' | sort -u | wc -l) = 2 ]" \
  "long ids are cut and suffixed with a hash (two distinct ids in results.json)"
for k in 0 1; do
  "$CLI" audit longid.json --shard "$k/2" --out "$T/longid-s$k" --quiet 2> "longid-s$k.err" ||
    bad "shard $k/2 of the long-id log failed: $(tail -1 "longid-s$k.err")"
done
"$CLI" merge "$T/longid-s0" "$T/longid-s1" --out "$T/longid-m" --quiet 2> longid-m.err
check "cmp -s '$T/longid/results.json' '$T/longid-m/results.json'" \
  "long ids: sharded + merged results.json byte-identical to the one-machine run"
# control bytes and Latin-1 bytes: "WT\x01" and "WT\x02" are distinct turbines; "\xe9" is Latin-1
awk -F, -v OFS=, 'NR > 1 && $1 == "WT01" {$1 = "WT\001"} NR > 1 && $1 == "WT03" {$1 = "WT\002"} {print}' \
  clean.csv > ctl.csv
mkconfig ctl.csv ctl.json
"$CLI" audit ctl.json --out "$T/ctl" --quiet 2> ctl.err
check "[ \"\$(nscored '$T/ctl/results.json')\" = $CLEAN ]" \
  "ids differing only in a control byte stay two turbines"
for k in 0 1 2; do
  "$CLI" audit ctl.json --shard "$k/3" --out "$T/ctl-s$k" --quiet 2> /dev/null
done
"$CLI" merge "$T/ctl-s0" "$T/ctl-s1" "$T/ctl-s2" --out "$T/ctl-m" --quiet 2> ctl-m.err
check "cmp -s '$T/ctl/results.json' '$T/ctl-m/results.json'" \
  "control-byte ids: sharded + merged results.json byte-identical to the one-machine run"
awk -F, -v OFS=, 'NR > 1 && $1 == "WT01" {$1 = "Ost\351"} {print}' clean.csv > latin.csv
mkconfig latin.csv latin.json
"$CLI" audit latin.json --out "$T/latin" --quiet 2> /dev/null
for k in 0 1; do "$CLI" audit latin.json --shard "$k/2" --out "$T/latin-s$k" --quiet 2> /dev/null; done
"$CLI" merge "$T/latin-s0" "$T/latin-s1" --out "$T/latin-m" --quiet 2> /dev/null
check "grep -q '\"turbine_id\": \"Ost\\\\u00e9\\|Osté' '$T/latin/results.json' && cmp -s '$T/latin/results.json' '$T/latin-m/results.json'" \
  "a Latin-1 id is converted, and sharded + merged equals one-machine"
# the failure log's ids follow the same rule: a failure of a long-id turbine labels its windows
sed -e "s/^WT01,/${L70}1,/" -e "s/^WT03,/${L70}3,/" failures.csv > failures-long.csv
sed 's/"failures.csv"/"failures-long.csv"/' longid.json > longid-f.json
"$CLI" audit longid-f.json --out "$T/longid-f" --quiet 2> /dev/null
# windows labelled positive: the label column of scores.csv (issue 14: the scores are there)
npos() { python3 -c 'import csv, sys; print(sum(r["label"] == "1" for r in csv.DictReader(open(sys.argv[1], newline=""))))' "$1" 2> /dev/null || echo -1; }
check "[ \$(npos '$T/longid-f/scores.csv') -gt 0 ] && [ \$(npos '$T/longid-f/scores.csv') -eq \$(npos '$T/clean/scores.csv') ]" \
  "failure-log ids are normalised like log ids (same positive labels as the clean run)"

# ---------------------------------------------------------------- 2, 9: time outliers
ROW='7.27,11.63,428.1,0.48,34.35,24.70,13.00,1.707'
# a 1970-01-01 stamp before WT01's rows, and another in the middle of WT03's
awk -v r="$ROW" 'NR == 2 {print "WT01,1970-01-01T00:00:00Z," r} NR == 3001 {print "WT03,1970-01-01T00:00:00Z," r} {print}' \
  clean.csv > epoch.csv
mkconfig epoch.csv epoch.json
"$CLI" audit epoch.json --out "$T/epoch" 2> epoch.err
check "[ \"\$(nscored '$T/epoch/results.json')\" = $CLEAN ] && [ \"\$(nskipped '$T/epoch/results.json')\" = 0 ]" \
  "1970-01-01 stamps: no turbine vanishes (all $CLEAN windows scored, none skipped)"
check "grep -q 'epoch.csv:2: WT01: .*rejected as outliers' epoch.err && grep -q 'epoch.csv:3002: WT03: time 1970-01-01T00:00:00Z .*rejected as an outlier' epoch.err && grep -q '2 time outliers' epoch.err" \
  "1970-01-01 stamps are rows rejected with a reason naming their line"
# a mistyped year (2043 for 2024) in the middle of WT01
awk 'NR == 101 {sub(/^WT01,2024/, "WT01,2043")} {print}' clean.csv > year.csv
mkconfig year.csv year.json
"$CLI" audit year.json --out "$T/year" 2> year.err
check "[ \"\$(nscored '$T/year/results.json')\" = $((CLEAN - 2)) ] && [ \"\$(nskipped '$T/year/results.json')\" = 2 ]" \
  "a mistyped year costs the 2 windows holding that row, nothing more (no 19-year grid)"
check "grep -q 'missing row at 2024-03-01T16:30:00Z (year.csv:101:0: time 2043-03-01T16:30:00Z rejected as an outlier)' '$T/year/results.json'" \
  "the skipped windows name the outlier row"
check "[ \$(stat -c %s '$T/year/results.json') -lt \$((2 * \$(stat -c %s '$T/clean/results.json'))) ]" \
  "outputs do not blow up with a mistyped year"
# a real jump (the turbine was away two years): a new grid segment, no skipped windows across it
awk -F, -v OFS=, 'NR > 1 && $1 == "WT03" {sub(/^2024/, "2026", $2)} {print}' clean.csv | \
  awk -F, -v OFS=, 'NR > 1 && $1 == "WT01" && NR > 1000 {sub(/^2024/, "2026", $2)} {print}' > jump.csv
mkconfig jump.csv jump.json
"$CLI" audit jump.json --out "$T/jump" --quiet 2> jump.err
check "[ \"\$(nskipped '$T/jump/results.json')\" -lt 4 ] && [ \"\$(nscored '$T/jump/results.json')\" -gt $((CLEAN - 4)) ]" \
  "a confirmed two-year jump starts a new grid segment (no windows skipped across the gap)"

# ---------------------------------------------------------------- 3: nothing read is loud
loud() { # name config-edit-sed: must exit 4, say why, write no report
  sed "$2" clean.json > "$1.json"
  "$CLI" audit "$1.json" --out "$T/$1" --quiet 2> "$1.err"
  rc=$?
  check "[ $rc -eq 4 ] && grep -q 'no window could be scored, nothing was written' '$1.err' && [ ! -e '$T/$1/results.json' ] && [ ! -e '$T/$1/report.pdf' ]" \
    "$1: exit 4 (rc=$rc), nothing written: $(head -c 200 "$1.err")"
}
loud timefmt 's/"iso8601"/"%d.%m.%Y %H:%M"/'
loud cadence 's/"cadence_seconds": 600/"cadence_seconds": 420/'
awk -F, -v OFS=, 'NR > 1 {$3 = "nan"} {print}' clean.csv > nan.csv
loud allnan 's/"clean.csv"/"nan.csv"/'
check "grep -q '286 NaN or infinite' allnan.err && grep -q 'unparsable time' timefmt.err && grep -q 'off the cadence grid' cadence.err" \
  "the exit-4 message gives the rejections by reason"
# rows with an empty turbine id are counted, named, and a warning past report.max_rejected_share
awk -F, -v OFS=, 'NR > 1 && NR % 50 == 0 {$1 = ""} {print}' clean.csv > noid.csv
mkconfig noid.csv noid.json
"$CLI" audit noid.json --out "$T/noid" 2> noid.err
check "grep -q '103 without a turbine id' noid.err && grep -q 'noid.csv:50: row without a turbine id' noid.err" \
  "rows without a turbine id are reported (count and first line)"
check "grep -q 'warning: .* of the windows were rejected (more than report.max_rejected_share = 0.5)' noid.err" \
  "more than half the windows skipped: a warning"
sed 's/"output_dir"/"report": {"max_rejected_share": 1}, "output_dir"/' noid.json > noid1.json
"$CLI" audit noid1.json --out "$T/noid1" --quiet 2> noid1.err
check "! grep -q warning noid1.err" "report.max_rejected_share = 1 silences the warning"

# ---------------------------------------------------------------- nothing vanishes: row counts
# Seven rows added to the clean log, one of each fate: two without a turbine id (malformed), a
# truncated WT01 row at an existing time (a conflicting duplicate: later rows at a repeated time
# are rejected, the windows touching it skipped), an exact copy of a WT03 row (ignored), a WT03
# row with other values at that time (conflicting), a WT01 row off the 10-minute grid and a 1970
# stamp (time outlier). results.json input must count each, rows = used + rejected + ignored,
# and sharded + merged runs (background from the log, so every shard reads every turbine; and a
# zeros baseline, so each shard reads only its own) must give the one-machine counts.
{
  cat clean.csv
  echo ",2024-03-01T00:00:00Z,$ROW"
  echo ",2024-03-02T00:00:00Z,$ROW"
  echo "WT01,2024-03-01T05:00:00Z,1,2"
  grep "^WT03,2024-03-05T00:00:00Z" clean.csv
  echo "WT03,2024-03-05T00:00:00Z,$ROW"
  echo "WT01,2024-03-01T00:05:00Z,$ROW"
  echo "WT03,1970-01-01T00:00:00Z,$ROW"
} > mixed.csv
mkconfig mixed.csv mixed.json
sed 's/"baseline": "mean"/"baseline": "zeros"/' mixed.json > mixedz.json
for c in mixed mixedz; do
  "$CLI" audit $c.json --out "$T/$c" --quiet 2> /dev/null
  for k in 0 1; do "$CLI" audit $c.json --shard "$k/2" --out "$T/$c-s$k" --quiet 2> /dev/null; done
  "$CLI" merge "$T/$c-s0" "$T/$c-s1" --out "$T/$c-m" --quiet 2> /dev/null
  check "cmp -s '$T/$c/results.json' '$T/$c-m/results.json'" \
    "$c: sharded + merged results.json (with its input counts) byte-identical to one machine"
done
python3 - "$T/mixed/results.json" > counts.txt 2>&1 << 'PY'
import json, sys
d = json.load(open(sys.argv[1]))["input"]
want = {"rows": 5184 + 7, "rows_used": 5184, "rows_rejected": 6,
        "duplicate_identical_ignored": 1, "turbines": 2}
for k, v in want.items():
    assert d[k] == v, (k, d[k], v)
assert d["rejected"] == {"malformed": 2, "without_turbine_id": 2, "off_grid": 1,
                         "time_outlier": 1, "duplicate_conflicting": 2,
                         "nonexistent_local_time": 0}, d["rejected"]
assert d["rows"] == d["rows_used"] + d["rows_rejected"] + d["duplicate_identical_ignored"]
assert d["windows"]["skipped_by_kind"]["duplicate timestamp"] == d["windows"]["skipped"] == 4
print("rows %d = used %d + rejected %d + ignored %d" % (d["rows"], d["rows_used"],
      d["rows_rejected"], d["duplicate_identical_ignored"]))
PY
check "[ $? -eq 0 ]" "results.json input counts every row's fate ($(tail -1 counts.txt))"
check "pdftotext -l 1 '$T/mixed/report.pdf' - 2> /dev/null | grep -q 'Log rows read: 5191, used: 5184, rejected: 6'" \
  "the PDF cover prints rows read, used and rejected"

# ---------------------------------------------------------------- 18: a FIFO as an input
mkfifo fifo.csv
mkconfig fifo.csv fifo.json
timeout 20 "$CLI" audit fifo.json --out "$T/fifo" --quiet 2> fifo.err
rc=$?
check "[ $rc -eq 5 ] && grep -q 'log.path) is not a regular file' fifo.err" \
  "a FIFO as log.path is refused at once (rc=$rc: $(head -c 160 fifo.err))"
sed 's/"failures.csv"/"fifo.csv"/' clean.json > fifo2.json
timeout 20 "$CLI" audit fifo2.json --out "$T/fifo2" --quiet 2> fifo2.err
rc=$?
check "[ $rc -eq 5 ] && grep -q 'failures.path) is not a regular file' fifo2.err" \
  "a FIFO as failures.path is refused at once (rc=$rc)"

# ---------------------------------------------------------------- 4: a stray quote
awk -F, -v OFS=, 'NR == 4000 {$3 = "\"" $3} NR == 5183 {$4 = "\"" $4} {print}' clean.csv > quote.csv
mkconfig quote.csv quote.json
"$CLI" audit quote.json --out "$T/quote" 2> quote.err
check "[ \"\$(nscored '$T/quote/results.json')\" -ge $((CLEAN - 4)) ]" \
  "a stray quote costs only the windows holding its row (got $(nscored "$T/quote/results.json") of $CLEAN)"
check "grep -q 'quote.csv:4000:0: unterminated quoted field' quote.err && grep -q 'quote.csv:5183:0: unterminated quoted field' quote.err" \
  "a stray quote (mid-file and at the end) is a rejected row naming its line"

# ---------------------------------------------------------------- 5, 7: sheet names
U='ÄÖÜäöüÄÖÜäöüÄÖÜäöüÄÖ' # 20 characters, 40 bytes: a 31-byte cut falls inside a character
awk -F, -v OFS=, -v u="$U" 'NR > 1 && $1 == "WT01" {$1 = "MANIFEST"} NR > 1 && $1 == "WT03" {$1 = u "x"} {print}' \
  clean.csv > sheets.csv
awk -F, -v OFS=, -v u="$U" 'NR > 1 && $1 == "WT01" {$1 = "methods"} NR > 1 && $1 == "WT03" {$1 = u "y"} {print}' \
  clean.csv | tail -n +2 | sed 's/2024-03/2024-04/' >> sheets.csv
awk -F, -v OFS=, 'NR > 1 && $1 == "WT01" {$1 = "a[b]c:d*e?f/g\\h'"'"'"} {print}' clean.csv | tail -n +2 |
  sed 's/2024-03/2024-05/' >> sheets.csv
mkconfig sheets.csv sheets.json
"$CLI" audit sheets.json --out "$T/sheets" --quiet 2> sheets.err
rc=$?
check "[ $rc -eq 0 ] && [ -s '$T/sheets/report.xlsx' ]" \
  "turbines named like fixed sheets (other case), cut mid-character, with forbidden characters: the audit succeeds (rc=$rc: $(head -c 200 sheets.err))"
if command -v unzip > /dev/null; then
  unzip -p "$T/sheets/report.xlsx" xl/workbook.xml > wb.xml 2> /dev/null
  check "iconv -f UTF-8 -t UTF-8 wb.xml > /dev/null 2>&1 && grep -q 'name=\"T MANIFEST\"' wb.xml && grep -q 'name=\"T methods\"' wb.xml && grep -q 'name=\"Manifest\"' wb.xml && grep -q 'name=\"Methods\"' wb.xml" \
    "sheet names are valid UTF-8; a turbine named like a fixed sheet gets 'T '"
  check "grep -q 'name=\"ÄÖÜäöüÄÖÜäöüÄÖÜ\"' wb.xml && grep -q 'name=\"ÄÖÜäöüÄÖÜäöüÄ (2)\"' wb.xml" \
    "names are cut at a character boundary (31 bytes) and made unique with ' (2)'"
  check "grep -q 'name=\"a_b_c_d_e_f_g_h_\"' wb.xml" "forbidden sheet-name characters become '_'"
  n=$(grep -o '<sheet name="[^"]*"' wb.xml | tr 'A-Z' 'a-z' | sort | uniq -d | wc -l)
  check "[ $n -eq 0 ]" "sheet names are unique without regard to case"
else
  skip "unzip missing: the workbook's sheet names were not read back"
fi

# ---------------------------------------------------------------- 16: CSV injection
awk -F, -v OFS=, 'NR > 1 && $1 == "WT01" {$1 = "=1+2"} NR > 1 && $1 == "WT03" {$1 = "@SUM(A1)"} {print}' \
  clean.csv > inject.csv
printf 'turbine_id,failure_time,component\n=1+2,2024-03-17T09:36:00Z,-cmd|calc\n' > failures-inject.csv
mkconfig inject.csv inject.json
sed -i 's/"failures.csv"/"failures-inject.csv"/' inject.json
"$CLI" audit inject.json --out "$T/inject" --quiet 2> inject.err
check "grep -q \"^'=1+2,\" '$T/inject/scores.csv' && grep -q \"^'@SUM(A1),\" '$T/inject/scores.csv' && grep -q \",'-cmd|calc,\" '$T/inject/scores.csv'" \
  "scores.csv cells starting with = + - @ are prefixed with a single quote"
check "! grep -q '^[=+@-]' '$T/inject/scores.csv' && ! grep -q ',[=+@-][^0-9]' '$T/inject/scores.csv'" \
  "no scores.csv cell starts a formula"
# issue 14: the tables beside scores.csv go through the same helper
check "grep -q \"^'=1+2,\" '$T/inject/episodes.csv' && grep -q \"^'=1+2,.*,'-cmd|calc,\" '$T/inject/failure_outcomes.csv' && grep -q \"^'@SUM(A1),\" '$T/inject/attributions.csv'" \
  "episodes.csv, failure_outcomes.csv and attributions.csv cells starting with = + - @ get the quote too"
check "! grep -h -q '^[=+@-]' '$T/inject/episodes.csv' '$T/inject/failure_outcomes.csv' '$T/inject/attributions.csv' && ! grep -h -q ',[=+@-][^0-9]' '$T/inject/episodes.csv' '$T/inject/failure_outcomes.csv' '$T/inject/attributions.csv'" \
  "no cell of the tables starts a formula"
# `whyflag report` reads the neutralised scores.csv back to the exact ids (from results.json)
"$CLI" report "$T/inject" --out "$T/inject-rr" > inject-rr.err 2>&1
check "[ \$? -eq 0 ] && cmp -s '$T/inject/report.pdf' '$T/inject-rr/report.pdf'" \
  "whyflag report re-renders a run with neutralised ids to the same report.pdf ($(tail -1 inject-rr.err))"

# ---------------------------------------------------------------- lesser: keygen, SOURCE_DATE_EPOCH
"$CLI" keygen --out "$T/key" > /dev/null 2>&1
cp "$T/key" key.bak
"$CLI" keygen --out "$T/key" > /dev/null 2> keygen2.err
rc=$?
check "[ $rc -ne 0 ] && cmp -s key.bak '$T/key' && grep -q 'already exists' keygen2.err" \
  "keygen refuses to overwrite an existing key (rc=$rc)"
"$CLI" keygen --out "$T/key" --force > /dev/null 2>&1
check "[ $? -eq 0 ] && ! cmp -s key.bak '$T/key'" "keygen --force replaces it"
SOURCE_DATE_EPOCH=yesterday "$CLI" audit clean.json --out "$T/sde" --quiet 2> sde.err
rc=$?
check "[ $rc -eq 2 ] && grep -q 'SOURCE_DATE_EPOCH' sde.err && [ ! -e '$T/sde/results.json' ]" \
  "an invalid SOURCE_DATE_EPOCH is an error, not ignored (rc=$rc)"

# ---------------------------------------------------------------- 15: verify a signed run
"$CLI" audit clean.json --out "$T/signed" --sign "$T/key" --quiet 2> /dev/null
"$CLI" verify "$T/signed/manifest.json" > verify1.out 2>&1
rc=$?
check "[ $rc -eq 6 ] && grep -q 'signature would go unchecked' verify1.out" \
  "verify of a signed run without --pubkey is refused (rc=$rc)"
"$CLI" verify "$T/signed/manifest.json" --no-signature > verify2.out 2>&1
rc=$?
check "[ $rc -eq 0 ] && grep -q 'SIGNATURE WAS NOT CHECKED' verify2.out" \
  "--no-signature checks the hashes and says the signature was not checked"
"$CLI" verify "$T/signed/manifest.json" --pubkey "$T/key.pub" > verify3.out 2>&1
check "[ $? -eq 0 ]" "with --pubkey the signed run verifies"
rm "$T/signed/manifest.json.sig"
"$CLI" verify "$T/signed/manifest.json" > verify4.out 2>&1
check "[ $? -eq 6 ]" "a signed manifest whose .sig was removed is still refused without --pubkey"

# ---------------------------------------------------------------- 12, 13: publishing
mkdir -p "$T/pub/.whyflag-staging-dead"
echo partial > "$T/pub/.whyflag-staging-dead/report.pdf"
"$CLI" audit clean.json --out "$T/pub" --quiet 2> pub.err
check "[ -s '$T/pub/results.json' ] && [ ! -e '$T/pub/.whyflag-staging-dead' ] && [ -z \"\$(ls -A '$T/pub' | grep -v -E '^(report.pdf|report.xlsx|results.json|scores.csv|episodes.csv|failure_outcomes.csv|attributions.csv|manifest.json)$')\" ]" \
  "a stale .whyflag-staging-* folder is removed by the next run, no lock file left behind"
if command -v flock > /dev/null; then
  cp "$T/pub/results.json" pub-results.json
  flock "$T/pub" -c "'$CLI' audit clean.json --out '$T/pub' --quiet" 2> publock.err
  rc=$?
  check "[ $rc -eq 5 ] && grep -q 'another whyflag run is writing its outputs into this folder' publock.err && cmp -s pub-results.json '$T/pub/results.json'" \
    "a second run on a locked --out fails at once, the first run's outputs untouched (rc=$rc)"
else
  skip "flock(1) missing: the output-folder lock was not exercised"
fi

# ---------------------------------------------------------------- 14: the failure log read once
for k in 0 1; do "$CLI" audit clean.json --shard "$k/2" --out "$T/fl-s$k" --quiet 2> /dev/null; done
cp failures.csv failures.bak
echo "WT01,2024-03-05T00:00:00Z,pitch" >> failures.csv
"$CLI" merge "$T/fl-s0" "$T/fl-s1" --out "$T/fl-m" --quiet 2> flm.err
rc=$?
check "[ $rc -eq 6 ] && grep -q 'failures.csv (failures.path) changed during the run' flm.err && [ ! -e '$T/fl-m/results.json' ]" \
  "a failure log that changed after it was hashed is refused, nothing written (rc=$rc)"
cp failures.bak failures.csv

# ---------------------------------------------------------------- 10: explain work limits
sed 's/"steps": 4/"steps": 1000000000/' clean.json > steps.json
"$CLI" audit steps.json --out "$T/steps" --quiet 2> steps.err
rc=$?
check "[ $rc -eq 2 ] && grep -q 'explain.steps: 1000000000 is above the limit 100000' steps.err" \
  "explain.steps 1e9 is refused naming the key and the limit (rc=$rc)"
sed 's/"method": "ig", "steps": 4/"method": "kernelshap", "groups": "cell", "nsamples": 1e12/' clean.json > ns.json
"$CLI" audit ns.json --out "$T/ns" --quiet 2> ns.err
rc=$?
check "[ $rc -eq 2 ] && grep -q 'explain.nsamples: 1000000000000 is above the limit 1000000' ns.err" \
  "explain.nsamples 1e12 with cell players is refused naming the key and the limit (rc=$rc: $(head -c 200 ns.err))"

echo "$passes passed, $fails failed, $skips skipped"
[ $fails -eq 0 ] || exit 1
[ $skips -eq 0 ] || exit 77
exit 0
