# The pmapstorm command's usage errors: distinct exit codes, messages that name the culprit.
function(expect_rc rc pattern)
  execute_process(COMMAND ${PMAPSTORM} ${ARGN} RESULT_VARIABLE got OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT got EQUAL ${rc})
    message(FATAL_ERROR "pmapstorm ${ARGN}: exit ${got}, expected ${rc}\n${out}${err}")
  endif()
  if(NOT "${out}${err}" MATCHES "${pattern}")
    message(FATAL_ERROR "pmapstorm ${ARGN}: output does not match '${pattern}':\n${out}${err}")
  endif()
endfunction()
expect_rc(2 "usage: pmapstorm")
expect_rc(0 "microbench" --help)
expect_rc(0 "pmapstorm [0-9]" --version)
expect_rc(2 "unknown command 'frobnicate'" frobnicate)
expect_rc(2 "unknown option '--frob'" --frob)
expect_rc(2 "--bogus" microbench --bogus)
expect_rc(2 "machine.cpus" microbench --set machine.cpus=zero)
expect_rc(2 "tlb.ways" microbench --set tlb.ways=0)
expect_rc(2 "unknown key" microbench --set nosuch.key=1)
expect_rc(2 "not key=value" microbench --set machine.cpus)
expect_rc(2 "--rounds" microbench --rounds 3)
expect_rc(2 "needs at least 2 CPUs" microbench --set machine.cpus=1)
expect_rc(0 "netbsd-x86" list strategies)
expect_rc(0 "machine.memory" list keys)
expect_rc(2 "unknown list" list bogus)
expect_rc(0 "poolchurn" list workloads)
# every list in the three formats; anything else after the list is exit 2
expect_rc(0 "\"name\": \"netbsd-x86\",\n *\"mechanism\"" list strategies --json)
expect_rc(0 "\"classes\": \\[" list locks --json)
expect_rc(0 "\"values\": \"seq\\|random\\|zipf\"" list workloads --json)
expect_rc(0 "\"key\": \"machine.cpus\"" list keys --json)
expect_rc(0 "\\| `tas` \\| test-and-set" list locks --markdown)
expect_rc(0 "\\| `pattern` \\| random \\| seq\\\\\\|random\\\\\\|zipf \\|" list workloads --markdown)
expect_rc(0 "^\\| strategy \\| mechanism \\| from \\| lazy \\| mutant \\|\n\\|---.*\\| `netbsd-x86` \\|" list strategies --markdown)
expect_rc(2 "list: unknown option '--bogus' \\(--markdown or --json\\)" list keys --bogus)
expect_rc(2 "list: unexpected argument 'extra'" list keys --json extra)
expect_rc(2 "which experiment file" run)
expect_rc(2 "cannot open" run /nonexistent/experiment.ini)
expect_rc(2 "not a results folder" plot /nonexistent)
expect_rc(2 "unknown option '--frob'" plot /nonexistent --frob)
expect_rc(2 "usage: pmapstorm plot DIR" plot)
expect_rc(0 "--quiet" plot --help)
# every command's --help: its usage and exit 0, before any work
expect_rc(0 "usage: pmapstorm run CONFIG" run --help)
expect_rc(0 "usage: pmapstorm microbench" microbench --help)
expect_rc(0 "usage: pmapstorm list" list --help)

# A bad experiment file: file:line: key, exit 2, and no results folder left behind.
set(tmp "${CMAKE_CURRENT_BINARY_DIR}/cli_usage_tmp")
file(REMOVE_RECURSE "${tmp}")
file(MAKE_DIRECTORY "${tmp}")
file(WRITE "${tmp}/bad.ini" "[machine]\ncpus = 2\n[role.r]\nworkload = touch\ncpus = 0-5\n")
expect_rc(2 "bad.ini:5: role.r.cpus" run "${tmp}/bad.ini" --results "${tmp}/results")
if(EXISTS "${tmp}/results")
  message(FATAL_ERROR "a bad config left ${tmp}/results behind")
endif()
# the timeline's interval: 50 ms at least with threads (a host thread
# samples), any from 1 us in virtual time
file(WRITE "${tmp}/iv.ini" "[experiment]\ninterval = 10ms\n[machine]\ncpus = 1\n[role.r]\nworkload = touch\n")
expect_rc(2 "iv.ini:2: experiment.interval: 0.01 s is below the shortest interval of the threads engine, 50ms"
  run "${tmp}/iv.ini" --results "${tmp}/results")
