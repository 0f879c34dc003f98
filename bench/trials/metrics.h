/*
 * metrics.h — every metric a trial reports, defined once.
 *
 * A metric has one meaning for every strategy and workload.  Its
 * definition in words lives in metric_defs[] (metrics.c), and nowhere
 * else: `pmapstorm list metrics`, run.json's "metric_defs", the report's
 * glossary and the README's table are all made from it or checked
 * against it (tests/test_run.c).  Rules every definition keeps:
 *  - per-operation and per-completion figures belong to the role whose
 *    CPUs did the operations: "walks_per_op.unmap", never a total over
 *    unlike roles;
 *  - a metric that does not apply (no remote request to time, a strategy
 *    with no lazy window, a lock class nobody took) is absent from the
 *    trial, never 0; md_na says when;
 *  - a cost every strategy pays is measured for every strategy (a
 *    strategy that sends nothing still pays its pmap_update()).
 */
#ifndef PMAPSTORM_METRICS_H
#define PMAPSTORM_METRICS_H

#include <stdbool.h>
#include <stddef.h>

enum metric_scope {
	MS_TRIAL = 0, /* the whole machine: "name" */
	MS_ROLE = 1,  /* one role's CPUs: "name.<role>" */
	MS_CLASS = 2, /* one lock class: "name.<class>" */
};

struct metric_def {
	const char *md_name;  /* base name, e.g. "update_cost_p50" */
	const char *md_unit;  /* "ns", "ops/s", "ratio", ... */
	int md_better;        /* +1 higher is better, -1 lower, 0 neither */
	enum metric_scope md_scope;
	bool md_count;        /* events per event, no host time in it: a candidate
	                         deterministic counter (run.json marks it so when
	                         the trials of a point agree exactly) */
	bool md_explains;     /* one of the counters the report's findings use to
	                         say why a strategy ranks where it does */
	const char *md_desc;  /* the definition, in words */
	const char *md_na;    /* when it is absent (not applicable), or NULL */
};

/* The catalog, NULL-terminated by md_name. */
extern const struct metric_def metric_defs[];
/* The definition of a metric name ("walks_per_op.unmap" -> walks_per_op),
 * or NULL. */
const struct metric_def *metric_def_of(const char *name);
/* Does the metric come from the statistics (counters, histograms,
 * lockstat)?  Every one but ops_per_s and errors, which the driver counts
 * itself: with stats.enabled = off the others are absent from every
 * trial, never 0 (metric_na() says so beside each definition). */
bool metric_from_stats(const struct metric_def *);
/* When the metric is absent (not applicable), in words: md_na, and for a
 * metric from the statistics "or statistics are off" (unless md_na says
 * "like" another metric, whose text says it); NULL when it always applies.
 * buf holds the composed text. */
const char *metric_na(const struct metric_def *, char *buf, size_t len);
#define METRIC_NA_LEN 512
/* The unit of a metric measured under machine.engine = virtual: times in
 * virtual nanoseconds, rates per virtual second ("ns" -> "virtual ns",
 * "ops/s" -> "ops/virtual s"); units without time stay as they are. */
const char *metric_unit_virtual(const char *unit);
/* The role or class part of a scoped name ("unmap"), or "" for a trial metric. */
const char *metric_scope_part(const char *name);

#endif
