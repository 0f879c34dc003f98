/*
 * test_stress.c — torture mode (stress/, pmapstorm/check.h): the quick
 * tier, the mutants, each oracle proven able to fail, and the watchdog.
 *
 *  - quick tier: every correct strategy of the registry runs the torture
 *    workload under every oracle, plain and with every injection, and
 *    shows zero violations while every oracle checked something;
 *  - every mutant of the registry trips the frame and update oracles in a
 *    state built for it on simulated CPUs (mu_scenario below), and no
 *    correct strategy trips them in the same state.  The random torture of
 *    each mutant still runs, as coverage (its report path, the first-
 *    violation stop); whether the host's scheduling lets it catch the
 *    mutant in a given run is printed, not asserted;
 *  - each oracle can fail: frame and update by the mutants above, modref,
 *    counts, alloc and contents by a deliberate break of what they watch
 *    (stress_opts.so_break) — and the named oracle is the one that reports;
 *  - the watchdog: a CPU that blocks interrupts and never returns while
 *    another waits for its acknowledgement ends the process with exit 1
 *    and a dump of both CPUs (in a child process: this program again).
 * No verdict here depends on timing: a catch is a violation count in a
 * state the test builds, or a deliberate break the workload makes.
 */
#include "harness.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pmapstorm/check.h>
#include <pmapstorm/shootdown.h>
#include <pmapstorm/topo.h>

#include "stress.h"

/* sanitizers slow everything ten-fold: shorter quick tier there */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define QUICK_SECONDS 0.25
#else
#define QUICK_SECONDS 0.6
#endif

#define ST_MIN_OPS 2000 /* per CPU, in the quick tier */

/* the command's defaults (stress.c): cpus from the host, watchdog 10 s */
static void st_opts(struct stress_opts *o, const char *strategy, double seconds)
{
	memset(o, 0, sizeof(*o));
	machine_config_init(&o->so_cfg);
	unsigned cpus = topo_npus();
	o->so_cfg.mc_ncpu = cpus < 2 ? 2 : cpus > 4 ? 4 : cpus;
	assert_int_equal(machine_config_set(&o->so_cfg, "watchdog.seconds", "10"), 0);
	o->so_cfg.mc_sd_unsafe = true;
	assert_int_equal(machine_config_set(&o->so_cfg, "check.enabled", "on"), 0);
	snprintf(o->so_cfg.mc_strategy, sizeof(o->so_cfg.mc_strategy), "%s", strategy);
	o->so_seconds = seconds;
	o->so_seed = 1;
	o->so_quiet = true;
	o->so_break = -1;
}

static void print_result(const char *what, const struct stress_result *r)
{
	print_message("%-28s %.2f s, %" PRIu64 " ops:", what, r->sr_seconds, r->sr_ops);
	for (int o = 0; o < CHK_NORACLES; o++)
		print_message(" %s %" PRIu64 "/%" PRIu64, check_oracle_name((enum check_oracle)o), r->sr_violations[o],
		    r->sr_checks[o]);
	print_message("\n");
	if (r->sr_have_first)
		print_message("  first: [%s] %s\n", check_oracle_name(r->sr_first.cv_oracle), r->sr_first.cv_what);
}

/* ---- quick tier ---- */

static void run_correct(bool inject)
{
	for (unsigned k = 0; shootdown_strategies[k] != NULL; k++) {
		const struct shootdown_strategy *sd = shootdown_strategies[k];
		if (sd->sd_unsafe)
			continue;
		struct stress_opts o;
		struct stress_result r;
		st_opts(&o, sd->sd_name, QUICK_SECONDS);
		o.so_keep_going = true;
		/* the work behind "every oracle checked something" is counted in
		 * operations, not left to what the host runs in QUICK_SECONDS (a
		 * loaded host ran latr for 99 operations, none of them modref's) */
		o.so_min_ops = ST_MIN_OPS;
		if (inject) {
			static const char *const inj[][2] = {{"inject.seed", "7"}, {"inject.ipi_delay_us", "100"},
			    {"inject.yield", "50"}, {"inject.spl", "5"}, {"inject.allocfail", "20"},
			    {"inject.pressure", "50"}};
			for (unsigned j = 0; j < sizeof(inj) / sizeof(inj[0]); j++)
				assert_int_equal(machine_config_set(&o.so_cfg, inj[j][0], inj[j][1]), 0);
		}
		assert_int_equal(stress_run(&o, &r), 0);
		print_result(sd->sd_name, &r);
		for (int c = 0; c < CHK_NORACLES; c++) {
			if (r.sr_violations[c] != 0)
				fail_msg("%s%s: %" PRIu64 " violations of oracle %s", sd->sd_name, inject ? " (injected)" : "",
				    r.sr_violations[c], check_oracle_name((enum check_oracle)c));
			/* every oracle ran (the plain tier does thousands of operations) */
			if (!inject && r.sr_checks[c] == 0)
				fail_msg("%s: oracle %s checked nothing", sd->sd_name, check_oracle_name((enum check_oracle)c));
		}
	}
}

