/*
 * test_topo.c — placement, hop levels, groups, NUMA fallbacks and the
 * topology config keys, on synthetic topologies only (hwloc synthetic
 * syntax), so every assertion holds on any host, as hwloc's own
 * tests/hwloc/hwloc_synthetic.c does.  Nothing here depends on timing.
 */
#include "harness.h"
#include "commands/commands.h"
#include "commands/exitcode.h"
#include "experiment/experiment.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <pmapstorm/shootdown.h>
#include <pmapstorm/topo.h>

#include "../core/machine/machine_impl.h" /* the machine's distance matrix and NUMA flag */

unsigned shootdown_hier_group_of(unsigned cpu); /* core/shootdown/hier.c */

static char why[1024];

static struct topo *placed(const char *synthetic, const char *placement, unsigned ncpu)
{
	struct topo *t = topo_open(synthetic, why, sizeof(why));
	if (t == NULL)
		fail_msg("topo_open(%s): %s", synthetic, why);
	if (topo_place(t, placement, ncpu, why, sizeof(why)) != 0)
		fail_msg("topo_place(%s, %u): %s", placement, ncpu, why);
	return t;
}

static void test_compact(void **state)
{
	(void)state;
	struct topo *t = placed("pack:2 l3:2 core:2 pu:2", "compact", 20);
	assert_true(topo_is_synthetic(t));
	assert_int_equal(topo_topo_pus(t), 16);
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(topo_cpu_pu(t, i), (int)(i % 16)); /* wraps past the PUs */
	assert_true(topo_oversubscribed(t));
	topo_close(t);
	t = placed("pack:2 l3:2 core:2 pu:2", "compact", 4);
	assert_false(topo_cpu_pu(t, 0) == topo_cpu_pu(t, 1));
	/* four CPUs on a 16-PU model are not oversubscribed in the model;
	 * they are on a host with fewer PUs than that */
	assert_int_equal(topo_oversubscribed(t), 4 > topo_npus());
	topo_close(t);
}

static void test_scatter(void **state)
{
	(void)state;
	/* the top level varies fastest: packages, then L3s, then cores, then SMT */
	struct topo *t = placed("pack:2 l3:2 core:2 pu:2", "scatter", 16);
	static const int want[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(topo_cpu_pu(t, i), want[i]);
	topo_close(t);
	t = placed("pack:2 core:2 pu:1", "scatter", 4);
	static const int want2[4] = {0, 2, 1, 3};
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(topo_cpu_pu(t, i), want2[i]);
	topo_close(t);
}

static void test_list(void **state)
{
	(void)state;
	struct topo *t = placed("pack:2 core:2 pu:2", "list:6,1,3-4", 6);
	static const int want[6] = {6, 1, 3, 4, 6, 1}; /* in order, repeated */
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(topo_cpu_pu(t, i), want[i]);
	assert_true(topo_oversubscribed(t)); /* 6 CPUs on 4 distinct PUs */
	topo_close(t);
	/* spaces stand for commas (a comma sweeps in an experiment file) */
	t = placed("pack:2 core:2 pu:2", "list:7 0", 2);
	assert_int_equal(topo_cpu_pu(t, 0), 7);
	assert_int_equal(topo_cpu_pu(t, 1), 0);
	topo_close(t);
}

static void test_list_errors(void **state)
{
	(void)state;
	struct topo *t = topo_open("pack:2 core:2 pu:2", why, sizeof(why));
	assert_non_null(t);
	assert_int_equal(topo_place(t, "list:0,99", 2, why, sizeof(why)), EINVAL);
	assert_non_null(strstr(why, "machine.placement"));
	assert_non_null(strstr(why, "PU 99 does not exist"));
	assert_non_null(strstr(why, "synthetic machine has 8 PUs (0-7)"));
	static const char *const bad[] = {"list:", "list:a", "list:3-1", "list:1,", "list:1-", "spread", ""};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(topo_place(t, bad[i], 2, why, sizeof(why)), EINVAL);
		assert_non_null(strstr(why, "machine.placement"));
		assert_int_equal(topo_placement_check(bad[i], why, sizeof(why)), EINVAL);
	}
	topo_close(t);
}

