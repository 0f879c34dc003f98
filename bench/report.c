/*
 * report.c — report.md and index.html of a results folder.
 *
 * What a reader needs first: what ran (experiment, config file, overrides,
 * points x trials, provenance), what to distrust (warnings: oversubscribed
 * host, noisy trials, interrupted run, errors), which strategy is best for
 * each metric and by how much, and the plots.  Both files carry the same
 * content: they are written in one pass through a tiny document model
 * (heading, paragraph, list, table, image) with a Markdown and an HTML
 * back end, so they cannot drift apart.
 *
 * Comparisons.  Points that differ only in shootdown.strategy form a group
 * (same CPU count, same other swept keys).  Per metric and group the best
 * strategy is the one with the best median over trials (the metric's
 * better-direction decides); it is shown with the range [min, max] over
 * trials and a bootstrap percentile 95% confidence interval of the median
 * (1000 resamples, fixed seed: the same results give the same report;
 * samples.c, shared with run.json's summaries and the CI gate).  The
 * other strategies appear as ratios of their median to the best's.
 *
 * Series names match the plots/ scripts: the strategy, or "strategy:vK" when other
 * swept keys give several points per (strategy, CPU count); K numbers them
 * in point order among the points with completed trials (as summary.csv
 * lists them).  The points table says what each series stands for.
 *
 * Provenance is read back from run.json (written just before), so the
 * report and run.json agree on commit, compiler, host and date.
 */
#include "driver.h"
#include "samples.h"
#include "workload.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pmapstorm/alloc.h>
#include <pmapstorm/topo.h>

#define NOISY_CV 0.10                   /* coefficient of variation of ops_per_s */
#define MAX_COLS 64

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

static void vtext(char *buf, size_t len, const char *fmt, va_list ap)
{
	vsnprintf(buf, len, fmt, ap);
}