static void test_correct_strategies_no_violation(void **state)
{
	(void)state;
	run_correct(false);
}

static void test_correct_strategies_injected_no_violation(void **state)
{
	(void)state;
	run_correct(true);
}

/* ---- the mutants, each caught in a state built for it ----
 *
 * Two kernel pages (global in every TLB) and shootdown.batch = 1, so their
 * removal is one whole flush.  CPU 1 loads both (filling its TLB); CPU 0
 * removes them, pmap_update()s, frees both frames and says so; CPU 1 then
 * loads both again, with no interrupt point between seeing CPU 0's word
 * and the loads.  A correct strategy dropped CPU 1's entries before
 * pmap_update() returned: both loads fault and no oracle speaks.  Each
 * mutant leaves them: the loads hit entries whose frames were freed since
 * they were filled (the frame oracle) and that disagree with their PTEs
 * after the update returned (the update oracle).  What a mutant needs of
 * the scenario is how CPU 1 waits for CPU 0:
 *   MU_POLLS  taking interrupts (CPU 0's IPI, if any, is handled): the
 *             shootdown skipped (mutant-skip), lost (mutant-early-ack,
 *             which waits for the initiator to move on), or without the
 *             globals (mutant-noglobal);
 *   MU_QUIET  taking none until it loads again (user code, or interrupts
 *             blocked): mutant-nowait, whose pmap_update() does not wait
 *             for CPU 1.  Only a strategy that does not wait for CPU 1 can
 *             finish this way, so no correct strategy runs it.
 *   MU_LAZY   none here: the mutant loses the pmap's lazy guard, not a
 *             shootdown, so its stale entries are the lazy strategy's own
 *             (no frame or update violation) and what it loses is a
 *             modified bit; tests/test_lazy.c builds those states (reuse of
 *             the address, page operation, late write) and the modref
 *             oracle catches it there.
 * Every mutant of the registry needs a line in mu_scenarios[]: a new one
 * fails the test until its scenario is written down.
 */

enum mu_wait { MU_POLLS, MU_QUIET, MU_LAZY };
static const struct {
	const char *name;
	enum mu_wait wait;
} mu_scenarios[] = {
	{"mutant-skip", MU_POLLS},
	{"mutant-nowait", MU_QUIET},
	{"mutant-early-ack", MU_POLLS},
	{"mutant-noglobal", MU_POLLS},
	{"mutant-latr-unguarded", MU_LAZY},
};

struct mu_run {
	enum mu_wait wait;
	vaddr_t kva;
	_Atomic unsigned step;
	_Atomic unsigned stale; /* CPU 1's loads after the free that did not fault */
};

static void mu_wait_step(struct mu_run *s, unsigned v, bool polls)
{
	unsigned iter = 0;
	while (atomic_load(&s->step) < v) {
		if (polls)
			cpu_spin_wait(&iter);
		else
			__builtin_ia32_pause(); /* no interrupt point */
	}
}

