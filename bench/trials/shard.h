/*
 * shard.h — one run over several hosts: `pmapstorm run CONFIG --shard K/N`
 * runs the K-th of N slices of the run's trials (shard.c), and
 * `pmapstorm merge OUT DIR...` puts the N results folders back together
 * into one (merge.c).  A trial never spans hosts (pmapstorm models one
 * shared-memory machine); the trials of a sweep are independent, so the
 * schedulers users already have (a CI matrix, a Slurm job array, a
 * Kubernetes Indexed Job, GNU parallel) spread them, and pmapstorm only
 * says which trials are whose.
 *
 * The slices.  Every shard of a run resolves the same points and draws the
 * same seeded trial order as the unsharded run (run.c).  Walking that order,
 * a trial goes to the shard holding the fewest trials of its point so far,
 * among those to the one with the least estimated time so far, and then to
 * the lowest-numbered (shard_plan).  So:
 *   - the slices are deterministic: every host computes the same ones;
 *   - every point's trials spread evenly over the shards, so every
 *     strategy's median is made of the same mix of hosts, and a slow host
 *     cannot favour one strategy over another;
 *   - the shards' estimated times (shard_trial_cost) differ by about one
 *     trial at most;
 *   - each shard runs its trials in the run's order, and every trial keeps
 *     its seed (a function of its point and number, never of who runs it)
 *     and its place in the order (run.json's "order").
 * A shard's results folder is an ordinary one holding its slice, with a
 * "shard" object in run.json: K, N, the experiment file's text, the engine,
 * and the trials it was given.
 *
 * Comparable across hosts.  Deterministic counters (IPIs per update, pages
 * per request, errors: metrics.h's md_count) do not depend on the host.
 * Timings of the threads engine do: a trial's ops_per_s or latency is the
 * host's as much as the strategy's.  shard_doc_hosts() reads from any
 * run.json where its trials ran, so that the report and the gate say so
 * whenever they compare timings from more than one host.
 */
#ifndef PMAPSTORM_SHARD_H
#define PMAPSTORM_SHARD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

struct exp_point;
struct machine_config;

/* A trial of a run: its point, and its number at that point.  The run's
 * seeded order is an array of these (run.c). */
struct order_item {
	unsigned oi_point, oi_trial;
};

#define SHARD_MAX 10000        /* N */
#define SHARD_TEXT_MAX (1u << 20) /* bytes of an experiment file kept in run.json */

struct shard_spec {
	unsigned sh_index;      /* K, 1..N */
	unsigned sh_count;      /* N; 0: the run is not sharded */
	char sh_how[320];       /* how it was given: "2/3", "env:SLURM_ARRAY_TASK_ID/3 (SLURM_ARRAY_TASK_ID=2)" */
	/* shard_plan() fills the rest */
	char *sh_text;          /* the experiment file, as read before the run */
	unsigned char *sh_mine; /* per position of the run's order: 1 when this shard runs it */
	struct order_item *sh_trials; /* this shard's trials, in the run's order */
	unsigned sh_ntrials, sh_total;
	double sh_cost, sh_total_cost; /* estimated seconds: this shard's, the whole run's */
	char sh_engine[64];     /* machine.engine of the points ("threads" before that key existed) */
};

/* --shard's argument: "K/N" (K from 1 to N), or "env:VAR/N" (K is the
 * value of the environment variable VAR), or "env:VAR+1/N" (VAR counts
 * from 0: JOB_COMPLETION_INDEX, a Slurm array --array=0-N-1).
 * => EXIT_OK and *out (unplanned), or EXIT_USAGE after a message that
 *    names --shard and what is wrong with it. */
int shard_parse(const char *arg, struct shard_spec *out);
/* The estimated seconds of one trial of a point: what the slices balance,
 * and what run's time estimate adds up. */
double shard_trial_cost(const struct exp_point *);
/* The slices of a run whose seeded order is order[0..total) (see above),
 * this shard's kept in s; the experiment file read again from ex_path.
 * Warns of values each host resolves for itself (machine.cpus = host,
 * ipi.preset = calibrated): shards on unlike hosts would not merge.
 * => EXIT_OK, EXIT_ENV (out of memory, the file cannot be read again) after
 *    a message. */
struct experiment;
int shard_plan(struct shard_spec *s, const struct order_item *order, unsigned total, const struct experiment *ex,
    const struct exp_point *points);
/* The same slices as owners: owner[k] (0..nshards-1) of each position k of
 * order, the points' costs in cost[point] (seconds).  Pure: the tests call
 * it.  => 0, or ENOMEM. */
int shard_assign(const struct order_item *order, unsigned total, const double *cost, unsigned npoints,
    unsigned nshards, unsigned *owner);
void shard_free(struct shard_spec *);
/* "NAME-shard2of3": the results folder's suffix of a shard (NAME otherwise) */
void shard_folder_name(const struct shard_spec *, const char *name, char *buf, size_t len);
/* run.json's "shard" object */
json_t *shard_json(const struct shard_spec *);
/* machine.engine of a config: "threads" until the key exists */
void shard_engine(const struct machine_config *, char *buf, size_t len);

/* Where a run.json's trials ran.  Safe on any JSON value whatever its
 * shape (the gate's fuzzed reader calls it): what is not as expected is
 * skipped. */
#define SHARD_MAX_HOSTS 16
struct shard_hosts {
	unsigned hs_nhosts;                        /* distinct trial hosts (the first SHARD_MAX_HOSTS are named) */
	char hs_name[SHARD_MAX_HOSTS][64];         /* sorted */
	unsigned hs_trials[SHARD_MAX_HOSTS];       /* completed trials on each */
	unsigned hs_mixed;                         /* comparisons (facet and CPU count) whose trials span hosts */
	unsigned hs_groups;                        /* comparisons */
	bool hs_host_timing;                       /* timings depend on the host (every engine but virtual) */
	unsigned hs_shard, hs_of;                  /* a shard: K of N; 0 otherwise */
	unsigned hs_merged;                        /* a merged run: how many shards; 0 otherwise */
};
void shard_doc_hosts(const json_t *doc, struct shard_hosts *);
/* "node1, node2 (+3 more)" */
void shard_hosts_names(const struct shard_hosts *, char *buf, size_t len);

/* What the report says about shards and hosts (report.c places them):
 * SN_ANSWER under the answer (and in the run's closing lines), SN_WHAT_RAN
 * among what ran, SN_WARNING among the warnings. */
enum shard_note_kind { SN_ANSWER, SN_WHAT_RAN, SN_WARNING };
struct shard_note {
	char sn_title[64];
	char sn_text[1536];
};
unsigned shard_report_notes(const json_t *runjson, enum shard_note_kind, struct shard_note *out, unsigned max);

/* `pmapstorm merge OUT DIR...` (merge.c) */

#endif
