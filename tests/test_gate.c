/*
 * test_gate.c — `pmapstorm gate` on synthetic run.json pairs (issue 9):
 * a 20% regression exits 1, an improvement and identical distributions
 * exit 0, malformed or mismatched input exits 2 with a message naming the
 * file and what is wrong; deterministic counters, --deterministic-only,
 * too few trials, the reader on truncated and mutated input, the
 * statistics against known values (samples.c), baselines and export.
 * Nothing here measures time: every input is synthetic.
 */
#include "harness.h"

#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands/commands.h"
#include "commands/exitcode.h"
#include "common/samples.h"
#include "common/utf8.h"
#include "compare/gate.h"

static char tmpdir[] = "/tmp/pmapstorm-gate-XXXXXX";
static char outbuf[1 << 16], errbuf[8192];

/* ---- synthetic runs ---- */

struct spec {
	const char *name, *better;
	bool det;
	unsigned n;
	double vals[32];
};

static json_t *make_point(unsigned index, const char *strategy, const struct spec *s, unsigned ns)
{
	json_t *cfg = json_pack("{s:s,s:s,s:s}", "machine.cpus", "2", "shootdown.strategy", strategy, "tlb.entries", "64");
	json_t *roles = json_pack("[{s:s,s:s,s:s,s:s,s:{s:s}}]", "name", "unmap", "workload", "munmap", "cpus", "0", "pmap",
	    "app", "options", "len", "8");
	unsigned nt = 0;
	for (unsigned i = 0; i < ns; i++)
		nt = s[i].n > nt ? s[i].n : nt;
	json_t *trials = json_array(), *sum = json_object();
	for (unsigned t = 0; t < nt; t++) {
		json_t *m = json_object();
		for (unsigned i = 0; i < ns; i++)
			if (t < s[i].n)
				json_object_set_new(m, s[i].name, json_pack("{s:f,s:s,s:s}", "value", s[i].vals[t], "unit", "ns",
				    "better", s[i].better));
		json_array_append_new(trials, json_pack("{s:i,s:o}", "trial", t, "metrics", m));
	}
	for (unsigned i = 0; i < ns; i++)
		json_object_set_new(sum, s[i].name, json_pack("{s:s,s:s,s:i,s:b}", "unit", "ns", "better", s[i].better, "n",
		    s[i].n, "deterministic", s[i].det));
	return json_pack("{s:i,s:{s:s},s:o,s:o,s:f,s:f,s:o,s:o}", "index", index, "params", "shootdown.strategy", strategy,
	    "config", cfg, "roles", roles, "warmup_s", 0.1, "duration_s", 1.0, "trials", trials, "summary", sum);
}

/* a point of make_point() whose role has workload option key = val */
static json_t *point_with_option(unsigned index, const char *strategy, const struct spec *s, const char *key,
    const char *val)
{
	json_t *p = make_point(index, strategy, s, 1);
	json_object_set_new(json_object_get(json_array_get(json_object_get(p, "roles"), 0), "options"), key,
	    json_string(val));
	return p;
}

static json_t *make_run(json_t *points)
{
	return json_pack("{s:s,s:i,s:s,s:b,s:{s:s},s:o}", "schema", "pmapstorm-run", "schema_version", 2, "name", "synthetic",
	    "interrupted", 0, "provenance", "commit", "test", "points", points);
}

/* a run of one point ("netbsd-x86") with the given metrics */
static json_t *run1(const struct spec *s, unsigned ns)
{
	return make_run(json_pack("[o]", make_point(0, "netbsd-x86", s, ns)));
}

static const char *save(const char *name, json_t *doc)
{
	static char paths[8][512];
	static unsigned k;
	char *p = paths[k++ % 8];
	snprintf(p, 512, "%s/%s", tmpdir, name);
	assert_int_equal(json_dump_file(doc, p, JSON_INDENT(1)), 0);
	json_decref(doc);
	return p;
}

static const char *save_text(const char *name, const char *text, size_t len)
{
	static char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	fwrite(text, 1, len, f);
	fclose(f);
	return p;
}

/* n values around mid, spread +-spread, in a fixed scrambled order */
static struct spec series(const char *name, const char *better, unsigned n, double mid, double spread)
{
	struct spec s = {.name = name, .better = better, .n = n};
	for (unsigned i = 0; i < n; i++)
		s.vals[i] = mid + spread * (((i * 7) % n) / (double)(n > 1 ? n - 1 : 1) - 0.5) * 2;
	return s;
}

/* runs a command with stdout and stderr captured into outbuf / errbuf */
static int capture(int (*cmd)(int, char **), const char *const *args)
{
	char *argv[32];
	int argc = 0;
	while (args[argc] != NULL) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	char po[600], pe[600];
	snprintf(po, sizeof(po), "%s/stdout", tmpdir);
	snprintf(pe, sizeof(pe), "%s/stderr", tmpdir);
	int rc = th_cmd(cmd, argc, argv, po, pe);
	FILE *f = fopen(po, "r");
	size_t n = fread(outbuf, 1, sizeof(outbuf) - 1, f);
	outbuf[n] = '\0';
	fclose(f);
	f = fopen(pe, "r");
	n = fread(errbuf, 1, sizeof(errbuf) - 1, f);
	errbuf[n] = '\0';
	fclose(f);
	return rc;
}

