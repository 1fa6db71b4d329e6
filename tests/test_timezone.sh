#!/usr/bin/env bash
# Issue 14, log.timezone and the cadence check, end to end on the sample fleet moved 14 days on
# (2024-03-15 to 2024-04-05 UTC: Berlin's clocks go forward on 2024-03-31 inside it):
#  - the log and failure log rewritten as naive Europe/Berlin wall-clock times (by Python's
#    zoneinfo) and audited with log.timezone = "Europe/Berlin" give the same windows, scores,
#    episodes and failures as the UTC original; a row at a local time the clock change skipped
#    is a malformed row with its reason;
#  - read as UTC (the wrong zone), the failures and the episodes before the clock change are
#    shifted by exactly the zone's offset (+1 h);
#  - log.cadence_seconds 60 on the 600 s log: exit 4, and the message names both values and the
#    turbine count; 1200 s: the audit runs and warns on stderr, on the cover and in results.json.
# Args: CLI SOURCE_DIR BUILD_DIR.
set -u
CLI=$(realpath "$1")
SRC=$(realpath "$2")
T=$(mktemp -d "${TMPDIR:-/tmp}/wftz.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
passes=0
ok() { passes=$((passes + 1)); echo "ok: $*"; }
bad() { fails=$((fails + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok "$2"; else bad "$2"; fi; }
command -v python3 > /dev/null || { echo "SKIP: python3 missing"; exit 77; }
[ -f /usr/share/zoneinfo/Europe/Berlin ] || { echo "FAIL: tzdata missing (.ci/install-deps)"; exit 1; }
export SOURCE_DATE_EPOCH=1735689600
cp -r "$SRC/samples" "$T/s"
chmod -R u+w "$T/s"
cd "$T/s" || exit 1
python3 - << 'PY'
import csv, datetime as dt, json, zoneinfo
B = zoneinfo.ZoneInfo("Europe/Berlin")
SHIFT = dt.timedelta(days=14)
def utc(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00")) + SHIFT
def rewrite(src, col, out_utc, out_local, extra=None):
    rows = list(csv.reader(open(src)))
    hdr, body = rows[0], rows[1:]
    k = hdr.index(col)
    with open(out_utc, "w", newline="") as fu, open(out_local, "w", newline="") as fl:
        wu, wl = csv.writer(fu, lineterminator="\n"), csv.writer(fl, lineterminator="\n")
        wu.writerow(hdr)
        wl.writerow(hdr)
        for r in body:
            t = utc(r[k])
            ru, rl = list(r), list(r)
            ru[k] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
            rl[k] = t.astimezone(B).strftime("%Y-%m-%dT%H:%M:%S")  # naive wall clock
            wu.writerow(ru)
            wl.writerow(rl)
        if extra:
            wl.writerow(extra)
rewrite("sensor_log.csv", "timestamp", "log_utc.csv", "log_berlin.csv",
        ["WT04", "2024-03-31T02:30:00", "7", "11", "400", "0.5", "35", "25", "12", "1.7"])
rewrite("failures.csv", "failure_time", "fail_utc.csv", "fail_berlin.csv")
c = json.load(open("config.json"))
c["explain"] = {"method": "ig", "steps": 4, "baseline": "zeros"}
def put(name, log, fail, **kw):
    d = json.loads(json.dumps(c))
    d["log"]["path"], d["failures"]["path"] = log, fail
    d["log"].update(kw)
    json.dump(d, open(name, "w"), indent=1)
put("utc.json", "log_utc.csv", "fail_utc.csv")
put("berlin.json", "log_berlin.csv", "fail_berlin.csv", timezone="Europe/Berlin")
put("wrongzone.json", "log_berlin.csv", "fail_berlin.csv")
put("cad60.json", "log_utc.csv", "fail_utc.csv", cadence_seconds=60)
put("cad1200.json", "log_utc.csv", "fail_utc.csv", cadence_seconds=1200)
PY
for c in utc berlin wrongzone cad1200; do
  "$CLI" audit $c.json --out "$T/$c" > "$T/$c.out" 2> "$T/$c.err"
  check "[ $? -eq 0 ] && [ -s '$T/$c/results.json' ]" "$c: the audit ran ($(tail -1 "$T/$c.err"))"
done
check "grep -q 'WT04.*local time 2024-03-31 02:30:00 does not exist in Europe/Berlin (clock change)\|log_berlin.csv:[0-9]*:2: local time 2024-03-31 02:30:00 does not exist in Europe/Berlin (clock change)' '$T/berlin.err'" \
  "berlin: the row at a skipped local time is named with its reason on stderr"
python3 - "$T" > "$T/cmp.txt" 2>&1 << 'PY'
import datetime as dt, json, sys, zoneinfo
T = sys.argv[1]
u, b, w = (json.load(open("%s/%s/results.json" % (T, n))) for n in ("utc", "berlin", "wrongzone"))
ep = lambda r: [(e["turbine_id"], e["first_start"], e["last_end"], e["outcome"]) for e in r["episodes"]]
fl = lambda r: [(f["turbine_id"], f["time"], f["outcome"]) for f in r["failures"]]
assert ep(u) == ep(b), (ep(u), ep(b))
assert fl(u) == fl(b), (fl(u), fl(b))
su = open("%s/utc/scores.csv" % T).read()
sb = open("%s/berlin/scores.csv" % T).read()
assert su == sb, "scores.csv differ"
ib = b["input"]
assert ib["timezone"] == "Europe/Berlin" and u["input"]["timezone"] == "UTC", ib["timezone"]
assert ib["rejected"]["nonexistent_local_time"] == 1 and ib["rejected"]["malformed"] == 1, ib
assert ib["rows"] == u["input"]["rows"] + 1, (ib["rows"], u["input"]["rows"])
# read as UTC: every time moves by Berlin's offset at that instant
B = zoneinfo.ZoneInfo("Europe/Berlin")
P = lambda s: dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
off = lambda s: P(s).astimezone(B).utcoffset()
fw = {(f[0], f[2]) for f in fl(w)}
for tid, t, _ in fl(u):
    moved = (P(t) + off(t)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert any(x[0] == tid and x[1] == moved for x in [(f["turbine_id"], f["time"]) for f in w["failures"]]), (tid, t, moved)
dst = P("2024-03-31T01:00:00Z")
before = [e for e in u["episodes"] if P(e["last_end"]) < dst - dt.timedelta(hours=6)]
assert before, "no episode before the clock change"
we = {(e["turbine_id"], e["first_start"], e["last_end"]) for e in w["episodes"]}
for e in before:
    s = (P(e["first_start"]) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    t = (P(e["last_end"]) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (e["turbine_id"], s, t) in we, (e, sorted(we))
print("Europe/Berlin: %d episodes and %d failures as in UTC, scores identical; read as UTC: "
      "%d failures and %d episodes before the clock change moved by +1 h" %
      (len(ep(u)), len(fl(u)), len(fl(u)), len(before)))
PY
check "[ $? -eq 0 ]" "naive Berlin times: $(tail -1 "$T/cmp.txt")"
# the cover says how naive times were read
if command -v pdftotext > /dev/null; then
  pdftotext -l 1 "$T/berlin/report.pdf" - 2> /dev/null | tr '\n' ' ' > "$T/cover.txt"
  check "grep -q 'naive timestamps in the log read as Europe/Berlin' '$T/cover.txt'" \
    "berlin: the cover states the time zone"
  pdftotext -l 1 "$T/utc/report.pdf" - 2> /dev/null | tr '\n' ' ' > "$T/cover_utc.txt"
  check "grep -q 'naive timestamps in the log read as UTC' '$T/cover_utc.txt' && ! grep -q 'Warning: log.cadence' '$T/cover_utc.txt'" \
    "utc: the cover states UTC, no cadence warning"
  pdftotext -l 1 "$T/cad1200/report.pdf" - 2> /dev/null | tr '\n' ' ' | tr -s ' ' > "$T/cover1200.txt"
  check "grep -q 'Warning: log.cadence_seconds is 1200 s, but the median step between a turbine.s consecutive rows is 600 s on 12 of 12 turbines' '$T/cover1200.txt'" \
    "cadence 1200: the cover warns"
else
  echo "SKIP part: pdftotext missing (poppler-utils)"
fi
# cadence 60 on a 600 s log: nothing can be scored, exit 4, the message names both values
"$CLI" audit cad60.json --out "$T/cad60" > /dev/null 2> "$T/cad60.err"
rc=$?
check "[ $rc -eq 4 ]" "cadence 60: exit 4 (got $rc)"
check "grep -q 'log.cadence_seconds is 60 s, but the median step between a turbine.s consecutive rows is 600 s on 12 of 12 turbines' '$T/cad60.err'" \
  "cadence 60: the message names 60 s, 600 s and 12 of 12 turbines: $(grep -o 'first problem: [^(]*' "$T/cad60.err" | head -1)"
check "grep -q 'log.cadence_seconds is 1200 s, but the median step between a turbine.s consecutive rows is 600 s on 12 of 12 turbines' '$T/cad1200.err'" \
  "cadence 1200: stderr warns"
check "python3 -c 'import json,sys; c=json.load(open(\"$T/cad1200/results.json\"))[\"input\"][\"cadence\"]; sys.exit(not (c[\"configured_seconds\"]==1200 and c[\"median_step_min_seconds\"]==c[\"median_step_max_seconds\"]==600 and c[\"turbines_mismatched\"]==12 and c[\"warning\"]))'" \
  "cadence 1200: results.json input.cadence names both values"
check "python3 -c 'import json,sys; c=json.load(open(\"$T/utc/results.json\"))[\"input\"][\"cadence\"]; sys.exit(not (c[\"turbines_mismatched\"]==0 and c[\"turbines_checked\"]==12 and c[\"warning\"] is None))'" \
  "utc: results.json input.cadence has no warning"
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
