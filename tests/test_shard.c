/*
 * test_shard.c — `pmapstorm run --shard K/N` (issue 19): the slices are
 * deterministic, spread every point evenly and balance the estimated time,
 * and a small sweep run whole and as three shards has the same points,
 * trials, seeds and places in the run's order.
 *
 * Nothing here depends on timing: the trials are short, and only their
 * identity (point, trial, seed, order), the folders and the messages are
 * checked, never a measured value.
 */
#include "harness.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver.h"
#include "shard.h"

static char tmpdir[] = "/tmp/pmapstorm-shard-XXXXXX";
static char cfg[600], whole[700], shards[3][700];

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

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* stderr to /dev/null around a command; its exit code */
static int quietly(int (*cmd)(int, char **), int argc, char **argv)
{
	fflush(stderr);
	fflush(stdout);
	int saved = dup(2), savedo = dup(1), fd = open("/dev/null", O_WRONLY);
	dup2(fd, 2);
	dup2(fd, 1);
	close(fd);
	int rc = cmd(argc, argv);
	fflush(stderr);
	fflush(stdout);
	dup2(saved, 2);
	dup2(savedo, 1);
	close(saved);
	close(savedo);
	return rc;
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

static json_t *load_run(const char *folder)
{
	char path[800];
	snprintf(path, sizeof(path), "%s/run.json", folder);
	json_error_t je;
	json_t *doc = json_load_file(path, 0, &je);
	if (doc == NULL)
		fail_msg("%s: %s", path, je.text);
	return doc;
}

/* The sweep whole, and as shards 1/3, 2/3, 3/3 (3/3 from the environment,
 * as a scheduler gives it): once for every test. */
static int setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(cfg, sizeof(cfg), "%s/sweep.ini", tmpdir);
	write_file(cfg, sweep);
	char results[700];
	snprintf(results, sizeof(results), "%s/results", tmpdir);
	if (run_into(cfg, results, NULL, NULL, NULL, NULL, whole, sizeof(whole)) != EXIT_OK)
		return -1;
	if (run_into(cfg, results, "--shard", "1/3", NULL, NULL, shards[0], sizeof(shards[0])) != EXIT_OK ||
	    run_into(cfg, results, "--shard", "2/3", NULL, NULL, shards[1], sizeof(shards[1])) != EXIT_OK)
		return -1;
	setenv("TEST_SHARD_INDEX", "2", 1); /* counting from 0: the third shard */
	int rc = run_into(cfg, results, "--shard", "env:TEST_SHARD_INDEX+1/3", NULL, NULL, shards[2], sizeof(shards[2]));
	unsetenv("TEST_SHARD_INDEX");
	if (rc != EXIT_OK)
		return -1;
	return 0;
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
	assert_int_equal(shard_parse("2/3", &s), EXIT_OK);
	assert_int_equal(s.sh_index, 2);
	assert_int_equal(s.sh_count, 3);
	assert_int_equal(shard_parse("1/1", &s), EXIT_OK);
	const char *bad[] = {"0/3", "4/3", "3", "/3", "2/", "2/0", "a/b", "-1/3", "1.5/3", "2/3x", "1/99999999", "env:/3",
	    "env:1X/3", "env:NO_SUCH_VARIABLE_HERE/3", "env:X Y/3", NULL};
	for (const char **b = bad; *b != NULL; b++)
		if (shard_parse(*b, &s) != EXIT_USAGE)
			fail_msg("--shard %s accepted", *b);
	setenv("TEST_SHARD_K", "3", 1);
	assert_int_equal(shard_parse("env:TEST_SHARD_K/3", &s), EXIT_OK);
	assert_int_equal(s.sh_index, 3);
	assert_non_null(strstr(s.sh_how, "TEST_SHARD_K=3"));
	assert_int_equal(shard_parse("env:TEST_SHARD_K+1/3", &s), EXIT_USAGE); /* shard 4 of 3 */
	setenv("TEST_SHARD_K", "0", 1);
	assert_int_equal(shard_parse("env:TEST_SHARD_K/3", &s), EXIT_USAGE); /* counts from 1 */
	assert_int_equal(shard_parse("env:TEST_SHARD_K+1/3", &s), EXIT_OK);
	assert_int_equal(s.sh_index, 1);
	setenv("TEST_SHARD_K", "two", 1);
	assert_int_equal(shard_parse("env:TEST_SHARD_K/3", &s), EXIT_USAGE);
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

/* run --shard alone: the three shards' trials are the whole run's, once
 * each, with the same seeds and places in the order, and each shard ran
 * its own in that order */
static void test_shards_are_the_run(void **state)
{
	(void)state;
	json_t *w = load_run(whole);
	char seen[4][3] = {{0}};
	size_t p, t;
	json_t *pt, *tr;
	for (unsigned k = 0; k < 3; k++) {
		json_t *s = load_run(shards[k]), *sh = json_object_get(s, "shard");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_assign),
		cmocka_unit_test(test_shards_are_the_run),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
