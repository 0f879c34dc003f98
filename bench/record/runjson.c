/*
 * runjson.c — run.json back into run_results (runjson.h).
 *
 * The inverse of results.c's point_json() and write_run_json(), field by
 * field: a field results.c writes and this file does not read is a field
 * a merged folder's CSV files or report would lose (tests/test_shard.c
 * makes a run's CSV files again from its run.json and compares them byte
 * for byte).  Every member is type-checked; a file this build did not
 * write gives a message naming where it went wrong, never a crash.
 */
#include "record/runjson.h"
#include "record/lockstat.h"
#include "common/msg.h"
#include "trials/metrics.h"
#include "trials/workloads/workload.h"

#include <pmapstorm/alloc.h>
#include <pmapstorm/check.h>

#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct rd {
	struct runjson *rj;
	const char *name;
	char *err;
	size_t errlen;
	char where[160];
	bool oom;
};

static int rd_err(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int rd_err(struct rd *r, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->errlen, "%s: %s%s%s", r->name, r->where, r->where[0] ? ": " : "", what);
	return EINVAL;
}

static int rd_oom(struct rd *r)
{
	r->oom = true;
	snprintf(r->err, r->errlen, "%s: out of memory", r->name);
	return ENOMEM;
}

/* a copy of s that lives as long as the runjson */
static const char *keep(struct rd *r, const char *s)
{
	struct runjson *rj = r->rj;
	if (rj->rj_nstrs == rj->rj_cap) {
		unsigned cap = rj->rj_cap ? rj->rj_cap * 2 : 256;
		char **n = mem_realloc(char *, rj->rj_strs, cap);
		if (n == NULL)
			return NULL;
		rj->rj_strs = n;
		rj->rj_cap = cap;
	}
	size_t len = strlen(s) + 1;
	char *d = mem_alloc(char, len);
	if (d == NULL)
		return NULL;
	memcpy(d, s, len);
	rj->rj_strs[rj->rj_nstrs++] = d;
	return d;
}

static json_t *member(struct rd *r, const json_t *o, const char *key, json_type type, const char *what)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	if (v == NULL) {
		rd_err(r, "missing \"%s\"", key);
		return NULL;
	}
	if (json_typeof(v) != type && !(type == JSON_REAL && json_is_integer(v)) &&
	    !(type == JSON_TRUE && json_is_boolean(v))) {
		rd_err(r, "\"%s\" is not %s", key, what);
		return NULL;
	}
	return v;
}

#define GET_OBJ(r, o, k) member((r), (o), (k), JSON_OBJECT, "an object")
#define GET_ARR(r, o, k) member((r), (o), (k), JSON_ARRAY, "an array")
#define GET_STR(r, o, k) member((r), (o), (k), JSON_STRING, "a string")
#define GET_INT(r, o, k) member((r), (o), (k), JSON_INTEGER, "an integer")
#define GET_NUM(r, o, k) member((r), (o), (k), JSON_REAL, "a number")
#define GET_BOOL(r, o, k) member((r), (o), (k), JSON_TRUE, "a boolean")

static bool get_u64(struct rd *r, const json_t *o, const char *key, uint64_t *out)
{
	json_t *v = GET_INT(r, o, key);
	if (v != NULL)
		*out = (uint64_t)json_integer_value(v); /* seeds above 2^63 were written as negative */
	return v != NULL;
}

static bool get_uint(struct rd *r, const json_t *o, const char *key, unsigned max, unsigned *out)
{
	json_t *v = GET_INT(r, o, key);
	if (v == NULL)
		return false;
	if (json_integer_value(v) < 0 || json_integer_value(v) > max) {
		rd_err(r, "\"%s\" is %lld, not 0 to %u", key, (long long)json_integer_value(v), max);
		return false;
	}
	*out = (unsigned)json_integer_value(v);
	return true;
}

static bool get_num(struct rd *r, const json_t *o, const char *key, double *out)
{
	json_t *v = GET_NUM(r, o, key);
	if (v != NULL)
		*out = json_number_value(v);
	return v != NULL;
}

/* A timeline interval's counter rate: null (schema 4) when statistics were
 * off, read as NaN (not measured) */
static bool get_rate(struct rd *r, const json_t *o, const char *key, double *out)
{
	if (json_is_null(json_object_get(o, key))) {
		*out = NAN;
		return true;
	}
	return get_num(r, o, key, out);
}

