/*
 * shard.c — `pmapstorm run --shard K/N`: which trials of a run are whose
 * (shard.h says how the slices are cut and why), and what a run.json says
 * about the hosts its trials ran on, for the report and the gate.
 *
 * The slices must come out the same on every host: they depend only on
 * the seeded order and the points' estimated costs, and the costs are
 * added as whole microseconds, so no host's floating point can tip a tie.
 */
#include "trials/shard.h"
#include "common/msg.h"
#include "common/utf8.h"
#include "trials/driver.h"

#include <pmapstorm/alloc.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* a whole number of at most 9 digits, nothing else: 0, or -1 */
static int parse_count(const char *s, size_t len, unsigned *out)
{
	if (len == 0 || len > 9)
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static const char shard_forms[] = "K/N (shard K of N, K from 1), env:VAR/N or env:VAR+1/N (VAR counting from 0)";

int shard_parse(const char *arg, struct shard_spec *out)
{
	memset(out, 0, sizeof(*out));
	const char *slash = strrchr(arg, '/');
	unsigned n, k;
	if (slash == NULL || parse_count(slash + 1, strlen(slash + 1), &n) != 0 || n == 0 || n > SHARD_MAX) {
		msg_error("--shard %s: expected %s, with N a whole number from 1 to %u", arg, shard_forms, SHARD_MAX);
		return EINVAL;
	}
	if (strncmp(arg, "env:", 4) != 0) {
		if (parse_count(arg, (size_t)(slash - arg), &k) != 0 || k < 1 || k > n) {
			msg_error("--shard %s: K must be a whole number from 1 to %u (shard K of N; shards count from 1)%s", arg,
			    n, strncmp(arg, "0/", 2) == 0 ? "; for an index that counts from 0, use env:VAR+1/N" : "");
			return EINVAL;
		}
		out->sh_index = k;
		out->sh_count = n;
		snprintf(out->sh_how, sizeof(out->sh_how), "%u/%u", k, n);
		return 0;
	}
	/* env:VAR/N or env:VAR+1/N */
	const char *var = arg + 4;
	size_t vlen = (size_t)(slash - var);
	unsigned plus = 0;
	if (vlen > 2 && !strncmp(slash - 2, "+1", 2)) {
		plus = 1;
		vlen -= 2;
	}
	bool name_ok = vlen > 0 && vlen < 128 && (isalpha((unsigned char)var[0]) || var[0] == '_');
	for (size_t i = 0; name_ok && i < vlen; i++)
		name_ok = isalnum((unsigned char)var[i]) || var[i] == '_';
	if (!name_ok) {
		msg_error("--shard %s: '%.*s' is not an environment variable's name (expected %s)", arg, (int)vlen, var,
		    shard_forms);
		return EINVAL;
	}
	char name[128];
	snprintf(name, sizeof(name), "%.*s", (int)vlen, var);
	const char *val = getenv(name);
	if (val == NULL || val[0] == '\0') {
		msg_error("--shard %s: the environment variable %s is not set (the scheduler sets it in each task: "
		    "SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, a CI matrix variable)", arg, name);
		return EINVAL;
	}
	unsigned v;
	if (parse_count(val, strlen(val), &v) != 0) {
		msg_error("--shard %s: %s='%.64s' is not a whole number", arg, name, val);
		return EINVAL;
	}
	k = v + plus;
	if (k < 1 || k > n) {
		msg_error("--shard %s: %s=%u gives shard %u, not one of 1 to %u%s", arg, name, v, k, n,
		    !plus && v == 0 ? " (an index that counts from 0? write env:VAR+1/N)"
		    : plus && v == n ? " (an index that counts from 1? write env:VAR/N)" : "");
		return EINVAL;
	}
	out->sh_index = k;
	out->sh_count = n;
	snprintf(out->sh_how, sizeof(out->sh_how), "env:%s%s/%u (%s=%u)", name, plus ? "+1" : "", n, name, v);
	return 0;
}

double shard_trial_cost(const struct exp_point *pt)
{
	/* warm-up and window as configured, and about 50 ms of boot and
	 * teardown: what `run` has always estimated a trial at.  In virtual
	 * time the window is virtual: a virtual second of N simulated CPUs took
	 * about 3 + 30 N + 0.15 N^2 host seconds on this project's 2-core host,
	 * quiet, and a trial's set-up about N^2 ms more (netbsd-x86, the
	 * costliest common case, at 16-256 CPUs: docs/engine.md, "Speed";
	 * every hand-off between CPUs is one, and with many waiters each
	 * change wakes them all) */
	double window = pt->ep_warmup_s + pt->ep_duration_s, extra = 0.05;
	if (pt->ep_cfg.mc_engine == MACHINE_ENGINE_VIRTUAL) {
		double n = pt->ep_cfg.mc_ncpu;
		window *= 3.0 + 30.0 * n + 0.15 * n * n;
		extra += 1e-3 * n * n;
	}
	return window + extra;
}

static uint64_t cost_us(double s)
{
	return s <= 0 ? 0 : s >= 1e12 ? (uint64_t)1e18 : (uint64_t)(s * 1e6 + 0.5);
}

int shard_assign(const struct order_item *order, unsigned total, const double *cost, unsigned npoints,
    unsigned nshards, unsigned *owner)
{
	if (total == 0)
		return 0;
	/* more shards than trials: the rule gives trial k to shard k, so only
	 * the first `total` shards can get any */
	unsigned neff = nshards < total ? nshards : total;
	size_t words = (neff + 63) / 64;
	uint64_t *load = mem_zalloc(uint64_t, neff);
	uint64_t *used = mem_zalloc(uint64_t, (size_t)npoints * words); /* shards holding a trial of the point this round */
	unsigned *nused = mem_zalloc(unsigned, npoints);
	if (load == NULL || used == NULL || nused == NULL) {
		free(load);
		free(used);
		free(nused);
		return ENOMEM;
	}
	for (unsigned k = 0; k < total; k++) {
		unsigned p = order[k].oi_point;
		uint64_t *u = &used[(size_t)p * words];
		/* a round: every shard got one trial of p; the next round starts */
		if (nused[p] == neff) {
			memset(u, 0, words * sizeof(*u));
			nused[p] = 0;
		}
		unsigned best = UINT_MAX;
		for (unsigned s = 0; s < neff; s++)
			if (!((u[s / 64] >> (s % 64)) & 1) && (best == UINT_MAX || load[s] < load[best]))
				best = s;
		u[best / 64] |= 1ULL << (best % 64);
		nused[p]++;
		load[best] += cost_us(cost[p]);
		owner[k] = best;
	}
	free(load);
	free(used);
	free(nused);
	return 0;
}

/* the experiment file, whole: merge checks that every shard ran the same */
static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		msg_error("run: --shard: cannot read %s again (%s)", path, strerror(errno));
		return NULL;
	}
	char *buf = mem_alloc(char, SHARD_TEXT_MAX + 1);
	size_t n = buf != NULL ? fread(buf, 1, SHARD_TEXT_MAX + 1, f) : 0;
	bool bad = ferror(f);
	fclose(f);
	if (buf == NULL || bad || n > SHARD_TEXT_MAX || memchr(buf, '\0', n) != NULL) {
		msg_error("run: --shard: %s: %s", path, buf == NULL ? "out of memory" : bad ? "read error"
		    : n > SHARD_TEXT_MAX ? "larger than 1 MiB, too large to record in run.json" : "holds a NUL byte");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

void shard_engine(const struct machine_config *cfg, char *buf, size_t len)
{
	/* machine.engine is issued separately; until a build has it, every
	 * trial runs on real threads */
	if (machine_config_get(cfg, "machine.engine", buf, len) != 0)
		snprintf(buf, len, "threads");
}

/* values that each host resolves for itself: the shards of unlike hosts
 * would resolve other points, and merge refuses them (naming the key) */
static void warn_host_values(const struct experiment *ex, const struct exp_point *points, const char *text)
{
	bool host_cpus = false, calibrated = false;
	/* "cpus = 1..host" is expanded when the file is read: look at the file
	 * (a role's CPU set never says "host"), unless --set gave machine.cpus */
	for (const char *l = exp_key_line(ex, "machine.cpus") >= 0 ? text : NULL; l != NULL && *l != '\0';
	     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		size_t len = strcspn(l, "\n"), eq = strcspn(l, "=\n");
		char line[256];
		snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) - 1 ? len : sizeof(line) - 1), l);
		line[strcspn(line, ";#")] = '\0';
		const char *key = line + strspn(line, " \t");
		if (eq < len && (!strncmp(key, "cpus", 4) || !strncmp(key, "machine.cpus", 12)) && strstr(line + eq, "host"))
			host_cpus = true;
	}
	for (unsigned p = 0; p < ex->ex_npoints; p++)
		calibrated |= points[p].ep_cfg.mc_ipi_preset == IPI_PRESET_CALIBRATED;
	if (host_cpus)
		fprintf(stderr, "pmapstorm run: warning: --shard: machine.cpus names 'host', which every host resolves to its "
		    "own PU count: shards on hosts with other counts will not merge; give the CPU counts explicitly "
		    "(--set machine.cpus=1,2,4)\n");
	if (calibrated)
		fprintf(stderr, "pmapstorm run: warning: --shard: ipi.preset = calibrated takes the IPI costs from this "
		    "host's %s: give every shard the same file (calibrate once, copy it), or the shards will not merge\n",
		    points[0].ep_cfg.mc_ipi_calibration);
}

