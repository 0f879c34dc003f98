/*
 * experiment.h — experiment files, sweeps, roles, and the points they resolve to.
 *
 * An experiment file is INI (parsed by inih).  Sections:
 *   [experiment]  name, trials, warmup, duration, seed, interval
 *   [machine] [tlb] [mmu] [shootdown] [ipi] [locks] ...
 *                 machine keys, as machine_config_set() knows them
 *   [role.NAME]   workload = NAME, cpus = SET, pmap = shared|private,
 *                 and the workload's own options
 *   [mix.NAME]    a workload mix: `roles = A+B` (which roles run; default
 *                 all), and any key of the sections above written in full
 *                 (kmem.poolpage = direct, vacache; role.churn.drain = 64;
 *                 experiment.duration = 0.5s), for this mix only
 *   [report]      baseline = STRATEGY (the report's comparisons; default
 *                 netbsd-x86 when it ran), primary = METRIC (what ranks
 *                 the strategies of a mix; default ops_per_s.<its first role>)
 * Any value may be a comma-separated list: the experiment then sweeps the
 * cartesian product of all lists.  With experiment.mix = A, B, ... the
 * points are, mix after mix, the product of the lists as that mix's
 * section overrides them.  --set section.key=value overrides a file value
 * (and may itself be a list); --set mix.NAME.section.key=value a mix's.
 */
#ifndef PMAPSTORM_EXPERIMENT_H
#define PMAPSTORM_EXPERIMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pmapstorm/machine.h>

#define EXP_MAX_KEYS 256
#define EXP_MAX_MIXES 16
#define EXP_MAX_VALUES 32
#define EXP_MAX_ROLES 8
/* timeline samples a trial keeps: duration / interval may not exceed it */
#define EXP_MAX_INTERVALS 4096
#define EXP_NAMELEN 64
#define EXP_CPUSETLEN 64  /* a role's cpus = value, with its NUL */

/* One key of the file with its value list (a sweep dimension when > 1). */
struct exp_key {
	char ek_key[EXP_NAMELEN * 2]; /* "section.key", "role.NAME.key", or "roles" in a mix */
	char ek_mix[EXP_NAMELEN];     /* the [mix.NAME] it belongs to; "" for the file's own */
	char *ek_values[EXP_MAX_VALUES];
	unsigned ek_nvalues;
	int ek_line;                  /* 0 for --set */
};

struct experiment {
	char ex_path[1024];
	char ex_name[EXP_NAMELEN];
	struct exp_key ex_keys[EXP_MAX_KEYS];
	unsigned ex_nkeys;
	unsigned ex_npoints;          /* over the mixes, the product of the value counts */
	bool ex_skip_calib;           /* exp_point leaves ipi.preset = calibrated unapplied */
	/* workload mixes: experiment.mix's values, or one unnamed mix */
	unsigned ex_nmixes;
	char ex_mixes[EXP_MAX_MIXES][EXP_NAMELEN];
	unsigned ex_mix_points[EXP_MAX_MIXES];
	/* [report] */
	char ex_baseline[EXP_NAMELEN]; /* "" when not given */
	char ex_primary[EXP_NAMELEN * 2];
};

/* A CPU set: a bitmap over simulated CPUs, from "all", "even", "odd", "lo",
 * "hi", "N", "A-B", or a comma list of those joined with '+' ("0-1+4"). */
struct cpuset_spec {
	char cs_text[64];
};

/* Everything one sweep point needs to run a trial. */
struct exp_role {
	char er_name[EXP_NAMELEN];
	const struct workload *er_workload;
	char er_cpus[EXP_CPUSETLEN];
	bool er_private_pmap;
	char er_pmap[EXP_NAMELEN];    /* "shared", "private", or a name several roles share */
	/* the workload's options, "key" = "value" */
	const char *er_optkeys[32];
	const char *er_optvals[32];
	unsigned er_nopts;
	int er_line;
};

