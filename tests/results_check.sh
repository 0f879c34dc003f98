#!/usr/bin/env bash
# results_check.sh -- the results folder end to end: what `pmapstorm run`
# writes (run.json valid against docs/run.schema.json, report.md and
# index.html complete) and what `pmapstorm plot` draws from a small fixed
# set of CSV files (tests/data/results-fixture/: "full" has two strategies
# at three CPU counts plus ackmatrix.csv; "empty" has header-only CSV files
# and no ackmatrix.csv, so every plot must say "no data" instead of failing).
#
#   tests/results_check.sh PMAPSTORM_BINARY SOURCE_DIR
#
# Exit 0 when everything holds, 1 with a message naming what did not, 2 on
# bad arguments, 77 (CTest SKIP_RETURN_CODE) when gnuplot or python3's
# jsonschema is missing.  Nothing here depends on timing: the run's numbers
# are only checked for shape, never for speed.
set -u

fail() {
	echo "results_check: FAIL: $*" >&2
	exit 1
}

if [ $# -ne 2 ] || [ ! -x "$1" ] || [ ! -d "$2/plots" ]; then
	echo "usage: results_check.sh PMAPSTORM_BINARY SOURCE_DIR" >&2
	exit 2
fi
PMAPSTORM=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$(cd "$2" && pwd)
export PMAPSTORM_PLOTS="$SRC/plots"

if ! command -v gnuplot >/dev/null 2>&1; then
	echo "results_check: SKIP: gnuplot is not installed (apt-get install gnuplot-nox)" >&2
	exit 77
fi
if ! python3 -c 'import jsonschema' >/dev/null 2>&1; then
	echo "results_check: SKIP: python3 jsonschema is not installed (apt-get install python3-jsonschema)" >&2
	exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/results_check.XXXXXX") || fail "cannot create a temporary folder"
trap 'rm -rf "$TMP"' EXIT

PLOTS="ackmatrix latency_cdf latency_vs_cpus lockwait throughput timeline"

# check_plots DIR: every expected PNG and SVG is there, non-empty, and what it claims to be
check_plots() {
	for p in $PLOTS; do
		for ext in png svg; do
			[ -s "$1/$p.$ext" ] || fail "$1: $p.$ext missing or empty"
		done
		[ "$(head -c 8 "$1/$p.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] ||
			fail "$1/$p.png is not a PNG file"
		grep -q "<svg" "$1/$p.svg" || fail "$1/$p.svg is not an SVG file"
	done
}

# ---- 1. the shared preamble of plots/*.gp has not drifted between scripts ----
first=""
for gp in "$SRC"/plots/*.gp; do
	pre=$(sed -n '/^# ---- shared preamble/,/^# ---- end of shared preamble/p' "$gp")
	[ -n "$pre" ] || fail "$gp: no shared preamble block"
	if [ -z "$first" ]; then
		first=$pre
		firstname=$gp
	elif [ "$pre" != "$first" ]; then
		fail "$gp: its shared preamble differs from $firstname's (keep them identical)"
	fi
done

# ---- 2. a tiny run ----
"$PMAPSTORM" run "$SRC/tests/data/tiny.ini" --results "$TMP/res" --quiet --save-baseline tiny >"$TMP/run.log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "pmapstorm run tests/data/tiny.ini: exit $rc: $(cat "$TMP/run.log")"
RUN="$TMP/res/latest"
[ -d "$RUN" ] || fail "no results/latest after the run"
for f in run.json summary.csv trials.csv latency_cdf.csv lockwait.csv lockstat.csv timeline.csv report.md index.html; do
	[ -s "$RUN/$f" ] || fail "the run left no (or an empty) $f"
done
check_plots "$RUN"
# the baseline: written, never overwritten silently, and gate of the run against it passes
BASE="$TMP/res/baselines/tiny.json"
[ -s "$BASE" ] || fail "--save-baseline tiny wrote no $BASE"
cp "$BASE" "$TMP/base.copy"
"$PMAPSTORM" run "$SRC/tests/data/tiny.ini" --results "$TMP/res" --quiet --save-baseline tiny >"$TMP/run2.log" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "a second --save-baseline tiny: exit $rc, expected 2"
grep -q "exists" "$TMP/run2.log" || fail "a second --save-baseline tiny does not say the baseline exists"
cmp -s "$BASE" "$TMP/base.copy" || fail "a refused --save-baseline changed $BASE"
"$PMAPSTORM" gate "$BASE" "$RUN" >"$TMP/gate.log" 2>&1 || fail "gate of a run against its own baseline: $(tail -3 "$TMP/gate.log")"

# ---- 3. run.json against the schema, and the schema against mutations ----
python3 - "$SRC/docs/run.schema.json" "$RUN/run.json" "$BASE" "$SRC"/results/baselines/*.json <<'EOF' || fail "run.json: see above"
import copy, json, sys
import jsonschema

schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
# baselines (the one just written, and the committed ones) are run.json files too
for path in sys.argv[3:]:
    b = json.load(open(path))
    if b.get("schema") != "pmapstorm-run":
        continue
    for e in list(v.iter_errors(b))[:5]:
        print("%s: /%s: %s" % (path, "/".join(map(str, e.absolute_path)), e.message[:300]), file=sys.stderr)
    if not v.is_valid(b):
        sys.exit(1)
doc = json.load(open(sys.argv[2]))
errors = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errors[:10]:
    print("run.json: /%s: %s" % ("/".join(map(str, e.absolute_path)), e.message[:300]), file=sys.stderr)
if errors:
    sys.exit(1)

# what the schema cannot say
bad = []
if doc["name"] != "tiny":
    bad.append("name is %r, expected 'tiny'" % doc["name"])
for i, p in enumerate(doc["points"]):
    if p["index"] != i:
        bad.append("points[%d].index is %d" % (i, p["index"]))
    if len(p["trials"]) > doc["trials_per_point"]:
        bad.append("points[%d] has more trials than trials_per_point" % i)
    names = set()
    for t in p["trials"]:
        names |= set(t["metrics"])
    if p["trials"] and set(p["summary"]) != names:
        bad.append("points[%d].summary metrics differ from its trials' metrics" % i)
    # deterministic: only event-count metrics, only when every trial agrees
    counts = {"ipis_per_update", "addrs_per_request", "whole_flush_ratio", "tlb_hit_rate", "walks_per_op",
              "ipis_per_op", "errors"}
    for m, s in p["summary"].items():
        vals = [t["metrics"][m]["value"] for t in p["trials"] if m in t["metrics"]]
        agree = len(vals) >= 2 and all(x == vals[0] for x in vals)
        if s["deterministic"] != (m in counts and agree):
            bad.append("points[%d].summary.%s.deterministic is %s (values %s)" % (i, m, s["deterministic"], vals))
    if p["trials"] and not p["summary"]["errors"]["deterministic"]:
        bad.append("points[%d]: errors (0 in every trial) is not marked deterministic" % i)
    for k in doc["sweep_keys"]:
        if k not in p["params"]:
            bad.append("points[%d].params lacks swept key %s" % (i, k))
if len(doc["points"]) != 1 or len(doc["points"][0]["trials"]) != 2 or doc["interrupted"]:
    bad.append("tiny.ini is 1 point x 2 trials, not interrupted")
for b in bad:
    print("run.json: " + b, file=sys.stderr)
if bad:
    sys.exit(1)

# the schema must notice renamed, missing and unexpected fields
def renamed(d, path, new):
    d = copy.deepcopy(d)
    o = d
    for k in path[:-1]:
        o = o[k]
    o[new] = o.pop(path[-1])
    return d

def added(d, path, key):
    d = copy.deepcopy(d)
    o = d
    for k in path:
        o = o[k]
    o[key] = 1
    return d

t0 = ["points", 0, "trials", 0]
mutants = {
    "top-level points renamed": renamed(doc, ["points"], "point"),
    "provenance.commit renamed": renamed(doc, ["provenance", "commit"], "git"),
    "provenance.host_pus renamed": renamed(doc, ["provenance", "host_pus"], "host_cpus"),
    "point params renamed": renamed(doc, ["points", 0, "params"], "parameters"),
    "trial metrics renamed": renamed(doc, t0 + ["metrics"], "metric"),
    "metric unit renamed": renamed(doc, t0 + ["metrics", "ops_per_s", "unit"], "units"),
    "metric ops_per_s renamed": renamed(doc, t0 + ["metrics", "ops_per_s"], "ops"),
    "summary median renamed": renamed(doc, ["points", 0, "summary", "ops_per_s", "median"], "p50"),
    "summary deterministic renamed": renamed(doc, ["points", 0, "summary", "ops_per_s", "deterministic"], "exact"),
    "lockstat field renamed": renamed(doc, t0 + ["lockstat", 0, "wait_total_ns"], "wait_ns"),
    "unexpected trial field": added(doc, t0, "extra"),
    "unexpected top-level field": added(doc, [], "extra"),
}
for what, m in mutants.items():
    if v.is_valid(m):
        print("docs/run.schema.json accepts a run.json with its %s" % what, file=sys.stderr)
        sys.exit(1)
EOF

# ---- 4. the report ----
for h in "## What ran" "## Warnings" "## Summary" "## Plots" "## Points"; do
	grep -qF "$h" "$RUN/report.md" || fail "report.md has no '$h' section"
done
grep -q "ops\\\\_per\\\\_s" "$RUN/report.md" || fail "report.md's summary does not mention ops_per_s"
grep -q "95% CI of median" "$RUN/report.md" || fail "report.md's summary has no confidence interval"
tail -n 1 "$RUN/index.html" | grep -q "</html>" || fail "index.html is incomplete"
grep -q "<table>" "$RUN/index.html" || fail "index.html has no table"
for p in $PLOTS; do
	grep -qF "($p.png)" "$RUN/report.md" || fail "report.md does not show $p.png"
	grep -qF "src=\"$p.png\"" "$RUN/index.html" || fail "index.html does not show $p.png"
done

# ---- 5. plots from the fixed CSV files ----
cp -R "$SRC/tests/data/results-fixture/full" "$TMP/full"
cp -R "$SRC/tests/data/results-fixture/empty" "$TMP/empty"
chmod -R u+w "$TMP/full" "$TMP/empty"
for d in full empty; do
	"$PMAPSTORM" plot "$TMP/$d" >"$TMP/plot-$d.log" 2>&1 || fail "pmapstorm plot on the $d fixture: $(cat "$TMP/plot-$d.log")"
	check_plots "$TMP/$d"
done
for p in $PLOTS; do
	grep -q "no data\|no per-target data" "$TMP/full/$p.svg" && fail "full fixture: $p.svg says there is no data"
	grep -q "no data\|no per-target data" "$TMP/empty/$p.svg" || fail "empty fixture: $p.svg does not say 'no data'"
done
grep -q "no per-target data" "$TMP/empty/ackmatrix.svg" || fail "empty fixture: ackmatrix.svg lacks its placeholder"
# every strategy of the fixture appears in the per-strategy plots
for p in latency_cdf latency_vs_cpus throughput lockwait ackmatrix timeline; do
	for s in netbsd-x86 lazy_batch; do
		grep -q "$s" "$TMP/full/$p.svg" || fail "full fixture: $p.svg does not show strategy $s"
	done
done

# ---- 6. check = on: every trial carries each oracle's counts (schema-valid) ----
printf '[experiment]\nname = checked\ntrials = 1\nwarmup = 0s\nduration = 0.2s\ncheck = on\n[machine]\ncpus = 2\nmemory = 16M\n[role.unmap]\nworkload = munmap\ncpus = 0\npmap = app\nlen = 4\n[role.touch]\nworkload = touch\ncpus = 1\npmap = app\n' >"$TMP/checked.ini"
"$PMAPSTORM" run "$TMP/checked.ini" --results "$TMP/chk" --quiet --no-plots >"$TMP/chk.log" 2>&1 ||
	fail "pmapstorm run with check = on: exit $?: $(cat "$TMP/chk.log")"
python3 - "$SRC/docs/run.schema.json" "$TMP/chk/latest/run.json" <<'EOF2' || fail "check = on: see above"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
jsonschema.Draft202012Validator(schema).validate(doc)
t = doc["points"][0]["trials"][0]
chk = t.get("check")
assert chk is not None, "no 'check' object in the trial although check = on"
assert chk["frame"]["checks"] > 0 and chk["update"]["checks"] > 0, "the TLB-hit oracles checked nothing: %r" % chk
assert all(o["violations"] == 0 for o in chk.values()), "violations on a correct strategy: %r" % chk
assert doc["provenance"]["config"]["check.enabled"] == "on", "provenance does not record check.enabled"
# without check = on there is no 'check' object
EOF2
grep -q '"check"' "$RUN/run.json" && fail "run.json of a run without check = on has a check object"

echo "results_check: ok"
exit 0