file(WRITE "${tmp}/iv2.ini" "[experiment]\ninterval = 0.5us\n[machine]\ncpus = 1\n[role.r]\nworkload = touch\n")
expect_rc(2 "iv2.ini:2: experiment.interval: '0.5us' is below the shortest interval, 1us" run "${tmp}/iv2.ini"
  --engine virtual --results "${tmp}/results")
# ... and a trial keeps 4096 samples: more is refused, not cut without a word
file(WRITE "${tmp}/iv3.ini" "[experiment]\ninterval = 1us\nduration = 10ms\n[machine]\ncpus = 1\n[role.r]\nworkload = touch\n")
expect_rc(2 "iv3.ini:2: experiment.interval: 1e-06 s over a window of 0.01 s is more than 4096 samples" run
  "${tmp}/iv3.ini" --engine virtual --results "${tmp}/results")
file(WRITE "${tmp}/bad2.ini" "[machine]\ncpus = 2\n[role.r]\nworkload = touch\n")
expect_rc(2 "--set machine.cpus" run "${tmp}/bad2.ini" --set machine.cpus=0 --results "${tmp}/results")
if(EXISTS "${tmp}/results")
  message(FATAL_ERROR "a bad --set left ${tmp}/results behind")
endif()
# report.primary: a metric of the catalog (a role metric may go without its
# role), with a role or lock class the run has; checked before anything runs
file(WRITE "${tmp}/prim.ini" "[report]\nprimary = nope\n[machine]\ncpus = 2\n[role.r]\nworkload = touch\n")
expect_rc(2 "prim.ini:2: report.primary: 'nope' is not a metric name \\(pmapstorm list metrics\\)"
  run "${tmp}/prim.ini" --results "${tmp}/results")
expect_rc(2 "--set report.primary: 's' is not a role of the file"
  run "${tmp}/bad2.ini" --set report.primary=walks_per_op.s --results "${tmp}/results")
expect_rc(2 "--set report.primary: 'nope' is not a lock class"
  run "${tmp}/bad2.ini" --set report.primary=lock_wait_share.nope --results "${tmp}/results")
expect_rc(2 "--set report.primary: 'lock_wait_share' is not a metric name"
  run "${tmp}/bad2.ini" --set report.primary=lock_wait_share --results "${tmp}/results")
expect_rc(2 "--set report.primary: 'whole_flush_share' has no better direction"
  run "${tmp}/bad2.ini" --set report.primary=whole_flush_share --results "${tmp}/results")
if(EXISTS "${tmp}/results")
  message(FATAL_ERROR "a bad report.primary left ${tmp}/results behind")
endif()
file(REMOVE_RECURSE "${tmp}")

expect_rc(0 "deliberately broken.*mutant-skip" list strategies)
expect_rc(0 "shootdown.linux_ceiling" list keys)
expect_rc(2 "shootdown.strategy.*unknown strategy 'nope'; valid: immediate" microbench --set shootdown.strategy=nope)
expect_rc(2 "shootdown.allow_unsafe" microbench --set shootdown.strategy=mutant-skip)
expect_rc(2 "shootdown.batch: 0 is out of range" microbench --set shootdown.batch=0)
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/bad_knob.ini "[shootdown]\nstrategy = latr\nlatr_ring = 1\n")
expect_rc(2 "bad_knob.ini:3: shootdown.latr_ring" microbench --config ${CMAKE_CURRENT_BINARY_DIR}/bad_knob.ini)

# gate and export (tests/test_gate.c covers the verdicts on synthetic runs)
expect_rc(0 "usage: pmapstorm gate BASELINE CURRENT" gate --help)
expect_rc(2 "two runs, BASELINE and CURRENT" gate)
expect_rc(2 "/nonexistent/run.json: cannot read" gate /nonexistent/run.json /nonexistent/run.json)
# a folder without run.json, and a noise file that is not there: said as such
file(MAKE_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}/cli_emptydir")
expect_rc(2 "gate: .*cli_emptydir: a folder without run.json" gate "${CMAKE_CURRENT_BINARY_DIR}/cli_emptydir"
  "${CMAKE_CURRENT_BINARY_DIR}/cli_emptydir")
