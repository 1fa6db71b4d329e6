#!/usr/bin/env bash
# Issue 14, "time context", on the sample fleet with a one-day gap cut out of WT01's log:
# - report.pdf has the "Score timelines" chapter with one timeline per flagged turbine and the
#   "Attributions across alarm windows" chapter, whose window counts, channel order, medians and
#   quartiles are what an independent computation from results.json's windows and episodes
#   gives (tests/check_attr_dist.py: Python's statistics module, not whyflag's code), as is
#   results.json's own attribution_distribution; the same with KernelSHAP off and no failure log
#   (one group, "Integrated Gradients channel sums" named);
# - report.xlsx has, on every flagged turbine's sheet, a native scatter chart whose Score series
#   reads that sheet's cells, which hold exactly the turbine's scores of scores.csv, with a
#   blank row (a break in the line) at WT01's gap, plus Threshold, Flagged window, Failure and
#   episode series; the contribution bar chart keeps its channel names at the low end of the
#   axis (not over negative bars); the Methods sheet's paragraphs wrap, with row heights.
# Args: CLI SOURCE_DIR BUILD_DIR.
set -u
CLI=$(realpath "$1")
SRC=$(realpath "$2")
T=$(mktemp -d "${TMPDIR:-/tmp}/wftime.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
passes=0
ok() { passes=$((passes + 1)); echo "ok: $*"; }
bad() { fails=$((fails + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok "$2"; else bad "$2"; fi; }
for tool in python3 pdftotext unzip; do
  command -v $tool > /dev/null || { echo "SKIP: $tool missing"; exit 77; }
done
export SOURCE_DATE_EPOCH=1735689600
cp -r "$SRC/samples" "$T/s"
chmod -R u+w "$T/s"
cd "$T/s" || exit 1
# a one-day gap in WT01's log (2024-03-05), far from its alarm (2024-03-14)
grep -v '^WT01,2024-03-05T' sensor_log.csv > gap.csv
python3 - << 'PY'
import json
c = json.load(open("config.json"))
c["log"]["path"] = "gap.csv"
json.dump(c, open("time.json", "w"), indent=1)
# IG only (KernelSHAP off) and no failure log: one group, the IG channel sums
c = json.load(open("config.json"))
c.pop("failures", None)
c["explain"] = {"method": "ig", "steps": 16, "baseline": "zeros"}
json.dump(c, open("ig.json", "w"), indent=1)
PY
"$CLI" audit time.json --out "$T/out" --quiet 2> "$T/err.txt"
check "[ -s '$T/out/report.pdf' ] && [ -s '$T/out/report.xlsx' ]" "the audit ran ($(tail -1 "$T/err.txt"))"
pdftotext -layout "$T/out/report.pdf" "$T/report.txt" 2> "$T/pdftotext.err"
check "grep -qP '^\\f?\\s*Score timelines\\s*$' '$T/report.txt'" "PDF: the Score timelines chapter"
check "grep -qP '^\\f?\\s*Attributions across alarm windows\\s*$' '$T/report.txt'" \
  "PDF: the Attributions across alarm windows chapter"
# one timeline per flagged turbine, with its title line
python3 - "$T/out/results.json" "$T/report.txt" > "$T/tl.txt" 2>&1 << 'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
flagged = [t["turbine_id"] for t in r["turbines"] if t["flagged"] > 0]
chap = re.split(r"^\s*Alarm episodes\s*$", text.split("Score timelines", 1)[1], 1, re.M)[0]
titles = re.findall(r"^\s*(\S+)\s+·\s+max score \d", chap, re.M)
assert titles == flagged, (titles, flagged)
print("%d timelines, one per flagged turbine: %s" % (len(titles), " ".join(titles)))
PY
check "[ $? -eq 0 ]" "PDF: $(tail -1 "$T/tl.txt")"
python3 "$SRC/tests/check_attr_dist.py" "$T/out/results.json" "$T/report.txt" > "$T/dist.txt" 2>&1
check "[ $? -eq 0 ]" "attribution distribution = independent computation: $(tail -1 "$T/dist.txt")"
"$CLI" audit ig.json --out "$T/ig" --quiet 2> "$T/ig_err.txt"
pdftotext -layout "$T/ig/report.pdf" "$T/ig_report.txt" 2> /dev/null
python3 "$SRC/tests/check_attr_dist.py" "$T/ig/results.json" "$T/ig_report.txt" > "$T/ig_dist.txt" 2>&1
check "[ $? -eq 0 ]" "IG only, no failure log: $(tail -1 "$T/ig_dist.txt")"
python3 - "$T/out/report.xlsx" "$T/out/results.json" "$T/out/scores.csv" > "$T/xlsx.txt" 2>&1 << 'PY'
import csv, json, re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
r = json.load(open(sys.argv[2]))
names = z.namelist()
wb = z.read("xl/workbook.xml").decode()
rels = z.read("xl/_rels/workbook.xml.rels").decode()
rid = dict(re.findall(r'<Relationship Id="(rId\d+)" Type="[^"]+/worksheet" Target="([^"]+)"', rels))
sheets = {n: "xl/" + rid[i] for n, i in re.findall(r'<sheet name="([^"]+)" sheetId="\d+" r:id="(rId\d+)"', wb)}
charts = {n: z.read(n).decode() for n in names if re.match(r"xl/charts/chart\d+\.xml$", n)}

def cells(sheet_xml, col, r0, r1):
    out = {}
    for ref, body in re.findall(r'<c r="([A-Z]+\d+)"[^>]*?(?:/>|>(.*?)</c>)', sheet_xml):
        m = re.match(r"([A-Z]+)(\d+)$", ref)
        if m.group(1) == col and r0 <= int(m.group(2)) <= r1:
            v = re.search(r"<v>([^<]*)</v>", body or "")
            out[int(m.group(2))] = float(v.group(1)) if v else None
    return [out.get(k) for k in range(r0, r1 + 1)]

flagged = [t["turbine_id"] for t in r["turbines"] if t["flagged"] > 0]
scores = {}  # scores are in scores.csv (results.json names it), in window order
assert r["scores_file"] == "scores.csv"
for s in csv.DictReader(open(sys.argv[3], newline="")):
    scores.setdefault(s["turbine_id"], []).append(float(s["score"]))
n_series = 0
for tid in flagged:  # sheet names are the ids in the sample
    tl = [c for c in charts.values() if "<c:scatterChart>" in c and "<c:f>%s!$B$" % tid in c]
    assert len(tl) == 1, (tid, len(tl))
    c = tl[0]
    series = re.findall(r"<c:tx><c:v>([^<]+)</c:v></c:tx>", c)
    for need in ("Score", "Flagged window", "Threshold"):
        assert need in series, (tid, series)
    n_series += len(series)
    m = re.search(r"<c:yVal><c:numRef><c:f>%s!\$B\$(\d+):\$B\$(\d+)</c:f>" % tid, c)
    xs = re.search(r"<c:xVal><c:numRef><c:f>%s!\$A\$(\d+):\$A\$(\d+)</c:f>" % tid, c)
    assert m and xs and m.groups() == xs.groups(), tid
    sx = z.read(sheets[tid]).decode()
    got = cells(sx, "B", int(m.group(1)), int(m.group(2)))
    want = scores[tid]
    vals = [v for v in got if v is not None]
    assert len(vals) == len(want), (tid, len(vals), len(want))
    err = max(abs(a - b) for a, b in zip(vals, want))
    assert err <= 1e-12, (tid, err)
    blanks = sum(v is None for v in got)
    if tid == "WT01":  # the one-day gap: exactly one blank row, between windows a day apart
        assert blanks == 1, blanks
        t = cells(sx, "A", int(m.group(1)), int(m.group(2)))
        k = got.index(None)
        assert t[k] is None and (t[k + 1] - t[k - 1]) * 24 > 18, (t[k - 1], t[k + 1])
        assert "Failure" in series and "True or repeat alarm episode" in series, series
    else:
        assert blanks == 0, (tid, blanks)
bars = [c for c in charts.values() if "<c:barChart>" in c]
assert bars and all('<c:tickLblPos val="low"/>' in c for c in bars), "bar chart labels"
ms = z.read(sheets["Methods"]).decode()
row2 = re.search(r'<row r="2"[^>]*>', ms).group(0)
ht = float(re.search(r'ht="([\d.]+)"', row2).group(1))
assert 'customHeight="1"' in row2 and ht > 30, row2
style = int(re.search(r'<c r="B2" s="(\d+)"', ms).group(1))
xfs = re.search(r"<cellXfs[^>]*>(.*)</cellXfs>", z.read("xl/styles.xml").decode()).group(1)
xf = re.findall(r"<xf [^>]*?(?:/>|>.*?</xf>)", xfs)[style]
assert 'wrapText="1"' in xf, xf
print("%d turbine timelines (%d series), scores match results.json, WT01's gap is a blank row; "
      "bar labels low; Methods row 2 wrapped, %.0f pt" % (len(flagged), n_series, ht))
PY
check "[ $? -eq 0 ]" "XLSX: $(tail -1 "$T/xlsx.txt")"
if [ $fails -ne 0 ]; then
  for f in "$T"/*.txt; do echo "--- $f"; tail -5 "$f"; done
fi
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
