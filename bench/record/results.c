/*
 * results.c — a run's results: run.json and the CSV files the plots read.
 *
 * run.json (schema in docs/run.schema.json) holds everything: provenance,
 * the experiment as run, every point's configuration, every trial's metrics
 * with unit and better-direction, lockstat rows, and per-point summaries.
 * The CSV files are views for gnuplot (plots/ reads only them).  Every row
 * starts with point, strategy, cpus, and but in placement.csv facet
 * (exp_point_facet: the mix and
 * the other swept values; the points of a facet differ only in strategy
 * and CPU count, so a plot draws one panel per facet):
 *   summary.csv       ..., metric, unit, better, n, median, min, max, q1, q3
 *   trials.csv        ..., trial, metric, value
 *   update_ccdf.csv   ..., role, value_ns, ccdf  (pmap.update_cost of the role, merged
 *                     trials: the share of timed completions, stats.update_sample,
 *                     that cost at least value_ns)
 *   lockwait.csv      ..., class, algorithm, wait_share, contentions, acquisitions
 *   lockstat.csv      ..., class, algorithm, lock_stat columns summed over trials
 *   timeline.csv      ..., trial, t_s, series, value  (series: ops_per_s.<role>,
 *                     flushes_per_s, kernel_flushes_per_s, poolpages_per_s)
 *   ackmatrix.csv     ..., initiator, target, mean_ns, acks  (request -> ack, at the target)
 *   recorded.csv      ..., statistics, lockstat  (1/0: what the point recorded; with 0
 *                     the tables above have no row of it, which is not 0)
 *   placement.csv     point, strategy, cpus, cpu, pu, host_pu, group, numa_node, synthetic
 * and the topologies, as hwloc XML: topology.xml (the host's) and, for a
 * point with a synthetic machine.topology, topology-p<point>.xml.
 * Every file is written under a temporary name and renamed.
 */
#include "record/results.h"
#include "common/atomicfile.h"
#include "common/msg.h"
#include "common/path.h"
#include "common/provenance.h"
#include "common/samples.h"
#include "record/lockstat.h"
#include "trials/shard.h"
#include "trials/metrics.h"
#include "trials/workloads/workload.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pmapstorm/alloc.h>
#include <pmapstorm/topo.h>

/* Median, range and mean over the completed trials of point p; deterministic
 * when the metric counts events (m_count) and at least two trials agree
 * exactly -- the gate holds such a metric to a tight tolerance. */
static struct samples_stats summarize(const struct run_results *rr, unsigned p, const char *metric, bool *det,
    const struct metric **first)
{
	double v[1000];
	unsigned n = 0;
	bool count = false;
	for (unsigned t = 0; t < rr->rr_trials_per_point && n < 1000; t++) {
		const struct trial_result *tr = &rr->rr_trials[p * rr->rr_trials_per_point + t];
		if (!tr->tr_done)
			continue;
		const struct metric *m = trial_metric(tr, metric);
		if (m != NULL) {
			if (n == 0 && first != NULL)
				*first = m;
			v[n++] = m->m_value;
			count = m->m_count;
		}
	}
	*det = count && n >= 2;
	for (unsigned i = 1; *det && i < n; i++)
		*det = v[i] == v[0];
	return samples_summarize(v, n, false);
}

/* Every metric name some completed trial of point p has, in first-seen
 * order (a metric may apply in one trial and not another: a window
 * without any remote request), NULL-terminated; free() the array. */
static const char **point_metric_names(const struct run_results *rr, unsigned p)
{
	unsigned cap = 64, n = 0;
	const char **names = mem_alloc(const char *, cap);
	for (unsigned t = 0; names != NULL && t < rr->rr_trials_per_point; t++) {
		const struct trial_result *tr = &rr->rr_trials[p * rr->rr_trials_per_point + t];
		for (unsigned i = 0; tr->tr_done && i < tr->tr_nmetrics; i++) {
			unsigned k = 0;
			while (k < n && strcmp(names[k], tr->tr_metrics[i].m_name))
				k++;
			if (k < n)
				continue;
			if (n + 1 >= cap) {
				const char **nn = mem_realloc(const char *, names, cap *= 2);
				if (nn == NULL) {
					free(names);
					return NULL;
				}
				names = nn;
			}
			names[n++] = tr->tr_metrics[i].m_name;
		}
	}
	if (names != NULL)
		names[n] = NULL;
	return names;
}

static const char *better_word(int b)
{
	return b > 0 ? "higher" : b < 0 ? "lower" : "none";
}