int shard_plan(struct shard_spec *s, const struct order_item *order, unsigned total, const struct experiment *ex,
    const struct exp_point *points)
{
	unsigned npoints = ex->ex_npoints;
	const char *path = ex->ex_path;
	double *cost = mem_alloc(double, npoints + 1);
	unsigned *owner = mem_alloc(unsigned, total + 1);
	s->sh_mine = mem_zalloc(unsigned char, total + 1);
	s->sh_trials = mem_alloc(struct order_item, total + 1);
	int rc = 0;
	if (cost == NULL || owner == NULL || s->sh_mine == NULL || s->sh_trials == NULL) {
		msg_error("run: --shard: out of host memory for %u trials", total);
		rc = ENOMEM;
		goto out;
	}
	for (unsigned p = 0; p < npoints; p++)
		cost[p] = shard_trial_cost(&points[p]);
	if (shard_assign(order, total, cost, npoints, s->sh_count, owner) != 0) {
		msg_error("run: --shard: out of host memory for %u trials", total);
		rc = ENOMEM;
		goto out;
	}
	s->sh_total = total;
	s->sh_ntrials = 0;
	s->sh_cost = s->sh_total_cost = 0;
	for (unsigned k = 0; k < total; k++) {
		s->sh_total_cost += cost[order[k].oi_point];
		if (owner[k] != s->sh_index - 1)
			continue;
		s->sh_mine[k] = 1;
		s->sh_trials[s->sh_ntrials++] = order[k];
		s->sh_cost += cost[order[k].oi_point];
	}
	/* the engines of the points, as one word when they agree */
	s->sh_engine[0] = '\0';
	for (unsigned p = 0; p < npoints; p++) {
		char e[32];
		shard_engine(&points[p].ep_cfg, e, sizeof(e));
		size_t l = strlen(e), have = strlen(s->sh_engine);
		bool seen = false;
		for (const char *q = s->sh_engine; !seen && (q = strstr(q, e)) != NULL; q += l)
			seen = (q == s->sh_engine || q[-1] == ',') && (q[l] == '\0' || q[l] == ',');
		if (!seen && have + l + 2 < sizeof(s->sh_engine))
			snprintf(s->sh_engine + have, sizeof(s->sh_engine) - have, "%s%s", have ? "," : "", e);
	}
	if ((s->sh_text = read_text(path)) == NULL)
		rc = ENOMEM;
	else
		warn_host_values(ex, points, s->sh_text);
out:
	free(cost);
	free(owner);
	return rc;
}