static int gate(const char *a, const char *b, const char *x1, const char *x2)
{
	const char *args[] = {"gate", a, b, x1, x2, NULL};
	return capture(cmd_gate, args);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- statistics (samples.c) ---- */

static void test_mann_whitney_known_values(void **state)
{
	(void)state;
	double a[20], b[20], u, z;
	for (int i = 0; i < 10; i++) {
		a[i] = i + 1;
		b[i] = i + 11;
	}
	/* exact (no ties, a sample under 8): 2 / C(10, 5) */
	assert_float_equal(samples_mann_whitney(a, 5, b, 5, &u, &z), 2.0 / 252, 1e-12);
	assert_float_equal(u, 0, 0);
	/* asymptotic, 10 a side: scipy.stats.mannwhitneyu gives 1.8267e-4 */
	assert_float_equal(samples_mann_whitney(a, 10, b, 10, &u, &z), 1.826717911e-4, 1e-10);
	/* ties, a sample under 8: midranks, and the exact p over the 70 ways
	 * to choose 4 of the 8 pooled values (14 lie as far from the mean
	 * rank sum; scipy's normal approximation would say 0.1367) */
	double ta[] = {1, 2, 2, 3}, tb[] = {2, 3, 4, 5};
	assert_float_equal(samples_mann_whitney(ta, 4, tb, 4, &u, &z), 0.2, 1e-12);
	assert_float_equal(u, 2.5, 0);
	/* three tied trials a side, all apart: the smallest p three trials can
	 * give, 2 / C(6, 3) = 0.1 (the approximation said 0.047, "significant") */
	double t5[] = {5, 5, 5}, t7[] = {7, 7, 7};
	assert_float_equal(samples_mann_whitney(t5, 3, t7, 3, &u, &z), 0.1, 1e-12);
	assert_true(samples_mann_whitney(t5, 3, t7, 3, &u, &z) >= samples_mwu_min_p(3, 3) - 1e-12);
	/* ties with 10 a side: the normal approximation, tie-corrected
	 * (scipy.stats.mannwhitneyu's formula, computed by hand) */
	double ua[10], ub[10];
	for (int i = 0; i < 10; i++) {
		ua[i] = i / 2;
		ub[i] = 10 + i / 2;
	}
	assert_float_equal(samples_mann_whitney(ua, 10, ub, 10, &u, &z), 1.726539968822677e-4, 1e-12);
	/* identical samples: p = 1 */
	assert_float_equal(samples_mann_whitney(a, 10, a, 10, &u, &z), 1, 0);
	/* all values tied: no variance, p = 1 */
	double c[] = {7, 7, 7};
	assert_float_equal(samples_mann_whitney(c, 3, c, 3, &u, &z), 1, 0);
	assert_float_equal(samples_mwu_min_p(3, 3), 0.1, 1e-12);
	assert_float_equal(samples_mwu_min_p(4, 4), 2.0 / 70, 1e-12);
}

static void test_bootstrap_ratio(void **state)
{
	(void)state;
	double a[] = {100, 100, 100}, b[] = {120, 120, 120}, lo, hi;
	assert_true(samples_boot_ratio_ci(a, 3, b, 3, 0.05, &lo, &hi));
	assert_float_equal(lo, 1.2, 1e-12);
	assert_float_equal(hi, 1.2, 1e-12);
	double z[] = {0, 0};
	assert_false(samples_boot_ratio_ci(z, 2, b, 3, 0.05, &lo, &hi)); /* every resampled baseline median is 0 */
	struct samples_stats s = samples_summarize(b, 3, true);
	assert_float_equal(s.median, 120, 0);
	assert_float_equal(s.ci_lo, 120, 0);
	assert_float_equal(s.ci_hi, 120, 0);
}

/* ---- the verdicts ---- */

static void test_regression_20pct_exits_1(void **state)
{
	(void)state;
	struct spec b = series("shootdown_latency_p50", "lower", 10, 100, 3);
	struct spec c = series("shootdown_latency_p50", "lower", 10, 120, 3);
	const char *pb = save("base.json", run1(&b, 1)), *pc = save("cur.json", run1(&c, 1));
	char js[600];
	snprintf(js, sizeof(js), "%s/gate.json", tmpdir);
	assert_int_equal(gate(pb, pc, "--json", js), EXIT_VIOLATION);
	assert_non_null(strstr(outbuf, "regression"));
	json_t *g = th_load_json("%s", js);
	json_t *row = json_array_get(json_object_get(g, "rows"), 0);
	assert_string_equal(json_string_value(json_object_get(row, "verdict")), "regression");
	assert_float_equal(json_real_value(json_object_get(row, "ratio")), 1.2, 1e-9);
	assert_int_equal(json_integer_value(json_object_get(g, "exit")), 1);
	json_decref(g);
	/* the same pair, higher-is-better: a 20% drop of throughput */
	b = series("ops_per_s", "higher", 10, 1000, 20);
	c = series("ops_per_s", "higher", 10, 800, 20);
	pb = save("base.json", run1(&b, 1));
	pc = save("cur.json", run1(&c, 1));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_VIOLATION);
	/* a threshold above the effect: no change */
	assert_int_equal(gate(pb, pc, "--threshold", "25"), EXIT_OK);
	assert_non_null(strstr(outbuf, "no change"));
}

static void test_improvement_exits_0(void **state)
{
	(void)state;
	struct spec b = series("shootdown_latency_p50", "lower", 10, 120, 3);
	struct spec c = series("shootdown_latency_p50", "lower", 10, 100, 3);
	const char *pb = save("base.json", run1(&b, 1)), *pc = save("cur.json", run1(&c, 1));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_OK);
	assert_non_null(strstr(outbuf, "improvement"));
	assert_null(strstr(outbuf, "regression ("));
}

static void test_identical_exits_0(void **state)
{
	(void)state;
	struct spec s[2] = {series("shootdown_latency_p50", "lower", 10, 100, 30), series("ops_per_s", "higher", 10, 1e6, 1e5)};
	const char *pb = save("base.json", run1(s, 2)), *pc = save("cur.json", run1(s, 2));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_OK);
	assert_non_null(strstr(outbuf, "0 regression(s), 0 improvement(s), 0 changed, 0 inconclusive, 2 no change"));
	/* A/A: the same distribution, another draw (values in another order and
	 * shifted within the noise) is never a regression */
	struct spec c[2] = {series("shootdown_latency_p50", "lower", 10, 104, 30), series("ops_per_s", "higher", 10, 0.97e6, 1e5)};
	pc = save("cur.json", run1(c, 2));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_OK);
	assert_null(strstr(outbuf, "regression ("));
}

