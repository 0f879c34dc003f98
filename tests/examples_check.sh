#!/usr/bin/env bash
# examples_check.sh -- the sharding examples in examples/ (issue 19), checked
# with what this machine has: shell syntax (bash -n / sh -n, and shellcheck
# when installed), the GitHub Actions workflow as YAML (python3-yaml) with a
# matrix of shards and a merge job that needs it, and every pmapstorm flag
# they use against the command's own --help, each --shard form against the
# parser.  Slurm and GNU parallel themselves are not run (not installed
# here); what runs is said on stdout.
#
#   tests/examples_check.sh PMAPSTORM_BINARY SOURCE_DIR
#
# Exit 0 when everything holds, 1 with a message naming what did not, 2 on
# bad arguments.
set -u

fail() {
	echo "examples_check: FAIL: $*" >&2
	exit 1
}

if [ $# -ne 2 ] || [ ! -x "$1" ] || [ ! -d "$2/examples" ]; then
	echo "usage: examples_check.sh PMAPSTORM_BINARY SOURCE_DIR" >&2
	exit 2
fi
PMAPSTORM=$1
EX="$2/examples"
for f in slurm-array.sh gnu-parallel.sh github-actions-shards.yml; do
	[ -r "$EX/$f" ] || fail "examples/$f is missing"
done

# ---- shell syntax ----
bash -n "$EX/slurm-array.sh" || fail "examples/slurm-array.sh: bash -n"
sh -n "$EX/gnu-parallel.sh" || fail "examples/gnu-parallel.sh: sh -n"
if command -v shellcheck >/dev/null 2>&1; then
	shellcheck "$EX/slurm-array.sh" "$EX/gnu-parallel.sh" || fail "shellcheck of the example scripts"
	echo "examples_check: shellcheck: ok"
else
	echo "examples_check: shellcheck not installed: syntax only"
fi

# ---- the workflow ----
if python3 -c 'import yaml' >/dev/null 2>&1; then
	python3 - "$EX/github-actions-shards.yml" <<'PY' || fail "examples/github-actions-shards.yml: see above"
import sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
jobs = wf["jobs"]
n = int(wf["env"]["SHARDS"])
shard = jobs["shard"]
matrix = shard["strategy"]["matrix"]["shard"]
assert matrix == list(range(1, n + 1)), "the matrix %r is not shards 1..SHARDS (%d)" % (matrix, n)
runs = [s.get("run", "") for s in shard["steps"]]
assert any("--shard" in r and "env:SHARD/$SHARDS" in r for r in runs), "the shard job runs no --shard env:SHARD/$SHARDS"
merge = jobs["merge"]
needs = merge["needs"] if isinstance(merge["needs"], list) else [merge["needs"]]
assert "shard" in needs, "the merge job does not wait for the shards"
assert any("pmapstorm merge" in s.get("run", "") for s in merge["steps"]), "the merge job does not merge"
PY
	echo "examples_check: github-actions-shards.yml: ok (YAML, matrix 1..SHARDS, merge needs shard)"
else
	echo "examples_check: python3-yaml not installed: the workflow is not parsed"
fi

# ---- the flags they use exist, the --shard forms parse ----
for cmd in run merge calibrate; do
	"$PMAPSTORM" "$cmd" --help >"${TMPDIR:-/tmp}/examples_check.$$.$cmd" 2>&1 || fail "pmapstorm $cmd --help"
done
trap 'rm -f "${TMPDIR:-/tmp}"/examples_check.$$.*' EXIT
for f in "$EX"/*; do
	# each "pmapstorm CMD ..." with its continuation lines, then its --flags
	# (pmapstorm, or "$PMAPSTORM" in the Slurm script)
	flags=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$f" | grep -io 'pmapstorm["}]* \(run\|merge\|calibrate\) .*' |
		sed 's/^[^ ]* //' | awk '{ c = $1; for (i = 2; i <= NF; i++) if ($i ~ /^--[a-z]/) { sub(/=.*/, "", $i); print c, $i } }')
	[ -n "$flags" ] || fail "$f: no pmapstorm command found"
	while read -r cmd flag; do
		flag=${flag%%\"*}
		grep -qE -- "$flag([^a-z-]|\$)" "${TMPDIR:-/tmp}/examples_check.$$.$cmd" || fail "$(basename "$f"): pmapstorm $cmd has no $flag"
	done <<<"$flags"
done
try_shard() { # VAR=VALUE SPEC: the spec parses (the missing file is what fails, exit 2 "cannot open")
	out=$(env "$1" "$PMAPSTORM" run /nonexistent/examples_check.ini --shard "$2" 2>&1)
	echo "$out" | grep -q "cannot open" || fail "--shard $2 with $1 does not parse: $out"
}
try_shard SHARD=4 env:SHARD/4
try_shard SLURM_ARRAY_TASK_ID=8 env:SLURM_ARRAY_TASK_ID/8
try_shard X=1 3/3
echo "examples_check: ok"