void shard_free(struct shard_spec *s)
{
	free(s->sh_text);
	free(s->sh_mine);
	free(s->sh_trials);
	s->sh_text = NULL;
	s->sh_mine = NULL;
	s->sh_trials = NULL;
}

void shard_folder_name(const struct shard_spec *s, const char *name, char *buf, size_t len)
{
	if (s != NULL && s->sh_count > 0)
		snprintf(buf, len, "%s-shard%uof%u", name, s->sh_index, s->sh_count);
	else
		snprintf(buf, len, "%s", name);
}

json_t *shard_json(const struct shard_spec *s)
{
	json_t *trials = json_array();
	for (unsigned i = 0; i < s->sh_ntrials; i++)
		json_array_append_new(trials, json_pack("[i,i]", (int)s->sh_trials[i].oi_point, (int)s->sh_trials[i].oi_trial));
	json_t *text = utf8_json_string(s->sh_text != NULL ? s->sh_text : "");
	return json_pack("{s:i,s:i,s:s,s:s,s:o*,s:o,s:i,s:f,s:f}", "index", (int)s->sh_index, "count", (int)s->sh_count,
	    "given_as", s->sh_how, "engine", s->sh_engine[0] ? s->sh_engine : "threads", "experiment_text", text,
	    "trials", trials, "total_trials", (int)s->sh_total, "estimated_s", s->sh_cost, "total_estimated_s",
	    s->sh_total_cost);
}