static void test_bad_synthetic(void **state)
{
	(void)state;
	static const char *const bad[] = {"pack:2 bogus:3", "pack:x", "core:0 pu:2", "pu:2 core:2"};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_null(topo_open(bad[i], why, sizeof(why)));
		assert_non_null(strstr(why, "machine.topology"));
		assert_non_null(strstr(why, "this host is")); /* what the host has */
	}
}

/* A synthetic machine too big to build is refused before hwloc allocates
 * it (it would exhaust memory), counting levels the way hwloc's syntax has
 * them: "type:N", bare "N", attributes in parentheses, memory children in
 * brackets. */
static void test_synthetic_bound(void **state)
{
	(void)state;
	static const struct {
		const char *desc;
		const char *msg;
	} big[] = {
		{"pack:1000 core:1000 pu:1000", "machine.topology: 1000000000 PUs, at most 4096"},
		{"64 64 2", "machine.topology: 8192 PUs, at most 4096"},
		{"pack:2 [numa(memory=1000000)] core:1025(memory=1000000) pu:2", "machine.topology: 4100 PUs, at most 4096"},
		{"(memory=1000000) pack:4096 pu:2", "machine.topology: 8192 PUs, at most 4096"},
		{"pack:99999999999 core:99999999999 pu:99999999999", "at most 4096"}, /* saturates, no overflow */
	};
	for (unsigned i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		why[0] = '\0';
		errno = 0;
		assert_null(topo_open(big[i].desc, why, sizeof(why)));
		assert_int_equal(errno, EINVAL);
		if (strstr(why, big[i].msg) == NULL)
			fail_msg("%s: '%s' lacks '%s'", big[i].desc, why, big[i].msg);
	}
	/* the bound itself is allowed, attributes and brackets included */
	struct topo *t = topo_open("pack:2 [numa(memory=1000000)] core:1024(memory=1000000) pu:2", why, sizeof(why));
	if (t == NULL)
		fail_msg("4096 PUs refused: %s", why);
	assert_int_equal(topo_topo_pus(t), TOPO_MAXPUS);
	topo_close(t);
	/* the config key refuses it too (where the command line reaches it) */
	struct machine_config cfg;
	machine_config_init(&cfg);
	assert_int_equal(machine_config_set(&cfg, "machine.topology", "pack:1000 core:1000 pu:1000"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "1000000000 PUs, at most 4096"));
}

/* topo_export_xml writes to the caller's stream (bench makes the file atomically) */
static void test_export_xml_stream(void **state)
{
	(void)state;
	struct topo *t = placed("pack:2 core:2 pu:1", "compact", 2);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(topo_export_xml(t, false, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "<topology"));
	assert_non_null(strstr(buf, "</topology>"));
	free(buf);
	topo_close(t);
}

/* calibrate pins its thread to each PU it measures, then gives the thread
 * its affinity back (it used to stay on the last PU) */
static void test_calibrate_restores_affinity(void **state)
{
	(void)state;
	cpu_set_t before, after;
	assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof(before), &before), 0);
	char out[] = "/tmp/test_topo_calXXXXXX";
	int fd = mkstemp(out);
	assert_true(fd >= 0);
	close(fd);
	char *argv[] = {"calibrate", "--quiet", "--samples", "10", "--seconds", "0.02", "--rounds", "200",
	    "--set", "machine.cpus=2", "--set", "machine.memory=16M", "--out", out, NULL};
	assert_int_equal(cmd_calibrate((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv), EXIT_OK);
	unlink(out);
	assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof(after), &after), 0);
	assert_true(CPU_EQUAL(&before, &after));
}