expect_rc(2 "export: .*cli_emptydir: a folder without run.json" export --format bmf "${CMAKE_CURRENT_BINARY_DIR}/cli_emptydir")
# ... and a folder given as the experiment file
expect_rc(2 "cli_emptydir: cannot read \\(Is a directory\\)" run "${CMAKE_CURRENT_BINARY_DIR}/cli_emptydir")
expect_rc(2 "--noise /nonexistent.json: unable to open /nonexistent.json" gate
  ${CMAKE_CURRENT_LIST_DIR}/../results/baselines/ci-quick.json ${CMAKE_CURRENT_LIST_DIR}/../results/baselines/ci-quick.json
  --noise /nonexistent.json)
expect_rc(2 "--threshold" gate --threshold=-3 a b)
expect_rc(0 "usage: pmapstorm export" export --help)
expect_rc(0 "replaced if it exists.*3 cannot write" gate --help)
expect_rc(0 "--out FILE.*replaced if.*it exists.*3 cannot write" export --help)
expect_rc(2 "--format: github-action-benchmark or bmf" export a)
expect_rc(2 "--save-baseline '../x'" run --save-baseline ../x /nonexistent/experiment.ini)
# sharding (issue 19; tests/test_shard.c runs and merges shards)
expect_rc(2 "--shard 0/3: K must be a whole number from 1 to 3.*env:VAR\\+1/N" run /nonexistent/experiment.ini --shard 0/3)
expect_rc(2 "--shard 2: expected K/N" run /nonexistent/experiment.ini --shard 2)
expect_rc(2 "--shard env:PMAPSTORM_NO_SUCH_VARIABLE/3: the environment variable PMAPSTORM_NO_SUCH_VARIABLE is not set"
  run /nonexistent/experiment.ini --shard env:PMAPSTORM_NO_SUCH_VARIABLE/3)
expect_rc(2 "--save-baseline with --shard" run /nonexistent/experiment.ini --shard 1/2 --save-baseline x)
expect_rc(0 "--shard K/N.*env:VAR" run --help)
expect_rc(0 "usage: pmapstorm merge OUT DIR" merge --help)
expect_rc(0 "  merge        put the shards" --help)
expect_rc(2 "which shards\\?" merge /nonexistent/out)
expect_rc(2 "unknown or incomplete option '--frob'" merge --frob a b)
expect_rc(2 "/nonexistent/shard: not a results folder" merge /nonexistent/out /nonexistent/shard)
# Topology (issue 8): synthetic machines only, so the same on any host.
expect_rc(0 "usage: pmapstorm topo" topo --help)
expect_rc(0 "usage: pmapstorm calibrate" calibrate --help)
expect_rc(0 "topo .*calibrate" --help)
expect_rc(0 "  stress       torture mode" --help)
expect_rc(0 "synthetic \"[^\"]*Package:2 L3Cache:2[^\"]*Core:4 PU:2\".*hop levels: 1=Core 2=L3Cache 3=Package 4=Machine.*placement: scatter"
  topo --topology "pack:2 l3:2 core:4 pu:2" --cpus 4 --placement scatter)
expect_rc(0 "\n1     16 " topo --topology "pack:2 l3:2 core:4 pu:2" --cpus 4 --placement scatter)
expect_rc(2 "topo: --topology: machine.topology: 'pack:2 bogus:1' is not an hwloc synthetic description.*this host is" topo --topology "pack:2 bogus:1")
expect_rc(2 "topo: --cpus: machine.cpus: 'abc' is not a whole number" topo --cpus abc)
expect_rc(2 "machine.placement: PU 9 does not exist \\(the synthetic machine has 4 PUs \\(0-3\\)\\)"
  topo --topology "pack:2 core:2 pu:1" --placement list:0,9)
