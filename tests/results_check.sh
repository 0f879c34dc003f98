#!/usr/bin/env bash
# results_check.sh -- the results folder end to end: what `pmapstorm run`
# writes (run.json valid against docs/run.schema.json, report.md and
# index.html complete) and what `pmapstorm plot` draws from fixed sets of
# CSV files (tests/data/results-fixture/: "full" is a real run of full.ini
# beside it -- three strategies at 1 and 8 CPUs, pool churn beside user
# shootdowns and each alone; "one" is "full" cut to its 8-CPU rows, the
# shape of a run with one CPU count; "empty" has header-only CSV files and no
# ackmatrix.csv, so every plot must say "no data" instead of failing;
# "nowait" is "full" with every lock wait 0; "zero50" is "full" with
# every update cost p50 0; and "tall" is "full" with large values that mawk
# prints without a point, and a role that gets no latency panel at 50 s).
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

# the plots: one per plots/NAME.gp
PLOTS=$(cd "$SRC/plots" && ls ./*.gp | sed 's|^\./||; s|\.gp$||')
[ -n "$PLOTS" ] || fail "no plots/*.gp"

# check_plots DIR: every expected PNG and SVG is there, non-empty, and what
# it claims to be; plots.txt lists each plot once, with its script's caption
check_plots() {
	for p in $PLOTS; do
		for ext in png svg; do
			[ -s "$1/$p.$ext" ] || fail "$1: $p.$ext missing or empty"
		done
		[ "$(head -c 8 "$1/$p.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] ||
			fail "$1/$p.png is not a PNG file"
		grep -q "<svg" "$1/$p.svg" || fail "$1/$p.svg is not an SVG file"
		cap=$(sed -n 's/^# caption: *//p' "$SRC/plots/$p.gp" | head -n 1)
		[ "$(grep -c "^$p	" "$1/plots.txt")" = 1 ] || fail "$1/plots.txt does not list $p once"
		grep -qxF "$p	$cap" "$1/plots.txt" || fail "$1/plots.txt: $p's caption is not its script's"
	done
	[ "$(wc -l <"$1/plots.txt")" = "$(echo "$PLOTS" | wc -w)" ] || fail "$1/plots.txt lists plots that do not exist"
	ls -a "$1" | grep -q '^\.plot-' && fail "$1: the scratch folder of plot was left behind"
	return 0
}

# ---- 1. every plot script loads the shared helpers and says what it shows ----
[ -r "$SRC/plots/common.gnuplot" ] || fail "plots/common.gnuplot is missing"
for p in $PLOTS; do
	gp="$SRC/plots/$p.gp"
	grep -q '^load "common.gnuplot"' "$gp" || fail "$gp does not load common.gnuplot"
	# the caption: in the opening comment block, one line, not empty
	sed -n '1,/^[^#]/p' "$gp" | grep -q '^# caption: ..' || fail "$gp has no '# caption:' line in its opening comments"
	sed -n '1,/^[^#]/p' "$gp" | grep -q '^# order: [0-9]' || fail "$gp has no '# order:' line in its opening comments"
	grep -q "set output NAME" "$gp" && grep -q "^NAME = \"$p\"" "$gp" || fail "$gp does not write $p.png/.svg"
done

# ---- 2. a tiny run ----
"$PMAPSTORM" run "$SRC/tests/data/tiny.ini" --results "$TMP/res" --quiet --save-baseline tiny >"$TMP/run.log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "pmapstorm run tests/data/tiny.ini: exit $rc: $(cat "$TMP/run.log")"
RUN="$TMP/res/latest"
[ -d "$RUN" ] || fail "no results/latest after the run"
for f in run.json summary.csv trials.csv update_ccdf.csv lockwait.csv lockstat.csv timeline.csv recorded.csv plots.txt report.md index.html; do
	[ -s "$RUN/$f" ] || fail "the run left no (or an empty) $f"
done
check_plots "$RUN"
grep -qx '0,netbsd-x86,2,,1,1' "$RUN/recorded.csv" || fail "recorded.csv of tiny.ini does not say it recorded both"
# statistics off: recorded.csv says so, and the plots draw what was measured
# and say "not recorded" for the rest, without a gnuplot warning.  A
# seed whose trial seeds reach 2^63 (seed * 1000003 + trial, so kept to 63
# bits): its run.json is valid against the schema below
"$PMAPSTORM" run "$SRC/tests/data/tiny.ini" --results "$TMP/off" --quiet --set stats.enabled=off \
	--set report.primary=update_cost_p50 --set experiment.seed=9223372036854 >"$TMP/off.log" 2>&1 ||
	fail "pmapstorm run tiny.ini with stats.enabled=off: $(cat "$TMP/off.log")"