static void test_hops_and_levels(void **state)
{
	(void)state;
	struct topo *t = placed("pack:2 l3:2 core:2 pu:2", "compact", 17);
	assert_int_equal(topo_nlevels(t), 4);
	assert_string_equal(topo_level_name(t, 1), "Core");
	assert_string_equal(topo_level_name(t, 2), "L3Cache");
	assert_string_equal(topo_level_name(t, 3), "Package");
	assert_string_equal(topo_level_name(t, 4), "Machine");
	assert_int_equal(topo_hops(t, 0, 0), 0);
	assert_int_equal(topo_hops(t, 0, 16), 0); /* oversubscribed onto the same PU */
	assert_int_equal(topo_hops(t, 0, 1), 1);  /* SMT siblings */
	assert_int_equal(topo_hops(t, 0, 2), 2);  /* same L3 */
	assert_int_equal(topo_hops(t, 0, 4), 3);  /* same package */
	assert_int_equal(topo_hops(t, 0, 8), 4);  /* across packages */
	assert_int_equal(topo_hops(t, 15, 8), 3);
	topo_close(t);
	/* levels that do not branch add no distance */
	t = placed("pack:2 l3:1 l2:2 core:1 pu:1", "compact", 4);
	assert_int_equal(topo_nlevels(t), 2);
	assert_int_equal(topo_hops(t, 0, 1), 1);
	assert_int_equal(topo_hops(t, 0, 2), 2);
	topo_close(t);
}

static void test_groups(void **state)
{
	(void)state;
	/* the L3 above each model PU */
	struct topo *t = placed("pack:2 l3:2 core:2 pu:1", "compact", 8);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(topo_cpu_group(t, i), (int)(i / 2));
	topo_close(t);
	/* no L3: the package */
	t = placed("pack:2 core:3 pu:1", "compact", 6);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(topo_cpu_group(t, i), (int)(i / 3));
	topo_close(t);
}

/* hier takes its groups, and so its leaders, from the synthetic machine */
static void test_hier_leaders(void **state)
{
	(void)state;
	const char *const sets[] = {"machine.cpus=8", "machine.topology=pack:2 l3:2 core:2 pu:1",
	    "machine.placement=scatter", "shootdown.strategy=hier", NULL};
	struct machine *m = th_boot(sets);
	static const unsigned want[8] = {0, 2, 1, 3, 0, 2, 1, 3};
	unsigned leader[4] = {99, 99, 99, 99};
	for (unsigned c = 0; c < 8; c++) {
		unsigned g = shootdown_hier_group_of(c);
		assert_int_equal(g, want[c]);
		assert_int_equal(topo_group_of(c), (int)want[c]);
		if (leader[g] == 99)
			leader[g] = c; /* the lowest-numbered CPU of a group leads it */
	}
	for (unsigned g = 0; g < 4; g++)
		assert_int_equal(leader[g], g == 0 ? 0 : g == 1 ? 2 : g == 2 ? 1 : 3);
	/* the threads run on host PUs, compactly */
	for (unsigned c = 0; c < 8; c++)
		assert_int_equal(topo_cpu_host_pu(machine_cur->m_topo, c), topo_pu_of(c));
	machine_halt(m);
}

/* ipi.distance_ns by hop level: the last value stands for higher levels */
static void test_distance_matrix(void **state)
{
	(void)state;
	struct machine_config c;
	char buf[128];
	machine_config_init(&c);
	assert_int_equal(machine_config_set(&c, "ipi.distance_ns", "10 20 30"), 0);
	machine_config_get(&c, "ipi.distance_ns", buf, sizeof(buf));
	assert_string_equal(buf, "10 20 30");
	assert_int_equal(machine_config_set(&c, "ipi.distance_ns", "0"), 0);
	assert_int_equal(c.mc_ipi_ndistance, 0);
	static const char *const bad[] = {"", "x", "10,20", "1 2 3 4 5 6 7 8 9", "-5", "2000000000"};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(machine_config_set(&c, "ipi.distance_ns", bad[i]), EINVAL);
		assert_non_null(strstr(machine_errmsg(), "ipi.distance_ns"));
	}
	const char *const sets[] = {"machine.cpus=16", "machine.topology=pack:2 l3:2 core:2 pu:2",
	    "ipi.distance_ns=10 20 30", NULL};
	struct machine *m = th_boot(sets);
	const uint32_t *d = machine_cur->m_ipi_dist;
	assert_non_null(d);
	assert_int_equal(d[0 * 16 + 0], 0);
	assert_int_equal(d[0 * 16 + 1], 10);
	assert_int_equal(d[0 * 16 + 2], 20);
	assert_int_equal(d[0 * 16 + 4], 30);
	assert_int_equal(d[0 * 16 + 8], 30); /* level 4 takes the last value */
	assert_int_equal(d[9 * 16 + 8], 10);
	machine_halt(m);
	/* none given: no matrix, nothing added */
	m = th_boot((const char *const[]){"machine.topology=pack:2 core:2 pu:1", NULL});
	assert_null(machine_cur->m_ipi_dist);
	machine_halt(m);
}