/* ---- where a run.json's trials ran ---- */

static const char *str_at(const json_t *o, const char *key)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static unsigned uint_at(const json_t *o, const char *key)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	return json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) <= INT_MAX
	           ? (unsigned)json_integer_value(v) : 0;
}

/* one point's comparison (facet, CPU count), and where its trials ran */
struct host_group {
	const char *hg_facet, *hg_cpus;
	const char *hg_host; /* the first trial's host; NULL: no trial */
	bool hg_mixed;       /* a later trial ran elsewhere */
};

static int cmp_group(const void *a, const void *b)
{
	const struct host_group *x = a, *y = b;
	int c = strcmp(x->hg_facet, y->hg_facet);
	return c != 0 ? c : strcmp(x->hg_cpus, y->hg_cpus);
}

void shard_doc_hosts(const json_t *doc, struct shard_hosts *hs)
{
	memset(hs, 0, sizeof(*hs));
	if (!json_is_object(doc))
		return;
	const json_t *sh = json_object_get(doc, "shard"), *mg = json_object_get(doc, "merged");
	if (json_is_object(sh)) {
		hs->hs_shard = uint_at(sh, "index");
		hs->hs_of = uint_at(sh, "count");
	}
	if (json_is_object(mg))
		hs->hs_merged = uint_at(mg, "count");
	const json_t *points = json_object_get(doc, "points");
	size_t np = json_is_array(points) ? json_array_size(points) : 0;
	struct host_group *g = np > 0 ? mem_zalloc(struct host_group, np) : NULL;
	bool overflow = false;
	for (size_t p = 0; p < np; p++) {
		const json_t *pt = json_array_get(points, p), *cfg = json_is_object(pt) ? json_object_get(pt, "config") : NULL;
		const char *engine = str_at(cfg, "machine.engine");
		if (json_is_object(pt) && (engine == NULL || strcmp(engine, "virtual") != 0))
			hs->hs_host_timing = true;
		if (g != NULL) {
			g[p].hg_facet = str_at(pt, "facet") != NULL ? str_at(pt, "facet") : "";
			g[p].hg_cpus = str_at(cfg, "machine.cpus") != NULL ? str_at(cfg, "machine.cpus") : "";
		}
		const json_t *trials = json_is_object(pt) ? json_object_get(pt, "trials") : NULL;
		for (size_t t = 0; json_is_array(trials) && t < json_array_size(trials); t++) {
			const json_t *host = json_object_get(json_array_get(trials, t), "host");
			const char *name = str_at(host, "name");
			if (name == NULL)
				continue;
			if (g != NULL) {
				if (g[p].hg_host == NULL)
					g[p].hg_host = name;
				else if (strcmp(g[p].hg_host, name) != 0)
					g[p].hg_mixed = true;
			}
			unsigned i = 0;
			while (i < hs->hs_nhosts && i < SHARD_MAX_HOSTS && strncmp(hs->hs_name[i], name, sizeof(hs->hs_name[i]) - 1))
				i++;
			if (i < hs->hs_nhosts && i < SHARD_MAX_HOSTS) {
				hs->hs_trials[i]++;
				continue;
			}
			if (hs->hs_nhosts < SHARD_MAX_HOSTS) {
				/* kept sorted, so that two runs on the same hosts name them alike */
				unsigned at = 0;
				while (at < hs->hs_nhosts && strncmp(hs->hs_name[at], name, sizeof(hs->hs_name[at]) - 1) < 0)
					at++;
				memmove(&hs->hs_name[at + 1], &hs->hs_name[at], (hs->hs_nhosts - at) * sizeof(hs->hs_name[0]));
				memmove(&hs->hs_trials[at + 1], &hs->hs_trials[at], (hs->hs_nhosts - at) * sizeof(hs->hs_trials[0]));
				snprintf(hs->hs_name[at], sizeof(hs->hs_name[at]), "%s", name);
				utf8_cut(hs->hs_name[at]);
				hs->hs_trials[at] = 1;
				hs->hs_nhosts++;
			} else
				overflow = true;
		}
	}
	if (overflow)
		hs->hs_nhosts++; /* at least one more, not named */
	if (g != NULL) {
		qsort(g, np, sizeof(*g), cmp_group);
		for (size_t i = 0; i < np;) {
			size_t j = i;
			const char *first = NULL;
			bool mixed = false;
			for (; j < np && cmp_group(&g[i], &g[j]) == 0; j++) {
				mixed |= g[j].hg_mixed;
				if (g[j].hg_host != NULL && first == NULL)
					first = g[j].hg_host;
				else if (g[j].hg_host != NULL && strcmp(first, g[j].hg_host) != 0)
					mixed = true;
			}
			hs->hs_groups++;
			hs->hs_mixed += mixed;
			i = j;
		}
	}
	free(g);
}

