/*
 * stress.h — torture mode: `pmapstorm stress` and the runner under it.
 *
 * stress_run() boots one machine with check.enabled = on, runs the torture
 * workload (torture.c) on every CPU for the given time, with quiescent
 * points every stress epoch where the counting and allocation oracles
 * run, and returns the per-oracle counts.  cmd_stress() (stress.c,
 * declared with the other commands in bench/commands/commands.h) is the
 * command: options, --strategy all, the violation report, the summary
 * table ending in SUCCESS or FAILURE.
 */
#ifndef PMAPSTORM_STRESS_H
#define PMAPSTORM_STRESS_H

#include <pmapstorm/check.h>
#include <pmapstorm/machine.h>

#include <stdatomic.h>

struct stress_opts {
	struct machine_config so_cfg; /* strategy, cpus, check.*, inject.*, watchdog.* already set */
	double so_seconds;            /* > 0 */
	/* and, when not 0, until every CPU did this many operations and three
	 * quiescent points passed (a lazy strategy's slots come back after
	 * two): work that does not shrink when the host is slow (tests) */
	uint64_t so_min_ops;
	uint64_t so_seed;             /* the workload's generator (inject.seed is in so_cfg) */
	bool so_keep_going;           /* false: stop at the first violation */
	bool so_quiet;                /* no per-violation lines */
	/* deliberately break one oracle's subject (tests: each oracle can
	 * fail); -1: none.  Supported: CHK_MODREF, CHK_COUNTS, CHK_ALLOC,
	 * CHK_CONTENTS (frame and update are proven with the mutants) */
	int so_break;
	_Atomic int *so_stop;         /* set from outside (SIGINT): stop at the next epoch; may be NULL */
};

struct stress_result {
	uint64_t sr_checks[CHK_NORACLES];
	uint64_t sr_violations[CHK_NORACLES];
	uint64_t sr_ops;
	unsigned sr_epochs;
	double sr_seconds;            /* as run */
	bool sr_have_first;
	struct check_violation sr_first;
	double sr_first_s;            /* seconds from the start to the first violation */
	uint64_t sr_first_op;         /* the violating CPU's operations before it (its own count; 0: no CPU) */
	uint64_t sr_first_t_ns;       /* cpu_now_ns() of the first violation (virtual ns with --engine virtual) */
	bool sr_interrupted;
	/* what the injection did: inject.yields, inject.spl_windows,
	 * inject.ipi_delays, inject.allocfails, uvm.page.waits */
	uint64_t sr_injected[5];
};
extern const char *const stress_injected_names[5];

/* 0, or an errno after a message (the convention of bench/common/msg.h):
 * EINVAL when the config does not boot, else the environment's. */
int stress_run(const struct stress_opts *, struct stress_result *);
uint64_t stress_violations(const struct stress_result *);


#endif