static void test_numa_fallbacks(void **state)
{
	(void)state;
	struct topo_numa n;
	char d[256];
	/* syntax */
	assert_int_equal(topo_numa_parse("interleave", &n, why, sizeof(why)), 0);
	assert_int_equal(n.tn_policy, TOPO_NUMA_INTERLEAVE);
	assert_int_equal(topo_numa_parse("node:3", &n, why, sizeof(why)), 0);
	assert_int_equal(n.tn_node, 3);
	static const char *const bad[] = {"", "near", "node:", "node:x", "node:-1", "node:99999"};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(topo_numa_parse(bad[i], &n, why, sizeof(why)), EINVAL);
		assert_non_null(strstr(why, "machine.numa"));
	}
	/* a host without NUMA: node 0 only, and everything falls back to plain memory */
	topo_numa_parse("node:0", &n, why, sizeof(why));
	assert_int_equal(topo_numa_resolve(&n, 0, why, sizeof(why)), 0);
	assert_false(n.tn_active);
	topo_numa_parse("node:1", &n, why, sizeof(why));
	assert_int_equal(topo_numa_resolve(&n, 0, why, sizeof(why)), EINVAL);
	assert_non_null(strstr(why, "machine.numa: node 1 does not exist (the host has no NUMA"));
	/* one node: nothing to place */
	topo_numa_parse("interleave", &n, why, sizeof(why));
	assert_int_equal(topo_numa_resolve(&n, 1, why, sizeof(why)), 0);
	assert_false(n.tn_active);
	topo_numa_describe(&n, d, sizeof(d));
	assert_non_null(strstr(d, "none: the host has"));
	void *p = topo_mem_alloc(&n, 1 << 20);
	assert_non_null(p);
	memset(p, 1, 1 << 20);
	topo_mem_free(p, 1 << 20);
	/* four nodes */
	topo_numa_parse("node:3", &n, why, sizeof(why));
	assert_int_equal(topo_numa_resolve(&n, 4, why, sizeof(why)), 0);
	assert_true(n.tn_active);
	topo_numa_parse("node:4", &n, why, sizeof(why));
	assert_int_equal(topo_numa_resolve(&n, 4, why, sizeof(why)), EINVAL);
	assert_non_null(strstr(why, "the host has 4 NUMA nodes: 0-3"));
	/* the machine boots with node 0 (every host has it) on a synthetic
	 * topology, and says whether libnuma placed anything */
	struct machine *m = th_boot((const char *const[]){"machine.numa=node:0", "machine.topology=pack:2 core:2 pu:1",
	    "machine.cpus=4", NULL});
	assert_int_equal(machine_cur->m_numa, topo_host_numa_nodes() > 1);
	for (unsigned c = 0; c < 4; c++)
		assert_true(topo_cpu_node(machine_cur->m_topo, c) >= -1);
	machine_halt(m);
}

static void test_config_keys(void **state)
{
	(void)state;
	struct machine_config c;
	char buf[512];
	machine_config_init(&c);
	assert_int_equal(machine_config_set(&c, "machine.topology", "pack:2 bogus"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "machine.topology: 'pack:2 bogus'"));
	assert_int_equal(machine_config_set(&c, "machine.placement", "list:1,x"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "machine.placement"));
	assert_int_equal(machine_config_set(&c, "machine.numa", "node:4095"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "machine.numa: node 4095 does not exist (the host has"));
	assert_int_equal(machine_config_set(&c, "ipi.preset", "fast"), EINVAL);
	assert_int_equal(machine_config_set(&c, "ipi.preset", "calibrated"), 0);
	machine_config_get(&c, "machine.topology", buf, sizeof(buf));
	assert_string_equal(buf, "host");
	/* a list naming PUs the (synthetic) machine lacks: at boot, naming the key */
	assert_int_equal(machine_config_set(&c, "machine.topology", "pack:1 core:2 pu:1"), 0);
	assert_int_equal(machine_config_set(&c, "machine.placement", "list:0,5"), 0);
	assert_int_equal(machine_config_check(&c), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "machine.placement: PU 5 does not exist (the synthetic machine has 2 PUs"));
	c.mc_ipi_preset = IPI_PRESET_MANUAL;
	assert_null(machine_boot(&c));
	assert_int_equal(errno, EINVAL);
}