static void test_noise_and_few_trials_inconclusive(void **state)
{
	(void)state;
	/* 3 trials a side cannot reach p < 0.05: inconclusive, 4 needed */
	struct spec b = series("shootdown_latency_p50", "lower", 3, 100, 1);
	struct spec c = series("shootdown_latency_p50", "lower", 3, 130, 1);
	const char *pb = save("base.json", run1(&b, 1)), *pc = save("cur.json", run1(&c, 1));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_OK);
	assert_non_null(strstr(outbuf, "inconclusive"));
	assert_non_null(strstr(outbuf, "at least 4 a side"));
	/* 10 trials but overlapping: a 10% shift of the median in +-50% noise */
	b = series("shootdown_latency_p50", "lower", 10, 100, 50);
	c = series("shootdown_latency_p50", "lower", 10, 110, 50);
	pb = save("base.json", run1(&b, 1));
	pc = save("cur.json", run1(&c, 1));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_OK);
	assert_non_null(strstr(outbuf, "too noisy"));
	assert_non_null(strstr(outbuf, "trials a side needed"));
}

static void test_deterministic_counters(void **state)
{
	(void)state;
	struct spec b = {"ipis_per_update", "lower", true, 3, {2, 2, 2}};
	struct spec c = {"ipis_per_update", "lower", true, 3, {2, 2, 2}};
	const char *pb = save("base.json", run1(&b, 1)), *pc = save("cur.json", run1(&c, 1));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_OK);
	assert_non_null(strstr(outbuf, "deterministic: equal"));
	/* 3 trials are enough for a deterministic counter; 1% is over the tolerance */
	c.vals[0] = c.vals[1] = c.vals[2] = 2.02;
	pc = save("cur.json", run1(&c, 1));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_VIOLATION);
	assert_non_null(strstr(outbuf, "regression"));
	/* without a better-direction any change fails */
	b.better = c.better = "none";
	c.vals[0] = c.vals[1] = c.vals[2] = 1.98;
	pb = save("base.json", run1(&b, 1));
	pc = save("cur.json", run1(&c, 1));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_VIOLATION);
	assert_non_null(strstr(outbuf, "changed"));
	/* --deterministic-only: a timing regression is printed, not gated */
	struct spec bt[2] = {{"ipis_per_update", "lower", true, 3, {2, 2, 2}}, series("ops_per_s", "higher", 10, 1000, 10)};
	struct spec ct[2] = {{"ipis_per_update", "lower", true, 3, {2, 2, 2}}, series("ops_per_s", "higher", 10, 500, 10)};
	pb = save("base.json", run1(bt, 2));
	pc = save("cur.json", run1(ct, 2));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_VIOLATION);
	assert_int_equal(gate(pb, pc, "--deterministic-only", NULL), EXIT_OK);
	assert_non_null(strstr(outbuf, "not gated"));
	/* --metric selects; a pattern that matches nothing is an input error */
	assert_int_equal(gate(pb, pc, "--metric", "ipis_*"), EXIT_OK);
	assert_int_equal(gate(pb, pc, "--metric", "nosuch*"), EXIT_USAGE);
	assert_non_null(strstr(errbuf, "--metric nosuch*: matches no metric"));
	/* a file that claims determinism for differing trials is malformed */
	struct spec bad = {"ipis_per_update", "lower", true, 3, {2, 2, 3}};
	pc = save("cur.json", run1(&bad, 1));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_USAGE);
	assert_non_null(strstr(errbuf, "marked deterministic but the trials differ"));
}

