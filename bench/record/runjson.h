/*
 * runjson.h — a run.json read back into the structures results.c wrote it
 * from (driver.h: the experiment, its points, every completed trial), so
 * that a results folder's CSV files and report can be made again from its
 * run.json alone.  pmapstorm merge does that with the union of its
 * shards' trials (merge.c).
 *
 * The points are rebuilt from what run.json recorded of them (config,
 * roles, swept values, windows), never resolved again against this host:
 * a merge may run on a host that could not run the points itself.  Trials
 * absent from the file stay !tr_done, as an unfinished trial of a run.
 * What run.json does not hold stays zero: the per-trial histogram
 * summaries (tr_ack, tr_coherence, ...: only the metrics came from them)
 * and the call sites' code addresses (their names are kept).
 */
#ifndef PMAPSTORM_RUNJSON_H
#define PMAPSTORM_RUNJSON_H

#include "record/results.h"
#include "trials/driver.h"

struct runjson {
	struct run_results rj_rr;       /* the run, pointing into what follows */
	struct experiment *rj_ex;
	struct exp_point *rj_points;
	struct trial_result *rj_trials; /* point-major: [point * trials_per_point + trial] */
	size_t rj_ntrials;              /* points x trials_per_point */
	const char **rj_sets;           /* the overrides */
	char **rj_strs;                 /* strings the structures point at */
	unsigned rj_nstrs, rj_cap;
};

/* Read doc (a parsed run.json; name is what messages call it).
 * => EXIT_OK and *out filled (free with runjson_free), or EXIT_USAGE with
 *    "NAME: where: what" in err (EXIT_ENV when out of memory), *out freed.
 * => a key of a point's config this build does not know is an error: its
 *    points could not be told apart from others. */
int runjson_read(const json_t *doc, const char *name, struct runjson *out, char *err, size_t errlen);
void runjson_free(struct runjson *);

#endif
