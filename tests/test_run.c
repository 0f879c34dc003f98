/*
 * test_run.c — `pmapstorm run` when things go wrong: bad input leaves no
 * results folder, resources it cannot have are exit 3 before anything
 * starts, a sweep of more than an hour needs --yes, a missing gnuplot keeps
 * the data, and no results folder or baseline file is ever overwritten;
 * with statistics off, what nothing counted is absent, not 0.
 * (Signals are tested end to end by tests/signals.sh.)  And what the
 * report says of noisy trials: whose time they lost, if anyone's.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "commands/commands.h"
#include "commands/exitcode.h"
#include "common/atomicfile.h"
#include "common/msg.h"
#include "common/path.h"
#include "record/runjson.h"
#include "report/report.h"
#include "trials/hostmem.h"

static char tmpdir[] = "/tmp/pmapstorm-run-XXXXXX";
static char results[600], cfg[600];

static const char *const tiny =
    "[experiment]\n"
    "trials = 1\n"
    "warmup = 0\n"
    "duration = 50ms\n"
    "[machine]\n"
    "cpus = 1\n"
    "memory = 8M\n"
    "[role.r]\n"
    "workload = touch\n";

static int run(const char *extra1, const char *extra2)
{
	char *argv[8] = {"run", cfg, "--results", results, "--quiet"};
	int argc = 5;
	if (extra1 != NULL)
		argv[argc++] = (char *)extra1;
	if (extra2 != NULL)
		argv[argc++] = (char *)extra2;
	return th_cmd(cmd_run, argc, argv, NULL, "/dev/null");
}

/* results folders in results/ (not .tmp-*, .latest-*, or the latest link) */
static unsigned count_folders(char *first, size_t len)
{
	DIR *d = opendir(results);
	if (d == NULL)
		return 0;
	unsigned n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "latest"))
			continue;
		if (n++ == 0 && first != NULL)
			assert_int_equal(path_join(first, len, results, e->d_name), 0);
	}
	closedir(d);
	return n;
}

static int clean_results(void **state)
{
	(void)state;
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", results);
	assert_int_equal(system(cmd), 0);
	th_write_file(cfg, tiny);
	return 0;
}

static void test_bad_config_leaves_nothing(void **state)
{
	(void)state;
	th_write_file(cfg, "[machine]\ncpus = many\n[role.r]\nworkload = touch\n");
	assert_int_equal(run(NULL, NULL), EXIT_USAGE);
	th_write_file(cfg, tiny);
	assert_int_equal(run("--set", "role.r.reach=nan"), EXIT_USAGE);
	assert_int_equal(run("--frobnicate", NULL), EXIT_USAGE);
	assert_int_equal(count_folders(NULL, 0), 0);
	assert_int_equal(access(results, F_OK), -1); /* not even results/ */
}

/* Options that pass one by one but that the workload refuses as it sets up
 * (munmap: 2 M pages, more than a CPU's 4 GiB): input, exit 2, not a
 * violation the run found (it was exit 1); no trial ran, no folder stays */
static void test_workload_setup_refusal_is_exit_2(void **state)
{
	(void)state;
	th_write_file(cfg, "[experiment]\ntrials = 1\nwarmup = 0\nduration = 50ms\n[machine]\ncpus = 1\nmemory = 8M\n"
	                   "[role.r]\nworkload = munmap\nlen = 1024\nslots = 2048\n");
	assert_int_equal(run(NULL, NULL), EXIT_USAGE);
	assert_int_equal(count_folders(NULL, 0), 0);
}

static void test_memory_beyond_host_is_exit_3(void **state)
{
	(void)state;
	setenv("PMAPSTORM_MEM_AVAILABLE", "33554432", 1); /* 32 MiB */
	assert_int_equal(run(NULL, NULL), EXIT_ENV);     /* 8M + room for the process */
	assert_int_equal(count_folders(NULL, 0), 0);
	unsetenv("PMAPSTORM_MEM_AVAILABLE");
	struct machine_config c;
	machine_config_init(&c);
	c.mc_memory = 1ULL << 30;
	setenv("PMAPSTORM_MEM_AVAILABLE", "1073741824", 1);
	assert_int_equal(hostmem_check(&c, NULL), ENOMEM);
	setenv("PMAPSTORM_MEM_AVAILABLE", "4294967296", 1);
	assert_int_equal(hostmem_check(&c, NULL), 0);
	unsetenv("PMAPSTORM_MEM_AVAILABLE");
}

