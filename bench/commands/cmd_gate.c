/*
 * cmd_gate.c — `pmapstorm gate BASELINE CURRENT`: options, then the
 * comparison and its reports (compare/gate.c says how it decides).
 */
#include "commands/commands.h"
#include "commands/exitcode.h"
#include "common/msg.h"
#include "compare/gate.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <pmapstorm/alloc.h>

static const char *const gate_usage =
    "usage: pmapstorm gate BASELINE CURRENT [--threshold PCT] [--alpha A] [--metric GLOB]...\n"
    "                      [--deterministic-only] [--allow-missing] [--noise FILE]\n"
    "                      [--aa [--noise-out FILE]] [--junit FILE] [--markdown FILE] [--json FILE]\n"
    "\n"
    "Compares two runs (a run.json, a results folder, or a baseline from\n"
    "results/baselines/) point by point: points match by configuration (config\n"
    "keys both know, and roles), metrics in their better-direction.  Timing\n"
    "metrics: Mann-Whitney U test (as Google Benchmark's compare.py), bootstrap\n"
    "interval of the ratio of medians, and a minimum effect.  Deterministic\n"
    "counters (marked in run.json): a tight tolerance.  Verdicts: regression,\n"
    "improvement, changed (no better-direction), no change, inconclusive (with\n"
    "the trials a side it would take).  A point of BASELINE that CURRENT lacks,\n"
    "a gated metric that CURRENT lacks (or has no completed trial of), and an\n"
    "interrupted CURRENT fail the gate, each listed as missing.  A merged run\n"
    "(pmapstorm merge) is a run like any other; when the trials of the two runs\n"
    "ran on different hosts, or either's on several, a note says that timing\n"
    "metrics compare hosts too (deterministic counters do not depend on them).\n"
    "  --threshold PCT      minimum effect that counts, percent (default 5)\n"
    "  --alpha A            significance level of the U test (default 0.05)\n"
    "  --metric GLOB        compare only metrics matching GLOB (repeatable)\n"
    "  --deterministic-only gate only deterministic counters; timing is printed\n"
    "  --allow-missing      list what CURRENT lacks (points, metrics, an\n"
    "                       interrupted run) without failing on it\n"
    "  --noise FILE         a noise floor per metric (from --aa): a metric's\n"
    "                       threshold is the larger of --threshold and its floor\n"
    "  --aa                 A/A mode: BASELINE and CURRENT are runs of the same\n"
    "                       build; also prints each metric's noise\n"
    "  --noise-out FILE     with --aa: write the noise floor (raised from --noise)\n"
    "  --junit FILE         JUnit XML, a test case per point and metric\n"
    "  --markdown FILE      a Markdown table (for a pull-request comment)\n"
    "  --json FILE          every comparison as JSON\n"
    "Each FILE of --noise-out, --junit, --markdown and --json is written\n"
    "atomically (temporary name, fsync, rename) and replaced if it exists.\n"
    "Exit: 0 no regression, 1 a regression (or a deterministic counter changed,\n"
    "or something missing from CURRENT), 2 bad input (missing or malformed file,\n"
    "no common point, bad flag), 3 cannot write a --noise-out, --junit,\n"
    "--markdown or --json file, or out of memory.\n";

static bool parse_double(const char *s, double *out, bool pct)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (pct && *end == '%')
		end++;
	if (end == s || *end != '\0' || errno != 0 || !isfinite(v))
		return false;
	*out = v;
	return true;
}

/* what `pmapstorm gate` was asked */
struct gate_cmd {
	struct gate_options gc_o;
	const char *gc_globs[64];
	const char *gc_junit, *gc_md, *gc_js, *gc_noise, *gc_noise_out;
	bool gc_aa;
	char gc_base[4096], gc_cur[4096]; /* the two run.json paths */
};

