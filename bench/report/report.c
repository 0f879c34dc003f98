/*
 * report.c — report.md and index.html of a results folder: the answer to
 * "which strategy, for which workload mix, and why".
 *
 * What a reader needs first is the answer; then what ran (with the IPI
 * cost model and where it came from), what to distrust, the evidence, and
 * the plots.  Sections:
 *   Answer     one line per workload mix: the winner, how far ahead, and
 *              which other strategies it cannot be told apart from;
 *   What ran   experiment, overrides, points x trials, IPI costs, host;
 *   Warnings   oversubscribed host, noisy trials (with the host's usage
 *              that explains them), statistics off, interruption, errors;
 *   Findings   per facet (a mix and the other swept values but strategy
 *              and CPU count): the ranking by the facet's primary metric,
 *              with medians, quartiles and rank tests against the winner
 *              and the baseline; why, from the counters that explain it;
 *              how each side of a mix slows the other; what flips the
 *              ranking (the other swept values: CPUs, kmem.poolpage, ...);
 *   Metrics    per facet and CPU count, every metric that is not 0
 *              everywhere: each strategy's median [q1, q3], its ratio to
 *              the baseline and the Holm-corrected p-value; "n/a" where a
 *              metric does not apply (trials/metrics.c), never 0;
 *   Lock contention  the call sites that waited longest (lockstat -s);
 *   Plots, Points, Glossary (each metric's definition, from metrics.c).
 * Both files carry the same content, written in one pass through a tiny
 * document model (heading, paragraph, list, table, image) with a Markdown
 * and an HTML back end.  index.html is self-contained: the plots are inline
 * (base64 PNG), so a CI artifact viewer shows it whole.
 *
 * Statistics (common/samples.c, shared with run.json and the gate): medians and
 * quartiles over trials; two-sided Mann-Whitney U tests, as Google
 * Benchmark's compare.py runs them, corrected for the comparisons of one
 * table with Holm's step-down method (Holm 1979).  A difference is called
 * significant when its corrected p < 0.05.  The smallest p a U test can
 * reach with n trials a side is 2 / C(2n, n): 0.1 with 3, 0.0022 with 6,
 * so the main job runs 6 trials a point.
 *
 * The baseline is report.baseline (default netbsd-x86 when it ran, else
 * the first strategy); the primary metric of a facet is report.primary,
 * else ops_per_s of the facet's first role.
 */
#include "report/report.h"
#include "common/atomicfile.h"
#include "common/msg.h"
#include "common/path.h"
#include "common/samples.h"
#include "record/lockstat.h"
#include "trials/metrics.h"
#include "trials/shard.h"
#include "trials/workloads/workload.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pmapstorm/alloc.h>
#include <pmapstorm/lock.h>
#include <pmapstorm/topo.h>

#define NOISY_CV 0.10 /* coefficient of variation of a role's ops_per_s */
#define NOISY_SHARE 0.95 /* below this share of the time its PUs allow, a point's CPU threads lost time to others */
#define ALPHA 0.05
#define MAX_STRAT 64
#define TOP_SITES 10

/* ---- the document model: one call writes both files ---- */

struct doc {
	FILE *md, *html;
	unsigned ncols;
	char align[128];
	bool in_list;
};

static void md_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (strchr("\\`*_[]<>|", *s) != NULL)
			fputc('\\', f);
		fputc(*s == '\n' ? ' ' : *s, f);
	}
}

