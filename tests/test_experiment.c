/*
 * test_experiment.c — experiment files, sweeps, CPU sets, and every workload
 * run by the driver on 2 CPUs with the checkers clean afterwards.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pmapstorm/shootdown.h>
#include <pmapstorm/topo.h>
#include <unistd.h>

#include "experiment/experiment.h"
#include "trials/driver.h"
#include "trials/workloads/workload.h"

static char tmpdir[] = "/tmp/pmapstorm-test-XXXXXX";
static char errbuf[8192];

static const char *write_ini(const char *name, const char *text)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* exp_load with stderr captured into errbuf */
static int load_capture(struct experiment *ex, const char *path)
{
	char cap[600];
	snprintf(cap, sizeof(cap), "%s/stderr", tmpdir);
	fflush(stderr);
	int saved = dup(2), fd = open(cap, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	dup2(fd, 2);
	close(fd);
	int rc = exp_load(ex, path);
	struct exp_point pt;
	for (unsigned p = 0; rc == 0 && p < ex->ex_npoints; p++)
		if ((rc = exp_point(ex, p, &pt)) != 0)
			exp_free(ex);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	FILE *f = fopen(cap, "r");
	size_t n = fread(errbuf, 1, sizeof(errbuf) - 1, f);
	errbuf[n] = '\0';
	fclose(f);
	return rc;
}

static const char *const good =
    "; a comment\n"
    "[experiment]\n"
    "name = t1\n"
    "trials = 2\n"
    "duration = 250ms\n"
    "[machine]\n"
    "cpus = 2, 4\n"
    "[mmu]\n"
    "pcid = on, off\n"
    "[role.a]\n"
    "workload = munmap\n"
    "cpus = lo\n"
    "len = 4, 8, 16\n"
    "[role.b]\n"
    "workload = touch\n"
    "cpus = hi\n";

static void test_sweep_product(void **state)
{
	(void)state;
	struct experiment ex;
	assert_int_equal(load_capture(&ex, write_ini("good.ini", good)), 0);
	assert_string_equal(ex.ex_name, "t1");
	assert_int_equal(ex.ex_npoints, 2 * 2 * 3);
	/* mixed radix in file order: cpus fastest, then pcid, then len */
	struct exp_point pt;
	assert_int_equal(exp_point(&ex, 0, &pt), 0);
	assert_int_equal(pt.ep_cfg.mc_ncpu, 2);
	assert_true(pt.ep_cfg.mc_pcid);
	assert_int_equal(pt.ep_trials, 2);
	assert_true(pt.ep_duration_s > 0.24 && pt.ep_duration_s < 0.26);
	assert_int_equal(pt.ep_nroles, 2);
	assert_string_equal(pt.ep_roles[0].er_workload->wl_name, "munmap");
	assert_int_equal(pt.ep_nsweep, 3);
	assert_int_equal(exp_point(&ex, 1, &pt), 0);
	assert_int_equal(pt.ep_cfg.mc_ncpu, 4);
	assert_int_equal(exp_point(&ex, 2, &pt), 0);
	assert_false(pt.ep_cfg.mc_pcid);
	assert_int_equal(exp_point(&ex, 11, &pt), 0);
	assert_string_equal(pt.ep_roles[0].er_optvals[0], "16");
	/* --set overrides a file value, and may itself sweep */
	assert_int_equal(exp_override(&ex, "machine.cpus=3"), 0);
	assert_int_equal(ex.ex_npoints, 2 * 3);
	assert_int_equal(exp_override(&ex, "experiment.seed=7,8"), 0);
	assert_int_equal(ex.ex_npoints, 2 * 3 * 2);
	exp_free(&ex);
}

static void test_list_expansions(void **state)
{
	(void)state;
	struct experiment ex;
	const char *p = write_ini("exp.ini", "[machine]\ncpus = 1..8\n[shootdown]\nstrategy = all\n"
	                                     "[role.r]\nworkload = touch\n");
	assert_int_equal(load_capture(&ex, p), 0);
	unsigned nstrat = 0;
	for (unsigned i = 0; shootdown_strategies[i] != NULL; i++)
		nstrat += !shootdown_strategies[i]->sd_unsafe;
	assert_int_equal(ex.ex_npoints, 4 * nstrat); /* 1, 2, 4, 8 */
	struct exp_point pt;
	assert_int_equal(exp_point(&ex, 2, &pt), 0);
	assert_int_equal(pt.ep_cfg.mc_ncpu, 4);
	exp_free(&ex);
	p = write_ini("exp2.ini", "[machine]\ncpus = 1..host\n[role.r]\nworkload = touch\n");
	assert_int_equal(load_capture(&ex, p), 0);
	assert_int_equal(exp_point(&ex, ex.ex_npoints - 1, &pt), 0);
	assert_int_equal(pt.ep_cfg.mc_ncpu, topo_npus());
	exp_free(&ex);
}

static void test_cpuset(void **state)
{
	(void)state;
	uint64_t b[MAXCPUS / 64];
	char why[256];
	assert_int_equal(exp_cpuset("all", 4, b, MAXCPUS / 64, why, sizeof(why)), 0);
	assert_int_equal(b[0], 0xf);
	assert_int_equal(exp_cpuset("even", 5, b, MAXCPUS / 64, why, sizeof(why)), 0);
	assert_int_equal(b[0], 0x15);
	assert_int_equal(exp_cpuset("lo", 5, b, MAXCPUS / 64, why, sizeof(why)), 0);
	assert_int_equal(b[0], 0x7);
	assert_int_equal(exp_cpuset("hi", 5, b, MAXCPUS / 64, why, sizeof(why)), 0);
	assert_int_equal(b[0], 0x18);
	assert_int_equal(exp_cpuset("hi", 1, b, MAXCPUS / 64, why, sizeof(why)), 0);
	assert_int_equal(b[0], 0); /* a role may be empty at one point of a sweep */
	assert_int_equal(exp_cpuset("0-1+3", 4, b, MAXCPUS / 64, why, sizeof(why)), 0);
	assert_int_equal(b[0], 0xb);
	assert_int_equal(exp_cpuset("2-5", 4, b, MAXCPUS / 64, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "outside the machine"));
	assert_int_equal(exp_cpuset("x", 4, b, MAXCPUS / 64, why, sizeof(why)), -1);
}

/* A file of any bytes must give exit 2 and a message holding expect. */
static void expect_bad_bytes(const char *bytes, size_t len, const char *expect)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/bad.ini", tmpdir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	fclose(f);
	struct experiment ex;
	int rc = load_capture(&ex, path);
	if (rc == 0)
		exp_free(&ex);
	if (rc != EINVAL || strstr(errbuf, expect) == NULL || strstr(errbuf, "bad.ini") == NULL)
		fail_msg("error %d, message '%s' lacks '%s'", rc, errbuf, expect);
}

