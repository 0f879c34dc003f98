#!/bin/bash
# A pmapstorm sweep as a Slurm job array: one shard per array task, then a
# merge job that starts when every task has succeeded (README, "Sharding a
# run").  Run it by hand on a login node; it submits itself:
#
#   examples/slurm-array.sh configs/mine.ini
#
# The tasks write into results/<array job id>/ on the shared file system;
# the merge writes results/<array job id>/merged.  --array and SHARDS must
# agree.  --exclusive keeps other jobs off a task's node, so its timings
# are its own; the report still flags timings from more than one node.
# machine.cpus = host and ipi.preset = calibrated resolve on each node:
# give the CPU counts and one calibration file explicitly, or the shards
# will not merge.
#SBATCH --job-name=pmapstorm
#SBATCH --array=1-8
#SBATCH --exclusive
#SBATCH --time=02:00:00
#SBATCH --output=pmapstorm-%A_%a.log
set -eu

SHARDS=8
CONFIG=${1:?usage: slurm-array.sh CONFIG}
PMAPSTORM=${PMAPSTORM:-pmapstorm}

if [ -z "${SLURM_ARRAY_TASK_ID:-}" ]; then
	# by hand: submit the array, and the merge after it
	job=$(sbatch --parsable "$0" "$CONFIG")
	sbatch --dependency="afterok:$job" --job-name=pmapstorm-merge --output="pmapstorm-$job-merge.log" \
		--wrap "$PMAPSTORM merge results/$job/merged results/$job/*-shard*of$SHARDS"
	echo "submitted array job $job ($SHARDS shards) and its merge"
	exit 0
fi

# an array task: SLURM_ARRAY_TASK_ID runs 1..SHARDS (--array=1-8), shard K of N
exec "$PMAPSTORM" run "$CONFIG" --shard "env:SLURM_ARRAY_TASK_ID/$SHARDS" \
	--results "results/$SLURM_ARRAY_JOB_ID" --no-plots --quiet --yes