struct exp_point {
	unsigned ep_index;
	const char *ep_mix;           /* the workload mix ("" when the file has none) */
	struct machine_config ep_cfg;
	unsigned ep_trials;
	double ep_warmup_s, ep_duration_s, ep_interval_s;
	uint64_t ep_seed;
	struct exp_role ep_roles[EXP_MAX_ROLES];
	unsigned ep_nroles;
	/* the swept keys' values at this point */
	const char *ep_sweep_keys[EXP_MAX_KEYS];
	const char *ep_sweep_vals[EXP_MAX_KEYS];
	unsigned ep_nsweep;
};

/* Every function here returns 0 or an errno after a message (common/msg.h):
 * EINVAL for bad input, ENOMEM or another errno for the environment. */

/* Parse: 0, or EINVAL after printing "file:line: key: reason". */
int exp_load(struct experiment *, const char *path);
/* Apply a --set (may be a list): 0 or EINVAL. */
int exp_override(struct experiment *, const char *kv);
/* Resolve sweep point i (0 <= i < ex_npoints), validating every value: 0 or EINVAL. */
int exp_point(const struct experiment *, unsigned i, struct exp_point *);
/* The machine keys of an INI file (experiment and role sections may be there
 * and are ignored; lists are refused) applied to cfg: 0, or a
 * "file:line: key: reason" message and EINVAL.  The same parser and
 * checks as exp_load. */
int exp_load_machine(struct machine_config *cfg, const char *path);
/* the line a key was set on: > 0, -1 when --set gave it, 0 when not set */
int exp_key_line(const struct experiment *, const char *key);
void exp_free(struct experiment *);
/* A point's topology and placement (core/topo), as its machine has them;
 * NULL when they do not resolve (exp_point has reported it already). */
struct topo *exp_point_topo(const struct exp_point *);
/* The same for a config, checked whole first (machine_config_check, then
 * machine_config_topo: the one code path machine_boot uses): 0 with
 * *out, else *out NULL and EINVAL (bad input) or another errno (hwloc
 * cannot load a topology); with who, errors are printed as
 * "who: key: reason" (topo, calibrate). */
int exp_config_topo(const struct machine_config *, const char *who, struct topo **out);
/* machine.numa parsed and resolved against the host, described in buf
 * ("interleave over 2 nodes", "none: ..."): 0, or EINVAL with the
 * "machine.numa: reason" in buf (topo, run.json). */
struct topo_numa;
int exp_numa(const struct machine_config *, struct topo_numa *, char *buf, size_t len);
/* For topo and calibrate: the machine config of the first sweep point of the
 * experiment file in args (nargs 0 or 1; who names the command in errors),
 * then the --set overrides in order.  ipi.preset = calibrated is not
 * applied (neither command needs the IPI costs, and calibrate writes the
 * file): a missing calibration file is no error here. */
int exp_first_config(const char *who, int nargs, char *const *args, const char *const *sets, unsigned nsets,
    struct machine_config *cfg);
/* A one-role point without a file: workload on every CPU in one shared pmap,
 * one trial of warmup + duration seconds, seed 1 (microbench, tests). */
void exp_point_single(struct exp_point *, const struct machine_config *, const char *workload, double warmup_s,
    double duration_s);
/* Parse a CPU set against ncpu CPUs into a bitmap; -1 with why on error. */
int exp_cpuset(const char *spec, unsigned ncpu, uint64_t *bits, unsigned nwords, char *why, size_t len);
/* The point's facet: its mix and its swept values but the strategy's and
 * the CPU count's ("pool / kmem.poolpage=vacache"): the points of one facet
 * differ only in strategy and CPUs.  "" when there is nothing else. */
void exp_point_facet(const struct exp_point *, char *buf, size_t len);
/* A duration "2s", "500ms", "1.5", in seconds; -1 on error. */
double exp_parse_seconds(const char *v);
/* A --set "section.key=value" of one machine config (no list), through
 * machine_config_set(): 0, or EINVAL after "--set: key: reason"
 * (microbench, stress, exp_first_config). */
int exp_apply_set(struct machine_config *, const char *kv);

#endif
