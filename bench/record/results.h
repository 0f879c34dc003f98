/*
 * results.h — a run's results as they are recorded: run.json and the CSV
 * files the plots read (results.c lists them).
 */
#ifndef PMAPSTORM_RECORD_RESULTS_H
#define PMAPSTORM_RECORD_RESULTS_H

#include "experiment/experiment.h"
#include "trials/driver.h"

#include <jansson.h>
#include <stdbool.h>

/* run.json's schema_version (docs/run.schema.json): what results_write()
 * writes, and the oldest that gate and merge still read.  3: a lockstat
 * row's hold times are null when it timed no hold (2 wrote 0 there); 4:
 * with stats.enabled = off a timeline interval's counter rates are null (3
 * wrote 0), a trial has no metric from the statistics (3 wrote counter
 * metrics of 0), and a trial's lockstat is empty when lockstat was not
 * recorded (3 wrote rows of 0); a reader of 4 reads 2 and 3. */
#define RUN_SCHEMA_VERSION 4
#define RUN_SCHEMA_VERSION_MIN 2

struct shard_spec;
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
	const struct shard_spec *rr_shard; /* --shard: run.json's "shard" (trials/shard.h); NULL otherwise */
};

/* run.json and the CSV files into dir: 0 or an errno, after a message */
int results_write(const struct run_results *, const char *dir);
/* The CSV files alone (results_write writes them after run.json and the
 * topologies; pmapstorm merge writes those itself): 0 or an errno */
int results_write_tables(const struct run_results *, const char *dir);
/* run.json's per-point "summary" of point p, from its completed trials */
json_t *results_summary_json(const struct run_results *, unsigned p);

#endif