static void mu_cpu(unsigned cpu, void *arg)
{
	struct mu_run *s = arg;
	if (cpu == 0) {
		struct vm_page *pg[2];
		for (unsigned i = 0; i < 2; i++) {
			pg[i] = th_page();
			TH_CHECK(pg[i] != NULL);
			pmap_kenter_pa(s->kva + ptoa(i), VM_PAGE_TO_PHYS(pg[i]), VM_PROT_READ | VM_PROT_WRITE, 0);
		}
		pmap_update(pmap_kernel());
		atomic_store(&s->step, 1);
		mu_wait_step(s, 2, true);
		pmap_kremove(s->kva, ptoa(2));
		pmap_update(pmap_kernel());
		for (unsigned i = 0; i < 2; i++)
			uvm_pagefree(pg[i]);
		atomic_store(&s->step, 3);
		mu_wait_step(s, 4, true);
	} else {
		uint64_t v;
		mu_wait_step(s, 1, true);
		for (unsigned i = 0; i < 2; i++)
			TH_CHECK(mmu_load(s->kva + ptoa(i), &v) == 0);
		atomic_store(&s->step, 2);
		mu_wait_step(s, 3, s->wait == MU_POLLS);
		for (unsigned i = 0; i < 2; i++)
			if (mmu_load(s->kva + ptoa(i), &v) == 0)
				atomic_fetch_add(&s->stale, 1);
		atomic_store(&s->step, 4);
	}
}

/* Runs the scenario under strategy; returns the stale loads, and the frame
 * and update oracles' violations. */
static unsigned mu_scenario(const char *strategy, enum mu_wait wait, uint64_t *frame, uint64_t *update)
{
	char kv[64];
	snprintf(kv, sizeof(kv), "shootdown.strategy=%s", strategy);
	const char *const sets[] = {"machine.cpus=2", "shootdown.allow_unsafe=yes", kv, "shootdown.batch=1",
	    "check.enabled=on", "check.oracles=frame,update", NULL};
	struct machine *m = th_boot(sets);
	struct mu_run s = {.wait = wait};
	vaddr_t vs, ve;
	pmap_virtual_space(&vs, &ve);
	s.kva = vs + (4ULL << 20);
	check_reset();
	assert_int_equal(machine_run(m, 2, mu_cpu, &s), 0);
	uint64_t checks;
	check_totals(CHK_FRAME, &checks, frame);
	check_totals(CHK_UPDATE, &checks, update);
	machine_halt(m);
	assert_int_equal(th_failures(), 0);
	print_message("  %-18s %s: %u stale load(s), frame %" PRIu64 ", update %" PRIu64 "\n", strategy,
	    wait == MU_POLLS ? "CPU 1 polls" : "CPU 1 quiet", atomic_load(&s.stale), *frame, *update);
	return atomic_load(&s.stale);
}

static void test_every_mutant_caught_in_built_state(void **state)
{
	(void)state;
	unsigned nmut = 0;
	for (unsigned k = 0; shootdown_strategies[k] != NULL; k++) {
		const struct shootdown_strategy *sd = shootdown_strategies[k];
		uint64_t frame, update;
		if (!sd->sd_unsafe) {
			/* the control: the same state under a correct strategy */
			unsigned stale = mu_scenario(sd->sd_name, MU_POLLS, &frame, &update);
			if (frame != 0 || update != 0 || (stale != 0 && !sd->sd_lazy))
				fail_msg("%s: %u stale load(s), frame %" PRIu64 ", update %" PRIu64 " in the built state",
				    sd->sd_name, stale, frame, update);
			continue;
		}
		nmut++;
		size_t i = 0;
		while (i < sizeof(mu_scenarios) / sizeof(mu_scenarios[0]) && strcmp(mu_scenarios[i].name, sd->sd_name) != 0)
			i++;
		if (i == sizeof(mu_scenarios) / sizeof(mu_scenarios[0]))
			fail_msg("mutant %s has no scenario in mu_scenarios[] (test_stress.c): say how CPU 1 waits "
			         "for it to show", sd->sd_name);
		if (mu_scenarios[i].wait == MU_LAZY)
			continue; /* tests/test_lazy.c */
		unsigned stale = mu_scenario(sd->sd_name, mu_scenarios[i].wait, &frame, &update);
		if (stale == 0 || frame == 0 || update == 0)
			fail_msg("mutant %s: %u stale load(s), frame oracle %" PRIu64 ", update oracle %" PRIu64
			         " violations in its built state (each must be non-zero)", sd->sd_name, stale, frame, update);
	}
	assert_true(nmut >= 4);
}

