/*
 * test_shard.c — `pmapstorm run --shard K/N` and `pmapstorm merge` (issue
 * 19): a small sweep run whole and as three merged shards has the same
 * points, trials, seeds and places in the run's order; a merge with a
 * shard missing, twice, or from another run fails with exit 2 and writes
 * nothing; the merged folder is a results folder like any other (gate,
 * export, its CSV files made again from run.json alone); and the report
 * and the gate say when timings come from more than one host.
 *
 * Nothing here depends on timing: the trials are short, and only their
 * identity (point, trial, seed, order), the folders and the messages are
 * checked, never a measured value.
 */
#include "harness.h"

/* every path here lies under one short mkdtemp() folder: the bounded
 * snprintf()s cannot cut one, whatever the optimiser fears */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands/commands.h"
#include "commands/exitcode.h"
#include "compare/gate.h"
#include "record/results.h"
#include "record/runjson.h"
#include "trials/driver.h"
#include "trials/shard.h"

static char tmpdir[] = "/tmp/pmapstorm-shard-XXXXXX";
static char cfg[600], cfg2[600], whole[700], shards[3][700], out[700];

/* 2 strategies x 2 CPU counts x 3 trials of 20 ms: 12 short trials */
static const char *const sweep =
    "[experiment]\n"
    "name = sweep\n"
    "trials = 3\n"
    "warmup = 0\n"
    "duration = 20ms\n"
    "seed = 7\n"
    "[machine]\n"
    "cpus = 1, 2\n"
    "memory = 8M\n"
    "[shootdown]\n"
    "strategy = netbsd-x86, immediate\n"
    "[role.unmap]\n"
    "workload = munmap\n"
    "cpus = all\n"
    "pmap = shared\n"
    "len = 2\n";

/* two mixes, two swept keys in one (a facet of two values), pool churn with
 * its lock classes, the oracles on, interval samples: what the CSV files
 * and the report read, for the run.json reader (6 trials of 60 ms) */
static const char *const mixes =
    "[experiment]\n"
    "name = mixes\n"
    "trials = 1\n"
    "warmup = 0\n"
    "duration = 60ms\n"
    "interval = 50ms\n"
    "seed = 3\n"
    "mix = user, pool\n"
    "check = on\n"
    "[machine]\n"
    "cpus = 2\n"
    "memory = 16M\n"
    "[role.unmap]\n"
    "workload = munmap\n"
    "cpus = 0\n"
    "pmap = app\n"
    "len = 2\n"
    "[role.churn]\n"
    "workload = poolchurn\n"
    "cpus = 1\n"
    "pmap = app\n"
    "drain = 8\n"
    "[mix.user]\n"
    "roles = unmap\n"
    "tlb.entries = 64, 32\n"
    "role.unmap.len = 4, 2\n"
    "[mix.pool]\n"
    "kmem.poolpage = vacache, direct\n";
static char mixed[700];

/* stdout and stderr to /dev/null around a command; its exit code */
static int quietly(int (*cmd)(int, char **), int argc, char **argv)
{
	return th_cmd(cmd, argc, argv, "/dev/null", "/dev/null");
}

/* pmapstorm run CONFIG --results DIR --quiet --no-plots [extra...]; the new folder in folder */
static int run_into(const char *config, const char *results, const char *e1, const char *e2, const char *e3,
    const char *e4, char *folder, size_t len)
{
	char *argv[12] = {"run", (char *)config, "--results", (char *)results, "--quiet", "--no-plots"};
	int argc = 6;
	const char *extra[] = {e1, e2, e3, e4};
	for (unsigned i = 0; i < 4; i++)
		if (extra[i] != NULL)
			argv[argc++] = (char *)extra[i];
	int rc = quietly(cmd_run, argc, argv);
	if (folder != NULL) {
		char link[800], target[400];
		snprintf(link, sizeof(link), "%s/latest", results);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		assert_true(n > 0);
		target[n] = '\0';
		snprintf(folder, len, "%s/%s", results, target);
	}
	return rc;
}

static int merge(const char *o, const char *a, const char *b, const char *c, const char *d)
{
	char *argv[10] = {"merge", (char *)o};
	int argc = 2;
	const char *dirs[] = {a, b, c, d};
	for (unsigned i = 0; i < 4; i++)
		if (dirs[i] != NULL)
			argv[argc++] = (char *)dirs[i];
	argv[argc++] = "--quiet";
	argv[argc++] = "--no-plots";
	return quietly(cmd_merge, argc, argv);
}