static void html_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void doc_heading(struct doc *d, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void doc_heading(struct doc *d, int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(d->md, "%.*s ", level, "######");
	md_text(d->md, buf);
	fputs("\n\n", d->md);
	fprintf(d->html, "<h%d>", level);
	html_text(d->html, buf);
	fprintf(d->html, "</h%d>\n", level);
}

static void doc_para(struct doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void doc_para(struct doc *d, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	md_text(d->md, buf);
	fputs("\n\n", d->md);
	fputs("<p>", d->html);
	html_text(d->html, buf);
	fputs("</p>\n", d->html);
}

/* A list item "key: text" (key in bold; NULL for none); opens the list. */
static void doc_item(struct doc *d, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void doc_item(struct doc *d, const char *key, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!d->in_list)
		fputs("<ul>\n", d->html);
	d->in_list = true;
	fputs("- ", d->md);
	fputs("<li>", d->html);
	if (key != NULL) {
		fputs("**", d->md);
		md_text(d->md, key);
		fputs("**: ", d->md);
		fputs("<b>", d->html);
		html_text(d->html, key);
		fputs("</b>: ", d->html);
	}
	md_text(d->md, buf);
	fputc('\n', d->md);
	html_text(d->html, buf);
	fputs("</li>\n", d->html);
}

static void doc_list_end(struct doc *d)
{
	if (d->in_list) {
		fputc('\n', d->md);
		fputs("</ul>\n", d->html);
	}
	d->in_list = false;
}

/* A table of ncols columns; align[i] is 'l' or 'r' for column i. */
static void doc_table(struct doc *d, unsigned ncols, const char *const *hdr, const char *align)
{
	d->ncols = ncols;
	snprintf(d->align, sizeof(d->align), "%s", align);
	fputs("|", d->md);
	fputs("<table>\n<tr>", d->html);
	for (unsigned i = 0; i < ncols; i++) {
		fputc(' ', d->md);
		md_text(d->md, hdr[i]);
		fputs(" |", d->md);
		fputs("<th>", d->html);
		html_text(d->html, hdr[i]);
		fputs("</th>", d->html);
	}
	fputs("\n|", d->md);
	for (unsigned i = 0; i < ncols; i++)
		fputs(d->align[i] == 'r' ? " ---: |" : " --- |", d->md);
	fputs("\n", d->md);
	fputs("</tr>\n", d->html);
}

static void doc_row(struct doc *d, const char *const *cells)
{
	fputs("|", d->md);
	fputs("<tr>", d->html);
	for (unsigned i = 0; i < d->ncols; i++) {
		fputc(' ', d->md);
		md_text(d->md, cells[i]);
		fputs(" |", d->md);
		fputs(d->align[i] == 'r' ? "<td class=\"n\">" : "<td>", d->html);
		html_text(d->html, cells[i]);
		fputs("</td>", d->html);
	}
	fputs("\n", d->md);
	fputs("</tr>\n", d->html);
}

static void doc_table_end(struct doc *d)
{
	fputs("\n", d->md);
	fputs("</table>\n", d->html);
}

static void base64_file(FILE *out, const char *path)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return;
	unsigned char in[3];
	size_t n;
	while ((n = fread(in, 1, 3, f)) > 0) {
		unsigned v = (unsigned)in[0] << 16 | (n > 1 ? (unsigned)in[1] << 8 : 0) | (n > 2 ? in[2] : 0);
		fputc(tab[(v >> 18) & 63], out);
		fputc(tab[(v >> 12) & 63], out);
		fputc(n > 1 ? tab[(v >> 6) & 63] : '=', out);
		fputc(n > 2 ? tab[v & 63] : '=', out);
	}
	fclose(f);
}

/* An image: a link in Markdown, inline (base64) in HTML. */
static void doc_image(struct doc *d, const char *dir, const char *name, const char *caption)
{
	char png[1100], path[4352], svg[1100];
	snprintf(png, sizeof(png), "%s.png", name);
	snprintf(svg, sizeof(svg), "%s.svg", name);
	bool have_svg = path_join(path, sizeof(path), dir, svg) == 0 && access(path, R_OK) == 0;
	fputs("![", d->md);
	md_text(d->md, caption);
	fprintf(d->md, "](%s)\n\n", png);
	if (have_svg)
		fprintf(d->md, "%s as SVG: [%s](%s)\n\n", name, svg, svg);
	fputs("<figure><img alt=\"", d->html);
	html_text(d->html, caption);
	fputs("\" src=\"data:image/png;base64,", d->html);
	if (path_join(path, sizeof(path), dir, png) == 0)
		base64_file(d->html, path);
	fputs("\"><figcaption>", d->html);
	html_text(d->html, caption);
	if (have_svg) {
		fputs(" (<a href=\"", d->html);
		html_text(d->html, svg);
		fputs("\">SVG</a>)", d->html);
	}
	fputs("</figcaption></figure>\n", d->html);
}

/* ---- numbers, with their units ---- */

static const char *fmt_si(char *buf, size_t len, double v, const char *unit)
{
	double a = fabs(v);
	if (a >= 1e9)
		snprintf(buf, len, "%.3g G%s", v / 1e9, unit);
	else if (a >= 1e6)
		snprintf(buf, len, "%.3g M%s", v / 1e6, unit);
	else if (a >= 1e4)
		snprintf(buf, len, "%.3g k%s", v / 1e3, unit);
	else
		snprintf(buf, len, "%.3g %s", v, unit);
	return buf;
}

/* v in the metric's unit, for a reader: 8.96 us, 58.5 k ops/s, 0.41 */
static const char *fmt_val(char *buf, size_t len, double v, const char *unit)
{
	if (!strcmp(unit, "ns")) {
		double a = fabs(v);
		if (a >= 1e9)
			snprintf(buf, len, "%.3g s", v / 1e9);
		else if (a >= 1e6)
			snprintf(buf, len, "%.3g ms", v / 1e6);
		else if (a >= 1e3)
			snprintf(buf, len, "%.3g us", v / 1e3);
		else
			snprintf(buf, len, "%.3g ns", v);
		return buf;
	}
	if (!strcmp(unit, "ops/s"))
		return fmt_si(buf, len, v, unit);
	if (!strcmp(unit, "1/s"))
		return fmt_si(buf, len, v, "/s");
	if (v == 0)
		snprintf(buf, len, "0");
	else if (fabs(v) >= 1e4)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.3g", v);
	return buf;
}

static const char *fmt_p(char *buf, size_t len, double p)
{
	if (p < 0.001)
		snprintf(buf, len, "<0.001");
	else
		snprintf(buf, len, "%.3f", p);
	return buf;
}

/* ---- what the report is about ---- */

struct point_info {
	unsigned done, errors;
	unsigned facet, strat, group;
	unsigned ncpu;
};

/* a facet at one CPU count: the points compared with each other */
struct group {
	unsigned g_facet, g_ncpu;
	int g_point[MAX_STRAT]; /* per strategy, or -1 */
};

struct report {
	const struct run_results *rr;
	unsigned np, T;
	struct point_info *pi;
	const char *strat[MAX_STRAT];
	unsigned nstrat;
	int base;                /* the baseline strategy's index, or -1 */
	char **facets;           /* facet labels, in point order */
	unsigned nfacets;
	struct group *groups;    /* facet-major, CPU counts ascending */
	unsigned ngroups;
	const char **metrics;    /* every metric name of the run, catalog order */
	unsigned nmetrics;
	json_t *runjson;         /* run.json as written, or NULL */
	long host_pus;
	unsigned nwarnings;
};

static const struct trial_result *trial_at(const struct report *r, unsigned p, unsigned t)
{
	return &r->rr->rr_trials[p * r->T + t];
}

/* The completed trials' values of metric name at point p, into v (T of room). */
static unsigned values(const struct report *r, int p, const char *name, double *v)
{
	unsigned n = 0;
	for (unsigned t = 0; p >= 0 && t < r->T; t++) {
		const struct trial_result *tr = trial_at(r, (unsigned)p, t);
		const struct metric *m = tr->tr_done ? trial_metric(tr, name) : NULL;
		if (m != NULL)
			v[n++] = m->m_value;
	}
	return n;
}

static struct samples_stats point_stats(const struct report *r, int p, const char *name)
{
	double *v = mem_alloc(double, r->T + 1);
	struct samples_stats s = samples_summarize(v, v != NULL ? values(r, p, name, v) : 0, false);
	free(v);
	return s;
}

/* p-value of a two-sided U test between points p and q on a metric */
static double point_u(const struct report *r, int p, int q, const char *name)
{
	double *a = mem_alloc(double, r->T + 1), *b = mem_alloc(double, r->T + 1);
	double u, z, pv = 1;
	if (a != NULL && b != NULL) {
		unsigned na = values(r, p, name, a), nb = values(r, q, name, b);
		pv = samples_mann_whitney(a, na, b, nb, &u, &z);
	}
	free(a);
	free(b);
	return pv;
}

static int metric_order(const char *name)
{
	const struct metric_def *d = metric_def_of(name);
	return d != NULL ? (int)(d - metric_defs) : 1000;
}

static int cmp_metric(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int dx = metric_order(x), dy = metric_order(y);
	if (dx != dy)
		return dx - dy;
	return strcmp(x, y);
}

static const char *metric_unit(const char *name)
{
	const struct metric_def *d = metric_def_of(name);
	return d != NULL ? d->md_unit : "";
}

static int metric_better(const char *name)
{
	const struct metric_def *d = metric_def_of(name);
	return d != NULL ? d->md_better : 0;
}

/* Did point p run in virtual time?  Its times are virtual ns then, its
 * rates per virtual second (metric_unit_virtual), and its variation the
 * seeds', not the host's. */
static bool point_virtual(const struct report *r, int p)
{
	return p >= 0 && r->rr->rr_points[p].ep_cfg.mc_engine == MACHINE_ENGINE_VIRTUAL;
}

/* The same for group g (its points share the engine: machine.engine, when
 * swept, is part of the facet) */
static bool group_virtual(const struct report *r, unsigned g)
{
	for (unsigned s = 0; s < r->nstrat; s++)
		if (r->groups[g].g_point[s] >= 0)
			return point_virtual(r, r->groups[g].g_point[s]);
	return false;
}

/* metric name's unit as group g measured it: "virtual ns" in virtual time */
static const char *group_unit(const struct report *r, unsigned g, const char *name)
{
	return group_virtual(r, g) ? metric_unit_virtual(metric_unit(name)) : metric_unit(name);
}

/* Is metric name a virtual time or rate in group g (not a count)? */
static bool group_unit_virtual(const struct report *r, unsigned g, const char *name)
{
	return strcmp(group_unit(r, g, name), metric_unit(name)) != 0;
}


/* A ratio of two medians: 2 decimals, or 2 significant digits below 0.1
 * (0.0047x, where "0.00x" would read as nothing) */
static const char *fmt_ratio(char *buf, size_t len, double x)
{
	snprintf(buf, len, fabs(x) < 0.1 ? "%.2gx" : "%.2fx", x);
	return buf;
}

/* How far a winner's median w leads another's, o, on metric m, in its
 * better-direction: "1.52x" — or, when either is 0 and no ratio can say
 * it, "against 3 for" (the other's value), never "inf" or "nan" */
static const char *lead_text(char *buf, size_t len, const char *m, const char *unit, double w, double o)
{
	if (w != 0 && o != 0 && isfinite(w / o)) {
		fmt_ratio(buf, len, metric_better(m) >= 0 ? w / o : o / w);
		return buf;
	}
	char v[64];
	snprintf(buf, len, "against %s for", fmt_val(v, sizeof(v), o, unit));
	return buf;
}

static void analyse(struct report *r)
{
	const struct run_results *rr = r->rr;
	r->pi = mem_zalloc(struct point_info, r->np);
	r->facets = mem_zalloc(char *, r->np + 1);
	r->groups = mem_zalloc(struct group, r->np + 1);
	unsigned cap = 64;
	r->metrics = mem_zalloc(const char *, cap);
	for (unsigned p = 0; p < r->np; p++) {
		struct point_info *pi = &r->pi[p];
		const struct exp_point *pt = &rr->rr_points[p];
		pi->ncpu = pt->ep_cfg.mc_ncpu;
		for (unsigned t = 0; t < r->T; t++) {
			const struct trial_result *tr = trial_at(r, p, t);
			if (!tr->tr_done)
				continue;
			pi->done++;
			pi->errors += tr->tr_errors;
			for (unsigned i = 0; i < tr->tr_nmetrics; i++) {
				unsigned k = 0;
				while (k < r->nmetrics && strcmp(r->metrics[k], tr->tr_metrics[i].m_name))
					k++;
				if (k < r->nmetrics)
					continue;
				if (r->nmetrics + 1 == cap)
					r->metrics = mem_realloc(const char *, r->metrics, cap *= 2);
				r->metrics[r->nmetrics++] = tr->tr_metrics[i].m_name;
			}
		}
		char facet[512];
		exp_point_facet(pt, facet, sizeof(facet));
		unsigned f = 0;
		while (f < r->nfacets && strcmp(r->facets[f], facet))
			f++;
		if (f == r->nfacets)
			r->facets[r->nfacets++] = strdup(facet);
		pi->facet = f;
		unsigned s = 0;
		while (s < r->nstrat && strcmp(r->strat[s], pt->ep_cfg.mc_strategy))
			s++;
		if (s == r->nstrat && r->nstrat < MAX_STRAT)
			r->strat[r->nstrat++] = pt->ep_cfg.mc_strategy;
		pi->strat = s;
	}
	qsort(r->metrics, r->nmetrics, sizeof(*r->metrics), cmp_metric);
	/* groups: facet by facet, CPU counts ascending */
	for (unsigned f = 0; f < r->nfacets; f++) {
		unsigned first = r->ngroups;
		for (unsigned p = 0; p < r->np; p++) {
			if (r->pi[p].facet != f)
				continue;
			unsigned g = first;
			while (g < r->ngroups && r->groups[g].g_ncpu != r->pi[p].ncpu)
				g++;
			if (g == r->ngroups) {
				r->groups[g].g_facet = f;
				r->groups[g].g_ncpu = r->pi[p].ncpu;
				for (unsigned s = 0; s < MAX_STRAT; s++)
					r->groups[g].g_point[s] = -1;
				r->ngroups++;
			}
			if (r->pi[p].done > 0 && r->pi[p].strat < MAX_STRAT)
				r->groups[g].g_point[r->pi[p].strat] = (int)p;
			r->pi[p].group = g;
		}
		for (unsigned a = first; a < r->ngroups; a++) /* few: selection sort by CPUs */
			for (unsigned b = a + 1; b < r->ngroups; b++)
				if (r->groups[b].g_ncpu < r->groups[a].g_ncpu) {
					struct group t = r->groups[a];
					r->groups[a] = r->groups[b];
					r->groups[b] = t;
				}
	}
	for (unsigned g = 0; g < r->ngroups; g++)
		for (unsigned s = 0; s < r->nstrat; s++)
			if (r->groups[g].g_point[s] >= 0)
				r->pi[r->groups[g].g_point[s]].group = g;
	/* the baseline: report.baseline, netbsd-x86, else the first strategy */
	const char *want = rr->rr_ex->ex_baseline[0] ? rr->rr_ex->ex_baseline : "netbsd-x86";
	r->base = r->nstrat > 0 ? 0 : -1;
	for (unsigned s = 0; s < r->nstrat; s++)
		if (!strcmp(r->strat[s], want))
			r->base = (int)s;
}

/* The primary metric of group g: report.primary (with the facet's first
 * role appended when it names a role metric without one), else
 * ops_per_s.<first role with CPUs>. */
static void primary_of(const struct report *r, unsigned g, char *buf, size_t len)
{
	int p = -1;
	for (unsigned s = 0; s < r->nstrat && p < 0; s++)
		p = r->groups[g].g_point[s];
	buf[0] = '\0';
	if (p < 0)
		return;
	const struct exp_point *pt = &r->rr->rr_points[p];
	const char *role = "";
	const struct trial_result *tr = NULL;
	for (unsigned t = 0; t < r->T && tr == NULL; t++)
		if (trial_at(r, (unsigned)p, t)->tr_done)
			tr = trial_at(r, (unsigned)p, t);
	for (unsigned i = 0; i < pt->ep_nroles && !role[0]; i++)
		if (tr == NULL || tr->tr_roles[i].ro_ncpu > 0)
			role = pt->ep_roles[i].er_name;
	const char *pr = r->rr->rr_ex->ex_primary;
	if (pr[0] != '\0') {
		/* a role metric named without its role: the facet's first role */
		if (strchr(pr, '.') == NULL && metric_def_of(pr) == NULL)
			snprintf(buf, len, "%s.%s", pr, role);
		else
			snprintf(buf, len, "%s", pr);
		return;
	}
	snprintf(buf, len, "ops_per_s.%s", role);
}

/* The strategies of group g ranked by metric m (best first), into order;
 * returns how many have a value. */
static unsigned rank_group(const struct report *r, unsigned g, const char *m, unsigned *order, struct samples_stats *st)
{
	unsigned n = 0;
	int better = metric_better(m) >= 0 ? 1 : -1;
	for (unsigned s = 0; s < r->nstrat; s++) {
		st[s] = point_stats(r, r->groups[g].g_point[s], m);
		if (st[s].n > 0)
			order[n++] = s;
	}
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && better * (st[order[j]].median - st[order[j - 1]].median) > 0; j--) {
			unsigned t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	return n;
}

/* Holm-corrected p-values of every strategy of group g against strategy
 * ref on metric m (padj[ref] = 1; NaN where either has no value). */
static void holm_against(const struct report *r, unsigned g, unsigned ref, const char *m, double *padj)
{
	double praw[MAX_STRAT] = {0}, adj[MAX_STRAT] = {0};
	unsigned idx[MAX_STRAT], k = 0;
	int pr = r->groups[g].g_point[ref];
	for (unsigned s = 0; s < r->nstrat; s++) {
		padj[s] = NAN;
		int ps = r->groups[g].g_point[s];
		if (s == ref || ps < 0 || pr < 0)
			continue;
		if (point_stats(r, ps, m).n == 0 || point_stats(r, pr, m).n == 0)
			continue;
		praw[k] = point_u(r, ps, pr, m);
		idx[k++] = s;
	}
	samples_holm(praw, k, adj);
	for (unsigned i = 0; i < k; i++)
		padj[idx[i]] = adj[i];
	padj[ref] = 1;
}

static const char *prov(const struct report *r, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(json_object_get(r->runjson, "provenance"), key);
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, len, "unknown");
	return buf;
}

