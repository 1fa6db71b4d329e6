#!/usr/bin/env bash
# Issue 19, per-turbine justification PDFs end to end: `whyflag audit --per-turbine` on the
# samples writes turbines/<id>.pdf for every flagged turbine (counted against results.json), each
# naming its turbine, the model's SHA-256 and the run id on page 1 (pdftotext); the manifest
# lists them and `whyflag verify` passes; the workbook's Summary links each flagged turbine to its
# PDF; a later run without --per-turbine removes the folder its manifest no longer lists.
# Args: CLI SOURCE_DIR BUILD_DIR.
set -u
CLI=$1
SRC=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/wfturb.XXXXXX")
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
rc=$?
check "[ $rc -eq 0 ]" "audit --per-turbine exits 0 (rc=$rc: $(tail -3 "$T/err"))"
python3 - "$T/out/results.json" > "$T/expect.txt" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(r["model"]["sha256"], r["run_id"])
for t in r["turbines"]:
    if t["flagged"] > 0:
        print(t["turbine_id"])
PY
read -r SHA RUN < <(head -1 "$T/expect.txt")
tail -n +2 "$T/expect.txt" > "$T/flagged.txt"
nflag=$(wc -l < "$T/flagged.txt")
npdf=$(ls "$T/out/turbines" | grep -c '\.pdf$')
check "[ $nflag -gt 0 ] && [ $npdf -eq $nflag ]" "one PDF per flagged turbine ($npdf PDFs, $nflag flagged)"
if command -v pdftotext > /dev/null; then
  while read -r id; do
    f="$T/out/turbines/$id.pdf"
    if [ ! -s "$f" ]; then
      bad "turbines/$id.pdf exists"
      continue
    fi
    pdftotext -l 1 "$f" "$T/p1.txt"
    check "grep -q 'Alarm justification: $id' '$T/p1.txt' && grep -q '$SHA' '$T/p1.txt' && grep -q '$RUN' '$T/p1.txt'" \
      "page 1 of turbines/$id.pdf names $id, the model hash and run $RUN"
    pdftotext "$f" "$T/all.txt"
    check "grep -q 'whyflag verify manifest.json' '$T/all.txt' && grep -q 'Episode [0-9]*: $id' '$T/all.txt'" \
      "turbines/$id.pdf has its episode pages and the closing verify block"
    others=$(grep -v -x "$id" "$T/flagged.txt" | while read -r o; do grep -c "Episode [0-9]*: $o," "$T/all.txt"; done | paste -sd+ | bc)
    check "[ \"${others:-0}\" -eq 0 ]" "turbines/$id.pdf holds no other turbine's episode"
  done < "$T/flagged.txt"
else
  skip "pdftotext missing: the PDF text checks did not run"
fi
check "[ \$(grep -c '\"turbines/' '$T/out/manifest.json') -eq $nflag ]" "the manifest lists every turbine PDF"
"$CLI" verify "$T/out/manifest.json" > "$T/verify.txt" 2>&1
check "[ \$? -eq 0 ]" "whyflag verify passes with turbines/ ($(tail -2 "$T/verify.txt"))"
echo tampered >> "$T/out/turbines/$(head -1 "$T/flagged.txt").pdf"
"$CLI" verify "$T/out/manifest.json" > "$T/verify2.txt" 2>&1
rc=$?
check "[ $rc -eq 6 ] && grep -q 'turbines/.*CHANGED' '$T/verify2.txt'" "a changed turbine PDF fails verify (rc=$rc)"
if command -v unzip > /dev/null; then
  unzip -p "$T/out/report.xlsx" xl/worksheets/_rels/sheet1.xml.rels > "$T/rels.xml"
  first=$(head -1 "$T/flagged.txt")
  # libxlsxwriter writes external links with Windows separators (turbines\X.pdf); Excel and
  # LibreOffice resolve them relative to the workbook
  check "grep -q -E 'Target=\"turbines[\\\\/]$first.pdf\" TargetMode=\"External\"' '$T/rels.xml'" \
    "the Summary sheet links $first to turbines/$first.pdf"
  nlinks=$(grep -o -E 'Target="turbines[\\/][^"]*"' "$T/rels.xml" | wc -l)
  check "[ $nlinks -eq $nflag ]" "one link per flagged turbine ($nlinks)"
else
  skip "unzip missing: the workbook link checks did not run"
fi
# A run without per-turbine PDFs into the same folder leaves no stale turbines/.
"$CLI" audit "$T/samples/config.json" --out "$T/out" --quiet 2> "$T/err2"
check "[ $? -eq 0 ] && [ ! -e '$T/out/turbines' ]" "a later run without --per-turbine removes turbines/"
check "[ -z \"\$(ls -A '$T/out' | grep -v -E '^(report.pdf|report.xlsx|results.json|scores.csv|episodes.csv|failure_outcomes.csv|attributions.csv|manifest.json)$')\" ]" \
  "no stray files or staging folders left"
# report.per_turbine in the config does the same as --per-turbine
python3 - "$T/samples/config.json" "$T/samples/config_pt.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["report"]["per_turbine"] = True
json.dump(c, open(sys.argv[2], "w"))
PY
"$CLI" audit "$T/samples/config_pt.json" --out "$T/out3" --quiet 2> "$T/err3"
n3=$(ls "$T/out3/turbines" 2> /dev/null | grep -c '\.pdf$')
check "[ $n3 -eq $nflag ]" "report.per_turbine: true writes the same $nflag PDFs ($n3)"

echo "$passes passed, $fails failed, $skips skipped"
[ $fails -eq 0 ] || exit 1
[ $skips -eq 0 ] || exit 77