/* entries of dir other than . and .. */
static unsigned entries(const char *dir)
{
	DIR *d = opendir(dir);
	unsigned n = 0;
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d != NULL)
		closedir(d);
	return n;
}

/* The sweep whole, and as shards 1/3, 2/3, 3/3 (3/3 from the environment,
 * as a scheduler gives it), and their merge: once for every test. */
static int setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(cfg, sizeof(cfg), "%s/sweep.ini", tmpdir);
	snprintf(cfg2, sizeof(cfg2), "%s/other.ini", tmpdir);
	th_write_file(cfg, sweep);
	char results[700];
	snprintf(results, sizeof(results), "%s/results", tmpdir);
	if (run_into(cfg, results, NULL, NULL, NULL, NULL, whole, sizeof(whole)) != EXIT_OK)
		return -1;
	th_write_file(cfg2, mixes);
	if (run_into(cfg2, results, NULL, NULL, NULL, NULL, mixed, sizeof(mixed)) != EXIT_OK)
		return -1;
	if (run_into(cfg, results, "--shard", "1/3", NULL, NULL, shards[0], sizeof(shards[0])) != EXIT_OK ||
	    run_into(cfg, results, "--shard", "2/3", NULL, NULL, shards[1], sizeof(shards[1])) != EXIT_OK)
		return -1;
	setenv("TEST_SHARD_INDEX", "2", 1); /* counting from 0: the third shard */
	int rc = run_into(cfg, results, "--shard", "env:TEST_SHARD_INDEX+1/3", NULL, NULL, shards[2], sizeof(shards[2]));
	unsetenv("TEST_SHARD_INDEX");
	if (rc != EXIT_OK)
		return -1;
	snprintf(out, sizeof(out), "%s/merged/sweep", tmpdir);
	return merge(out, shards[2], shards[0], shards[1], NULL) == EXIT_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_parse(void **state)
{
	(void)state;
	struct shard_spec s;
	int saved = dup(2), fd = open("/dev/null", O_WRONLY);
	dup2(fd, 2);
	close(fd);
	assert_int_equal(shard_parse("2/3", &s), 0);
	assert_int_equal(s.sh_index, 2);
	assert_int_equal(s.sh_count, 3);
	assert_int_equal(shard_parse("1/1", &s), 0);
	const char *bad[] = {"0/3", "4/3", "3", "/3", "2/", "2/0", "a/b", "-1/3", "1.5/3", "2/3x", "1/99999999", "env:/3",
	    "env:1X/3", "env:NO_SUCH_VARIABLE_HERE/3", "env:X Y/3", NULL};
	for (const char **b = bad; *b != NULL; b++)
		if (shard_parse(*b, &s) != EINVAL)
			fail_msg("--shard %s accepted", *b);
	setenv("TEST_SHARD_K", "3", 1);
	assert_int_equal(shard_parse("env:TEST_SHARD_K/3", &s), 0);
	assert_int_equal(s.sh_index, 3);
	assert_non_null(strstr(s.sh_how, "TEST_SHARD_K=3"));
	assert_int_equal(shard_parse("env:TEST_SHARD_K+1/3", &s), EINVAL); /* shard 4 of 3 */
	setenv("TEST_SHARD_K", "0", 1);
	assert_int_equal(shard_parse("env:TEST_SHARD_K/3", &s), EINVAL); /* counts from 1 */
	assert_int_equal(shard_parse("env:TEST_SHARD_K+1/3", &s), 0);
	assert_int_equal(s.sh_index, 1);
	setenv("TEST_SHARD_K", "two", 1);
	assert_int_equal(shard_parse("env:TEST_SHARD_K/3", &s), EINVAL);
	unsetenv("TEST_SHARD_K");
	dup2(saved, 2);
	close(saved);
	/* the bad flag is named */
	char path[700];
	snprintf(path, sizeof(path), "%s/err.txt", tmpdir);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	close(fd);
	shard_parse("4/3", &s);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char buf[512] = "";
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "--shard 4/3"));
}

/* The slices: every trial once, every point's trials spread evenly, the
 * shards' estimated times within one trial of each other, the same every
 * time. */
