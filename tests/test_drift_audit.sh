#!/usr/bin/env bash
# Drift in the audit (issue 16), end to end on the Aurora sample (samples/config_drift.json, with
# a lighter explain section so that the test takes seconds):
#  - results.json's drift figures (fleet-wide, one turbine, one period, the out-of-reference
#    percentiles of the explained windows) equal an independent pure-Python computation from the
#    CSV (definitions of scipy's ks_2samp statistic, wasserstein_distance, numpy.std, Evidently's
#    PSI and rule, percentileofscore kind="weak"); at least one channel drifted;
#  - 3 shards + merge give results.json, report.pdf, report.xlsx and scores.csv byte-identical to
#    the one-machine run, also with another log as reference holding a turbine the audited log
#    lacks;
#  - the PDF has the chapter and the workbook a Drift sheet; a config without "drift" has neither
#    and no "drift" key in results.json.
# Args: CLI SOURCE_DIR BUILD_DIR.
set -u
CLI=$(realpath "$1")
SRC=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/wfdrift.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
passes=0
ok() { passes=$((passes + 1)); echo "ok: $*"; }
bad() { fails=$((fails + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok "$2"; else bad "$2"; fi; }

export SOURCE_DATE_EPOCH=1735689600
cp -r "$SRC/samples" "$T/samples"
chmod -R u+w "$T/samples"
cd "$T/samples" || exit 1
# the sample's drift config with a light explanation (IG only, 16 steps)
python3 - << 'EOF'
import json
c = json.load(open("config_drift.json"))
c["explain"] = {"method": "ig", "steps": 16, "baseline": "mean", "seed": 20240301}
json.dump(c, open("cfg_period.json", "w"), indent=1)
c["drift"]["reference"] = {"path": "training_log.csv"}
json.dump(c, open("cfg_log.json", "w"), indent=1)
c.pop("drift")
json.dump(c, open("cfg_none.json", "w"), indent=1)
# another log as reference: the first 7 days, plus a turbine the audited log does not have
rows = open("sensor_log.csv").read().splitlines()
out = [rows[0]]
for r in rows[1:]:
    if r.split(",")[1] < "2024-03-08":
        out.append(r)
        if r.startswith("WT01,"):
            f = r.split(",")
            f[0] = "WT99"
            f[2] = "%.2f" % (float(f[2]) + 3)
            out.append(",".join(f))
open("training_log.csv", "w").write("\n".join(out) + "\n")
EOF

run() { # name config [shard]
  mkdir -p "$(dirname "$T/$1")"
  if "$CLI" audit "$2" --out "$T/$1" --quiet ${3:+--shard "$3"} 2> "$T/$1.err"; then return 0; fi
  bad "audit $1 failed: $(tail -2 "$T/$1.err")"
  return 1
}

run period cfg_period.json && ok "audit with a drift section (reference period) exits 0"
run none cfg_none.json && ok "audit without a drift section exits 0"
run logref cfg_log.json && ok "audit with another log as reference exits 0"

python3 - "$T/period/results.json" "$T/logref/results.json" "$T/none/results.json" > "$T/py.out" 2>&1 << 'EOF'
import bisect, csv, json, math, struct, sys
from datetime import datetime, timezone

def f32(s):
    return struct.unpack("f", struct.pack("f", float(s)))[0]

def ts(s):
    return int(datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())

CH = ["wind_speed", "rotor_rpm", "power_kw", "pitch_deg", "gearbox_oil_temp", "bearing_temp",
      "nacelle_temp", "vibration_rms"]

def load(path):
    rows = []
    for r in csv.DictReader(open(path)):
        rows.append((r["turbine_id"], ts(r["timestamp"]), [f32(r[c]) for c in CH]))
    return rows

def ks(a, b):  # scipy.stats.ks_2samp statistic
    d = 0.0
    for x in a + b:
        fa = bisect.bisect_right(a, x) / len(a)
        fb = bisect.bisect_right(b, x) / len(b)
        d = max(d, abs(fa - fb))
    return d

def wasserstein(u, v):  # scipy.stats.wasserstein_distance
    allv = sorted(u + v)
    tot = 0.0
    for i in range(len(allv) - 1):
        du = bisect.bisect_right(u, allv[i]) / len(u)
        dv = bisect.bisect_right(v, allv[i]) / len(v)
        tot += abs(du - dv) * (allv[i + 1] - allv[i])
    return tot

def std(a):
    m = sum(a) / len(a)
    return math.sqrt(sum((x - m) ** 2 for x in a) / len(a))

def quantile(a, q):  # numpy.quantile, linear
    pos = q * (len(a) - 1)
    lo = int(math.floor(pos))
    if lo >= len(a) - 1:
        return a[-1]
    return a[lo] + (a[lo + 1] - a[lo]) * (pos - lo)

def psi(ref, cur, bins=10, eps=1e-4):
    edges = [quantile(ref, k / bins) for k in range(1, bins)]
    def shares(x):
        n = [0] * bins
        for v in x:
            n[bisect.bisect_left(edges, v)] += 1
        return [c / len(x) if c else eps for c in n]
    r, c = shares(ref), shares(cur)
    return sum((cc - rr) * math.log(cc / rr) for rr, cc in zip(r, c))

def close(x, y, tol):
    return abs(x - y) <= tol * max(1.0, abs(y))

MAXERR = {}

def compare(name, got, ref, cur):
    ref, cur = sorted(ref), sorted(cur)
    assert got["n_reference"] == len(ref) and got["n_current"] == len(cur), (name, got)
    want = {"ks_statistic": ks(ref, cur),
            "wasserstein_normed": wasserstein(ref, cur) / max(std(ref), 0.001),
            "psi": psi(ref, cur)}
    for k, v in want.items():
        assert close(got[k], v, 1e-9), (name, k, got[k], v)
        MAXERR[k] = max(MAXERR.get(k, 0.0), abs(got[k] - v) / max(1.0, abs(v)))
    rule = want["wasserstein_normed"] >= 0.1 if len(ref) > 1000 else got["ks_pvalue"] < 0.05
    assert got["drifted"] == rule, (name, got)
    return got["drifted"]

rows = load("sensor_log.csv")
F, TO = ts("2024-03-01T00:00:00Z"), ts("2024-03-08T00:00:00Z")
r = json.load(open(sys.argv[1]))
d = r["drift"]
assert d["reference"]["from"] == "2024-03-01T00:00:00Z" and d["period"] == "week"
n_drift = 0
for c, name in enumerate(CH):
    ref = [x[2][c] for x in rows if F <= x[1] < TO]
    cur = [x[2][c] for x in rows if not (F <= x[1] < TO)]
    n_drift += compare("fleet " + name, d["channels"][c], ref, cur)
print("fleet-wide channels drifted:", n_drift)
assert n_drift >= 1
tb = [t for t in d["turbines"] if t["turbine_id"] == "WT05"][0]
for c in (2, 7):
    ref = [x[2][c] for x in rows if x[0] == "WT05" and F <= x[1] < TO]
    cur = [x[2][c] for x in rows if x[0] == "WT05" and not (F <= x[1] < TO)]
    compare("WT05 " + CH[c], tb["channels"][c], ref, cur)
per = [p for p in d["periods"] if p["label"] == "2024-W11"][0]
P0 = ts("2024-03-11T00:00:00Z")
for c in (0, 4):
    ref = [x[2][c] for x in rows if F <= x[1] < TO]
    cur = [x[2][c] for x in rows if P0 <= x[1] < P0 + 7 * 86400]
    compare("W11 " + CH[c], per["channels"][c], ref, cur)
print("turbine WT05 and period 2024-W11 match")

# out of the reference: window means (length 36, stride 18) of the reference windows
by = {}
for t, s, v in rows:
    by.setdefault(t, []).append((s, v))
def means(seq):
    return [sum(seq[k][1][c] for k in range(36)) / 36 for c in range(len(CH))]
refm = [[] for _ in CH]
for t, seq in by.items():
    for k in range(0, len(seq) - 35, 18):
        if seq[k][0] >= F and seq[k + 35][0] < TO:
            m = means(seq[k:k + 36])
            for c in range(len(CH)):
                refm[c].append(m[c])
assert d["reference"]["windows"] == len(refm[0]), (d["reference"]["windows"], len(refm[0]))
outside = 0
for w in d["windows"]:
    seq = by[w["turbine_id"]]
    k = [i for i, x in enumerate(seq) if x[0] == ts(w["start"])][0]
    m = means(seq[k:k + 36])
    for c in range(len(CH)):
        pc = 100.0 * sum(1 for x in refm[c] if x <= m[c]) / len(refm[c])
        assert close(w["percentile"][c], pc, 1e-12), (w, c, pc)
        lo, hi = quantile(sorted(refm[c]), 0.005), quantile(sorted(refm[c]), 0.995)
        assert (CH[c] in w["channels_outside"]) == (m[c] < lo or m[c] > hi), (w, c)
    outside += w["outside_reference"]
    assert w["outside_reference"] == (len(w["channels_outside"]) > 0)
    assert (w["sentence"] != "") == w["outside_reference"]
# every window's score and flag: scores.csv beside results.json (issue 14)
S = list(csv.DictReader(open(sys.argv[1].rsplit("/", 1)[0] + "/" + r["scores_file"])))
assert len(S) == r["scores_count"] and "scores" not in r
assert len(d["windows"]) == len(r["windows"]) == sum(int(s["flagged"]) for s in S) > 0
print("explained windows:", len(d["windows"]), "outside the reference:", outside)
assert outside >= 1
# concept signals
tot = sum(p["windows"] for p in d["periods"])
assert tot == len(S), (tot, len(S))
assert all(set(p["score_quantiles"]) == {"0.05", "0.25", "0.5", "0.75", "0.95"} for p in d["periods"])

# another log as reference: its rows (WT99 included fleet-wide, not as a turbine)
rl = json.load(open(sys.argv[2]))["drift"]
trows = load("training_log.csv")
for c in (0, 7):
    compare("log " + CH[c], rl["channels"][c], [x[2][c] for x in trows], [x[2][c] for x in rows])
assert [t["turbine_id"] for t in rl["turbines"]] == sorted(by), rl["turbines"]
print("log reference matches; turbines:", len(rl["turbines"]))
assert "drift" not in json.load(open(sys.argv[3]))
print("no drift section: no drift key")
print("max relative error against the reference:", MAXERR)
EOF
rc=$?
cat "$T/py.out"
check "[ $rc -eq 0 ]" "results.json drift figures equal the pure-Python reference (see above)"

if command -v pdftotext > /dev/null; then
  pdftotext "$T/period/report.pdf" "$T/p.txt" 2> /dev/null
  pdftotext "$T/none/report.pdf" "$T/n.txt" 2> /dev/null
  check "grep -q 'Data and model drift' '$T/p.txt' && grep -q 'the model is extrapolating' '$T/p.txt'" \
    "the PDF has the drift chapter and an episode's out-of-reference sentence"
  check "! grep -q 'Data and model drift' '$T/n.txt'" "no drift chapter without a drift section"
fi
if command -v unzip > /dev/null; then
  check "unzip -p '$T/period/report.xlsx' xl/workbook.xml | grep -q 'name=\"Drift\"'" "the workbook has a Drift sheet"
  check "! unzip -p '$T/none/report.xlsx' xl/workbook.xml | grep -q 'name=\"Drift\"'" "no Drift sheet without a drift section"
fi

for cfg in period logref; do
  c=cfg_period.json
  [ $cfg = logref ] && c=cfg_log.json
  okrun=1
  for k in 0 1 2; do
    run "s$cfg/shard-$k" "$c" "$k/3" || okrun=0
  done
  [ $okrun = 1 ] && ok "3 shards ran ($cfg)"
  "$CLI" merge "$T/s$cfg/shard-2" "$T/s$cfg/shard-0" "$T/s$cfg/shard-1" --out "$T/m$cfg" --quiet 2> "$T/m$cfg.err"
  check "[ $? -eq 0 ]" "merge of 3 shards exits 0 ($cfg: $(tail -2 "$T/m$cfg.err"))"
  for f in results.json report.pdf report.xlsx scores.csv; do
    check "cmp -s '$T/$cfg/$f' '$T/m$cfg/$f'" "3 shards ($cfg): $f byte-identical to the one-machine run"
  done
done

# The seeded sample of unflagged windows (drift.unflagged_sample, default 8 per period): the same
# windows and figures with 1 and 2 threads (and, above, with 3 shards + merge: results.json is
# byte-identical); each period's mean |attribution| over the sample equals a Python
# recomputation from the sample's per-window channel attributions; every sampled window is
# unflagged, with its scores.csv score, and a period holds min(8, its unflagged windows).
for th in 1 2; do
  "$CLI" audit cfg_period.json --out "$T/th$th" --quiet --threads $th 2> "$T/th$th.err" ||
    bad "audit --threads $th failed: $(tail -2 "$T/th$th.err")"
done
python3 - "$T/th1/results.json" "$T/th2/results.json" "$T/th1/scores.csv" > "$T/ufs.out" 2>&1 << 'EOF'
import csv, datetime, json, sys
r1 = json.load(open(sys.argv[1]))["drift"]
r2 = json.load(open(sys.argv[2]))["drift"]
assert r1["unflagged_sample"] == r2["unflagged_sample"], "sample differs between 1 and 2 threads"
assert [p["mean_abs_attribution_unflagged"] for p in r1["periods"]] == \
    [p["mean_abs_attribution_unflagged"] for p in r2["periods"]]
u = r1["unflagged_sample"]
k = u["per_period"]
assert k == 8 and len(u["windows"]) > 0, u["per_period"]
rows = list(csv.DictReader(open(sys.argv[3])))
def week(iso):
    d = datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")
    y, w, _ = d.isocalendar()
    return "%d-W%02d" % (y, w)
score = {(x["turbine_id"], x["start"]): x for x in rows}
unfl = {}
for x in rows:
    if x["flagged"] == "0":
        unfl[week(x["end"])] = unfl.get(week(x["end"]), 0) + 1
maxerr = 0.0
for p in r1["periods"]:
    ws = [w for w in u["windows"] if w["period"] == p["label"]]
    assert len(ws) == min(k, unfl.get(p["label"], 0)), (p["label"], len(ws))
    for w in ws:
        s = score[(w["turbine_id"], w["start"])]
        assert s["flagged"] == "0" and week(w["end"]) == p["label"]
        assert abs(float(s["score"]) - w["score"]) <= 1e-12 * max(1.0, abs(w["score"]))
    ex = [w for w in ws if w["explained"]]
    assert p["unflagged_explained"] == len(ex)
    for ch, v in p["mean_abs_attribution_unflagged"].items():
        if not ex:
            assert v is None
            continue
        ref = sum(abs(w["channel_attribution"][ch]) for w in ex) / len(ex)
        err = abs(v - ref) / max(abs(ref), 1e-300)
        maxerr = max(maxerr, err)
        assert err <= 1e-12, (p["label"], ch, v, ref)
print("unflagged sample: %d windows in %d periods, max relative error %.2e" %
      (len(u["windows"]), len(r1["periods"]), maxerr))
EOF
rc=$?
cat "$T/ufs.out"
check "[ $rc -eq 0 ]" "unflagged sample: same with 1 and 2 threads, unflagged, per-period means recomputed"

# One budget for the run: a budget of 1 MiB compacts the per-turbine and per-period tables (and
# some fleet-wide ones) on the sample; 3 shards + merge still give the one-machine bytes.
python3 - << 'EOF'
import json
c = json.load(open("cfg_period.json"))
c["drift"]["memory_mb"] = 1
json.dump(c, open("cfg_small.json", "w"), indent=1)
EOF
run small cfg_small.json && ok "audit with drift.memory_mb 1 exits 0"
for k in 0 1 2; do run "ssmall/shard-$k" cfg_small.json "$k/3"; done
"$CLI" merge "$T/ssmall/shard-1" "$T/ssmall/shard-2" "$T/ssmall/shard-0" --out "$T/msmall" --quiet 2> "$T/msmall.err"
check "[ $? -eq 0 ]" "merge of 3 shards exits 0 (small budget: $(tail -2 "$T/msmall.err"))"
for f in results.json scores.csv report.xlsx; do
  check "cmp -s '$T/small/$f' '$T/msmall/$f'" "3 shards (drift.memory_mb 1): $f byte-identical to the one-machine run"
done
python3 - "$T/period/results.json" "$T/small/results.json" > "$T/small.out" 2>&1 << 'EOF'
import json, sys
a = json.load(open(sys.argv[1]))["drift"]
b = json.load(open(sys.argv[2]))["drift"]
diff = 0
worst = {"ks_statistic": 0.0, "wasserstein_normed": 0.0, "psi": 0.0}
for ta, tb in zip(a["turbines"], b["turbines"]):
    for ca, cb in zip(ta["channels"], tb["channels"]):
        for key in worst:
            if ca[key] is None:
                continue
            d = abs(ca[key] - cb[key])
            diff += d > 0
            worst[key] = max(worst[key], d)
assert diff > 0, "a 1 MiB budget should compact some per-turbine tables"
assert worst["ks_statistic"] < 0.05 and worst["wasserstein_normed"] < 0.05, worst
print("compacted per-turbine figures against exact ones: max |diff|", worst)
EOF
rc=$?
cat "$T/small.out"
check "[ $rc -eq 0 ]" "a 1 MiB budget compacts per-turbine tables, figures within bounds of the exact ones"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
