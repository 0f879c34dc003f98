#!/usr/bin/env bash
# signals.sh -- `pmapstorm run` under SIGINT and SIGTERM, end to end.
#
#   tests/signals.sh PMAPSTORM_BINARY
#
# 1. One signal in the middle of a 60-second trial: the run stops at the
#    CPUs' next interrupt point (the trial is not finished, so it is not
#    recorded), writes a result marked "interrupted": true, exits 130.
# 2. SIGTERM does the same.
# 3. The same signal twice at once from one process (as GNU timeout sends
#    it to the run and then to its process group) is one signal: the
#    partial result is written, exit 130.
# 4. Two signals from two processes: exit 130 at once; every published results
#    folder is whole (run.json parses), the folder of an earlier run is byte
#    for byte what it was, and the unfinished .tmp-NAME-PID folder, if the
#    second signal left one, is removed by the next run.
# 5. A signal while the plots are drawn (a gnuplot on PATH that sends it,
#    as a terminal's ^C reaches the whole group, and dies): exit 130, every
#    trial kept and run.json not marked interrupted, no plot listed, no
#    "failed", and stderr names `pmapstorm plot`.  With violations found
#    (a mutant under check = on) exit 1 outranks it, and both are said.
# 6. A run interrupted mid-run still draws the plots of what it has (with
#    gnuplot installed).
# Nothing here depends on timing: the script waits for the run's temporary
# folder to appear (the handlers are installed by then), and a run that did
# not stop mid-trial shows up as a finished trial, which fails the check.
set -u

fail() {
	echo "signals: FAIL: $*" >&2
	exit 1
}
[ $# -eq 1 ] && [ -x "$1" ] || { echo "usage: signals.sh PMAPSTORM_BINARY" >&2; exit 2; }
PMAPSTORM=$1
SRC=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/signals.XXXXXX") || fail "cannot create a temporary folder"
trap 'kill -KILL $pid 2>/dev/null; rm -rf "$TMP"' EXIT
pid=
R=$TMP/results

cat >"$TMP/tiny.ini" <<'EOF'
[experiment]
trials = 1
warmup = 0
duration = 50ms
[machine]
cpus = 1
memory = 8M
[role.r]
workload = touch
EOF
cat >"$TMP/long.ini" <<'EOF'
[experiment]
name = long
trials = 2
warmup = 0
duration = 60s
[machine]
cpus = 2
memory = 16M
[role.r]
workload = munmap
EOF

"$PMAPSTORM" run "$TMP/tiny.ini" --results "$R" --quiet --no-plots || fail "the tiny run failed"
earlier=$(readlink -f "$R/latest")
sum_before=$(cd "$earlier" && find . -type f -print0 | sort -z | xargs -0 sha256sum)

# start a long run (arguments: options instead of --no-plots); wait until
# its temporary folder exists
start_long() {
	before=$(readlink -f "$R/latest")
	"$PMAPSTORM" run "$TMP/long.ini" --results "$R" --quiet "${@:---no-plots}" 2>"$TMP/stderr" &
	pid=$!
	for _ in $(seq 1 600); do
		compgen -G "$R/.tmp-long-$pid" >/dev/null && return 0
		kill -0 $pid 2>/dev/null || fail "the long run ended early: $(cat "$TMP/stderr")"
		sleep 0.1
	done
	fail "the long run never made its temporary folder"
}

# the newest folder of the long run is interrupted, with no finished trial
check_interrupted() {
	local dir
	dir=$(readlink -f "$R/latest")
	case "$dir" in *-long*) ;; *) fail "$1: results/latest is $dir, not the long run" ;; esac
	[ "$dir" != "$before" ] || fail "$1: no new result: results/latest is still the one before the run"
	python3 - "$dir/run.json" "$1" <<'PY' || exit 1
import json, sys
doc = json.load(open(sys.argv[1]))
what = sys.argv[2]
if doc.get("interrupted") is not True:
    sys.exit(f"signals: FAIL: {what}: run.json is not marked interrupted")
done = sum(len(p["trials"]) for p in doc["points"])
if done != 0:
    sys.exit(f"signals: FAIL: {what}: {done} trial(s) recorded; the 60 s trial was not stopped mid-way")
PY
	[ -f "$dir/summary.csv" ] && [ -f "$dir/report.md" ] || fail "$1: the partial result lacks summary.csv or report.md"
}

for sig in INT TERM; do
	start_long
	kill -$sig $pid
	wait $pid
	rc=$?
	[ $rc -eq 130 ] || fail "SIG$sig: exit $rc, not 130 ($(cat "$TMP/stderr"))"
	grep -q "interrupted" "$TMP/stderr" || fail "SIG$sig: stderr does not say the result is partial"
	check_interrupted "SIG$sig"
done

# the same sender twice at once: one signal.  The second is sent once the
# first has been delivered (no longer pending in /proc/PID/status: two
# pending SIGINTs would merge into one, and the case would test nothing);
# a sender the host stalled past half a second between the two says so,
# and the case is not judged (the run counts them once within a second)
start_long
python3 - $pid >"$TMP/sender" <<'PY'
import os, signal, sys, time
pid = int(sys.argv[1])
def pending():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(("SigPnd:", "ShdPnd:")) and int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)):
            return True
    return False
os.kill(pid, signal.SIGINT)
t0 = time.monotonic()
while pending():
    pass
