#!/usr/bin/env bash
# Issue 17, "one atomic publish": kill -9 an audit at many points, including every step of the
# publish, and check that the output folder then holds the old set or the new set, never a mix,
# and that `whyflag verify` passes on what is there (verify first finishes a publish whose
# journal was committed; see src/audit/publish.c).
#
# Run by hand (about 3 minutes on 2 cores; needs strace for the syscall-exact points):
#   tests/hostile/kill_loop.sh [BUILD_DIR]        (default ./build)
# Kill points:
#   - every rename(2), rmdir(2), mkdir(2) and fsync(2) of the run, and every 3rd unlink(2): the
#     process gets SIGKILL on entering the K-th such call (strace -e inject=...:signal=KILL),
#     which covers each step of staging, journal and publish exactly;
#   - 20 kills at times spread evenly over the run (sleep, then kill -9).
# After each kill: verify must pass and results.json must be the old or the new set's; then a
# fresh audit into the same folder must succeed and verify (recovery by the next run).
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(realpath "${1:-$SRC/build}")
CLI=$BUILD/whyflag
[ -x "$CLI" ] || { echo "no $CLI: build first"; exit 2; }
command -v strace > /dev/null || { echo "strace is needed (apt-get install strace)"; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/wfkill.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
export SOURCE_DATE_EPOCH=1735689600
cp "$SRC/samples/aurora_int8.onnx" "$SRC/samples/failures.csv" .
awk -F, 'NR == 1 || $1 == "WT01" || $1 == "WT03"' "$SRC/samples/sensor_log.csv" > log.csv
sed -e 's|"sensor_log.csv"|"log.csv"|' -e 's|"output_dir": *"[^"]*"|"output_dir": "out"|' \
  "$SRC/samples/config.json" > old.json
sed 's/"threshold": *[0-9.]*/"threshold": 0.6/' old.json > new.json
cmp -s old.json new.json && { echo "could not derive a second config"; exit 2; }

"$CLI" audit old.json --out "$T/old-set" --quiet || exit 2
"$CLI" audit new.json --out "$T/new-set" --quiet || exit 2
OLD=$(sha256sum < old-set/results.json)
NEW=$(sha256sum < new-set/results.json)
[ "$OLD" != "$NEW" ] || { echo "old and new sets are the same"; exit 2; }
t0=$(date +%s.%N)
"$CLI" audit new.json --out "$T/timing" --quiet
t1=$(date +%s.%N)
run_s=$(echo "$t1 - $t0" | bc)

points=0 fails=0 olds=0 news=0 recovered=0
check_point() { # label
  points=$((points + 1))
  local v rc h
  v=$("$CLI" verify out/manifest.json 2>&1)
  rc=$?
  grep -q "was moved in now" <<< "$v" && recovered=$((recovered + 1))
  h=$(sha256sum < out/results.json)
  if [ $rc -ne 0 ]; then
    fails=$((fails + 1))
    echo "FAIL $1: verify rc=$rc: $(tail -2 <<< "$v" | tr '\n' ' ')"
  elif [ "$h" = "$OLD" ]; then
    olds=$((olds + 1))
  elif [ "$h" = "$NEW" ]; then
    news=$((news + 1))
  else
    fails=$((fails + 1))
    echo "FAIL $1: results.json is neither the old nor the new set's"
  fi
  if ls -A out | grep -q '^\.whyflag-staging-'; then
    fails=$((fails + 1))
    echo "FAIL $1: a staging folder is left after verify: $(ls -A out | tr '\n' ' ')"
  fi
  # the next run into the folder succeeds
  if ! "$CLI" audit new.json --out out --quiet 2> next.err ||
    ! "$CLI" verify out/manifest.json > /dev/null 2>&1; then
    fails=$((fails + 1))
    echo "FAIL $1: the next run did not succeed: $(tail -1 next.err)"
  fi
}
reset_out() { rm -rf out && cp -a old-set out; }

# syscall-exact points
for call in rename rmdir mkdir fsync unlink; do
  n=$(strace -f -qq -e trace=$call -o "count.$call" "$CLI" audit new.json --out "$T/count-$call" --quiet 2>&1 > /dev/null; grep -c "$call(" "count.$call")
  step=1
  [ "$call" = unlink ] && step=3
  for ((k = 1; k <= n; k += step)); do
    reset_out
    (strace -f -qq -o /dev/null -e trace=$call -e "inject=$call:signal=KILL:when=$k" \
      "$CLI" audit new.json --out out --quiet) > /dev/null 2>&1
    check_point "$call #$k of $n"
  done
  echo "$call: $n calls in a run, killed at every ${step}: points so far $points, failures $fails"
done
# timed points
for i in $(seq 1 20); do
  reset_out
  d=$(echo "scale=3; $run_s * $i / 21" | bc)
  "$CLI" audit new.json --out out --quiet > /dev/null 2>&1 &
  pid=$!
  sleep "$d"
  kill -9 $pid 2> /dev/null
  wait $pid 2> /dev/null
  check_point "time ${d}s of ${run_s}s"
done
echo "kill points: $points ($((points - 20)) at syscalls, 20 timed over a ${run_s}s run);" \
  "old set after the kill: $olds, new set: $news (of which $recovered finished by verify);" \
  "failures: $fails"
[ $fails -eq 0 ]
