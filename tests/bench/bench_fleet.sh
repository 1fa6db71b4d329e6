#!/usr/bin/env bash
# Fleet-year benchmark (issue 6): generate a fleet's year of 10-minute SCADA rows (gen_fleet),
# then measure
#   (a) the one-machine audit: wall time, peak RSS, windows/s, explanations/s;
#   (b) the same log as 2 shards run side by side (1 thread each) + merge: wall of the slowest
#       shard and of the merge, peak RSS of each, and that the merged results.json and scores.csv
#       are byte-identical to the one-machine run's (SOURCE_DATE_EPOCH fixed).
# Target of the issue on a 2-core machine: the whole audit in at most 10 minutes, peak RSS < 1 GB.
#
# usage: tests/bench/bench_fleet.sh [--turbines N] [--days D] [--workdir DIR] [--build DIR]
#                                   [--config FILE]   (another config for the same log, e.g. with
#                                   explain.ig_method "auto"; its output_dir is overridden)
#   defaults: 1000 turbines, 365 days, /tmp/whyflag-fleet, ./build-bench (configured with
#   -DWF_BENCH=ON; it needs build/whyflag and build/tests/bench/gen_fleet).
# Needs GNU time (/usr/bin/time, Debian package `time`). The log takes ~3.9 GB of disk.
set -euo pipefail
turbines=1000
days=365
work=/tmp/whyflag-fleet
build=build-bench
config=config.json # gen_fleet's, in the work folder (explain.ig_method "gausslegendre")
while [ $# -gt 0 ]; do
  case "$1" in
    --turbines) turbines=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --workdir) work=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --config) config=$(realpath "$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 1 ;;
  esac
done
cli=$(realpath "$build/whyflag")
gen=$(realpath "$build/tests/bench/gen_fleet")
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 1; }
mkdir -p "$work"
cd "$work"
log="$work/bench_fleet.txt"

# The log, reused when a complete one with the same arguments is there.
if ! grep -q "^turbines=$turbines days=$days " gen_fleet.txt 2> /dev/null; then
  rm -f gen_fleet.txt
  "$gen" --turbines "$turbines" --days "$days" --out "$work" 2> gen.err
fi

export SOURCE_DATE_EPOCH=1735689600
field() { grep -m1 "$1" "$2" | sed 's/.*: //'; }
secs() { # h:mm:ss or m:ss.ss -> seconds
  awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }' <<< "$1"
}

# (a) one machine, all cores
rm -rf one
/usr/bin/time -v "$cli" audit "$config" --out one > one.log 2>&1
wall_one=$(secs "$(field 'Elapsed (wall clock)' one.log)")
rss_one=$(field 'Maximum resident set size' one.log)
summary=$(grep -m1 'windows scored,' one.log)
rates=$(grep -m1 'read, windowed and scored' one.log)
windows=$(sed -E 's/.* ([0-9]+) windows scored.*/\1/' <<< "$summary")
explained=$(sed -E 's/.* ([0-9]+) explained.*/\1/' <<< "$summary")

# (b) two shards side by side, one thread each, then merge
rm -rf shards merged
mkdir -p shards
for k in 0 1; do
  /usr/bin/time -v "$cli" audit "$config" --shard "$k/2" --threads 1 --out "shards/shard-$k" \
    > "shard$k.log" 2>&1 &
done
wait
/usr/bin/time -v "$cli" merge shards/shard-0 shards/shard-1 --out merged > merge.log 2>&1
w0=$(secs "$(field 'Elapsed (wall clock)' shard0.log)")
w1=$(secs "$(field 'Elapsed (wall clock)' shard1.log)")
wm=$(secs "$(field 'Elapsed (wall clock)' merge.log)")
same=no
cmp -s one/results.json merged/results.json && cmp -s one/scores.csv merged/scores.csv && same=yes

{
  echo "fleet: $(cat gen_fleet.txt | head -1)"
  echo "log: $(du -h sensor_log.csv | cut -f1), $(grep -m1 'rows,' one.log | sed -E 's/^ +//')"
  echo
  printf '%-34s %12s %14s\n' "run" "wall (s)" "peak RSS (MB)"
  printf '%-34s %12.1f %14.0f\n' "one machine, 2 threads" "$wall_one" "$((rss_one / 1024))"
  printf '%-34s %12.1f %14.0f\n' "shard 0/2, 1 thread (side by side)" "$w0" \
    "$(($(field 'Maximum resident set size' shard0.log) / 1024))"
  printf '%-34s %12.1f %14.0f\n' "shard 1/2, 1 thread (side by side)" "$w1" \
    "$(($(field 'Maximum resident set size' shard1.log) / 1024))"
  printf '%-34s %12.1f %14.0f\n' "merge" "$wm" "$(($(field 'Maximum resident set size' merge.log) / 1024))"
  echo
  awk -v w="$windows" -v e="$explained" -v t="$wall_one" 'BEGIN {
    printf "one machine: %d windows, %.0f windows/s end to end; %d explained, %.1f explanations/s end to end\n",
      w, w / t, e, e / t }'
  echo "one machine, by phase:$rates"
  awk -v a="$w0" -v b="$w1" -v m="$wm" 'BEGIN {
    s = a > b ? a : b; printf "2 shards side by side + merge: %.1f s (slowest shard %.1f s + merge %.1f s)\n", s + m, s, m }'
  echo "merged results.json and scores.csv byte-identical to the one-machine run: $same"
  echo "target: whole audit <= 600 s, peak RSS < 1024 MB"
} | tee "$log"
[ "$same" = yes ]