void shard_hosts_names(const struct shard_hosts *hs, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	unsigned named = hs->hs_nhosts < SHARD_MAX_HOSTS ? hs->hs_nhosts : SHARD_MAX_HOSTS;
	for (unsigned i = 0; i < named && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", hs->hs_name[i]);
	if (hs->hs_nhosts > named && n < len)
		snprintf(buf + n, len - n, " and more");
	if (hs->hs_nhosts == 0)
		snprintf(buf, len, "none");
}

/* "node1 (8 trials), node2 (8 trials)" */
static void hosts_counted(const struct shard_hosts *hs, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	unsigned named = hs->hs_nhosts < SHARD_MAX_HOSTS ? hs->hs_nhosts : SHARD_MAX_HOSTS;
	for (unsigned i = 0; i < named && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s (%u trial%s)", i ? ", " : "", hs->hs_name[i], hs->hs_trials[i],
		    hs->hs_trials[i] == 1 ? "" : "s");
	if (hs->hs_nhosts > named && n < len)
		snprintf(buf + n, len - n, ", and more not named");
}

static struct shard_note *note_add(struct shard_note *out, unsigned *n, unsigned max, const char *title)
{
	if (*n >= max)
		return NULL;
	struct shard_note *sn = &out[(*n)++];
	snprintf(sn->sn_title, sizeof(sn->sn_title), "%s", title);
	sn->sn_text[0] = '\0';
	return sn;
}

unsigned shard_report_notes(const json_t *doc, enum shard_note_kind kind, struct shard_note *out, unsigned max)
{
	struct shard_hosts hs;
	shard_doc_hosts(doc, &hs);
	unsigned n = 0;
	struct shard_note *sn;
	char hosts[1024];
	hosts_counted(&hs, hosts, sizeof(hosts));
	bool several = hs.hs_nhosts > 1 && hs.hs_host_timing;
	const json_t *sh = json_object_get(doc, "shard"), *mg = json_object_get(doc, "merged");
	switch (kind) {
	case SN_ANSWER:
		if (several && (sn = note_add(out, &n, max, "")) != NULL)
			snprintf(sn->sn_text, sizeof(sn->sn_text), "These timings come from %u hosts (%s)%s; see Warnings: "
			    "deterministic counters compare across hosts, timings only as far as the hosts are alike.",
			    hs.hs_nhosts, hosts, hs.hs_mixed ? ", and some strategies were compared across them" : "");
		if (hs.hs_of > 0 && (sn = note_add(out, &n, max, "")) != NULL)
			snprintf(sn->sn_text, sizeof(sn->sn_text), "This is shard %u of %u: %u of the run's %u trials. "
			    "pmapstorm merge OUT DIR... of all %u shard folders gives the whole run.", hs.hs_shard, hs.hs_of,
			    (unsigned)json_array_size(json_object_get(sh, "trials")), uint_at(sh, "total_trials"), hs.hs_of);
		break;
	case SN_WHAT_RAN:
		if (hs.hs_merged > 0 && (sn = note_add(out, &n, max, "Shards")) != NULL) {
			const json_t *shards = json_object_get(mg, "shards");
			size_t l = (size_t)snprintf(sn->sn_text, sizeof(sn->sn_text), "merged from %u shards (pmapstorm merge, "
			    "run.json's \"merged\" says where each ran): ", hs.hs_merged);
			for (size_t i = 0; json_is_array(shards) && i < json_array_size(shards) && l < sizeof(sn->sn_text); i++) {
				const json_t *e = json_array_get(shards, i);
				l += (size_t)snprintf(sn->sn_text + l, sizeof(sn->sn_text) - l, "%s%u/%u on %s (%u trials)",
				    i ? ", " : "", uint_at(e, "index"), hs.hs_merged, str_at(e, "host") ? str_at(e, "host") : "?",
				    uint_at(e, "completed"));
			}
			utf8_cut(sn->sn_text);
		}
		if (hs.hs_of > 0 && (sn = note_add(out, &n, max, "Shard")) != NULL)
			snprintf(sn->sn_text, sizeof(sn->sn_text), "%u of %u (--shard %s): %u of the run's %u trials, "
			    "estimated %.1f s of %.1f s", hs.hs_shard, hs.hs_of, str_at(sh, "given_as") ? str_at(sh, "given_as") : "?",
			    (unsigned)json_array_size(json_object_get(sh, "trials")), uint_at(sh, "total_trials"),
			    json_number_value(json_object_get(sh, "estimated_s")),
			    json_number_value(json_object_get(sh, "total_estimated_s")));
		if (hs.hs_nhosts > 1 && (sn = note_add(out, &n, max, "Hosts")) != NULL)
			snprintf(sn->sn_text, sizeof(sn->sn_text), "the trials ran on %u hosts: %s; each trial's host is in "
			    "run.json (points[].trials[].host)", hs.hs_nhosts, hosts);
		break;
	case SN_WARNING:
		if (several && (sn = note_add(out, &n, max, "Timings from several hosts")) != NULL)
			snprintf(sn->sn_text, sizeof(sn->sn_text), "the trials ran on %u hosts (%s). In %u of %u comparisons "
			    "(a facet at one CPU count) the trials come from more than one host, so their timings (ops_per_s, "
			    "update_cost, latencies) mix the hosts' speeds: the shards give every point the same share of each "
			    "host, but a difference between hosts is noise the U tests do not know about. Deterministic "
			    "counters (IPIs per update, pages per request, errors) do not depend on the host. Compare timings "
			    "from one host, or shard over identical hosts.", hs.hs_nhosts, hosts, hs.hs_mixed, hs.hs_groups);
		if (json_is_true(json_object_get(mg, "host_topologies_differ")) &&
		    (sn = note_add(out, &n, max, "Host topologies differ")) != NULL)
			snprintf(sn->sn_text, sizeof(sn->sn_text), "the shards' hosts have different topologies: with "
			    "machine.topology = host, a trial's placement, hier's groups, hop levels and NUMA placement are "
			    "those of the host it ran on (each point's topology in run.json is the first shard's that ran it)");
		if (hs.hs_of > 0 && (sn = note_add(out, &n, max, "One shard of a run")) != NULL)
			snprintf(sn->sn_text, sizeof(sn->sn_text), "this folder is shard %u of %u and holds only its slice of "
			    "the trials; points with no trial here are in other shards. Merge all %u shard folders "
			    "(pmapstorm merge OUT DIR...) for the whole run's answer.", hs.hs_shard, hs.hs_of, hs.hs_of);
		break;
	}
	return n;
}
