#!/usr/bin/env python3
"""Issue 14: recompute the distribution of the channel attributions over the explained alarm
windows from results.json's windows and episodes alone, with Python's statistics module (not
whyflag's code), and compare it with results.json's attribution_distribution (to 1e-12) and with
the numbers the PDF's "Attributions across alarm windows" page prints (to their 3 decimals).

Rule (written in src/report/attr_dist.c): a window belongs to the episode of its turbine whose
first_start <= window start and window end <= last_end (and it is flagged); true and repeat
alarms form the "true" group, false alarms the "false" group, episodes without a failure log
the "no log" group. The attribution is the KernelSHAP value when its players are the channels,
else the IG channel sum. Quartiles: statistics.quantiles(method="inclusive") = linear between
order statistics. Channels by mean |attribution| over all these windows, largest first.

Usage: check_attr_dist.py results.json report.txt (pdftotext -layout)."""
import json
import re
import statistics
import sys

r = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
ch = r["channels"]
C = len(ch)
thr = r["threshold"]
GROUP = {"true alarm": "true_alarms", "repeat alarm": "true_alarms", "false alarm": "false_alarms"}


def attribution(w):
    k = w.get("kernelshap")
    if isinstance(k, dict) and k.get("players") == ch and k.get("values"):
        return [float(v) for v in k["values"]]
    g = w.get("ig")
    if isinstance(g, dict) and g.get("channel_sums") and len(g["channel_sums"]) == C:
        return [float(v) for v in g["channel_sums"]]
    return None


vals = {}  # group -> list of attribution vectors
eps = {}  # group -> set of episode numbers
outside = 0
for w in r["windows"]:
    a = attribution(w)
    if a is None:
        continue
    e = [e for e in r["episodes"] if e["turbine_id"] == w["turbine_id"]
         and e["first_start"] <= w["start"] and w["end"] <= e["last_end"] and w["score"] >= thr]
    if not e:
        outside += 1
        continue
    assert len(e) == 1, (w["turbine_id"], w["start"])
    g = GROUP.get(e[0]["outcome"], "no_failure_log")
    vals.setdefault(g, []).append(a)
    eps.setdefault(g, set()).add(e[0]["episode"])

allv = [a for g in vals for a in vals[g]]
mean_abs = [sum(abs(a[c]) for a in allv) / len(allv) for c in range(C)]
order = sorted(range(C), key=lambda c: (-mean_abs[c], c))
stats = {}
for g, vs in vals.items():
    for c in range(C):
        x = sorted(a[c] for a in vs)
        q = statistics.quantiles(x, n=4, method="inclusive") if len(x) > 1 else [x[0]] * 3
        stats[g, c] = {"median": statistics.median(x), "q1": q[0], "q3": q[2], "min": x[0],
                       "max": x[-1], "mean": statistics.fmean(x)}

# results.json's own object
d = r["attribution_distribution"]
for g in ("true_alarms", "false_alarms", "no_failure_log"):
    assert d["windows"][g] == len(vals.get(g, [])), (g, d["windows"][g], len(vals.get(g, [])))
    assert d["episodes"][g] == len(eps.get(g, ())), (g, d["episodes"][g])
assert d["windows_outside_episodes"] == outside, (d["windows_outside_episodes"], outside)
assert [x["channel"] for x in d["channels"]] == [ch[c] for c in order]
worst = 0.0
for x, c in zip(d["channels"], order):
    worst = max(worst, abs(x["mean_abs"] - mean_abs[c]))
    for g in vals:
        for k, v in stats[g, c].items():
            worst = max(worst, abs(x[g][k] - v))
assert worst <= 1e-12, worst

# the PDF page
page = text.split("Attributions across alarm windows", 1)[1]
para = " ".join(page.split())
kind = ("KernelSHAP channel values" if any(
    isinstance(w.get("kernelshap"), dict) and w["kernelshap"].get("players") == ch
    for w in r["windows"]) else "Integrated Gradients channel sums (KernelSHAP per channel is off)")
assert "Attribution: %s," % kind in para, (kind, para[:400])
groups = [g for g in ("true_alarms", "false_alarms", "no_failure_log") if vals.get(g)]
nt, et = len(vals.get("true_alarms", [])), len(eps.get("true_alarms", ()))
nf, ef = len(vals.get("false_alarms", [])), len(eps.get("false_alarms", ()))
nu, eu = len(vals.get("no_failure_log", [])), len(eps.get("no_failure_log", ()))
if nt + nf:
    assert "Windows: %d from true alarms (%d episodes;" % (nt, et) in para, para[:600]
    assert "and %d from false alarms (%d episodes)" % (nf, ef) in para, para[:600]
if nu:
    assert "%d from alarms without a failure log (%d episodes)" % (nu, eu) in para, para[:600]
shown = groups[:2]
num = r"([+-]?\d+\.\d+)"
cols = 1 + 3 * len(shown)
pat = r"^\s*(\S+)\s+%s" % num + "".join(r"\s+%s\s+%s to %s" % (num, num, num) for _ in shown)
rows = re.compile(pat + r"\s*$", re.M).findall(page)[:C]
assert [x[0] for x in rows] == [ch[c] for c in order], [x[0] for x in rows]
pdf_worst = 0.0
for x, c in zip(rows, order):
    want = [mean_abs[c]]
    for g in shown:
        st = stats[g, c]
        want += [st["median"], st["q1"], st["q3"]]
    assert len(x) == 1 + cols, x
    for s_, v in zip(x[1:], want):
        pdf_worst = max(pdf_worst, abs(float(s_) - v))
assert pdf_worst <= 0.0005 + 1e-9, pdf_worst
print("%s; %d true-alarm windows (%d episodes), %d false-alarm (%d), %d without a failure log "
      "(%d), %d outside; results.json max diff %.1e, PDF table max diff %.1e (3 decimals)"
      % (kind.split(" (")[0], nt, et, nf, ef, nu, eu, outside, worst, pdf_worst))