static void append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t l = strlen(buf);
	if (l >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + l, len - l, fmt, ap);
	va_end(ap);
}

/* The strategies that ran in group g without a value of the metric st
 * summarizes (st[s].n == 0): not ranked, never 0 */
static void unranked_names(const struct report *r, unsigned g, const struct samples_stats *st, char *buf, size_t len)
{
	buf[0] = '\0';
	for (unsigned s = 0; s < r->nstrat; s++)
		if (r->groups[g].g_point[s] >= 0 && st[s].n == 0)
			append(buf, len, "%s%s", buf[0] ? ", " : "", r->strat[s]);
}

static const char *group_label(const struct report *r, unsigned g, char *buf, size_t len)
{
	const char *f = r->facets[r->groups[g].g_facet];
	snprintf(buf, len, "%s%s%u CPU%s", f, f[0] ? ", " : "", r->groups[g].g_ncpu, r->groups[g].g_ncpu == 1 ? "" : "s");
	return buf;
}

/* the largest CPU count of facet f: its findings are told there */
static int facet_top_group(const struct report *r, unsigned f)
{
	int best = -1;
	for (unsigned g = 0; g < r->ngroups; g++)
		if (r->groups[g].g_facet == f && (best < 0 || r->groups[g].g_ncpu > r->groups[best].g_ncpu))
			best = (int)g;
	return best;
}

/* ---- the answer ---- */

/* Why group g ranks nothing by metric m: no trial completed, or the
 * metric was not measured (statistics off) or does not apply. */
static const char *why_unranked(const struct report *r, unsigned g, const char *m, char *buf, size_t len)
{
	bool done = false, stats = false;
	for (unsigned s = 0; s < r->nstrat; s++) {
		int p = r->groups[g].g_point[s];
		if (p < 0)
			continue;
		done |= r->pi[p].done > 0;
		stats |= r->rr->rr_points[p].ep_cfg.mc_stats;
	}
	const struct metric_def *md = metric_def_of(m);
	if (!done)
		snprintf(buf, len, "no completed trial");
	else if (!stats && md != NULL && metric_from_stats(md))
		snprintf(buf, len, "%s not measured (stats.enabled = off)", m);
	else
		snprintf(buf, len, "no completed trial has %s (not applicable: the Glossary says when)", m);
	return buf;
}

/* One sentence for group g: the winner by its primary metric, its lead, and
 * the strategies the rank test cannot tell from it. */
static void answer_line(const struct report *r, unsigned g, char *buf, size_t len)
{
	char prim[EXP_NAMELEN * 4], v[64];
	unsigned order[MAX_STRAT];
	struct samples_stats st[MAX_STRAT];
	double padj[MAX_STRAT];
	primary_of(r, g, prim, sizeof(prim));
	unsigned n = rank_group(r, g, prim, order, st);
	buf[0] = '\0';
	if (n == 0) {
		why_unranked(r, g, prim, buf, len);
		return;
	}
	unsigned w = order[0];
	holm_against(r, g, w, prim, padj);
	char ties[1024] = "", unranked[1024], lead[96];
	for (unsigned i = 1; i < n; i++)
		if (!(padj[order[i]] < ALPHA))
			append(ties, sizeof(ties), "%s%s", ties[0] ? ", " : "", r->strat[order[i]]);
	/* strategies that ran here without a value of the metric: said, not
	 * ranked (a value that does not apply is not 0) */
	unranked_names(r, g, st, unranked, sizeof(unranked));
	const char *u = metric_unit(prim);
	snprintf(buf, len, "%s wins on %s (%s%s)", r->strat[w], prim, fmt_val(v, sizeof(v), st[w].median, u),
	    group_unit_virtual(r, g, prim) ? ", virtual time" : "");
	if (n > 1)
		append(buf, len, ", %s the next (%s)", lead_text(lead, sizeof(lead), prim, u, st[w].median,
		    st[order[1]].median), r->strat[order[1]]);
	/* with too few trials no order of them can pass Holm's correction */
	double pmin = 1;
	for (unsigned i = 1; i < n; i++)
		pmin = fmin(pmin, samples_mwu_holm_min_p(st[w].n, st[order[i]].n, n - 1));
	if (ties[0] && !(pmin < ALPHA))
		append(buf, len, "; too few trials for any difference to be significant (%u a point: the U test's "
		    "smallest p after Holm's correction is %.3g; Warnings)", st[w].n, pmin);
	else if (ties[0])
		append(buf, len, "; not significantly different from it: %s", ties);
	else if (n > 1)
		append(buf, len, "; significantly ahead of every other strategy%s", unranked[0] ? " ranked" : "");
	if (r->base >= 0 && (unsigned)r->base != w && st[r->base].n > 0)
		append(buf, len, "; %s the baseline %s", lead_text(lead, sizeof(lead), prim, u, st[w].median,
		    st[r->base].median), r->strat[r->base]);
	if (unranked[0])
		append(buf, len, "; not ranked, no value of %s: %s", prim, unranked);
}

/* What shard.c says of shards and hosts (a shard, a merged run, trials
 * from several hosts), as list items: how many */