/* a topology as hwloc XML in dir/name, atomically (atomicfile_begin/commit) */
static int write_topology_xml(const struct topo *t, bool host, const char *dir, const char *name)
{
	char tmp[4096];
	FILE *f = atomicfile_begin(dir, name, tmp, sizeof(tmp));
	if (f == NULL)
		return err_env(errno);
	int e = topo_export_xml(t, host, f);
	if (e != 0) {
		msg_error("%s/%s: cannot write the %s topology (%s)", dir, name, host ? "host" : "synthetic", strerror(e));
		fclose(f);
		unlink(tmp);
		return err_env(e);
	}
	return atomicfile_commit(f, dir, name, tmp);
}

static json_t *topology_json(const struct exp_point *pt, unsigned p)
{
	struct topo *t = exp_point_topo(pt);
	if (t == NULL)
		return json_null();
	char buf[768];
	struct topo_numa tn;
	if (exp_numa(&pt->ep_cfg, &tn, buf, sizeof(buf)) != 0) {
		/* exp_point checked it: only a host that changed under the run */
		msg_error("point %u: %s", p, buf);
		topo_close(t);
		return json_null();
	}
	json_t *o = json_object();
	json_object_set_new(o, "synthetic", json_boolean(topo_is_synthetic(t)));
	json_object_set_new(o, "description", json_string(topo_description(t)));
	if (topo_is_synthetic(t)) {
		char name[64];
		snprintf(name, sizeof(name), "topology-p%u.xml", p);
		json_object_set_new(o, "xml", json_string(name));
	} else
		json_object_set_new(o, "xml", json_string("topology.xml"));
	json_object_set_new(o, "placement", json_string(pt->ep_cfg.mc_placement));
	json_object_set_new(o, "model_pus", json_integer(topo_topo_pus(t)));
	json_object_set_new(o, "host_pus", json_integer(topo_npus()));
	json_object_set_new(o, "oversubscribed", json_boolean(topo_oversubscribed(t)));
	json_t *levels = json_array();
	for (unsigned l = 1; l <= topo_nlevels(t); l++)
		json_array_append_new(levels, json_string(topo_level_name(t, l)));
	json_object_set_new(o, "hop_levels", levels);
	json_object_set_new(o, "numa", json_string(buf));
	json_object_set_new(o, "numa_active", json_boolean(tn.tn_active));
	json_t *cpus = json_array();
	for (unsigned c = 0; c < topo_ncpu(t); c++)
		json_array_append_new(cpus, json_pack("{s:i,s:i,s:i,s:i,s:i}", "cpu", (int)c, "pu", topo_cpu_pu(t, c),
		    "host_pu", topo_cpu_host_pu(t, c), "group", topo_cpu_group(t, c), "numa_node", topo_cpu_node(t, c)));
	json_object_set_new(o, "cpus", cpus);
	topo_close(t);
	return o;
}

/* What each role's CPUs did: the role's operations, its counters (the
 * ones that are not 0) and its update_cost histogram (sparse: bucket low
 * edge, count). */
static json_t *roles_json(const struct exp_point *pt, const struct trial_result *tr)
{
	json_t *a = json_array();
	for (unsigned i = 0; i < tr->tr_nroles; i++) {
		const struct role_result *ro = &tr->tr_roles[i];
		json_t *cpus = json_array(), *ctrs = json_object(), *h = json_array();
		for (unsigned c = 0; c < MAXCPUS; c++)
			if ((ro->ro_cpus[c / 64] >> (c % 64)) & 1)
				json_array_append_new(cpus, json_integer(c));
		for (unsigned k = 0; k < stats_ncounters(); k++)
			if (ro->ro_counters[k] != 0)
				json_object_set_new(ctrs, stats_counter_at(k)->sc_name, json_integer((json_int_t)ro->ro_counters[k]));
		for (unsigned k = 0; ro->ro_cost_buckets != NULL && k < STATS_HIST_BUCKETS; k++)
			if (ro->ro_cost_buckets[k] != 0)
				json_array_append_new(h, json_pack("[I,I]", (json_int_t)stats_hist_bucket_low(k),
				    (json_int_t)ro->ro_cost_buckets[k]));
		json_array_append_new(a, json_pack("{s:s,s:o,s:I,s:o,s:o}", "name", pt->ep_roles[i].er_name, "cpus", cpus,
		    "ops", (json_int_t)ro->ro_ops, "counters", ctrs, "update_cost_hist", h));
	}
	return a;
}

