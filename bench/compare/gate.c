/*
 * gate.c — what `pmapstorm gate BASELINE CURRENT` decides (gate.h): a CI
 * performance gate that fails on regressions and not on noise.
 *
 * What it follows.  Google Benchmark's tools/compare.py: per benchmark, the
 * relative change of the measurement and a two-sided Mann-Whitney U test
 * over the repetitions, "significant" below alpha = 0.05, with a warning
 * when there are too few repetitions to trust it.  To that we add what a
 * gate needs and compare.py leaves to the reader: an effect-size threshold
 * (a significant 1% change is not a regression) and a bootstrap percentile
 * interval of the ratio of medians (Efron & Tibshirani 1993, ch. 13), which
 * must lie wholly on one side of 1 before anything is called a regression.
 * The statistics live in common/samples.c, shared with the report.
 *
 * The verdict of one metric at one point, medians m_b (baseline) and m_c
 * (current), ratio r = m_c / m_b, effect |r - 1|, threshold t, level alpha:
 *   deterministic  both files mark the metric deterministic (every trial
 *                  agreed exactly, record/results.c), or both points ran in
 *                  virtual time ("clock": "virtual": the value is a function
 *                  of binary, config and seeds): a relative difference above
 *                  GATE_DET_TOLERANCE is a regression or an improvement by
 *                  the metric's better-direction, or "changed" when it has
 *                  none; a deterministic change fails the gate either way,
 *                  since the model then no longer does what it did.
 *   no change      effect < t (significant or not: too small to matter).
 *   inconclusive   fewer than 2 trials a side, or so few that the U test
 *                  cannot reach p < alpha at all (3 a side: p >= 0.1); or
 *                  effect >= t but p >= alpha or the interval contains 1.
 *                  The row says how many trials a side would be needed:
 *                  the fewest for which p < alpha is reachable, or, for a
 *                  noisy metric, n * (z_crit / z)^2 from the test's normal
 *                  score z (U's variance shrinks as 1/n).
 *   regression /   p < alpha, effect >= t, and the interval on the same
 *   improvement    side of 1; by the better-direction ("changed" for a
 *                  metric without one, which never fails the gate).
 * The gate fails (gate_failed(); the command exits 1) when a gated row is
 * a regression or a deterministic change.  With --deterministic-only,
 * timing rows are computed and printed but do not count.
 *
 * Coverage.  A gate that passes on what it never saw is no gate: a
 * baseline point that CURRENT lacks, a gated metric that CURRENT lacks or
 * has no completed trial of, and an interrupted CURRENT are gaps
 * (struct gate_gap), each listed in every report and each failing the
 * gate like a regression unless --allow-missing.  What only CURRENT has
 * (a new point, a new metric) is a note: it cannot hide a regression.
 *
 * Reports.  JSON wants UTF-8 and paths are bytes: every path and label
 * goes through utf8_json_string(), labels are cut on a character
 * boundary (utf8_cut), and every json_pack is checked, so a report is
 * whole or the writer says which part failed (ENOMEM).  Report files
 * are written atomically and replaced (atomicfile_begin/commit).
 *
 * Noise floor.  Trials of one run are interleaved, so the U test compares
 * like with like; two runs, though, may sit on a host in different states
 * (other jobs on a shared machine), a shift the U test takes for a real
 * one.  --aa (A/A: two runs of one build) measures each metric's shift
 * and --noise-out keeps GATE_NOISE_MARGIN x the largest; --noise raises a
 * metric's threshold t to that floor.
 *
 * Matching.  Two points match when every config key and workload option
 * (role.NAME.OPTION) that both points carry has the same value and their
 * roles (name, workload, CPU set, pmap) are identical.  An option of a
 * workload this build knows that a file does not record is taken at its
 * default (parse_identity); any other key only one file knows (a newer
 * build's) is ignored, and both are said.  Points that agree on every key
 * pair first; a baseline point that several current points match once the
 * one-sided keys are ignored stays unmatched (gate_compare).  Unmatched points are listed (a baseline point as a gap,
 * see Coverage); no match at all is bad input (EINVAL).  The warm-up and
 * the window are no key: matched points measured over other windows are
 * counted in a note.
 *
 * Reading.  gate_doc_parse() checks the type of every field it uses and
 * bounds every size (gate.h), and builds its result only from checked
 * values, so a hostile file gives a message, never a crash (issue 10 fuzzes
 * it).  No shared state: it may run in any thread.
 */
#include "compare/gate.h"
#include "common/atomicfile.h"
#include "common/msg.h"
#include "common/path.h"
#include "common/samples.h"
#include "trials/workloads/workload.h"
#include "common/utf8.h"
#include "record/results.h"
#include "trials/shard.h"

#include <pmapstorm/alloc.h>

#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- reading run.json ---- */

struct parse {
	const char *name;
	char *err;
	size_t errlen;
};

static int perr(struct parse *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct parse *ps, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errlen, "%s: %s", ps->name, what);
	return EINVAL;
}