static void test_assign(void **state)
{
	(void)state;
	enum { NP = 7, T = 5, TOTAL = NP * T };
	struct order_item order[TOTAL];
	double cost[NP];
	for (unsigned p = 0; p < NP; p++)
		cost[p] = 0.1 + 0.3 * (p % 3); /* unlike costs */
	for (unsigned k = 0; k < TOTAL; k++)
		order[k] = (struct order_item){(k * 11) % NP, (k * 11 / NP) % T}; /* any fixed order */
	for (unsigned nshards = 1; nshards <= 12; nshards++) {
		unsigned owner[TOTAL], again[TOTAL], per[NP][12] = {{0}};
		double load[12] = {0};
		assert_int_equal(shard_assign(order, TOTAL, cost, NP, nshards, owner), 0);
		assert_int_equal(shard_assign(order, TOTAL, cost, NP, nshards, again), 0);
		assert_memory_equal(owner, again, sizeof(owner));
		for (unsigned k = 0; k < TOTAL; k++) {
			assert_true(owner[k] < nshards);
			per[order[k].oi_point][owner[k]]++;
			load[owner[k]] += cost[order[k].oi_point];
		}
		for (unsigned p = 0; p < NP; p++) {
			unsigned lo = T, hi = 0;
			for (unsigned s = 0; s < nshards; s++) {
				lo = per[p][s] < lo ? per[p][s] : lo;
				hi = per[p][s] > hi ? per[p][s] : hi;
			}
			assert_true(hi - lo <= 1); /* every point spread evenly */
		}
		double lo = 1e9, hi = 0;
		for (unsigned s = 0; s < nshards && s < TOTAL; s++) {
			lo = load[s] < lo ? load[s] : lo;
			hi = load[s] > hi ? load[s] : hi;
		}
		if (nshards <= T) /* every shard gets a trial of every point: balanced within about one trial */
			assert_true(hi - lo <= 0.7 + 1e-9);
	}
}

/* A virtual trial's estimate grows faster than its CPU count: configs/
 * virtual.ini's 2.2 virtual ms at 256 CPUs (netbsd-x86) took 147 host s on
 * the 2-core host, at 128 CPUs 40 s, at 16 CPUs 2 s; the estimate said 17 s
 * for 256 until 3 + 30 N got its quadratic terms (docs/engine.md) */
static void test_virtual_trial_estimate(void **state)
{
	(void)state;
	struct exp_point pt = {0};
	machine_config_init(&pt.ep_cfg);
	pt.ep_warmup_s = 0.0002;
	pt.ep_duration_s = 0.002;
	pt.ep_cfg.mc_ncpu = 256;
	double threads = shard_trial_cost(&pt);
	assert_true(threads > 0.05 && threads < 0.06); /* the window and 50 ms */
	pt.ep_cfg.mc_engine = MACHINE_ENGINE_VIRTUAL;
	double e256 = shard_trial_cost(&pt);
	assert_true(e256 > 147 / 2.0 && e256 < 147 * 2.0);
	pt.ep_cfg.mc_ncpu = 128;
	double e128 = shard_trial_cost(&pt);
	assert_true(e128 > 40 / 2.0 && e128 < 40 * 2.0);
	pt.ep_cfg.mc_ncpu = 16;
	double e16 = shard_trial_cost(&pt);
	assert_true(e16 > 2 / 2.0 && e16 < 2 * 2.0);
}

/* (point, trial, seed, order) of every trial, in a canonical text */
static char *identity(json_t *doc)
{
	size_t cap = 1 << 16, n = 0;
	char *s = mem_zalloc(char, cap);
	assert_non_null(s);
	size_t p, t;
	json_t *pt, *tr;
	json_array_foreach(json_object_get(doc, "points"), p, pt)
	{
		char *c = json_dumps(json_object_get(pt, "config"), JSON_SORT_KEYS | JSON_COMPACT);
		char *r = json_dumps(json_object_get(pt, "roles"), JSON_SORT_KEYS | JSON_COMPACT);
		n += (size_t)snprintf(s + n, cap - n, "point %zu %s %s %s\n", p, c, r, json_string_value(json_object_get(pt, "facet")));
		free(c);
		free(r);
		json_array_foreach(json_object_get(pt, "trials"), t, tr)
			n += (size_t)snprintf(s + n, cap - n, "  trial %lld seed %lld order %lld\n",
			    (long long)json_integer_value(json_object_get(tr, "trial")),
			    (long long)json_integer_value(json_object_get(tr, "seed")),
			    (long long)json_integer_value(json_object_get(tr, "order")));
		assert_true(n < cap);
	}
	return s;
}

