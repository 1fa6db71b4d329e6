#!/usr/bin/env bash
# Issue 14, a stable interface: results.json against its JSON Schema (templates/results.schema.json,
# draft 2020-12, checked with python3-jsonschema) and the flat CSVs beside it.
#  - results.json of the sample audit, a tree-model audit, an audit with a comparison and a drift
#    section, and of three `explain` runs (KernelSHAP + IG, TreeSHAP + IG not applicable, IG only)
#    validate; "schema": "whyflag.results/2" is the first key; an audit's scores are never inline
#    (scores_file, scores_count, and scores.csv has that many rows).
#  - The schema is strict: a key the writer does not document (at the top, in a window's
#    kernelshap, in an episode, in the drift settings) or a missing "schema" fails validation;
#    every key literal the writers emit (src/report/results_*.c) is named in the schema.
#  - episodes.csv, failure_outcomes.csv and attributions.csv load with one pandas.read_csv call
#    each (or, without pandas, the csv module with a type check) with the dtypes documented, and
#    hold the same rows and values as results.json's episodes, failures and explained windows.
#  - They are in manifest.json and checked by `whyflag verify`; a changed scores.csv makes
#    `whyflag report` refuse to re-render; an input named like an output in --out is refused.
# Args: CLI SOURCE_DIR BUILD_DIR.
set -u
CLI=$1
SRC=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/wfschema.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
passes=0
ok() { passes=$((passes + 1)); echo "ok: $*"; }
bad() { fails=$((fails + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok "$2"; else bad "$2"; fi; }

# A python3 with the module: the one on PATH, else Debian's (python3-jsonschema, python3-pandas).
pyfor() {
  for p in python3 /usr/bin/python3; do
    if command -v "$p" > /dev/null 2>&1 && "$p" -c "import $1" > /dev/null 2>&1; then
      echo "$p"
      return 0
    fi
  done
  return 1
}
PYJ=$(pyfor jsonschema) || {
  echo "SKIP: python3-jsonschema missing (.ci/install-deps --test installs it)"
  exit 77
}
PYD=$(pyfor pandas) || PYD=$PYJ # the CSV checks fall back to the csv module
export SOURCE_DATE_EPOCH=1735689600
SCHEMA="$SRC/templates/results.schema.json"

cp -r "$SRC/samples" "$T/s"
chmod -R u+w "$T/s"
"$PYJ" - "$T/s" << 'PY'
import json, sys
d = sys.argv[1]
c = json.load(open(d + "/config_compare.json"))
c["drift"] = json.load(open(d + "/config_drift.json"))["drift"]
json.dump(c, open(d + "/config_cd.json", "w"), indent=1)
PY

# ---------------------------------------------------------------- the runs
run() { # name, args...
  local name=$1
  shift
  "$CLI" "$@" --quiet > "$T/$name.log" 2>&1
  local rc=$?
  check "[ $rc -eq 0 ]" "$name: whyflag $1 exits 0 (rc=$rc: $(tail -2 "$T/$name.log" | tr '\n' ' '))"
}
run audit audit "$T/s/config.json" --out "$T/audit"
run trees audit "$T/s/config_trees.json" --out "$T/trees"
run cd audit "$T/s/config_cd.json" --out "$T/cd"
"$CLI" windows "$T/s/config_trees.json" --out "$T/all.json" 2> /dev/null
"$PYJ" - "$T/all.json" "$T/w.json" << 'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["windows"] = d["windows"][300:306]
json.dump(d, open(sys.argv[2], "w"))
PY
run ex_cfg explain --config "$T/s/config.json" --windows "$T/w.json" --out "$T/ex_cfg.json"
run ex_tree explain --model "$T/s/aurora_gbc.onnx" --windows "$T/w.json" --method both \
  --out "$T/ex_tree.json"
run ex_ig explain --model "$T/s/aurora_float.onnx" --windows "$T/w.json" --method ig \
  --out "$T/ex_ig.json"
ALL_JSON=("$T/audit/results.json" "$T/trees/results.json" "$T/cd/results.json" "$T/ex_cfg.json"
  "$T/ex_tree.json" "$T/ex_ig.json")

# ---------------------------------------------------------------- the schema
"$PYJ" - "$SCHEMA" "${ALL_JSON[@]}" > "$T/val.out" 2>&1 << 'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
bad = 0
for f in sys.argv[2:]:
    errs = list(v.iter_errors(json.load(open(f))))
    for e in errs[:5]:
        print(f, "/".join(map(str, e.absolute_path)), e.message[:300])
    bad += len(errs)
print("validated", len(sys.argv) - 2, "files,", bad, "errors")
sys.exit(1 if bad else 0)
PY
check "[ $? -eq 0 ]" "every results.json validates against templates/results.schema.json ($(tail -1 "$T/val.out"))"
for f in "${ALL_JSON[@]}"; do
  first=$("$PYJ" -c 'import json,sys; print(*json.load(open(sys.argv[1]), object_pairs_hook=lambda p: p)[0])' "$f")
  check "[ \"$first\" = 'schema whyflag.results/2' ]" \
    "${f#"$T"/}: \"schema\": \"whyflag.results/2\" is the first key ($first)"
done
# the runs cover what the schema must know
"$PYJ" - "${ALL_JSON[@]}" > "$T/cover.out" 2>&1 << 'PY'
import json, sys
d = [json.load(open(f)) for f in sys.argv[1:]]
a, t, cd, e1, e2, e3 = d
assert "drift" in cd and "comparison" in cd and "fidelity" in cd["comparison"]
assert any("treeshap" in w for w in t["windows"]) and any("treeshap_vs_kernelshap" in w for w in e2["windows"])
assert any(w.get("ig", {}).get("status") == "not_applicable" for w in e2["windows"])
assert all(x["command"] == "explain" for x in (e1, e2, e3)) and "scores_file" not in e1
for x in (a, t, cd):
    assert "scores" not in x and x["scores_file"] == "scores.csv" and x["scores_count"] > 0
    assert {"true alarm", "false alarm"} <= {e["outcome"] for e in a["episodes"]}
print("the runs cover drift, comparison, TreeSHAP, IG not applicable, explain and audit")
PY
check "[ $? -eq 0 ]" "$(tail -1 "$T/cover.out")"
# scores.csv holds scores_count rows
n_csv=$(($(wc -l < "$T/audit/scores.csv") - 1))
n_json=$("$PYJ" -c "import json,sys; print(json.load(open(sys.argv[1]))['scores_count'])" "$T/audit/results.json")
check "[ $n_csv -eq $n_json ] && [ $n_csv -gt 1000 ]" "scores.csv has scores_count ($n_json) rows, results.json none inline"

# strictness: unknown keys and a missing schema fail
"$PYJ" - "$SCHEMA" "$T/audit/results.json" "$T/cd/results.json" > "$T/strict.out" 2>&1 << 'PY'
import copy, json, sys
import jsonschema
v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
a = json.load(open(sys.argv[2]))
cd = json.load(open(sys.argv[3]))
assert v.is_valid(a) and v.is_valid(cd)
def mutated(doc, f):
    d = copy.deepcopy(doc)
    f(d)
    return d
cases = {
    "an unknown top-level key": (a, lambda d: d.__setitem__("scores", [])),
    "another unknown top-level key": (a, lambda d: d.__setitem__("surprise", 1)),
    "an unknown key in a window's kernelshap": (a, lambda d: d["windows"][0]["kernelshap"].__setitem__("x", 1)),
    "an unknown key in an episode": (a, lambda d: d["episodes"][0].__setitem__("note", "")),
    "an unknown key in input.windows.skipped_by_kind": (a, lambda d: d["input"]["windows"]["skipped_by_kind"].__setitem__("new kind", 0)),
    "an unknown key in drift.settings": (cd, lambda d: d["drift"]["settings"].__setitem__("x", 1)),
    "an unknown key in comparison.models.b": (cd, lambda d: d["comparison"]["models"]["b"].__setitem__("x", 1)),
    "no schema": (a, lambda d: d.pop("schema")),
    "another schema": (a, lambda d: d.__setitem__("schema", "whyflag.results/1")),
    "an audit without scores_file": (a, lambda d: d.pop("scores_file")),
    "a wrong outcome": (a, lambda d: d["episodes"][0].__setitem__("outcome", "true")),
    "a true alarm without its failure": (a, lambda d: [e.pop("failure_time") for e in d["episodes"] if e["outcome"] == "true alarm"][:1]),
}
n = 0
for name, (doc, f) in cases.items():
    if v.is_valid(mutated(doc, f)):
        print("NOT rejected:", name)
    else:
        n += 1
print(n, "of", len(cases), "mutations rejected")
sys.exit(0 if n == len(cases) else 1)
PY
check "[ $? -eq 0 ]" "the schema rejects undocumented keys and a missing schema ($(tail -1 "$T/strict.out"))"

# every key literal of the writers is named in the schema
"$PYJ" - "$SCHEMA" "$SRC"/src/report/results_json.c "$SRC"/src/report/results_checks.c \
  "$SRC"/src/report/results_drift.c "$SRC"/src/report/results_compare.c > "$T/keys.out" 2>&1 << 'PY'
import json, re, sys
schema = json.load(open(sys.argv[1]))
known = set()
def walk(x):
    if isinstance(x, dict):
        for k, v in x.items():
            if k in ("properties", "$defs"):
                known.update(v.keys())
            if k == "required":
                known.update(v)
            walk(v)
    elif isinstance(x, list):
        for v in x:
            walk(v)
walk(schema)
keys = set()
for f in sys.argv[2:]:
    src = open(f).read()
    # wf_jw_kstr(w, "key", ...), wf_jw_key(&w, "key"), kiso(w, "key", ...), knum(...), ...
    # (wf_jw_str(w, "auto") writes a value, not a key)
    keys.update(k for fn, k in re.findall(r'(\w+)\(\s*&?w\s*,\s*"([A-Za-z_][A-Za-z0-9_ ]*)"', src)
                if fn != "wf_jw_str")
missing = sorted(keys - known)
print("writer keys:", len(keys), "not in the schema:", missing)
sys.exit(1 if missing or len(keys) < 150 else 0)
PY
check "[ $? -eq 0 ]" "every key the writers emit is named in the schema ($(tail -1 "$T/keys.out"))"

# ---------------------------------------------------------------- the flat CSVs
csvcheck() { # dir
  "$PYD" - "$1/results.json" "$1" << 'PY'
import csv, json, math, sys
r = json.load(open(sys.argv[1]))
d = sys.argv[2]
try:
    import pandas as pd
except ImportError:
    pd = None
COLS = {
    "episodes.csv": ["turbine_id", "episode", "start", "end", "flagged_windows", "peak_start",
                     "peak_score", "outcome", "failure_time", "component", "lead_hours"],
    "failure_outcomes.csv": ["turbine_id", "time", "component", "outcome", "episode", "lead_hours"],
    "attributions.csv": ["turbine_id", "window_start", "method", "player", "value"],
}
INT = {"episode", "flagged_windows"}
FLOAT = {"peak_score", "lead_hours", "value"}
def load(name):
    """one call, as a user would; returns a list of dicts with typed values"""
    if pd is not None:
        # the exact doubles: pandas' default float parser may be off by an ulp
        t = pd.read_csv(d + "/" + name, float_precision="round_trip")
        assert list(t.columns) == COLS[name], (name, list(t.columns))
        for c in t.columns:
            k = t[c].dtype.kind
            if c in FLOAT:
                assert k in "fi" or len(t) == 0, (name, c, t[c].dtype)
            elif c in INT and name == "episodes.csv":
                assert k == "i" or len(t) == 0, (name, c, t[c].dtype)
            elif c == "episode":  # failure_outcomes: missing when not caught
                assert k in "fi" or len(t) == 0, (name, c, t[c].dtype)
        rows = [{c: (None if (isinstance(v, float) and math.isnan(v)) else v)
                 for c, v in rec.items()} for rec in t.to_dict("records")]
        return rows, "pandas " + pd.__version__
    rows = list(csv.DictReader(open(d + "/" + name, newline="", encoding="utf-8")))
    with open(d + "/" + name, encoding="utf-8") as f:
        assert f.readline().rstrip("\n").split(",") == COLS[name]
    out = []
    for x in rows:
        y = {}
        for c, v in x.items():
            if v == "":
                y[c] = None
            elif c in INT or (c == "episode"):
                y[c] = int(v)
            elif c in FLOAT:
                y[c] = float(v)
            else:
                y[c] = v
        out.append(y)
    return out, "csv module"
ep, how = load("episodes.csv")
assert len(ep) == len(r["episodes"]) and len(ep) > 0, (len(ep), len(r["episodes"]))
for x, e in zip(ep, r["episodes"]):
    assert x["turbine_id"] == e["turbine_id"] and x["episode"] == e["episode"]
    assert x["start"] == e["first_start"] and x["end"] == e["last_end"] and x["peak_start"] == e["peak_start"]
    assert x["flagged_windows"] == e["flagged_windows"] and x["peak_score"] == e["peak_score"]
    assert x["outcome"] == e["outcome"]
    assert x["failure_time"] == e.get("failure_time") and x["component"] == e.get("component")
    assert (x["lead_hours"] is None) == ("lead_hours" not in e)
    assert x["lead_hours"] is None or x["lead_hours"] == e["lead_hours"]
fo, _ = load("failure_outcomes.csv")
F = r.get("failures", [])
assert len(fo) == len(F), (len(fo), len(F))
for x, f in zip(fo, F):
    assert (x["turbine_id"], x["time"], x["component"], x["outcome"]) == \
        (f["turbine_id"], f["time"], f["component"], f["outcome"]), (x, f)
    assert (x["episode"] is None) == ("episode" not in f) and (x["episode"] is None or int(x["episode"]) == f["episode"])
    assert x["lead_hours"] is None or x["lead_hours"] == f["lead_hours"]
at, _ = load("attributions.csv")
want = []
owen = r["settings"]["groups"] == "hierarchy"
for w in r["windows"]:
    if "kernelshap" in w:
        k = w["kernelshap"]
        want += [(w["turbine_id"], w["start"], "owen" if owen else "kernelshap", p, v)
                 for p, v in zip(k["players"], k["values"])]
    if "channel_sums" in w.get("ig", {}):
        want += [(w["turbine_id"], w["start"], "ig", c, v)
                 for c, v in zip(r["channels"], w["ig"]["channel_sums"])]
    if "treeshap" in w:
        k = w["treeshap"]
        want += [(w["turbine_id"], w["start"], "treeshap", p, v) for p, v in zip(k["players"], k["values"])]
got = [(x["turbine_id"], x["window_start"], x["method"], x["player"], x["value"]) for x in at]
assert got == want, (len(got), len(want), [g for g, h in zip(got, want) if g != h][:3])
print("%d episodes, %d failures, %d attribution rows (%s) equal results.json" %
      (len(ep), len(fo), len(at), ", ".join(sorted({x[2] for x in got}))) + " with " + how)
PY
}
for run in audit trees cd; do
  out=$(csvcheck "$T/$run" 2>&1)
  check "[ $? -eq 0 ]" "$run: episodes.csv, failure_outcomes.csv, attributions.csv load in one call and equal results.json ($(echo "$out" | tail -1))"
done
check "[ ! -e '$T/audit/failures.csv' ] && ! grep -q failures.csv '$SRC/src/audit/publish.c'" \
  "no output is named failures.csv (the failure log's usual name)"

# ---------------------------------------------------------------- manifest, verify, report
for f in scores.csv episodes.csv failure_outcomes.csv attributions.csv; do
  check "grep -q '\"path\": \"$f\"' '$T/audit/manifest.json'" "manifest.json lists $f"
done
"$CLI" verify "$T/audit/manifest.json" > "$T/v1.out" 2>&1
check "[ $? -eq 0 ]" "verify passes on the audit ($(tail -1 "$T/v1.out"))"
cp "$T/audit/episodes.csv" "$T/ep.bak"
sed -i '2s/,false alarm,/,true alarm,/;2s/,true alarm,/,false alarm,/' "$T/audit/episodes.csv"
"$CLI" verify "$T/audit/manifest.json" > "$T/v2.out" 2>&1
rc=$?
check "[ $rc -ne 0 ] && grep -q 'episodes.csv' '$T/v2.out'" "verify fails on a changed episodes.csv (rc=$rc)"
cp "$T/ep.bak" "$T/audit/episodes.csv"
"$CLI" report "$T/audit" --out "$T/rr" > "$T/rr.out" 2>&1
check "[ $? -eq 0 ] && cmp -s '$T/audit/report.pdf' '$T/rr/report.pdf' && cmp -s '$T/audit/report.xlsx' '$T/rr/report.xlsx'" \
  "whyflag report re-renders from results.json + scores.csv: the same report.pdf and report.xlsx"
cp "$T/audit/scores.csv" "$T/scores.bak"
sed -i '2s/,0,0,,0$/,1,0,,0/' "$T/audit/scores.csv"
"$CLI" report "$T/audit" --out "$T/rr2" > "$T/rr2.out" 2>&1
rc=$?
check "[ $rc -ne 0 ] && grep -q 'scores.csv does not match' '$T/rr2.out' && [ ! -e '$T/rr2/report.pdf' ]" \
  "whyflag report refuses a changed scores.csv (rc=$rc: $(head -1 "$T/rr2.out" | cut -c1-120))"
cp "$T/scores.bak" "$T/audit/scores.csv"

# ---------------------------------------------------------------- an input named like an output
mkdir -p "$T/clash"
head -1 "$T/s/sensor_log.csv" > "$T/clash/log.csv"
grep '^WT01,' "$T/s/sensor_log.csv" >> "$T/clash/log.csv"
cp "$T/s/failures.csv" "$T/clash/episodes.csv"
sum0=$(sha256sum < "$T/clash/episodes.csv")
"$PYJ" - "$T/s/config.json" "$T/clash" << 'PY'
import json, sys
c = json.load(open(sys.argv[1]))
d = sys.argv[2]
c["model"] = sys.argv[1].rsplit("/", 1)[0] + "/" + c["model"]
c["log"]["path"] = "log.csv"
c["failures"]["path"] = "episodes.csv"
json.dump(c, open(d + "/config.json", "w"), indent=1)
PY
"$CLI" audit "$T/clash/config.json" --out "$T/clash" --quiet > "$T/clash.out" 2>&1
rc=$?
check "[ $rc -ne 0 ] && grep -q 'episodes.csv' '$T/clash.out' && grep -q 'overwritten' '$T/clash.out' && [ \"\$(sha256sum < '$T/clash/episodes.csv')\" = '$sum0' ] && [ ! -e '$T/clash/results.json' ]" \
  "a failure log named episodes.csv in --out is refused, untouched (rc=$rc: $(head -1 "$T/clash.out" | cut -c1-140))"

echo "passed: $passes, failed: $fails"
[ $fails -eq 0 ]