[ -s "$TMP/off.log" ] && fail "pmapstorm run tiny.ini with stats.enabled=off wrote: $(head -5 "$TMP/off.log")"
check_plots "$TMP/off/latest"
grep -qx '0,netbsd-x86,2,,0,0' "$TMP/off/latest/recorded.csv" || fail "recorded.csv with stats.enabled=off does not say 0,0"
grep -qF 'update\_cost\_p50.unmap not measured (stats.enabled = off)' "$TMP/off/latest/report.md" ||
	fail "report.md with stats.enabled=off and a statistic as the primary metric does not say it was not measured"
for p in update_ccdf ackmatrix lockwait latency_vs_cpus; do
	grep -q "not recorded" "$TMP/off/latest/$p.svg" || fail "$p.svg with stats.enabled=off does not say 'not recorded'"
done
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
python3 - "$SRC/docs/run.schema.json" "$RUN/run.json" "$BASE" "$TMP/off/latest/run.json" "$SRC"/results/baselines/*.json <<'EOF' || fail "run.json: see above"
import copy, json, sys
import jsonschema

schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
# baselines (the one just written, and the committed ones) are run.json files
# too, and so is the run of the large seed
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
    counts = {k for k, d in doc["metric_defs"].items() if d["deterministic_candidate"]}
    for m, s in p["summary"].items():
        if m.split(".")[0] not in doc["metric_defs"]:
            bad.append("points[%d]: metric %s is not in metric_defs (the catalog)" % (i, m))
        vals = [t["metrics"][m]["value"] for t in p["trials"] if m in t["metrics"]]
        agree = len(vals) >= 2 and all(x == vals[0] for x in vals)
        if s["deterministic"] != (m.split(".")[0] in counts and agree):
            bad.append("points[%d].summary.%s.deterministic is %s (values %s)" % (i, m, s["deterministic"], vals))
    if p["trials"] and not p["summary"]["errors"]["deterministic"]:
        bad.append("points[%d]: errors (0 in every trial) is not marked deterministic" % i)
    for k in doc["sweep_keys"]:
        if k not in p["params"]:
            bad.append("points[%d].params lacks swept key %s" % (i, k))
    # a lock class without a timed hold has no hold time, not 0
    for t in p["trials"]:
        for row in t["lockstat"]:
            for f in ("hold_avg_ns", "hold_max_ns", "hold_p99_ns"):
                if (row[f] is None) != (row["hold_samples"] == 0):
                    bad.append("points[%d] lockstat %s: %s is %r with %d hold samples" %
                               (i, row["class"], f, row[f], row["hold_samples"]))
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
    "metric unit renamed": renamed(doc, t0 + ["metrics", "errors", "unit"], "units"),
    "metric errors renamed": renamed(doc, t0 + ["metrics", "errors"], "errs"),
    "summary median renamed": renamed(doc, ["points", 0, "summary", "errors", "median"], "p50"),
    "summary deterministic renamed": renamed(doc, ["points", 0, "summary", "errors", "deterministic"], "exact"),
    "summary quartile renamed": renamed(doc, ["points", 0, "summary", "errors", "q1"], "p25"),
    "trial host renamed": renamed(doc, t0 + ["host"], "machine"),
    "lockstat sites renamed": renamed(doc, t0 + ["lockstat", 0, "sites"], "callers"),
    "metric_defs renamed": renamed(doc, ["metric_defs"], "metrics"),
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
for h in "## Answer" "## What ran" "## Warnings" "## Findings" "## Metrics" "## Plots" "## Points" "## Glossary"; do
	grep -qF "$h" "$RUN/report.md" || fail "report.md has no '$h' section"
done
grep -q "ops\\\\_per\\\\_s\\.unmap" "$RUN/report.md" || fail "report.md does not mention ops_per_s.unmap"
grep -qF "median \\[q1, q3\\]" "$RUN/report.md" || fail "report.md's tables have no quartiles"
tail -n 1 "$RUN/index.html" | grep -q "</html>" || fail "index.html is incomplete"
grep -q "<table>" "$RUN/index.html" || fail "index.html has no table"
# the report shows every plot plots.txt lists; index.html inlines each (base64)
for p in $PLOTS; do
	grep -qF "($p.png)" "$RUN/report.md" || fail "report.md does not show $p.png"
done
[ "$(grep -o '<img [^>]*src="data:image/png;base64,' "$RUN/index.html" | wc -l)" = "$(echo "$PLOTS" | wc -w)" ] ||
	fail "index.html does not inline every plot"

# ---- 5. plots from the fixed CSV files ----
FIX="$SRC/tests/data/results-fixture"
cp -R "$FIX/full" "$TMP/full"
cp -R "$FIX/empty" "$TMP/empty"
mkdir "$TMP/one" "$TMP/nowait"
for f in "$FIX"/full/*.csv; do
	awk -F, 'NR==1 || $3==8' "$f" >"$TMP/one/$(basename "$f")"
done
cp "$FIX"/full/*.csv "$TMP/nowait/"
awk -F, -v OFS=, 'NR>1{$7=0} {print}' "$FIX/full/lockwait.csv" >"$TMP/nowait/lockwait.csv"
# "zero50": every update cost p50 is 0, as a pool role's completions that
# touch no TLB are; a log axis cannot draw 0, and an empty series would
# make gnuplot warn
mkdir "$TMP/zero50"
cp "$FIX"/full/*.csv "$TMP/zero50/"
awk -F, -v OFS=, 'NR>1 && $5 ~ /^update_cost_p50[.]/{$9=0; $10=0; $12=0; $13=0} {print}' "$FIX/full/summary.csv" \
	>"$TMP/zero50/summary.csv"
# "tall": a role that gets no latency panel (the second role of a mix)
# takes 50 s a completion, and the panels' time axis must not stretch to
# it; where churn is the first role, 3 s.  Each plot's largest value is one
# that mawk prints without a point ("3e+09", "2e+06"), which gnuplot's
# real() refuses
mkdir "$TMP/tall"
cp "$FIX"/full/*.csv "$TMP/tall/"
awk -F, -v OFS=, 'NR>1 && $5 ~ /^(update_cost_p99|remote_latency_p50)[.]churn$/{v = $4 ~ /^pool-kernel/ ? 3e9 : 5e10
	$9=v; $10=v; $11=v; $12=v; $13=v} {print}' "$FIX/full/summary.csv" >"$TMP/tall/summary.csv"
awk -F, -v OFS=, 'NR==2{$7=3e9} {print}' "$FIX/full/ackmatrix.csv" >"$TMP/tall/ackmatrix.csv"
awk -F, -v OFS=, 'NR>1 && $7 ~ /^ops_per_s[.]/{$8=2000000.5} {print}' "$FIX/full/timeline.csv" >"$TMP/tall/timeline.csv"
awk -F, -v OFS=, 'NR>1{$6=3e9} {print}' "$FIX/full/update_ccdf.csv" >"$TMP/tall/update_ccdf.csv"
chmod -R u+w "$TMP/full" "$TMP/empty"
for d in full one empty nowait zero50 tall; do
	"$PMAPSTORM" plot "$TMP/$d" >"$TMP/plot-$d.log" 2>&1 || fail "pmapstorm plot on the $d fixture: $(cat "$TMP/plot-$d.log")"
	# nothing on stderr (gnuplot's warnings included), one line per plot on stdout
	"$PMAPSTORM" plot "$TMP/$d" 2>"$TMP/plot-$d.err" >"$TMP/plot-$d.out"
	[ -s "$TMP/plot-$d.err" ] && fail "pmapstorm plot on the $d fixture wrote to stderr: $(head -5 "$TMP/plot-$d.err")"
	for p in $PLOTS; do
		grep -q "^  $p.png: " "$TMP/plot-$d.out" || fail "pmapstorm plot on the $d fixture does not say it drew $p"
	done
	check_plots "$TMP/$d"
done
# --quiet: silent, and the same files
rm -f "$TMP/full/plots.txt"
"$PMAPSTORM" plot "$TMP/full" --quiet >"$TMP/plot-quiet.out" 2>&1 || fail "pmapstorm plot --quiet: $(cat "$TMP/plot-quiet.out")"
[ -s "$TMP/plot-quiet.out" ] && fail "pmapstorm plot --quiet printed: $(head -3 "$TMP/plot-quiet.out")"
check_plots "$TMP/full"
# reading order: plots.txt follows the scripts' '# order:' lines
want=$(for p in $PLOTS; do printf '%s %s\n' "$(sed -n 's/^# order: *//p' "$SRC/plots/$p.gp")" "$p"; done | sort -k1,1n -k2 | cut -d' ' -f2)
[ "$(cut -f1 "$TMP/full/plots.txt")" = "$want" ] || fail "plots.txt is not in the scripts' order: $(cut -f1 "$TMP/full/plots.txt" | tr '\n' ' ')"

