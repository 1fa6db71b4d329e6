#!/usr/bin/env python3
"""Check a whyflag results.json against the why rule's promises (issue 13):
  - no window names a driver as the main reason ("claim": "main") while Integrated Gradients
    gives that driver the opposite sign, or while the methods disagree;
  - every window whose methods disagree has the claim "disagree";
  - the count on the fleet summary equals the windows marked disagree;
  - the shares are the KernelSHAP values over f(x) - base value.
Usage: check_why.py results.json [report.pdf]  (with the PDF: its text has no "mainly because
of X" for a window whose claim is not "main"). Exit 1 on a violation."""
import json, math, subprocess, sys

d = json.load(open(sys.argv[1]))
bad = []
n_dis = n_main = 0
for w in d["windows"]:
    y = w.get("why")
    if not y:
        continue
    ag = w.get("agreement")
    tag = "%s %s" % (w["turbine_id"], w["start"])
    if y["claim"] == "main":
        n_main += 1
        dr = y["drivers"][0]
        if dr["ig"] is not None and dr["ig"] * dr["kernelshap"] < 0:
            bad.append("%s: main driver %s has KernelSHAP %+g but IG %+g" % (tag, dr["name"], dr["kernelshap"], dr["ig"]))
        if isinstance(ag, dict) and ag["disagree"]:
            bad.append("%s: claim main while the methods disagree" % tag)
    if isinstance(ag, dict) and ag["disagree"]:
        n_dis += 1
        if y["claim"] != "disagree":
            bad.append("%s: methods disagree but claim is %s" % (tag, y["claim"]))
    k = w.get("kernelshap")
    if k:
        delta = k["f_x"] - k["base_value"]
        for dr in y["drivers"]:
            if delta != 0 and abs(dr["share"] - dr["kernelshap"] / delta) > 1e-9 * max(1, abs(dr["share"])):
                bad.append("%s: share of %s is not kernelshap/delta" % (tag, dr["name"]))
c = d.get("explanation_checks")
if c and c["methods_disagree"] != n_dis:
    bad.append("explanation_checks.methods_disagree %d != %d windows marked" % (c["methods_disagree"], n_dis))
if len(sys.argv) > 2:
    try:
        text = subprocess.run(["pdftotext", sys.argv[2], "-"], capture_output=True, text=True).stdout
    except FileNotFoundError:
        text = ""
        print("note: pdftotext missing, the PDF was not read")
    n_mainly = text.replace("\n", " ").count("mainly because of")
    if n_mainly > n_main:
        bad.append("the PDF says 'mainly because of' %d times, only %d windows have the claim main" % (n_mainly, n_main))
for b in bad:
    print("FAIL:", b)
print("%d windows with a why, %d main, %d disagree, %d violations" % (
    sum(1 for w in d["windows"] if w.get("why")), n_main, n_dis, len(bad)))
sys.exit(1 if bad else 0)