/* run --shard alone: the three shards' trials are the whole run's, once
 * each, with the same seeds and places in the order, and each shard ran
 * its own in that order */
static void test_shards_are_the_run(void **state)
{
	(void)state;
	json_t *w = th_load_json("%s/run.json", whole);
	char seen[4][3] = {{0}};
	size_t p, t;
	json_t *pt, *tr;
	for (unsigned k = 0; k < 3; k++) {
		json_t *s = th_load_json("%s/run.json", shards[k]), *sh = json_object_get(s, "shard");
		assert_non_null(sh);
		assert_int_equal(json_integer_value(json_object_get(sh, "index")), k + 1);
		assert_int_equal(json_integer_value(json_object_get(sh, "count")), 3);
		assert_int_equal(json_integer_value(json_object_get(sh, "total_trials")), 12);
		assert_int_equal(json_array_size(json_object_get(sh, "trials")), 4);
		assert_string_equal(json_string_value(json_object_get(sh, "engine")), "threads");
		assert_string_equal(json_string_value(json_object_get(sh, "experiment_text")), sweep);
		char want[32];
		snprintf(want, sizeof(want), "-shard%uof3", k + 1);
		assert_non_null(strstr(shards[k], want));
		assert_false(json_is_true(json_object_get(s, "interrupted")));
		long long last = -1;
		json_array_foreach(json_object_get(s, "points"), p, pt)
		{
			/* every point's 3 trials spread over the 3 shards: one each */
			assert_int_equal(json_array_size(json_object_get(pt, "trials")), 1);
			json_array_foreach(json_object_get(pt, "trials"), t, tr)
			{
				long long n = json_integer_value(json_object_get(tr, "trial"));
				json_t *wt = json_array_get(json_object_get(json_array_get(json_object_get(w, "points"), p), "trials"),
				    (size_t)n);
				assert_false(seen[p][n]);
				seen[p][n] = 1;
				assert_true(json_equal(json_object_get(tr, "seed"), json_object_get(wt, "seed")));
				assert_true(json_equal(json_object_get(tr, "order"), json_object_get(wt, "order")));
			}
		}
		/* the shard's list is in the run's order */
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(sh, "trials"), i, e)
		{
			json_t *wt = json_array_get(json_object_get(json_array_get(json_object_get(w, "points"),
			    (size_t)json_integer_value(json_array_get(e, 0))), "trials"), (size_t)json_integer_value(json_array_get(e, 1)));
			long long o = json_integer_value(json_object_get(wt, "order"));
			assert_true(o > last);
			last = o;
		}
		json_decref(s);
	}
	for (p = 0; p < 4; p++)
		for (t = 0; t < 3; t++)
			assert_true(seen[p][t]);
	json_decref(w);
}

static void test_merged_is_the_run(void **state)
{
	(void)state;
	json_t *w = th_load_json("%s/run.json", whole), *m = th_load_json("%s/run.json", out);
	char *a = identity(w), *b = identity(m);
	assert_string_equal(a, b);
	/* 4 points x 3 trials, all there */
	assert_int_equal(json_array_size(json_object_get(m, "points")), 4);
	assert_non_null(strstr(b, "trial 2 seed 7000023")); /* point 0's third trial: seed 7 * 1000003 + 2 */
	assert_false(json_is_true(json_object_get(m, "interrupted")));
	assert_null(json_object_get(m, "shard"));
	json_t *mg = json_object_get(m, "merged");
	assert_non_null(mg);
	assert_int_equal(json_integer_value(json_object_get(mg, "count")), 3);
	assert_int_equal(json_array_size(json_object_get(mg, "shards")), 3);
	for (unsigned k = 0; k < 3; k++) {
		json_t *e = json_array_get(json_object_get(mg, "shards"), k);
		assert_int_equal(json_integer_value(json_object_get(e, "index")), k + 1);
		assert_int_equal(json_integer_value(json_object_get(e, "completed")), 4);
		assert_true(json_is_string(json_object_get(e, "host")));
		assert_true(json_is_object(json_object_get(e, "provenance")));
	}
	/* the third shard says how it was given */
	json_t *e3 = json_array_get(json_object_get(mg, "shards"), 2);
	assert_non_null(strstr(json_string_value(json_object_get(e3, "given_as")), "TEST_SHARD_INDEX+1/3"));
	/* every trial keeps the host it ran on */
	size_t p, t;
	json_t *pt, *tr;
	json_array_foreach(json_object_get(m, "points"), p, pt)
	{
		assert_int_equal(json_array_size(json_object_get(pt, "trials")), 3);
		json_array_foreach(json_object_get(pt, "trials"), t, tr)
			assert_true(json_is_string(json_object_get(json_object_get(tr, "host"), "name")));
		/* the summary covers all three */
		json_t *s = json_object_get(json_object_get(pt, "summary"), "errors");
		assert_int_equal(json_integer_value(json_object_get(s, "n")), 3);
	}
	/* the merged folder has what a run's has */
	const char *files[] = {"run.json", "summary.csv", "trials.csv", "update_ccdf.csv", "lockwait.csv", "lockstat.csv",
	    "timeline.csv", "ackmatrix.csv", "placement.csv", "topology.xml", "topology-shard1.xml", "report.md",
	    "index.html", NULL};
	for (const char **f = files; *f != NULL; f++) {
		char path[800];
		snprintf(path, sizeof(path), "%s/%s", out, *f);
		if (access(path, R_OK) != 0)
			fail_msg("the merged folder lacks %s", *f);
	}
	free(a);
	free(b);
	json_decref(w);
	json_decref(m);
}

