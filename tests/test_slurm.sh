#!/usr/bin/env bash
# A sharded audit on a real Slurm cluster (single node, localhost; tests/slurm/cluster.sh): the
# samples audited as a 4-task job array through samples/slurm/submit.sh, merged by a job that
# depends on it (afterok), and the merged results.json compared byte for byte with the one-machine
# run under the same SOURCE_DATE_EPOCH. Then the rerun drill the README documents: a 2-shard run
# whose shard 1 fails (injected), the merge job cancelled with it, shard 1 rerun alone with
# `submit.sh CONFIG OUT 2 1`, and the merge then succeeding with the same bytes.
# Without the Slurm packages (or root) the test exits 77: skipped, never passed.
# Args: CLI SOURCE_DIR BUILD_DIR.
set -u
CLI=$(realpath "$1")
SRC=$(realpath "$2")
# shellcheck source=tests/slurm/cluster.sh
source "$SRC/tests/slurm/cluster.sh"
if ! why=$(wf_slurm_available); then
  echo "skipped: no Slurm cluster possible here: $why"
  exit 77
fi
# Variables of an enclosing Slurm job (ctest run inside one) must not reach our sbatch or jobs.
for v in $(compgen -e | grep -E '^(SLURM|SBATCH|SALLOC|SRUN)_'); do unset "$v"; done

# /tmp, not TMPDIR: the munge socket path must stay short.
T=$(mktemp -d /tmp/wfslurm.XXXXXX)
cluster=$T/cluster
started=0
cleanup() {
  [ "$started" -eq 1 ] && wf_slurm_stop "$cluster"
  rm -rf "$T"
}
trap cleanup EXIT
trap 'echo "FAIL: interrupted"; exit 130' INT TERM HUP