static unsigned shard_items(struct doc *d, const struct report *r, enum shard_note_kind kind, FILE *headlines)
{
	struct shard_note sn[4];
	unsigned n = shard_report_notes(r->runjson, kind, sn, 4);
	for (unsigned i = 0; i < n; i++) {
		doc_item(d, sn[i].sn_title[0] ? sn[i].sn_title : NULL, "%s", sn[i].sn_text);
		if (headlines != NULL)
			fprintf(headlines, "  note: %s\n", sn[i].sn_text);
	}
	return n;
}

static void answer(struct doc *d, const struct report *r, FILE *headlines)
{
	char line[2048];
	doc_heading(d, 2, "Answer");
	for (unsigned f = 0; f < r->nfacets; f++) {
		int g = facet_top_group(r, f);
		if (g < 0)
			continue;
		answer_line(r, (unsigned)g, line, sizeof(line));
		char label[640];
		group_label(r, (unsigned)g, label, sizeof(label));
		doc_item(d, label, "%s.", line);
		if (headlines != NULL)
			fprintf(headlines, "  %s: %s\n", label, line);
	}
	shard_items(d, r, SN_ANSWER, headlines);
	doc_list_end(d);
	doc_para(d, "Each mix is ranked by its primary metric (report.primary; by default its first role's ops_per_s), "
	    "better in the direction the Glossary gives, at its largest CPU count (Findings has every count).  "
	    "A strategy without a value of it (not applicable there, or not measured) is named as not ranked, never "
	    "counted as 0.  \"Significant\" means a two-sided Mann-Whitney U test over the trials, Holm-corrected for "
	    "the comparisons of the table, gives p < %.2f.", ALPHA);
}

/* ---- what ran ---- */

static void what_ran(struct doc *d, const struct report *r)
{
	const struct run_results *rr = r->rr;
	char b[512], list[4096] = "";
	unsigned done = 0;
	for (unsigned p = 0; p < r->np; p++)
		done += r->pi[p].done;
	doc_heading(d, 2, "What ran");
	doc_item(d, "Experiment", "%s", rr->rr_ex->ex_name);
	doc_item(d, "Config file", "%s", rr->rr_config_path ? rr->rr_config_path : "unknown");
	for (unsigned i = 0; i < rr->rr_nsets; i++)
		append(list, sizeof(list), "%s--set %s", i ? ", " : "", rr->rr_sets[i]);
	doc_item(d, "Overrides", "%s", rr->rr_nsets ? list : "none");
	doc_item(d, "Points x trials", "%u x %u = %u trials, %u completed, in %.1f s%s", r->np, r->T, r->np * r->T, done,
	    rr->rr_wall_s, rr->rr_interrupted ? " (interrupted)" : "");
	const struct exp_point *p0 = &rr->rr_points[0];
	doc_item(d, "Trial", "warm-up %.3g s, then %.3g s measured (per point; mixes may set their own); the trials of "
	    "all points run in one seeded random order, seed %llu", p0->ep_warmup_s, p0->ep_duration_s,
	    (unsigned long long)p0->ep_seed);
	/* the mixes and their roles */
	for (unsigned f = 0; f < r->nfacets; f++) {
		int p = -1;
		for (unsigned q = 0; q < r->np && p < 0; q++)
			if (r->pi[q].facet == f)
				p = (int)q;
		const struct exp_point *pt = &rr->rr_points[p];
		list[0] = '\0';
		for (unsigned i = 0; i < pt->ep_nroles; i++)
			append(list, sizeof(list), "%s%s: %s on CPUs '%s' (pmap %s)", i ? "; " : "", pt->ep_roles[i].er_name,
			    pt->ep_roles[i].er_workload->wl_name, pt->ep_roles[i].er_cpus, pt->ep_roles[i].er_pmap);
		doc_item(d, r->facets[f][0] ? r->facets[f] : "Roles", "%s", pt->ep_nroles ? list : "no role");
	}
	list[0] = '\0';
	for (unsigned s = 0; s < r->nstrat; s++)
		append(list, sizeof(list), "%s%s", s ? ", " : "", r->strat[s]);
	doc_item(d, "Strategies", "%s; baseline %s", list, r->base >= 0 ? r->strat[r->base] : "none");
	/* the IPI cost model, and where it came from */
	const struct machine_config *c0 = &p0->ep_cfg;
	if (c0->mc_ipi_preset == IPI_PRESET_CALIBRATED) {
		json_t *cal = json_load_file(c0->mc_ipi_calibration, 0, NULL);
		json_t *hs = json_object_get(json_object_get(cal, "host_shootdown"), "shootdown_ns");
		doc_item(d, "IPI costs", "calibrated on this host (ipi.preset = calibrated, %s): ipi.send_ns = %lu, "
		    "ipi.handler_ns = %lu, so that the model's shootdown costs what the host kernel's does (%s per "
		    "will-it-scale tlb_flush2 madvise; pmapstorm calibrate)", c0->mc_ipi_calibration,
		    (unsigned long)c0->mc_ipi_send_ns, (unsigned long)c0->mc_ipi_handler_ns,
		    json_is_number(hs) ? fmt_val(b, sizeof(b), json_number_value(hs), "ns") : "unknown");
		json_decref(cal);
	} else {
		doc_item(d, "IPI costs", "as set (ipi.preset = manual): ipi.send_ns = %lu, ipi.handler_ns = %lu%s",
		    (unsigned long)c0->mc_ipi_send_ns, (unsigned long)c0->mc_ipi_handler_ns,
		    c0->mc_ipi_send_ns + c0->mc_ipi_handler_ns == 0
		        ? ": an IPI costs what a cache-line transfer costs, far below any real machine's; strategies "
		          "that avoid IPIs gain less here than they would on hardware"
		        : "");
	}
	doc_item(d, "pmapstorm", "%s, commit %s", prov(r, "pmapstorm", b, sizeof(b)), prov(r, "commit", list, sizeof(list)));
	doc_item(d, "Compiler", "%s", prov(r, "compiler", b, sizeof(b)));
	doc_item(d, "Host", "%s, %ld processing units, kernel %s", prov(r, "host", b, sizeof(b)), r->host_pus,
	    prov(r, "kernel", list, sizeof(list)));
	if (c0->mc_topology[0] != '\0')
		doc_item(d, "Topology", "SYNTHETIC machine \"%s\" (hwloc synthetic; groups and hop levels modelled, "
		    "threads on the host's PUs), placement %s", c0->mc_topology, c0->mc_placement);
	else
		doc_item(d, "Topology", "the host (topology.xml), placement %s; where each CPU ran: placement.csv",
		    c0->mc_placement);
	shard_items(d, r, SN_WHAT_RAN, NULL);
	doc_item(d, "Date", "%s", prov(r, "date", b, sizeof(b)));
	doc_list_end(d);
	doc_para(d, "Everything, per trial, is in run.json (schema docs/run.schema.json); the CSV files are the plots' "
	    "input.");
}