/* The random torture of every mutant, at the command's settings but for
 * 2 seconds: coverage of the runner with a broken strategy (the first
 * violation stops it, and it is attributed to a stale-translation oracle,
 * or for a lazy mutant to the modref oracle: a lost modified bit).
 * Whether the host lets the race happen in 2 seconds is printed only. */
static void test_every_mutant_under_torture(void **state)
{
	(void)state;
	for (unsigned k = 0; shootdown_strategies[k] != NULL; k++) {
		const struct shootdown_strategy *sd = shootdown_strategies[k];
		if (!sd->sd_unsafe)
			continue;
		struct stress_opts o;
		struct stress_result r;
		st_opts(&o, sd->sd_name, 2);
		assert_int_equal(stress_run(&o, &r), 0);
		print_result(sd->sd_name, &r);
		print_message("  %s: %s\n", sd->sd_name, stress_violations(&r) ? "caught" : "not caught in this run");
		if (stress_violations(&r) == 0)
			continue;
		assert_true(r.sr_have_first);
		/* a stale translation: the frame, update or contents oracle saw it
		 * (a lazy mutant's loss is a modified bit) */
		assert_true(r.sr_violations[CHK_FRAME] + r.sr_violations[CHK_UPDATE] + r.sr_violations[CHK_CONTENTS] +
		        (sd->sd_lazy ? r.sr_violations[CHK_MODREF] : 0) > 0);
		assert_int_equal(r.sr_violations[CHK_COUNTS] + r.sr_violations[CHK_ALLOC], 0);
	}
}

/* ---- each oracle can fail ---- */

static void expect_oracle(const char *strategy, int brk, enum check_oracle want)
{
	struct stress_opts o;
	struct stress_result r;
	st_opts(&o, strategy, 5);
	o.so_break = brk;
	o.so_min_ops = ST_MIN_OPS; /* the break comes with the work, not with time */
	assert_int_equal(stress_run(&o, &r), 0);
	print_result(strategy, &r);
	if (r.sr_violations[want] == 0)
		fail_msg("%s (break %d): oracle %s reported nothing", strategy, brk, check_oracle_name(want));
}

static void test_modref_oracle_catches_unseen_write(void **state)
{
	(void)state;
	expect_oracle("netbsd-x86", CHK_MODREF, CHK_MODREF);
}

static void test_counts_oracle_catches_uncounted_mapping(void **state)
{
	(void)state;
	expect_oracle("netbsd-x86", CHK_COUNTS, CHK_COUNTS);
}

static void test_alloc_oracle_catches_double_handout(void **state)
{
	(void)state;
	expect_oracle("netbsd-x86", CHK_ALLOC, CHK_ALLOC);
}

static void test_contents_oracle_catches_foreign_page(void **state)
{
	(void)state;
	expect_oracle("netbsd-x86", CHK_CONTENTS, CHK_CONTENTS);
}

/* the oracles are off unless check.enabled: nothing counted */
static void test_oracles_off_by_default(void **state)
{
	(void)state;
	struct machine *m = th_boot(NULL);
	assert_false(check_on(CHK_FRAME));
	assert_false(check_on(CHK_UPDATE));
	machine_halt(m);
	static const char *const on[] = {"check.enabled=on", "check.oracles=frame", NULL};
	m = th_boot(on);
	assert_true(check_on(CHK_FRAME));
	assert_false(check_on(CHK_UPDATE));
	machine_halt(m);
}

/* ---- the watchdog ---- */

struct hang_run {
	pmap_t pm;
	struct vm_page *pg;
	kmutex_t lock;
	bool lock_cycle;
	_Atomic int step;
};