static void test_long_sweep_needs_yes(void **state)
{
	(void)state;
	/* 2 points x 1000 trials x 2 s: more than an hour */
	th_write_file(cfg, "[experiment]\ntrials = 1000\nduration = 2s\n[machine]\ncpus = 1, 2\n[role.r]\nworkload = touch\n");
	assert_int_equal(run(NULL, NULL), EXIT_USAGE);
	assert_int_equal(count_folders(NULL, 0), 0);
	char buf[32];
	msg_duration(buf, sizeof(buf), 4020);
	assert_string_equal(buf, "1 h 07 min");
	msg_duration(buf, sizeof(buf), 65);
	assert_string_equal(buf, "1 min 05 s");
}

static void test_missing_gnuplot_keeps_data(void **state)
{
	(void)state;
	char empty[700], first[700], path[800];
	snprintf(empty, sizeof(empty), "%s/emptybin", tmpdir);
	mkdir(empty, 0777);
	char *old = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", empty, 1);
	int rc = run(NULL, NULL);
	setenv("PATH", old, 1);
	free(old);
	assert_int_equal(rc, EXIT_ENV);
	assert_int_equal(count_folders(first, sizeof(first)), 1);
	snprintf(path, sizeof(path), "%s/run.json", first);
	assert_int_equal(access(path, R_OK), 0);
	snprintf(path, sizeof(path), "%s/summary.csv", first);
	assert_int_equal(access(path, R_OK), 0);
	snprintf(path, sizeof(path), "%s/report.md", first);
	assert_int_equal(access(path, R_OK), 0);
}

/* Two runs in the same second: two folders, the first untouched. */
static void test_results_never_overwritten(void **state)
{
	(void)state;
	assert_int_equal(run("--no-plots", NULL), EXIT_OK);
	assert_int_equal(run("--no-plots", NULL), EXIT_OK);
	assert_int_equal(count_folders(NULL, 0), 2);

	char a[700], b[700];
	snprintf(a, sizeof(a), "%s/from", tmpdir);
	snprintf(b, sizeof(b), "%s/to", tmpdir);
	mkdir(a, 0777);
	mkdir(b, 0777); /* rename(2) would replace an empty directory */
	assert_int_equal(atomicfile_rename_dir_new(a, b), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(access(a, F_OK), 0);
	rmdir(b);
	assert_int_equal(atomicfile_rename_dir_new(a, b), 0);
	rmdir(b);
}

static void test_json_new_never_replaces(void **state)
{
	(void)state;
	char path[700], buf[64] = "";
	snprintf(path, sizeof(path), "%s/baseline.json", tmpdir);
	unlink(path);
	json_t *one = json_pack("{s:i}", "v", 1), *two = json_pack("{s:i}", "v", 2);
	assert_int_equal(atomicfile_write_json_new(path, one), 0);
	int saved = dup(2), fd = open("/dev/null", O_WRONLY);
	dup2(fd, 2);
	close(fd);
	int rc = atomicfile_write_json_new(path, two);
	dup2(saved, 2);
	close(saved);
	assert_int_equal(rc, EEXIST);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "\"v\": 1"));
	assert_int_equal(atomicfile_write_json(path, two), 0); /* the replacing kind does replace */
	/* no temporary files left beside it */
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		assert_null(strstr(e->d_name, ".tmp."));
	closedir(d);
	json_decref(one);
	json_decref(two);
}

/* What a killed run left behind goes at the next run; a live run's stays. */
static void test_stale_temporaries_removed(void **state)
{
	(void)state;
	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	assert_true(dead > 0);
	waitpid(dead, NULL, 0);
	char gone[800], live[800], other[800];
	snprintf(gone, sizeof(gone), "%s/.tmp-x-%d", results, (int)dead);
	snprintf(live, sizeof(live), "%s/.tmp-y-%d", results, (int)getppid());
	snprintf(other, sizeof(other), "%s/.tmp-z-notapid", results);
	mkdir(results, 0777);
	assert_int_equal(mkdir(gone, 0777), 0);
	char f[900];
	snprintf(f, sizeof(f), "%s/run.json.tmp.1", gone);
	th_write_file(f, "{");
	assert_int_equal(mkdir(live, 0777), 0);
	assert_int_equal(mkdir(other, 0777), 0);
	assert_int_equal(run("--no-plots", NULL), EXIT_OK);
	assert_int_equal(access(gone, F_OK), -1);
	assert_int_equal(access(live, F_OK), 0);
	assert_int_equal(access(other, F_OK), 0);
}

/* The report of run.json doc (taken), written into dir: report.md's text,
 * malloc'd */