static void warnings(struct doc *d, struct report *r)
{
	const struct run_results *rr = r->rr;
	char b[1024], label[640];
	doc_heading(d, 2, "Warnings");
	unsigned over = 0, maxcpus = 0;
	for (unsigned p = 0; p < r->np; p++) {
		/* virtual time runs one CPU at a time: no host PU is shared */
		unsigned c = rr->rr_points[p].ep_cfg.mc_ncpu;
		over += r->host_pus > 0 && c > (unsigned long)r->host_pus && !point_virtual(r, (int)p);
		maxcpus = c > maxcpus ? c : maxcpus;
	}
	/* report.baseline names a strategy this run did not run */
	const char *want = rr->rr_ex->ex_baseline;
	if (want[0] != '\0' && r->base >= 0 && strcmp(r->strat[r->base], want) != 0) {
		doc_item(d, "Baseline", "report.baseline = %s did not run here; the report compares with %s instead", want,
		    r->strat[r->base]);
		r->nwarnings++;
	}
	if (over > 0) {
		doc_item(d, "Oversubscribed host", "%u point(s) simulate more CPUs than the host has processing units (%ld): "
		    "their CPUs time-share host PUs, so latencies include host scheduling and throughput cannot scale.",
		    over, r->host_pus);
		r->nwarnings++;
	}
	/* noisy: a role's ops_per_s varies by more than NOISY_CV over trials
	 * (the worst role of a point is told), and what the host's usage can
	 * say about why.  Preemptions alone say nothing: with every PU busy,
	 * the host preempts a CPU thread now and then even when nothing else
	 * runs (and this run's own monitor, driver.c, once per sample).  Time
	 * taken away does: the CPU threads ran less of their window than the
	 * PUs they have allow. */
	double *v = mem_alloc(double, r->T + 1);
	for (unsigned p = 0; v != NULL && p < r->np; p++) {
		const struct exp_point *pt = &rr->rr_points[p];
		double worst = 0;
		char m[EXP_NAMELEN + 16] = "";
		unsigned n = 0;
		for (unsigned i = 0; i < pt->ep_nroles; i++) {
			char mi[EXP_NAMELEN + 16];
			snprintf(mi, sizeof(mi), "ops_per_s.%s", pt->ep_roles[i].er_name);
			unsigned ni = values(r, (int)p, mi, v);
			struct samples_stats si = samples_summarize(v, ni, false);
			if (ni >= 2 && si.mean > 0 && si.sd / si.mean > worst) {
				worst = si.sd / si.mean;
				snprintf(m, sizeof(m), "%s", mi);
				n = ni;
			}
		}
		if (worst <= NOISY_CV)
			continue;
		if (point_virtual(r, (int)p)) {
			/* virtual time: the host has no say; each trial's seed does */
			doc_item(d, "Varied trials", "point %u (%s, %s): %s varies by %.0f%% over %u trials in virtual time, "
			    "where the host has no say: each trial's own seed changes the workload's random choices and the "
			    "interleaving of the CPUs, and this is how much that moves it (a rerun gives the same figures)",
			    p, pt->ep_cfg.mc_strategy, group_label(r, r->pi[p].group, label, sizeof(label)), m, 100 * worst, n);
			r->nwarnings++;
			continue;
		}
		uint64_t inv = 0;
		double usr = 0, sys = 0, secs = 0;
		for (unsigned t = 0; t < r->T; t++) {
			const struct trial_result *tr = trial_at(r, p, t);
			if (!tr->tr_done)
				continue;
			inv += tr->tr_host_nivcsw;
			usr += tr->tr_host_usr_s;
			sys += tr->tr_host_sys_s;
			secs += tr->tr_seconds * pt->ep_cfg.mc_ncpu;
		}
		const unsigned ncpu = pt->ep_cfg.mc_ncpu;
		const double share = secs > 0 ? (usr + sys) / secs : 0;
		const double fair = r->host_pus > 0 && ncpu > (unsigned long)r->host_pus ? (double)r->host_pus / ncpu : 1;
		doc_item(d, "Noisy trials", "point %u (%s, %s): %s varies by %.0f%% over %u trials; the CPU threads ran "
		    "%.0f%% of their window (user %.2f s, system %.2f s; preempted %lu times)%s", p, pt->ep_cfg.mc_strategy,
		    group_label(r, r->pi[p].group, label, sizeof(label)), m, 100 * worst, n, 100 * share, usr, sys,
		    (unsigned long)inv,
		    share < NOISY_SHARE * fair
		        ? ": other threads or programs took the rest of the host PUs' time"
		        : ": the host took no time from them that this process can see, so the variation is in the "
		          "host's speed (its clock, a hypervisor, a sibling hyperthread), which a guest cannot observe");
		r->nwarnings++;
	}
	free(v);
	/* statistics off: the metrics from counters and histograms are absent
	 * (trials/metrics.c, metric_from_stats), which the tables show as n/a */
	unsigned nostats = 0;
	for (unsigned p = 0; p < r->np; p++)
		nostats += !rr->rr_points[p].ep_cfg.mc_stats;
	if (nostats > 0) {
		doc_item(d, "Statistics off", "%u of %u point(s) ran with stats.enabled = off: only ops_per_s and errors were "
		    "measured there; every other metric is absent (n/a), and the findings cannot say why a strategy ranks "
		    "where it does", nostats, r->np);
		r->nwarnings++;
	}
	if (rr->rr_interrupted) {
		unsigned done = 0;
		for (unsigned p = 0; p < r->np; p++)
			done += r->pi[p].done;
		doc_item(d, "Interrupted run", "only %u of %u trials completed; points without any are missing", done,
		    r->np * r->T);
		r->nwarnings++;
	}
	for (unsigned p = 0; p < r->np; p++) {
		if (r->pi[p].done == 0) {
			doc_item(d, "No completed trial", "point %u (%s)", p, rr->rr_points[p].ep_cfg.mc_strategy);
			r->nwarnings++;
		}
		if (r->pi[p].errors > 0) {
			doc_item(d, "Errors", "point %u (%s, %s): %u violation(s) found by the workloads' checks, "
			    "pmap_check/tlb_check or the oracles; its results are suspect", p, rr->rr_points[p].ep_cfg.mc_strategy,
			    group_label(r, r->pi[p].group, b, sizeof(b)), r->pi[p].errors);
			r->nwarnings++;
		}
	}
	/* T trials a side, compared against one strategy by every other */
	unsigned ncmp = r->nstrat > 1 ? r->nstrat - 1 : 0;
	double pmin = samples_mwu_holm_min_p(r->T, r->T, ncmp);
	if (ncmp > 0 && pmin >= ALPHA) {
		doc_item(d, "Few trials", "%u trial(s) a point: a U test cannot reach p < %.2f after Holm's correction over "
		    "%u comparison(s) (its smallest p is %.3g); run %u or more to call differences significant", r->T,
		    ALPHA, ncmp, pmin, samples_mwu_trials_needed(ALPHA, ncmp));
		r->nwarnings++;
	}
	r->nwarnings += shard_items(d, r, SN_WARNING, NULL);
	doc_list_end(d);
	if (r->nwarnings == 0)
		doc_para(d, "None: the host has at least as many processing units as simulated CPUs (%u), every role's "
		    "throughput varies by at most %.0f%% over trials, the run completed, and no errors were found.",
		    maxcpus, 100 * NOISY_CV);
}

/* ---- findings ---- */

/* the explaining metrics of group g for its primary role, in catalog
 * order: those that some strategy of the group has and that are not 0
 * for every one of them */
static unsigned explainers(const struct report *r, unsigned g, const char *prim, const char **out, unsigned max)
{
	unsigned n = 0;
	const char *role = metric_scope_part(prim);
	for (unsigned k = 0; k < r->nmetrics && n < max; k++) {
		const struct metric_def *d = metric_def_of(r->metrics[k]);
		if (d == NULL || !d->md_explains || !strcmp(r->metrics[k], prim))
			continue; /* the primary has its own column */
		if (d->md_scope == MS_ROLE && strcmp(metric_scope_part(r->metrics[k]), role) != 0)
			continue;
		bool nonzero = false;
		for (unsigned s = 0; s < r->nstrat && !nonzero; s++) {
			struct samples_stats st = point_stats(r, r->groups[g].g_point[s], r->metrics[k]);
			nonzero = st.n > 0 && (st.median != 0 || st.max != 0);
		}
		if (nonzero)
			out[n++] = r->metrics[k];
	}
	return n;
}

/* "why" in words: where strategy s differs most from the baseline */
static void why_sentence(const struct report *r, unsigned g, unsigned s, const char *const *ex, unsigned nex, char *buf,
    size_t len)
{
	buf[0] = '\0';
	if (r->base < 0 || s == (unsigned)r->base)
		return;
	int ps = r->groups[g].g_point[s], pb = r->groups[g].g_point[r->base];
	for (unsigned i = 0; i < nex; i++) {
		struct samples_stats a = point_stats(r, ps, ex[i]), b = point_stats(r, pb, ex[i]);
		char va[64], vb[64];
		const char *u = metric_unit(ex[i]);
		if (a.n == 0 && b.n == 0)
			continue;
		if (a.n == 0 || b.n == 0) {
			append(buf, len, "%s%s %s for %s, n/a for %s", buf[0] ? "; " : "", ex[i],
			    fmt_val(va, sizeof(va), a.n ? a.median : b.median, u), a.n ? r->strat[s] : r->strat[r->base],
			    a.n ? r->strat[r->base] : r->strat[s]);
			continue;
		}
		double hi = fmax(fabs(a.median), fabs(b.median)), lo = fmin(fabs(a.median), fabs(b.median));
		if (hi == 0 || (lo > 0 && hi / lo < 1.5 && fabs(a.median - b.median) < 0.1 * hi))
			continue;
		append(buf, len, "%s%s %s against %s", buf[0] ? "; " : "", ex[i], fmt_val(va, sizeof(va), a.median, u),
		    fmt_val(vb, sizeof(vb), b.median, u));
	}
}