static void doc_heading(struct doc *d, int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vtext(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(d->md, "%.*s ", level, "######");
	md_text(d->md, buf);
	fputs("\n\n", d->md);
	fprintf(d->html, "<h%d>", level);
	html_text(d->html, buf);
	fprintf(d->html, "</h%d>\n", level);
}

static void doc_para(struct doc *d, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vtext(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	md_text(d->md, buf);
	fputs("\n\n", d->md);
	fputs("<p>", d->html);
	html_text(d->html, buf);
	fputs("</p>\n", d->html);
}

/* A list item "key: text" (key in bold; NULL for none); opens the list. */
static void doc_item(struct doc *d, const char *key, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vtext(buf, sizeof(buf), fmt, ap);
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

static void doc_image(struct doc *d, const char *png, const char *caption, const char *svg)
{
	fputs("![", d->md);
	md_text(d->md, caption);
	fprintf(d->md, "](%s)\n\n", png);
	fputs("<figure><img src=\"", d->html);
	html_text(d->html, png);
	fputs("\" alt=\"", d->html);
	html_text(d->html, caption);
	fputs("\"><figcaption>", d->html);
	html_text(d->html, caption);
	if (svg != NULL) {
		fprintf(d->md, "%s: [PNG](%s), [SVG](%s)\n\n", caption, png, svg);
		fputs(" (<a href=\"", d->html);
		html_text(d->html, svg);
		fputs("\">SVG</a>)", d->html);
	}
	fputs("</figcaption></figure>\n", d->html);
}

/* ---- numbers ---- */

/* median, range, mean, sd and the bootstrap CI of the median (samples.c) */
static struct samples_stats stats_of(const double *vals, unsigned n)
{
	return samples_summarize(vals, n, true);
}

static const char *num(char *buf, size_t len, double v)
{
	double a = fabs(v);
	if (v == 0)
		snprintf(buf, len, "0");
	else if (a >= 1000 && a < 1e15)
		snprintf(buf, len, "%.0f", v);
	else if (a >= 1)
		snprintf(buf, len, "%.4g", v);
	else
		snprintf(buf, len, "%.3g", v);
	return buf;
}

/* ---- what the report is about ---- */

struct point_info {
	unsigned done, errors;
	char series[96];  /* as in the plots; "" without completed trials */
	char group[512];  /* the swept keys but shootdown.strategy */
	char others[512]; /* the swept keys but strategy and machine.cpus */
	unsigned group_idx, strat_idx;
};

struct metric_desc {
	const char *name, *unit;
	int better;
};

struct report {
	const struct run_results *rr;
	unsigned np, T;
	struct point_info *pi;
	const char *strat[MAX_COLS];
	unsigned nstrat;
	const char **groups; /* group labels, in point order */
	unsigned ngroups;
	struct metric_desc *metrics;
	unsigned nmetrics;
	json_t *runjson;     /* run.json as written, or NULL */
	long host_pus;
};

static const struct trial_result *trial_at(const struct report *r, unsigned p, unsigned t)
{
	return &r->rr->rr_trials[p * r->T + t];
}

/* The completed trials' values of metric name at point p, into v (T of room). */
static unsigned values(const struct report *r, unsigned p, const char *name, double *v)
{
	unsigned n = 0;
	for (unsigned t = 0; t < r->T; t++) {
		const struct trial_result *tr = trial_at(r, p, t);
		const struct metric *m = tr->tr_done ? trial_metric(tr, name) : NULL;
		if (m != NULL)
			v[n++] = m->m_value;
	}
	return n;
}

static struct samples_stats point_stats(const struct report *r, unsigned p, const char *name)
{
	double *v = mem_alloc(double, r->T + 1);
	struct samples_stats s = stats_of(v, values(r, p, name, v));
	free(v);
	return s;
}

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

static void analyse(struct report *r)
{
	const struct run_results *rr = r->rr;
	r->pi = mem_zalloc(struct point_info, r->np);
	r->groups = mem_zalloc(const char *, r->np);
	unsigned cap = 64;
	r->metrics = mem_zalloc(struct metric_desc, cap);
	/* series numbering: rank of a point among the points with completed
	 * trials of the same (strategy, cpus), in point order -- as plots/ do */
	unsigned *rank = mem_zalloc(unsigned, r->np), maxrank = 0;
	for (unsigned p = 0; p < r->np; p++) {
		struct point_info *pi = &r->pi[p];
		const struct exp_point *pt = &rr->rr_points[p];
		for (unsigned t = 0; t < r->T; t++) {
			const struct trial_result *tr = trial_at(r, p, t);
			if (!tr->tr_done)
				continue;
			pi->done++;
			pi->errors += tr->tr_errors;
			for (unsigned i = 0; i < tr->tr_nmetrics; i++) {
				const struct metric *m = &tr->tr_metrics[i];
				unsigned k = 0;
				while (k < r->nmetrics && strcmp(r->metrics[k].name, m->m_name))
					k++;
				if (k < r->nmetrics)
					continue;
				if (r->nmetrics == cap)
					r->metrics = mem_realloc(struct metric_desc, r->metrics, cap *= 2);
				r->metrics[r->nmetrics++] = (struct metric_desc){m->m_name, m->m_unit, m->m_better};
			}
		}
		/* group and "other swept keys": machine.cpus first, then the file's order */
		append(pi->group, sizeof(pi->group), "%u CPU%s", pt->ep_cfg.mc_ncpu, pt->ep_cfg.mc_ncpu == 1 ? "" : "s");
		for (unsigned i = 0; i < pt->ep_nsweep; i++) {
			const char *k = pt->ep_sweep_keys[i];
			if (!strcmp(k, "shootdown.strategy") || !strcmp(k, "machine.cpus"))
				continue;
			append(pi->group, sizeof(pi->group), ", %s=%s", k, pt->ep_sweep_vals[i]);
			append(pi->others, sizeof(pi->others), "%s%s=%s", pi->others[0] ? ", " : "", k, pt->ep_sweep_vals[i]);
		}
		unsigned g = 0;
		while (g < r->ngroups && strcmp(r->groups[g], pi->group))
			g++;
		if (g == r->ngroups)
			r->groups[r->ngroups++] = pi->group;
		pi->group_idx = g;
		unsigned s = 0;
		while (s < r->nstrat && strcmp(r->strat[s], pt->ep_cfg.mc_strategy))
			s++;
		if (s == r->nstrat && r->nstrat < MAX_COLS)
			r->strat[r->nstrat++] = pt->ep_cfg.mc_strategy;
		pi->strat_idx = s;
		if (pi->done == 0)
			continue;
		for (unsigned q = 0; q < p; q++)
			if (r->pi[q].done && rr->rr_points[q].ep_cfg.mc_ncpu == pt->ep_cfg.mc_ncpu &&
			    !strcmp(rr->rr_points[q].ep_cfg.mc_strategy, pt->ep_cfg.mc_strategy))
				rank[p]++;
		if (++rank[p] > maxrank)
			maxrank = rank[p];
	}
	for (unsigned p = 0; p < r->np; p++) {
		if (r->pi[p].done == 0)
			continue;
		if (maxrank > 1)
			snprintf(r->pi[p].series, sizeof(r->pi[p].series), "%s:v%u", rr->rr_points[p].ep_cfg.mc_strategy, rank[p]);
		else
			snprintf(r->pi[p].series, sizeof(r->pi[p].series), "%s", rr->rr_points[p].ep_cfg.mc_strategy);
	}
	free(rank);
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

static const char *point_name(const struct report *r, unsigned p, char *buf, size_t len)
{
	const struct exp_point *pt = &r->rr->rr_points[p];
	snprintf(buf, len, "point %u (%s, %u CPU%s%s%s)", p, pt->ep_cfg.mc_strategy, pt->ep_cfg.mc_ncpu,
	    pt->ep_cfg.mc_ncpu == 1 ? "" : "s",
	    r->pi[p].others[0] ? ", " : "", r->pi[p].others);
	return buf;
}

/* ---- the sections ---- */

static void what_ran(struct doc *d, const struct report *r)
{
	const struct run_results *rr = r->rr;
	char b[256], list[4096] = "";
	unsigned done = 0;
	for (unsigned p = 0; p < r->np; p++)
		done += r->pi[p].done;
	doc_heading(d, 2, "What ran");
	doc_item(d, "Experiment", "%s", rr->rr_ex->ex_name);
	doc_item(d, "Config file", "%s", rr->rr_config_path ? rr->rr_config_path : "unknown");
	for (unsigned i = 0; i < rr->rr_nsets; i++)
		append(list, sizeof(list), "%s--set %s", i ? ", " : "", rr->rr_sets[i]);
	doc_item(d, "Overrides", "%s", rr->rr_nsets ? list : "none");
	list[0] = '\0';
	const struct exp_point *p0 = &rr->rr_points[0];
	for (unsigned i = 0; i < p0->ep_nsweep; i++)
		append(list, sizeof(list), "%s%s", i ? ", " : "", p0->ep_sweep_keys[i]);
	doc_item(d, "Swept keys", "%s", p0->ep_nsweep ? list : "none (a single point)");
	doc_item(d, "Points x trials", "%u x %u = %u trials, %u completed, in %.1f s%s", r->np, r->T, r->np * r->T, done,
	    rr->rr_wall_s, rr->rr_interrupted ? " (interrupted)" : "");
	bool swept_time = false;
	for (unsigned i = 0; i < p0->ep_nsweep; i++)
		swept_time |= !strcmp(p0->ep_sweep_keys[i], "experiment.warmup") || !strcmp(p0->ep_sweep_keys[i], "experiment.duration");
	doc_item(d, "Trial", "warm-up %.3g s, then %.3g s measured%s; the trials of all points run in one seeded random order",
	    p0->ep_warmup_s, p0->ep_duration_s, swept_time ? " (at point 0: swept)" : "");
	doc_item(d, "Seed", "%llu", (unsigned long long)p0->ep_seed);
	list[0] = '\0';
	for (unsigned i = 0; i < p0->ep_nroles; i++) {
		const struct exp_role *er = &p0->ep_roles[i];
		append(list, sizeof(list), "%s%s: %s on CPUs '%s' (%s pmap)", i ? "; " : "", er->er_name,
		    er->er_workload->wl_name, er->er_cpus, er->er_pmap);
	}
	doc_item(d, "Roles", "%s", p0->ep_nroles ? list : "none");
	list[0] = '\0';
	for (unsigned s = 0; s < r->nstrat; s++)
		append(list, sizeof(list), "%s%s", s ? ", " : "", r->strat[s]);
	doc_item(d, "Strategies", "%s", list);
	doc_item(d, "pmapstorm", "%s, commit %s", prov(r, "pmapstorm", b, sizeof(b)), prov(r, "commit", list, sizeof(list)));
	doc_item(d, "Compiler", "%s", prov(r, "compiler", b, sizeof(b)));
	doc_item(d, "Kernel", "%s", prov(r, "kernel", b, sizeof(b)));
	doc_item(d, "Host", "%s, %ld processing units", prov(r, "host", b, sizeof(b)), r->host_pus);
	/* a synthetic machine is said plainly: its groups and distances are modelled */
	const struct machine_config *c0 = &p0->ep_cfg;
	if (c0->mc_topology[0] != '\0')
		doc_item(d, "Topology", "SYNTHETIC machine \"%s\" (hwloc synthetic; groups and hop levels modelled, "
		    "threads on the host's PUs), placement %s%s", c0->mc_topology, c0->mc_placement,
		    c0->mc_ipi_ndistance ? ", ipi.distance_ns set" : "");
	else
		doc_item(d, "Topology", "the host (topology.xml), placement %s; where each CPU ran: placement.csv",
		    c0->mc_placement);
	doc_item(d, "Date", "%s", prov(r, "date", b, sizeof(b)));
	doc_list_end(d);
	doc_para(d, "Everything, per trial, is in run.json; the CSV files are the plots' input.");
}

static void warnings(struct doc *d, const struct report *r)
{
	const struct run_results *rr = r->rr;
	char b[1024], list[4096] = "";
	unsigned nw = 0, over = 0;
	doc_heading(d, 2, "Warnings");
	/* oversubscribed: more simulated CPUs than host processing units */
	unsigned maxcpus = 0;
	for (unsigned p = 0; p < r->np; p++) {
		unsigned c = rr->rr_points[p].ep_cfg.mc_ncpu;
		if (r->host_pus > 0 && c > (unsigned long)r->host_pus) {
			over++;
			char tok[32];
			snprintf(tok, sizeof(tok), " %u,", c);
			char padded[4100];
			snprintf(padded, sizeof(padded), " %s,", list);
			if (strstr(padded, tok) == NULL)
				append(list, sizeof(list), "%s%u", list[0] ? ", " : "", c);
		}
		maxcpus = c > maxcpus ? c : maxcpus;
	}
	if (over > 0) {
		doc_item(d, "Oversubscribed host",
		    "%u point(s) simulate more CPUs (machine.cpus = %s) than the host has processing units (%ld): "
		    "their simulated CPUs time-share host PUs, so latencies include host scheduling delays and "
		    "throughput cannot scale; compare them with care.",
		    over, list, r->host_pus);
		nw++;
	}
	/* noisy: coefficient of variation of ops_per_s over trials above 10% */
	double *v = mem_alloc(double, r->T + 1);
	for (unsigned p = 0; p < r->np; p++) {
		unsigned n = values(r, p, "ops_per_s", v);
		struct samples_stats s = stats_of(v, n);
		if (n >= 2 && s.mean > 0 && s.sd / s.mean > NOISY_CV) {
			doc_item(d, "Noisy trials", "%s: ops_per_s varies by %.1f%% (coefficient of variation over %u trials; above %.0f%%)",
			    point_name(r, p, b, sizeof(b)), 100 * s.sd / s.mean, n, 100 * NOISY_CV);
			nw++;
		}
	}
	free(v);
	if (rr->rr_interrupted) {
		unsigned done = 0;
		for (unsigned p = 0; p < r->np; p++)
			done += r->pi[p].done;
		doc_item(d, "Interrupted run", "only %u of %u trials completed; points with fewer trials have wider intervals "
		    "and points without any are missing from the tables and plots", done, r->np * r->T);
		nw++;
	}
	for (unsigned p = 0; p < r->np; p++)
		if (r->pi[p].done == 0) {
			doc_item(d, "No completed trial", "%s", point_name(r, p, b, sizeof(b)));
			nw++;
		}
	for (unsigned p = 0; p < r->np; p++)
		if (r->pi[p].errors > 0) {
			doc_item(d, "Errors", "%s: %u violation(s) found by the workloads' checks or pmap_check/tlb_check; "
			    "its results are suspect", point_name(r, p, b, sizeof(b)), r->pi[p].errors);
			nw++;
		}
	doc_list_end(d);
	if (nw == 0)
		doc_para(d, "None: the host has at least as many processing units as simulated CPUs (%u), "
		    "every point's ops_per_s varies by at most %.0f%% over trials, the run completed, and no errors were found.",
		    maxcpus, 100 * NOISY_CV);
}

/* The statistics of metric md at every strategy of group g; the best index or -1. */
static int group_stats(const struct report *r, unsigned g, const struct metric_desc *md, struct samples_stats *st, bool *have)
{
	int best = -1;
	for (unsigned s = 0; s < r->nstrat; s++)
		have[s] = false;
	for (unsigned p = 0; p < r->np; p++) {
		const struct point_info *pi = &r->pi[p];
		unsigned s = pi->strat_idx;
		if (pi->group_idx != g || s >= r->nstrat || have[s])
			continue;
		st[s] = point_stats(r, p, md->name);
		if (st[s].n == 0)
			continue;
		have[s] = true;
		if (best < 0 || (md->better > 0 && st[s].median > st[best].median) ||
		    (md->better < 0 && st[s].median < st[best].median))
			best = (int)s;
	}
	return best;
}

typedef char summary_cell[128]; /* a cell's text */

static void summary(struct doc *d, const struct report *r)
{
	char b[3][128], n[3][32], align[MAX_COLS + 8];
	const char *hdr[MAX_COLS + 8], *cells[MAX_COLS + 8];
	summary_cell *scell = mem_zalloc(summary_cell, MAX_COLS);
	struct samples_stats st[MAX_COLS];
	bool have[MAX_COLS];
	doc_heading(d, 2, "Summary");
	doc_para(d, "One table per group of points that differ only in the shootdown strategy.  For each metric with a "
	    "better-direction: the best strategy by median over trials, the bootstrap percentile 95%% confidence interval "
	    "of its median (%d resamples, fixed seed; with few trials it is as wide as the range) and its range [min, max] "
	    "over trials%s  Metrics without a better-direction follow, as median [min, max] per strategy.",
	    SAMPLES_BOOT_RESAMPLES, r->nstrat > 1 ? "; then every strategy's median divided by the best's (1.00 = the best)."
	                                  : ".  With one strategy there is nothing to compare, so it is the best everywhere.");
	for (unsigned g = 0; g < r->ngroups; g++) {
		doc_heading(d, 3, "%s", r->groups[g]);
		/* metrics with a direction: best, CI, range, ratios */
		unsigned nc = 0;
		hdr[nc++] = "Metric";
		hdr[nc++] = "Unit";
		hdr[nc++] = "Better";
		hdr[nc++] = "Best";
		hdr[nc++] = "Median";
		hdr[nc++] = "95% CI of median";
		hdr[nc++] = "Range [min, max]";
		hdr[nc++] = "Trials";
		unsigned first = nc;
		for (unsigned s = 0; r->nstrat > 1 && s < r->nstrat; s++)
			hdr[nc++] = r->strat[s];
		for (unsigned i = 0; i < nc; i++)
			align[i] = i < 4 ? 'l' : 'r';
		align[nc] = '\0';
		doc_table(d, nc, hdr, align);
		for (unsigned k = 0; k < r->nmetrics; k++) {
			const struct metric_desc *md = &r->metrics[k];
			int best = md->better != 0 ? group_stats(r, g, md, st, have) : -1;
			if (best < 0)
				continue;
			const struct samples_stats *bs = &st[best];
			unsigned c = 0;
			cells[c++] = md->name;
			cells[c++] = md->unit;
			cells[c++] = md->better > 0 ? "higher" : "lower";
			cells[c++] = r->strat[best];
			cells[c++] = num(n[2], sizeof(n[2]), bs->median);
			snprintf(b[0], sizeof(b[0]), "[%s, %s]", num(n[0], sizeof(n[0]), bs->ci_lo), num(n[1], sizeof(n[1]), bs->ci_hi));
			cells[c++] = b[0];
			snprintf(b[1], sizeof(b[1]), "[%s, %s]", num(n[0], sizeof(n[0]), bs->min), num(n[1], sizeof(n[1]), bs->max));
			cells[c++] = b[1];
			snprintf(b[2], sizeof(b[2]), "%u", bs->n);
			cells[c++] = b[2];
			for (unsigned s = 0; nc > first && s < r->nstrat; s++) {
				if (!have[s])
					snprintf(scell[s], 128, "-");
				else if ((int)s == best)
					snprintf(scell[s], 128, "1.00 (best)");
				else if (st[best].median == 0)
					snprintf(scell[s], 128, st[s].median == 0 ? "1.00" : "n/a (best is 0)");
				else
					snprintf(scell[s], 128, "%.2f", st[s].median / st[best].median);
				cells[c++] = scell[s];
			}
			doc_row(d, cells);
		}
		doc_table_end(d);
		/* metrics without a direction: median [min, max] per strategy */
		nc = 0;
		hdr[nc++] = "Metric (no better-direction)";
		hdr[nc++] = "Unit";
		for (unsigned s = 0; s < r->nstrat; s++)
			hdr[nc++] = r->strat[s];
		for (unsigned i = 0; i < nc; i++)
			align[i] = i < 2 ? 'l' : 'r';
		align[nc] = '\0';
		bool opened = false;
		for (unsigned k = 0; k < r->nmetrics; k++) {
			const struct metric_desc *md = &r->metrics[k];
			if (md->better != 0 || group_stats(r, g, md, st, have) < 0)
				continue;
			if (!opened)
				doc_table(d, nc, hdr, align);
			opened = true;
			unsigned c = 0;
			cells[c++] = md->name;
			cells[c++] = md->unit;
			for (unsigned s = 0; s < r->nstrat; s++) {
				if (have[s])
					snprintf(scell[s], 128, "%s [%s, %s]", num(n[0], sizeof(n[0]), st[s].median),
					    num(n[1], sizeof(n[1]), st[s].min), num(n[2], sizeof(n[2]), st[s].max));
				else
					snprintf(scell[s], 128, "-");
				cells[c++] = scell[s];
			}
			doc_row(d, cells);
		}
		if (opened)
			doc_table_end(d);
	}
	free(scell);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void plots(struct doc *d, const char *dir)
{
	static const struct {
		const char *name, *caption;
	} known[] = {
	    {"throughput", "Throughput against CPU count, with linear-scaling references"},
	    {"latency_vs_cpus", "p50 and p99 shootdown latency against CPU count"},
	    {"latency_cdf", "Shootdown latency CDF at the largest CPU count"},
	    {"lockwait", "Lock wait-time share by class"},
	    {"ackmatrix", "Acknowledgement latency, initiator x target"},
	    {"timeline", "Timeline of shootdowns/s, operations/s and pages/s"},
	};
	const unsigned nknown = sizeof(known) / sizeof(known[0]);
	doc_heading(d, 2, "Plots");
	char *names[256];
	unsigned n = 0;
	DIR *dh = opendir(dir);
	struct dirent *e;
	while (dh != NULL && (e = readdir(dh)) != NULL && n < 256) {
		size_t l = strlen(e->d_name);
		if (l > 4 && !strcmp(e->d_name + l - 4, ".png"))
			names[n++] = strndup(e->d_name, l - 4);
	}
	if (dh != NULL)
		closedir(dh);
	qsort(names, n, sizeof(char *), cmp_str);
	if (n == 0)
		doc_para(d, "No plots: gnuplot was skipped (--no-plots), is not installed, or failed.  "
		    "'pmapstorm plot' on this folder draws them from the CSV files (this report does not change).");
	char png[512], svg[512], path[4096];
	/* the known plots first, in reading order, then any others */
	for (unsigned pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < (pass ? n : nknown); i++) {
			const char *name = pass ? names[i] : known[i].name, *caption = pass ? names[i] : known[i].caption;
			bool present = false, isknown = false;
			for (unsigned j = 0; j < n; j++)
				present |= !strcmp(names[j], name);
			for (unsigned j = 0; pass && j < nknown; j++)
				isknown |= !strcmp(known[j].name, name);
			if (!present || isknown)
				continue;
			snprintf(png, sizeof(png), "%s.png", name);
			snprintf(svg, sizeof(svg), "%s.svg", name);
			snprintf(path, sizeof(path), "%s/%s", dir, svg);
			doc_image(d, png, caption, access(path, R_OK) == 0 ? svg : NULL);
		}
	for (unsigned i = 0; i < n; i++)
		free(names[i]);
}

static void points(struct doc *d, const struct report *r)
{
	static const char *const hdr[] = {"Point", "Strategy", "CPUs", "Series in the plots", "Other swept keys", "Trials",
	    "Errors", "ops/s (median)"};
	doc_heading(d, 2, "Points");
	doc_table(d, 8, hdr, "llrllrrr");
	for (unsigned p = 0; p < r->np; p++) {
		const struct exp_point *pt = &r->rr->rr_points[p];
		const struct point_info *pi = &r->pi[p];
		char b[5][64];
		snprintf(b[0], sizeof(b[0]), "%u", p);
		snprintf(b[1], sizeof(b[1]), "%u", pt->ep_cfg.mc_ncpu);
		snprintf(b[2], sizeof(b[2]), "%u of %u", pi->done, r->T);
		snprintf(b[3], sizeof(b[3]), "%u", pi->errors);
		struct samples_stats s = point_stats(r, p, "ops_per_s");
		const char *cells[] = {b[0], pt->ep_cfg.mc_strategy, b[1], pi->series[0] ? pi->series : "-",
		    pi->others[0] ? pi->others : "-", b[2], b[3], s.n ? num(b[4], sizeof(b[4]), s.median) : "-"};
		doc_row(d, cells);
	}
	doc_table_end(d);
}

/* ---- the files ---- */


static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<style>\n"
    "body { font-family: sans-serif; max-width: 1200px; margin: 1em auto; padding: 0 1em; color: #222; }\n"
    "table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 90%; }\n"
    "th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; }\n"
    "th { background: #f0f0f0; } td.n { text-align: right; font-variant-numeric: tabular-nums; }\n"
    "figure { margin: 1em 0 2em; } img { max-width: 100%; border: 1px solid #eee; }\n"
    "h3 { font-size: 1em; margin-top: 1.5em; }\n"
    "</style>\n";

int report_write(const struct run_results *rr, const char *dir)
{
	struct report r = {.rr = rr, .np = rr->rr_ex->ex_npoints, .T = rr->rr_trials_per_point};
	char path[4096], tmd[4096], thtml[4096];
	snprintf(path, sizeof(path), "%s/run.json", dir);
	r.runjson = json_load_file(path, 0, NULL);
	json_t *pus = json_object_get(json_object_get(r.runjson, "provenance"), "host_pus");
	r.host_pus = json_is_integer(pus) ? (long)json_integer_value(pus) : (long)topo_npus();
	analyse(&r);

	struct doc d = {0};
	int rc = EXIT_ENV;
	if ((d.md = cli_file_begin(dir, "report.md", tmd, sizeof(tmd))) == NULL)
		goto out;
	if ((d.html = cli_file_begin(dir, "index.html", thtml, sizeof(thtml))) == NULL) {
		fclose(d.md);
		unlink(tmd);
		goto out;
	}
	fputs(html_head, d.html);
	fputs("<title>pmapstorm run: ", d.html);
	html_text(d.html, rr->rr_ex->ex_name);
	fputs("</title>\n</head>\n<body>\n", d.html);
	doc_heading(&d, 1, "pmapstorm run: %s", rr->rr_ex->ex_name);
	doc_para(&d, "Shootdown strategies compared under the roles below; %u point(s) x %u trial(s)%s. "
	    "Sections: what ran, warnings, summary, plots, points.",
	    r.np, r.T, rr->rr_interrupted ? ", interrupted: partial results" : "");
	what_ran(&d, &r);
	warnings(&d, &r);
	summary(&d, &r);
	plots(&d, dir);
	points(&d, &r);
	fputs("</body>\n</html>\n", d.html);
	rc = cli_file_commit(d.md, dir, "report.md", tmd);
	if (cli_file_commit(d.html, dir, "index.html", thtml) != EXIT_OK)
		rc = EXIT_ENV;
out:
	json_decref(r.runjson);
	free(r.pi);
	free(r.groups);
	free(r.metrics);
	return rc;
}