expect_rc(2 "machine.numa: node 4095 does not exist \\(the host has" topo --set machine.numa=node:4095)
# a synthetic machine too big to build is refused before hwloc allocates it
expect_rc(2 "machine.topology: 1000000000 PUs, at most 4096" topo --topology "pack:1000 core:1000 pu:1000")
# hwloc that cannot load the host (every discovery component excluded) is an
# environment error, 3, not bad input
set(ENV{HWLOC_COMPONENTS} "-linux,-x86,-synthetic,-xml,-no_os")
expect_rc(3 "topo: machine.topology: hwloc cannot read the host's topology" topo --cpus 2)
unset(ENV{HWLOC_COMPONENTS})
# calibrate cannot pin to a PU the (faked, hwloc HWLOC_SYNTHETIC) host lists
# but the kernel lacks: exit 3 naming the PU
set(ENV{HWLOC_SYNTHETIC} "pack:1 core:4096 pu:1")
set(ENV{HWLOC_THISSYSTEM} "1")
expect_rc(3 "calibrate: ping-pong PU 0 - PU 4095: cannot pin a thread to host PU 4095"
  calibrate --samples 10 --seconds 0.02 --rounds 200 --out /nonexistent/cal.json --set machine.cpus=2
  --set machine.placement=list:0,4095)
unset(ENV{HWLOC_SYNTHETIC})
unset(ENV{HWLOC_THISSYSTEM})
expect_rc(2 "ipi.distance_ns" topo --set ipi.distance_ns=x)
expect_rc(2 "--samples" calibrate --samples 1)
expect_rc(2 "--pairs" calibrate --pairs 0)
set(tmp "${CMAKE_CURRENT_BINARY_DIR}/cli_topo_tmp")
file(REMOVE_RECURSE "${tmp}")
file(MAKE_DIRECTORY "${tmp}")
# --xml: written whole under a temporary name, then renamed; no leftovers;
# a folder that does not exist is exit 3
expect_rc(0 "placement: compact" topo --topology "pack:2 core:2 pu:1" --xml "${tmp}/t.xml")
file(READ "${tmp}/t.xml" xml)
file(GLOB left "${tmp}/t.xml.tmp*")
if(NOT xml MATCHES "</topology>" OR left)
  message(FATAL_ERROR "topo --xml: not a whole XML file, or temporary files left: ${left}")
endif()
expect_rc(3 "/nonexistent/t.xml: cannot write" topo --topology "pack:2 core:2 pu:1" --xml /nonexistent/t.xml)
file(WRITE "${tmp}/pl.ini" "[machine]\ncpus = 2\nplacement = list:0 4095\n[role.r]\nworkload = touch\n")
expect_rc(2 "pl.ini:3: machine.placement: PU 4095 does not exist" topo "${tmp}/pl.ini")
expect_rc(2 "pl.ini:3: machine.placement: PU 4095 does not exist" run "${tmp}/pl.ini" --results "${tmp}/results")
file(WRITE "${tmp}/cal.ini" "[machine]\ncpus = 2\nmemory = 16M\n[ipi]\npreset = calibrated\ncalibration = ${tmp}/none.json\n[role.r]\nworkload = touch\n")
if(EXISTS "${tmp}/results")
  message(FATAL_ERROR "a bad topology left ${tmp}/results behind")
endif()
# a calibration file that is not one: exit 2, naming the key and the file, nothing written
file(WRITE "${tmp}/bad-cal.json" "{}\n")
file(WRITE "${tmp}/badcal.ini" "[machine]\ncpus = 2\nmemory = 16M\n[ipi]\npreset = calibrated\ncalibration = ${tmp}/bad-cal.json\n[role.r]\nworkload = touch\n")
expect_rc(2 "badcal.ini:6: ipi.calibration: .*bad-cal.json is not a calibration file" run "${tmp}/badcal.ini" --results "${tmp}/results")
if(EXISTS "${tmp}/results")
  message(FATAL_ERROR "a bad calibration file left ${tmp}/results behind")
endif()
# a missing one: run calibrates the host first, keeps the file, and runs
expect_rc(0 "none.json is missing: calibrating this host first" run "${tmp}/cal.ini" --results "${tmp}/results"
  --set experiment.trials=1 --set experiment.duration=0.05s --set experiment.warmup=0 --no-plots)
if(NOT EXISTS "${tmp}/none.json")
  message(FATAL_ERROR "run calibrated the host, but ${tmp}/none.json is missing")