static char *dupstr(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = mem_alloc(char, n);
	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

/* a string member: NULL with a message when missing, not a string or too long */
static const char *get_str(struct parse *ps, json_t *o, const char *key, const char *where)
{
	json_t *v = json_object_get(o, key);
	if (v == NULL) {
		perr(ps, "%s: missing \"%s\"", where, key);
		return NULL;
	}
	if (!json_is_string(v) || json_string_length(v) >= GATE_MAX_STRING ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		perr(ps, "%s.%s: not a string (or longer than %u bytes, or with a NUL)", where, key, GATE_MAX_STRING);
		return NULL;
	}
	return json_string_value(v);
}

static json_t *get_typed(struct parse *ps, json_t *o, const char *key, const char *where, int (*is)(const json_t *),
    const char *type)
{
	json_t *v = json_object_get(o, key);
	if (v == NULL)
		perr(ps, "%s: missing \"%s\"", where, key);
	else if (!is(v)) {
		perr(ps, "%s.%s: not %s", where, key, type);
		v = NULL;
	}
	return v;
}

static int is_object(const json_t *v) { return json_is_object(v); }
static int is_array(const json_t *v) { return json_is_array(v); }
static int is_number(const json_t *v) { return json_is_number(v); }
static int is_integer(const json_t *v) { return json_is_integer(v); }
static int is_bool(const json_t *v) { return json_is_boolean(v); }

static int better_of(const char *s)
{
	return !strcmp(s, "higher") ? 1 : !strcmp(s, "lower") ? -1 : !strcmp(s, "none") ? 0 : 2;
}

/* "key=value" entries in key order, then value: the order points_match()
 * merges in ('=' ends the key, so "a=1" sorts before "a.b=1") */
static int cmp_key(const char *a, const char *b)
{
	size_t la = strcspn(a, "="), lb = strcspn(b, "=");
	int c = memcmp(a, b, la < lb ? la : lb);
	return c != 0 ? c : (la > lb) - (la < lb);
}

static int cmp_kv(const void *x, const void *y)
{
	const char *a = *(char *const *)x, *b = *(char *const *)y;
	int c = cmp_key(a, b);
	return c != 0 ? c : strcmp(a, b);
}

static void point_free(struct gate_point *gp)
{
	free(gp->gp_label);
	for (unsigned i = 0; i < gp->gp_ncfg; i++)
		free(gp->gp_cfg[i]);
	free(gp->gp_cfg);
	free(gp->gp_implied); /* its strings are gp_cfg's */
	free(gp->gp_roles);
	for (unsigned i = 0; i < gp->gp_nmetrics; i++) {
		free(gp->gp_metrics[i].gm_name);
		free(gp->gp_metrics[i].gm_unit);
		free(gp->gp_metrics[i].gm_vals);
	}
	free(gp->gp_metrics);
}

void gate_doc_free(struct gate_doc *d)
{
	for (unsigned p = 0; d->gd_points != NULL && p < d->gd_npoints; p++)
		point_free(&d->gd_points[p]);
	free(d->gd_points);
	free(d->gd_file);
	free(d->gd_name);
	free(d->gd_commit);
	free(d->gd_hosts);
	memset(d, 0, sizeof(*d));
}

static int oom(struct parse *ps)
{
	perr(ps, "out of memory");
	return ENOMEM;
}

/* One entry of a metrics or summary object: a bounded name, an object with
 * a unit and a better-direction; w gets "where.section.name". */
static int check_entry(struct parse *ps, const char *where, const char *section, const char *k, json_t *v, char *w,
    size_t wlen, const char **unit, int *better)
{
	if (strlen(k) >= GATE_MAX_STRING)
		return perr(ps, "%s.%s: a metric name longer than %u bytes", where, section, GATE_MAX_STRING);
	snprintf(w, wlen, "%s.%s.%s", where, section, k);
	if (!json_is_object(v))
		return perr(ps, "%s: not an object", w);
	const char *b;
	if ((*unit = get_str(ps, v, "unit", w)) == NULL || (b = get_str(ps, v, "better", w)) == NULL)
		return EINVAL;
	if ((*better = better_of(b)) == 2)
		return perr(ps, "%s.better: \"%s\" is not higher, lower or none", w, b);
	return 0;
}

/* one trial's metrics object: every entry checked, even those the summary lacks */
static int check_trial(struct parse *ps, json_t *tr, const char *where)
{
	if (!json_is_object(tr))
		return perr(ps, "%s: not an object", where);
	json_t *m = get_typed(ps, tr, "metrics", where, is_object, "an object");
	if (m == NULL)
		return EINVAL;
	if (json_object_size(m) > GATE_MAX_METRICS)
		return perr(ps, "%s.metrics: more than %u metrics", where, GATE_MAX_METRICS);
	const char *k, *unit;
	json_t *v;
	int better;
	json_object_foreach(m, k, v)
	{
		char w[GATE_MAX_STRING + 128];
		if (check_entry(ps, where, "metrics", k, v, w, sizeof(w), &unit, &better) != 0)
			return EINVAL;
		json_t *val = get_typed(ps, v, "value", w, is_number, "a number");
		if (val == NULL)
			return EINVAL;
		if (!isfinite(json_number_value(val)))
			return perr(ps, "%s.value: not finite", w);
	}
	return 0;
}

/* one "prefix key=value" into gp_cfg (sized by the caller) */
static int add_kv(struct parse *ps, struct gate_point *gp, const char *prefix, const char *key, const char *val)
{
	size_t len = strlen(prefix) + strlen(key) + strlen(val) + 2;
	char *kv = mem_alloc(char, len);
	if (kv == NULL)
		return oom(ps);
	snprintf(kv, len, "%s%s=%s", prefix, key, val);
	gp->gp_cfg[gp->gp_ncfg++] = kv;
	return 0;
}

/* config and role options (sorted key=value), roles without their options
 * (compact JSON) and label of one point */
static int parse_identity(struct parse *ps, json_t *pt, const char *where, struct gate_point *gp)
{
	json_t *cfg = get_typed(ps, pt, "config", where, is_object, "an object");
	json_t *params = get_typed(ps, pt, "params", where, is_object, "an object");
	json_t *roles = get_typed(ps, pt, "roles", where, is_array, "an array");
	if (cfg == NULL || params == NULL || roles == NULL)
		return EINVAL;
	size_t n = json_object_size(cfg);
	if (n > GATE_MAX_CONFIG || json_object_size(params) > GATE_MAX_CONFIG || json_array_size(roles) > GATE_MAX_CONFIG)
		return perr(ps, "%s: more than %u config keys, params or roles", where, GATE_MAX_CONFIG);
	const char *k;
	json_t *v;
	size_t i;
	json_array_foreach(roles, i, v)
	{
		if (!json_is_object(v))
			return perr(ps, "%s.roles[%zu]: not an object", where, i);
		const char *rk;
		json_t *rv;
		json_object_foreach(v, rk, rv)
		{
			bool ok = json_is_string(rv) && json_string_length(rv) < GATE_MAX_STRING;
			if (!strcmp(rk, "options")) {
				const char *ok2;
				json_t *ov;
				ok = json_is_object(rv) && json_object_size(rv) <= GATE_MAX_CONFIG;
				json_object_foreach(rv, ok2, ov) ok = ok && json_is_string(ov) &&
				    json_string_length(ov) < GATE_MAX_STRING && strlen(ok2) < GATE_MAX_STRING && !strchr(ok2, '=');
				n += json_object_size(rv);
			}
			if (!ok)
				return perr(ps, "%s.roles[%zu].%.64s: wrong type (or too long)", where, i, rk);
		}
		/* the role's name prefixes its options' keys: a name with a dot or
		 * an equals sign could make two keys one */
		json_t *name = json_object_get(v, "name"), *wl = json_object_get(v, "workload");
		if (!json_is_string(name) || json_string_length(name) == 0 || strpbrk(json_string_value(name), ".=") != NULL)
			return perr(ps, "%s.roles[%zu].name: missing, or holds '.' or '='", where, i);
		const struct workload *w = json_is_string(wl) ? workload_find(json_string_value(wl)) : NULL;
		for (const struct wl_option *o = w != NULL ? w->wl_options : NULL; o != NULL && o->wo_name != NULL; o++)
			n++; /* room for the defaults of the options the role does not record */
	}
	if (n > 2 * GATE_MAX_CONFIG)
		return perr(ps, "%s: more than %u config keys and workload options", where, 2 * GATE_MAX_CONFIG);
	/* the config keys and, as role.NAME.OPTION (the key a sweep uses),
	 * every role's workload options.  An option of a workload this build
	 * knows that the role does not record (the file is older than the
	 * option) is taken at its default, which is what that build ran (an
	 * option is added with the old behaviour as its default), and noted;
	 * a key only one file carries otherwise (a newer build's) is ignored
	 * when matching (points_match) */
	gp->gp_cfg = mem_zalloc(char *, n + 1);
	gp->gp_implied = mem_zalloc(char *, n + 1);
	if (gp->gp_cfg == NULL || gp->gp_implied == NULL)
		return oom(ps);
	json_object_foreach(cfg, k, v)
	{
		if (!json_is_string(v) || strlen(k) >= GATE_MAX_STRING || json_string_length(v) >= GATE_MAX_STRING ||
		    strchr(k, '=') != NULL)
			return perr(ps, "%s.config.%.64s: not a string (or too long, or a key with '=')", where, k);
		if (add_kv(ps, gp, "", k, json_string_value(v)) != 0)
			return ENOMEM;
	}
	json_t *core = json_array();
	if (core == NULL)
		return oom(ps);
	json_array_foreach(roles, i, v)
	{
		json_t *opts = json_object_get(v, "options"), *wl = json_object_get(v, "workload"), *ov;
		char prefix[GATE_MAX_STRING + 8];
		snprintf(prefix, sizeof(prefix), "role.%s.", json_string_value(json_object_get(v, "name")));
		json_object_foreach(opts, k, ov)
		{
			if (add_kv(ps, gp, prefix, k, json_string_value(ov)) != 0) {
				json_decref(core);
				return ENOMEM;
			}
		}
		const struct workload *w = json_is_string(wl) ? workload_find(json_string_value(wl)) : NULL;
		for (const struct wl_option *o = w != NULL ? w->wl_options : NULL; o != NULL && o->wo_name != NULL; o++) {
			if (json_object_get(opts, o->wo_name) != NULL)
				continue;
			if (add_kv(ps, gp, prefix, o->wo_name, o->wo_default) != 0) {
				json_decref(core);
				return ENOMEM;
			}
			gp->gp_implied[gp->gp_nimplied++] = gp->gp_cfg[gp->gp_ncfg - 1];
		}
		json_t *c = json_deep_copy(v);
		if (c == NULL || json_array_append_new(core, c) != 0) {
			json_decref(core);
			return oom(ps);
		}
		json_object_del(c, "options");
	}
	qsort(gp->gp_cfg, gp->gp_ncfg, sizeof(char *), cmp_kv);
	/* a key twice (a config key spelled role.NAME.OPTION beside the
	 * role's own option): which value counts would be a guess */
	for (unsigned j = 1; j < gp->gp_ncfg; j++) {
		size_t klen = strcspn(gp->gp_cfg[j], "=");
		if (cmp_key(gp->gp_cfg[j - 1], gp->gp_cfg[j]) == 0) {
			json_decref(core);
			return perr(ps, "%s: %.*s twice (a config key and a role's option, or two roles of one name)", where,
			    (int)(klen > 256 ? 256 : klen), gp->gp_cfg[j]);
		}
	}
	/* the roles but their options: workload, CPU set, pmap, name */
	gp->gp_roles = json_dumps(core, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(core);
	if (gp->gp_roles == NULL)
		return oom(ps);
	/* label: strategy, CPUs, then the other swept keys */
	char label[1024];
	json_t *st = json_object_get(cfg, "shootdown.strategy"), *cpus = json_object_get(cfg, "machine.cpus");
	int len = snprintf(label, sizeof(label), "%s %s CPU", json_is_string(st) ? json_string_value(st) : "?",
	    json_is_string(cpus) ? json_string_value(cpus) : "?");
	json_object_foreach(params, k, v)
	{
		if (!json_is_string(v))
			return perr(ps, "%s.params.%.64s: not a string", where, k);
		if (!strcmp(k, "shootdown.strategy") || !strcmp(k, "machine.cpus"))
			continue;
		if (len >= 0 && (size_t)len < sizeof(label))
			len += snprintf(label + len, sizeof(label) - (size_t)len, ", %s=%s", k, json_string_value(v));
	}
	utf8_cut(label); /* a label cut at sizeof(label) ends on a whole character */
	gp->gp_label = dupstr(label);
	return gp->gp_label == NULL ? oom(ps) : 0;
}

static int parse_point(struct parse *ps, json_t *pt, unsigned p, struct gate_point *gp)
{
	char where[64];
	snprintf(where, sizeof(where), "points[%u]", p);
	if (!json_is_object(pt))
		return perr(ps, "%s: not an object", where);
	json_t *idx = get_typed(ps, pt, "index", where, is_integer, "an integer");
	if (idx == NULL)
		return EINVAL;
	if (json_integer_value(idx) < 0 || json_integer_value(idx) > GATE_MAX_POINTS)
		return perr(ps, "%s.index: out of range", where);
	gp->gp_index = (unsigned)json_integer_value(idx);
	json_t *clk = json_object_get(pt, "clock");
	if (clk != NULL && !json_is_string(clk))
		return perr(ps, "%s.clock: not a string", where);
	gp->gp_virtual = clk != NULL && !strcmp(json_string_value(clk), "virtual");
	/* the window is no config key (experiment.duration is the file's), so
	 * points match across windows; the gate says when they differ */
	json_t *wu = json_object_get(pt, "warmup_s"), *du = json_object_get(pt, "duration_s");
	gp->gp_warmup_s = json_is_number(wu) ? json_number_value(wu) : -1;
	gp->gp_duration_s = json_is_number(du) ? json_number_value(du) : -1;
	int rc = parse_identity(ps, pt, where, gp);
	if (rc != 0)
		return rc;
	json_t *trials = get_typed(ps, pt, "trials", where, is_array, "an array");
	json_t *sum = get_typed(ps, pt, "summary", where, is_object, "an object");
	if (trials == NULL || sum == NULL)
		return EINVAL;
	size_t nt = json_array_size(trials);
	if (nt > GATE_MAX_TRIALS)
		return perr(ps, "%s.trials: more than %u trials", where, GATE_MAX_TRIALS);
	for (size_t t = 0; t < nt; t++) {
		char w[96];
		snprintf(w, sizeof(w), "%s.trials[%zu]", where, t);
		if ((rc = check_trial(ps, json_array_get(trials, t), w)) != 0)
			return rc;
	}
	size_t nm = json_object_size(sum);
	if (nm > GATE_MAX_METRICS)
		return perr(ps, "%s.summary: more than %u metrics", where, GATE_MAX_METRICS);
	gp->gp_metrics = mem_zalloc(struct gate_metric, nm + 1);
	if (gp->gp_metrics == NULL)
		return oom(ps);
	const char *k, *unit;
	json_t *v;
	int better;
	json_object_foreach(sum, k, v)
	{
		char w[GATE_MAX_STRING + 128];
		if (check_entry(ps, where, "summary", k, v, w, sizeof(w), &unit, &better) != 0)
			return EINVAL;
		json_t *det = json_object_get(v, "deterministic");
		if (det != NULL && !json_is_boolean(det))
			return perr(ps, "%s.deterministic: not a boolean", w);
		struct gate_metric *gm = &gp->gp_metrics[gp->gp_nmetrics++];
		gm->gm_name = dupstr(k);
		gm->gm_unit = dupstr(unit);
		gm->gm_better = better;
		gm->gm_det = det != NULL && json_is_true(det);
		gm->gm_vals = mem_zalloc(double, nt + 1);
		if (gm->gm_name == NULL || gm->gm_unit == NULL || gm->gm_vals == NULL)
			return oom(ps);
		for (size_t t = 0; t < nt; t++) {
			/* checked by check_trial() */
			json_t *m = json_object_get(json_object_get(json_object_get(json_array_get(trials, t), "metrics"), k),
			    "value");
			if (m != NULL)
				gm->gm_vals[gm->gm_n++] = json_number_value(m);
		}
		if (gm->gm_det && gm->gm_n < 2)
			gm->gm_det = false; /* one trial proves nothing */
		for (unsigned i = 1; gm->gm_det && i < gm->gm_n; i++)
			if (gm->gm_vals[i] != gm->gm_vals[0])
				return perr(ps, "%s: marked deterministic but the trials differ", w);
	}
	return 0;
}

int gate_doc_parse(const char *buf, size_t len, const char *name, struct gate_doc *out, char *err, size_t errlen)
{
	struct parse ps = {name != NULL ? name : "run.json", err, errlen};
	memset(out, 0, sizeof(*out));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (buf == NULL && len > 0)
		return perr(&ps, "no data");
	if (len > GATE_MAX_FILE)
		return perr(&ps, "larger than %u MiB", GATE_MAX_FILE >> 20);
	json_error_t je;
	json_t *doc = json_loadb(buf != NULL ? buf : "", len, JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL)
		return perr(&ps, "line %d column %d: not valid JSON (%s)", je.line, je.column, je.text);
	int rc = EINVAL;
	json_t *points, *sv;
	const char *schema, *nm;
	if (!json_is_object(doc)) {
		perr(&ps, "not a JSON object (a run.json from pmapstorm run is one)");
		goto out;
	}
	if ((schema = get_str(&ps, doc, "schema", "top level")) == NULL)
		goto out;
	if (strcmp(schema, "pmapstorm-run") != 0) {
		perr(&ps, "schema is \"%.64s\", not \"pmapstorm-run\" (not a run.json)", schema);
		goto out;
	}
	if ((sv = get_typed(&ps, doc, "schema_version", "top level", is_integer, "an integer")) == NULL)
		goto out;
	if (json_integer_value(sv) < RUN_SCHEMA_VERSION_MIN || json_integer_value(sv) > RUN_SCHEMA_VERSION) {
		perr(&ps, "schema_version %lld: this pmapstorm reads versions %d to %d (%s)",
		    (long long)json_integer_value(sv), RUN_SCHEMA_VERSION_MIN, RUN_SCHEMA_VERSION,
		    json_integer_value(sv) < RUN_SCHEMA_VERSION_MIN
		        ? "the run is from an older pmapstorm, whose metrics had other names: "
		          "run it again, or make the baseline again with --replace-baseline"
		        : "the run is from a newer pmapstorm");
		goto out;
	}
	if ((nm = get_str(&ps, doc, "name", "top level")) == NULL)
		goto out;
	json_t *intr = get_typed(&ps, doc, "interrupted", "top level", is_bool, "a boolean");
	json_t *prov = json_object_get(doc, "provenance");
	json_t *commit = json_is_object(prov) ? json_object_get(prov, "commit") : NULL;
	if (intr == NULL || (points = get_typed(&ps, doc, "points", "top level", is_array, "an array")) == NULL)
		goto out;
	size_t np = json_array_size(points);
	if (np == 0) {
		perr(&ps, "points: empty");
		goto out;
	}
	if (np > GATE_MAX_POINTS) {
		perr(&ps, "points: more than %u", GATE_MAX_POINTS);
		goto out;
	}
	out->gd_file = dupstr(ps.name);
	out->gd_name = dupstr(nm);
	out->gd_commit = dupstr(json_is_string(commit) && json_string_length(commit) < GATE_MAX_STRING &&
	                 strlen(json_string_value(commit)) == json_string_length(commit)
	                     ? json_string_value(commit) : "");
	out->gd_interrupted = json_is_true(intr);
	out->gd_points = mem_zalloc(struct gate_point, np);
	struct shard_hosts hs; /* where the trials ran: timings from other hosts are said to be */
	char hosts[SHARD_MAX_HOSTS * 64 + 16];
	shard_doc_hosts(doc, &hs);
	shard_hosts_names(&hs, hosts, sizeof(hosts));
	out->gd_hosts = dupstr(hosts);
	out->gd_nhosts = hs.hs_nhosts;
	out->gd_host_timing = hs.hs_host_timing;
	if (out->gd_file == NULL || out->gd_name == NULL || out->gd_commit == NULL || out->gd_points == NULL ||
	    out->gd_hosts == NULL) {
		rc = oom(&ps);
		goto out;
	}
	for (size_t p = 0; p < np; p++) {
		out->gd_npoints = (unsigned)p + 1; /* so that gate_doc_free frees a half-built point */
		if ((rc = parse_point(&ps, json_array_get(points, p), (unsigned)p, &out->gd_points[p])) != 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(doc);
	if (rc != 0)
		gate_doc_free(out);
	return rc;
}

int gate_doc_load(const char *path, struct gate_doc *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* gate_input_path() found no DIR/run.json */
		snprintf(err, errlen, "%s: a folder without run.json (a run.json, a results folder or a baseline)", path);
		return EINVAL;
	}
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot read (%s)", path, strerror(errno));
		return EINVAL; /* an input that is not there: the caller's mistake */
	}
	size_t cap = 1 << 16, len = 0;
	char *buf = mem_alloc(char, cap);
	while (buf != NULL) {
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0 || len > GATE_MAX_FILE)
			break;
		if (len == cap) {
			char *nb = mem_realloc(char, buf, cap * 2);
			if (nb == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	const int rerr = ferror(f) ? errno : 0;
	const bool bad = ferror(f);
	fclose(f);
	if (buf == NULL || bad) {
		snprintf(err, errlen, "%s: cannot read (%s)", path,
		    buf == NULL ? "out of memory" : rerr != 0 ? strerror(rerr) : "read error");
		free(buf);
		return buf == NULL ? ENOMEM : EINVAL;
	}
	int rc = gate_doc_parse(buf, len, path, out, err, errlen);
	free(buf);
	return rc;
}

/* ---- comparing ---- */

const char *gate_verdict_name(enum gate_verdict v)
{
	static const char *const names[] = {"no change", "improvement", "regression", "changed", "inconclusive"};
	return (unsigned)v <= GV_INCONCLUSIVE ? names[v] : "?";
}

/* the value of key in a sorted "key=value" list, or NULL */
static const char *cfg_value(const struct gate_point *gp, const char *key, size_t klen)
{
	for (unsigned i = 0; i < gp->gp_ncfg; i++)
		if (!strncmp(gp->gp_cfg[i], key, klen) && gp->gp_cfg[i][klen] == '=')
			return gp->gp_cfg[i] + klen + 1;
	return NULL;
}

/* A key that models a change to the code rather than the experiment
 * (inject.update_locks: README, "Virtual time"): points that differ in it
 * are the same point, which is what a gate of that change compares */
static bool code_key(const char *kv)
{
	return cmp_key(kv, "inject.update_locks=") == 0;
}

/* Do a and b match: the same roles, and every key both carry at the same
 * value (a code key at any)?  *one_sided: the keys only one carries, and
 * the code keys that differ (so an exact pair is preferred).  One merge of
 * the two sorted lists (cmp_kv). */
static bool points_match(const struct gate_point *a, const struct gate_point *b, unsigned *one_sided)
{
	*one_sided = 0;
	if (strcmp(a->gp_roles, b->gp_roles) != 0)
		return false;
	unsigned i = 0, j = 0;
	while (i < a->gp_ncfg && j < b->gp_ncfg) {
		int c = cmp_key(a->gp_cfg[i], b->gp_cfg[j]);
		if (c == 0 && strcmp(a->gp_cfg[i], b->gp_cfg[j]) != 0) {
			if (!code_key(a->gp_cfg[i]))
				return false;
			++*one_sided;
		}
		*one_sided += c != 0;
		i += c <= 0;
		j += c >= 0;
	}
	*one_sided += (a->gp_ncfg - i) + (b->gp_ncfg - j);
	return true;
}

static void note(struct gate_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct gate_result *r, const char *fmt, ...)
{
	size_t l = strlen(r->gr_notes);
	if (l + 2 >= sizeof(r->gr_notes))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->gr_notes + l, sizeof(r->gr_notes) - l - 1, fmt, ap);
	va_end(ap);
	utf8_cut(r->gr_notes);
	strcat(r->gr_notes, "\n");
}

/* config keys that only one point of a matched pair carries: ignored when
 * matching, said once per key */
static void note_key_differences(const struct gate_point *a, const struct gate_point *b, struct gate_result *r)
{
	char line[2 * GATE_MAX_STRING + 160];
	for (unsigned i = 0; i < a->gp_ncfg; i++) {
		size_t klen = strcspn(a->gp_cfg[i], "=");
		const char *bv = cfg_value(b, a->gp_cfg[i], klen);
		if (!code_key(a->gp_cfg[i]) || bv == NULL || !strcmp(bv, a->gp_cfg[i] + klen + 1))
			continue;
		snprintf(line, sizeof(line), "key %.*s is %s in the baseline and %s in the current run: a modelled code "
		    "change, compared as the same point", (int)klen, a->gp_cfg[i], a->gp_cfg[i] + klen + 1, bv);
		if (strstr(r->gr_notes, line) == NULL)
			note(r, "%s", line);
	}
	for (int side = 0; side < 2; side++) {
		const struct gate_point *x = side ? b : a, *y = side ? a : b;
		const char *who = side ? "current run" : "baseline";
		for (unsigned i = 0; i < x->gp_ncfg; i++) {
			size_t klen = strcspn(x->gp_cfg[i], "=");
			snprintf(line, sizeof(line), "key %.*s (%s) only in the %s: ignored when matching points", (int)klen,
			    x->gp_cfg[i], x->gp_cfg[i] + klen + 1, who);
			if (cfg_value(y, x->gp_cfg[i], klen) == NULL && strstr(r->gr_notes, line) == NULL)
				note(r, "%s", line);
		}
		for (unsigned i = 0; i < x->gp_nimplied; i++) {
			size_t klen = strcspn(x->gp_implied[i], "=");
			snprintf(line, sizeof(line), "workload option %.*s not recorded in the %s (an older build): taken as "
			    "its default, %s", (int)klen, x->gp_implied[i], who, x->gp_implied[i] + klen + 1);
			if (strstr(r->gr_notes, line) == NULL)
				note(r, "%s", line);
		}
	}
}

static bool metric_selected(const struct gate_options *o, const char *name)
{
	if (o->go_nglobs == 0)
		return true;
	for (unsigned i = 0; i < o->go_nglobs; i++)
		if (fnmatch(o->go_globs[i], name, 0) == 0)
			return true;
	return false;
}

static double median_of(const double *v, unsigned n)
{
	return samples_summarize(v, n, false).median;
}

/* z with P(|Z| > z) = alpha, by bisection on erfc */
static double z_crit(double alpha)
{
	double lo = 0, hi = 40;
	for (int i = 0; i < 200; i++) {
		double mid = (lo + hi) / 2;
		if (erfc(mid / sqrt(2.0)) > alpha)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

/* the fewest trials a side for which the U test can reach p < alpha */
static unsigned min_trials(double alpha)
{
	return samples_mwu_trials_needed(alpha, 1);
}

static enum gate_verdict by_direction(int better, double ratio)
{
	if (better == 0)
		return GV_CHANGED;
	bool up = ratio > 1;
	return (better > 0) == up ? GV_IMPROVEMENT : GV_REGRESSION;
}

static void compare_metric(const struct gate_options *o, struct gate_row *row)
{
	const struct gate_metric *b = row->gr_bm, *c = row->gr_cm;
	row->gr_med_base = median_of(b->gm_vals, b->gm_n);
	row->gr_med_cur = median_of(c->gm_vals, c->gm_n);
	double mb = row->gr_med_base, mc = row->gr_med_cur;
	row->gr_ratio = mb != 0 ? mc / mb : mc == 0 ? 1 : (mc > 0 ? INFINITY : -INFINITY);
	row->gr_p = 1;
	/* deterministic: a counter every trial agreed on, or any metric of a
	 * point both runs ran in virtual time (docs/engine.md): the same binary,
	 * config and seeds give the same value, so any change is the model's */
	row->gr_det = (b->gm_det && c->gm_det) || (row->gr_base->gp_virtual && row->gr_cur->gp_virtual);
	row->gr_gated = row->gr_det || !o->go_det_only;
	if (b->gm_n == 0 || c->gm_n == 0) {
		row->gr_verdict = GV_INCONCLUSIVE;
		row->gr_need = 2;
		snprintf(row->gr_why, sizeof(row->gr_why), "no completed trial in the %s", b->gm_n ? "current run" : "baseline");
		return;
	}
	if (row->gr_det) {
		double scale = fmax(fabs(mb), fabs(mc)), rel = scale > 0 ? fabs(mc - mb) / scale : 0;
		if (rel <= GATE_DET_TOLERANCE) {
			row->gr_verdict = GV_NO_CHANGE;
			snprintf(row->gr_why, sizeof(row->gr_why), "deterministic: equal");
		} else {
			row->gr_verdict = by_direction(b->gm_better, row->gr_ratio);
			snprintf(row->gr_why, sizeof(row->gr_why), "deterministic: %.9g -> %.9g", mb, mc);
		}
		row->gr_fails = row->gr_verdict == GV_REGRESSION || row->gr_verdict == GV_CHANGED;
		return;
	}
	double u, z;
	row->gr_p = samples_mann_whitney(b->gm_vals, b->gm_n, c->gm_vals, c->gm_n, &u, &z);
	row->gr_have_ci = samples_boot_ratio_ci(b->gm_vals, b->gm_n, c->gm_vals, c->gm_n, o->go_alpha, &row->gr_ci_lo,
	    &row->gr_ci_hi);
	double effect = fabs(row->gr_ratio - 1), thr = row->gr_threshold = gate_threshold_of(o, b->gm_name);
	unsigned n = b->gm_n < c->gm_n ? b->gm_n : c->gm_n, nmin = min_trials(o->go_alpha);
	if (effect < thr) {
		row->gr_verdict = GV_NO_CHANGE;
		snprintf(row->gr_why, sizeof(row->gr_why), "%+.1f%%, under the %.1f%% %s%s", 100 * (row->gr_ratio - 1),
		    100 * thr, thr > o->go_threshold ? "noise floor" : "threshold",
		    row->gr_p < o->go_alpha ? " (significant, too small to matter)" : "");
	} else if (n < 2 || samples_mwu_min_p(b->gm_n, c->gm_n) >= o->go_alpha) {
		row->gr_verdict = GV_INCONCLUSIVE;
		row->gr_need = nmin;
		snprintf(row->gr_why, sizeof(row->gr_why), "too few trials (%u and %u): p < %g needs at least %u a side",
		    b->gm_n, c->gm_n, o->go_alpha, nmin);
	} else if (row->gr_p < o->go_alpha && row->gr_have_ci && (row->gr_ci_lo > 1 || row->gr_ci_hi < 1)) {
		row->gr_verdict = by_direction(b->gm_better, row->gr_ratio);
		snprintf(row->gr_why, sizeof(row->gr_why), "%+.1f%%, p = %.3g", 100 * (row->gr_ratio - 1), row->gr_p);
	} else {
		/* U's normal score grows as sqrt(n): n * (z_crit / z)^2 trials reach it */
		double need = z != 0 ? ceil(n * pow(z_crit(o->go_alpha) / fabs(z), 2)) : 1000;
		if (need < n + 1)
			need = n + 1;
		if (need < nmin)
			need = nmin;
		row->gr_verdict = GV_INCONCLUSIVE;
		row->gr_need = need > 1000 ? 1000 : (unsigned)need;
		snprintf(row->gr_why, sizeof(row->gr_why), "too noisy: %+.1f%% but p = %.3g%s; about %u%s trials a side needed",
		    100 * (row->gr_ratio - 1), row->gr_p, row->gr_have_ci ? ", interval contains 1" : "", row->gr_need,
		    need > 1000 ? "+" : "");
	}
	row->gr_fails = row->gr_gated && row->gr_verdict == GV_REGRESSION;
}

static int add_gap(struct gate_result *r, size_t *cap, const struct gate_options *o, const struct gate_point *bp,
    const char *metric, bool no_trials, bool gated)
{
	if (r->gr_ngaps == *cap) {
		struct gate_gap *ng = mem_realloc(struct gate_gap, r->gr_gaps, (*cap = *cap ? 2 * *cap : 16));
		if (ng == NULL)
			return ENOMEM;
		r->gr_gaps = ng;
	}
	struct gate_gap *g = &r->gr_gaps[r->gr_ngaps++];
	*g = (struct gate_gap){.gg_point = bp, .gg_metric = metric, .gg_no_trials = no_trials, .gg_gated = gated,
	    .gg_fails = gated && !o->go_allow_missing};
	r->gr_gap_failures += g->gg_fails;
	return 0;
}

int gate_compare(const struct gate_doc *base, const struct gate_doc *cur, const struct gate_options *o,
    struct gate_result *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (base->gd_interrupted)
		note(r, "%s is an interrupted run: partial results", base->gd_file);
	bool *used = mem_zalloc(bool, cur->gd_npoints + 1);
	bool *glob_hit = mem_zalloc(bool, o->go_nglobs + 1);
	int *pair = mem_alloc(int, base->gd_npoints + 1);
	unsigned nambiguous = 0, nwindow = 0, window_eg = 0;
	size_t cap = 0, gcap = 0;
	int rc = 0;
	if (used == NULL || glob_hit == NULL || pair == NULL)
		goto nomem;
	for (unsigned p = 0; p < base->gd_npoints; p++)
		pair[p] = -1;
	if (cur->gd_interrupted && add_gap(r, &gcap, o, NULL, NULL, false, true) != 0)
		goto nomem;
	/* the pairs: first those that agree on every key (both files record
	 * the same keys); then, for the rest, the one point that agrees on
	 * the keys both carry — where several do, the keys only one file
	 * knows are what tells them apart, and the gate will not guess */
	for (int pass = 0; pass < 2; pass++)
		for (unsigned p = 0; p < base->gd_npoints; p++) {
			if (pair[p] >= 0)
				continue;
			int found = -1;
			unsigned nfound = 0, one;
			for (unsigned q = 0; q < cur->gd_npoints; q++)
				if (!used[q] && points_match(&base->gd_points[p], &cur->gd_points[q], &one) && (pass || one == 0)) {
					if (nfound++ == 0)
						found = (int)q;
					if (!pass)
						break;
				}
			if (nfound > 1) {
				nambiguous++;
				note(r, "point %u (%s) of the baseline matches %u points of the current run once the keys only "
				    "one file carries (and inject.update_locks) are ignored: left unmatched", base->gd_points[p].gp_index,
				    base->gd_points[p].gp_label, nfound);
				continue;
			}
			if (found >= 0) {
				pair[p] = found;
				used[found] = true;
			}
		}
	for (unsigned p = 0; p < base->gd_npoints; p++) {
		const struct gate_point *bp = &base->gd_points[p], *cp = pair[p] >= 0 ? &cur->gd_points[pair[p]] : NULL;
		if (cp == NULL) {
			r->gr_only_base++;
			if (add_gap(r, &gcap, o, bp, NULL, false, true) != 0)
				goto nomem;
			continue;
		}
		r->gr_matched++;
		note_key_differences(bp, cp, r);
		if (bp->gp_duration_s >= 0 && cp->gp_duration_s >= 0 &&
		    (bp->gp_duration_s != cp->gp_duration_s || bp->gp_warmup_s != cp->gp_warmup_s) && nwindow++ == 0)
			window_eg = p;
		for (unsigned i = 0; i < bp->gp_nmetrics; i++) {
			const struct gate_metric *bm = &bp->gp_metrics[i], *cm = NULL;
			for (unsigned k = 0; k < o->go_nglobs; k++)
				if (fnmatch(o->go_globs[k], bm->gm_name, 0) == 0)
					glob_hit[k] = true;
			if (!metric_selected(o, bm->gm_name))
				continue;
			for (unsigned j = 0; j < cp->gp_nmetrics && cm == NULL; j++)
				if (!strcmp(cp->gp_metrics[j].gm_name, bm->gm_name))
					cm = &cp->gp_metrics[j];
			/* a metric CURRENT lacks (or has no completed trial of) fails like
			 * a regression when it would have been gated: a gate must not pass
			 * on what it never saw */
			if (cm == NULL || (cm->gm_n == 0 && bm->gm_n > 0)) {
				if (add_gap(r, &gcap, o, bp, bm->gm_name, cm != NULL, bm->gm_det || !o->go_det_only) != 0)
					goto nomem;
				continue;
			}
			if (r->gr_nrows == cap) {
				struct gate_row *nr = mem_realloc(struct gate_row, r->gr_rows, (cap = cap ? 2 * cap : 64));
				if (nr == NULL)
					goto nomem;
				r->gr_rows = nr;
			}
			struct gate_row *row = &r->gr_rows[r->gr_nrows++];
			*row = (struct gate_row){.gr_base = bp, .gr_cur = cp, .gr_bm = bm, .gr_cm = cm};
			compare_metric(o, row);
			r->gr_count[row->gr_verdict]++;
			r->gr_failures += row->gr_fails;
		}
	}
	if (nwindow > 0) {
		const struct gate_point *bp = &base->gd_points[window_eg], *cp = &cur->gd_points[pair[window_eg]];
		note(r, "%u matched point(s) were measured over another window than the baseline's (point %u, %s: "
		    "warm-up %g s and window %g s, against %g s and %g s): rates compare, but the maxima and what a slow "
		    "start weighs do not", nwindow, bp->gp_index, bp->gp_label, cp->gp_warmup_s, cp->gp_duration_s,
		    bp->gp_warmup_s, bp->gp_duration_s);
	}
	for (unsigned q = 0; q < cur->gd_npoints; q++)
		if (!used[q]) {
			r->gr_only_cur++;
			note(r, "point %u (%s) only in the current run", cur->gd_points[q].gp_index, cur->gd_points[q].gp_label);
		}
	/* timings from different hosts measure the hosts as well: never
	 * compared without saying so (deterministic counters do not care) */
	if ((base->gd_host_timing || cur->gd_host_timing) && base->gd_hosts != NULL && cur->gd_hosts != NULL &&
	    base->gd_nhosts > 0 && cur->gd_nhosts > 0 &&
	    (base->gd_nhosts > 1 || cur->gd_nhosts > 1 || strcmp(base->gd_hosts, cur->gd_hosts) != 0)) {
		r->gr_hosts_differ = true;
		note(r, "timing metrics compare trials run on different hosts (baseline: %s; current: %s): a timing ratio "
		    "includes the hosts' difference; deterministic counters do not depend on the host", base->gd_hosts,
		    cur->gd_hosts);
	}
	if (r->gr_matched == 0) {
		snprintf(err, errlen, "%s and %s have no sweep point in common (same config and roles): nothing to "
		    "compare%s", base->gd_file, cur->gd_file, nambiguous ? " (a baseline point matched several points of "
		    "the current run once the keys only one file carries were ignored)" : "");
		rc = EINVAL;
	}
	for (unsigned k = 0; rc == 0 && k < o->go_nglobs; k++)
		if (!glob_hit[k]) {
			snprintf(err, errlen, "--metric %s: matches no metric of %s", o->go_globs[k], base->gd_file);
			rc = EINVAL;
		}
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
	rc = ENOMEM;
out:
	free(used);
	free(pair);
	free(glob_hit);
	if (rc != 0)
		gate_result_free(r);
	return rc;
}

void gate_result_free(struct gate_result *r)
{
	free(r->gr_rows);
	free(r->gr_gaps);
	r->gr_rows = NULL;
	r->gr_gaps = NULL;
	r->gr_nrows = r->gr_ngaps = 0;
}

bool gate_failed(const struct gate_result *r)
{
	return r->gr_failures > 0 || r->gr_gap_failures > 0;
}

void gate_gap_text(char *buf, size_t len, const struct gate_doc *cur, const struct gate_gap *g)
{
	if (g->gg_point == NULL)
		snprintf(buf, len, "%s is an interrupted run: points or trials may be missing", cur->gd_file);
	else if (g->gg_metric == NULL)
		snprintf(buf, len, "point %u (%s): missing from the current run", g->gg_point->gp_index, g->gg_point->gp_label);
	else
		snprintf(buf, len, "point %u (%s): metric %s %s", g->gg_point->gp_index, g->gg_point->gp_label, g->gg_metric,
		    g->gg_no_trials ? "has no completed trial in the current run" : "missing from the current run");
	utf8_cut(buf);
}

/* a string for JSON: paths and labels made valid UTF-8 (utf8_json_string) */
static json_t *jstr(const char *s)
{
	return utf8_json_string(s);
}

/* => 0, or -1 after saying which part of path could not be built (out of memory) */
static int json_built(json_t *v, const char *path, const char *what, unsigned index, const char *name)
{
	if (v != NULL)
		return 0;
	msg_error("gate: %s: cannot build %s %u (%s): out of memory", path, what, index, name);
	return -1;
}

/* v built (else a message) and appended to array a (v is a's after, either way) */
static int json_append(json_t *a, json_t *v, const char *path, const char *what, unsigned index, const char *name)
{
	if (json_built(v, path, what, index, name) != 0)
		return -1;
	return json_array_append_new(a, v) == 0 ? 0 : json_built(NULL, path, what, index, name);
}

/* ---- the noise floor (A/A) ---- */

double gate_threshold_of(const struct gate_options *o, const char *name)
{
	double t = o->go_threshold;
	for (unsigned i = 0; i < o->go_nnoise; i++)
		if (fnmatch(o->go_noise_names[i], name, 0) == 0 && o->go_noise_vals[i] > t)
			t = o->go_noise_vals[i];
	return t;
}

void gate_noise_free(struct gate_options *o)
{
	for (unsigned i = 0; i < o->go_nnoise; i++)
		free(o->go_noise_names[i]);
	free(o->go_noise_names);
	free(o->go_noise_vals);
	o->go_noise_names = NULL;
	o->go_noise_vals = NULL;
	o->go_nnoise = 0;
}

int gate_noise_load(const char *path, struct gate_options *o, char *err, size_t errlen)
{
	json_error_t je;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je), *m;
	if (doc == NULL) {
		/* jansson's line is -1 when the file could not be opened */
		if (je.line > 0)
			snprintf(err, errlen, "%s: line %d: %s", path, je.line, je.text);
		else
			snprintf(err, errlen, "%s: %s", path, je.text);
		return EINVAL;
	}
	int rc = EINVAL;
	json_t *schema = json_object_get(doc, "schema");
	if (!json_is_string(schema) || strcmp(json_string_value(schema), "pmapstorm-noise") != 0) {
		snprintf(err, errlen, "%s: not a noise file (schema is not \"pmapstorm-noise\")", path);
		goto out;
	}
	if (!json_is_object(m = json_object_get(doc, "metrics")) || json_object_size(m) > GATE_MAX_METRICS) {
		snprintf(err, errlen, "%s: metrics: not an object of at most %u entries", path, GATE_MAX_METRICS);
		goto out;
	}
	size_t n = json_object_size(m);
	o->go_noise_names = mem_zalloc(char *, n + 1);
	o->go_noise_vals = mem_zalloc(double, n + 1);
	if (o->go_noise_names == NULL || o->go_noise_vals == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	const char *k;
	json_t *v;
	json_object_foreach(m, k, v)
	{
		if (!json_is_number(v) || !(json_number_value(v) >= 0) || !isfinite(json_number_value(v))) {
			snprintf(err, errlen, "%s: metrics.%.64s: not a fraction >= 0", path, k);
			goto out;
		}
		if ((o->go_noise_names[o->go_nnoise] = dupstr(k)) == NULL) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto out;
		}
		o->go_noise_vals[o->go_nnoise++] = json_number_value(v);
	}
	rc = 0;
out:
	json_decref(doc);
	if (rc != 0)
		gate_noise_free(o);
	return rc;
}

/* the metrics of r's timing rows in first-seen order, with their effects
 * (|ratio - 1|, one per matched point at most) */
struct noise_acc {
	const char *na_name;
	double *na_vals;
	unsigned na_n;
};

static void noise_free(struct noise_acc *acc, unsigned n)
{
	for (unsigned k = 0; acc != NULL && k < n; k++)
		free(acc[k].na_vals);
	free(acc);
}

static struct noise_acc *noise_collect(const struct gate_result *r, unsigned *count)
{
	struct noise_acc *acc = mem_zalloc(struct noise_acc, GATE_MAX_METRICS);
	*count = 0;
	for (unsigned i = 0; acc != NULL && i < r->gr_nrows; i++) {
		const struct gate_row *row = &r->gr_rows[i];
		if (row->gr_det || !isfinite(row->gr_ratio) || row->gr_bm->gm_n == 0 || row->gr_cm->gm_n == 0)
			continue;
		unsigned k = 0;
		while (k < *count && strcmp(acc[k].na_name, row->gr_bm->gm_name))
			k++;
		if (k == *count) {
			if (*count == GATE_MAX_METRICS || (acc[k].na_vals = mem_zalloc(double, r->gr_matched + 1)) == NULL)
				continue;
			acc[(*count)++].na_name = row->gr_bm->gm_name;
		}
		if (acc[k].na_n < r->gr_matched)
			acc[k].na_vals[acc[k].na_n++] = fabs(row->gr_ratio - 1);
	}
	return acc;
}

void gate_print_noise(FILE *f, const struct gate_result *r)
{
	unsigned n;
	struct noise_acc *acc = noise_collect(r, &n);
	if (acc == NULL)
		return;
	fprintf(f, "\nA/A noise: |current / baseline - 1| of the medians, over %u matched point(s)\n", r->gr_matched);
	fprintf(f, "  %-28s %10s %10s\n", "metric", "median", "largest");
	for (unsigned k = 0; k < n; k++) {
		struct samples_stats s = samples_summarize(acc[k].na_vals, acc[k].na_n, false);
		fprintf(f, "  %-28s %9.1f%% %9.1f%%\n", acc[k].na_name, 100 * s.median, 100 * s.max);
	}
	noise_free(acc, n);
}

int gate_noise_write(const char *path, const struct gate_options *o, const struct gate_result *r,
    const struct gate_doc *base, const struct gate_doc *cur)
{
	unsigned n;
	struct noise_acc *acc = noise_collect(r, &n);
	if (acc == NULL)
		return ENOMEM;
	json_t *m = json_object(), *doc = NULL;
	int rc = ENOMEM;
	if (json_built(m, path, "the metrics", 0, "object"))
		goto out;
	for (unsigned i = 0; i < o->go_nnoise; i++)
		if (json_object_set_new(m, o->go_noise_names[i], json_real(o->go_noise_vals[i])) != 0) {
			json_built(NULL, path, "the floor from --noise", i, o->go_noise_names[i]);
			goto out;
		}
	for (unsigned k = 0; k < n; k++) {
		double mx = GATE_NOISE_MARGIN * samples_summarize(acc[k].na_vals, acc[k].na_n, false).max;
		json_t *old = json_object_get(m, acc[k].na_name);
		if ((old == NULL || json_number_value(old) < mx) && json_object_set_new(m, acc[k].na_name, json_real(mx)) != 0) {
			json_built(NULL, path, "the floor of metric", k, acc[k].na_name);
			goto out;
		}
	}
	doc = json_pack("{s:s,s:i,s:s,s:O,s:[o,o]}", "schema", "pmapstorm-noise", "schema_version", 1, "description",
	    "noise floor per metric: 1.5 x the largest relative change of a point's median between runs of the same "
	    "build (pmapstorm gate --aa); gate --noise raises each metric's threshold to it", "metrics", m, "last_pair",
	    jstr(base->gd_file), jstr(cur->gd_file));
	if (!json_built(doc, path, "the document", 0, "top level"))
		rc = atomicfile_write_json(path, doc);
out:
	noise_free(acc, n);
	json_decref(doc);
	json_decref(m);
	return rc;
}

/* ---- reports ---- */

static const char *num(char *buf, size_t len, double v)
{
	if (isinf(v))
		snprintf(buf, len, "%s", v > 0 ? "inf" : "-inf");
	else
		snprintf(buf, len, "%.4g", v);
	return buf;
}

/* "not gated" / "FAIL" / "" for the text and Markdown tables */
static const char *mark(const struct gate_row *row)
{
	return row->gr_fails ? "[FAIL]" : !row->gr_gated ? "[not gated]" : "";
}

static const char *gap_mark(const struct gate_gap *g)
{
	return g->gg_fails ? "[FAIL]" : !g->gg_gated ? "[not gated]" : "[allowed: --allow-missing]";
}

static void ci_text(char *buf, size_t len, const struct gate_row *row)
{
	char a[32], b[32];
	if (row->gr_det)
		snprintf(buf, len, "exact");
	else if (row->gr_have_ci)
		snprintf(buf, len, "[%s, %s]", num(a, sizeof(a), row->gr_ci_lo), num(b, sizeof(b), row->gr_ci_hi));
	else
		snprintf(buf, len, "-");
}

static void heading(FILE *f, const char *pre, const struct gate_doc *base, const struct gate_doc *cur,
    const struct gate_options *o)
{
	fprintf(f, "%sbaseline %s (%s, commit %s)\n", pre, base->gd_file, base->gd_name,
	    base->gd_commit[0] ? base->gd_commit : "?");
	fprintf(f, "%scurrent  %s (%s, commit %s)\n", pre, cur->gd_file, cur->gd_name, cur->gd_commit[0] ? cur->gd_commit : "?");
	fprintf(f, "%sthreshold %.3g%%%s, alpha %.3g%s\n", pre, 100 * o->go_threshold,
	    o->go_nnoise ? " or the metric's noise floor (--noise)" : "", o->go_alpha,
	    o->go_det_only ? "; deterministic counters only (timing printed, not gated)" : "");
}

static void summary_line(FILE *f, const struct gate_result *r)
{
	fprintf(f, "%u point(s) matched (%u only in the baseline, %u only in the current run), %u comparison(s): "
	           "%u regression(s), %u improvement(s), %u changed, %u inconclusive, %u no change; "
	           "%u missing from the current run; %u failing%s\n",
	    r->gr_matched, r->gr_only_base, r->gr_only_cur, r->gr_nrows, r->gr_count[GV_REGRESSION],
	    r->gr_count[GV_IMPROVEMENT], r->gr_count[GV_CHANGED], r->gr_count[GV_INCONCLUSIVE], r->gr_count[GV_NO_CHANGE],
	    r->gr_ngaps, r->gr_failures + r->gr_gap_failures,
	    r->gr_hosts_differ ? "; timings compared across hosts (see notes)" : "");
}

void gate_print_text(FILE *f, const struct gate_doc *base, const struct gate_doc *cur, const struct gate_options *o,
    const struct gate_result *r)
{
	heading(f, "gate: ", base, cur, o);
	const struct gate_point *last = NULL;
	char a[32], b[32], c[32], ci[80];
	for (unsigned i = 0; i < r->gr_nrows; i++) {
		const struct gate_row *row = &r->gr_rows[i];
		if (row->gr_base != last) {
			fprintf(f, "\n%s\n  %-28s %12s %12s %8s %-20s %8s  %s\n", row->gr_base->gp_label, "metric", "baseline",
			    "current", "ratio", "CI of ratio", "p", "verdict");
			last = row->gr_base;
		}
		ci_text(ci, sizeof(ci), row);
		fprintf(f, "  %-28s %12s %12s %8s %-20s %8.3g  %s%s%s (%s)\n", row->gr_bm->gm_name,
		    num(a, sizeof(a), row->gr_med_base), num(b, sizeof(b), row->gr_med_cur), num(c, sizeof(c), row->gr_ratio), ci,
		    row->gr_p, gate_verdict_name(row->gr_verdict), mark(row)[0] ? " " : "", mark(row), row->gr_why);
	}
	if (r->gr_ngaps)
		fputs("\nmissing from the current run:\n", f);
	for (unsigned i = 0; i < r->gr_ngaps; i++) {
		char line[1400];
		gate_gap_text(line, sizeof(line), cur, &r->gr_gaps[i]);
		fprintf(f, "  %s %s\n", line, gap_mark(&r->gr_gaps[i]));
	}
	if (r->gr_notes[0])
		fprintf(f, "\nnotes:\n%s", r->gr_notes);
	fputc('\n', f);
	fputs("gate: ", f);
	summary_line(f, r);
}

/* XML escaped and valid UTF-8 (the prolog says UTF-8; paths are bytes) */
static void xml_text(FILE *f, const char *raw)
{
	char *u = utf8_lossy(raw);
	for (const char *s = u != NULL ? u : "(out of memory)"; *s; s++)
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
				fputc(*s, f);
		}
	free(u);
}

int gate_write_junit(const char *path, const struct gate_doc *base, const struct gate_doc *cur,
    const struct gate_options *o, const struct gate_result *r)
{
	char tmp[4200];
	FILE *f = atomicfile_begin(NULL, path, tmp, sizeof(tmp));
	if (f == NULL)
		return err_env(errno);
	(void)o;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	unsigned tests = r->gr_nrows + r->gr_ngaps, failures = r->gr_failures + r->gr_gap_failures;
	fprintf(f, "<testsuites name=\"pmapstorm gate\" tests=\"%u\" failures=\"%u\">\n", tests, failures);
	/* named in the command's argument order: baseline, then current */
	fprintf(f, "  <testsuite name=\"pmapstorm gate: baseline ");
	xml_text(f, base->gd_file);
	fprintf(f, ", current ");
	xml_text(f, cur->gd_file);
	unsigned skipped = 0;
	for (unsigned i = 0; i < r->gr_nrows; i++)
		skipped += !r->gr_rows[i].gr_gated || r->gr_rows[i].gr_verdict == GV_INCONCLUSIVE;
	for (unsigned i = 0; i < r->gr_ngaps; i++)
		skipped += !r->gr_gaps[i].gg_fails;
	fprintf(f, "\" tests=\"%u\" failures=\"%u\" skipped=\"%u\">\n", tests, failures, skipped);
	for (unsigned i = 0; i < r->gr_nrows; i++) {
		const struct gate_row *row = &r->gr_rows[i];
		char line[512], a[32], b[32], c[32], ci[80];
		ci_text(ci, sizeof(ci), row);
		snprintf(line, sizeof(line), "%s: baseline %s, current %s, ratio %s, CI %s, p %.3g (%s)",
		    gate_verdict_name(row->gr_verdict), num(a, sizeof(a), row->gr_med_base), num(b, sizeof(b), row->gr_med_cur),
		    num(c, sizeof(c), row->gr_ratio), ci, row->gr_p, row->gr_why);
		fprintf(f, "    <testcase classname=\"");
		xml_text(f, row->gr_base->gp_label);
		fprintf(f, "\" name=\"");
		xml_text(f, row->gr_bm->gm_name);
		fprintf(f, "\">");
		if (row->gr_fails) {
			fprintf(f, "<failure message=\"");
			xml_text(f, line);
			fprintf(f, "\" type=\"%s\"/>", row->gr_verdict == GV_CHANGED ? "changed" : "regression");
		} else if (!row->gr_gated || row->gr_verdict == GV_INCONCLUSIVE) {
			fprintf(f, "<skipped message=\"");
			xml_text(f, row->gr_gated ? line : "not gated (timing; --deterministic-only)");
			fprintf(f, "\"/>");
		}
		fprintf(f, "<system-out>");
		xml_text(f, line);
		fprintf(f, "</system-out></testcase>\n");
	}
	/* a gap: a test case that could not run, failed unless --allow-missing */
	for (unsigned i = 0; i < r->gr_ngaps; i++) {
		const struct gate_gap *g = &r->gr_gaps[i];
		char line[1400];
		gate_gap_text(line, sizeof(line), cur, g);
		fprintf(f, "    <testcase classname=\"");
		xml_text(f, g->gg_point != NULL ? g->gg_point->gp_label : cur->gd_file);
		fprintf(f, "\" name=\"");
		xml_text(f, g->gg_point == NULL ? "(interrupted run)" : g->gg_metric != NULL ? g->gg_metric : "(point)");
		fprintf(f, "\"><%s message=\"", g->gg_fails ? "failure" : "skipped");
		xml_text(f, line);
		fprintf(f, "\"%s/></testcase>\n", g->gg_fails ? " type=\"missing\"" : "");
	}
	fprintf(f, "  </testsuite>\n</testsuites>\n");
	return atomicfile_commit(f, NULL, path, tmp);
}

static void md_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (strchr("\\`*_[]<>|", *s) != NULL)
			fputc('\\', f);
		fputc(*s == '\n' ? ' ' : *s, f);
	}
}

static void md_cell(FILE *f, const char *s)
{
	fputc(' ', f);
	md_text(f, s);
	fputs(" |", f);
}

int gate_write_markdown(const char *path, const struct gate_doc *base, const struct gate_doc *cur,
    const struct gate_options *o, const struct gate_result *r)
{
	char tmp[4200];
	FILE *f = atomicfile_begin(NULL, path, tmp, sizeof(tmp));
	if (f == NULL)
		return err_env(errno);
	fprintf(f, "## pmapstorm gate: %s\n\n", gate_failed(r) ? "FAILED" : "passed");
	heading(f, "- ", base, cur, o);
	fputs("- ", f);
	summary_line(f, r);
	fputs("\n| point | metric | baseline | current | ratio | CI of ratio | p | verdict | |\n"
	      "| --- | --- | ---: | ---: | ---: | --- | ---: | --- | --- |\n", f);
	for (unsigned i = 0; i < r->gr_nrows; i++) {
		const struct gate_row *row = &r->gr_rows[i];
		char a[32], b[32], c[32], ci[80], p[32], v[256];
		ci_text(ci, sizeof(ci), row);
		snprintf(p, sizeof(p), "%.3g", row->gr_p);
		snprintf(v, sizeof(v), "%s (%s)", gate_verdict_name(row->gr_verdict), row->gr_why);
		fputc('|', f);
		md_cell(f, row->gr_base->gp_label);
		md_cell(f, row->gr_bm->gm_name);
		md_cell(f, num(a, sizeof(a), row->gr_med_base));
		md_cell(f, num(b, sizeof(b), row->gr_med_cur));
		md_cell(f, num(c, sizeof(c), row->gr_ratio));
		md_cell(f, ci);
		md_cell(f, p);
		md_cell(f, v);
		md_cell(f, mark(row));
		fputc('\n', f);
	}
	if (r->gr_ngaps)
		fputs("\nMissing from the current run:\n\n", f);
	for (unsigned i = 0; i < r->gr_ngaps; i++) {
		char line[1400];
		gate_gap_text(line, sizeof(line), cur, &r->gr_gaps[i]);
		fputs("- ", f);
		md_text(f, line);
		fputc(' ', f);
		md_text(f, gap_mark(&r->gr_gaps[i]));
		fputc('\n', f);
	}
	if (r->gr_notes[0]) {
		fputs("\nNotes:\n\n", f);
		for (const char *s = r->gr_notes; *s;) {
			size_t n = strcspn(s, "\n");
			fprintf(f, "- %.*s\n", (int)n, s);
			s += n + (s[n] == '\n');
		}
	}
	return atomicfile_commit(f, NULL, path, tmp);
}

static json_t *num_json(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

int gate_write_json(const char *path, const struct gate_doc *base, const struct gate_doc *cur,
    const struct gate_options *o, const struct gate_result *r)
{
	json_t *rows = json_array(), *missing = json_array(), *notes = json_array(), *doc = NULL;
	int rc = ENOMEM;
	if (json_built(rows, path, "the rows", 0, "array") || json_built(missing, path, "the gaps", 0, "array") ||
	    json_built(notes, path, "the notes", 0, "array"))
		goto out;
	for (unsigned i = 0; i < r->gr_nrows; i++) {
		const struct gate_row *row = &r->gr_rows[i];
		json_t *jr = json_pack("{s:o,s:i,s:i,s:o,s:o,s:s,s:b,s:b,s:b,s:i,s:i,s:o,s:o,s:o,s:f,s:s,s:s}", "point",
		    jstr(row->gr_base->gp_label), "baseline_index", row->gr_base->gp_index, "current_index",
		    row->gr_cur->gp_index, "metric", jstr(row->gr_bm->gm_name), "unit", jstr(row->gr_bm->gm_unit), "better",
		    row->gr_bm->gm_better > 0 ? "higher" : row->gr_bm->gm_better < 0 ? "lower" : "none", "deterministic",
		    row->gr_det, "gated", row->gr_gated, "fails", row->gr_fails, "n_baseline", row->gr_bm->gm_n, "n_current",
		    row->gr_cm->gm_n, "median_baseline", num_json(row->gr_med_base), "median_current",
		    num_json(row->gr_med_cur), "ratio", num_json(row->gr_ratio), "p", row->gr_p, "verdict",
		    gate_verdict_name(row->gr_verdict), "why", row->gr_why);
		if (jr != NULL && row->gr_have_ci &&
		    json_object_set_new(jr, "ci", json_pack("[o,o]", num_json(row->gr_ci_lo), num_json(row->gr_ci_hi))) != 0)
			json_decref(jr), jr = NULL;
		if (jr != NULL && row->gr_verdict == GV_INCONCLUSIVE &&
		    json_object_set_new(jr, "trials_needed", json_integer(row->gr_need)) != 0)
			json_decref(jr), jr = NULL;
		if (json_append(rows, jr, path, "row", i, row->gr_bm->gm_name) != 0)
			goto out;
	}
	for (unsigned i = 0; i < r->gr_ngaps; i++) {
		const struct gate_gap *g = &r->gr_gaps[i];
		char line[1400];
		gate_gap_text(line, sizeof(line), cur, g);
		json_t *jg = json_pack("{s:o,s:o,s:o,s:o,s:b,s:b}", "point",
		    g->gg_point != NULL ? jstr(g->gg_point->gp_label) : json_null(), "baseline_index",
		    g->gg_point != NULL ? json_integer(g->gg_point->gp_index) : json_null(), "metric",
		    g->gg_metric != NULL ? jstr(g->gg_metric) : json_null(), "what", jstr(line), "gated", g->gg_gated, "fails",
		    g->gg_fails);
		if (json_append(missing, jg, path, "missing item", i, line) != 0)
			goto out;
	}
	for (const char *s = r->gr_notes; *s;) {
		size_t n = strcspn(s, "\n");
		char line[sizeof(r->gr_notes)];
		snprintf(line, sizeof(line), "%.*s", (int)n, s);
		json_t *jn = jstr(line);
		if (json_append(notes, jn, path, "note", (unsigned)json_array_size(notes), line) != 0)
			goto out;
		s += n + (s[n] == '\n');
	}
	/* "exit": a field of the report's format since it began, the verdict as
	 * `pmapstorm gate` exits on it (1 fails, 0 passes; a report that cannot
	 * be written is the command's business) */
	doc = json_pack("{s:s,s:i,s:o,s:o,s:f,s:f,s:b,s:b,s:i,s:{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i},s:O,s:O,s:O}",
	    "schema", "pmapstorm-gate", "schema_version", 1, "baseline", jstr(base->gd_file), "current", jstr(cur->gd_file),
	    "threshold", o->go_threshold, "alpha", o->go_alpha, "deterministic_only", o->go_det_only, "allow_missing",
	    o->go_allow_missing, "exit", gate_failed(r) ? 1 : 0, "summary", "matched_points", r->gr_matched,
	    "only_in_baseline", r->gr_only_base, "only_in_current", r->gr_only_cur, "regressions",
	    r->gr_count[GV_REGRESSION], "improvements", r->gr_count[GV_IMPROVEMENT], "changed", r->gr_count[GV_CHANGED],
	    "inconclusive", r->gr_count[GV_INCONCLUSIVE], "no_change", r->gr_count[GV_NO_CHANGE], "missing", r->gr_ngaps,
	    "failing_missing", r->gr_gap_failures, "failing", r->gr_failures + r->gr_gap_failures, "rows", rows, "missing",
	    missing, "notes", notes);
	if (!json_built(doc, path, "the document", 0, "top level"))
		rc = atomicfile_write_json(path, doc);
out:
	json_decref(doc);
	json_decref(rows);
	json_decref(missing);
	json_decref(notes);
	return rc;
}

/* ---- RUN arguments (gate, export) ---- */

void gate_input_path(const char *arg, char *buf, size_t len)
{
	FILE *f = NULL;
	if (path_join(buf, len, arg, "run.json") == 0 && (f = fopen(buf, "rb")) != NULL)
		fclose(f);
	else
		snprintf(buf, len, "%s", arg);
}