/*
 * The virtual-time engine (issue 19, "What it must show"): the whole run's
 * run.json and the merged shards' are identical except for what says where
 * and when each ran: provenance, wall_seconds, "merged" (the shards and
 * their hosts), each point's host topology file and each trial's host
 * usage.  Every metric, counter,
 * histogram, summary, seed and order must be equal.
 */
static json_t *load_identity(const char *folder)
{
	json_t *doc = th_load_json("%s/run.json", folder);
	json_object_del(doc, "provenance");
	json_object_del(doc, "wall_seconds");
	json_object_del(doc, "merged");
	size_t i, j;
	json_t *pt, *tr;
	json_array_foreach(json_object_get(doc, "points"), i, pt)
	{
		/* the host topology file it was placed on: one per shard host */
		json_object_del(json_object_get(pt, "topology"), "xml");
		json_array_foreach(json_object_get(pt, "trials"), j, tr)
			json_object_del(tr, "host");
	}
	return doc;
}

static void test_virtual_engine_identical(void **state)
{
	(void)state;
	char results[700], vwhole[700], vs[3][700], vout[800];
	snprintf(results, sizeof(results), "%s/virtual", tmpdir);
	assert_int_equal(run_into(cfg, results, "--engine", "virtual", NULL, NULL, vwhole, sizeof(vwhole)), EXIT_OK);
	static const char *const k[] = {"1/3", "2/3", "3/3"};
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(run_into(cfg, results, "--engine", "virtual", "--shard", k[i], vs[i], sizeof(vs[i])),
		    EXIT_OK);
	snprintf(vout, sizeof(vout), "%s/virtual-merged", tmpdir);
	assert_int_equal(merge(vout, vs[1], vs[2], vs[0], NULL), EXIT_OK); /* given in any order */
	json_t *w = load_identity(vwhole), *m = load_identity(vout);
	char *a = json_dumps(w, JSON_SORT_KEYS | JSON_COMPACT), *b = json_dumps(m, JSON_SORT_KEYS | JSON_COMPACT);
	assert_non_null(a);
	assert_non_null(b);
	if (strcmp(a, b) != 0) {
		size_t d = 0;
		while (a[d] != '\0' && a[d] == b[d])
			d++;
		fail_msg("virtual: the merged run.json differs from the whole run's at byte %zu: ...%.120s... against "
		         "...%.120s...", d, a + (d > 40 ? d - 40 : 0), b + (d > 40 ? d - 40 : 0));
	}
	free(a);
	free(b);
	json_decref(w);
	json_decref(m);
}

/* run.json read back gives the same CSV files as the run wrote: nothing a
 * merged folder's tables need is lost on the way */
