#!/usr/bin/env python3
"""An independent implementation of the outcome rule (issue 14, "outcomes that add up"), read
from its words in src/report/analysis.c, checked against a results.json: the episodes and their
outcomes, every failure's outcome, episode and lead time, the counts, precision, recall and every
row of the threshold sweep. Usage: check_outcomes.py results.json STEP_SECONDS"""
import csv
import json
import os
import sys
from datetime import datetime, timezone


def t(s):
    return int(datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def scores_of(path, r):
    """every window's score and flag: scores.csv beside results.json (issue 14)"""
    if "scores" in r:  # a results.json written before
        return r["scores"]
    rows = list(csv.DictReader(open(os.path.join(os.path.dirname(path), r["scores_file"]))))
    assert len(rows) == r["scores_count"], (len(rows), r["scores_count"])
    return [{"turbine_id": x["turbine_id"], "start": x["start"], "end": x["end"],
             "score": float(x["score"]), "flagged": x["flagged"] == "1",
             "label": int(x["label"])} for x in rows]


r = json.load(open(sys.argv[1]))
r["scores"] = scores_of(sys.argv[1], r)
step = int(sys.argv[2])
H = int(round(r["horizon_hours"] * 3600))
o = r["outcomes"]
gap = int(round(o["episode_merge_gap_hours"] * 3600))
W = sorted(((w["turbine_id"], t(w["start"]), t(w["end"]), w["score"]) for w in r["scores"]))
F = [(f["turbine_id"], t(f["time"])) for f in r.get("failures", [])]
have_log = bool(F) or any(w.get("label", -1) >= 0 for w in r["scores"])


def episodes(flag):
    eps, cur = [], None
    for i, (tid, start, end, _) in enumerate(W):
        if not flag(i):
            continue
        if cur and cur["tid"] == tid and start - W[cur["last"]][1] - step < gap:
            cur["last"] = i
            cur["n"] += 1
        else:
            cur = {"tid": tid, "first": i, "last": i, "n": 1}
            eps.append(cur)
    for e in eps:
        e["from"], e["to"] = W[e["first"]][2], W[e["last"]][2] + H
    return eps


def credit(eps):
    out = ["false alarm" if have_log else "no failure log"] * len(eps)
    fails = []
    for tid, ft in F:
        pre = [k for k, e in enumerate(eps) if e["tid"] == tid and e["from"] < ft <= e["to"]]
        if pre:
            k = min(pre, key=lambda k: eps[k]["from"])
            fails.append(("caught", k, (ft - eps[k]["from"]) / 3600))
        else:
            seen = any(w[0] == tid and w[2] < ft and ft - w[2] <= H for w in W)
            fails.append(("missed" if seen else "not observable", None, None))
    credited = {k for _, k, _ in fails if k is not None}
    for k, e in enumerate(eps):
        if k in credited:
            out[k] = "true alarm"
        elif any(e["tid"] == tid and e["from"] < ft <= e["to"] for tid, ft in F):
            out[k] = "repeat alarm"
    return out, fails


def counts(eps, out, fails):
    c = {"episodes": len(eps), "true_alarms": out.count("true alarm"),
         "repeat_alarms": out.count("repeat alarm"), "false_alarms": out.count("false alarm"),
         "caught": sum(f[0] == "caught" for f in fails),
         "missed": sum(f[0] == "missed" for f in fails)}
    c["precision"] = (c["true_alarms"] + c["repeat_alarms"]) / len(eps) if eps and have_log else None
    d = c["caught"] + c["missed"]
    c["recall"] = c["caught"] / d if d else None
    return c


def close(a, b):
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-9)


flags = {(w["turbine_id"], t(w["start"])): w["flagged"] for w in r["scores"]}
eps = episodes(lambda i: flags[(W[i][0], W[i][1])])
out, fails = credit(eps)
assert len(eps) == len(r["episodes"]), (len(eps), len(r["episodes"]))
for k, (e, je) in enumerate(zip(eps, r["episodes"])):
    assert je["episode"] == k + 1 and je["turbine_id"] == e["tid"], (k, je)
    assert t(je["first_end"]) == W[e["first"]][2] and t(je["last_end"]) == W[e["last"]][2], (k, je)
    assert je["flagged_windows"] == e["n"], (k, je)
    assert je["outcome"] == out[k], (k, je["outcome"], out[k])
for (state, k, lead), jf in zip(fails, r.get("failures", [])):
    assert jf["outcome"] == state, (jf, state)
    assert jf.get("episode") == (k + 1 if k is not None else None), (jf, k)
    assert close(jf.get("lead_hours"), lead), (jf, lead)
c = counts(eps, out, fails)
for key, v in c.items():
    assert close(o[key], v) if isinstance(v, float) or v is None else o[key] == v, (key, o[key], v)
assert o["failures"] == len(F) == o["caught"] + o["missed"] + o["not_observable"], o
assert o["not_observable"] == sum(f[0] == "not observable" for f in fails)
for row in o["threshold_sweep"]:
    th = row["threshold"]
    e2 = episodes(lambda i: W[i][3] >= th)
    o2, f2 = credit(e2)
    c2 = counts(e2, o2, f2)
    assert row["flagged_windows"] == sum(w[3] >= th for w in W), row
    for key, v in c2.items():
        assert close(row[key], v) if isinstance(v, float) or v is None else row[key] == v, (th, key, row[key], v)
print("episodes %d (%d true, %d repeat, %d false), failures %d (%d caught, %d missed, %d not "
      "observable), %d sweep rows: all as the rule says" % (
          len(eps), c["true_alarms"], c["repeat_alarms"], c["false_alarms"], len(F), c["caught"],
          c["missed"], o["not_observable"], len(o["threshold_sweep"])))