endif()
file(REMOVE_RECURSE "${tmp}/results" "${tmp}/none.json")
# topo and calibrate take a config whose calibration file does not exist yet
# (calibrate makes it: by default where the config's ipi.calibration says)
file(WRITE "${tmp}/cal0.ini" "[machine]\ncpus = 2\nmemory = 16M\n[ipi]\npreset = calibrated\ncalibration = ${tmp}/cal.json\n[role.r]\nworkload = touch\n")
expect_rc(0 "placement: compact, 2 CPUs" topo "${tmp}/cal0.ini")
# calibrate writes a file run can use (figures only: nothing is checked on timing)
expect_rc(0 "shootdown in the model = [0-9.]+ x the ping-pong floor; the host kernel's = [0-9.]+ us"
  calibrate "${tmp}/cal0.ini" --samples 10 --seconds 0.02 --rounds 200)
file(READ "${tmp}/cal.json" cal)
if(NOT cal MATCHES "\"send_ns\": [0-9]+" OR NOT cal MATCHES "\"pairs\"" OR NOT cal MATCHES "\"timer_overhead_ns\"")
  message(FATAL_ERROR "calibration.json lacks ipi.send_ns, pingpong.pairs or timer_overhead_ns:\n${cal}")
endif()
# values no default has, so that run.json can only have them from the file
string(JSON cal SET "${cal}" ipi send_ns 1234)
string(JSON cal SET "${cal}" ipi handler_ns 5678)
file(WRITE "${tmp}/cal.json" "${cal}")
file(WRITE "${tmp}/cal.ini" "[experiment]\ntrials = 1\nwarmup = 0\nduration = 50ms\n[machine]\ncpus = 2\nmemory = 16M\ntopology = pack:2 core:1 pu:1\n[ipi]\npreset = calibrated\ncalibration = ${tmp}/cal.json\n[role.r]\nworkload = touch\n")
expect_rc(0 "" run "${tmp}/cal.ini" --results "${tmp}/results" --quiet --no-plots)
file(READ "${tmp}/results/latest/run.json" run)
if(NOT run MATCHES "\"synthetic\": true" OR NOT run MATCHES "\"ipi.preset\": \"calibrated\"")
  message(FATAL_ERROR "run.json does not mark the synthetic topology or the calibrated preset")
endif()
if(NOT run MATCHES "\"ipi.send_ns\": \"1234\"" OR NOT run MATCHES "\"ipi.handler_ns\": \"5678\"")
  message(FATAL_ERROR "run.json's ipi.send_ns / ipi.handler_ns are not the calibration file's 1234 / 5678")
endif()
foreach(f placement.csv topology.xml topology-p0.xml)
  if(NOT EXISTS "${tmp}/results/latest/${f}")
    message(FATAL_ERROR "the results folder lacks ${f}")
  endif()
endforeach()
# a topology XML that cannot be written fails the run (3), as any results file
# does: here hwloc cannot read the host, whose topology.xml every run has
file(WRITE "${tmp}/syn.ini" "[experiment]\ntrials = 1\nwarmup = 0\nduration = 50ms\n[machine]\ncpus = 2\nmemory = 16M\ntopology = pack:2 core:1 pu:1\n[role.r]\nworkload = touch\n")
set(ENV{HWLOC_COMPONENTS} "-linux,-x86,-synthetic,-xml,-no_os")
expect_rc(3 "topology.xml: cannot write the host topology" run "${tmp}/syn.ini" --results "${tmp}/res2" --quiet --no-plots)
unset(ENV{HWLOC_COMPONENTS})
file(REMOVE_RECURSE "${tmp}")
expect_rc(2 "microbench: ipi.calibration: /nonexistent/cal.json" microbench --set ipi.preset=calibrated --set ipi.calibration=/nonexistent/cal.json)
# the shipped topology example resolves on any host (synthetic machine)
expect_rc(0 "placement: compact, 8 CPUs" topo ${CMAKE_CURRENT_LIST_DIR}/../configs/topology.ini)
# pmapstorm stress: bad input names the flag and the valid values (exit 2) ...
expect_rc(0 "--inject LIST" stress --help)
expect_rc(2 "--inject: unknown injection 'bogus'; valid: ipi, yield, spl, allocfail, pressure" stress --inject yield,bogus)
expect_rc(2 "--oracles: unknown oracle 'nope'; valid: all, frame, update, modref, counts, alloc, contents"
  stress --oracles frame,nope)