static char *report_from(json_t *doc, const char *dir)
{
	char path[1024], err[256];
	snprintf(path, sizeof(path), "%s/run.json", dir);
	struct runjson rj;
	assert_int_equal(runjson_read(doc, path, &rj, err, sizeof(err)), EXIT_OK);
	assert_int_equal(report_write(&rj.rj_rr, dir, NULL), 0);
	runjson_free(&rj);
	json_decref(doc);
	snprintf(path, sizeof(path), "%s/report.md", dir);
	return th_read_file(path);
}

/* The report of a run whose two trials are made to differ by half, their
 * CPU thread running `share` of its window: report.md's text, malloc'd */
static char *noisy_report(const char *first, double share, unsigned k)
{
	char path[1024], dir[900];
	json_t *doc = th_load_json("%s/run.json", first);
	json_t *trials = json_object_get(json_array_get(json_object_get(doc, "points"), 0), "trials");
	assert_int_equal(json_array_size(trials), 2);
	for (size_t t = 0; t < 2; t++) {
		json_t *tr = json_array_get(trials, t), *host = json_object_get(tr, "host");
		json_t *ops = json_object_get(json_object_get(tr, "metrics"), "ops_per_s.r");
		assert_non_null(host);
		assert_non_null(ops);
		json_object_set_new(ops, "value", json_real(t == 0 ? 1e6 : 2e6));
		json_object_set_new(host, "usr_s", json_real(share * json_number_value(json_object_get(tr, "seconds"))));
		json_object_set_new(host, "sys_s", json_real(0));
		json_object_set_new(host, "involuntary_switches", json_integer(12));
	}
	snprintf(dir, sizeof(dir), "%s/noisy%u", tmpdir, k);
	assert_int_equal(mkdir(dir, 0777), 0);
	snprintf(path, sizeof(path), "%s/run.json", dir);
	assert_int_equal(json_dump_file(doc, path, 0), 0);
	return report_from(doc, dir);
}

/* A noisy point's warning blames other threads or programs only when its
 * CPU threads lost time (they ran less of their window than their PUs
 * allow); preemptions alone are this run's own monitor too. */
static void test_noisy_warning_says_whose_time(void **state)
{
	(void)state;
	th_write_file(cfg, "[experiment]\ntrials = 2\nwarmup = 0\nduration = 50ms\n[machine]\ncpus = 1\nmemory = 8M\n"
	                   "[role.r]\nworkload = touch\n");
	assert_int_equal(run("--no-plots", NULL), EXIT_OK);
	char first[700];
	assert_int_equal(count_folders(first, sizeof(first)), 1);
	char *full = noisy_report(first, 1.0, 0), *half = noisy_report(first, 0.5, 1);
	assert_non_null(strstr(full, "Noisy trials"));
	assert_non_null(strstr(full, "ran 100% of their window"));
	assert_non_null(strstr(full, "the host took no time from them"));
	assert_null(strstr(full, "other threads or programs took"));
	assert_non_null(strstr(half, "ran 50% of their window"));
	assert_non_null(strstr(half, "other threads or programs took"));
	assert_null(strstr(half, "the host took no time from them"));
	free(full);
	free(half);
}


/* The report of a virtual-time run (the same figures on every host):
 * three strategies, three tied trials each.  A winner whose median is 0
 * leads by no ratio ("against 1 for the baseline", never inf or nan); a
 * strategy without a value of the primary metric is named as not ranked;
 * three tied trials a side are never "significant" (U test p >= 0.1);
 * virtual times and rates carry virtual units; a report.baseline that did
 * not run is a warning; and simulated CPUs beyond the host's PUs are no
 * oversubscription in virtual time (the host is made to have one PU). */
static char *report_of(const char *primary, const char *baseline, char *first, size_t len)
{
	char text[512];
	snprintf(text, sizeof(text), "[experiment]\ntrials = 3\nwarmup = 1ms\nduration = 3ms\n[machine]\ncpus = 2\n"
	                             "memory = 16M\nengine = virtual\n[shootdown]\nstrategy = netbsd-x86, broadcast, latr\n"
	                             "[report]\nprimary = %s\nbaseline = %s\n[role.r]\nworkload = munmap\ncpus = all\n"
	                             "pmap = shared\nlen = 4\n", primary, baseline);
	th_write_file(cfg, text);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", results);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(run("--no-plots", NULL), EXIT_OK);
	assert_int_equal(count_folders(first, len), 1);
	/* one host PU: the run's 2 CPUs outnumber it */
	json_t *doc = th_load_json("%s/run.json", first);
	json_object_set_new(json_object_get(doc, "provenance"), "host_pus", json_integer(1));
	return report_from(doc, first);
}

