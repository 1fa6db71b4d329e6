#!/bin/bash
# Issue 11 through shard.bin: a sharded audit of the tree sample (2 shards, then merge) writes
# the same results.json, report.pdf, report.xlsx and scores.csv as the whole run, so TreeSHAP
# values, their agreement with KernelSHAP and IG's "not_applicable" survive the shard format.
# usage: test_trees_shard.sh <whyflag> <source dir> <build dir>
set -u
CLI=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export SOURCE_DATE_EPOCH=1735689600
C="$SRC/samples/config_trees.json"
for k in 0 1; do
    "$CLI" audit "$C" --shard "$k/2" --out "$T/shard-$k" --quiet || { echo "FAIL: shard $k"; exit 1; }
done
"$CLI" merge "$T/shard-1" "$T/shard-0" --out "$T/merged" --quiet || { echo "FAIL: merge"; exit 1; }
"$CLI" audit "$C" --out "$T/whole" --quiet || { echo "FAIL: whole run"; exit 1; }
grep -q '"treeshap": {' "$T/merged/results.json" || { echo "FAIL: no treeshap after merge"; exit 1; }
grep -q '"status": "not_applicable"' "$T/merged/results.json" ||
    { echo "FAIL: no ig not_applicable after merge"; exit 1; }
for f in results.json scores.csv report.xlsx report.pdf; do
    cmp -s "$T/merged/$f" "$T/whole/$f" || { echo "FAIL: merged $f differs from the whole run's"; exit 1; }
done
echo "PASS"