/* A hold-time figure of a lockstat row is null when no hold was timed
 * (hold_samples 0: record/lockstat.c); read as 0, the count saying so. */
static bool hold_null(const json_t *row, const char *key, uint64_t samples)
{
	return samples == 0 && json_is_object(row) && json_is_null(json_object_get(row, key));
}

static bool get_hold(struct rd *r, const json_t *row, const char *key, uint64_t samples, double *out)
{
	if (hold_null(row, key, samples)) {
		*out = 0;
		return true;
	}
	return get_num(r, row, key, out);
}

static bool get_hold_u64(struct rd *r, const json_t *row, const char *key, uint64_t samples, uint64_t *out)
{
	if (hold_null(row, key, samples)) {
		*out = 0;
		return true;
	}
	return get_u64(r, row, key, out);
}

static int better_of(const char *w)
{
	return !strcmp(w, "higher") ? 1 : !strcmp(w, "lower") ? -1 : 0;
}

/* counters {name: n} into a counter array by registered index; a name this
 * build does not count is left out (nothing made from run.json reads it) */
static void read_counters(const json_t *o, uint64_t *ctrs)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		const struct stats_counter *c = stats_counter_find(k);
		if (c != NULL && json_is_integer(v) && c->sc_index < STATS_MAX_COUNTERS)
			ctrs[c->sc_index] = (uint64_t)json_integer_value(v);
	}
}

/* every class's row empty: what a trial without a row of the class has */
static void lockstat_clear(struct trial_result *tr)
{
	for (int c = 0; c < LC_NCLASS; c++) {
		memset(&tr->tr_lockstat[c], 0, sizeof(tr->tr_lockstat[c]));
		tr->tr_lockstat[c].lr_class = lock_class_name((lock_class_t)c);
		tr->tr_lockstat[c].lr_algo = "";
	}
}

static int read_lockstat(struct rd *r, const json_t *a, struct trial_result *tr)
{
	lockstat_clear(tr);
	size_t i;
	json_t *row;
	json_array_foreach((json_t *)a, i, row)
	{
		json_t *cls = GET_STR(r, row, "class"), *algo = GET_STR(r, row, "algorithm"), *sites;
		if (cls == NULL || algo == NULL || (sites = GET_ARR(r, row, "sites")) == NULL)
			return EINVAL;
		int c = 0;
		while (c < LC_NCLASS && strcmp(lock_class_name((lock_class_t)c), json_string_value(cls)) != 0)
			c++;
		if (c == LC_NCLASS)
			return rd_err(r, "lockstat: unknown lock class \"%s\"", json_string_value(cls));
		struct lockstat_row *lr = &tr->tr_lockstat[c];
		if ((lr->lr_algo = keep(r, json_string_value(algo))) == NULL)
			return rd_oom(r);
		uint64_t q;
		if (!get_u64(r, row, "acquisitions", &lr->lr_acquisitions) || !get_u64(r, row, "contentions", &lr->lr_contentions) ||
		    !get_u64(r, row, "bounces", &lr->lr_bounces) || !get_u64(r, row, "wait_total_ns", &lr->lr_wait_total_ns) ||
		    !get_num(r, row, "wait_avg_ns", &lr->lr_wait_avg_ns) || !get_u64(r, row, "wait_min_ns", &lr->lr_wait_min_ns) ||
		    !get_u64(r, row, "wait_max_ns", &lr->lr_wait_max_ns) || !get_u64(r, row, "wait_p99_ns", &lr->lr_wait_p99_ns) ||
		    !get_u64(r, row, "hold_samples", &lr->lr_hold_samples) ||
		    !get_hold(r, row, "hold_avg_ns", lr->lr_hold_samples, &lr->lr_hold_avg_ns) ||
		    !get_hold_u64(r, row, "hold_max_ns", lr->lr_hold_samples, &lr->lr_hold_max_ns) ||
		    !get_hold_u64(r, row, "hold_p99_ns", lr->lr_hold_samples, &lr->lr_hold_p99_ns) ||
		    !get_u64(r, row, "max_queue", &lr->lr_max_queue) || !get_u64(r, row, "sites_lost", &q))
			return EINVAL;
		lr->lr_sites_lost = q;
		if (json_array_size(sites) > LOCKSTAT_SITES)
			return rd_err(r, "lockstat %s: more than %d call sites", lr->lr_class, LOCKSTAT_SITES);
		size_t k;
		json_t *s;
		json_array_foreach(sites, k, s)
		{
			json_t *site = GET_STR(r, s, "site");
			if (site == NULL || !get_u64(r, s, "contentions", &lr->lr_sites[k].ls_contentions) ||
			    !get_u64(r, s, "wait_ns", &lr->lr_sites[k].ls_wait_ns))
				return EINVAL;
			snprintf(tr->tr_sites[c][k], sizeof(tr->tr_sites[c][k]), "%s", json_string_value(site));
		}
		lr->lr_nsites = (unsigned)json_array_size(sites);
	}
	return 0;
}