/* a figure, or null where it was not measured (NaN) */
static json_t *real_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* The timeline: one object per interval, rates per second. */
static json_t *intervals_json(const struct exp_point *pt, const struct trial_result *tr)
{
	json_t *a = json_array();
	for (unsigned i = 0; i < tr->tr_nintervals; i++) {
		const struct interval_sample *is = &tr->tr_intervals[i];
		json_t *ops = json_object();
		for (unsigned k = 0; k < pt->ep_nroles; k++)
			json_object_set_new(ops, pt->ep_roles[k].er_name, json_real(is->is_role_ops_per_s[k]));
		/* the counters' rates are null with statistics off (driver.c) */
		json_array_append_new(a, json_pack("{s:f,s:o,s:o,s:o,s:o}", "t_s", is->is_t, "ops_per_s", ops, "flushes_per_s",
		    real_or_null(is->is_flushes_per_s), "kernel_flushes_per_s", real_or_null(is->is_kernel_flushes_per_s),
		    "poolpages_per_s", real_or_null(is->is_poolpages_per_s)));
	}
	return a;
}

/* Request -> acknowledgement per (initiator, target), as the targets measured
 * it: [initiator, target, sum_ns, count] for the pairs that have any. */
static json_t *ack_json(const struct trial_result *tr)
{
	json_t *a = json_array();
	unsigned n = tr->tr_ncpu;
	for (unsigned i = 0; tr->tr_ack_sum != NULL && i < n; i++)
		for (unsigned t = 0; t < n; t++)
			if (tr->tr_ack_count[i * n + t] != 0)
				json_array_append_new(a, json_pack("[i,i,I,I]", (int)i, (int)t, (json_int_t)tr->tr_ack_sum[i * n + t],
				    (json_int_t)tr->tr_ack_count[i * n + t]));
	return a;
}

