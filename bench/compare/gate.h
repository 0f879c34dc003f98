/*
 * gate.h — `pmapstorm gate BASELINE CURRENT`: compare two run.json files
 * (or a committed baseline, which is a run.json) point by point, metric by
 * metric, and decide whether CURRENT regressed.  gate.c says how.
 *
 * The reader (gate_doc_parse) takes a memory buffer so that it can be
 * fuzzed: on any input -- truncated, hostile, wrong-typed, huge -- it
 * returns EINVAL with a message (ENOMEM when out of memory) and
 * leaves nothing allocated; it never
 * asserts or crashes.  Sizes are bounded by the GATE_MAX_* limits.
 */
#ifndef PMAPSTORM_GATE_H
#define PMAPSTORM_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define GATE_MAX_FILE (64u << 20)   /* bytes of one run.json */
#define GATE_MAX_POINTS 100000
#define GATE_MAX_TRIALS 10000       /* per point */
#define GATE_MAX_METRICS 1024       /* per point or trial */
#define GATE_MAX_CONFIG 1024        /* config keys per point */
#define GATE_MAX_STRING 4096        /* bytes of a name, key or value */
#define GATE_DET_TOLERANCE 1e-9     /* relative: deterministic counters */
#define GATE_NOISE_MARGIN 1.5       /* --noise-out: floor = margin x largest A/A change */

struct gate_metric {
	char *gm_name, *gm_unit;
	int gm_better;  /* +1 higher is better, -1 lower, 0 neither */
	bool gm_det;    /* summary.deterministic: every trial agreed exactly */
	unsigned gm_n;  /* completed trials that carry the metric */
	double *gm_vals;
};

struct gate_point {
	unsigned gp_index;
	char *gp_label;     /* strategy, CPUs and the other swept keys, for people */
	char **gp_cfg;      /* "key=value" of every config key and role.NAME.OPTION, sorted */
	unsigned gp_ncfg;
	char **gp_implied;  /* the entries of gp_cfg the file did not record: a workload option at its default */
	unsigned gp_nimplied;
	char *gp_roles;     /* the roles without their options, compact JSON with sorted keys */
	struct gate_metric *gp_metrics;
	unsigned gp_nmetrics;
	bool gp_virtual;    /* "clock": "virtual" (machine.engine = virtual): every metric is a function of
	                     * the binary, the config and the seeds, timing included */
	double gp_warmup_s, gp_duration_s; /* the trials' warm-up and measured window; -1 when not recorded */
};

struct gate_doc {
	char *gd_file;      /* the name given to the parser (the path) */
	char *gd_name;      /* the experiment's name */
	char *gd_commit;    /* provenance.commit, or "" */
	char *gd_hosts;     /* the hosts its trials ran on, sorted, "a, b" (shard.h: shard_doc_hosts) */
	unsigned gd_nhosts;
	bool gd_host_timing; /* its timings depend on the host (the threads engine) */
	bool gd_interrupted;
	struct gate_point *gd_points;
	unsigned gd_npoints;
};

/* Parse a run.json held in buf[0..len) (need not be NUL-terminated).
 * => 0 and *out filled (free with gate_doc_free), or EINVAL with
 *    "NAME: where: what is wrong" in err and *out empty (ENOMEM and
 *    "NAME: out of memory" when memory runs out).
 * => never reads past buf + len; any byte sequence is safe. */
int gate_doc_parse(const char *buf, size_t len, const char *name, struct gate_doc *out, char *err, size_t errlen);
/* Read path (at most GATE_MAX_FILE bytes) and parse it; the same contract. */
int gate_doc_load(const char *path, struct gate_doc *out, char *err, size_t errlen);
void gate_doc_free(struct gate_doc *);
/* a command-line RUN argument: a results folder means its run.json */
void gate_input_path(const char *arg, char *buf, size_t len);

enum gate_verdict {
	GV_NO_CHANGE,
	GV_IMPROVEMENT,
	GV_REGRESSION,
	GV_CHANGED,      /* a metric without a better-direction moved */
	GV_INCONCLUSIVE, /* too few trials or too noisy */
};
const char *gate_verdict_name(enum gate_verdict);

struct gate_options {
	double go_threshold;           /* minimum effect, as a fraction (0.05) */
	double go_alpha;               /* significance level of the U test */
	const char *const *go_globs;   /* --metric patterns (fnmatch); none: all */
	unsigned go_nglobs;
	bool go_det_only;              /* gate deterministic counters only */
	bool go_allow_missing;         /* --allow-missing: gaps in CURRENT are listed, not failed */
	/* the noise floor (--noise FILE): per metric-name pattern, the relative
	 * change two runs of the same build showed; a metric's threshold is the
	 * larger of go_threshold and the floors of the patterns it matches */
	char **go_noise_names;
	double *go_noise_vals;
	unsigned go_nnoise;
};