expect_rc(2 "--seconds: '0' is not a positive number" stress --seconds 0)
# a seed is a uint64_t: no sign (strtoull would wrap it), no overflow
expect_rc(2 "stress: --seed: '-5' is not a number in \\[0, 18446744073709551615\\]" stress --seed -5)
expect_rc(2 "stress: --seed: '18446744073709551616' is not a number" stress --seed 18446744073709551616)
expect_rc(2 "stress: --cpus: '0' is not a number in \\[1, 256\\]" stress --cpus 0)
# --engine is named as the flag it is, on each command that has it
expect_rc(2 "stress: --engine: 'warp' is not threads or virtual" stress --engine warp)
# ... and takes what machine.engine takes (its parser ignores case)
expect_rc(0 "End of test: SUCCESS" stress --engine Virtual --seconds 0.02 --strategy immediate --quiet)
expect_rc(2 "microbench: --engine: 'warp' is not threads or virtual" microbench --engine warp)
expect_rc(2 "run: --engine: 'warp' is not threads or virtual \\(or a comma-separated list of them\\)"
  run ${CMAKE_CURRENT_LIST_DIR}/data/tiny.ini --engine threads,warp)
# stress reads the calibration file as microbench does: missing or malformed is exit 2
expect_rc(2 "stress: ipi.calibration: .*none.json: cannot read \\(ipi.preset = calibrated"
  stress --set ipi.preset=calibrated --set ipi.calibration=${CMAKE_CURRENT_BINARY_DIR}/none.json)
expect_rc(2 "stress: ipi.calibration: .*none.json: cannot read \\(engine.costs = calibrated"
  stress --engine virtual --set engine.costs=calibrated --set ipi.calibration=${CMAKE_CURRENT_BINARY_DIR}/none.json)
expect_rc(2 "--strategy: 'mutant-skip' is a deliberately broken mutant: add --unsafe.*mutant-nowait"
  stress --strategy mutant-skip)
expect_rc(2 "--strategy: unknown strategy 'nope'; valid: all, immediate" stress --strategy nope)
expect_rc(2 "check.oracles: unknown oracle 'x'" stress --set check.oracles=x)
expect_rc(2 "inject.yield: 1001 is out of range" stress --set inject.yield=1001)
# ... the injections it made, counted; with statistics off, not counted (not 0) ...
expect_rc(0 "injected: inject.yields [0-9]+ inject.spl_windows" stress --strategy netbsd-x86 --seconds 0.2 --inject yield)
expect_rc(0 "injected: not counted \\(stats.enabled = off\\)\n" stress --strategy netbsd-x86 --seconds 0.2
  --inject yield --set stats.enabled=off)
# ... a correct strategy: the table, SUCCESS, the reproducibility statement, exit 0 ...
expect_rc(0 "contents +[0-9]+ +0\n.*netbsd-x86: SUCCESS.*seed 7 fixes every random choice.*vary.*End of test: SUCCESS"
  stress --strategy netbsd-x86 --seconds 0.3 --seed 7 --inject yield)
# ... a mutant: the report (oracle, cpu, address, frame, strategy, seed, config, commit, a
# one-line rerun command), the table ending in FAILURE, exit 1
expect_rc(1 "VIOLATION REPORT\n  oracle: +(frame|update|contents).*cpu: .*address: .*frame: .*strategy: mutant-nowait\n  seed: +3.*config: .*shootdown.allow_unsafe=yes.*commit: .*rerun: +pmapstorm stress --strategy mutant-nowait --seconds 10 --cpus [0-9]+ --seed 3 --unsafe.*<-- FAILURE.*mutant-nowait: FAILURE.*End of test: FAILURE"
  stress --strategy mutant-nowait --unsafe --seed 3 --quiet)

# check = on in run: the migrate workload (readers of pages another CPU moves)
# under every oracle.  A correct strategy: exit 0, no violation.  A mutant that
# skips shootdowns: exit 1, and run.json counts the oracles' violations.
set(tmp "${CMAKE_CURRENT_BINARY_DIR}/cli_check_tmp")
file(REMOVE_RECURSE "${tmp}")
file(WRITE "${tmp}/mig.ini" "[experiment]\ntrials = 1\nwarmup = 0\nduration = 200ms\ncheck = on\n[machine]\ncpus = 2\nmemory = 16M\n[role.m]\nworkload = migrate\ncpus = all\n")
expect_rc(0 "" run "${tmp}/mig.ini" --results "${tmp}/results" --quiet --no-plots)
expect_rc(1 "violation\\(s\\) found" run "${tmp}/mig.ini" --results "${tmp}/results" --quiet --no-plots
  --set shootdown.allow_unsafe=yes --set shootdown.strategy=mutant-skip)