static json_t *point_json(const struct run_results *rr, unsigned p)
{
	const struct exp_point *pt = &rr->rr_points[p];
	json_t *o = json_object();
	char buf[256];
	json_object_set_new(o, "index", json_integer(p));
	json_object_set_new(o, "mix", json_string(pt->ep_mix != NULL ? pt->ep_mix : ""));
	exp_point_facet(pt, buf, sizeof(buf));
	json_object_set_new(o, "facet", json_string(buf));
	json_t *params = json_object();
	for (unsigned i = 0; i < pt->ep_nsweep; i++)
		json_object_set_new(params, pt->ep_sweep_keys[i], json_string(pt->ep_sweep_vals[i]));
	json_object_set_new(o, "params", params);
	json_t *cfg = json_object();
	for (const char *const *k = machine_config_keys(); *k != NULL; k++)
		if (machine_config_get(&pt->ep_cfg, *k, buf, sizeof(buf)) == 0)
			json_object_set_new(cfg, *k, json_string(buf));
	json_object_set_new(o, "config", cfg);
	json_t *roles = json_array();
	for (unsigned i = 0; i < pt->ep_nroles; i++) {
		const struct exp_role *er = &pt->ep_roles[i];
		json_t *opts = json_object();
		for (const struct wl_option *wo = er->er_workload->wl_options; wo && wo->wo_name; wo++) {
			const char *v = wo->wo_default;
			for (unsigned k = 0; k < er->er_nopts; k++)
				if (!strcmp(er->er_optkeys[k], wo->wo_name))
					v = er->er_optvals[k];
			json_object_set_new(opts, wo->wo_name, json_string(v));
		}
		json_array_append_new(roles, json_pack("{s:s,s:s,s:s,s:s,s:o}", "name", er->er_name, "workload",
		    er->er_workload->wl_name, "cpus", er->er_cpus, "pmap", er->er_pmap,
		    "options", opts));
	}
	json_object_set_new(o, "roles", roles);
	json_object_set_new(o, "topology", topology_json(pt, p));
	json_object_set_new(o, "warmup_s", json_real(pt->ep_warmup_s));
	json_object_set_new(o, "duration_s", json_real(pt->ep_duration_s));
	json_object_set_new(o, "interval_s", json_real(pt->ep_interval_s));
	/* machine.engine = virtual: every time and rate of the point is virtual */
	bool virt = pt->ep_cfg.mc_engine == MACHINE_ENGINE_VIRTUAL;
	json_object_set_new(o, "clock", json_string(virt ? "virtual" : "host"));
	json_object_set_new(o, "time_unit", json_string(virt ? "virtual ns" : "ns"));
	json_t *trials = json_array();
	for (unsigned t = 0; t < rr->rr_trials_per_point; t++) {
		const struct trial_result *tr = &rr->rr_trials[p * rr->rr_trials_per_point + t];
		if (!tr->tr_done)
			continue;
		json_t *m = json_object();
		for (unsigned i = 0; i < tr->tr_nmetrics; i++) {
			const struct metric *me = &tr->tr_metrics[i];
			json_object_set_new(m, me->m_name, json_pack("{s:f,s:s,s:s}", "value", me->m_value, "unit", me->m_unit,
			    "better", better_word(me->m_better)));
		}
		json_t *ctrs = json_object();
		for (unsigned i = 0; i < stats_ncounters(); i++)
			if (tr->tr_counters[i] != 0)
				json_object_set_new(ctrs, stats_counter_at(i)->sc_name, json_integer((json_int_t)tr->tr_counters[i]));
		json_t *cpu_ops = json_array();
		for (unsigned c = 0; c < tr->tr_ncpu; c++)
			json_array_append_new(cpu_ops, json_real(tr->tr_seconds > 0 ? tr->tr_cpu_ops[c] / tr->tr_seconds : 0));
		/* lockstat off: no rows, rather than rows of 0 for what nothing counted */
		json_t *ls = lockstat_recorded(&pt->ep_cfg) ? lockstat_json(tr->tr_lockstat, LC_NCLASS, tr->tr_sites)
		                                            : json_array();
		json_t *tj = json_pack("{s:i,s:i,s:I,s:f,s:i,s:o,s:o,s:o,s:o}", "trial", tr->tr_trial, "order",
		    tr->tr_order, "seed", (json_int_t)tr->tr_seed, "seconds", tr->tr_seconds, "errors", tr->tr_errors,
		    "metrics", m, "counters", ctrs, "lockstat", ls, "cpu_ops_per_s", cpu_ops);
		json_t *hj = json_pack("{s:s,s:f,s:f,s:I,s:I,s:f}", "name", tr->tr_host, "usr_s",
		    tr->tr_host_usr_s, "sys_s", tr->tr_host_sys_s, "involuntary_switches", (json_int_t)tr->tr_host_nivcsw,
		    "voluntary_switches", (json_int_t)tr->tr_host_nvcsw, "wall_s", tr->tr_host_wall_s);
		if (tr->tr_virtual && tr->tr_host_wall_s > 0) {
			/* the engine's own speed: simulated work per host second (host-dependent, so here) */
			uint64_t ops = 0;
			for (unsigned c = 0; c < tr->tr_ncpu; c++)
				ops += tr->tr_cpu_ops[c];
			const struct stats_counter *sd = stats_counter_find("shootdown.requests");
			json_object_set_new(hj, "engine_ops_per_host_s", json_real((double)ops / tr->tr_host_wall_s));
			/* a build without the counter, or statistics off, writes no
			 * figure, not a 0 */
			if (sd != NULL && pt->ep_cfg.mc_stats)
				json_object_set_new(hj, "engine_shootdowns_per_host_s",
				    json_real((double)tr->tr_counters[sd->sc_index] / tr->tr_host_wall_s));
		}
		json_object_set_new(tj, "host", hj);
		json_object_set_new(tj, "clock", json_string(tr->tr_virtual ? "virtual" : "host"));
		json_object_set_new(tj, "roles", roles_json(pt, tr));
		json_object_set_new(tj, "intervals", intervals_json(pt, tr));
		json_object_set_new(tj, "ack_matrix", ack_json(tr));
		if (tr->tr_check) { /* check = on: each oracle's checks and violations */
			json_t *chk = json_object();
			for (int k = 0; k < CHK_NORACLES; k++)
				json_object_set_new(chk, check_oracle_name((enum check_oracle)k), json_pack("{s:I,s:I}", "checks",
				    (json_int_t)tr->tr_check_counts[k][0], "violations", (json_int_t)tr->tr_check_counts[k][1]));
			json_object_set_new(tj, "check", chk);
		}
		json_array_append_new(trials, tj);
	}
	json_object_set_new(o, "trials", trials);
	json_object_set_new(o, "summary", results_summary_json(rr, p));
	return o;
}

json_t *results_summary_json(const struct run_results *rr, unsigned p)
{
	json_t *sum = json_object();
	const char **names = point_metric_names(rr, p);
	for (unsigned i = 0; names != NULL && names[i] != NULL; i++) {
		const struct metric *me = NULL;
		bool det;
		struct samples_stats s = summarize(rr, p, names[i], &det, &me);
		json_object_set_new(sum, names[i], json_pack("{s:s,s:s,s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:b}", "unit",
		    me->m_unit, "better", better_word(me->m_better), "n", s.n, "median", s.median, "min", s.min, "max", s.max,
		    "mean", s.mean, "q1", s.q1, "q3", s.q3, "deterministic", det));
	}
	free(names);
	return sum;
}