struct gate_result;

/* Read a noise file {"schema": "pmapstorm-noise", "metrics": {PATTERN: fraction}}
 * into o's go_noise_* arrays (free with gate_noise_free); the reader's contract. */
int gate_noise_load(const char *path, struct gate_options *o, char *err, size_t errlen);
void gate_noise_free(struct gate_options *o);
/* the threshold of metric name under o */
double gate_threshold_of(const struct gate_options *o, const char *name);
/* A/A: write (or raise) the noise floor of every metric in r to path: the
 * larger of the floor in o and GATE_NOISE_MARGIN x the largest |ratio - 1|
 * of the metric's timing rows with a finite ratio.  It and the
 * gate_write_* reports: 0, or an errno after a message. */
int gate_noise_write(const char *path, const struct gate_options *o, const struct gate_result *r,
    const struct gate_doc *base, const struct gate_doc *cur);
/* A/A: per metric, the median and largest |ratio - 1| over points, printed */
void gate_print_noise(FILE *, const struct gate_result *r);

struct gate_row {
	const struct gate_point *gr_base, *gr_cur;
	const struct gate_metric *gr_bm, *gr_cm;
	bool gr_det;         /* both sides deterministic: the tolerance decides */
	bool gr_gated;       /* counts towards the exit code */
	bool gr_fails;       /* gated and a regression (or a deterministic change) */
	double gr_med_base, gr_med_cur, gr_ratio; /* ratio = current / baseline median */
	bool gr_have_ci;
	double gr_ci_lo, gr_ci_hi;               /* bootstrap CI of the ratio, level 1 - alpha */
	double gr_p;                             /* U test; 1 for deterministic rows */
	double gr_threshold;                     /* this metric's minimum effect */
	enum gate_verdict gr_verdict;
	unsigned gr_need;                        /* trials per side needed, when inconclusive */
	char gr_why[192];
};

/* What the baseline has and CURRENT lacks: a gap in coverage.  A gap fails
 * the gate (exit 1) unless --allow-missing, or unless it is a metric that
 * would not be gated anyway (a timing metric under --deterministic-only). */
struct gate_gap {
	const struct gate_point *gg_point; /* the baseline's point; NULL: CURRENT is an interrupted run */
	const char *gg_metric;             /* NULL: the whole point is missing */
	bool gg_no_trials;                 /* the metric is there, but no completed trial carries it */
	bool gg_gated;                     /* would count towards the exit code */
	bool gg_fails;                     /* gated and not --allow-missing */
};

struct gate_result {
	struct gate_row *gr_rows;
	unsigned gr_nrows;
	unsigned gr_count[GV_INCONCLUSIVE + 1];
	unsigned gr_failures;                             /* failing rows */
	struct gate_gap *gr_gaps;
	unsigned gr_ngaps, gr_gap_failures;               /* gaps, failing gaps */
	unsigned gr_matched, gr_only_base, gr_only_cur; /* points */
	char gr_notes[2048];                              /* warnings, one per line */
	bool gr_hosts_differ;                             /* timings from different hosts (a note says which) */
};

/* Match the points of base and cur by configuration (config keys that both
 * files know, and the roles) and compare every metric both carry; list as
 * gaps the points and selected metrics of base that cur lacks, and an
 * interrupted cur.
 * => 0, or EINVAL with a message in err: no common point, or a
 *    --metric pattern that matches no metric. */
int gate_compare(const struct gate_doc *base, const struct gate_doc *cur, const struct gate_options *,
    struct gate_result *, char *err, size_t errlen);
void gate_result_free(struct gate_result *);
/* true when a gated row or a gap fails: the gate does not pass */
bool gate_failed(const struct gate_result *);

void gate_print_text(FILE *, const struct gate_doc *base, const struct gate_doc *cur, const struct gate_options *,
    const struct gate_result *);
int gate_write_junit(const char *path, const struct gate_doc *base, const struct gate_doc *cur,
    const struct gate_options *, const struct gate_result *);
int gate_write_markdown(const char *path, const struct gate_doc *base, const struct gate_doc *cur,
    const struct gate_options *, const struct gate_result *);
/* one line about a gap: "point 3 (label): metric errors missing from the current run" */
void gate_gap_text(char *buf, size_t len, const struct gate_doc *cur, const struct gate_gap *g);
int gate_write_json(const char *path, const struct gate_doc *base, const struct gate_doc *cur,
    const struct gate_options *, const struct gate_result *);


#endif