for p in $PLOTS; do
	grep -q "no data" "$TMP/full/$p.svg" && fail "full fixture: $p.svg says there is no data"
	grep -q "no data" "$TMP/one/$p.svg" && fail "one-CPU-count fixture: $p.svg says there is no data"
	grep -q "no data" "$TMP/empty/$p.svg" || fail "empty fixture: $p.svg does not say 'no data'"
done
grep -q "no lock wait" "$TMP/nowait/lockwait.svg" || fail "nowait fixture: lockwait.svg does not say 'no lock wait'"
# every strategy of the fixture appears in the per-strategy plots; broadcast
# acknowledges nothing, and the ack matrix says so
for p in $PLOTS; do
	for s in netbsd-x86 latr broadcast; do
		grep -q ">$s<\|[ >]$s[,<]" "$TMP/full/$p.svg" || fail "full fixture: $p.svg does not show strategy $s"
	done
done
grep -q "no acknowledgements: broadcast" "$TMP/full/ackmatrix.svg" || fail "full fixture: ackmatrix.svg does not name broadcast as acknowledging nothing"
# the facets show as panels: the mix and the swept kmem.poolpage
grep -q "pool / kmem.poolpage=direct" "$TMP/full/throughput.svg" || fail "full fixture: throughput.svg has no panel for pool / kmem.poolpage=direct"
grep -q "alone: pool-user" "$TMP/full/interference.svg" || fail "full fixture: interference.svg does not pair role user with pool-user"
# CPU counts: the full fixture spans 8x (log2 axes), the one-count cut says it has one
grep -q "simulated CPUs" "$TMP/full/latency_vs_cpus.svg" || fail "full fixture: latency_vs_cpus.svg has no CPU axis"
grep -q ">1 s<" "$TMP/tall/latency_vs_cpus.svg" || fail "tall fixture: latency_vs_cpus.svg's time axis does not reach the 3 s of its churn panel"
grep -q "10 s<" "$TMP/tall/latency_vs_cpus.svg" && fail "tall fixture: latency_vs_cpus.svg's time axis reaches 10 s for a role it draws no panel of"
grep -q "the run has one CPU count" "$TMP/one/latency_vs_cpus.svg" || fail "one-CPU-count fixture: latency_vs_cpus.svg does not say the run has one CPU count"

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