static int write_run_json(const struct run_results *rr, const char *dir)
{
	const struct experiment *ex = rr->rr_ex;
	json_t *doc = json_object();
	json_object_set_new(doc, "schema", json_string("pmapstorm-run"));
	json_object_set_new(doc, "schema_version", json_integer(RUN_SCHEMA_VERSION));
	json_object_set_new(doc, "name", json_string(ex->ex_name));
	json_object_set_new(doc, "interrupted", json_boolean(rr->rr_interrupted));
	json_object_set_new(doc, "wall_seconds", json_real(rr->rr_wall_s));
	json_object_set_new(doc, "provenance", provenance_json(&rr->rr_points[0].ep_cfg));
	json_object_set_new(doc, "config_file", json_string(rr->rr_config_path));
	json_t *sets = json_array();
	for (unsigned i = 0; i < rr->rr_nsets; i++)
		json_array_append_new(sets, json_string(rr->rr_sets[i]));
	json_object_set_new(doc, "overrides", sets);
	/* the keys some point sweeps (mixes may sweep keys of their own) */
	json_t *sweep = json_array();
	for (unsigned p = 0; p < ex->ex_npoints; p++)
		for (unsigned i = 0; i < rr->rr_points[p].ep_nsweep; i++) {
			const char *k = rr->rr_points[p].ep_sweep_keys[i];
			bool seen = false;
			for (size_t j = 0; j < json_array_size(sweep) && !seen; j++)
				seen = !strcmp(json_string_value(json_array_get(sweep, j)), k);
			if (!seen)
				json_array_append_new(sweep, json_string(k));
		}
	json_object_set_new(doc, "sweep_keys", sweep);
	json_t *mixes = json_array();
	for (unsigned m = 0; m < ex->ex_nmixes; m++)
		if (ex->ex_mixes[m][0] != '\0')
			json_array_append_new(mixes, json_string(ex->ex_mixes[m]));
	json_object_set_new(doc, "mixes", mixes);
	json_object_set_new(doc, "report", json_pack("{s:s,s:s}", "baseline", ex->ex_baseline, "primary", ex->ex_primary));
	/* every metric's definition (trials/metrics.c): the one place its meaning is said */
	json_t *defs = json_object();
	for (const struct metric_def *d = metric_defs; d->md_name != NULL; d++) {
		json_t *e = json_pack("{s:s,s:s,s:s,s:s,s:b}", "unit", d->md_unit, "better", better_word(d->md_better), "scope",
		    d->md_scope == MS_ROLE ? "role" : d->md_scope == MS_CLASS ? "lock class" : "trial", "definition",
		    d->md_desc, "deterministic_candidate", d->md_count);
		char buf[METRIC_NA_LEN];
		const char *na = metric_na(d, buf, sizeof(buf));
		if (na != NULL)
			json_object_set_new(e, "not_applicable_when", json_string(na));
		json_object_set_new(defs, d->md_name, e);
	}
	json_object_set_new(doc, "metric_defs", defs);
	json_object_set_new(doc, "trials_per_point", json_integer(rr->rr_trials_per_point));
	json_object_set_new(doc, "seed", json_integer((json_int_t)rr->rr_points[0].ep_seed));
	json_t *points = json_array();
	for (unsigned p = 0; p < ex->ex_npoints; p++)
		json_array_append_new(points, point_json(rr, p));
	json_object_set_new(doc, "points", points);
	if (rr->rr_shard != NULL)
		json_object_set_new(doc, "shard", shard_json(rr->rr_shard));
	char path[4096];
	int rc = path_join(path, sizeof(path), dir, "run.json");
	if (rc != 0)
		msg_error("%s/run.json: cannot write (path too long)", dir);
	else
		rc = atomicfile_write_json(path, doc);
	json_decref(doc);
	return rc;
}

#define ROWKEY(pt) (pt)->ep_index, (pt)->ep_cfg.mc_strategy, (pt)->ep_cfg.mc_ncpu