static void test_report_tells_the_truth(void **state)
{
	(void)state;
	char first[700];
	char *md = report_of("ipis_per_update", "netbsd-x86", first, sizeof(first));
	/* broadcast shoots down by the MMU: 0 IPIs an update, the least */
	assert_non_null(strstr(md, "broadcast wins on ipis\\_per\\_update.r (0), against "));
	assert_non_null(strstr(md, "for the baseline netbsd-x86"));
	assert_null(strstr(md, "infx"));
	assert_null(strstr(md, "| nan"));
	assert_null(strstr(md, "significantly ahead"));
	/* 3 trials a side, 2 comparisons: the smallest p is 2 x 0.1 */
	assert_non_null(strstr(md, "; too few trials for any difference to be significant (3 a point: the U test's "
	                           "smallest p after Holm's correction is 0.2; Warnings)"));
	assert_non_null(strstr(md, "**Few trials**: 3 trial(s) a point: a U test cannot reach p \\< 0.05 after Holm's "
	                           "correction over 2 comparison(s) (its smallest p is 0.2); run 5 or more"));
	assert_null(strstr(md, " \\* |")); /* no p marked significant: the Findings' cells ... */
	assert_null(strstr(md, " \\*)"));  /* ... and the Metrics' */
	assert_null(strstr(md, "Oversubscribed"));
	assert_non_null(strstr(md, "| ops\\_per\\_s.r | ops/virtual s |"));
	free(md);
	/* latr sends no IPI in this window: no remote latency, so not ranked */
	md = report_of("remote_latency_p50", "tracked", first, sizeof(first));
	assert_non_null(strstr(md, "virtual time)"));
	assert_non_null(strstr(md, "not ranked, no value of remote\\_latency\\_p50.r: latr"));
	assert_non_null(strstr(md, "Not ranked, no value of remote\\_latency\\_p50.r"));
	assert_non_null(strstr(md, "report.baseline = tracked did not run here; the report compares with netbsd-x86"));
	free(md);
}

/* With stats.enabled = off nothing is counted: the metrics from counters
 * and histograms (ipis_per_op, walks_per_op, update_cost, ...) are absent
 * from the trial, never 0, ops_per_s and errors stay; lockstat has no
 * rows, and the report says it was not recorded; a timeline
 * interval's counter rates are null in run.json (schema 4), which the
 * reader takes as not measured, and timeline.csv has no row of them.  With
 * statistics on, the same run has them. */
static json_t *stats_run(const char *stats, char *first, size_t len)
{
	char set[64];
	snprintf(set, sizeof(set), "stats.enabled=%s", stats);
	th_write_file(cfg, "[experiment]\ntrials = 1\nwarmup = 0\nduration = 200ms\ninterval = 50ms\n[machine]\n"
	                   "cpus = 2\nmemory = 16M\n[role.r]\nworkload = munmap\ncpus = all\npmap = shared\n");
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", results);
	assert_int_equal(system(cmd), 0);
	char *argv[] = {"run", cfg, "--results", results, "--quiet", "--no-plots", "--set", set};
	assert_int_equal(th_cmd(cmd_run, 8, argv, NULL, "/dev/null"), EXIT_OK);
	assert_int_equal(count_folders(first, len), 1);
	return th_load_json("%s/run.json", first);
}