static void test_matching_by_configuration(void **state)
{
	(void)state;
	struct spec s = series("shootdown_latency_p50", "lower", 10, 100, 3);
	json_t *base = make_run(json_pack("[o,o]", make_point(0, "netbsd-x86", &s, 1), make_point(1, "linux", &s, 1)));
	/* current: the points in the other order, one more, and a config key the baseline lacks */
	json_t *p0 = make_point(0, "latr", &s, 1), *p1 = make_point(1, "linux", &s, 1), *p2 = make_point(2, "netbsd-x86", &s, 1);
	json_object_set_new(json_object_get(p2, "config"), "new.key", json_string("1"));
	const char *pb = save("base.json", base), *pc = save("cur.json", make_run(json_pack("[o,o,o]", p0, p1, p2)));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_OK);
	assert_non_null(strstr(outbuf, "2 point(s) matched (0 only in the baseline, 1 only in the current run)"));
	assert_non_null(strstr(outbuf, "key new.key (1) only in the current run: ignored when matching points"));
	/* the window is no key: points measured over another window match, and
	 * the gate says so (rates compare, maxima do not); the same window: silent */
	assert_null(strstr(outbuf, "another window"));
	json_t *w1 = make_point(0, "netbsd-x86", &s, 1);
	json_object_set_new(w1, "duration_s", json_real(0.5));
	pc = save("cur.json", make_run(json_pack("[o]", w1)));
	const char *pw = save("basew.json", make_run(json_pack("[o]", make_point(0, "netbsd-x86", &s, 1))));
	assert_int_equal(gate(pw, pc, NULL, NULL), EXIT_OK);
	assert_non_null(strstr(outbuf, "1 matched point(s) were measured over another window than the baseline's "
	                                "(point 0, netbsd-x86 2 CPU: warm-up 0.1 s and window 0.5 s, against 0.1 s and 1 s)"));
	/* no point in common: exit 2 */
	pc = save("cur.json", make_run(json_pack("[o]", make_point(0, "latr", &s, 1))));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_USAGE);
	assert_non_null(strstr(errbuf, "no sweep point in common"));
	/* the same strategy with other roles does not match either */
	json_t *p = make_point(0, "linux", &s, 1);
	json_object_set_new(json_array_get(json_object_get(p, "roles"), 0), "cpus", json_string("1"));
	pc = save("cur.json", make_run(json_pack("[o]", p)));
	pb = save("base.json", make_run(json_pack("[o]", make_point(0, "linux", &s, 1))));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_USAGE);
	/* a workload option only the current run has (a newer build's, at its
	 * default) is ignored like a new config key, and said so; one both
	 * have with different values keeps the points apart */
	pc = save("cur.json", make_run(json_pack("[o]", point_with_option(0, "linux", &s, "tables", "free"))));
	pb = save("base.json", make_run(json_pack("[o]", make_point(0, "linux", &s, 1))));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_OK);
	assert_non_null(strstr(outbuf, "1 point(s) matched"));
	assert_non_null(strstr(outbuf, "workload option role.unmap.tables not recorded in the baseline (an older build): "
	                                "taken as its default, free"));
	/* ... so of a current run that sweeps it, the baseline matches the
	 * point at the default, not the first */
	pc = save("cur.json", make_run(json_pack("[o,o]", point_with_option(0, "linux", &s, "tables", "keep"),
	                                             point_with_option(1, "linux", &s, "tables", "free"))));
	pb = save("base.json", make_run(json_pack("[o]", make_point(0, "linux", &s, 1))));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_OK);
	assert_non_null(strstr(outbuf, "point 0 (linux 2 CPU) only in the current run"));
	/* a key this build does not know, swept in the current run only: the
	 * baseline point matches two points, and the gate does not guess */
	json_t *k1 = make_point(0, "linux", &s, 1), *k2 = make_point(1, "linux", &s, 1);
	json_object_set_new(json_object_get(k1, "config"), "new.key", json_string("1"));
	json_object_set_new(json_object_get(k2, "config"), "new.key", json_string("2"));
	pc = save("cur.json", make_run(json_pack("[o,o]", k1, k2)));
	pb = save("base.json", make_run(json_pack("[o]", make_point(0, "linux", &s, 1))));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_USAGE);
	assert_non_null(strstr(errbuf, "no sweep point in common"));
	assert_non_null(strstr(errbuf, "matched several points of the current run"));
	/* a key twice (a config key spelled as a role's option), a role name
	 * that could make two keys one: input errors */
	p = make_point(0, "linux", &s, 1);
	json_object_set_new(json_object_get(p, "config"), "role.unmap.len", json_string("4"));
	pc = save("cur.json", make_run(json_pack("[o]", p)));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_USAGE);
	assert_non_null(strstr(errbuf, "role.unmap.len twice"));
	p = make_point(0, "linux", &s, 1);
	json_object_set_new(json_array_get(json_object_get(p, "roles"), 0), "name", json_string("un.map"));
	pc = save("cur.json", make_run(json_pack("[o]", p)));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_USAGE);
	assert_non_null(strstr(errbuf, "roles[0].name: missing, or holds '.' or '='"));
	pc = save("cur.json", make_run(json_pack("[o]", point_with_option(0, "linux", &s, "len", "1"))));
	pb = save("base.json", make_run(json_pack("[o]", make_point(0, "linux", &s, 1))));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_USAGE);
	assert_non_null(strstr(errbuf, "no sweep point in common"));
}

/* A/A: a shift between two runs of one build fails the plain gate; the
 * noise floor written by --aa --noise-out (1.5 x the shift) absorbs it. */
static void test_aa_noise_floor(void **state)
{
	(void)state;
	struct spec b = series("shootdown_latency_p50", "lower", 10, 100, 3);
	struct spec c = series("shootdown_latency_p50", "lower", 10, 140, 3);
	const char *pb = save("base.json", run1(&b, 1)), *pc = save("cur.json", run1(&c, 1));
	char noise[600];
	snprintf(noise, sizeof(noise), "%s/noise.json", tmpdir);
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_VIOLATION);
	const char *a1[] = {"gate", "--aa", pb, pc, "--noise-out", noise, NULL};
	assert_int_equal(capture(cmd_gate, a1), EXIT_VIOLATION); /* no floor yet: the A/A pair fails */
	assert_non_null(strstr(outbuf, "A/A noise"));
	assert_non_null(strstr(errbuf, "noise floor is too low"));
	json_t *n = th_load_json("%s", noise);
	assert_float_equal(json_real_value(json_object_get(json_object_get(n, "metrics"), "shootdown_latency_p50")),
	    GATE_NOISE_MARGIN * 0.4, 1e-9);
	json_decref(n);
	assert_int_equal(gate(pb, pc, "--noise", noise), EXIT_OK);
	assert_non_null(strstr(outbuf, "noise floor"));
	/* a regression beyond the floor still fails */
	c = series("shootdown_latency_p50", "lower", 10, 200, 3);
	pc = save("cur.json", run1(&c, 1));
	assert_int_equal(gate(pb, pc, "--noise", noise), EXIT_VIOLATION);
	/* globs in the noise file; a bad noise file is an input error */
	const char *glob = "{\"schema\": \"pmapstorm-noise\", \"metrics\": {\"shootdown_*\": 2.0}}";
	const char *pg = save_text("glob.json", glob, strlen(glob));
	assert_int_equal(gate(pb, pc, "--noise", pg), EXIT_OK);
	const char *bad = "{\"schema\": \"pmapstorm-noise\", \"metrics\": {\"x\": -1}}";
	const char *pn = save_text("badnoise.json", bad, strlen(bad));
	assert_int_equal(gate(pb, pc, "--noise", pn), EXIT_USAGE);
	assert_non_null(strstr(errbuf, "badnoise.json: metrics.x: not a fraction"));
	const char *a2[] = {"gate", pb, pc, "--noise-out", noise, NULL};
	assert_int_equal(capture(cmd_gate, a2), EXIT_USAGE);
	assert_non_null(strstr(errbuf, "--noise-out needs --aa"));
}