/* placement.csv: where every CPU ran; the topologies as hwloc XML */
static int write_placement(const struct run_results *rr, const char *dir)
{
	const struct experiment *ex = rr->rr_ex;
	char tmp[4096];
	FILE *f;
	int rc = 0;
	if ((f = atomicfile_begin(dir, "placement.csv", tmp, sizeof(tmp))) == NULL)
		return err_env(errno);
	fprintf(f, "point,strategy,cpus,cpu,pu,host_pu,group,numa_node,synthetic\n");
	for (unsigned p = 0; p < ex->ex_npoints; p++) {
		const struct exp_point *pt = &rr->rr_points[p];
		struct topo *t = exp_point_topo(pt);
		for (unsigned c = 0; t != NULL && c < topo_ncpu(t); c++)
			fprintf(f, "%u,%s,%u,%u,%d,%d,%d,%d,%d\n", ROWKEY(pt), c, topo_cpu_pu(t, c), topo_cpu_host_pu(t, c),
			    topo_cpu_group(t, c), topo_cpu_node(t, c), topo_is_synthetic(t));
		if (t != NULL && topo_is_synthetic(t)) {
			char name[64];
			snprintf(name, sizeof(name), "topology-p%u.xml", p);
			rc = write_topology_xml(t, false, dir, name);
		}
		if (t != NULL && p == 0 && rc == 0)
			rc = write_topology_xml(t, true, dir, "topology.xml");
		topo_close(t);
		if (rc != 0) {
			fclose(f);
			unlink(tmp);
			return rc;
		}
	}
	return atomicfile_commit(f, dir, "placement.csv", tmp);
}

/*
 * The CSV tables: one file each, a header, and each point's rows (its
 * index, strategy, CPU count and facet first).  write_table() does the rest
 * (the atomic file, the walk over the points).
 */
typedef void (*csv_rows_fn)(FILE *f, const struct run_results *rr, unsigned p, const char *facet);
struct csv_table {
	const char *ct_file, *ct_header;
	csv_rows_fn ct_rows;
};

static int write_table(const struct run_results *rr, const char *dir, const struct csv_table *t)
{
	char tmp[4096], facet[512];
	FILE *f = atomicfile_begin(dir, t->ct_file, tmp, sizeof(tmp));
	if (f == NULL)
		return err_env(errno);
	fprintf(f, "%s\n", t->ct_header);
	for (unsigned p = 0; p < rr->rr_ex->ex_npoints; p++) {
		exp_point_facet(&rr->rr_points[p], facet, sizeof(facet));
		t->ct_rows(f, rr, p, facet);
	}
	return atomicfile_commit(f, dir, t->ct_file, tmp);
}

/* summary.csv: per point and metric, the median, range and quartiles over trials */
static void summary_rows(FILE *f, const struct run_results *rr, unsigned p, const char *facet)
{
	const char **names = point_metric_names(rr, p);
	for (unsigned i = 0; names != NULL && names[i] != NULL; i++) {
		bool det;
		const struct metric *me = NULL;
		struct samples_stats s = summarize(rr, p, names[i], &det, &me);
		fprintf(f, "%u,%s,%u,%s,%s,%s,%s,%u,%.6g,%.6g,%.6g,%.6g,%.6g\n", ROWKEY(&rr->rr_points[p]), facet, names[i],
		    me->m_unit, better_word(me->m_better), s.n, s.median, s.min, s.max, s.q1, s.q3);
	}
	free(names);
}

/* trials.csv: every completed trial's metrics */
static void trials_rows(FILE *f, const struct run_results *rr, unsigned p, const char *facet)
{
	unsigned T = rr->rr_trials_per_point;
	for (unsigned t = 0; t < T; t++) {
		const struct trial_result *tr = &rr->rr_trials[p * T + t];
		for (unsigned i = 0; tr->tr_done && i < tr->tr_nmetrics; i++)
			fprintf(f, "%u,%s,%u,%s,%u,%s,%.6g\n", ROWKEY(&rr->rr_points[p]), facet, t, tr->tr_metrics[i].m_name,
			    tr->tr_metrics[i].m_value);
	}
}

/* update_ccdf.csv: per role, the share of pmap_update() completions that cost at least x */
static void ccdf_rows(FILE *f, const struct run_results *rr, unsigned p, const char *facet)
{
	unsigned T = rr->rr_trials_per_point;
	const struct exp_point *pt = &rr->rr_points[p];
	for (unsigned i = 0; i < pt->ep_nroles; i++) {
		uint64_t merged[STATS_HIST_BUCKETS] = {0}, total = 0, above;
		for (unsigned t = 0; t < T; t++) {
			const struct trial_result *tr = &rr->rr_trials[p * T + t];
			for (unsigned k = 0; tr->tr_done && tr->tr_roles[i].ro_cost_buckets != NULL && k < STATS_HIST_BUCKETS; k++)
				merged[k] += tr->tr_roles[i].ro_cost_buckets[k];
		}
		for (unsigned k = 0; k < STATS_HIST_BUCKETS; k++)
			total += merged[k];
		above = total;
		for (unsigned k = 0; total && k < STATS_HIST_BUCKETS; k++) {
			if (merged[k] == 0)
				continue;
			fprintf(f, "%u,%s,%u,%s,%s,%lu,%.6g\n", ROWKEY(pt), facet, pt->ep_roles[i].er_name,
			    (unsigned long)stats_hist_bucket_low(k), (double)above / (double)total);
			above -= merged[k];
		}
	}
}