static void tables_again(const char *folder, const char *name)
{
	json_t *doc = th_load_json("%s/run.json", folder);
	struct runjson rj;
	char err[512], dir[700];
	if (runjson_read(doc, name, &rj, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	snprintf(dir, sizeof(dir), "%s/again-%s", tmpdir, name);
	assert_int_equal(mkdir(dir, 0777), 0);
	assert_int_equal(results_write_tables(&rj.rj_rr, dir), 0);
	const char *csv[] = {"summary.csv", "trials.csv", "update_ccdf.csv", "lockwait.csv", "lockstat.csv",
	    "timeline.csv", "ackmatrix.csv", NULL};
	for (const char **f = csv; *f != NULL; f++) {
		char cmd[4000];
		snprintf(cmd, sizeof(cmd), "cmp -s '%s/%s' '%s/%s' || { diff '%s/%s' '%s/%s' | head -n 8 >&2; exit 1; }",
		    folder, *f, dir, *f, folder, *f, dir, *f);
		if (system(cmd) != 0)
			fail_msg("%s: %s made again from run.json differs from the run's", name, *f);
	}
	/* and the summaries, and the facets */
	for (unsigned p = 0; p < rj.rj_ex->ex_npoints; p++) {
		json_t *pj = json_array_get(json_object_get(doc, "points"), p), *s = results_summary_json(&rj.rj_rr, p);
		assert_true(json_equal(s, json_object_get(pj, "summary")));
		json_decref(s);
		char facet[512];
		exp_point_facet(&rj.rj_points[p], facet, sizeof(facet));
		assert_string_equal(facet, json_string_value(json_object_get(pj, "facet")));
	}
	runjson_free(&rj);
	json_decref(doc);
}

static void test_tables_from_runjson(void **state)
{
	(void)state;
	tables_again(whole, "sweep");
	tables_again(mixed, "mixes");
	json_t *doc = th_load_json("%s/run.json", mixed);
	/* the mixes run did what it is for: a facet of two swept values, lock rows, oracles */
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(json_object_get(doc, "points"), 0), "facet")),
	    " / "));
	json_t *t0 = json_array_get(json_object_get(json_array_get(json_object_get(doc, "points"), 5), "trials"), 0);
	assert_non_null(json_object_get(t0, "check"));
	json_decref(doc);
	struct runjson rj;
	char err[512];
	doc = th_load_json("%s/run.json", whole);
	/* a document that is not one fails with a message, never a crash */
	json_t *bad = json_pack("{s:s}", "name", "x");
	assert_int_equal(runjson_read(bad, "bad", &rj, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "bad: "));
	json_decref(bad);
	json_object_set_new(json_array_get(json_object_get(doc, "points"), 0), "config",
	    json_pack("{s:s}", "no.such_key", "1"));
	assert_int_equal(runjson_read(doc, "whole", &rj, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "no.such_key"));
	json_decref(doc);
}

/* A merge that must not happen: exit 2, OUT absent, nothing left beside it. */
static void refused(const char *why, const char *a, const char *b, const char *c, const char *d)
{
	char o[900], parent[800];
	snprintf(parent, sizeof(parent), "%s/refused", tmpdir);
	mkdir(parent, 0777);
	snprintf(o, sizeof(o), "%s/out", parent);
	int rc = merge(o, a, b, c, d);
	if (rc != EXIT_USAGE)
		fail_msg("merge with %s: exit %d, expected 2", why, rc);
	if (access(o, F_OK) == 0 || entries(parent) != 0)
		fail_msg("merge with %s wrote something in %s", why, parent);
}

static void test_merge_refusals(void **state)
{
	(void)state;
	refused("shard 3/3 missing", shards[0], shards[1], NULL, NULL);
	refused("shard 2/3 twice", shards[0], shards[1], shards[1], shards[2]);
	refused("shard 2/3 twice, 3/3 missing", shards[0], shards[1], shards[1], NULL);
	refused("an unsharded run", whole, shards[0], shards[1], shards[2]);
	refused("a merged folder", out, shards[0], shards[1], shards[2]);
	refused("a folder that is no run", tmpdir, shards[0], shards[1], shards[2]);
	/* foreign shards: another seed given with --set, another experiment file */
	char results[700], seed8[700], other[700];
	snprintf(results, sizeof(results), "%s/foreign", tmpdir);
	assert_int_equal(run_into(cfg, results, "--shard", "3/3", "--set", "experiment.seed=8", seed8, sizeof(seed8)),
	    EXIT_OK);
	refused("a shard run with another --set", shards[0], shards[1], seed8, NULL);
	char text[2048];
	snprintf(text, sizeof(text), "%s; the same sweep, another file\n", sweep);
	th_write_file(cfg2, text);
	assert_int_equal(run_into(cfg2, results, "--shard", "3/3", NULL, NULL, other, sizeof(other)), EXIT_OK);
	refused("a shard of another experiment file", shards[0], shards[1], other, NULL);
	/* a shard of another split */
	assert_int_equal(run_into(cfg, results, "--shard", "2/2", NULL, NULL, other, sizeof(other)), EXIT_OK);
	refused("a shard of 2", shards[0], shards[1], other, NULL);
	/* OUT exists: never replaced */
	char o[800];
	snprintf(o, sizeof(o), "%s/exists", tmpdir);
	assert_int_equal(mkdir(o, 0777), 0);
	assert_int_equal(merge(o, shards[0], shards[1], shards[2], NULL), EXIT_USAGE);
	assert_int_equal(entries(o), 0);
	/* the baseline flags make no sense for a slice */
	assert_int_equal(run_into(cfg, results, "--shard", "1/3", "--save-baseline", "x", NULL, 0), EXIT_USAGE);
	assert_int_equal(run_into(cfg, results, "--shard", "1/3", "--shard", "2/3", NULL, 0), EXIT_USAGE);
}