static void ranking(struct doc *d, const struct report *r, unsigned g)
{
	char prim[EXP_NAMELEN * 4], label[640];
	unsigned order[MAX_STRAT];
	struct samples_stats st[MAX_STRAT];
	double pw[MAX_STRAT], pb[MAX_STRAT];
	primary_of(r, g, prim, sizeof(prim));
	unsigned n = rank_group(r, g, prim, order, st);
	doc_heading(d, 4, "%s", group_label(r, g, label, sizeof(label)));
	if (n == 0) {
		char why[EXP_NAMELEN * 4 + 96];
		doc_para(d, "Not ranked: %s.", why_unranked(r, g, prim, why, sizeof(why)));
		return;
	}
	holm_against(r, g, order[0], prim, pw);
	if (r->base >= 0)
		holm_against(r, g, (unsigned)r->base, prim, pb);
	const char *ex[32];
	unsigned nex = explainers(r, g, prim, ex, 32);
	/* the ranking, with the counters that explain it beside */
	const char *hdr[48];
	char align[64];
	unsigned nc = 0;
	char h0[320], hx[32][96];
	snprintf(h0, sizeof(h0), "%s median [q1, q3]%s", prim,
	    group_unit_virtual(r, g, prim) ? " (virtual time)" : "");
	hdr[nc++] = "#";
	hdr[nc++] = "Strategy";
	hdr[nc++] = h0;
	hdr[nc++] = "x winner";
	hdr[nc++] = "p vs winner";
	hdr[nc++] = "p vs baseline";
	for (unsigned i = 0; i < nex; i++) {
		snprintf(hx[i], sizeof(hx[i]), "%s%s", ex[i],
		    group_unit_virtual(r, g, ex[i]) ? " (virtual time)" : "");
		hdr[nc++] = hx[i];
	}
	for (unsigned i = 0; i < nc; i++)
		align[i] = i == 1 ? 'l' : 'r';
	align[nc] = '\0';
	doc_table(d, nc, hdr, align);
	char cells[48][96];
	const char *cp[48];
	for (unsigned i = 0; i < n; i++) {
		unsigned s = order[i], c = 0;
		char a[32], b[32], q[32];
		snprintf(cells[c++], 96, "%u", i + 1);
		snprintf(cells[c++], 96, "%s%s", r->strat[s], (int)s == r->base ? " (baseline)" : "");
		snprintf(cells[c++], 96, "%s [%s, %s]", fmt_val(a, sizeof(a), st[s].median, metric_unit(prim)),
		    fmt_val(b, sizeof(b), st[s].q1, metric_unit(prim)), fmt_val(q, sizeof(q), st[s].q3, metric_unit(prim)));
		/* no ratio to a winner of 0: "-" (equal to it: 1) */
		if (st[order[0]].median != 0)
			snprintf(cells[c++], 96, "%.3g", st[s].median / st[order[0]].median);
		else
			snprintf(cells[c++], 96, "%s", st[s].median == 0 ? "1" : "-");
		if (i == 0)
			snprintf(cells[c++], 96, "-");
		else
			snprintf(cells[c++], 96, "%s%s", fmt_p(a, sizeof(a), pw[s]), pw[s] < ALPHA ? " *" : "");
		if (r->base < 0 || (int)s == r->base || !isfinite(pb[s]))
			snprintf(cells[c++], 96, "-");
		else
			snprintf(cells[c++], 96, "%s%s", fmt_p(a, sizeof(a), pb[s]), pb[s] < ALPHA ? " *" : "");
		for (unsigned k = 0; k < nex; k++) {
			struct samples_stats e = point_stats(r, r->groups[g].g_point[s], ex[k]);
			if (e.n == 0)
				snprintf(cells[c++], 96, "n/a");
			else
				fmt_val(cells[c++], 96, e.median, metric_unit(ex[k]));
		}
		for (unsigned k = 0; k < c; k++)
			cp[k] = cells[k];
		doc_row(d, cp);
	}
	doc_table_end(d);
	char unranked[1024];
	unranked_names(r, g, st, unranked, sizeof(unranked));
	if (unranked[0])
		doc_para(d, "Not ranked, no value of %s (not applicable there, or not measured; not 0): %s.", prim, unranked);
	/* why, in words: the winner and the last, against the baseline */
	char why[4096];
	for (unsigned i = 0; i < n; i += (n > 1 ? n - 1 : 1)) {
		unsigned s = order[i];
		why_sentence(r, g, s, ex, nex, why, sizeof(why));
		if (why[0])
			doc_para(d, "%s (%s): against the baseline %s, %s.", r->strat[s], i == 0 ? "first" : "last",
			    r->strat[r->base], why);
		if (n == 1)
			break;
	}
}

/* How much each role of group g's mix loses to the others: its throughput
 * here against the same role running alone (a mix of only that role, with
 * the same strategy, CPUs and other values). */
static void interference(struct doc *d, const struct report *r, unsigned g)
{
	const struct run_results *rr = r->rr;
	bool opened = false;
	for (unsigned s = 0; s < r->nstrat; s++) {
		int p = r->groups[g].g_point[s];
		if (p < 0)
			continue;
		const struct exp_point *pt = &rr->rr_points[p];
		if (pt->ep_nroles < 2)
			return;
		for (unsigned i = 0; i < pt->ep_nroles; i++) {
			/* the point that runs this role alone */
			int alone = -1;
			for (unsigned q = 0; q < r->np && alone < 0; q++) {
				const struct exp_point *qt = &rr->rr_points[q];
				if (qt->ep_nroles != 1 || strcmp(qt->ep_roles[0].er_name, pt->ep_roles[i].er_name) ||
				    strcmp(qt->ep_cfg.mc_strategy, pt->ep_cfg.mc_strategy) || qt->ep_cfg.mc_ncpu != pt->ep_cfg.mc_ncpu ||
				    r->pi[q].done == 0)
					continue;
				bool same = true; /* every value both sweep agrees */
				for (unsigned a = 0; a < qt->ep_nsweep && same; a++)
					for (unsigned b = 0; b < pt->ep_nsweep; b++)
						if (!strcmp(qt->ep_sweep_keys[a], pt->ep_sweep_keys[b]) &&
						    strcmp(qt->ep_sweep_keys[a], "experiment.mix") != 0)
							same = !strcmp(qt->ep_sweep_vals[a], pt->ep_sweep_vals[b]);
				if (same)
					alone = (int)q;
			}
			if (alone < 0)
				continue;
			char m[EXP_NAMELEN + 16], a[32], b[32], c[32];
			snprintf(m, sizeof(m), "ops_per_s.%s", pt->ep_roles[i].er_name);
			struct samples_stats with = point_stats(r, p, m), without = point_stats(r, alone, m);
			if (with.n == 0 || without.n == 0 || without.median == 0)
				continue;
			if (!opened) {
				static const char *const hdr[] = {"Strategy", "Role", "alone in mix", "ops/s with the others",
				    "ops/s alone", "slowdown", "p"};
				doc_para(d, "How each side slows the other down: each role's throughput in this mix against the "
				    "same role alone (in the mix each row names), same strategy and CPUs.");
				doc_table(d, 7, hdr, "lllrrrr");
				opened = true;
			}
			char sl[32], pv[32];
			snprintf(sl, sizeof(sl), "%.1f%%", 100 * (1 - with.median / without.median));
			double pu = point_u(r, p, alone, m);
			snprintf(pv, sizeof(pv), "%s", fmt_p(c, sizeof(c), pu));
			const char *cells[] = {pt->ep_cfg.mc_strategy, pt->ep_roles[i].er_name, rr->rr_points[alone].ep_mix,
			    fmt_val(a, sizeof(a), with.median, "ops/s"), fmt_val(b, sizeof(b), without.median, "ops/s"), sl, pv};
			doc_row(d, cells);
		}
	}
	if (opened)
		doc_table_end(d);
}

/* What flips the ranking: the facets that differ from f in one swept value
 * (and the CPU counts of f), each with its own winner. */
static void flips(struct doc *d, const struct report *r, unsigned f, char *out, size_t outlen)
{
	const struct run_results *rr = r->rr;
	char prim[EXP_NAMELEN * 4], buf[4096] = "";
	unsigned order[MAX_STRAT];
	struct samples_stats st[MAX_STRAT];
	out[0] = '\0';
	/* CPU counts within the facet */
	int top = facet_top_group(r, f);
	if (top < 0)
		return;
	primary_of(r, (unsigned)top, prim, sizeof(prim));
	if (rank_group(r, (unsigned)top, prim, order, st) == 0)
		return;
	unsigned wtop = order[0];
	for (unsigned g = 0; g < r->ngroups; g++) {
		if (r->groups[g].g_facet != f || (int)g == top || rank_group(r, g, prim, order, st) == 0)
			continue;
		if (order[0] != wtop)
			append(buf, sizeof(buf), "%sat %u CPU%s %s wins, at %u %s", buf[0] ? "; " : "", r->groups[g].g_ncpu,
			    r->groups[g].g_ncpu == 1 ? "" : "s", r->strat[order[0]], r->groups[top].g_ncpu, r->strat[wtop]);
	}
	/* facets of the same mix differing in one swept value */
	int pf = -1;
	for (unsigned p = 0; p < r->np && pf < 0; p++)
		if (r->pi[p].facet == f)
			pf = (int)p;
	const struct exp_point *a = &rr->rr_points[pf];
	for (unsigned f2 = 0; f2 < r->nfacets; f2++) {
		if (f2 == f)
			continue;
		int pg = -1;
		for (unsigned p = 0; p < r->np && pg < 0; p++)
			if (r->pi[p].facet == f2)
				pg = (int)p;
		const struct exp_point *b = &rr->rr_points[pg];
		if (strcmp(a->ep_mix ? a->ep_mix : "", b->ep_mix ? b->ep_mix : ""))
			continue;
		const char *key = NULL, *va = NULL, *vb = NULL;
		unsigned ndiff = 0;
		for (unsigned i = 0; i < a->ep_nsweep; i++)
			for (unsigned j = 0; j < b->ep_nsweep; j++)
				if (!strcmp(a->ep_sweep_keys[i], b->ep_sweep_keys[j]) && strcmp(a->ep_sweep_keys[i], "shootdown.strategy") &&
				    strcmp(a->ep_sweep_keys[i], "machine.cpus") && strcmp(a->ep_sweep_vals[i], b->ep_sweep_vals[j])) {
					ndiff++;
					key = a->ep_sweep_keys[i];
					va = a->ep_sweep_vals[i];
					vb = b->ep_sweep_vals[j];
				}
		int g2 = facet_top_group(r, f2);
		if (ndiff != 1 || g2 < 0 || rank_group(r, (unsigned)g2, prim, order, st) == 0)
			continue;
		if (order[0] != wtop)
			append(buf, sizeof(buf), "%swith %s = %s %s wins, with %s = %s %s", buf[0] ? "; " : "", key, vb,
			    r->strat[order[0]], key, va, r->strat[wtop]);
		else
			append(buf, sizeof(buf), "%swith %s = %s %s wins too", buf[0] ? "; " : "", key, vb, r->strat[wtop]);
	}
	if (buf[0]) {
		doc_para(d, "What changes the ranking (%s): %s.", prim, buf);
		snprintf(out, outlen, "%s", buf);
	}
}