/* ---- bad input: exit 2, the file named, what is wrong said ---- */

static void expect_bad(const char *text, const char *msg)
{
	const char *pc = save_text("bad.json", text, strlen(text));
	struct spec s = series("x", "lower", 3, 1, 0);
	const char *pb = save("base.json", run1(&s, 1));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_USAGE);
	if (strstr(errbuf, "bad.json") == NULL || strstr(errbuf, msg) == NULL)
		fail_msg("expected a message naming bad.json and saying '%s'; got: %s", msg, errbuf);
}

static void test_bad_input_exits_2(void **state)
{
	(void)state;
	expect_bad("{\"schema\": \"pmapstorm-run\", \"points\": [", "not valid JSON");
	expect_bad("[1, 2]", "not a JSON object");
	expect_bad("{\"schema\": \"other\"}", "not \"pmapstorm-run\"");
	expect_bad("{\"schema\": \"pmapstorm-run\", \"schema_version\": 5}", "schema_version 5");
	expect_bad("{\"schema\": \"pmapstorm-run\", \"schema_version\": 1}", "schema_version 1");
	expect_bad("{\"schema\": \"pmapstorm-run\", \"schema_version\": 2, \"name\": \"x\", \"interrupted\": false, "
	           "\"points\": []}",
	    "points: empty");
	expect_bad("{\"schema\": \"pmapstorm-run\", \"schema_version\": 2, \"name\": \"x\", \"interrupted\": false, "
	           "\"points\": [{\"index\": 0, \"params\": {}, \"config\": {}, \"roles\": [], \"trials\": "
	           "[{\"metrics\": {\"m\": {\"value\": \"12\", \"unit\": \"ns\", \"better\": \"lower\"}}}], \"summary\": {}}]}",
	    "points[0].trials[0].metrics.m.value: not a number");
	expect_bad("{\"schema\": \"pmapstorm-run\", \"schema_version\": 2, \"name\": \"x\", \"interrupted\": false, "
	           "\"points\": [{\"index\": 0, \"params\": {}, \"config\": {}, \"roles\": [], \"trials\": [], "
	           "\"summary\": {\"m\": {\"unit\": \"ns\", \"better\": \"faster\"}}}]}",
	    "better: \"faster\" is not higher, lower or none");
	expect_bad("{\"schema\": \"pmapstorm-run\", \"schema\": \"pmapstorm-run\"}", "duplicate");
	/* a missing file */
	char missing[600];
	snprintf(missing, sizeof(missing), "%s/nosuch.json", tmpdir);
	struct spec s = series("x", "lower", 3, 1, 0);
	const char *pb = save("base.json", run1(&s, 1));
	assert_int_equal(gate(pb, missing, NULL, NULL), EXIT_USAGE);
	assert_non_null(strstr(errbuf, "nosuch.json: cannot read"));
	/* bad flags */
	assert_int_equal(gate(pb, pb, "--alpha", "2"), EXIT_USAGE);
	assert_non_null(strstr(errbuf, "--alpha"));
	assert_int_equal(gate(pb, pb, "--threshold", "x"), EXIT_USAGE);
	assert_int_equal(gate(pb, NULL, NULL, NULL), EXIT_USAGE);
}

/* The reader never crashes or leaks (ASan) on any prefix of a valid file
 * or on bytes flipped at random: it answers 0 or EINVAL. */