static int read_roles(struct rd *r, const struct exp_point *pt, const json_t *a, struct trial_result *tr)
{
	if (json_array_size(a) > EXP_MAX_ROLES)
		return rd_err(r, "roles: more than %d", EXP_MAX_ROLES);
	tr->tr_nroles = (unsigned)json_array_size(a);
	size_t i;
	json_t *ro;
	json_array_foreach((json_t *)a, i, ro)
	{
		struct role_result *rr = &tr->tr_roles[i];
		json_t *cpus = GET_ARR(r, ro, "cpus"), *ctrs, *hist;
		if (cpus == NULL || (ctrs = GET_OBJ(r, ro, "counters")) == NULL || (hist = GET_ARR(r, ro, "update_cost_hist")) == NULL ||
		    !get_u64(r, ro, "ops", &rr->ro_ops))
			return EINVAL;
		if (i >= pt->ep_nroles || !json_is_string(json_object_get(ro, "name")) ||
		    strcmp(json_string_value(json_object_get(ro, "name")), pt->ep_roles[i].er_name) != 0)
			return rd_err(r, "roles[%zu] is not the point's role %zu", i, i);
		size_t k;
		json_t *c;
		json_array_foreach(cpus, k, c)
		{
			if (!json_is_integer(c) || json_integer_value(c) < 0 || json_integer_value(c) >= MAXCPUS)
				return rd_err(r, "roles[%zu].cpus: not a CPU number", i);
			unsigned cpu = (unsigned)json_integer_value(c);
			rr->ro_cpus[cpu / 64] |= 1ULL << (cpu % 64);
			rr->ro_ncpu++;
		}
		read_counters(ctrs, rr->ro_counters);
		if ((rr->ro_cost_buckets = mem_zalloc(uint64_t, STATS_HIST_BUCKETS)) == NULL)
			return rd_oom(r);
		json_array_foreach(hist, k, c)
		{
			json_t *low = json_array_get(c, 0), *n = json_array_get(c, 1);
			if (!json_is_integer(low) || !json_is_integer(n) || json_integer_value(low) < 0)
				return rd_err(r, "roles[%zu].update_cost_hist[%zu]: not [low, count]", i, k);
			unsigned b = stats_hist_bucket((uint64_t)json_integer_value(low));
			if (stats_hist_bucket_low(b) != (uint64_t)json_integer_value(low))
				return rd_err(r, "roles[%zu].update_cost_hist[%zu]: %lld is no bucket's low edge", i, k,
				    (long long)json_integer_value(low));
			rr->ro_cost_buckets[b] += (uint64_t)json_integer_value(n);
		}
	}
	return 0;
}

static int read_intervals(struct rd *r, const struct exp_point *pt, const json_t *a, struct trial_result *tr)
{
	size_t n = json_array_size(a);
	if (n > TRIAL_MAX_INTERVALS)
		return rd_err(r, "intervals: more than %d", TRIAL_MAX_INTERVALS);
	if (n == 0)
		return 0;
	if ((tr->tr_intervals = mem_zalloc(struct interval_sample, n)) == NULL)
		return rd_oom(r);
	tr->tr_nintervals = (unsigned)n;
	size_t i;
	json_t *iv;
	json_array_foreach((json_t *)a, i, iv)
	{
		struct interval_sample *is = &tr->tr_intervals[i];
		json_t *ops = GET_OBJ(r, iv, "ops_per_s");
		if (ops == NULL || !get_num(r, iv, "t_s", &is->is_t) || !get_rate(r, iv, "flushes_per_s", &is->is_flushes_per_s) ||
		    !get_rate(r, iv, "kernel_flushes_per_s", &is->is_kernel_flushes_per_s) ||
		    !get_rate(r, iv, "poolpages_per_s", &is->is_poolpages_per_s))
			return EINVAL;
		for (unsigned k = 0; k < pt->ep_nroles; k++) {
			json_t *v = json_object_get(ops, pt->ep_roles[k].er_name);
			is->is_role_ops_per_s[k] = json_is_number(v) ? json_number_value(v) : 0;
		}
	}
	return 0;
}