/* A lock class at a point, summed over its completed trials (lockwait.csv, lockstat.csv) */
struct lock_agg {
	const char *cls, *algo;
	uint64_t acq, con, bnc, wt, wmax, hmax, q, hn; /* hn: timed holds */
	double hsum, secs;                               /* hsum: their total, ns */
};

static bool lock_agg_of(const struct run_results *rr, unsigned p, int c, struct lock_agg *a)
{
	unsigned T = rr->rr_trials_per_point;
	memset(a, 0, sizeof(*a));
	for (unsigned t = 0; t < T; t++) {
		const struct trial_result *tr = &rr->rr_trials[p * T + t];
		if (!tr->tr_done)
			continue;
		const struct lockstat_row *lr = &tr->tr_lockstat[c];
		a->cls = lr->lr_class;
		a->algo = lr->lr_algo;
		a->acq += lr->lr_acquisitions;
		a->con += lr->lr_contentions;
		a->bnc += lr->lr_bounces;
		a->wt += lr->lr_wait_total_ns;
		a->wmax = lr->lr_wait_max_ns > a->wmax ? lr->lr_wait_max_ns : a->wmax;
		a->hmax = lr->lr_hold_max_ns > a->hmax ? lr->lr_hold_max_ns : a->hmax;
		a->q = lr->lr_max_queue > a->q ? lr->lr_max_queue : a->q;
		/* the pooled mean of the timed holds: a trial that timed none
		 * (the class unused) adds nothing, not an average of 0 */
		a->hsum += lr->lr_hold_avg_ns * (double)lr->lr_hold_samples;
		a->hn += lr->lr_hold_samples;
		a->secs += tr->tr_seconds;
	}
	return a->cls != NULL && a->acq != 0;
}

/* lockwait.csv: per lock class, the share of the CPUs' time spent waiting */
static void lockwait_rows(FILE *f, const struct run_results *rr, unsigned p, const char *facet)
{
	const struct exp_point *pt = &rr->rr_points[p];
	struct lock_agg a;
	for (int c = 0; c < LC_NCLASS; c++)
		if (lock_agg_of(rr, p, c, &a)) {
			double share = a.secs > 0 ? (double)a.wt / 1e9 / (a.secs * pt->ep_cfg.mc_ncpu) : 0;
			fprintf(f, "%u,%s,%u,%s,%s,%s,%.6g,%lu,%lu\n", ROWKEY(pt), facet, a.cls, a.algo, share,
			    (unsigned long)a.con, (unsigned long)a.acq);
		}
}

/* lockstat.csv: per lock class, lockstat's columns summed over trials */
static void lockstat_rows(FILE *f, const struct run_results *rr, unsigned p, const char *facet)
{
	struct lock_agg a;
	for (int c = 0; c < LC_NCLASS; c++)
		if (lock_agg_of(rr, p, c, &a)) {
			char hold[64] = ","; /* avg, max: none without a timed hold (record/lockstat.c) */
			if (a.hn != 0)
				snprintf(hold, sizeof(hold), "%.1f,%lu", a.hsum / (double)a.hn, (unsigned long)a.hmax);
			fprintf(f, "%u,%s,%u,%s,%s,%s,%lu,%lu,%lu,%lu,%lu,%s,%lu\n", ROWKEY(&rr->rr_points[p]), facet, a.cls,
			    a.algo, (unsigned long)a.acq, (unsigned long)a.con, (unsigned long)a.bnc, (unsigned long)a.wt,
			    (unsigned long)a.wmax, hold, (unsigned long)a.q);
		}
}

