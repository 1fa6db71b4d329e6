#!/usr/bin/env bash
# The sample audit's explanations (samples/config.json: the deployed int8 MLP; the 124 windows it
# flags, its 50-window background, its explain settings: KernelSHAP exact over 8 channels and
# adaptive IG) on one thread, with explain.arithmetic "shortcut" (the default) and "exact", and
# optionally with an older whyflag binary (the "before" of a change), side by side in one run.
# The audit is run once to find the flagged windows and the background; the explanations are
# then timed with `whyflag explain` on exactly those windows, as CPU seconds (user + sys, robust
# on a shared machine) and wall seconds, and the audit's own "explained in" phase time is shown
# for the default. Last, the KernelSHAP bound between the two arithmetics over the audit's 124
# windows (a second audit with "exact"; compare_arith.py): the figure the methods text quotes.
# Needs GNU time (apt-get install time).
# usage: tests/bench/bench_int8_audit.sh [WHYFLAG [BEFORE_WHYFLAG]]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/whyflag}
before=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$root"/samples/{config.json,aurora_int8.onnx,sensor_log.csv,failures.csv} "$tmp"/
phase=$("$bin" audit "$tmp/config.json" --threads 1 --out "$tmp/audit" 2>&1 |
    sed -n 's/.*explained in \([0-9.]*\) s.*/\1/p')
echo "audit (default arithmetic), 1 thread: explanation phase ${phase} s wall"
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
    assert len(o["windows"]) == len(keys), name
    json.dump(o, open(f"{d}/{name}.json", "w"))
c = json.load(open(d + "/config.json"))
c["explain"]["arithmetic"] = "exact"
json.dump(c, open(d + "/config_exact.json", "w"), indent=1)
PY
run() { # label binary config out
    /usr/bin/time -f "%U %S %e" -o "$tmp/$4.time" "$2" explain --model "$tmp/aurora_int8.onnx" \
        --windows "$tmp/flagged.json" --background "$tmp/background.json" --config "$tmp/$3" \
        --threads 1 --out "$tmp/$4.json" --quiet
    read -r u s e <"$tmp/$4.time"
    cpu=$(python3 -c "print(f'{$u + $s:.2f}')")
    echo "$1: ${cpu} s CPU, ${e} s wall (124 windows)"
    eval "cpu_$4=$cpu"
}
run "shortcut (default)" "$bin" config.json short
run "exact arithmetic  " "$bin" config_exact.json exact
python3 -c "print(f'exact/shortcut {$cpu_exact / $cpu_short:.2f}x CPU')"
if [ -n "$before" ]; then
    run "before ($before)" "$before" config.json before
    python3 -c "print(f'before/shortcut {$cpu_before / $cpu_short:.2f}x CPU')"
fi
"$bin" audit "$tmp/config_exact.json" --threads 1 --out "$tmp/audit_exact" --quiet
echo -n "the audit, shortcut vs exact: "
python3 "$root/tests/bench/compare_arith.py" "$tmp/audit/results.json" "$tmp/audit_exact/results.json"
