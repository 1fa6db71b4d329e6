#!/bin/bash
# Submit a sharded whyflag audit to Slurm: an array of N shard tasks, then a merge job that
# starts only when every shard succeeded (afterok).
#   samples/slurm/submit.sh CONFIG.json OUT_DIR [N]
# Environment: WHYFLAG (path to the whyflag binary, default: whyflag on PATH).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CONFIG=$(realpath "$1")
OUT=$(realpath -m "$2")
N=${3:-4}
SHARDS_DIR="$OUT.shards"
mkdir -p "$SHARDS_DIR"
export CONFIG OUT SHARDS_DIR NSHARDS=$N WHYFLAG=${WHYFLAG:-whyflag}
array=$(sbatch --parsable --array=0-$((N - 1)) --chdir="$SHARDS_DIR" --export=ALL "$here/audit-shard.sbatch")
merge=$(sbatch --parsable --dependency=afterok:"$array" --chdir="$SHARDS_DIR" --export=ALL "$here/merge.sbatch")
echo "shards: job $array (array 0-$((N - 1))), merge: job $merge -> $OUT"