fails=0
passes=0
ok() { passes=$((passes + 1)); echo "ok: $*"; }
bad() { fails=$((fails + 1)); echo "FAIL: $*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
# The job logs of a run, for a failure message.
show_logs() {
  local f
  for f in "$1"/*.log; do
    [ -f "$f" ] || continue
    echo "  --- $(basename "$f"):"
    tail -5 "$f" | sed 's/^/  | /'
  done
}
finish() {
  echo "$passes passed, $fails failed ($(since "$t_all"))"
  [ $fails -eq 0 ]
  exit
}
t_all=$(now)

export SOURCE_DATE_EPOCH=1735689600 # 2025-01-01T00:00:00Z, exported to the jobs (--export=ALL)
cp -r "$SRC/samples" "$T/samples"
chmod -R u+w "$T/samples"
config=$T/samples/config.json
submit=$T/samples/slurm/submit.sh

# ---------------------------------------------------------------- the cluster
t=$(now)
started=1
if wf_slurm_start "$cluster" 2> "$T/start.err"; then
  ok "single-node Slurm cluster up ($(since "$t"), $(grep -o 'SlurmctldPort=[0-9]*' "$SLURM_CONF"))"
else
  bad "Slurm cluster did not start: $(tail -3 "$T/start.err"); $(tail -3 "$cluster"/log/slurmctld.log 2>/dev/null)"
  finish
fi

# Submit with submit.sh, print its line; sets $array and $merge.
submit_run() {
  local line
  if ! line=$(WHYFLAG=${WHYFLAG:-$CLI} bash "$submit" "$@" 2> "$T/submit.err"); then
    bad "submit.sh $*: $(cat "$T/submit.err")"
    return 1
  fi
  array=$(sed -n 's/^shards: job \([0-9]*\) .*/\1/p' <<<"$line")
  merge=$(sed -n 's/.*merge: job \([0-9]*\) .*/\1/p' <<<"$line")
  if [ -z "$array" ] || [ -z "$merge" ]; then
    bad "submit.sh printed no job ids: '$line'"
    return 1
  fi
  ok "submit.sh $(basename "$2") ${3:-4} ${4:-}: $line"
}

# ---------------------------------------------------------------- 4 shards as a job array, merge
run4=$T/run4/out
t=$(now)
if submit_run "$config" "$run4" 4; then
  if wf_slurm_wait_ok "$array" 60 2> "$T/wait.err"; then
    ok "array job $array: 4 shard tasks COMPLETED ($(since "$t"))"
    if wf_slurm_wait_ok "$merge" 40 2> "$T/wait.err"; then
      ok "merge job $merge (afterok:$array) COMPLETED ($(since "$t") from submission)"
    else
      bad "merge job $merge: $(cat "$T/wait.err")"
      show_logs "$run4.shards"
    fi
  else
    bad "array job $array: $(cat "$T/wait.err")"
    show_logs "$run4.shards"
  fi
  for k in 0 1 2 3; do
    s=$run4.shards/shard-$k
    if [ -s "$s/shard.bin" ] && [ -s "$s/manifest.json" ] && [ ! -e "$s/report.pdf" ]; then
      ok "shard-$k holds shard.bin and manifest.json, no report"
    else
      bad "shard-$k: $(ls -A "$s" 2>&1 | tr '\n' ' ')"
    fi
  done
fi

# ---------------------------------------------------------------- a failed shard rerun alone
# WHYFLAG is a wrapper that fails shard 1/2 while $T/fail exists, as a crashed node would.
cat > "$T/whyflag-flaky" <<EOF
#!/bin/bash
if [ -e "$T/fail" ] && [[ " \$* " == *" --shard 1/2 "* ]]; then
  echo "injected failure of shard 1/2" >&2
  exit 5
fi
exec "$CLI" "\$@"
EOF
chmod +x "$T/whyflag-flaky"
touch "$T/fail"
run2=$T/run2/out
t=$(now)
if WHYFLAG=$T/whyflag-flaky submit_run "$config" "$run2" 2; then
  wf_slurm_wait_ok "$array" 60 2> "$T/wait.err"
  if grep -q 'ArrayTaskId=1 .*JobState=FAILED' <(scontrol -o show job "$array") &&
    grep -q 'ArrayTaskId=0 .*JobState=COMPLETED' <(scontrol -o show job "$array"); then
    ok "drill: shard 0/2 COMPLETED, shard 1/2 FAILED ($(since "$t"))"
  else
    bad "drill: expected shard 0 COMPLETED and 1 FAILED: $(cat "$T/wait.err")"
    show_logs "$run2.shards"
  fi
  for _ in $(seq 1 50); do
    [ -z "$(squeue -h -j "$merge" 2>/dev/null)" ] && break
    sleep 0.2
  done
  state=$(scontrol -o show job "$merge" | grep -o 'JobState=[A-Z_]*')
  if [ "$state" = JobState=CANCELLED ] && [ ! -e "$run2/results.json" ]; then
    ok "drill: the merge job did not run and left the queue ($state, --kill-on-invalid-dep)"
  else
    bad "drill: merge job $merge after a failed shard: $state; $(ls "$run2" 2>&1)"
  fi
  rm -f "$T/fail"
  t=$(now)
  if WHYFLAG=$T/whyflag-flaky submit_run "$config" "$run2" 2 1; then
    if wf_slurm_wait_ok "$array" 60 2> "$T/wait.err" && wf_slurm_wait_ok "$merge" 40 2>> "$T/wait.err"; then
      ok "drill: shard 1/2 rerun alone and merged ($(since "$t"))"
    else
      bad "drill: rerun of shard 1/2 or its merge: $(cat "$T/wait.err")"
      show_logs "$run2.shards"
    fi
  fi
fi

# ---------------------------------------------------------------- shut down, nothing left
t=$(now)
wf_slurm_stop "$cluster" 2> "$T/stop.err"
started=0
left=$(wf_slurm_leftovers "$cluster")
for p in slurmctld slurmd munged; do
  [ -s "$cluster/$p.pid" ] && kill -0 "$(cat "$cluster/$p.pid" 2>/dev/null)" 2>/dev/null && left="$left $p"
done
if [ -z "$left" ] && [ ! -s "$T/stop.err" ]; then
  ok "cluster shut down, no daemon, step or job process left ($(since "$t"))"
else
  bad "after shutdown: left $left; $(cat "$T/stop.err")"
fi

# ---------------------------------------------------------------- the one-machine run, compared
t=$(now)
if "$CLI" audit "$config" --out "$T/single" --quiet 2> "$T/single.err"; then
  ok "one-machine audit ($(since "$t"))"
else
  bad "one-machine audit: $(tail -3 "$T/single.err")"
fi
want=$(cd "$T/single" 2>/dev/null && ls | tr '\n' ' ')
for run in "$run4" "$run2"; do
  name=$(basename "$(dirname "$run")")
  for f in report.pdf report.xlsx manifest.json; do
    if [ -s "$run/$f" ]; then ok "$name: merge wrote $f"; else bad "$name: no $f from merge"; fi
  done
  got=$(cd "$run" 2>/dev/null && ls | tr '\n' ' ')
  if [ "$got" = "$want" ]; then
    ok "$name: merged outputs are the one-machine set ($want)"
  else
    bad "$name: merged outputs '$got', one-machine '$want'"
  fi
  if [ ! -s "$run/results.json" ]; then
    bad "$name: no merged results.json"
  elif cmp -s "$run/results.json" "$T/single/results.json"; then
    ok "$name: merged results.json is byte-identical to the one-machine run ($(wc -c < "$run/results.json") bytes)"
  else
    bad "$name: merged results.json differs from the one-machine run: $(cmp "$run/results.json" "$T/single/results.json" 2>&1)"
    diff <(tr ',' '\n' < "$run/results.json") <(tr ',' '\n' < "$T/single/results.json") | head -8 | sed 's/^/  /'
  fi
  if [ -s "$run/manifest.json" ]; then
    if "$CLI" verify "$run/manifest.json" > "$T/verify.out" 2>&1; then
      ok "$name: whyflag verify accepts the merged manifest"
    else
      bad "$name: whyflag verify: $(tail -3 "$T/verify.out")"
    fi
  fi
done
finish