static void test_stats_off_leaves_counted_metrics_absent(void **state)
{
	(void)state;
	char first[700], path[800];
	json_t *on = stats_run("on", first, sizeof(first));
	json_t *m = json_object_get(json_array_get(json_object_get(json_array_get(json_object_get(on, "points"), 0),
	    "trials"), 0), "metrics");
	assert_non_null(json_object_get(m, "ipis_per_op.r"));
	assert_non_null(json_object_get(m, "walks_per_op.r"));
	assert_int_equal(json_array_size(json_object_get(json_array_get(json_object_get(json_array_get(
	    json_object_get(on, "points"), 0), "trials"), 0), "lockstat")), LC_NCLASS);
	json_decref(on);

	json_t *doc = stats_run("off", first, sizeof(first));
	assert_int_equal(json_integer_value(json_object_get(doc, "schema_version")), 4);
	json_t *tr = json_array_get(json_object_get(json_array_get(json_object_get(doc, "points"), 0), "trials"), 0);
	m = json_object_get(tr, "metrics");
	assert_non_null(json_object_get(m, "ops_per_s.r"));
	assert_non_null(json_object_get(m, "errors"));
	const char *counted[] = {"ipis_per_op.r", "walks_per_op.r", "ipis_per_update.r", "update_cost_p50.r",
	    "remote_latency_p50.r", "tlb_hit_rate.r", "ack_latency_p50"};
	for (unsigned i = 0; i < sizeof(counted) / sizeof(counted[0]); i++)
		if (json_object_get(m, counted[i]) != NULL)
			fail_msg("statistics off: %s is in the trial (it counts nothing)", counted[i]);
	/* every interval the monitor took (the host decides how many): null
	 * rates; and one more, so the reader is tried whatever the host did */
	json_t *ivs = json_object_get(tr, "intervals"), *iv;
	size_t i;
	json_array_foreach(ivs, i, iv)
	{
		assert_true(json_is_null(json_object_get(iv, "flushes_per_s")));
		assert_true(json_is_null(json_object_get(iv, "kernel_flushes_per_s")));
		assert_true(json_is_null(json_object_get(iv, "poolpages_per_s")));
		assert_true(json_number_value(json_object_get(json_object_get(iv, "ops_per_s"), "r")) >= 0);
	}
	/* the report warns that the run measured little */
	snprintf(path, sizeof(path), "%s/report.md", first);
	char *report = th_read_file(path);
	assert_non_null(report);
	assert_non_null(strstr(report, "**Statistics off**: 1 of 1 point(s) ran with stats.enabled = off"));
	assert_non_null(strstr(report, "Not recorded: every point ran with locks.lockstat = off or stats.enabled = off."));
	assert_int_equal(json_array_size(json_object_get(tr, "lockstat")), 0); /* no rows of 0 */
	free(report);
	snprintf(path, sizeof(path), "%s/timeline.csv", first);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[512];
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "flushes_per_s") != NULL || strstr(line, "poolpages_per_s") != NULL)
			fail_msg("statistics off: timeline.csv has a counter's row: %s", line);
	fclose(f);
	json_array_append_new(ivs, json_pack("{s:f,s:{s:f},s:n,s:n,s:n}", "t_s", 0.2, "ops_per_s", "r", 1.0,
	    "flushes_per_s", "kernel_flushes_per_s", "poolpages_per_s"));
	/* a file of schema 3 wrote 0 for all of it: the reader keeps none */
	json_array_append_new(ivs, json_pack("{s:f,s:{s:f},s:f,s:f,s:f}", "t_s", 0.25, "ops_per_s", "r", 1.0,
	    "flushes_per_s", 0.0, "kernel_flushes_per_s", 0.0, "poolpages_per_s", 0.0));
	json_object_set_new(m, "ipis_per_op.r", json_pack("{s:f,s:s,s:s}", "value", 0.0, "unit", "IPIs", "better", "lower"));
	struct runjson rj;
	char err[256];
	snprintf(path, sizeof(path), "%s/run.json", first);
	assert_int_equal(runjson_read(doc, path, &rj, err, sizeof(err)), EXIT_OK);
	const struct trial_result *r = &rj.rj_rr.rr_trials[0];
	assert_true(r->tr_nintervals >= 2);
	for (unsigned k = r->tr_nintervals - 2; k < r->tr_nintervals; k++)
		assert_true(isnan(r->tr_intervals[k].is_flushes_per_s) && isnan(r->tr_intervals[k].is_kernel_flushes_per_s) &&
		    isnan(r->tr_intervals[k].is_poolpages_per_s));
	assert_null(trial_metric(r, "ipis_per_op.r"));
	assert_non_null(trial_metric(r, "ops_per_s.r"));
	runjson_free(&rj);
	json_decref(doc);
}

int main(void)
{
	assert_non_null(mkdtemp(tmpdir));
	snprintf(results, sizeof(results), "%s/results", tmpdir);
	snprintf(cfg, sizeof(cfg), "%s/tiny.ini", tmpdir);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_bad_config_leaves_nothing, clean_results),
		cmocka_unit_test_setup(test_workload_setup_refusal_is_exit_2, clean_results),
		cmocka_unit_test_setup(test_memory_beyond_host_is_exit_3, clean_results),
		cmocka_unit_test_setup(test_long_sweep_needs_yes, clean_results),
		cmocka_unit_test_setup(test_missing_gnuplot_keeps_data, clean_results),
		cmocka_unit_test_setup(test_results_never_overwritten, clean_results),
		cmocka_unit_test(test_json_new_never_replaces),
		cmocka_unit_test_setup(test_stale_temporaries_removed, clean_results),
		cmocka_unit_test_setup(test_noisy_warning_says_whose_time, clean_results),
		cmocka_unit_test_setup(test_report_tells_the_truth, clean_results),
		cmocka_unit_test_setup(test_stats_off_leaves_counted_metrics_absent, clean_results),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
