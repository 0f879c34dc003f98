# microbench with statistics off (stats.enabled = off): the shootdown
# latencies are statistics, so nothing records them.  They must read "not
# measured" with the reason, null in the JSON — never 0 (a zero would win
# the mutual / single-target comparison).  Under virtual time (no host
# timing); label long: the run takes about 40 s on 2 cores.
set(json "${CMAKE_CURRENT_BINARY_DIR}/microbench_stats_off.json")
file(REMOVE "${json}")
execute_process(COMMAND ${PMAPSTORM} microbench --engine virtual --rounds 100 --set stats.enabled=off --json "${json}"
  RESULT_VARIABLE got OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT got EQUAL 0)
  message(FATAL_ERROR "microbench with stats.enabled = off: exit ${got}\n${out}${err}")
endif()
foreach(line "mutual shootdowns, 2 CPUs" "single-target shootdowns" "mutual, whole completions"
    "single target, round-trip loop")
  if(NOT out MATCHES "${line} +not measured +\\([^\n]*statistics off: stats.enabled = off\\)")
    message(FATAL_ERROR "microbench with statistics off: '${line}' is not 'not measured' with the reason:\n${out}")
  endif()
endforeach()
if(NOT out MATCHES "lockstat of this run: not recorded \\(locks.lockstat = off or stats.enabled = off")
  message(FATAL_ERROR "microbench with statistics off prints a lockstat table:\n${out}")
endif()
file(READ "${json}" doc)
foreach(key mutual_shootdown_p50_ns single_shootdown_p50_ns round_trip_loop_shootdown_p50_ns mutual_over_single
    mutual_update_cost_p50_ns)
  string(JSON type TYPE "${doc}" microbench scaling ${key})
  if(NOT type STREQUAL "NULL")
    message(FATAL_ERROR "microbench --json with statistics off: scaling.${key} is ${type}, not null")
  endif()
endforeach()
string(JSON why GET "${doc}" microbench scaling latency_not_measured)
if(NOT why MATCHES "stats.enabled = off")
  message(FATAL_ERROR "microbench --json with statistics off: scaling.latency_not_measured is '${why}'")
endif()
string(JSON rounds GET "${doc}" microbench scaling mutual_trials_measured)
if(NOT rounds EQUAL 0)
  message(FATAL_ERROR "microbench --json with statistics off: ${rounds} rounds measured the mutual / single-target pair")
endif()
string(JSON met GET "${doc}" microbench targets mutual_over_single met)
if(met)
  message(FATAL_ERROR "microbench --json with statistics off: the unmeasured mutual / single-target is met")
endif()
file(REMOVE "${json}")