static void hang_cpu(unsigned cpu, void *arg)
{
	struct hang_run *h = arg;
	struct lwp *l = lwp_create(h->pm);
	lwp_switch(l);
	unsigned iter = 0;
	uint64_t v;
	if (cpu == 1) {
		(void)mmu_load(0x50000000, &v); /* an entry CPU 0 must shoot down */
		(void)splvm();                   /* ... and then never takes the IPI */
		while (h->lock_cycle && atomic_load(&h->step) == 0)
			cpu_spin_wait(&iter); /* CPU 0 takes the lock */
		atomic_store(&h->step, 2);
		/* ... and waits for the lock CPU 0 holds while it waits for
		 * this CPU's acknowledgement: a cycle of waits */
		if (h->lock_cycle)
			mutex_enter(&h->lock);
		for (;;)
			cpu_delay_ns(1000000);
	}
	if (h->lock_cycle) {
		mutex_enter(&h->lock);
		atomic_store(&h->step, 1);
	}
	while (atomic_load(&h->step) != 2)
		cpu_spin_wait(&iter);
	pmap_remove(h->pm, 0x50000000, 0x50001000);
	pmap_update(h->pm); /* waits for CPU 1 forever */
}

/* The child: a machine whose CPU 1 never takes CPU 0's shootdown; under
 * virtual time too, where the two CPUs go on handing the baton to each
 * other (CPU 0's wait turns, CPU 1's delays) while the watchdog dumps. */
/* A child's machine: 2 CPUs, a watchdog of 1 s, a pmap and a frame in h,
 * the frame mapped at 0x50000000 when map; NULL when it cannot boot */
static struct machine *hang_boot(bool virtual_time, bool map, struct hang_run *h)
{
	struct machine_config cfg;
	machine_config_init(&cfg);
	machine_config_set(&cfg, "machine.cpus", "2");
	machine_config_set(&cfg, "watchdog.seconds", "1");
	if (virtual_time)
		machine_config_set(&cfg, "machine.engine", "virtual");
	struct machine *m = machine_boot(&cfg);
	if (m == NULL)
		return NULL;
	cpu_attach(m, 0);
	h->pm = pmap_create();
	h->pg = uvm_pagealloc(NULL, 0, NULL, UVM_PGA_ZERO);
	if (map) {
		pmap_enter(h->pm, 0x50000000, VM_PAGE_TO_PHYS(h->pg), VM_PROT_READ, 0);
		pmap_update(h->pm);
	}
	cpu_detach();
	return m;
}

static int hang_child(bool virtual_time)
{
	struct hang_run h = {.lock_cycle = !virtual_time};
	mutex_init(&h.lock, LC_POOL);
	struct machine *m = hang_boot(virtual_time, true, &h);
	if (m == NULL)
		return 3;
	machine_run(m, 2, hang_cpu, &h);
	return 0; /* not reached: the watchdog exits 1 */
}

/* Virtual time runs one CPU at a time: CPU 1 stays in one wait (servicing
 * CPU 0's shootdowns in it) for 2.5 host seconds while CPU 0 works, over a
 * watchdog of 1 s.  That is no hang. */
static void longwait_cpu(unsigned cpu, void *arg)
{
	struct hang_run *h = arg;
	struct lwp *l = lwp_create(h->pm);
	lwp_switch(l);
	unsigned iter = 0;
	if (cpu == 1) {
		while (atomic_load(&h->step) == 0)
			cpu_spin_wait(&iter);
	} else {
		struct timespec t0, t;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			pmap_enter(h->pm, 0x50000000, VM_PAGE_TO_PHYS(h->pg), VM_PROT_READ, 0);
			pmap_update(h->pm);
			pmap_remove(h->pm, 0x50000000, 0x50001000);
			pmap_update(h->pm);
			cpu_intr_poll();
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < 2.5);
		atomic_store(&h->step, 1);
	}
	lwp_switch(NULL);
	lwp_destroy(l);
}

static int longwait_child(void)
{
	struct hang_run h = {0};
	struct machine *m = hang_boot(true, false, &h);
	if (m == NULL || machine_run(m, 2, longwait_cpu, &h) != 0)
		return 3;
	/* everything back, for the leak checker of the sanitizer builds */
	cpu_attach(m, 0);
	pmap_destroy(h.pm);
	uvm_pagefree(h.pg);
	cpu_detach();
	machine_halt(m);
	return 0;
}

static char self_path[4096];

/* Runs this program again with PMAPSTORM_TEST_HANG=hang (so no fork of a
 * threaded process); its exit status, its stderr in buf. */