/* Where the driver puts a metric among a trial's (driver.c, trial_metrics):
 * each role's, role by role, in catalog order, then the trial's and the
 * lock classes' in catalog order (classes in class order).  run.json's
 * keys are sorted; the order is what the CSV files' rows follow. */
struct metric_rank {
	unsigned mr_group, mr_a, mr_b;
};

static struct metric_rank metric_rank(const struct exp_point *pt, const char *name)
{
	const struct metric_def *md = metric_def_of(name);
	if (md == NULL)
		return (struct metric_rank){3, 0, 0};
	unsigned i = (unsigned)(md - metric_defs), k = 0;
	const char *scope = metric_scope_part(name);
	if (md->md_scope == MS_ROLE) {
		while (k < pt->ep_nroles && strcmp(pt->ep_roles[k].er_name, scope) != 0)
			k++;
		return (struct metric_rank){0, k, i};
	}
	if (md->md_scope == MS_CLASS)
		while (k < LC_NCLASS && strcmp(lock_class_name((lock_class_t)k), scope) != 0)
			k++;
	return (struct metric_rank){1, i, k};
}

static const struct exp_point *sort_point;

static int cmp_metric(const void *a, const void *b)
{
	const struct metric *x = a, *y = b;
	struct metric_rank p = metric_rank(sort_point, x->m_name), q = metric_rank(sort_point, y->m_name);
	if (p.mr_group != q.mr_group)
		return p.mr_group < q.mr_group ? -1 : 1;
	if (p.mr_a != q.mr_a)
		return p.mr_a < q.mr_a ? -1 : 1;
	if (p.mr_b != q.mr_b)
		return p.mr_b < q.mr_b ? -1 : 1;
	return strcmp(x->m_name, y->m_name);
}