/* ackmatrix.csv: request -> acknowledgement per initiator and target */
static void ackmatrix_rows(FILE *f, const struct run_results *rr, unsigned p, const char *facet)
{
	unsigned T = rr->rr_trials_per_point;
	unsigned n = rr->rr_points[p].ep_cfg.mc_ncpu;
	for (unsigned i = 0; i < n; i++)
		for (unsigned t = 0; t < n; t++) {
			uint64_t sum = 0, cnt = 0;
			for (unsigned k = 0; k < T; k++) {
				const struct trial_result *tr = &rr->rr_trials[p * T + k];
				if (!tr->tr_done || tr->tr_ack_sum == NULL || tr->tr_ncpu != n)
					continue;
				sum += tr->tr_ack_sum[i * n + t];
				cnt += tr->tr_ack_count[i * n + t];
			}
			if (cnt > 0)
				fprintf(f, "%u,%s,%u,%s,%u,%u,%.1f,%lu\n", ROWKEY(&rr->rr_points[p]), facet, i, t,
				    (double)sum / (double)cnt, (unsigned long)cnt);
		}
}

/* timeline.csv: each trial's interval samples */
static void timeline_rows(FILE *f, const struct run_results *rr, unsigned p, const char *facet)
{
	unsigned T = rr->rr_trials_per_point;
	const struct exp_point *pt = &rr->rr_points[p];
	for (unsigned t = 0; t < T; t++) {
		const struct trial_result *tr = &rr->rr_trials[p * T + t];
		for (unsigned i = 0; tr->tr_done && i < tr->tr_nintervals; i++) {
			const struct interval_sample *is = &tr->tr_intervals[i];
			for (unsigned k = 0; k < pt->ep_nroles; k++)
				if (tr->tr_roles[k].ro_ncpu > 0)
					fprintf(f, "%u,%s,%u,%s,%u,%.6g,ops_per_s.%s,%.6g\n", ROWKEY(pt), facet, t, is->is_t,
					    pt->ep_roles[k].er_name, is->is_role_ops_per_s[k]);
			/* the counters' rates: no row where nothing counted them */
			const char *series[] = {"flushes_per_s", "kernel_flushes_per_s", "poolpages_per_s"};
			const double v[] = {is->is_flushes_per_s, is->is_kernel_flushes_per_s, is->is_poolpages_per_s};
			for (unsigned j = 0; j < 3; j++)
				if (isfinite(v[j]))
					fprintf(f, "%u,%s,%u,%s,%u,%.6g,%s,%.6g\n", ROWKEY(pt), facet, t, is->is_t, series[j], v[j]);
		}
	}
}

/* recorded.csv: what each point recorded (1) or not (0): statistics
 * (stats.enabled) and lockstat (locks.lockstat, which needs statistics
 * too), so a plot says "not recorded" where a table has no row, not "none" */
static void recorded_rows(FILE *f, const struct run_results *rr, unsigned p, const char *facet)
{
	const struct exp_point *pt = &rr->rr_points[p];
	fprintf(f, "%u,%s,%u,%s,%d,%d\n", ROWKEY(pt), facet, pt->ep_cfg.mc_stats ? 1 : 0,
	    lockstat_recorded(&pt->ep_cfg) ? 1 : 0);
}

static const struct csv_table csv_tables[] = {
	{"summary.csv", "point,strategy,cpus,facet,metric,unit,better,n,median,min,max,q1,q3", summary_rows},
	{"trials.csv", "point,strategy,cpus,facet,trial,metric,value", trials_rows},
	{"update_ccdf.csv", "point,strategy,cpus,facet,role,value_ns,ccdf", ccdf_rows},
	{"lockwait.csv", "point,strategy,cpus,facet,class,algorithm,wait_share,contentions,acquisitions", lockwait_rows},
	{"lockstat.csv",
	    "point,strategy,cpus,facet,class,algorithm,acquisitions,contentions,bounces,wait_total_ns,wait_max_ns,"
	    "hold_avg_ns,hold_max_ns,max_queue",
	    lockstat_rows},
	{"ackmatrix.csv", "point,strategy,cpus,facet,initiator,target,mean_ns,acks", ackmatrix_rows},
	{"timeline.csv", "point,strategy,cpus,facet,trial,t_s,series,value", timeline_rows},
	{"recorded.csv", "point,strategy,cpus,facet,statistics,lockstat", recorded_rows},
};

int results_write_tables(const struct run_results *rr, const char *dir)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(csv_tables) / sizeof(csv_tables[0]); i++)
		rc = write_table(rr, dir, &csv_tables[i]);
	return rc;
}

int results_write(const struct run_results *rr, const char *dir)
{
	int rc;
	if ((rc = write_run_json(rr, dir)) != 0 || (rc = write_placement(rr, dir)) != 0)
		return rc;
	return results_write_tables(rr, dir);
}
