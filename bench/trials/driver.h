/*
 * driver.h — one trial of a sweep point, and what it measured.
 */
#ifndef PMAPSTORM_DRIVER_H
#define PMAPSTORM_DRIVER_H

#include "common/symbol.h"
#include "experiment/experiment.h"

#include <pmapstorm/check.h>
#include <pmapstorm/stats.h>

#include <stdint.h>
#include <time.h>

#define METRIC_NAMELEN 96

struct metric {
	char m_name[METRIC_NAMELEN]; /* e.g. "update_cost_p99.unmap" (metrics.h) */
	const char *m_unit;   /* "ns", "ops/s", "ratio", ... */
	int m_better;         /* +1 higher is better, -1 lower, 0 neither */
	double m_value;
	bool m_count;         /* a ratio of event counts, no time in it: a candidate
	                         deterministic counter (record/results.c marks it so when
	                         every trial of a point agrees exactly) */
};

#define TRIAL_MAX_METRICS 192
#define TRIAL_MAX_INTERVALS EXP_MAX_INTERVALS

struct interval_sample {
	double is_t;                             /* seconds since the measured window began */
	double is_role_ops_per_s[EXP_MAX_ROLES]; /* each role's operations per second */
	double is_flushes_per_s;                 /* completions with invalidations (pmap.flushes) */
	double is_kernel_flushes_per_s;          /* ... with kernel invalidations (kernel shootdowns) */
	double is_poolpages_per_s;               /* pool pages allocated + freed per second */
};

/* What a role's CPUs did in the measured window (driver.c, drv_snapshot). */
struct role_result {
	uint64_t ro_ops;
	unsigned ro_ncpu;
	uint64_t ro_cpus[MAXCPUS / 64];              /* the role's CPUs */
	uint64_t ro_counters[STATS_MAX_COUNTERS];    /* every counter, summed over them */
	struct stats_hist_summary ro_cost;           /* pmap.update_cost */
	struct stats_hist_summary ro_lat;            /* shootdown.latency (remote requests) */
	struct stats_hist_summary ro_addrs;          /* shootdown.addrs */
	uint64_t *ro_cost_buckets;                   /* pmap.update_cost, STATS_HIST_BUCKETS (the CCDF) */
};

struct trial_result {
	unsigned tr_point, tr_trial, tr_order;
	uint64_t tr_seed;
	double tr_seconds;        /* measured window, as run (virtual seconds with tr_virtual) */
	bool tr_virtual;          /* machine.engine = virtual: every time is virtual (metric_unit_virtual) */
	bool tr_stats;            /* stats.enabled: else only ops_per_s and errors are measured (metric_from_stats) */
	uint64_t tr_engine_switches; /* machine.engine = virtual: baton hand-offs over the trial */
	double tr_host_wall_s;    /* host seconds the whole trial took (the engine's speed) */
	struct metric tr_metrics[TRIAL_MAX_METRICS];
	unsigned tr_nmetrics;
	uint64_t tr_counters[STATS_MAX_COUNTERS];       /* every registered counter */
	struct role_result tr_roles[EXP_MAX_ROLES];     /* in the point's role order */
	unsigned tr_nroles;
	struct lockstat_row tr_lockstat[LC_NCLASS];
	char tr_sites[LC_NCLASS][LOCKSTAT_SITES][SYMBOL_NAMELEN]; /* their call sites, symbolized */
	uint64_t tr_cpu_ops[MAXCPUS];
	unsigned tr_ncpu;
	struct interval_sample *tr_intervals;
	unsigned tr_nintervals;
	unsigned tr_monitor_waits; /* the monitor's sleeps toward a sample inside the window (threads) */
	/* whole-trial histograms (metrics.c says which metric each feeds) */
	struct stats_hist_summary tr_ack, tr_coherence, tr_kcost, tr_km_lat, tr_pp_lat;
	uint64_t *tr_ack_sum;     /* [initiator * ncpu + target], over the measured window */
	uint64_t *tr_ack_count;
	/* the host under the trial: the CPU threads' user and system time and
	 * context switches over the measured window (getrusage RUSAGE_THREAD),
	 * so a noisy trial can be explained */
	double tr_host_usr_s, tr_host_sys_s;
	uint64_t tr_host_nivcsw, tr_host_nvcsw;
	char tr_host[64];         /* the host's name (uname) */
	unsigned tr_errors;       /* workload-detected violations + checker findings */
	bool tr_check;            /* check.enabled: the oracles ran (pmapstorm/check.h) */
	uint64_t tr_check_counts[CHK_NORACLES][2]; /* per oracle: checks, violations (whole trial) */
	bool tr_done;
};

/* The host's clock (CLOCK_MONOTONIC, ns), whatever the engine: how long
 * something took here (a window, microbench's core probe, calibrate's
 * timer overhead). */
static inline uint64_t trial_host_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Runs one trial: 0, or an errno after a message (EINVAL: the point's
 * machine does not boot from its config, or a workload refused its options
 * as it set up; ENOMEM, or the machine's errno). */
int trial_run(const struct exp_point *, unsigned trial, uint64_t seed, struct trial_result *,
    _Atomic int *stop);
const struct metric *trial_metric(const struct trial_result *, const char *name);
/* Frees what trial_run() allocated inside the result (not the result itself). */
void trial_free(struct trial_result *);
/* The driver's next batch of operations between two clock reads, after
 * `batch` operations took `took` ns: what fits in 20 µs at that pace,
 * 1 to 32. */
unsigned trial_batch_next(unsigned batch, uint64_t took);
/* update_cost per op from the timed completions (sum, count), all the
 * role's completions (pmap.completions) and its ops: NaN when none was
 * timed; the timed mean scaled to every completion (stats.update_sample) */
double trial_cost_per_op(uint64_t timed_sum, uint64_t timed, uint64_t completions, uint64_t ops);

#endif