static int read_trial(struct rd *r, const struct exp_point *pt, unsigned p, const json_t *tj, unsigned T)
{
	unsigned t;
	if (!get_uint(r, tj, "trial", T - 1, &t))
		return EINVAL;
	struct trial_result *tr = &r->rj->rj_trials[(size_t)p * T + t];
	if (tr->tr_done)
		return rd_err(r, "trial %u twice", t);
	tr->tr_done = true;
	tr->tr_point = p;
	tr->tr_trial = t;
	json_t *metrics = GET_OBJ(r, tj, "metrics"), *ctrs, *lockstat, *cpu_ops, *host, *roles, *intervals, *acks, *chk;
	if (metrics == NULL || (ctrs = GET_OBJ(r, tj, "counters")) == NULL || (lockstat = GET_ARR(r, tj, "lockstat")) == NULL ||
	    (cpu_ops = GET_ARR(r, tj, "cpu_ops_per_s")) == NULL || (host = GET_OBJ(r, tj, "host")) == NULL ||
	    (roles = GET_ARR(r, tj, "roles")) == NULL || (intervals = GET_ARR(r, tj, "intervals")) == NULL ||
	    (acks = GET_ARR(r, tj, "ack_matrix")) == NULL || !get_uint(r, tj, "order", UINT32_MAX, &tr->tr_order) ||
	    !get_u64(r, tj, "seed", &tr->tr_seed) || !get_num(r, tj, "seconds", &tr->tr_seconds) ||
	    !get_uint(r, tj, "errors", UINT32_MAX, &tr->tr_errors))
		return EINVAL;
	const char *mk;
	json_t *mv;
	json_object_foreach(metrics, mk, mv)
	{
		json_t *unit = GET_STR(r, mv, "unit"), *better = GET_STR(r, mv, "better");
		double v;
		if (unit == NULL || better == NULL || !get_num(r, mv, "value", &v))
			return EINVAL;
		if (tr->tr_nmetrics == TRIAL_MAX_METRICS)
			return rd_err(r, "more than %d metrics", TRIAL_MAX_METRICS);
		if (strlen(mk) >= METRIC_NAMELEN)
			return rd_err(r, "metric name %.40s... longer than %d bytes", mk, METRIC_NAMELEN - 1);
		const struct metric_def *md = metric_def_of(mk);
		/* a run with statistics off before schema 4 wrote what nothing
		 * counted as 0: not kept (driver.c leaves it out) */
		if (!pt->ep_cfg.mc_stats && md != NULL && metric_from_stats(md))
			continue;
		struct metric *m = &tr->tr_metrics[tr->tr_nmetrics++];
		snprintf(m->m_name, sizeof(m->m_name), "%s", mk);
		m->m_unit = md != NULL && !strcmp(md->md_unit, json_string_value(unit)) ? md->md_unit : keep(r, json_string_value(unit));
		if (m->m_unit == NULL)
			return rd_oom(r);
		m->m_better = better_of(json_string_value(better));
		m->m_value = v;
		m->m_count = md != NULL && md->md_count;
	}
	sort_point = pt; /* qsort has no context argument; the reader runs in one thread at a time */
	qsort(tr->tr_metrics, tr->tr_nmetrics, sizeof(tr->tr_metrics[0]), cmp_metric);
	read_counters(ctrs, tr->tr_counters);
	tr->tr_stats = pt->ep_cfg.mc_stats;
	int rc;
	if ((rc = read_lockstat(r, lockstat, tr)) != 0 || (rc = read_roles(r, pt, roles, tr)) != 0 ||
	    (rc = read_intervals(r, pt, intervals, tr)) != 0)
		return rc;
	/* the same for a file before schema 4: rows and rates of 0 where
	 * nothing was recorded are not kept */
	if (!lockstat_recorded(&pt->ep_cfg))
		lockstat_clear(tr);
	for (unsigned i = 0; !tr->tr_stats && i < tr->tr_nintervals; i++)
		tr->tr_intervals[i].is_flushes_per_s = tr->tr_intervals[i].is_kernel_flushes_per_s =
		    tr->tr_intervals[i].is_poolpages_per_s = NAN;
	if (json_array_size(cpu_ops) > MAXCPUS)
		return rd_err(r, "cpu_ops_per_s: more than %d CPUs", MAXCPUS);
	tr->tr_ncpu = (unsigned)json_array_size(cpu_ops);
	for (unsigned c = 0; c < tr->tr_ncpu; c++) {
		json_t *v = json_array_get(cpu_ops, c);
		if (!json_is_number(v))
			return rd_err(r, "cpu_ops_per_s[%u] is not a number", c);
		tr->tr_cpu_ops[c] = (uint64_t)llround(json_number_value(v) * tr->tr_seconds);
	}
	json_t *hn = GET_STR(r, host, "name");
	if (hn == NULL || !get_num(r, host, "usr_s", &tr->tr_host_usr_s) || !get_num(r, host, "sys_s", &tr->tr_host_sys_s) ||
	    !get_u64(r, host, "involuntary_switches", &tr->tr_host_nivcsw) ||
	    !get_u64(r, host, "voluntary_switches", &tr->tr_host_nvcsw))
		return EINVAL;
	snprintf(tr->tr_host, sizeof(tr->tr_host), "%s", json_string_value(hn));
	size_t n = tr->tr_ncpu;
	if (n > 0) {
		tr->tr_ack_sum = mem_zalloc(uint64_t, n * n);
		tr->tr_ack_count = mem_zalloc(uint64_t, n * n);
		if (tr->tr_ack_sum == NULL || tr->tr_ack_count == NULL)
			return rd_oom(r);
	}
	size_t i;
	json_t *e;
	json_array_foreach(acks, i, e)
	{
		json_t *a = json_array_get(e, 0), *b = json_array_get(e, 1), *s = json_array_get(e, 2), *c = json_array_get(e, 3);
		if (!json_is_integer(a) || !json_is_integer(b) || !json_is_integer(s) || !json_is_integer(c) ||
		    json_integer_value(a) < 0 || (size_t)json_integer_value(a) >= n || json_integer_value(b) < 0 ||
		    (size_t)json_integer_value(b) >= n)
			return rd_err(r, "ack_matrix[%zu]: not [initiator, target, sum_ns, count] of its CPUs", i);
		size_t at = (size_t)json_integer_value(a) * n + (size_t)json_integer_value(b);
		tr->tr_ack_sum[at] = (uint64_t)json_integer_value(s);
		tr->tr_ack_count[at] = (uint64_t)json_integer_value(c);
	}
	if ((chk = json_object_get(tj, "check")) != NULL) {
		if (!json_is_object(chk))
			return rd_err(r, "\"check\" is not an object");
		tr->tr_check = true;
		for (int k = 0; k < CHK_NORACLES; k++) {
			json_t *o = json_object_get(chk, check_oracle_name((enum check_oracle)k));
			if (o != NULL && (!get_u64(r, o, "checks", &tr->tr_check_counts[k][0]) ||
			    !get_u64(r, o, "violations", &tr->tr_check_counts[k][1])))
				return EINVAL;
		}
	}
	return 0;
}

