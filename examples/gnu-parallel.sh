#!/bin/sh
# The shards of a pmapstorm run over a few hosts with GNU parallel (README,
# "Sharding a run"): one shard per host at a time, the experiment file sent
# to each, each shard's results folder brought back, then one merge here.
#
#   examples/gnu-parallel.sh CONFIG N host1,host2,host3
#
# Every host needs the same pmapstorm build on its PATH (merge refuses
# shards of another commit).  GNU parallel's {} is 1..N: shard K of N.
set -eu
CONFIG=$1 N=$2 HOSTS=$3

seq "$N" | parallel --jobs 1 -S "$HOSTS" --basefile "$CONFIG" --workdir ... --return 'shards/{}' --cleanup \
	pmapstorm run "$CONFIG" --shard "{}/$N" --results 'shards/{}' --no-plots --quiet --yes

pmapstorm merge merged shards/*/*-shard*of"$N"