static void test_reader_survives_truncation_and_mutation(void **state)
{
	(void)state;
	struct spec s[2] = {series("a", "lower", 4, 10, 1), {"b", "none", true, 4, {1, 1, 1, 1}}};
	json_t *doc = run1(s, 2);
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	size_t len = strlen(text);
	struct gate_doc d;
	char err[512];
	assert_int_equal(gate_doc_parse(text, len, "whole", &d, err, sizeof(err)), 0);
	assert_int_equal(d.gd_npoints, 1);
	assert_int_equal(d.gd_points[0].gp_nmetrics, 2);
	gate_doc_free(&d);
	for (size_t n = 0; n < len; n++) {
		assert_int_equal(gate_doc_parse(text, n, "prefix", &d, err, sizeof(err)), EINVAL);
		assert_non_null(strstr(err, "prefix: "));
		assert_null(d.gd_points);
	}
	char *m = mem_alloc(char, len);
	uint64_t seed = 42;
	static const char bytes[] = "{}[]\",:0-1e.tfn\\ x";
	for (unsigned i = 0; i < 3000; i++) {
		memcpy(m, text, len);
		for (unsigned k = 0; k < 1 + i % 4; k++)
			m[samples_splitmix64(&seed) % len] = bytes[samples_splitmix64(&seed) % (sizeof(bytes) - 1)];
		int rc = gate_doc_parse(m, len, "mutant", &d, err, sizeof(err));
		assert_true(rc == 0 || rc == EINVAL);
		gate_doc_free(&d);
	}
	free(m);
	free(text);
	assert_int_equal(gate_doc_parse(NULL, 0, "empty", &d, err, sizeof(err)), EINVAL);
	/* nesting far deeper than any run.json: refused by the parser, not the stack */
	size_t deep = 200000;
	char *nest = mem_alloc(char, deep);
	memset(nest, '[', deep);
	assert_int_equal(gate_doc_parse(nest, deep, "deep", &d, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "deep: "));
	free(nest);
	/* the right shape with the wrong types everywhere */
	static const char *const wrong[] = {
		"{\"schema\":\"pmapstorm-run\",\"schema_version\":1.0}",
		"{\"schema\":\"pmapstorm-run\",\"schema_version\":2,\"name\":7}",
		"{\"schema\":\"pmapstorm-run\",\"schema_version\":2,\"name\":\"x\",\"interrupted\":false,\"points\":{}}",
		"{\"schema\":\"pmapstorm-run\",\"schema_version\":2,\"name\":\"x\",\"interrupted\":false,\"points\":[7]}",
		"{\"schema\":\"pmapstorm-run\",\"schema_version\":2,\"name\":\"x\",\"interrupted\":false,\"points\":"
		"[{\"index\":-1}]}",
		"{\"schema\":\"pmapstorm-run\",\"schema_version\":2,\"name\":\"x\",\"interrupted\":false,\"points\":"
		"[{\"index\":0,\"params\":{},\"config\":{\"a\":1},\"roles\":[]}]}",
		"{\"schema\":\"pmapstorm-run\",\"schema_version\":2,\"name\":\"x\",\"interrupted\":false,\"points\":"
		"[{\"index\":0,\"params\":{},\"config\":{},\"roles\":[{\"options\":[1]}]}]}",
		"{\"schema\":\"pmapstorm-run\",\"schema_version\":2,\"name\":\"x\",\"interrupted\":false,\"points\":"
		"[{\"index\":0,\"params\":{},\"config\":{},\"roles\":[],\"trials\":[],\"summary\":{\"m\":"
		"{\"unit\":\"ns\",\"better\":\"lower\",\"deterministic\":\"yes\"}}}]}",
		"{\"schema\":\"pmapstorm-run\",\"schema_version\":2,\"name\":\"a\\u0000b\",\"interrupted\":false}",
	};
	for (unsigned i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		if (gate_doc_parse(wrong[i], strlen(wrong[i]), "wrong", &d, err, sizeof(err)) != EINVAL)
			fail_msg("accepted: %s", wrong[i]);
		assert_non_null(strstr(err, "wrong: "));
	}
}

/* ---- export ---- */

static void test_export_formats(void **state)
{
	(void)state;
	struct spec s[3] = {series("shootdown_latency_p50", "lower", 3, 100, 10), series("ops_per_s", "higher", 3, 1000, 10),
	    {"addrs_per_request", "none", true, 3, {8, 8, 8}}};
	const char *pr = save("run.json", run1(s, 3));
	char out[600];
	snprintf(out, sizeof(out), "%s/bmf.json", tmpdir);
	const char *a1[] = {"export", "--format", "bmf", pr, "--out", out, NULL};
	assert_int_equal(capture(cmd_export, a1), EXIT_OK);
	json_t *j = th_load_json("%s", out);
	json_t *m = json_object_get(json_object_get(j, "synthetic: netbsd-x86 2 CPU"), "shootdown_latency_p50");
	assert_non_null(m);
	assert_float_equal(json_real_value(json_object_get(m, "value")), 100, 1e-9);
	assert_float_equal(json_real_value(json_object_get(m, "lower_value")), 90, 1e-9);
	assert_float_equal(json_real_value(json_object_get(m, "upper_value")), 110, 1e-9);
	json_decref(j);
	snprintf(out, sizeof(out), "%s/gab.json", tmpdir);
	const char *a2[] = {"export", "--format", "github-action-benchmark", pr, "--out", out, NULL};
	assert_int_equal(capture(cmd_export, a2), EXIT_OK);
	j = th_load_json("%s", out);
	assert_int_equal(json_array_size(j), 1); /* smaller-is-better only */
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "name")),
	    "synthetic: netbsd-x86 2 CPU: shootdown_latency_p50");
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "unit")), "ns");
	json_decref(j);
	const char *a3[] = {"export", "--format", "github-action-benchmark", "--direction", "bigger", pr, "--out", out, NULL};
	assert_int_equal(capture(cmd_export, a3), EXIT_OK);
	j = th_load_json("%s", out);
	assert_int_equal(json_array_size(j), 1);
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(j, 0), "name")), "ops_per_s"));
	json_decref(j);
	const char *a4[] = {"export", "--format", "csv", pr, NULL};
	assert_int_equal(capture(cmd_export, a4), EXIT_USAGE);
	assert_non_null(strstr(errbuf, "--format"));
}

/* ---- coverage: what the baseline has and CURRENT lacks fails the gate ---- */

static char *slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* the review's case: CURRENT with one of the baseline's points and without
 * the deterministic counter errors passed --deterministic-only */