static int read_point(struct rd *r, const json_t *pj, unsigned p, unsigned T, uint64_t seed)
{
	struct runjson *rj = r->rj;
	struct exp_point *pt = &rj->rj_points[p];
	snprintf(r->where, sizeof(r->where), "points[%u]", p);
	unsigned idx;
	json_t *mix = GET_STR(r, pj, "mix"), *cfg, *roles, *params, *trials;
	if (mix == NULL || (cfg = GET_OBJ(r, pj, "config")) == NULL || (roles = GET_ARR(r, pj, "roles")) == NULL ||
	    (params = GET_OBJ(r, pj, "params")) == NULL || (trials = GET_ARR(r, pj, "trials")) == NULL ||
	    !get_uint(r, pj, "index", UINT32_MAX, &idx) || !get_num(r, pj, "warmup_s", &pt->ep_warmup_s) ||
	    !get_num(r, pj, "duration_s", &pt->ep_duration_s) || !get_num(r, pj, "interval_s", &pt->ep_interval_s))
		return EINVAL;
	if (idx != p)
		return rd_err(r, "index is %u", idx);
	pt->ep_index = p;
	pt->ep_trials = T;
	pt->ep_seed = seed;
	pt->ep_mix = "";
	for (unsigned m = 0; m < rj->rj_ex->ex_nmixes; m++)
		if (!strcmp(rj->rj_ex->ex_mixes[m], json_string_value(mix)))
			pt->ep_mix = rj->rj_ex->ex_mixes[m];
	if (json_string_value(mix)[0] != '\0' && pt->ep_mix[0] == '\0')
		return rd_err(r, "mix \"%s\" is not one of the run's mixes", json_string_value(mix));
	/* the machine, as recorded: values this build checks as a config file's */
	machine_config_init(&pt->ep_cfg);
	const char *k;
	json_t *v;
	json_object_foreach(cfg, k, v)
	{
		if (!json_is_string(v))
			return rd_err(r, "config.%s is not a string", k);
		if (machine_config_set(&pt->ep_cfg, k, json_string_value(v)) != 0)
			return rd_err(r, "config: %s", machine_errmsg());
	}
	if (json_array_size(roles) > EXP_MAX_ROLES)
		return rd_err(r, "more than %d roles", EXP_MAX_ROLES);
	size_t i;
	json_t *ro;
	json_array_foreach(roles, i, ro)
	{
		struct exp_role *er = &pt->ep_roles[i];
		json_t *name = GET_STR(r, ro, "name"), *wl, *cpus, *pmap, *opts;
		if (name == NULL || (wl = GET_STR(r, ro, "workload")) == NULL || (cpus = GET_STR(r, ro, "cpus")) == NULL ||
		    (pmap = GET_STR(r, ro, "pmap")) == NULL || (opts = GET_OBJ(r, ro, "options")) == NULL)
			return EINVAL;
		if ((er->er_workload = workload_find(json_string_value(wl))) == NULL)
			return rd_err(r, "roles[%zu]: unknown workload \"%s\"", i, json_string_value(wl));
		if (strlen(json_string_value(name)) >= sizeof(er->er_name) || strlen(json_string_value(cpus)) >= sizeof(er->er_cpus) ||
		    strlen(json_string_value(pmap)) >= sizeof(er->er_pmap))
			return rd_err(r, "roles[%zu]: a name, CPU set or pmap too long", i);
		snprintf(er->er_name, sizeof(er->er_name), "%s", json_string_value(name));
		snprintf(er->er_cpus, sizeof(er->er_cpus), "%s", json_string_value(cpus));
		snprintf(er->er_pmap, sizeof(er->er_pmap), "%s", json_string_value(pmap));
		er->er_private_pmap = !strcmp(er->er_pmap, "private");
		json_object_foreach(opts, k, v)
		{
			if (!json_is_string(v) || er->er_nopts == 32)
				return rd_err(r, "roles[%zu].options: not strings, or more than 32", i);
			if ((er->er_optkeys[er->er_nopts] = keep(r, k)) == NULL ||
			    (er->er_optvals[er->er_nopts] = keep(r, json_string_value(v))) == NULL)
				return rd_oom(r);
			er->er_nopts++;
		}
	}
	pt->ep_nroles = (unsigned)json_array_size(roles);
	json_object_foreach(params, k, v)
	{
		if (!json_is_string(v) || pt->ep_nsweep == EXP_MAX_KEYS)
			return rd_err(r, "params: not strings, or more than %d", EXP_MAX_KEYS);
		if ((pt->ep_sweep_keys[pt->ep_nsweep] = keep(r, k)) == NULL ||
		    (pt->ep_sweep_vals[pt->ep_nsweep] = keep(r, json_string_value(v))) == NULL)
			return rd_oom(r);
		pt->ep_nsweep++;
	}
	/* the swept keys in the order the point's facet names them (run.json's
	 * keys are sorted; the facet keeps the experiment's order) */
	const char *facet = json_is_string(json_object_get(pj, "facet")) ? json_string_value(json_object_get(pj, "facet")) : "";
	size_t at[EXP_MAX_KEYS];
	for (unsigned a = 0; a < pt->ep_nsweep; a++) {
		char kv[1024];
		snprintf(kv, sizeof(kv), "%s=%s", pt->ep_sweep_keys[a], pt->ep_sweep_vals[a]);
		const char *f = facet;
		at[a] = SIZE_MAX;
		while ((f = strstr(f, kv)) != NULL && at[a] == SIZE_MAX) {
			size_t l = strlen(kv);
			if ((f == facet || !strncmp(f - 3, " / ", 3)) && (f[l] == '\0' || !strncmp(f + l, " / ", 3)))
				at[a] = (size_t)(f - facet);
			f++;
		}
	}
	for (unsigned a = 1; a < pt->ep_nsweep; a++) /* insertion sort: stable, a few keys */
		for (unsigned b = a; b > 0 && at[b] < at[b - 1]; b--) {
			size_t x = at[b];
			const char *k2 = pt->ep_sweep_keys[b], *v2 = pt->ep_sweep_vals[b];
			at[b] = at[b - 1];
			pt->ep_sweep_keys[b] = pt->ep_sweep_keys[b - 1];
			pt->ep_sweep_vals[b] = pt->ep_sweep_vals[b - 1];
			at[b - 1] = x;
			pt->ep_sweep_keys[b - 1] = k2;
			pt->ep_sweep_vals[b - 1] = v2;
		}
	char again[512];
	exp_point_facet(pt, again, sizeof(again));
	if (strcmp(again, facet) != 0)
		return rd_err(r, "facet \"%s\" is not its mix and swept values (\"%s\")", facet, again);
	json_t *tj;
	json_array_foreach(trials, i, tj)
	{
		snprintf(r->where, sizeof(r->where), "points[%u].trials[%zu]", p, i);
		int rc = read_trial(r, pt, p, tj, T);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int runjson_read(const json_t *doc, const char *name, struct runjson *rj, char *err, size_t errlen)
{
	memset(rj, 0, sizeof(*rj));
	struct rd r = {.rj = rj, .name = name, .err = err, .errlen = errlen};
	int rc = EINVAL;
	json_t *nm = GET_STR(&r, doc, "name"), *intr, *wall, *cfgf, *sets, *mixes, *report, *points;
	uint64_t seed;
	unsigned T;
	if (nm == NULL || (intr = GET_BOOL(&r, doc, "interrupted")) == NULL || (wall = GET_NUM(&r, doc, "wall_seconds")) == NULL ||
	    (cfgf = GET_STR(&r, doc, "config_file")) == NULL || (sets = GET_ARR(&r, doc, "overrides")) == NULL ||
	    (mixes = GET_ARR(&r, doc, "mixes")) == NULL || (report = GET_OBJ(&r, doc, "report")) == NULL ||
	    (points = GET_ARR(&r, doc, "points")) == NULL || !get_uint(&r, doc, "trials_per_point", 1000, &T) ||
	    !get_u64(&r, doc, "seed", &seed))
		goto out;
	if (T == 0) {
		rd_err(&r, "trials_per_point is 0");
		goto out;
	}
	size_t np = json_array_size(points);
	if (np == 0 || np > 1000000) {
		rd_err(&r, "points: %zu of them", np);
		goto out;
	}
	rj->rj_ex = mem_zalloc(struct experiment, 1);
	rj->rj_points = mem_zalloc(struct exp_point, np);
	rj->rj_trials = mem_zalloc(struct trial_result, np * T);
	rj->rj_ntrials = rj->rj_trials != NULL ? np * T : 0;
	rj->rj_sets = mem_zalloc(const char *, json_array_size(sets) + 1);
	if (rj->rj_ex == NULL || rj->rj_points == NULL || rj->rj_trials == NULL || rj->rj_sets == NULL) {
		rc = rd_oom(&r);
		goto out;
	}
	struct experiment *ex = rj->rj_ex;
	json_t *b = GET_STR(&r, report, "baseline"), *pr = GET_STR(&r, report, "primary");
	if (b == NULL || pr == NULL)
		goto out;
	if (strlen(json_string_value(nm)) >= sizeof(ex->ex_name) || json_array_size(mixes) > EXP_MAX_MIXES ||
	    strlen(json_string_value(b)) >= sizeof(ex->ex_baseline) || strlen(json_string_value(pr)) >= sizeof(ex->ex_primary)) {
		rd_err(&r, "a name too long, or more than %d mixes", EXP_MAX_MIXES);
		goto out;
	}
	snprintf(ex->ex_path, sizeof(ex->ex_path), "%s", json_string_value(cfgf));
	snprintf(ex->ex_name, sizeof(ex->ex_name), "%s", json_string_value(nm));
	snprintf(ex->ex_baseline, sizeof(ex->ex_baseline), "%s", json_string_value(b));
	snprintf(ex->ex_primary, sizeof(ex->ex_primary), "%s", json_string_value(pr));
	ex->ex_npoints = (unsigned)np;
	ex->ex_nmixes = json_array_size(mixes) > 0 ? (unsigned)json_array_size(mixes) : 1;
	for (unsigned m = 0; m < json_array_size(mixes); m++) {
		json_t *v = json_array_get(mixes, m);
		if (!json_is_string(v) || json_string_length(v) >= sizeof(ex->ex_mixes[m])) {
			rd_err(&r, "mixes[%u] is not a mix name", m);
			goto out;
		}
		snprintf(ex->ex_mixes[m], sizeof(ex->ex_mixes[m]), "%s", json_string_value(v));
	}
	for (size_t i = 0; i < json_array_size(sets); i++) {
		json_t *v = json_array_get(sets, i);
		if (!json_is_string(v)) {
			rd_err(&r, "overrides[%zu] is not a string", i);
			goto out;
		}
		if ((rj->rj_sets[i] = keep(&r, json_string_value(v))) == NULL) {
			rc = rd_oom(&r);
			goto out;
		}
	}
	for (size_t p = 0; p < np; p++) {
		if ((rc = read_point(&r, json_array_get(points, p), (unsigned)p, T, seed)) != 0)
			goto out;
		for (unsigned m = 0; m < ex->ex_nmixes; m++)
			ex->ex_mix_points[m] += rj->rj_points[p].ep_mix == ex->ex_mixes[m];
	}
	rj->rj_rr = (struct run_results){
		.rr_ex = ex,
		.rr_points = rj->rj_points,
		.rr_trials = rj->rj_trials,
		.rr_trials_per_point = T,
		.rr_interrupted = json_is_true(intr),
		.rr_config_path = ex->ex_path,
		.rr_sets = rj->rj_sets,
		.rr_nsets = (unsigned)json_array_size(sets),
		.rr_wall_s = json_number_value(wall),
	};
	rc = 0;
out:
	if (r.oom)
		rc = ENOMEM;
	if (rc != 0)
		runjson_free(rj);
	return rc;
}

void runjson_free(struct runjson *rj)
{
	for (size_t i = 0; i < rj->rj_ntrials; i++)
		trial_free(&rj->rj_trials[i]);
	free(rj->rj_trials);
	free(rj->rj_points);
	free(rj->rj_ex);
	free(rj->rj_sets);
	for (unsigned i = 0; i < rj->rj_nstrs; i++)
		free(rj->rj_strs[i]);
	free(rj->rj_strs);
	memset(rj, 0, sizeof(*rj));
}