# ---- 7. shards and their merge (issue 19): schema-valid, with plots and report ----
for k in 1 2; do
	"$PMAPSTORM" run "$SRC/tests/data/tiny.ini" --results "$TMP/shards" --quiet --no-plots --shard "$k/2" \
		>"$TMP/shard$k.log" 2>&1 || fail "pmapstorm run --shard $k/2: exit $?: $(cat "$TMP/shard$k.log")"
done
"$PMAPSTORM" merge "$TMP/shards/merged" "$TMP"/shards/*-tiny-shard*of2 >"$TMP/merge.log" 2>&1 ||
	fail "pmapstorm merge: exit $?: $(cat "$TMP/merge.log")"
MERGED="$TMP/shards/merged"
check_plots "$MERGED"
for f in run.json summary.csv trials.csv placement.csv topology.xml topology-shard1.xml topology-shard2.xml report.md index.html; do
	[ -s "$MERGED/$f" ] || fail "the merged folder has no (or an empty) $f"
done
grep -q "Shards.*merged from 2 shards" "$MERGED/report.md" || fail "the merged report does not say it was merged from 2 shards"
grep -q "One shard of a run" "$TMP"/shards/*-tiny-shard1of2/report.md || fail "a shard's report does not say it is one shard"
"$PMAPSTORM" gate "$RUN" "$MERGED" --deterministic-only >"$TMP/gate-merged.log" 2>&1
[ $? -le 1 ] || fail "gate of the merged folder: $(tail -3 "$TMP/gate-merged.log")"
python3 - "$SRC/docs/run.schema.json" "$MERGED/run.json" "$TMP"/shards/*-tiny-shard*of2/run.json <<'EOF3' || fail "shards and merge: see above"
import json, sys
import jsonschema
v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
docs = [json.load(open(p)) for p in sys.argv[2:]]
for path, d in zip(sys.argv[2:], docs):
    for e in list(v.iter_errors(d))[:5]:
        print("%s: /%s: %s" % (path, "/".join(map(str, e.absolute_path)), e.message[:300]), file=sys.stderr)
    if not v.is_valid(d):
        sys.exit(1)
merged, shards = docs[0], docs[1:]
assert "merged" in merged and "shard" not in merged, "the merged run.json is not marked merged"
assert merged["merged"]["count"] == 2 and len(merged["merged"]["shards"]) == 2
assert sorted(s["shard"]["index"] for s in shards) == [1, 2] and all(s["shard"]["count"] == 2 for s in shards)
# tiny.ini: 1 point x 2 trials, one in each shard, both in the merge
assert [len(s["points"][0]["trials"]) for s in shards] == [1, 1], "each shard of tiny.ini should hold one trial"
assert [t["trial"] for t in merged["points"][0]["trials"]] == [0, 1]
assert merged["points"][0]["summary"]["errors"]["n"] == 2
# the schema notices a misspelt shard or merged field
bad = json.loads(json.dumps(shards[0])); bad["shard"]["idx"] = bad["shard"].pop("index")
assert not v.is_valid(bad), "the schema accepts shard.index renamed"
bad = json.loads(json.dumps(merged)); bad["merged"]["shards"][0]["extra"] = 1
assert not v.is_valid(bad), "the schema accepts an unexpected field in merged.shards"
EOF3

echo "results_check: ok"
exit 0