static void findings(struct doc *d, const struct report *r)
{
	doc_heading(d, 2, "Findings");
	doc_para(d, "Per mix: the strategies ranked by the mix's primary metric (medians over trials, quartiles in "
	    "brackets); p-values of the rank test against the winner and against the baseline (Holm-corrected; * "
	    "significant at %.2f); and, beside, the counters that explain the ranking (definitions at the end).  "
	    "\"n/a\": the counter does not apply to that strategy.", ALPHA);
	char flipbuf[4096];
	for (unsigned f = 0; f < r->nfacets; f++) {
		doc_heading(d, 3, "%s", r->facets[f][0] ? r->facets[f] : "All points");
		for (unsigned g = 0; g < r->ngroups; g++)
			if (r->groups[g].g_facet == f) {
				ranking(d, r, g);
				interference(d, r, g);
			}
		flips(d, r, f, flipbuf, sizeof(flipbuf));
	}
}

/* ---- every metric ---- */

static void metrics_tables(struct doc *d, const struct report *r)
{
	char label[640];
	doc_heading(d, 2, "Metrics");
	doc_para(d, "Per facet and CPU count, every metric that is not 0 everywhere: each strategy's median over trials "
	    "with its quartiles; for the others, the ratio of their median to the baseline's and the Holm-corrected "
	    "p-value of the rank test against it (* significant at %.2f).  n/a: not applicable (absent from every trial: "
	    "the Glossary says when); -: the strategy did not run here.", ALPHA);
	const char *hdr[MAX_STRAT + 3];
	char align[MAX_STRAT + 4];
	typedef char cell_t[320];
	cell_t *cells = mem_zalloc(cell_t, MAX_STRAT + 3);
	const char *cp[MAX_STRAT + 3];
	for (unsigned g = 0; cells != NULL && g < r->ngroups; g++) {
		doc_heading(d, 3, "%s", group_label(r, g, label, sizeof(label)));
		unsigned nc = 0;
		hdr[nc++] = "Metric";
		hdr[nc++] = "Unit";
		for (unsigned s = 0; s < r->nstrat; s++)
			hdr[nc++] = r->strat[s];
		for (unsigned i = 0; i < nc; i++)
			align[i] = i < 2 ? 'l' : 'r';
		align[nc] = '\0';
		doc_table(d, nc, hdr, align);
		for (unsigned k = 0; k < r->nmetrics; k++) {
			const char *m = r->metrics[k];
			struct samples_stats st[MAX_STRAT];
			bool nonzero = false;
			for (unsigned s = 0; s < r->nstrat; s++) {
				st[s] = point_stats(r, r->groups[g].g_point[s], m);
				nonzero |= st[s].n > 0 && (st[s].median != 0 || st[s].max != 0);
			}
			if (!nonzero)
				continue;
			double padj[MAX_STRAT];
			if (r->base >= 0)
				holm_against(r, g, (unsigned)r->base, m, padj);
			unsigned c = 0;
			snprintf(cells[c++], 320, "%s", m);
			snprintf(cells[c++], 320, "%s", group_unit(r, g, m));
			for (unsigned s = 0; s < r->nstrat; s++) {
				char a[32], b[32], q[32], p[32], x[32];
				if (r->groups[g].g_point[s] < 0)
					snprintf(cells[c++], 320, "-");
				else if (st[s].n == 0)
					snprintf(cells[c++], 320, "n/a");
				else if (r->base < 0 || (int)s == r->base || st[r->base].n == 0)
					snprintf(cells[c++], 320, "%s [%s, %s]", fmt_val(a, sizeof(a), st[s].median, metric_unit(m)),
					    fmt_val(b, sizeof(b), st[s].q1, metric_unit(m)), fmt_val(q, sizeof(q), st[s].q3, metric_unit(m)));
				else if (st[r->base].median != 0)
					snprintf(cells[c++], 320, "%s (%s, p %s%s)", fmt_val(a, sizeof(a), st[s].median, metric_unit(m)),
					    fmt_ratio(x, sizeof(x), st[s].median / st[r->base].median), fmt_p(p, sizeof(p), padj[s]),
					    padj[s] < ALPHA ? " *" : "");
				else
					snprintf(cells[c++], 320, "%s (p %s%s)", fmt_val(a, sizeof(a), st[s].median, metric_unit(m)),
					    fmt_p(p, sizeof(p), padj[s]), padj[s] < ALPHA ? " *" : "");
			}
			for (unsigned i = 0; i < c; i++)
				cp[i] = cells[i];
			doc_row(d, cp);
		}
		doc_table_end(d);
	}
	free(cells);
}

/* ---- lock contention ---- */

struct site_sum {
	const char *ss_class, *ss_site;
	unsigned ss_facet;
	const char *ss_strat;
	uint64_t ss_cont, ss_wait;
};

static int cmp_site(const void *a, const void *b)
{
	const struct site_sum *x = a, *y = b;
	return x->ss_wait < y->ss_wait ? 1 : x->ss_wait > y->ss_wait ? -1 : 0;
}

static void lock_contention(struct doc *d, const struct report *r)
{
	unsigned cap = 256, n = 0;
	struct site_sum *ss = mem_zalloc(struct site_sum, cap);
	double total_wait = 0;
	for (unsigned p = 0; ss != NULL && p < r->np; p++)
		for (unsigned t = 0; t < r->T; t++) {
			const struct trial_result *tr = trial_at(r, p, t);
			if (!tr->tr_done)
				continue;
			for (int c = 0; c < LC_NCLASS; c++) {
				total_wait += (double)tr->tr_lockstat[c].lr_wait_total_ns;
				for (unsigned k = 0; k < tr->tr_lockstat[c].lr_nsites; k++) {
					const char *site = tr->tr_sites[c][k];
					unsigned i = 0;
					while (i < n && !(ss[i].ss_facet == r->pi[p].facet && !strcmp(ss[i].ss_strat,
					    r->rr->rr_points[p].ep_cfg.mc_strategy) && !strcmp(ss[i].ss_site, site) &&
					    !strcmp(ss[i].ss_class, tr->tr_lockstat[c].lr_class)))
						i++;
					if (i == n) {
						if (n == cap) {
							struct site_sum *nn = mem_realloc(struct site_sum, ss, cap *= 2);
							if (nn == NULL)
								goto out;
							ss = nn;
						}
						ss[n++] = (struct site_sum){tr->tr_lockstat[c].lr_class, site, r->pi[p].facet,
						    r->rr->rr_points[p].ep_cfg.mc_strategy, 0, 0};
					}
					ss[i].ss_cont += tr->tr_lockstat[c].lr_sites[k].ls_contentions;
					ss[i].ss_wait += tr->tr_lockstat[c].lr_sites[k].ls_wait_ns;
				}
			}
		}
	qsort(ss, n, sizeof(*ss), cmp_site);
	doc_heading(d, 2, "Lock contention");
	/* points that recorded no lockstat (locks.lockstat or stats.enabled
	 * off) say nothing about contention: not "none was found" */
	unsigned unrecorded = 0;
	for (unsigned p = 0; p < r->np; p++)
		unrecorded += !lockstat_recorded(&r->rr->rr_points[p].ep_cfg);
	if (n == 0) {
		if (unrecorded == r->np)
			doc_para(d, "Not recorded: every point ran with locks.lockstat = off or stats.enabled = off.");
		else if (unrecorded > 0)
			doc_para(d, "No lock was found taken in the %u point(s) that recorded lockstat; %u ran with "
			    "locks.lockstat = off or stats.enabled = off and recorded nothing.", r->np - unrecorded, unrecorded);
		else
			doc_para(d, "No lock was ever found taken.");
		goto out;
	}
	if (unrecorded > 0)
		doc_para(d, "%u of %u point(s) ran with locks.lockstat = off or stats.enabled = off: they recorded no "
		    "lock statistics and are not in the table.", unrecorded, r->np);
	doc_para(d, "The call sites that waited longest, over every trial, as lockstat(8) -s and perf lock contention "
	    "list them: the caller of mutex_enter() or rw_enter() that found the lock taken.  Locks are simulated "
	    "locks of the model; only simulated CPUs take them (no host thread does: the page-table pages the pmap "
	    "frees after a grace period are returned by the CPUs themselves).");
	static const char *const hdr[] = {"Class", "Call site", "Mix", "Strategy", "Contentions", "Wait (total)",
	    "Share of all lock wait"};
	doc_table(d, 7, hdr, "lllllrr");
	for (unsigned i = 0; i < n && i < TOP_SITES; i++) {
		char a[32], b[32], c[32];
		snprintf(a, sizeof(a), "%lu", (unsigned long)ss[i].ss_cont);
		snprintf(c, sizeof(c), "%.1f%%", total_wait > 0 ? 100 * (double)ss[i].ss_wait / total_wait : 0);
		const char *cells[] = {ss[i].ss_class, ss[i].ss_site, r->facets[ss[i].ss_facet][0] ? r->facets[ss[i].ss_facet] : "-",
		    ss[i].ss_strat, a, fmt_val(b, sizeof(b), (double)ss[i].ss_wait, "ns"), c};
		doc_row(d, cells);
	}
	doc_table_end(d);
out:
	free(ss);
}