static int hang_spawn(const char *hang, char *buf, size_t len)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	char *argv[] = {self_path, NULL};
	extern char **environ;
	size_t ne = 0;
	while (environ[ne] != NULL)
		ne++;
	char **envp = mem_zalloc(char *, ne + 2);
	memcpy(envp, environ, ne * sizeof(*envp));
	char var[64];
	snprintf(var, sizeof(var), "PMAPSTORM_TEST_HANG=%s", hang);
	envp[ne] = var;
	pid_t pid;
	assert_int_equal(posix_spawn(&pid, self_path, &fa, NULL, argv, envp), 0);
	free(envp);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	int status = th_child_output(pid, fds[0], buf, len);
	print_message("%s", buf);
	return status;
}

/* The watchdog, in a child process */
static void test_watchdog_dumps_and_exits_1(void **state)
{
	(void)state;
	char buf[16384];
	int status = hang_spawn("threads", buf, sizeof(buf));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_non_null(strstr(buf, "watchdog"));
	assert_non_null(strstr(buf, "cpu0:"));
	assert_non_null(strstr(buf, "cpu1:"));
	assert_non_null(strstr(buf, "IPIs pending: shootdown")); /* CPU 1 never took it */
	assert_non_null(strstr(buf, "shootdown acknowledgements")); /* what CPU 0 waits for */
	/* ... and since when: a wait that reached its pausing turns has read the clock */
	assert_non_null(strstr(buf, "s ago"));
	/* and the cycle: CPU 1 waits for a lock that CPU 0 holds while it
	 * waits for CPU 1 */
	const char *c1 = strstr(buf, "cpu1:");
	assert_non_null(c1);
	assert_non_null(strstr(c1, "lock wait: a pool lock at "));
	assert_non_null(strstr(c1, "held by cpu0"));
	const char *c0 = strstr(buf, "cpu0:");
	assert_non_null(c0);
	assert_true(c0 < c1);
	const char *w0 = strstr(c0, "lock wait: none");
	assert_true(w0 != NULL && w0 < c1); /* CPU 0 waits for acknowledgements, not for a lock */
}

/* Under virtual time the dump adds the scheduler's view, read while the
 * baton holder goes on changing it: relaxed atomics on both sides, so a
 * ThreadSanitizer build finds no race in it (it found one when the
 * scheduler's state was plain). */
static void test_watchdog_dumps_virtual_engine(void **state)
{
	(void)state;
	char buf[16384];
	int status = hang_spawn("virtual", buf, sizeof(buf));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_non_null(strstr(buf, "watchdog"));
	assert_non_null(strstr(buf, "engine: virtual, running"));
	assert_non_null(strstr(buf, "cpu1: runnable"));
	assert_null(strstr(buf, "ThreadSanitizer"));
}

/* ... and a CPU that stays in one wait for more host seconds than the
 * watchdog's while another works is no hang there: it fired before */
static void test_watchdog_virtual_long_wait_no_hang(void **state)
{
	(void)state;
	char buf[16384];
	int status = hang_spawn("longwait", buf, sizeof(buf));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_null(strstr(buf, "watchdog"));
}

int main(int argc, char **argv)
{
	(void)argc;
	const char *hang = getenv("PMAPSTORM_TEST_HANG");
	if (hang != NULL)
		return strcmp(hang, "longwait") == 0 ? longwait_child() : hang_child(strcmp(hang, "virtual") == 0);
	if (realpath("/proc/self/exe", self_path) == NULL)
		snprintf(self_path, sizeof(self_path), "%s", argv[0]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oracles_off_by_default),
		cmocka_unit_test(test_correct_strategies_no_violation),
		cmocka_unit_test(test_correct_strategies_injected_no_violation),
		cmocka_unit_test(test_every_mutant_caught_in_built_state),
		cmocka_unit_test(test_every_mutant_under_torture),
		cmocka_unit_test(test_modref_oracle_catches_unseen_write),
		cmocka_unit_test(test_counts_oracle_catches_uncounted_mapping),
		cmocka_unit_test(test_alloc_oracle_catches_double_handout),
		cmocka_unit_test(test_contents_oracle_catches_foreign_page),
		cmocka_unit_test(test_watchdog_dumps_and_exits_1),
		cmocka_unit_test(test_watchdog_dumps_virtual_engine),
		cmocka_unit_test(test_watchdog_virtual_long_wait_no_hang),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
