#!/usr/bin/env python3
"""Issue 14: the workbook's score-timeline charts read the same cells whether libxlsxwriter wrote
the workbook in memory or in constant-memory (streaming) mode. For every scatter chart of a
turbine sheet, every series range (x and y) must hold the same numbers in both workbooks, none
empty; each Failure / episode series holds two points per failure / episode.
Usage: check_xlsx_timeline.py normal.xlsx streamed.xlsx"""
import re
import sys
import zipfile


def load(path):
    z = zipfile.ZipFile(path)
    wb = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = dict(re.findall(r'<Relationship Id="(rId\d+)" Type="[^"]+/worksheet" Target="([^"]+)"',
                          rels))
    sheets = {n: "xl/" + rid[i] for n, i in
              re.findall(r'<sheet name="([^"]+)" sheetId="\d+" r:id="(rId\d+)"', wb)}
    charts = [z.read(n).decode() for n in z.namelist()
              if re.match(r"xl/charts/chart\d+\.xml$", n)]
    return z, sheets, [c for c in charts if "<c:scatterChart>" in c]


def cells(z, sheets, ref):
    m = re.match(r"'?(.+?)'?!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)$", ref)
    sheet, col, r0, r1 = m.group(1), m.group(2), int(m.group(3)), int(m.group(5))
    xml = z.read(sheets[sheet]).decode()
    out = {}
    for cref, body in re.findall(r'<c r="([A-Z]+\d+)"[^>]*?(?:/>|>(.*?)</c>)', xml):
        mm = re.match(r"([A-Z]+)(\d+)$", cref)
        if mm.group(1) == col and r0 <= int(mm.group(2)) <= r1:
            v = re.search(r"<v>([^<]*)</v>", body or "")
            out[int(mm.group(2))] = float(v.group(1)) if v else None
    return [out.get(k) for k in range(r0, r1 + 1)]


a, b = load(sys.argv[1]), load(sys.argv[2])
assert len(a[2]) == len(b[2]) and a[2], (len(a[2]), len(b[2]))
n_ranges = n_points = 0
for ca, cb in zip(a[2], b[2]):
    sa = re.findall(r"<c:ser>.*?</c:ser>", ca, re.S)
    sb = re.findall(r"<c:ser>.*?</c:ser>", cb, re.S)
    assert len(sa) == len(sb)
    for xa, xb in zip(sa, sb):
        name = re.search(r"<c:v>([^<]+)</c:v>", xa).group(1)
        for ra, rb in zip(re.findall(r"<c:f>([^<]+)</c:f>", xa), re.findall(r"<c:f>([^<]+)</c:f>", xb)):
            assert ra == rb, (ra, rb)
            va, vb = cells(a[0], a[1], ra), cells(b[0], b[1], rb)
            assert va == vb, (name, ra)
            pts = [v for v in va if v is not None]
            assert pts, (name, ra, "empty")
            if name == "Failure" or "episode" in name:
                assert len(pts) == 2 * ((len(va) + 1) // 3), (name, ra, va)
            n_ranges += 1
            n_points += len(pts)
print("%d timeline charts, %d ranges, %d cells: the same in both modes" %
      (len(a[2]), n_ranges, n_points))