static void test_missing_points_and_metrics_fail(void **state)
{
	(void)state;
	struct spec full[3] = {{"errors", "lower", true, 3, {0, 0, 0}}, {"addrs_per_request", "none", true, 3, {8, 8, 8}},
	    series("ops_per_s", "higher", 3, 1000, 10)};
	json_t *base = make_run(json_pack("[o,o]", make_point(0, "netbsd-x86", full, 3), make_point(1, "linux", full, 3)));
	const char *pb = save("base.json", base);
	/* CURRENT: point 1 gone, errors gone from point 0 */
	const char *pc = save("cur.json", run1(full + 1, 2));
	char js[600], md[600], xml[600];
	snprintf(js, sizeof(js), "%s/gate.json", tmpdir);
	snprintf(md, sizeof(md), "%s/gate.md", tmpdir);
	snprintf(xml, sizeof(xml), "%s/gate.xml", tmpdir);
	const char *a1[] = {"gate", pb, pc, "--deterministic-only", "--json", js, "--markdown", md, "--junit", xml, NULL};
	assert_int_equal(capture(cmd_gate, a1), EXIT_VIOLATION);
	assert_non_null(strstr(outbuf, "point 1 (linux 2 CPU): missing from the current run [FAIL]"));
	assert_non_null(strstr(outbuf, "point 0 (netbsd-x86 2 CPU): metric errors missing from the current run [FAIL]"));
	assert_non_null(strstr(outbuf, "2 missing from the current run; 2 failing"));
	assert_non_null(strstr(errbuf, "2 item(s) of"));
	json_t *j = th_load_json("%s", js);
	assert_int_equal(json_integer_value(json_object_get(j, "exit")), EXIT_VIOLATION);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "summary"), "failing_missing")), 2);
	json_t *m = json_object_get(j, "missing");
	assert_int_equal(json_array_size(m), 2);
	assert_true(json_is_true(json_object_get(json_array_get(m, 0), "fails")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "metric")), "errors");
	assert_true(json_is_null(json_object_get(json_array_get(m, 1), "metric")));
	json_decref(j);
	assert_non_null(strstr(slurp(md), "## pmapstorm gate: FAILED"));
	assert_non_null(strstr(slurp(md), "- point 0 (netbsd-x86 2 CPU): metric errors missing from the current run \\[FAIL\\]"));
	assert_non_null(strstr(slurp(xml), "failures=\"2\""));
	/* the suite names the runs in the command's order */
	const char *suite = strstr(slurp(xml), "<testsuite name=\"pmapstorm gate: baseline ");
	assert_non_null(suite);
	assert_non_null(strstr(suite, "base.json, current "));
	assert_non_null(strstr(suite, "cur.json\" tests="));
	assert_non_null(strstr(slurp(xml), "name=\"errors\"><failure message=\"point 0 (netbsd-x86 2 CPU): metric errors "
	                                   "missing from the current run\" type=\"missing\"/>"));
	/* --allow-missing lists them and passes */
	const char *a2[] = {"gate", pb, pc, "--deterministic-only", "--allow-missing", "--json", js, NULL};
	assert_int_equal(capture(cmd_gate, a2), EXIT_OK);
	assert_non_null(strstr(outbuf, "metric errors missing from the current run [allowed: --allow-missing]"));
	j = th_load_json("%s", js);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "summary"), "missing")), 2);
	assert_true(json_is_false(json_object_get(json_array_get(json_object_get(j, "missing"), 0), "fails")));
	json_decref(j);
	/* a timing metric missing under --deterministic-only is listed, not gated;
	 * without the flag it fails */
	struct spec det_only[2] = {full[0], full[1]};
	pb = save("base.json", run1(full, 3));
	pc = save("cur.json", run1(det_only, 2));
	assert_int_equal(gate(pb, pc, "--deterministic-only", NULL), EXIT_OK);
	assert_non_null(strstr(outbuf, "metric ops_per_s missing from the current run [not gated]"));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_VIOLATION);
	/* --metric: a metric it leaves out is not missing */
	assert_int_equal(gate(pb, pc, "--metric", "errors"), EXIT_OK);
	/* a metric no completed trial carries */
	struct spec none[3] = {{"errors", "lower", true, 0, {0}}, full[1], full[2]};
	pc = save("cur.json", run1(none, 3));
	assert_int_equal(gate(pb, pc, "--deterministic-only", NULL), EXIT_VIOLATION);
	assert_non_null(strstr(outbuf, "metric errors has no completed trial in the current run [FAIL]"));
	/* only in CURRENT stays a note */
	pc = save("cur.json", make_run(json_pack("[o,o]", make_point(0, "netbsd-x86", full, 3), make_point(1, "latr", full, 3))));
	assert_int_equal(gate(pb, pc, NULL, NULL), EXIT_OK);
	assert_non_null(strstr(outbuf, "point 1 (latr 2 CPU) only in the current run"));
	/* an interrupted CURRENT fails even when it has everything */
	json_t *ri = run1(full, 3);
	json_object_set_new(ri, "interrupted", json_true());
	pc = save("cur.json", ri);
	assert_int_equal(gate(pb, pc, "--deterministic-only", NULL), EXIT_VIOLATION);
	assert_non_null(strstr(outbuf, "cur.json is an interrupted run: points or trials may be missing [FAIL]"));
	assert_int_equal(gate(pb, pc, "--allow-missing", NULL), EXIT_OK);
	/* an interrupted baseline is only a note */
	assert_int_equal(gate(pc, pb, NULL, NULL), EXIT_OK);
	assert_non_null(strstr(outbuf, "cur.json is an interrupted run: partial results"));
}

/* ---- JSON outputs: paths are bytes, labels are cut, JSON wants UTF-8 ---- */