/* gate and export take a merged folder like any other */
static void test_gate_and_export(void **state)
{
	(void)state;
	char path[800], err[1024];
	struct gate_doc base, cur;
	struct gate_options o = {.go_threshold = 0.05, .go_alpha = 0.05};
	struct gate_result r;
	snprintf(path, sizeof(path), "%s/run.json", whole);
	assert_int_equal(gate_doc_load(path, &base, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/run.json", out);
	assert_int_equal(gate_doc_load(path, &cur, err, sizeof(err)), 0);
	assert_int_equal(cur.gd_npoints, 4);
	assert_int_equal(gate_compare(&base, &cur, &o, &r, err, sizeof(err)), 0);
	assert_int_equal(r.gr_matched, 4);
	assert_int_equal(r.gr_ngaps, 0);
	assert_null(strstr(r.gr_notes, "different hosts")); /* one host: nothing to say */
	gate_result_free(&r);
	gate_doc_free(&cur);
	gate_doc_free(&base);

	/* export */
	char o2[800];
	snprintf(o2, sizeof(o2), "%s/bmf.json", tmpdir);
	char *argv[] = {"export", "--format", "bmf", out, "--out", o2};
	assert_int_equal(quietly(cmd_export, 6, argv), EXIT_OK);
	json_t *bmf = th_load_json("%s", o2);
	assert_true(json_object_size(bmf) == 4); /* a benchmark per point */
	json_decref(bmf);
}

/* Trials from two hosts: the gate and the report say so; not for the
 * virtual-time engine, whose timings do not depend on the host. */
static void test_hosts_flagged(void **state)
{
	(void)state;
	char path[800], err[1024];
	struct gate_doc base, cur;
	struct gate_options o = {.go_threshold = 0.05, .go_alpha = 0.05};
	struct gate_result r;
	snprintf(path, sizeof(path), "%s/run.json", whole);
	assert_int_equal(gate_doc_load(path, &base, err, sizeof(err)), 0);
	/* the second shard's trials as if from another host */
	json_t *doc = th_load_json("%s/run.json", out);
	json_t *sh1 = th_load_json("%s/run.json", shards[1]);
	size_t p, t, k;
	json_t *pt, *tr, *mine;
	json_array_foreach(json_object_get(doc, "points"), p, pt)
		json_array_foreach(json_object_get(pt, "trials"), t, tr)
			json_array_foreach(json_object_get(json_array_get(json_object_get(sh1, "points"), p), "trials"), k, mine)
				if (json_equal(json_object_get(mine, "trial"), json_object_get(tr, "trial")))
					json_object_set_new(json_object_get(tr, "host"), "name", json_string("other-host"));
	char *text = json_dumps(doc, 0);
	assert_int_equal(gate_doc_parse(text, strlen(text), "two-hosts", &cur, err, sizeof(err)), 0);
	assert_int_equal(cur.gd_nhosts, 2);
	assert_true(cur.gd_host_timing);
	assert_int_equal(gate_compare(&base, &cur, &o, &r, err, sizeof(err)), 0);
	assert_non_null(strstr(r.gr_notes, "timing metrics compare trials run on different hosts"));
	assert_non_null(strstr(r.gr_notes, "other-host"));
	assert_true(r.gr_hosts_differ);
	/* and its closing line says so too */
	char *outbuf = NULL;
	size_t outlen = 0;
	FILE *of = open_memstream(&outbuf, &outlen);
	gate_print_text(of, &base, &cur, &o, &r);
	fclose(of);
	assert_non_null(strstr(outbuf, "failing; timings compared across hosts (see notes)"));
	free(outbuf);
	gate_result_free(&r);
	gate_doc_free(&cur);
	free(text);

	/* ... and so does the report */
	struct shard_hosts hs;
	shard_doc_hosts(doc, &hs);
	assert_int_equal(hs.hs_nhosts, 2);
	assert_int_equal(hs.hs_groups, 2);  /* two facets' CPU counts: 1 and 2 */
	assert_int_equal(hs.hs_mixed, 2);   /* every point has a trial on each shard's host */
	assert_int_equal(hs.hs_merged, 3);
	struct shard_note sn[4];
	unsigned n = shard_report_notes(doc, SN_WARNING, sn, 4);
	assert_true(n >= 1);
	assert_string_equal(sn[0].sn_title, "Timings from several hosts");
	assert_non_null(strstr(sn[0].sn_text, "2 of 2 comparisons"));
	assert_true(shard_report_notes(doc, SN_ANSWER, sn, 4) == 1);
	/* not with the virtual engine, whose timings are the model's own */
	json_array_foreach(json_object_get(doc, "points"), p, pt)
		json_object_set_new(json_object_get(pt, "config"), "machine.engine", json_string("virtual"));
	shard_doc_hosts(doc, &hs);
	assert_false(hs.hs_host_timing);
	assert_int_equal(shard_report_notes(doc, SN_WARNING, sn, 4), 0);
	json_decref(doc);
	json_decref(sh1);
	gate_doc_free(&base);
}

/* An interrupted shard: the merge is partial, marked so, and gate fails it. */
static void test_interrupted_shard(void **state)
{
	(void)state;
	char part[800], cmd[2000], o[800], path[900], err[1024];
	snprintf(part, sizeof(part), "%s/partial-shard3", tmpdir);
	snprintf(cmd, sizeof(cmd), "cp -R '%s' '%s'", shards[2], part);
	assert_int_equal(system(cmd), 0);
	json_t *doc = th_load_json("%s/run.json", part);
	json_t *pt = json_array_get(json_object_get(doc, "points"), 0);
	assert_true(json_array_size(json_object_get(pt, "trials")) > 0);
	json_array_remove(json_object_get(pt, "trials"), 0);
	json_object_set_new(doc, "interrupted", json_true());
	snprintf(path, sizeof(path), "%s/run.json", part);
	assert_int_equal(json_dump_file(doc, path, JSON_INDENT(1)), 0);
	json_decref(doc);
	snprintf(o, sizeof(o), "%s/merged/partial", tmpdir);
	assert_int_equal(merge(o, shards[0], shards[1], part, NULL), EXIT_OK);
	doc = th_load_json("%s/run.json", o);
	assert_true(json_is_true(json_object_get(doc, "interrupted")));
	assert_int_equal(json_array_size(json_object_get(json_array_get(json_object_get(doc, "points"), 0), "trials")), 2);
	json_decref(doc);
	struct gate_doc base, cur;
	struct gate_options go = {.go_threshold = 0.05, .go_alpha = 0.05};
	struct gate_result r;
	snprintf(path, sizeof(path), "%s/run.json", whole);
	assert_int_equal(gate_doc_load(path, &base, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/run.json", o);
	assert_int_equal(gate_doc_load(path, &cur, err, sizeof(err)), 0);
	assert_int_equal(gate_compare(&base, &cur, &go, &r, err, sizeof(err)), 0);
	assert_true(gate_failed(&r)); /* an interrupted CURRENT is a gap */
	gate_result_free(&r);
	gate_doc_free(&base);
	gate_doc_free(&cur);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_assign),
		cmocka_unit_test(test_virtual_trial_estimate),
		cmocka_unit_test(test_shards_are_the_run),
		cmocka_unit_test(test_merged_is_the_run),
		cmocka_unit_test(test_virtual_engine_identical),
		cmocka_unit_test(test_tables_from_runjson),
		cmocka_unit_test(test_merge_refusals),
		cmocka_unit_test(test_gate_and_export),
		cmocka_unit_test(test_hosts_flagged),
		cmocka_unit_test(test_interrupted_shard),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