/* ---- plots: what `pmapstorm plot` drew (plots.txt: name, caption) ---- */

static void plots(struct doc *d, const char *dir)
{
	doc_heading(d, 2, "Plots");
	char path[4352], line[1024];
	FILE *f = path_join(path, sizeof(path), dir, "plots.txt") == 0 ? fopen(path, "r") : NULL;
	unsigned n = 0;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		char *tab = strchr(line, '\t');
		if (tab == NULL)
			continue;
		*tab = '\0';
		if (path_join_ext(path, sizeof(path), dir, line, "png") != 0 || access(path, R_OK) != 0)
			continue;
		doc_image(d, dir, line, tab + 1);
		n++;
	}
	if (f != NULL)
		fclose(f);
	if (n == 0)
		doc_para(d, "No plots: gnuplot was skipped (--no-plots), is not installed, or failed.  'pmapstorm plot' on "
		    "this folder draws them from the CSV files (beside this report, which does not change).");
}

static void points(struct doc *d, const struct report *r)
{
	static const char *const hdr[] = {"Point", "Strategy", "CPUs", "Facet", "Trials", "Errors", "Host usr+sys s",
	    "Preempted"};
	doc_heading(d, 2, "Points");
	doc_table(d, 8, hdr, "llrlrrrr");
	for (unsigned p = 0; p < r->np; p++) {
		const struct exp_point *pt = &r->rr->rr_points[p];
		const struct point_info *pi = &r->pi[p];
		char b[6][64];
		double cpu = 0;
		uint64_t inv = 0;
		for (unsigned t = 0; t < r->T; t++) {
			const struct trial_result *tr = trial_at(r, p, t);
			if (tr->tr_done) {
				cpu += tr->tr_host_usr_s + tr->tr_host_sys_s;
				inv += tr->tr_host_nivcsw;
			}
		}
		snprintf(b[0], sizeof(b[0]), "%u", p);
		snprintf(b[1], sizeof(b[1]), "%u", pt->ep_cfg.mc_ncpu);
		snprintf(b[2], sizeof(b[2]), "%u of %u", pi->done, r->T);
		snprintf(b[3], sizeof(b[3]), "%u", pi->errors);
		snprintf(b[4], sizeof(b[4]), "%.2f", cpu);
		snprintf(b[5], sizeof(b[5]), "%lu", (unsigned long)inv);
		const char *cells[] = {b[0], pt->ep_cfg.mc_strategy, b[1], r->facets[pi->facet][0] ? r->facets[pi->facet] : "-",
		    b[2], b[3], b[4], b[5]};
		doc_row(d, cells);
	}
	doc_table_end(d);
}

static void glossary(struct doc *d, const struct report *r)
{
	doc_heading(d, 2, "Glossary");
	doc_para(d, "Every metric of this run, as metrics.c defines it (run.json's metric_defs holds the same).  A "
	    "role's metric is name.ROLE, a lock class's name.CLASS.");
	for (const struct metric_def *md = metric_defs; md->md_name != NULL; md++) {
		bool used = false;
		for (unsigned k = 0; k < r->nmetrics && !used; k++)
			used = metric_def_of(r->metrics[k]) == md;
		if (!used)
			continue;
		char buf[METRIC_NA_LEN];
		const char *na = metric_na(md, buf, sizeof(buf));
		doc_item(d, md->md_name, "%s (%s, %s is better)%s%s.", md->md_desc, md->md_unit,
		    md->md_better > 0 ? "higher" : md->md_better < 0 ? "lower" : "neither", na ? "; not applicable when " : "",
		    na ? na : "");
	}
	doc_list_end(d);
}

/* ---- the files ---- */

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<style>\n"
    "body { font-family: sans-serif; max-width: 1400px; margin: 1em auto; padding: 0 1em; color: #222; }\n"
    "table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 85%; }\n"
    "th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; }\n"
    "th { background: #f0f0f0; } td.n { text-align: right; font-variant-numeric: tabular-nums; }\n"
    "figure { margin: 1em 0 2em; } img { max-width: 100%; border: 1px solid #eee; }\n"
    "h3 { margin-top: 2em; } h4 { font-size: 1em; margin-top: 1.5em; }\n"
    "</style>\n";

int report_write(const struct run_results *rr, const char *dir, FILE *headlines)
{
	struct report r = {.rr = rr, .np = rr->rr_ex->ex_npoints, .T = rr->rr_trials_per_point};
	char path[4096], tmd[4096], thtml[4096];
	r.runjson = path_join(path, sizeof(path), dir, "run.json") == 0 ? json_load_file(path, 0, NULL) : NULL;
	json_t *pus = json_object_get(json_object_get(r.runjson, "provenance"), "host_pus");
	r.host_pus = json_is_integer(pus) ? (long)json_integer_value(pus) : (long)topo_npus();
	analyse(&r);

	struct doc d = {0};
	int rc = 0;
	if ((d.md = atomicfile_begin(dir, "report.md", tmd, sizeof(tmd))) == NULL) {
		rc = err_env(errno);
		goto out;
	}
	if ((d.html = atomicfile_begin(dir, "index.html", thtml, sizeof(thtml))) == NULL) {
		rc = err_env(errno);
		fclose(d.md);
		unlink(tmd);
		goto out;
	}
	fputs(html_head, d.html);
	fputs("<title>pmapstorm run: ", d.html);
	html_text(d.html, rr->rr_ex->ex_name);
	fputs("</title>\n</head>\n<body>\n", d.html);
	doc_heading(&d, 1, "pmapstorm run: %s", rr->rr_ex->ex_name);
	doc_para(&d, "Which TLB-shootdown strategy, for which workload mix, and why: %u point(s) x %u trial(s)%s.  "
	    "Sections: answer, what ran, warnings, findings, metrics, lock contention, plots, points, glossary.",
	    r.np, r.T, rr->rr_interrupted ? ", interrupted: partial results" : "");
	if (headlines != NULL)
		fprintf(headlines, "pmapstorm %s: %s: the answer per mix (report.md has why)\n",
		    json_object_get(r.runjson, "merged") != NULL ? "merge" : "run", rr->rr_ex->ex_name);
	answer(&d, &r, headlines);
	what_ran(&d, &r);
	warnings(&d, &r);
	findings(&d, &r);
	metrics_tables(&d, &r);
	lock_contention(&d, &r);
	plots(&d, dir);
	points(&d, &r);
	glossary(&d, &r);
	fputs("</body>\n</html>\n", d.html);
	rc = atomicfile_commit(d.md, dir, "report.md", tmd);
	int hrc = atomicfile_commit(d.html, dir, "index.html", thtml);
	if (hrc != 0)
		rc = hrc;
	if (headlines != NULL)
		fprintf(headlines, "  %u warning(s)\n", r.nwarnings);
out:
	json_decref(r.runjson);
	for (unsigned f = 0; f < r.nfacets; f++)
		free(r.facets[f]);
	free(r.facets);
	free(r.pi);
	free(r.groups);
	free(r.metrics);
	return rc;
}

int report_primary_check(const struct experiment *ex, char *why, size_t len)
{
	const char *v = ex->ex_primary, *dot = strchr(v, '.');
	if (v[0] == '\0')
		return 0;
	const struct metric_def *d = metric_def_of(v);
	for (const struct metric_def *m = metric_defs; d == NULL && dot == NULL && m->md_name != NULL; m++)
		if (m->md_scope == MS_ROLE && !strcmp(m->md_name, v))
			d = m; /* a role metric without its role: the mix's first role's */
	if (d == NULL) {
		snprintf(why, len, "'%s' is not a metric name (pmapstorm list metrics)", v);
		return EINVAL;
	}
	if (d->md_better == 0) {
		snprintf(why, len, "'%s' has no better direction (neither higher nor lower is better): it cannot rank "
		    "strategies", v);
		return EINVAL;
	}
	if (dot == NULL)
		return 0;
	char rkey[sizeof(ex->ex_primary) + 16];
	snprintf(rkey, sizeof(rkey), "role.%s.workload", dot + 1);
	if (d->md_scope == MS_ROLE && exp_key_line(ex, rkey) == 0) {
		snprintf(why, len, "'%s' is not a role of the file ([role.%s] with a workload)", dot + 1, dot + 1);
		return EINVAL;
	}
	if (d->md_scope == MS_CLASS && lock_class_find(dot + 1) < 0) {
		snprintf(why, len, "'%s' is not a lock class (pmapstorm list locks)", dot + 1);
		return EINVAL;
	}
	return 0;
}
