/*
 * results.h — a run's results as they are recorded: run.json and the CSV
 * files the plots read (results.c lists them).
 */
#ifndef PMAPSTORM_RECORD_RESULTS_H
#define PMAPSTORM_RECORD_RESULTS_H

#include "experiment/experiment.h"
#include "trials/driver.h"

#include <stdbool.h>

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

/* run.json and the CSV files into dir: 0 or an errno, after a message */
int results_write(const struct run_results *, const char *dir);

#endif