os.kill(pid, signal.SIGINT)
print("stalled" if time.monotonic() - t0 > 0.5 else "ok")
PY
wait $pid
rc=$?
if [ "$(cat "$TMP/sender")" = ok ]; then
	[ $rc -eq 130 ] || fail "one sender, two signals: exit $rc, not 130 ($(cat "$TMP/stderr"))"
	check_interrupted "one sender, two signals"
else
	echo "signals: one sender, two signals: the sender stalled between them; not judged"
fi

# two signals from two processes: at once, nothing damaged
start_long
kill -INT $pid
python3 -c 'import os, signal, sys; os.kill(int(sys.argv[1]), signal.SIGINT)' $pid
wait $pid
rc=$?
[ $rc -eq 130 ] || fail "two signals: exit $rc, not 130"
for d in "$R"/*/; do
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$d/run.json" 2>/dev/null ||
		fail "two signals: $d has no whole run.json"
done
for d in "$R"/.tmp-*; do
	[ -e "$d" ] || continue
	case "$d" in *-long-$pid) ;; *) fail "two signals: $d is not the interrupted run's temporary folder" ;; esac
done
"$PMAPSTORM" run "$TMP/tiny.ini" --results "$R" --quiet --no-plots 2>"$TMP/stderr" || fail "the run after two signals failed"
compgen -G "$R/.tmp-*" >/dev/null && fail "the next run left $(echo "$R"/.tmp-*) behind"
compgen -G "$R/.latest-*" >/dev/null && fail "a .latest-* link was left behind"
sum_after=$(cd "$earlier" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
[ "$sum_before" = "$sum_after" ] || fail "the earlier run's folder changed"
[ -L "$R/latest" ] && [ -f "$R/latest/run.json" ] || fail "results/latest does not lead to a whole result"
pid=

# a signal while plotting: the gnuplot on PATH sends it to the run and dies
mkdir "$TMP/bin"
printf '#!/bin/sh\nkill -INT $PPID\nexit 1\n' >"$TMP/bin/gnuplot"
chmod +x "$TMP/bin/gnuplot"
PATH="$TMP/bin:$PATH" "$PMAPSTORM" run "$TMP/tiny.ini" --results "$R" --quiet 2>"$TMP/stderr"
rc=$?
[ $rc -eq 130 ] || fail "a signal while plotting: exit $rc, not 130 ($(cat "$TMP/stderr"))"
grep -q "interrupted while drawing the plots" "$TMP/stderr" || fail "a signal while plotting: stderr does not say so: $(cat "$TMP/stderr")"
grep -q "pmapstorm plot" "$TMP/stderr" || fail "a signal while plotting: stderr does not name pmapstorm plot"
grep -q "failed" "$TMP/stderr" && fail "a signal while plotting: stderr calls it a failure: $(cat "$TMP/stderr")"
dir=$(readlink -f "$R/latest")
python3 - "$dir/run.json" <<'PY' || exit 1
import json, sys
doc = json.load(open(sys.argv[1]))
if doc.get("interrupted") is not False:
    sys.exit("signals: FAIL: a signal while plotting: run.json is marked interrupted, yet every trial ran")
if sum(len(p["trials"]) for p in doc["points"]) != 1:
    sys.exit("signals: FAIL: a signal while plotting: the trial is not in run.json")
PY
[ -f "$dir/plots.txt" ] && [ ! -s "$dir/plots.txt" ] || fail "a signal while plotting: plots.txt is missing or lists a plot"
[ -f "$dir/report.md" ] || fail "a signal while plotting: no report.md"
# ... and with violations found: exit 1, both said
printf '[experiment]\ntrials = 1\nwarmup = 0\nduration = 200ms\ncheck = on\n[machine]\ncpus = 2\nmemory = 16M\n[shootdown]\nstrategy = mutant-skip\nallow_unsafe = yes\n[role.m]\nworkload = migrate\ncpus = all\n' >"$TMP/mig.ini"
PATH="$TMP/bin:$PATH" "$PMAPSTORM" run "$TMP/mig.ini" --results "$R" --quiet 2>"$TMP/stderr"
rc=$?
[ $rc -eq 1 ] || fail "violations and a signal while plotting: exit $rc, not 1 ($(cat "$TMP/stderr"))"
grep -q "violation(s) found" "$TMP/stderr" || fail "violations and a signal while plotting: the violations are not said"
grep -q "interrupted while drawing the plots" "$TMP/stderr" || fail "violations and a signal while plotting: the signal is not said"

# a run interrupted mid-run draws the plots of what it has
if command -v gnuplot >/dev/null 2>&1; then
	start_long --set experiment.trials=1
	kill -INT $pid
	wait $pid
	rc=$?
	[ $rc -eq 130 ] || fail "mid-run, with plots: exit $rc, not 130 ($(cat "$TMP/stderr"))"
	check_interrupted "mid-run, with plots"
	dir=$(readlink -f "$R/latest")
	[ "$(wc -l <"$dir/plots.txt")" -eq "$(ls "$SRC/plots/"*.gp | wc -l)" ] ||
		fail "mid-run, with plots: plots.txt lists $(wc -l <"$dir/plots.txt") plot(s), not every one"
else
	echo "signals: gnuplot is not installed: the mid-run plots case is not run"
fi
pid=
echo "signals: ok"
