#!/bin/bash
# Submit a sharded whyflag audit to Slurm: a job array of N shard tasks (audit-shard.sbatch), then a
# merge job (merge.sbatch) that starts only when every shard succeeded (--dependency=afterok).
#   samples/slurm/submit.sh CONFIG.json OUT_DIR [N [TASKS]]
# N: number of shards (default 4). TASKS: which shards to run, as an sbatch --array list (default
# 0-(N-1)); to rerun a failed shard alone, give its number, e.g. `submit.sh CONFIG OUT 4 2`: shard 2
# is audited again and the merge job follows it (the other shard folders are already there).
# The shard folders go to OUT_DIR.shards/shard-K, the job logs to OUT_DIR.shards/*.log.
# Environment: WHYFLAG, the whyflag binary (default: whyflag on PATH); SOURCE_DATE_EPOCH and the
# rest of the environment reach the jobs (--export=ALL). Extra sbatch options (partition, account,
# time limit): SBATCH_PARTITION, SBATCH_ACCOUNT, SBATCH_TIMELIMIT, ... as sbatch reads them.
# Prints the two job ids: "shards: job A (array TASKS), merge: job M -> OUT_DIR".
set -euo pipefail
if [ $# -lt 2 ] || [ $# -gt 4 ]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 1
fi
here=$(cd "$(dirname "$0")" && pwd)
CONFIG=$(realpath "$1")
OUT=$(realpath -m "$2")
N=${3:-4}
TASKS=${4:-0-$((N - 1))}
case $N in '' | *[!0-9]* | 0) echo "N must be a positive number, got '$N'" >&2; exit 1 ;; esac
WHYFLAG=${WHYFLAG:-whyflag}
# The jobs run in the shards folder: a relative path to the binary would no longer point at it.
case $WHYFLAG in */*) WHYFLAG=$(realpath "$WHYFLAG") ;; esac
SHARDS_DIR="$OUT.shards"
mkdir -p "$SHARDS_DIR"
export CONFIG OUT SHARDS_DIR NSHARDS=$N WHYFLAG
array=$(sbatch --parsable --array="$TASKS" --chdir="$SHARDS_DIR" --export=ALL \
  "$here/audit-shard.sbatch")
array=${array%%;*} # "id;cluster" on multi-cluster setups
merge=$(sbatch --parsable --dependency=afterok:"$array" --kill-on-invalid-dep=yes \
  --chdir="$SHARDS_DIR" --export=ALL "$here/merge.sbatch")
merge=${merge%%;*}
echo "shards: job $array (array $TASKS), merge: job $merge -> $OUT"