/* Bad input: one message with file, line and key; exit code 2. */
static void test_bad_configs(void **state)
{
	(void)state;
	static const struct {
		const char *text, *expect;
	} cases[] = {
		{"[machine]\ncpus = four\n[role.r]\nworkload = touch\n", ":2: machine.cpus"},
		{"[machine]\ncpus = 2,,4\n[role.r]\nworkload = touch\n", ":2: machine.cpus: empty value"},
		{"[machine]\ncolour = blue\n[role.r]\nworkload = touch\n", ":2: machine.colour: unknown key"},
		{"[nosuch]\nkey = 1\n[role.r]\nworkload = touch\n", ":2: [nosuch]: unknown section; sections: experiment"},
		{"[experiment]\nfrobs = 1\n[role.r]\nworkload = touch\n", ":2: experiment.frobs: unknown key"},
		{"[experiment]\ntrials = 0\n[role.r]\nworkload = touch\n", ":2: experiment.trials"},
		/* a seed run.json can record: a JSON integer, so at most 2^63 - 1 */
		{"[experiment]\nseed = 9223372036854775808\n[role.r]\nworkload = touch\n",
		    ":2: experiment.seed: '9223372036854775808' is not a whole number in [0, 9223372036854775807]"},
		{"[experiment]\nseed = 99999999999999999999\n[role.r]\nworkload = touch\n", ":2: experiment.seed"},
		{"[experiment]\nseed = -1\n[role.r]\nworkload = touch\n", ":2: experiment.seed"},
		{"[experiment]\nduration = soon\n[role.r]\nworkload = touch\n", ":2: experiment.duration"},
		{"[shootdown]\nstrategy = nope\n[role.r]\nworkload = touch\n", ":2: shootdown.strategy"},
		{"[machine]\ncpus = 2\ncpus = 4\n[role.r]\nworkload = touch\n", ":3: machine.cpus: given twice"},
		{"[role.r]\nworkload = frob\n", ":2: role.r.workload: unknown workload"},
		{"[role.r]\nworkload = touch\npattern = spiral\n", ":3: role.r.pattern"},
		{"[role.r]\nworkload = munmap\nlen = 0\n", ":3: role.r.len"},
		{"[role.r]\nworkload = munmap\nfrob = 1\n", ":3: role.r.frob"},
		{"[role.r]\ncpus = all\n", ":2: [role.r]: no 'workload"},
		{"[role.r]\nworkload = touch\npmap = my pmap!\n", ":3: role.r.pmap"},
		{"[role.r]\nworkload = migrate\npmap = private\n", ":3: role.r.pmap: workload migrate needs one pmap"},
		{"[machine]\ncpus = 2\n[role.r]\nworkload = touch\ncpus = 0-3\n", ":5: role.r.cpus"},
		{"[role.a]\nworkload = touch\ncpus = 0\n[role.b]\nworkload = touch\ncpus = 0-1\n", "role.b.cpus: CPU 0 is in two roles"},
		{"cpus = 2\n", ":1: cpus: a key outside any [section]"},
		{"[machine]\nthis line is garbage\n", ":2:"},
		{"", "bad.ini: no settings (the file is empty"},
		{"; only\n# comments\n\n", "bad.ini: no settings"},
		{"[experiment]\ntrials = 1\n", "no [role.NAME] section"},
		{"\x01\x02\xff\xfe binary\n", ":1: byte 0x01 at column 1: not a text file"},
		{"[experiment]\ntrials = 1\n\x7f\x1b[0m\n", ":3: byte 0x1b at column 2: not a text file"},
		/* workload mixes and the report's section */
		{"[experiment]\nmix = a\n[mix.b]\nroles = r\n[role.r]\nworkload = touch\n", ":4: [mix.b]: not one of experiment.mix"},
		{"[experiment]\nmix = a\n[mix.a]\nroles = r+nosuch\n[role.r]\nworkload = touch\n",
		    ":4: mix.a.roles: 'nosuch' is not a role"},
		{"[experiment]\nmix = a\n[mix.a]\ncolour = blue\n[role.r]\nworkload = touch\n", ":4: mix.a.colour: a mix holds"},
		{"[experiment]\nmix = a\n[mix.a]\nkmem.poolpage = mapped\n[role.r]\nworkload = touch\n", ":4: kmem.poolpage"},
		{"[experiment]\nmix = a b\n[role.r]\nworkload = touch\n", ":2: experiment.mix: 'a b' is not a mix name"},
		{"[report]\nbaseline = nope\n[role.r]\nworkload = touch\n", ":2: report.baseline: 'nope' is not a strategy"},
		{"[report]\ncolour = 1\n[role.r]\nworkload = touch\n", ":2: report.colour: unknown key"},
		/* one value, not a list: the run's name, and its trials (one order) */
		{"[experiment]\nname = a, b\n[role.r]\nworkload = touch\n", ":2: experiment.name: one value, not a list"},
		{"[experiment]\ntrials = 1, 2\n[role.r]\nworkload = touch\n", ":2: experiment.trials: one value, not a list"},
		/* inih reads an indented line as a continuation of the last value;
		 * here it stands on its own (exp_reader drops the indentation) */
		{"[machine]\ncpus = 2\n   4\n[role.r]\nworkload = touch\n", ":3: not a 'key = value' line"},
		/* numbers: overflow, sign, NaN, infinity, fractions, units */
		{"[machine]\ncpus = 99999999999999999999999\n[role.r]\nworkload = touch\n", ":2: machine.cpus: '9999"},
		{"[tlb]\nentries = -64\n[role.r]\nworkload = touch\n", ":2: tlb.entries: '-64' is not a whole number"},
		{"[machine]\ncpus = 0\n[role.r]\nworkload = touch\n", ":2: machine.cpus: 0 is out of range"},
		{"[tlb]\nways = 65\n[role.r]\nworkload = touch\n", ":2: tlb.ways: 65 is out of range"},
		{"[machine]\nmemory = 12Q\n[role.r]\nworkload = touch\n", ":2: machine.memory: '12Q' is not a size"},
		{"[machine]\nmemory = 1.5G\n[role.r]\nworkload = touch\n", ":2: machine.memory: '1.5G' is not a size"},
		{"[machine]\nmemory = 128G\n[role.r]\nworkload = touch\n", ":2: machine.memory: 128G is out of range"},
		{"[experiment]\nduration = nan\n[role.r]\nworkload = touch\n", ":2: experiment.duration: 'nan'"},
		{"[experiment]\nwarmup = inf\n[role.r]\nworkload = touch\n", ":2: experiment.warmup: 'inf'"},
		{"[experiment]\nduration = 5 parsecs\n[role.r]\nworkload = touch\n", ":2: experiment.duration: '5 parsecs'"},
		{"[experiment]\ntrials = 2.5\n[role.r]\nworkload = touch\n", ":2: experiment.trials: '2.5'"},
		{"[role.r]\nworkload = touch\nreach = nan\n", ":3: role.r.reach: 'nan' is not a number"},
		{"[role.r]\nworkload = munmap\nlen = 1e300\n", ":3: role.r.len: 1e300 is out of range"},
		{"[role.r]\nworkload = munmap\nlen = 4.5\n", ":3: role.r.len: '4.5' is not a whole number"},
		/* empty values and lists */
		{"[machine]\ncpus =\n[role.r]\nworkload = touch\n", ":2: machine.cpus: empty value"},
		{"[machine]\ncpus = 2,\n[role.r]\nworkload = touch\n", ":2: machine.cpus: empty value"},
		{"[role.r]\nworkload =\n", ":2: role.r.workload: empty value"},
		/* names and sections */
		{"[role.a.b]\nworkload = touch\n", ":2: [role.a.b]: a role needs a short name"},
		{"[role.]\nworkload = touch\n", ":2: [role.]: a role needs a short name"},
		{"[machine\ncpus = 2\n", ":1: not a 'key = value' line"},
		{"[role.r]\nworkload = touch\ncpus = 0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0\n",
		 ":3: role.r.cpus: CPU set longer than 63 characters"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_bad_bytes(cases[i].text, strlen(cases[i].text), cases[i].expect);
	/* generated: a very long line, a very long key, a NUL byte */
	char text[1024];
	int n = snprintf(text, sizeof(text), "[machine]\ncpus = 1");
	for (int i = 0; i < 300; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, ",1");
	n += snprintf(text + n, sizeof(text) - (size_t)n, "\n[role.r]\nworkload = touch\n");
	expect_bad_bytes(text, (size_t)n, ":2: line longer than");
	n = snprintf(text, sizeof(text), "[machine]\n%0150d = 1\n[role.r]\nworkload = touch\n", 0);
	expect_bad_bytes(text, (size_t)n, ":2: 0000");
	static const char nul[] = "[machine]\ncpus = 2\0\n[role.r]\nworkload = touch\n";
	expect_bad_bytes(nul, sizeof(nul) - 1, ":2: byte 0x00 at column 9: not a text file");
	struct experiment ex;
	assert_int_equal(load_capture(&ex, "/nonexistent/x.ini"), EINVAL);
	assert_non_null(strstr(errbuf, "cannot open"));
}

/* Loads text as an experiment and runs point 0's first trial. */
static struct trial_result *run_text(const char *text, uint64_t seed)
{
	struct experiment ex;
	assert_int_equal(load_capture(&ex, write_ini("run.ini", text)), 0);
	struct exp_point pt;
	assert_int_equal(exp_point(&ex, 0, &pt), 0);
	struct trial_result *r = mem_zalloc(struct trial_result, 1);
	assert_non_null(r);
	_Atomic int stop = 0;
	assert_int_equal(trial_run(&pt, 0, seed, r, &stop), 0);
	exp_free(&ex);
	return r;
}

static void trial_done(struct trial_result *r)
{
	trial_free(r);
	free(r);
}

/* Every workload, driven on 2 CPUs: it makes progress, sees no violation,
 * and pmap_check()/tlb_check() are clean at the quiescent point. */
static void test_every_workload_runs_clean(void **state)
{
	(void)state;
	for (unsigned w = 0; workloads[w] != NULL; w++) {
		char text[1024];
		snprintf(text, sizeof(text),
		    "[experiment]\ntrials = 1\nwarmup = 0.02s\nduration = 0.1s\n[machine]\ncpus = 2\nmemory = 32M\n"
		    "[role.r]\nworkload = %s\ncpus = all\n",
		    workloads[w]->wl_name);
		struct trial_result *r = run_text(text, 42);
		if (r->tr_errors != 0)
			fail_msg("workload %s: %u errors", workloads[w]->wl_name, r->tr_errors);
		const struct metric *m = trial_metric(r, "ops_per_s.r");
		assert_non_null(m);
		if (!(m->m_value > 0))
			fail_msg("workload %s made no progress", workloads[w]->wl_name);
		assert_true(r->tr_done);
		trial_done(r);
	}
}

/* The timeline's monitor (a host thread beside the CPUs) sleeps until its
 * next sample inside the window, instead of waking every few milliseconds
 * to look at the clock (docs/performance.md, section 19): one sleep per
 * sample and the first, where the napping monitor slept ten times per
 * sample at this interval.  The bound allows three early wakes a sample
 * besides — a clock calibrated several percent off — and holds however
 * late the host runs the monitor: a late one takes fewer samples and
 * sleeps fewer times. */
static void test_monitor_sleeps_until_its_sample(void **state)
{
	(void)state;
	struct trial_result *r = run_text("[experiment]\ntrials = 1\nwarmup = 0.02s\nduration = 0.5s\ninterval = 0.05s\n"
	                                  "[machine]\ncpus = 2\n[role.r]\nworkload = touch\ncpus = all\n", 3);
	if (!(r->tr_monitor_waits >= r->tr_nintervals && r->tr_monitor_waits <= 4 * r->tr_nintervals + 4))
		fail_msg("%u samples, %u sleeps toward them", r->tr_nintervals, r->tr_monitor_waits);
	trial_done(r);
}

/* Shared pmap: the munmap role's shootdowns reach the other CPU. */
static void test_munmap_shared_pmap_shoots(void **state)
{
	(void)state;
	struct trial_result *r = run_text("[experiment]\ntrials = 1\nwarmup = 0.02s\nduration = 0.1s\n[machine]\ncpus = 2\n"
	                                  "[role.r]\nworkload = munmap\ncpus = all\npmap = shared\n", 1);
	assert_int_equal(r->tr_errors, 0);
	assert_true(trial_metric(r, "ipis_per_update.r")->m_value > 0.5);
	assert_true(trial_metric(r, "remote_latency_p50.r")->m_value > 0);
	trial_done(r);
}

/* munmap's tables option: with free (NetBSD's pmap_remove frees what it
 * empties) each cycle allocates at least the CPU's own last two levels of
 * page-table pages again (its 4 GiB region has an L2 page of its own);
 * with keep, the page mapped past the range keeps every one of them, so
 * no cycle allocates or frees any.  Counts of the measured window; and
 * the kept page under a lazy strategy and every oracle: no error. */
static void test_munmap_tables_keep_frees_none(void **state)
{
	(void)state;
	const unsigned alloc = stats_counter_find("pmap.ptp_alloc")->sc_index,
	               freed = stats_counter_find("pmap.ptp_free")->sc_index;
	for (int keep = 0; keep < 2; keep++) {
		char text[512];
		snprintf(text, sizeof(text),
		    "[experiment]\ntrials = 1\nwarmup = 0.02s\nduration = 0.1s\n[machine]\ncpus = 2\n"
		    "[role.r]\nworkload = munmap\ncpus = all\npmap = shared\nlen = 1\ntables = %s\n",
		    keep ? "keep" : "free");
		struct trial_result *r = run_text(text, 1);
		assert_int_equal(r->tr_errors, 0);
		const struct role_result *ro = &r->tr_roles[0];
		assert_true(ro->ro_ops > 0);
		if (keep) {
			if (ro->ro_counters[alloc] != 0 || ro->ro_counters[freed] != 0)
				fail_msg("tables = keep: %lu page-table pages allocated and %lu freed in %lu cycles (want 0)",
				    (unsigned long)ro->ro_counters[alloc], (unsigned long)ro->ro_counters[freed],
				    (unsigned long)ro->ro_ops);
		} else if (ro->ro_counters[alloc] < 2 * ro->ro_ops) {
			fail_msg("tables = free: %lu page-table pages allocated in %lu cycles (want 2 or more a cycle)",
			    (unsigned long)ro->ro_counters[alloc], (unsigned long)ro->ro_ops);
		}
		trial_done(r);
	}
	/* the page kept mapped is never touched, so no strategy has anything
	 * pending for it: a lazy one under every oracle finds nothing wrong */
	struct trial_result *r = run_text("[experiment]\ntrials = 1\nwarmup = 0.02s\nduration = 0.1s\ncheck = on\n"
	                                  "[machine]\ncpus = 2\n[shootdown]\nstrategy = latr\n[role.r]\nworkload = munmap\n"
	                                  "cpus = all\npmap = shared\nlen = 1\ntables = keep\n", 1);
	assert_true(r->tr_check);
	assert_int_equal(r->tr_errors, 0);
	assert_true(r->tr_roles[0].ro_ops > 0);
	trial_done(r);
}

/* An enum option's value reaches its workload (wl_opt_is), each value
 * seen by a counter of the measured window: kmem's type = pageable faults
 * its pages in, wired never does; poolchurn's cache = on serves objects
 * from the CPUs' pool_cache groups, off goes to the bare pool. */
static void test_enum_options_reach_the_workload(void **state)
{
	(void)state;
	static const struct {
		const char *workload, *option, *value, *counter;
		bool counts;
	} cases[] = {
	    {"kmem", "type", "pageable", "uvm.km.faults", true},
	    {"kmem", "type", "wired", "uvm.km.faults", false},
	    {"poolchurn", "cache", "on", "pool.cache_hits", true},
	    {"poolchurn", "cache", "off", "pool.cache_hits", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text),
		    "[experiment]\ntrials = 1\nwarmup = 0.02s\nduration = 0.05s\n[machine]\ncpus = 2\n"
		    "[role.r]\ncpus = all\nworkload = %s\n%s = %s\n", cases[i].workload, cases[i].option, cases[i].value);
		struct trial_result *r = run_text(text, 1);
		assert_int_equal(r->tr_errors, 0);
		const struct role_result *ro = &r->tr_roles[0];
		assert_true(ro->ro_ops > 0);
		const uint64_t n = ro->ro_counters[stats_counter_find(cases[i].counter)->sc_index];
		if ((n > 0) != cases[i].counts)
			fail_msg("%s with %s = %s: %s = %lu in %lu operations (want %s)", cases[i].workload, cases[i].option,
			    cases[i].value, cases[i].counter, (unsigned long)n, (unsigned long)ro->ro_ops,
			    cases[i].counts ? "some" : "none");
		trial_done(r);
	}
}

/* A pmap named by two roles is one address space: the second role's CPU is
 * a target of the first role's shootdowns; with separate pmaps it is not. */
static void test_named_pmap_shared_between_roles(void **state)
{
	(void)state;
	double ipis[2];
	for (int named = 0; named < 2; named++) {
		char text[512];
		snprintf(text, sizeof(text),
		    "[experiment]\ntrials = 1\nwarmup = 0.02s\nduration = 0.1s\n[machine]\ncpus = 2\n"
		    "[role.a]\nworkload = munmap\ncpus = 0\npmap = %s\n[role.b]\nworkload = touch\ncpus = 1\npmap = %s\n",
		    named ? "app" : "shared", named ? "app" : "shared");
		struct trial_result *r = run_text(text, 1);
		assert_int_equal(r->tr_errors, 0);
		ipis[named] = trial_metric(r, "ipis_per_update.a")->m_value;
		trial_done(r);
	}
	assert_true(ipis[0] == 0);
	assert_true(ipis[1] > 0.5);
}

/*
 * Workload mixes: the points are, mix after mix, the product of the lists as
 * each mix's section overrides them; a mix runs only its roles.
 */
static void test_mixes(void **state)
{
	(void)state;
	struct experiment ex;
	assert_int_equal(load_capture(&ex, write_ini("mix.ini",
	    "[experiment]\nmix = both, alone\n[machine]\ncpus = 2\n[shootdown]\nstrategy = netbsd-x86, latr\n"
	    "[role.u]\nworkload = munmap\ncpus = lo\n[role.c]\nworkload = poolchurn\ncpus = hi\n"
	    "[mix.both]\nkmem.poolpage = direct, vacache\nrole.c.burst = 8\n[mix.alone]\nroles = c\n")), 0);
	assert_int_equal(ex.ex_nmixes, 2);
	assert_int_equal(ex.ex_npoints, 2 * 2 + 2); /* both: strategy x poolpage; alone: strategy */
	struct exp_point pt;
	char facet[256];
	for (unsigned p = 0; p < ex.ex_npoints; p++) {
		assert_int_equal(exp_point(&ex, p, &pt), 0);
		exp_point_facet(&pt, facet, sizeof(facet));
		if (p < 4) {
			assert_string_equal(pt.ep_mix, "both");
			assert_int_equal(pt.ep_nroles, 2);
			assert_string_equal(cfg_str(&pt.ep_cfg, "kmem.poolpage"), p < 2 ? "direct" : "vacache");
			assert_string_equal(facet, p < 2 ? "both / kmem.poolpage=direct" : "both / kmem.poolpage=vacache");
			bool burst = false;
			for (unsigned i = 0; i < pt.ep_roles[1].er_nopts; i++)
				burst |= !strcmp(pt.ep_roles[1].er_optkeys[i], "burst") && !strcmp(pt.ep_roles[1].er_optvals[i], "8");
			assert_true(burst); /* the mix's own role option */
		} else {
			assert_string_equal(pt.ep_mix, "alone");
			assert_int_equal(pt.ep_nroles, 1); /* only its roles run */
			assert_string_equal(pt.ep_roles[0].er_name, "c");
			assert_string_equal(cfg_str(&pt.ep_cfg, "kmem.poolpage"), "direct"); /* the default: not swept here */
			assert_string_equal(facet, "alone");
		}
		assert_string_equal(pt.ep_cfg.mc_strategy, p % 2 ? "latr" : "netbsd-x86"); /* the file's list, first fastest */
	}
	/* --set mix.NAME.key overrides that mix only */
	assert_int_equal(exp_override(&ex, "mix.alone.kmem.poolpage=vacache"), 0);
	assert_int_equal(exp_point(&ex, 4, &pt), 0);
	assert_string_equal(cfg_str(&pt.ep_cfg, "kmem.poolpage"), "vacache");
	exp_free(&ex);
}

/*
 * What the metrics mean, on constructed cases (bench/trials/metrics.c): a strategy
 * that sends nothing still pays its pmap_update(); immediate sends one IPI
 * per page, so 8 pages and one target are 8 IPIs per update; per-operation
 * figures divide by the role's own operations.
 */
/* update_cost_per_op from a sample of completions (stats.update_sample):
 * the timed mean times every completion, per op; the sum itself when
 * every completion was timed (the ci-virtual gate's figures stay exact);
 * not applicable, never 0, when none was */
static void test_update_cost_per_op_scales_the_sample(void **state)
{
	(void)state;
	assert_true(trial_cost_per_op(800, 8, 64, 32) == 200.0); /* mean 100 x 64 completions / 32 ops */
	assert_true(trial_cost_per_op(1001, 7, 7, 4) == 1001.0 / 4);
	assert_true(isnan(trial_cost_per_op(0, 0, 64, 32)));
	assert_true(isnan(trial_cost_per_op(800, 8, 64, 0)));
	assert_true(isnan(trial_cost_per_op(800, 8, 0, 32))); /* more timed than completed: not a figure */
}

/* The driver's batches between clock reads: as many operations as fit in
 * 20 µs at the last batch's pace, 1 to 32.  A batch the host stretched
 * (a preemption) shortens the next one only: the batch after it is fast
 * again and goes back to 32 (the old rule made every later batch one
 * operation long, and touch spent a quarter of its time on the clock) */
static void test_driver_batch_recovers(void **state)
{
	(void)state;
	assert_int_equal(trial_batch_next(32, 32 * 60), 32);    /* 60 ns ops: the most */
	assert_int_equal(trial_batch_next(32, 1000000), 1);     /* stretched to 1 ms */
	assert_int_equal(trial_batch_next(1, 60), 32);          /* and back at once */
	assert_int_equal(trial_batch_next(32, 32 * 800), 25);   /* 800 ns ops: 20 µs a batch */
	assert_int_equal(trial_batch_next(1, 50000), 1);        /* slow ops: a read after each */
	assert_int_equal(trial_batch_next(32, 0), 32);          /* a clock that did not move */
	assert_int_equal(trial_batch_next(32, UINT64_MAX), 1);  /* or ran backwards */
	assert_int_equal(trial_batch_next(0, 1000), 1);         /* never 0 */
}

/* A role whose wl_role_init fails (here migrate on private pmaps, which
 * the parser refuses: built by hand) runs nothing on its CPUs (it ran
 * operations on state that was not there, and crashed), and the trial
 * returns the workload's own error — EINVAL here, so `run` exits 2 — rather
 * than counting a violation (exit 1) the model did not commit */
static void test_role_init_failure_idles_the_role(void **state)
{
	(void)state;
	struct machine_config cfg;
	machine_config_init(&cfg);
	machine_config_set(&cfg, "machine.cpus", "2");
	machine_config_set(&cfg, "machine.memory", "16M");
	struct exp_point pt;
	exp_point_single(&pt, &cfg, "migrate", 0.01, 0.05);
	struct exp_role *r = &pt.ep_roles[0];
	snprintf(r->er_pmap, sizeof(r->er_pmap), "private");
	r->er_private_pmap = true;
	struct trial_result *res = mem_zalloc(struct trial_result, 1);
	assert_non_null(res);
	_Atomic int stop = 0;
	assert_int_equal(trial_run(&pt, 0, 1, res, &stop), EINVAL);
	assert_int_equal(res->tr_errors, 0);
	assert_int_equal(res->tr_roles[0].ro_ops, 0);
	trial_done(res);
}

static void test_metric_meanings(void **state)
{
	(void)state;
	static const char text[] =
	    "[experiment]\ntrials = 1\nwarmup = 0.02s\nduration = 0.1s\n[machine]\ncpus = 2\n[shootdown]\nstrategy = %s\n"
	    "[role.a]\nworkload = munmap\ncpus = 0\npmap = app\nlen = 8\n[role.b]\nworkload = touch\ncpus = 1\npmap = app\n";
	char buf[1024];
	/* tracked shoots only at CPUs that filled the frames, and b never touches
	 * a's pages: a cost, no IPI, no remote latency (n/a, not 0) */
	snprintf(buf, sizeof(buf), text, "tracked");
	struct trial_result *r = run_text(buf, 1);
	assert_int_equal(r->tr_errors, 0);
	assert_non_null(trial_metric(r, "update_cost_p50.a"));
	assert_true(trial_metric(r, "update_cost_p50.a")->m_value > 0);
	assert_true(trial_metric(r, "update_cost_per_op.a")->m_value > 0);
	assert_true(trial_metric(r, "ipis_per_update.a")->m_value == 0);
	assert_null(trial_metric(r, "remote_latency_p50.a"));
	assert_null(trial_metric(r, "ack_latency_p50"));
	assert_null(trial_metric(r, "coherence_time_p50")); /* not lazy */
	/* per role: role a's 8 stores and its check load walk (9 per cycle);
	 * role b's are its own, not diluted by a's operations or a's by b's */
	assert_true(trial_metric(r, "walks_per_op.a")->m_value == 9);
	assert_non_null(trial_metric(r, "walks_per_op.b"));
	assert_true(trial_metric(r, "walks_per_op.b")->m_value < 1);
	assert_null(trial_metric(r, "ops_per_s")); /* no total over unlike roles */
	trial_done(r);
	/* broadcast invalidates the others' TLBs without an IPI: a remote
	 * latency (to the last TLB's drain), no IPI, no acknowledgement */
	snprintf(buf, sizeof(buf), text, "broadcast");
	r = run_text(buf, 1);
	assert_true(trial_metric(r, "ipis_per_update.a")->m_value == 0);
	assert_non_null(trial_metric(r, "remote_latency_p50.a"));
	assert_null(trial_metric(r, "ack_latency_p50"));
	trial_done(r);
	/* immediate: one request, one IPI, per page */
	snprintf(buf, sizeof(buf), text, "immediate");
	r = run_text(buf, 1);
	assert_int_equal(r->tr_errors, 0);
	assert_true(trial_metric(r, "ipis_per_update.a")->m_value == 8);
	assert_true(trial_metric(r, "ipis_per_op.a")->m_value == 8);
	assert_true(trial_metric(r, "remote_latency_p50.a")->m_value > 0);
	assert_non_null(trial_metric(r, "ack_latency_p50")); /* slot-based strategies acknowledge */
	trial_done(r);
	/* netbsd-x86: the batch goes out as one IPI per update */
	snprintf(buf, sizeof(buf), text, "netbsd-x86");
	r = run_text(buf, 1);
	assert_true(trial_metric(r, "ipis_per_update.a")->m_value == 1);
	assert_true(trial_metric(r, "addrs_per_request.a")->m_value == 8);
	trial_done(r);
	/* latr: the lazy metrics, and no IPI but the guard's drains */
	snprintf(buf, sizeof(buf), text, "latr");
	r = run_text(buf, 1);
	assert_non_null(trial_metric(r, "coherence_time_p50"));
	assert_non_null(trial_metric(r, "lazy_fallbacks_per_update"));
	trial_done(r);
}

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sweep_product),
		cmocka_unit_test(test_list_expansions),
		cmocka_unit_test(test_cpuset),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_every_workload_runs_clean),
		cmocka_unit_test(test_munmap_shared_pmap_shoots),
		cmocka_unit_test(test_munmap_tables_keep_frees_none),
		cmocka_unit_test(test_enum_options_reach_the_workload),
		cmocka_unit_test(test_monitor_sleeps_until_its_sample),
		cmocka_unit_test(test_named_pmap_shared_between_roles),
		cmocka_unit_test(test_mixes),
		cmocka_unit_test(test_metric_meanings),
		cmocka_unit_test(test_update_cost_per_op_scales_the_sample),
		cmocka_unit_test(test_driver_batch_recovers),
		cmocka_unit_test(test_role_init_failure_idles_the_role),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
