#!/usr/bin/env bash
# Adaptive IG on the sample audit (samples/config.json: the deployed int8 MLP, its 124 flagged
# windows and 50-window background), Gauss-Legendre against nested Clenshaw-Curtis, 1 thread:
#   1. bench_ig_nested on those windows: gradient rows evaluated, CPU seconds, steps, the gap and
#      the error against an 8,193-node integral, and the accuracy per evaluation of both rules;
#   2. `whyflag explain` of the 124 windows with the sample's settings as CPU seconds (least of
#      REPEAT runs, default 3), IG alone and KernelSHAP + IG, with explain.ig_method
#      "gausslegendre" (the rule before the nested one) and "auto" (Clenshaw-Curtis).
# The audit is run once to find the flagged windows and the background (as bench_int8_audit.sh).
# Needs GNU time. usage: tests/bench/bench_ig_sample.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
bin=$build/whyflag
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$root"/samples/{config.json,aurora_int8.onnx,sensor_log.csv,failures.csv} "$tmp"/
"$bin" audit "$tmp/config.json" --threads 1 --out "$tmp/audit" --quiet
"$bin" windows "$tmp/config.json" --out "$tmp/all.json" --quiet
python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
w = json.load(open(d + "/all.json"))
r = json.load(open(d + "/audit/results.json"))
key = lambda x: (x["turbine_id"], x["start"])
for name, keys in (("flagged", {key(x) for x in r["windows"]}),
                   ("background", {key(x) for x in r["background"]["windows"]})):
    o = dict(w)
    o["windows"] = [x for x in w["windows"] if key(x) in keys]
    o["n_windows"] = len(o["windows"])
    o["skipped"], o["n_skipped"] = [], 0
    json.dump(o, open(f"{d}/{name}.json", "w"))
c = json.load(open(d + "/config.json"))
for rule in ("gausslegendre", "auto"):
    for method in ("ig", "both"):
        c["explain"]["ig_method"], c["explain"]["method"] = rule, method
        json.dump(c, open(f"{d}/{rule}_{method}.json", "w"))
PY
"$build/tests/bench/bench_ig_nested" "$tmp/aurora_int8.onnx" "$tmp/flagged.json" \
    "$tmp/background.json" 124
echo
for v in gausslegendre_ig auto_ig gausslegendre_both auto_both; do
    best=""
    for r in $(seq "${REPEAT:-3}"); do
        /usr/bin/time -f "%U %S" -o "$tmp/t" "$bin" explain --model "$tmp/aurora_int8.onnx" \
            --windows "$tmp/flagged.json" --background "$tmp/background.json" \
            --config "$tmp/$v.json" --threads 1 --out "$tmp/$v.out.json" --quiet
        read -r u s <"$tmp/t"
        c=$(python3 -c "print(f'{$u + $s:.2f}')")
        if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $c < $best else 1)"; then best=$c; fi
    done
    echo "whyflag explain, 124 windows, 1 thread, $v: $best s CPU (least of ${REPEAT:-3})"
done