/* an experiment file as run reads it: file:line: key: reason, exit 2 */
static void test_experiment_errors(void **state)
{
	(void)state;
	char dir[] = "/tmp/pmapstorm-topo-XXXXXX", path[256], cap[256];
	assert_non_null(mkdtemp(dir));
	struct {
		const char *text, *want;
	} cases[] = {
		{"[machine]\ncpus = 2\nplacement = list:0 4095\n[role.r]\nworkload = touch\n", "e.ini:3: machine.placement: PU 4095"},
		{"[machine]\ntopology = pack:2 nope:1\n[role.r]\nworkload = touch\n", "e.ini:2: machine.topology"},
		{"[machine]\nnuma = node:4095\n[role.r]\nworkload = touch\n", "e.ini:2: machine.numa: node 4095"},
		{"[ipi]\npreset = calibrated\ncalibration = /nonexistent/calibration.json\n[role.r]\nworkload = touch\n",
		    "e.ini:3: ipi.calibration: /nonexistent/calibration.json"},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/e.ini", dir);
		FILE *f = fopen(path, "w");
		fputs(cases[i].text, f);
		fclose(f);
		snprintf(cap, sizeof(cap), "%s/err", dir);
		fflush(stderr);
		int saved = dup(2), fd = open(cap, O_CREAT | O_TRUNC | O_WRONLY, 0644);
		dup2(fd, 2);
		close(fd);
		struct experiment *ex = mem_zalloc(struct experiment, 1);
		struct exp_point *pt = mem_zalloc(struct exp_point, 1);
		int rc = exp_load(ex, path);
		if (rc == 0) {
			rc = exp_point(ex, 0, pt);
			exp_free(ex);
		}
		free(pt);
		free(ex);
		fflush(stderr);
		dup2(saved, 2);
		close(saved);
		char err[2048] = "";
		f = fopen(cap, "r");
		err[fread(err, 1, sizeof(err) - 1, f)] = '\0';
		fclose(f);
		assert_int_equal(rc, EINVAL);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %u: '%s' not in: %s", i, cases[i].want, err);
		unlink(cap);
		unlink(path);
	}
	/* topo and calibrate (exp_first_config) leave ipi.preset = calibrated
	 * unapplied: calibrate is what makes the missing file */
	snprintf(path, sizeof(path), "%s/e.ini", dir);
	FILE *f = fopen(path, "w");
	fputs(cases[3].text, f);
	fclose(f);
	struct machine_config cfg;
	machine_config_init(&cfg);
	char *args[] = {path};
	assert_int_equal(exp_first_config("test", 1, args, NULL, 0, &cfg), 0);
	assert_int_equal(cfg.mc_ipi_preset, IPI_PRESET_CALIBRATED);
	assert_string_equal(cfg.mc_ipi_calibration, "/nonexistent/calibration.json");
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compact),
		cmocka_unit_test(test_scatter),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_list_errors),
		cmocka_unit_test(test_bad_synthetic),
		cmocka_unit_test(test_hops_and_levels),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_hier_leaders),
		cmocka_unit_test(test_distance_matrix),
		cmocka_unit_test(test_numa_fallbacks),
		cmocka_unit_test(test_config_keys),
		cmocka_unit_test(test_experiment_errors),
		cmocka_unit_test(test_synthetic_bound),
		cmocka_unit_test(test_export_xml_stream),
		cmocka_unit_test(test_calibrate_restores_affinity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
