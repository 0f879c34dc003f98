/*
 * driver.h — one trial of a sweep point, and what it measured.
 */
#ifndef PMAPSTORM_DRIVER_H
#define PMAPSTORM_DRIVER_H

#include "experiment.h"

#include <pmapstorm/check.h>
#include <pmapstorm/stats.h>

struct metric {
	const char *m_name;   /* e.g. "shootdown_latency_p99" */
	const char *m_unit;   /* "ns", "ops/s", "ratio", ... */
	int m_better;         /* +1 higher is better, -1 lower, 0 neither */
	double m_value;
	bool m_count;         /* a ratio of event counts, no time in it: a candidate
	                         deterministic counter (results.c marks it so when
	                         every trial of a point agrees exactly) */
};

#define TRIAL_MAX_METRICS 96
#define TRIAL_MAX_INTERVALS 4096

struct interval_sample {
	double is_t;              /* seconds since the measured window began */
	double is_ops_per_s;
	double is_shootdowns_per_s;
	double is_pages_per_s;    /* pages allocated per second (pool/page churn) */
};

struct trial_result {
	unsigned tr_point, tr_trial, tr_order;
	uint64_t tr_seed;
	double tr_seconds;        /* measured window, as run */
	struct metric tr_metrics[TRIAL_MAX_METRICS];
	unsigned tr_nmetrics;
	uint64_t tr_counters[STATS_MAX_COUNTERS];       /* every registered counter */
	uint64_t tr_lat_buckets[STATS_HIST_BUCKETS];    /* shootdown.latency, merged */
	struct lockstat_row tr_lockstat[LC_NCLASS];
	uint64_t tr_role_ops[EXP_MAX_ROLES];
	uint64_t tr_cpu_ops[MAXCPUS];
	unsigned tr_ncpu;
	struct interval_sample *tr_intervals;
	unsigned tr_nintervals;
	double tr_addrs_mean;     /* shootdown.addrs, mean */
	double tr_alloc_ns[2][2]; /* uvm_km_alloc and pool page allocation latency: p50, p99 */
	double tr_ack_ns[2];      /* request -> acknowledgement at the targets: p50, p99 */
	double tr_lat_max_ns;     /* shootdown.latency: the true maximum (buckets hold only low edges) */
	uint64_t tr_coh_n;        /* shootdown.coherence: windows timed (lazy strategies) */
	double tr_coh_ns[3];      /* ... p50, p99, max */
	uint64_t *tr_ack_sum;     /* [initiator * ncpu + target], over the measured window */
	uint64_t *tr_ack_count;
	unsigned tr_errors;       /* workload-detected violations + checker findings */
	bool tr_check;            /* check.enabled: the oracles ran (pmapstorm/check.h) */
	uint64_t tr_check_counts[CHK_NORACLES][2]; /* per oracle: checks, violations (whole trial) */
	bool tr_done;
};

/* Runs one trial: 0, or an exit code (EXIT_ENV when the machine cannot boot). */
int trial_run(const struct exp_point *, unsigned trial, uint64_t seed, struct trial_result *,
    _Atomic int *stop);
const struct metric *trial_metric(const struct trial_result *, const char *name);
/* Frees what trial_run() allocated inside the result (not the result itself). */
void trial_free(struct trial_result *);

/* results.c */
struct run_results {
	const struct experiment *rr_ex;
	struct exp_point *rr_points;   /* ex_npoints of them */
	struct trial_result *rr_trials;/* point-major: [p * trials + t] */
	unsigned rr_trials_per_point;
	bool rr_interrupted;
	const char *rr_config_path;
	const char *const *rr_sets;
	unsigned rr_nsets;
	double rr_wall_s;
};
int results_write(const struct run_results *, const char *dir);

/* plot.c / report.c */
int plot_dir(const char *dir, bool quiet);
int report_write(const struct run_results *, const char *dir);

#endif