/* the options: EXIT_GO_ON or an exit code */
static int gate_options(int argc, char **argv, struct gate_cmd *g)
{
	struct gate_options *o = &g->gc_o;
	static const struct option opts[] = {
		{"threshold", required_argument, NULL, 't'}, {"alpha", required_argument, NULL, 'a'},
		{"metric", required_argument, NULL, 'm'}, {"junit", required_argument, NULL, 'j'},
		{"markdown", required_argument, NULL, 'k'}, {"json", required_argument, NULL, 'J'},
		{"deterministic-only", no_argument, NULL, 'd'}, {"noise", required_argument, NULL, 'n'},
		{"aa", no_argument, NULL, 'A'}, {"noise-out", required_argument, NULL, 'N'},
		{"allow-missing", no_argument, NULL, 'M'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	int c;
	double v;
	o->go_threshold = 0.05;
	o->go_alpha = 0.05;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (!parse_double(optarg, &v, true) || v < 0 || v >= 1000) {
				msg_error("gate: --threshold '%s': a percentage, 0 to 1000", optarg);
				return EXIT_USAGE;
			}
			o->go_threshold = v / 100;
			break;
		case 'a':
			if (!parse_double(optarg, &v, false) || !(v > 0 && v < 1)) {
				msg_error("gate: --alpha '%s': a probability between 0 and 1", optarg);
				return EXIT_USAGE;
			}
			o->go_alpha = v;
			break;
		case 'm':
			if (o->go_nglobs == 64) {
				msg_error("gate: more than 64 --metric patterns");
				return EXIT_USAGE;
			}
			g->gc_globs[o->go_nglobs++] = optarg;
			break;
		case 'j': g->gc_junit = optarg; break;
		case 'k': g->gc_md = optarg; break;
		case 'J': g->gc_js = optarg; break;
		case 'd': o->go_det_only = true; break;
		case 'M': o->go_allow_missing = true; break;
		case 'n': g->gc_noise = optarg; break;
		case 'A': g->gc_aa = true; break;
		case 'N': g->gc_noise_out = optarg; break;
		case 'h': fputs(gate_usage, stdout); return EXIT_OK;
		default:
			msg_error("gate: unknown or incomplete option '%s'\n%s", argv[optind - 1], gate_usage);
			return EXIT_USAGE;
		}
	}
	o->go_globs = g->gc_globs;
	if (argc - optind != 2) {
		msg_error("gate: two runs, BASELINE and CURRENT (pmapstorm gate BASELINE CURRENT)");
		return EXIT_USAGE;
	}
	if (g->gc_noise_out != NULL && !g->gc_aa) {
		msg_error("gate: --noise-out needs --aa (the noise floor comes from two runs of the same build)");
		return EXIT_USAGE;
	}
	gate_input_path(argv[optind], g->gc_base, sizeof(g->gc_base));
	gate_input_path(argv[optind + 1], g->gc_cur, sizeof(g->gc_cur));
	return EXIT_GO_ON;
}

/* The verdict printed, the files asked for written, and why it fails
 * said: the exit code (1 on a failing gate, 3 when a file cannot be
 * written) */
static int gate_report(const struct gate_cmd *g, const struct gate_doc *base, const struct gate_doc *cur,
    const struct gate_result *r)
{
	const struct gate_options *o = &g->gc_o;
	gate_print_text(stdout, base, cur, o, r);
	if (g->gc_aa)
		gate_print_noise(stdout, r);
	int rc = gate_failed(r) ? EXIT_VIOLATION : EXIT_OK, wrc = 0;
	if (g->gc_noise_out != NULL)
		wrc = gate_noise_write(g->gc_noise_out, o, r, base, cur);
	if (g->gc_junit != NULL && wrc == 0)
		wrc = gate_write_junit(g->gc_junit, base, cur, o, r);
	if (g->gc_md != NULL && wrc == 0)
		wrc = gate_write_markdown(g->gc_md, base, cur, o, r);
	if (g->gc_js != NULL && wrc == 0)
		wrc = gate_write_json(g->gc_js, base, cur, o, r);
	if (wrc != 0)
		rc = exitcode_of(err_env(wrc));
	if (rc == EXIT_VIOLATION && r->gr_failures > 0)
		msg_error("gate: %u regression(s) or deterministic change(s) in %s against %s%s", r->gr_failures,
		    g->gc_cur, g->gc_base, g->gc_aa ? " (A/A: the noise floor is too low for this machine)" : "");
	if (rc == EXIT_VIOLATION && r->gr_gap_failures > 0)
		msg_error("gate: %u item(s) of %s missing from %s (listed above; --allow-missing accepts them)",
		    r->gr_gap_failures, g->gc_base, g->gc_cur);
	return rc;
}

int cmd_gate(int argc, char **argv)
{
	struct gate_cmd *g = mem_zalloc(struct gate_cmd, 1);
	if (g == NULL) {
		msg_error("gate: out of host memory");
		return EXIT_ENV;
	}
	int rc = gate_options(argc, argv, g);
	char err[1024];
	struct gate_doc base, cur;
	struct gate_result r;
	if (rc != EXIT_GO_ON)
		goto out;
	if (g->gc_noise != NULL && gate_noise_load(g->gc_noise, &g->gc_o, err, sizeof(err)) != 0) {
		msg_error("gate: --noise %s", err);
		rc = EXIT_USAGE;
		goto out;
	}
	if ((rc = gate_doc_load(g->gc_base, &base, err, sizeof(err))) != 0) {
		msg_error("gate: %s", err);
		rc = exitcode_of(rc);
		goto noise;
	}
	if ((rc = gate_doc_load(g->gc_cur, &cur, err, sizeof(err))) != 0) {
		msg_error("gate: %s", err);
		rc = exitcode_of(rc);
		goto docs;
	}
	if ((rc = gate_compare(&base, &cur, &g->gc_o, &r, err, sizeof(err))) != 0) {
		msg_error("gate: %s", err);
		rc = exitcode_of(rc);
	} else {
		rc = gate_report(g, &base, &cur, &r);
		gate_result_free(&r);
	}
	gate_doc_free(&cur);
docs:
	gate_doc_free(&base);
noise:
	gate_noise_free(&g->gc_o);
out:
	free(g);
	return rc;
}