static void test_utf8_paths_and_labels(void **state)
{
	(void)state;
	/* cli helpers: bad bytes become U+FFFD; a cut ends on a whole character */
	const char *bad[] = {"a\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = utf8_json_string(bad[i]);
		assert_non_null(j);
		assert_non_null(strstr(json_string_value(j), "\xef\xbf\xbd"));
		json_decref(j);
	}
	json_t *ok = utf8_json_string("caf\xc3\xa9 \xf0\x9f\x98\x80");
	assert_string_equal(json_string_value(ok), "caf\xc3\xa9 \xf0\x9f\x98\x80");
	json_decref(ok);
	char cut[] = "ab\xe2\x82", whole[] = "ab\xe2\x82\xac", ascii[] = "abc";
	utf8_cut(cut);
	utf8_cut(whole);
	utf8_cut(ascii);
	assert_string_equal(cut, "ab");
	assert_string_equal(whole, "ab\xe2\x82\xac");
	assert_string_equal(ascii, "abc");

	/* a label of 1022 bytes and half an "é": cut before the "é" */
	struct spec s = series("shootdown_latency_p50", "lower", 3, 100, 10);
	json_t *pt = make_point(0, "netbsd-x86", &s, 1);
	char val[1300] = "";
	for (int i = 0; i < 600; i++)
		strcat(val, "\xc3\xa9");
	json_object_set_new(json_object_get(pt, "params"), "workload.xy", json_string(val));
	const char *pr = save("label.json", make_run(json_pack("[o]", pt)));
	struct gate_doc d;
	char err[512];
	assert_int_equal(gate_doc_load(pr, &d, err, sizeof(err)), 0);
	size_t len = strlen(d.gd_points[0].gp_label);
	assert_int_equal(len, 1022); /* "netbsd-x86 2 CPU, workload.xy=" is 30 bytes, then 496 x 2 */
	assert_memory_equal(d.gd_points[0].gp_label + len - 2, "\xc3\xa9", 2);
	gate_doc_free(&d);

	/* a baseline whose path is not UTF-8; --json and --noise-out write it */
	char pb[600], js[600], noise[600];
	snprintf(pb, sizeof(pb), "%s/b\xff.json", tmpdir);
	snprintf(js, sizeof(js), "%s/gate.json", tmpdir);
	snprintf(noise, sizeof(noise), "%s/noise.json", tmpdir);
	assert_int_equal(rename(pr, pb), 0);
	char xml[600];
	snprintf(xml, sizeof(xml), "%s/gate.xml", tmpdir);
	const char *a1[] = {"gate", "--aa", pb, pb, "--json", js, "--noise-out", noise, "--junit", xml, NULL};
	assert_int_equal(capture(cmd_gate, a1), EXIT_OK);
	assert_non_null(strstr(slurp(xml), "/b\xef\xbf\xbd.json"));
	assert_null(strstr(slurp(xml), "\xff"));
	json_t *j = th_load_json("%s", js);
	assert_non_null(strstr(json_string_value(json_object_get(j, "baseline")), "/b\xef\xbf\xbd.json"));
	json_t *row = json_array_get(json_object_get(j, "rows"), 0);
	assert_non_null(row);
	assert_int_equal(strlen(json_string_value(json_object_get(row, "point"))), 1022);
	json_decref(j);
	j = th_load_json("%s", noise);
	assert_int_equal(json_array_size(json_object_get(j, "last_pair")), 2);
	json_decref(j);
	/* export: names carry the label */
	char out[600];
	snprintf(out, sizeof(out), "%s/gab.json", tmpdir);
	const char *a2[] = {"export", "--format", "github-action-benchmark", pb, "--out", out, NULL};
	assert_int_equal(capture(cmd_export, a2), EXIT_OK);
	j = th_load_json("%s", out);
	assert_int_equal(json_array_size(j), 1);
	json_decref(j);
	const char *a3[] = {"export", "--format", "bmf", pb, "--out", out, NULL};
	assert_int_equal(capture(cmd_export, a3), EXIT_OK);
	j = th_load_json("%s", out);
	assert_int_equal(json_object_size(j), 1);
	json_decref(j);
}

/* ---- --help: every exit code; output files replaced, atomically ---- */

static void test_help_and_replaced_outputs(void **state)
{
	(void)state;
	const char *h1[] = {"gate", "--help", NULL}, *h2[] = {"export", "--help", NULL};
	assert_int_equal(capture(cmd_gate, h1), EXIT_OK);
	assert_non_null(strstr(outbuf, "3 cannot write a --noise-out, --junit,\n--markdown or --json file, or out of memory"));
	assert_non_null(strstr(outbuf, "replaced if it exists"));
	assert_non_null(strstr(outbuf, "--allow-missing"));
	assert_int_equal(capture(cmd_export, h2), EXIT_OK);
	assert_non_null(strstr(outbuf, "3 cannot write (--out or stdout) or\nout of memory"));
	assert_non_null(strstr(outbuf, "replaced if\n                           it exists"));
	/* an existing --json file is replaced whole, and no temporary is left */
	struct spec s = series("x", "lower", 3, 1, 0);
	const char *pb = save("base.json", run1(&s, 1));
	char js[600];
	snprintf(js, sizeof(js), "%s/replaced.json", tmpdir);
	save_text("replaced.json", "old", 3);
	const char *a[] = {"gate", pb, pb, "--json", js, NULL};
	assert_int_equal(capture(cmd_gate, a), EXIT_OK);
	assert_non_null(strstr(slurp(js), "\"schema\": \"pmapstorm-gate\""));
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "ls %s | grep -q '\\.tmp\\.'", tmpdir);
	assert_int_not_equal(system(cmd), 0);
	/* a --json FILE that cannot be written: exit 3, named */
	const char *b[] = {"gate", pb, pb, "--json", "/nonexistent/dir/g.json", NULL};
	assert_int_equal(capture(cmd_gate, b), EXIT_ENV);
	assert_non_null(strstr(errbuf, "/nonexistent/dir/g.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mann_whitney_known_values),
		cmocka_unit_test(test_bootstrap_ratio),
		cmocka_unit_test(test_regression_20pct_exits_1),
		cmocka_unit_test(test_improvement_exits_0),
		cmocka_unit_test(test_identical_exits_0),
		cmocka_unit_test(test_noise_and_few_trials_inconclusive),
		cmocka_unit_test(test_deterministic_counters),
		cmocka_unit_test(test_matching_by_configuration),
		cmocka_unit_test(test_aa_noise_floor),
		cmocka_unit_test(test_bad_input_exits_2),
		cmocka_unit_test(test_reader_survives_truncation_and_mutation),
		cmocka_unit_test(test_export_formats),
		cmocka_unit_test(test_missing_points_and_metrics_fail),
		cmocka_unit_test(test_utf8_paths_and_labels),
		cmocka_unit_test(test_help_and_replaced_outputs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
