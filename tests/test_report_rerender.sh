#!/usr/bin/env bash
# Issue 19, `whyflag report DIR`: an audit's reports rendered again from results.json (+ the log
# for the signals) without the model. On the samples: report.pdf, report.xlsx and every
# turbines/<id>.pdf come out byte for byte as the audit wrote them (cmp); --turbine writes only
# that PDF; without the log it still renders and the pages say the signals are missing; a
# tampered results.json is refused (exit 6) unless --force, which marks every page UNVERIFIED;
# an older results.json (no results_version) and a drift run get a clear error.
# Args: CLI SOURCE_DIR BUILD_DIR.
set -u
CLI=$1
SRC=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/wfrerender.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
passes=0
skips=0
ok() { passes=$((passes + 1)); echo "ok: $*"; }
skip() { skips=$((skips + 1)); echo "SKIP: $*"; }
bad() { fails=$((fails + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok "$2"; else bad "$2"; fi; }
export SOURCE_DATE_EPOCH=1735689600

cp -r "$SRC/samples" "$T/samples"
chmod -R u+w "$T/samples"
"$CLI" audit "$T/samples/config.json" --out "$T/out" --per-turbine --quiet 2> "$T/err"
check "[ $? -eq 0 ]" "the sample audit (--per-turbine) runs"
unset SOURCE_DATE_EPOCH
# the plain sample audit (no per-turbine PDFs), re-rendered in place: the same bytes
"$CLI" audit "$T/samples/config.json" --out "$T/plain" --quiet 2> "$T/plain.err"
check "[ $? -eq 0 ]" "the plain sample audit runs"
cp "$T/plain/report.pdf" "$T/plain.pdf"
cp "$T/plain/report.xlsx" "$T/plain.xlsx"
unset SOURCE_DATE_EPOCH # the re-render takes its time from results.json
"$CLI" report "$T/plain" --quiet 2> "$T/plain_r.err"
check "[ $? -eq 0 ] && cmp -s '$T/plain.pdf' '$T/plain/report.pdf' && cmp -s '$T/plain.xlsx' '$T/plain/report.xlsx' && [ ! -e '$T/plain/turbines' ]" \
  "whyflag report DIR after the plain audit: report.pdf and report.xlsx byte for byte, no turbines/"
export SOURCE_DATE_EPOCH=1735689600
"$CLI" report "$T/out" --out "$T/r1" 2> "$T/r1.err"
rc=$?
check "[ $rc -eq 0 ] && ! grep -q warning '$T/r1.err'" "whyflag report exits 0 without warnings (rc=$rc: $(tail -2 "$T/r1.err"))"
check "cmp -s '$T/out/report.pdf' '$T/r1/report.pdf'" "report.pdf re-rendered byte for byte"
check "cmp -s '$T/out/report.xlsx' '$T/r1/report.xlsx'" "report.xlsx re-rendered byte for byte"
n=0
same=0
for f in "$T"/out/turbines/*.pdf; do
  n=$((n + 1))
  cmp -s "$f" "$T/r1/turbines/$(basename "$f")" && same=$((same + 1))
done
check "[ $n -gt 0 ] && [ $same -eq $n ]" "every turbine PDF re-rendered byte for byte ($same of $n)"
# in place: the bytes do not change, so the manifest still verifies
"$CLI" report "$T/out" --quiet 2> /dev/null
"$CLI" verify "$T/out/manifest.json" > /dev/null 2>&1
check "[ \$? -eq 0 ]" "re-rendering in place keeps the manifest valid"

# --turbine: that PDF only
"$CLI" report "$T/out" --out "$T/r2" --turbine WT03 --quiet 2> "$T/r2.err"
check "[ \$? -eq 0 ] && [ \"\$(cd '$T/r2' && find . -type f | sort | tr '\n' ' ')\" = './turbines/WT03.pdf ' ]" \
  "--turbine WT03 writes only turbines/WT03.pdf"
check "cmp -s '$T/out/turbines/WT03.pdf' '$T/r2/turbines/WT03.pdf'" "... byte for byte"
"$CLI" report "$T/out" --out "$T/r2" --turbine WT04 --quiet 2> "$T/r2b.err"
check "[ \$? -ne 0 ] && grep -q \"turbine 'WT04' has no flagged window\" '$T/r2b.err'" "--turbine of an unflagged turbine is an error naming it"

# without the log: rendered, the pages say the signals were not available
mv "$T/samples/sensor_log.csv" "$T/log.away"
"$CLI" report "$T/out" --out "$T/r3" 2> "$T/r3.err"
rc=$?
mv "$T/log.away" "$T/samples/sensor_log.csv"
check "[ $rc -eq 0 ] && grep -q 'warning: .*sensor_log.csv (log) is not readable' '$T/r3.err'" "without the log: exit 0 and a warning (rc=$rc)"
if command -v pdftotext > /dev/null; then
  pdftotext "$T/r3/report.pdf" "$T/r3.txt"
  check "grep -q 'signals of this window were not available' '$T/r3.txt'" "report.pdf says the signals were not available"
  pdftotext -l 1 "$T/r3/turbines/WT01.pdf" "$T/r3t.txt"
  check "grep -q 'The signals were not available' '$T/r3t.txt'" "the turbine PDF's first page says so too"
else
  skip "pdftotext missing"
fi

# tampered results.json: refused (exit 6), nothing written; --force marks every page
mkdir -p "$T/tamper"
cp "$T/out/manifest.json" "$T/out/scores.csv" "$T/tamper/" # results.json names scores.csv (issue 14)
sed 's/"horizon_hours": 72/"horizon_hours": 48/' "$T/out/results.json" > "$T/tamper/results.json"
"$CLI" report "$T/tamper" --out "$T/r4" 2> "$T/r4.err"
rc=$?
check "[ $rc -eq 6 ] && grep -q 'does not match' '$T/r4.err' && [ ! -e '$T/r4/report.pdf' ]" "a tampered results.json is refused with exit 6 (rc=$rc)"
"$CLI" report "$T/tamper" --out "$T/r4" --force 2> "$T/r4f.err"
rc=$?
check "[ $rc -eq 0 ] && grep -q UNVERIFIED '$T/r4f.err'" "--force renders it, with a warning (rc=$rc)"
if command -v pdftotext > /dev/null && command -v pdfinfo > /dev/null; then
  pages=$(pdfinfo "$T/r4/report.pdf" | awk '/^Pages:/ {print $2}')
  marked=0
  for ((i = 1; i <= pages; i++)); do
    pdftotext -f $i -l $i "$T/r4/report.pdf" - | grep -q 'UNVERIFIED' && marked=$((marked + 1))
  done
  check "[ $pages -gt 1 ] && [ $marked -eq $pages ]" "every page of the forced report says UNVERIFIED ($marked of $pages)"
  check "! pdftotext '$T/r1/report.pdf' - | grep -q UNVERIFIED" "a verified re-render is not marked"
else
  skip "pdftotext/pdfinfo missing"
fi

# the German example template: German words, decimal commas, 24-hour times in its zone (MEZ)
"$CLI" report "$T/out" --out "$T/de" --template "$SRC/templates/report_de.txt" 2> "$T/de.err"
rc=$?
check "[ $rc -eq 0 ] && ! grep -q warning '$T/de.err'" "the German template renders without warnings (rc=$rc)"
if command -v pdftotext > /dev/null; then
  pdftotext "$T/de/report.pdf" "$T/de.txt"
  check "grep -q 'Prüfung der Turbinenalarme' '$T/de.txt' && grep -q 'Markierte Turbinen auf einen Blick' '$T/de.txt' && grep -q 'Entscheidung: Score' '$T/de.txt'" \
    "report.pdf in German words"
  check "grep -q '(Schwelle 0,500)' '$T/de.txt' && grep -q -E 'Score [01],[0-9]{3} ≥ Schwelle 0,500' '$T/de.txt'" \
    "scores with a decimal comma"
  check "grep -q -E 'Zeitraum: 01\.03\.2024 01:00 MEZ bis [0-9]{2}\.[0-9]{2}\.2024 [0-2][0-9]:[0-5][0-9] MEZ' '$T/de.txt'" \
    "dates day.month.year, 24-hour times in the template's zone (+01:00, MEZ)"
  check "! grep -q -E 'Schwelle 0\.5|Score 0\.[0-9]{3} ' '$T/de.txt'" "no decimal point left in the scores"
  check "grep -q 'Software und Plattform' '$T/de.txt' && grep -q -E '[0-9]+\.[0-9]+\.[0-9]+' '$T/de.txt'" \
    "version numbers (1.2.3) are left as they are"
  pdftotext -l 1 "$T/de/turbines/WT01.pdf" "$T/de1.txt"
  check "grep -q 'Alarmbegründung: WT01' '$T/de1.txt' && grep -q 'Entscheidung' '$T/de1.txt' && grep -q 'Schwelle 0,500' '$T/de1.txt'" \
    "the turbine PDF in German"
else
  skip "pdftotext missing"
fi
# a template lacking words: English for them, and a warning
grep -v -E '^(t_period|r_glance) =' "$SRC/templates/report_de.txt" > "$T/de_missing.txt"
"$CLI" report "$T/out" --out "$T/de2" --template "$T/de_missing.txt" 2> "$T/de2.err"
rc=$?
check "[ $rc -eq 0 ] && grep -q \"warning: the template's \[words\] section lacks 2 of the report's words (t_period, r_glance\" '$T/de2.err'" \
  "a template lacking two words renders with a warning naming them (rc=$rc)"
if command -v pdftotext > /dev/null; then
  check "pdftotext -l 1 '$T/de2/report.pdf' - | grep -q 'Flagged turbines at a glance'" "... and prints them in English"
fi

# an older results.json (no results_version) and a drift run: clear errors
python3 - "$T/out/results.json" "$T/old/results.json" "$T/drift/results.json" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
for p in sys.argv[2:]:
    os.makedirs(os.path.dirname(p), exist_ok=True)
old = dict(r); del old["results_version"]
json.dump(old, open(sys.argv[2], "w"))
dr = dict(r); dr["drift"] = {}
json.dump(dr, open(sys.argv[3], "w"))
PY
cp "$T/out/manifest.json" "$T/old/"
cp "$T/out/manifest.json" "$T/drift/"
"$CLI" report "$T/old" --out "$T/r5" --force 2> "$T/r5.err"
check "[ \$? -ne 0 ] && grep -q 'older whyflag (no \"results_version\")' '$T/r5.err'" "an older results.json: a clear error"
"$CLI" report "$T/drift" --out "$T/r6" --force 2> "$T/r6.err"
check "[ \$? -ne 0 ] && grep -q 'drift chapter' '$T/r6.err'" "a drift run: a clear refusal"

echo "$passes passed, $fails failed, $skips skipped"
[ $fails -eq 0 ] || exit 1
[ $skips -eq 0 ] || exit 77