file(READ "${tmp}/results/latest/run.json" run)
if(NOT run MATCHES "\"frame\": {[^}]*\"violations\": [1-9]" AND NOT run MATCHES "\"update\": {[^}]*\"violations\": [1-9]")
  message(FATAL_ERROR "run.json of a mutant under check = on counts no oracle violation")
endif()
file(REMOVE_RECURSE "${tmp}")

# Memory the host does not have: exit 3 before anything runs, naming the key,
# in every command that boots a machine (PMAPSTORM_MEM_AVAILABLE stands in for
# the host's MemAvailable).
foreach(cmd "stress;--seconds;1" "microbench;--rounds;100" "calibrate;--samples;10")
  execute_process(COMMAND ${CMAKE_COMMAND} -E env PMAPSTORM_MEM_AVAILABLE=1048576 ${PMAPSTORM} ${cmd}
    RESULT_VARIABLE got OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT got EQUAL 3 OR NOT err MATCHES "machine.memory: .*more than this host has available")
    message(FATAL_ERROR "pmapstorm ${cmd} with 1 MiB available: exit ${got}, expected 3 naming machine.memory\n${out}${err}")
  endif()
endforeach()

# stress: a --set machine.cpus holds unless --cpus overrides it; a CANFAIL
# enter that always fails (inject.allocfail = 1000) gives up instead of
# spinning until the watchdog fires.
expect_rc(0 "netbsd-x86, 3 CPUs" stress --strategy netbsd-x86 --seconds 0.2 --quiet --set machine.cpus=3)
expect_rc(0 "netbsd-x86, 2 CPUs" stress --strategy netbsd-x86 --seconds 0.2 --quiet --set machine.cpus=3 --cpus 2)
expect_rc(0 "End of test: SUCCESS" stress --strategy netbsd-x86 --seconds 0.5 --quiet
  --set inject.allocfail=1000 --set watchdog.seconds=5)
# stdout and stderr into one file (a CI log): each strategy's table comes
# whole, before the next strategy's progress line (stdout is flushed first)
set(log "${CMAKE_CURRENT_BINARY_DIR}/cli_usage_stress.log")
execute_process(COMMAND ${PMAPSTORM} stress --strategy all --seconds 0.02 RESULT_VARIABLE got
  OUTPUT_FILE ${log} ERROR_FILE ${log})
file(READ ${log} text)
if(NOT got EQUAL 0 OR NOT text MATCHES "immediate: SUCCESS\npmapstorm stress: netbsd-x86 for [^\n]*\n\npmapstorm stress: strategy netbsd-x86")
  message(FATAL_ERROR "pmapstorm stress --strategy all > one file: exit ${got}, tables and progress lines interleaved:\n${text}")
endif()
file(REMOVE ${log})

# gnuplot missing: run keeps the data in the published folder, names that
# folder (not its temporary name) and exits 3
set(np "${CMAKE_CURRENT_BINARY_DIR}/cli_noplot_tmp")
file(REMOVE_RECURSE "${np}")
execute_process(COMMAND ${CMAKE_COMMAND} -E env PATH=/nonexistent ${PMAPSTORM} run
  ${CMAKE_CURRENT_LIST_DIR}/data/tiny.ini --results "${np}" --quiet --set experiment.trials=1
  RESULT_VARIABLE got OUTPUT_VARIABLE out ERROR_VARIABLE err)
file(GLOB published "${np}/*-tiny/run.json")
if(NOT got EQUAL 3 OR NOT published OR NOT err MATCHES "gnuplot is not installed"
   OR NOT err MATCHES "run: [^\n]*cli_noplot_tmp/[0-9]+-[0-9]+-tiny holds the data without plots" OR err MATCHES "\\.tmp-")
  message(FATAL_ERROR "run without gnuplot: exit ${got} (want 3), run.json ${published}:\n${out}${err}")
endif()
file(REMOVE_RECURSE "${np}")
