/*
 * test_strategies.c — each shootdown strategy's own rules, the config
 * keys of the zoo, and negative controls: every mutant must be caught.
 *
 * Rules: thresholds (netbsd-x86's batch, linux's 33-page ceiling,
 * freebsd's range threshold, broadcast's operation limit), target
 * selection (tracked spares CPUs that never filled, netbsd-mi and linux
 * spare CPUs not running the pmap, hier sends one IPI per group leader),
 * netbsd-mi's ASID reset, latr's lazy sweeps and full ring, and deferred
 * frees released only after every CPU swept.
 *
 * Negative controls: a scenario in which CPU 0 removes pages (user, or
 * global kernel pages in an overflowing batch) that the other CPUs cached,
 * and the others access them right after pmap_update() returned (no
 * interrupt point in between).  Every mutant must produce stale accesses
 * there; the correct netbsd-x86 must produce none.  Rounds are bounded and
 * every wait takes IPIs, so a mutant cannot hang the test.
 */
#include "harness.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <unistd.h>

#include <pmapstorm/shootdown.h>

#define ST_VA ((vaddr_t)0x20000000ULL)
#define ST_RW (VM_PROT_READ | VM_PROT_WRITE)

static struct machine *st_m;

static void st_watchdog(int sig)
{
	(void)sig;
	static const char msg[] = "test_strategies: watchdog: the test ran past its time limit (deadlock?)\n";
	ssize_t n = write(2, msg, sizeof(msg) - 1);
	(void)n;
	_exit(3);
}

static uint64_t st_count(const char *name)
{
	const struct stats_counter *c = stats_counter_find(name);
	if (c == NULL)
		fail_msg("no counter %s", name);
	return stats_counter_total(c);
}

static uint64_t st_count_cpu(const char *name, int cpu)
{
	return stats_counter_cpu(stats_counter_find(name), cpu);
}

static void st_wait_ge(_Atomic uint64_t *p, uint64_t v)
{
	unsigned iter = 0;
	while (atomic_load(p) < v)
		cpu_spin_wait(&iter);
}

static pmap_t st_pmap_create(void)
{
	assert_int_equal(cpu_attach(st_m, 0), 0);
	pmap_t pm = pmap_create();
	cpu_detach();
	return pm;
}

static void st_pmap_destroy(pmap_t pm)
{
	assert_int_equal(cpu_attach(st_m, 0), 0);
	pmap_remove(pm, ST_VA, ST_VA + (64ULL << 20));
	pmap_update(pm);
	pmap_destroy(pm);
	cpu_detach();
}

/* ================= config keys ================= */

static void test_config_errors(void **state)
{
	(void)state;
	struct machine_config c;
	machine_config_init(&c);
	assert_int_equal(machine_config_set(&c, "shootdown.strategy", "nope"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "shootdown.strategy"));
	assert_non_null(strstr(machine_errmsg(), "latr"));
	assert_null(strstr(machine_errmsg(), "mutant"));
	assert_int_equal(machine_config_set(&c, "shootdown.strategy", "mutant-skip"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "shootdown.allow_unsafe"));
	assert_int_equal(machine_config_set(&c, "shootdown.allow_unsafe", "yes"), 0);
	assert_int_equal(machine_config_set(&c, "shootdown.strategy", "mutant-skip"), 0);
	const char *bad[][2] = {{"shootdown.batch", "0"}, {"shootdown.linux_ceiling", "0"},
	    {"shootdown.freebsd_threshold", "0"}, {"shootdown.latr_ring", "1"}, {"shootdown.broadcast_max", "0"},
	    {"shootdown.batch", "x"}, {"machine.tick_us", "0"}, {"shootdown.hier_group", "999"}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(machine_config_set(&c, bad[i][0], bad[i][1]), EINVAL);
		assert_non_null(strstr(machine_errmsg(), bad[i][0]));
	}
	char buf[64];
	machine_config_init(&c);
	const char *def[][2] = {{"shootdown.batch", "16"}, {"shootdown.linux_ceiling", "33"},
	    {"shootdown.freebsd_threshold", "4096"}, {"shootdown.latr_ring", "256"},
	    {"shootdown.broadcast_max", "512"}, {"shootdown.allow_unsafe", "no"}, {"machine.tick_us", "1000"}};
	for (size_t i = 0; i < sizeof(def) / sizeof(def[0]); i++) {
		assert_int_equal(machine_config_get(&c, def[i][0], buf, sizeof(buf)), 0);
		assert_string_equal(buf, def[i][1]);
	}
	/* a mutant set directly in the struct is refused at boot */
	snprintf(c.mc_strategy, sizeof(c.mc_strategy), "mutant-nowait");
	assert_null(machine_boot(&c));
	assert_non_null(strstr(machine_errmsg(), "shootdown.allow_unsafe"));
}

/* every strategy (mutants with the switch) boots, runs a map/unmap, halts */
static void test_every_strategy_boots(void **state)
{
	(void)state;
	for (unsigned i = 0; shootdown_strategies[i] != NULL; i++) {
		const struct shootdown_strategy *s = shootdown_strategies[i];
		char kv[64];
		snprintf(kv, sizeof(kv), "shootdown.strategy=%s", s->sd_name);
		const char *sets[] = {"shootdown.allow_unsafe=yes", kv, NULL};
		th.sets = sets;
		assert_int_equal(th_setup_cpu0(NULL), 0);
		struct vm_page *pg = th_map(ST_VA, ST_RW, ST_RW);
		uint64_t v;
		assert_int_equal(mmu_load(ST_VA, &v), 0);
		pmap_remove(th.pm, ST_VA, ST_VA + PAGE_SIZE);
		pmap_update(th.pm);
		assert_int_equal(mmu_load(ST_VA, &v), EFAULT);
		uvm_pagefree(pg);
		th_teardown_cpu0(NULL);
		assert_non_null(s->sd_origin);
		assert_non_null(s->sd_mechanism);
	}
	th.sets = NULL;
}

/* ================= a two-phase scenario on N CPUs =================
 * CPU 0 maps `npages` (user pages of pm, or kernel pages), the observers
 * (CPUs in `obs`) load them all, CPU 0 removes them in one pmap_update;
 * the observers then load each page once, with no interrupt point in
 * between, and count the loads that did not fault (stale).  The other
 * CPUs settle before the first round — in pm if `running` names them,
 * switched away otherwise — and stay so until CPU 0's last removal: which
 * CPUs run pm during a removal is built, not left to how fast they leave. */

struct sc_run {
	pmap_t pm;
	unsigned ncpu, npages, rounds;
	bool kernel;
	uint64_t obs;       /* observer CPUs (bit mask) */
	uint64_t running;   /* CPUs that stay in pm (others switch it out after loading) */
	vaddr_t kva;
	_Atomic uint64_t mapped, loaded, removed, checked;
	_Atomic uint64_t settled; /* CPUs neither 0 nor observers, in place */
	_Atomic uint64_t stale;
	uint64_t whole, ipis; /* deltas measured by CPU 0 around the removal (last round) */
	uint64_t ipis_cpu0;
	uint64_t acks;      /* the acknowledgement matrix's count, all pairs, at the end */
	bool quiet; /* observers wait for the removal without interrupt points */
};

static vaddr_t sc_va(const struct sc_run *s, unsigned i)
{
	return (s->kernel ? s->kva : ST_VA) + ptoa(i);
}

static void sc_cpu(unsigned cpu, void *arg)
{
	struct sc_run *s = arg;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	const unsigned nobs = (unsigned)__builtin_popcountll(s->obs);
	bool observer = (s->obs >> cpu) & 1;
	if (cpu != 0 && !observer) {
		if (!((s->running >> cpu) & 1))
			lwp_switch(NULL); /* not running pm */
		atomic_fetch_add(&s->settled, 1);
		st_wait_ge(&s->removed, s->rounds); /* taking IPIs */
	} else if (cpu == 0) {
		st_wait_ge(&s->settled, s->ncpu - 1 - nobs);
	}
	for (uint64_t r = 1; r <= s->rounds && (cpu == 0 || observer); r++) {
		if (cpu == 0) {
			struct vm_page *pgs[64];
			for (unsigned i = 0; i < s->npages; i++) {
				pgs[i] = th_page();
				if (s->kernel)
					pmap_kenter_pa(sc_va(s, i), VM_PAGE_TO_PHYS(pgs[i]), ST_RW, 0);
				else
					TH_CHECK(pmap_enter(s->pm, sc_va(s, i), VM_PAGE_TO_PHYS(pgs[i]), ST_RW, 0) == 0);
			}
			pmap_update(s->kernel ? pmap_kernel() : s->pm);
			atomic_store(&s->mapped, r);
			st_wait_ge(&s->loaded, r * nobs);
			uint64_t w0 = st_count("shootdown.whole_flushes"), i0 = st_count("ipi.sent");
			uint64_t c0 = st_count_cpu("ipi.sent", 0);
			if (s->kernel)
				pmap_kremove(sc_va(s, 0), ptoa(s->npages));
			else
				pmap_remove(s->pm, sc_va(s, 0), sc_va(s, s->npages));
			pmap_update(s->kernel ? pmap_kernel() : s->pm);
			s->whole = st_count("shootdown.whole_flushes") - w0;
			s->ipis = st_count("ipi.sent") - i0;
			s->ipis_cpu0 = st_count_cpu("ipi.sent", 0) - c0;
			atomic_store(&s->removed, r);
			st_wait_ge(&s->checked, r * nobs);
			for (unsigned i = 0; i < s->npages; i++)
				uvm_pagefree(pgs[i]);
		} else if (observer) {
			st_wait_ge(&s->mapped, r);
			uint64_t v;
			for (unsigned i = 0; i < s->npages; i++)
				TH_CHECK(mmu_load(sc_va(s, i), &v) == 0);
			if (!((s->running >> cpu) & 1))
				lwp_switch(NULL); /* not running pm any more (lazy / idle) */
			atomic_fetch_add(&s->loaded, 1);
			/* quiet: no interrupt point until the removal is published
			 * (user code, or interrupts blocked) — only for a strategy that
			 * does not wait for us, which would otherwise wait for ever */
			unsigned iter = 0;
			while (atomic_load(&s->removed) < r) {
				if (s->quiet)
					__builtin_ia32_pause();
				else
					cpu_spin_wait(&iter);
			}
			if (!((s->running >> cpu) & 1) && !s->kernel)
				lwp_switch(l); /* back: its stale entries must be gone */
			for (unsigned i = 0; i < s->npages; i++)
				if (mmu_load(sc_va(s, i), &v) == 0)
					atomic_fetch_add(&s->stale, 1);
			/* drop what is left (mutants) before the frames are reused */
			cpu_intr_poll();
			atomic_fetch_add(&s->checked, 1);
		}
	}
	lwp_switch(NULL);
	lwp_destroy(l);
}

/* Boots with sets, runs the scenario, halts; returns the run's figures. */
static bool sc_quiet;
static struct sc_run sc(const char *const *sets, unsigned ncpu, unsigned npages, bool kernel, uint64_t obs,
    uint64_t running, unsigned rounds)
{
	st_m = th_boot(sets);
	struct sc_run *s = mem_zalloc(struct sc_run, 1);
	s->ncpu = ncpu;
	s->npages = npages;
	s->kernel = kernel;
	s->obs = obs;
	s->running = running;
	s->rounds = rounds;
	s->quiet = sc_quiet;
	s->pm = st_pmap_create();
	vaddr_t vs, ve;
	pmap_virtual_space(&vs, &ve);
	s->kva = vs + (4ULL << 20);
	assert_int_equal(machine_run(st_m, ncpu, sc_cpu, s), 0);
	for (unsigned i = 0; i < ncpu; i++)
		for (unsigned t = 0; t < ncpu; t++) {
			uint64_t sum, n;
			if (shootdown_ack_get(i, t, &sum, &n))
				s->acks += n;
		}
	st_pmap_destroy(s->pm);
	machine_halt(st_m);
	st_m = NULL;
	assert_int_equal(th_failures(), 0);
	struct sc_run out = *s;
	free(s);
	return out;
}

/* ================= thresholds ================= */

static void test_thresholds(void **state)
{
	(void)state;
	static const char *const x86[] = {"shootdown.strategy=netbsd-x86", "shootdown.batch=4", NULL};
	assert_int_equal(sc(x86, 2, 4, false, 2, 2, 3).whole, 0);
	assert_int_equal(sc(x86, 2, 5, false, 2, 2, 3).whole, 1);
	static const char *const lx[] = {"shootdown.strategy=linux", NULL};
	assert_int_equal(sc(lx, 2, 33, false, 2, 2, 3).whole, 0);
	assert_int_equal(sc(lx, 2, 34, false, 2, 2, 3).whole, 1);
	static const char *const lx8[] = {"shootdown.strategy=linux", "shootdown.linux_ceiling=8", NULL};
	assert_int_equal(sc(lx8, 2, 9, false, 2, 2, 3).whole, 1);
	static const char *const fb[] = {"shootdown.strategy=freebsd", "shootdown.freebsd_threshold=8", NULL};
	assert_int_equal(sc(fb, 2, 7, false, 2, 2, 3).whole, 0);
	assert_int_equal(sc(fb, 2, 8, false, 2, 2, 3).whole, 1);
	static const char *const fbd[] = {"shootdown.strategy=freebsd", NULL};
	assert_int_equal(sc(fbd, 2, 40, false, 2, 2, 3).whole, 0); /* far below 4096 */
	static const char *const bc[] = {"shootdown.strategy=broadcast", "shootdown.broadcast_max=6", NULL};
	struct sc_run r = sc(bc, 2, 6, false, 2, 2, 3);
	assert_int_equal(r.whole, 0);
	assert_int_equal(r.ipis, 0); /* hardware, not IPIs */
	assert_int_equal(r.stale, 0);
	assert_int_equal(sc(bc, 2, 7, false, 2, 2, 3).whole, 1);
}

/* ================= target selection ================= */

static void test_targets(void **state)
{
	(void)state;
	/* tracked: four CPUs run the pmap, only CPU 1 touched the pages */
	static const char *const tr[] = {"shootdown.strategy=tracked", NULL};
	uint64_t sk0 = st_count("shootdown.skipped_targets");
	struct sc_run r = sc(tr, 4, 3, false, 1u << 1, 0xe, 5);
	assert_int_equal(r.ipis, 1);
	assert_int_equal(r.stale, 0);
	assert_true(st_count("shootdown.skipped_targets") - sk0 >= 5 * 3 * 2); /* CPUs 2, 3 spared */
	/* and kernel pages too: global, yet only the CPU that filled them */
	r = sc(tr, 4, 3, true, 1u << 2, 0xe, 5);
	assert_int_equal(r.ipis, 1);
	assert_int_equal(r.stale, 0);
	/* netbsd-mi: CPU 2 switched away (loses the ASID, no IPI), CPU 1 runs it */
	static const char *const mi[] = {"shootdown.strategy=netbsd-mi", NULL};
	r = sc(mi, 3, 2, false, 0x6, 0x2, 20);
	assert_int_equal(r.ipis, 1);
	/* ASID reset: CPU 2 alone, switched away during the removal: no IPI,
	 * and when it comes back to the pmap no stale entry is left */
	r = sc(mi, 3, 2, false, 0x4, 0x0, 20);
	assert_int_equal(r.ipis, 0);
	assert_int_equal(r.stale, 0);
	/* linux: the lazy CPU 2 is skipped; a freed page-table page brings it in */
	static const char *const lx[] = {"shootdown.strategy=linux", NULL};
	r = sc(lx, 3, 2, false, 0x6, 0x2, 5);
	/* the removal empties the L1 table: freed_tables → lazy CPU 2 too */
	assert_int_equal(r.ipis, 2);
	assert_int_equal(r.stale, 0);
	/* hier: groups {0,1} {2,3}: CPU 0 IPIs CPU 1 and leader 2, which fans out to 3 */
	static const char *const hi[] = {"shootdown.strategy=hier", "shootdown.hier_group=2", NULL};
	uint64_t f0 = st_count("shootdown.hier.fanout_ipis");
	r = sc(hi, 4, 2, false, 0xe, 0xe, 1);
	assert_int_equal(r.ipis_cpu0, 2);
	assert_int_equal(r.ipis, 3);
	assert_int_equal(st_count("shootdown.hier.fanout_ipis") - f0, 1);
	assert_int_equal(r.stale, 0);
	/* hier with one group is flat */
	static const char *const h1[] = {"shootdown.strategy=hier", "shootdown.hier_group=4", NULL};
	r = sc(h1, 4, 2, false, 0xe, 0xe, 1);
	assert_int_equal(r.ipis_cpu0, 3);
	/* freebsd: CPU 2 not running the pmap gets no IPI (loses the PCID) */
	static const char *const fb[] = {"shootdown.strategy=freebsd", NULL};
	r = sc(fb, 3, 2, false, 0x6, 0x2, 5);
	assert_int_equal(r.ipis, 1);
	assert_int_equal(r.stale, 0);
}

/*
 * The acknowledgement matrix is a statistic: with stats.enabled = off it
 * stays empty, and the strategies read no clock to fill it (a request's
 * send time is 0: sd_clock_start) — while the shootdowns
 * still do their work: no stale entry survives.  With statistics on, the
 * same scenario fills it.
 */
static void test_ack_matrix_follows_stats(void **state)
{
	(void)state;
	/* the strategies whose initiator waits for acknowledgements (netbsd-mi
	 * and latr do not, broadcast counts none: no matrix to fill) */
	static const char *const names[] = {"netbsd-x86", "linux", "freebsd", "hier", "tracked", NULL};
	for (const char *const *n = names; *n != NULL; n++) {
		char strat[64];
		snprintf(strat, sizeof(strat), "shootdown.strategy=%s", *n);
		const char *const on[] = {strat, NULL}, *const off[] = {strat, "stats.enabled=off", NULL};
		struct sc_run r = sc(on, 3, 2, false, 0x6, 0x6, 3);
		if (r.acks == 0 || r.stale != 0)
			fail_msg("%s, statistics on: %" PRIu64 " acknowledgements recorded, %" PRIu64 " stale", *n, r.acks,
			    (uint64_t)r.stale);
		r = sc(off, 3, 2, false, 0x6, 0x6, 3);
		if (r.acks != 0 || r.stale != 0)
			fail_msg("%s, statistics off: %" PRIu64 " acknowledgements recorded, %" PRIu64 " stale", *n, r.acks,
			    (uint64_t)r.stale);
	}
}

/* linux with a page table that stays: the lazy CPU is skipped */
static void test_linux_lazy_skipped(void **state)
{
	(void)state;
	static const char *const lx[] = {"shootdown.strategy=linux", NULL};
	st_m = th_boot(lx);
	pmap_t pm = st_pmap_create();
	assert_int_equal(cpu_attach(st_m, 0), 0);
	struct vm_page *keep = th_page();
	assert_int_equal(pmap_enter(pm, ST_VA + ptoa(100), VM_PAGE_TO_PHYS(keep), ST_RW, 0), 0);
	pmap_update(pm);
	cpu_detach();
	struct sc_run s = {.pm = pm, .ncpu = 3, .npages = 2, .obs = 0x6, .running = 0x2, .rounds = 5};
	assert_int_equal(machine_run(st_m, 3, sc_cpu, &s), 0);
	assert_int_equal(th_failures(), 0);
	assert_int_equal(s.ipis, 1); /* only CPU 1; CPU 2 caught up at its switch */
	assert_int_equal(s.stale, 0);
	assert_int_equal(cpu_attach(st_m, 0), 0);
	pmap_remove(pm, ST_VA + ptoa(100), ST_VA + ptoa(101));
	pmap_update(pm);
	uvm_pagefree(keep);
	cpu_detach();
	st_pmap_destroy(pm);
	machine_halt(st_m);
}

/* ================= latr: lazy sweeps, full ring, deferred frees ================= */

struct lz_run {
	pmap_t pm;
	struct vm_page *pg, *keep;
	_Atomic uint64_t step;
	_Atomic uint64_t stale_seen, fault_seen;
	/* the frame's own PG_FREE, not uvm_free_pages(): page-table pages that
	 * pmap_remove gives back through RCU land on the free list whenever the
	 * grace period ends, so a count of free pages moves under the test */
	bool free_at_free, free_cpu1_swept, free_after;
	uint64_t ipis, deferred;
};

static bool lz_page_free(const struct vm_page *pg)
{
	return (atomic_load(&pg->flags) & PG_FREE) != 0;
}

static void lz_cpu(unsigned cpu, void *arg)
{
	struct lz_run *s = arg;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	uint64_t v;
	if (cpu == 0) {
		/* a second page in the same page table keeps the table alive: its
		 * pages would otherwise go back to the free list after an RCU
		 * grace period, at a time of liburcu's choosing, and the free
		 * counts below would see them */
		struct vm_page *keep = th_page();
		TH_CHECK(keep != NULL && pmap_enter(s->pm, ST_VA + PAGE_SIZE, VM_PAGE_TO_PHYS(keep), ST_RW, 0) == 0);
		s->keep = keep;
		s->pg = th_page();
		assert_non_null(s->pg);
		uint64_t *p = machine_phys(VM_PAGE_TO_PHYS(s->pg));
		*p = 0x1a7e;
		TH_CHECK(pmap_enter(s->pm, ST_VA, VM_PAGE_TO_PHYS(s->pg), ST_RW, 0) == 0);
		pmap_update(s->pm);
		atomic_store(&s->step, 1);
		st_wait_ge(&s->step, 3); /* CPUs 1 and 2 loaded it */
		uint64_t i0 = st_count("ipi.sent"), d0 = st_count("shootdown.deferred_frees");
		pmap_remove(s->pm, ST_VA, ST_VA + PAGE_SIZE);
		pmap_update(s->pm);
		s->ipis = st_count("ipi.sent") - i0;
		uvm_pagefree(s->pg); /* CPUs 1 and 2 have not swept: held back */
		s->free_at_free = lz_page_free(s->pg);
		s->deferred = st_count("shootdown.deferred_frees") - d0;
		atomic_store(&s->step, 4);
		st_wait_ge(&s->step, 5); /* CPU 1 swept, CPU 2 has not */
		s->free_cpu1_swept = lz_page_free(s->pg);
		atomic_store(&s->step, 6);
		st_wait_ge(&s->step, 7); /* CPU 2 swept */
		/* the release comes with a reclaim at a later interrupt point: no
		 * clock bounds it (the watchdog ends a run in which it never does) */
		unsigned iter = 0;
		while (!lz_page_free(s->pg))
			cpu_spin_wait(&iter);
		s->free_after = lz_page_free(s->pg);
		pmap_remove(s->pm, ST_VA + PAGE_SIZE, ST_VA + 2 * PAGE_SIZE);
		pmap_update(s->pm);
		uvm_pagefree(s->keep);
	} else {
		st_wait_ge(&s->step, (uint64_t)cpu);
		TH_CHECK(mmu_load(ST_VA, &v) == 0 && v == 0x1a7e);
		atomic_fetch_add(&s->step, 1);
		/* no interrupt point: the stale entry survives the removal */
		while (atomic_load(&s->step) < 4)
			__builtin_ia32_pause();
		if (mmu_load(ST_VA, &v) == 0 && v == 0x1a7e)
			atomic_fetch_add(&s->stale_seen, 1);
		if (cpu == 2) {
			while (atomic_load(&s->step) < 6)
				__builtin_ia32_pause(); /* still no interrupt point */
		}
		/* now take interrupt points until a tick sweeps (ticks come with
		 * time; no clock bounds the wait, the watchdog ends a run in which
		 * the entry never goes) */
		unsigned iter = 0;
		while (mmu_load(ST_VA, &v) == 0)
			cpu_spin_wait(&iter);
		if (mmu_load(ST_VA, &v) == EFAULT)
			atomic_fetch_add(&s->fault_seen, 1);
		atomic_fetch_add(&s->step, 1);
		st_wait_ge(&s->step, 7);
	}
	lwp_switch(NULL);
	lwp_destroy(l);
}

static void test_latr_lazy_and_deferred_free(void **state)
{
	(void)state;
	static const char *const sets[] = {"shootdown.strategy=latr", NULL};
	st_m = th_boot(sets);
	struct lz_run s = {0};
	s.pm = st_pmap_create();
	assert_int_equal(machine_run(st_m, 3, lz_cpu, &s), 0);
	assert_int_equal(th_failures(), 0);
	assert_int_equal(s.ipis, 0);           /* no IPI for a removal */
	assert_int_equal(s.stale_seen, 2);     /* both kept their entry until a sweep ... */
	assert_int_equal(s.fault_seen, 2);     /* ... and lost it at one */
	assert_int_equal(s.deferred, 1);
	assert_false(s.free_at_free);    /* the frame was held back */
	assert_false(s.free_cpu1_swept); /* CPU 2 had not swept */
	assert_true(s.free_after);       /* released once all swept */
	st_pmap_destroy(s.pm);
	machine_halt(st_m);
}

/* A full ring and a downgrade go by IPI.  Ticks are 10 s apart here, so
 * CPU 1 never sweeps: it takes IPIs only. */
struct fr_run {
	pmap_t pm;
	_Atomic uint64_t step;
	uint64_t lazy_ipis, full_ipis, full, prot_ipis;
	int store_after_protect;
};

static void fr_cpu(unsigned cpu, void *arg)
{
	struct fr_run *s = arg;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	struct vm_page *pgs[4] = {NULL};
	uint64_t v;
	if (cpu == 0) {
		for (unsigned i = 0; i < 4; i++) {
			pgs[i] = th_page();
			TH_CHECK(pmap_enter(s->pm, ST_VA + ptoa(i), VM_PAGE_TO_PHYS(pgs[i]), ST_RW, 0) == 0);
		}
		pmap_update(s->pm);
		atomic_store(&s->step, 1);
		st_wait_ge(&s->step, 2);
		uint64_t i0 = st_count("ipi.sent"), f0 = st_count("shootdown.latr.ring_full");
		for (unsigned i = 0; i < 2; i++) { /* two lazy states fill a ring of 2 */
			pmap_remove(s->pm, ST_VA + ptoa(i), ST_VA + ptoa(i + 1));
			pmap_update(s->pm);
		}
		s->lazy_ipis = st_count("ipi.sent") - i0;
		pmap_remove(s->pm, ST_VA + ptoa(2), ST_VA + ptoa(3));
		pmap_update(s->pm); /* the ring is full: IPI, and wait */
		s->full_ipis = st_count("ipi.sent") - i0 - s->lazy_ipis;
		s->full = st_count("shootdown.latr.ring_full") - f0;
		i0 = st_count("ipi.sent");
		pmap_protect(s->pm, ST_VA + ptoa(3), ST_VA + ptoa(4), VM_PROT_READ);
		pmap_update(s->pm); /* a downgrade: synchronous */
		s->prot_ipis = st_count("ipi.sent") - i0;
		atomic_store(&s->step, 3);
		st_wait_ge(&s->step, 4);
		pmap_remove(s->pm, ST_VA, ST_VA + ptoa(4));
		pmap_update(s->pm);
		for (unsigned i = 0; i < 4; i++)
			uvm_pagefree(pgs[i]);
	} else {
		st_wait_ge(&s->step, 1);
		for (unsigned i = 0; i < 4; i++)
			TH_CHECK(mmu_store(ST_VA + ptoa(i), i) == 0);
		atomic_store(&s->step, 2);
		st_wait_ge(&s->step, 3); /* takes IPIs, never ticks */
		s->store_after_protect = mmu_store(ST_VA + ptoa(3), 9);
		TH_CHECK(mmu_load(ST_VA + ptoa(2), &v) == EFAULT); /* went by IPI */
		atomic_store(&s->step, 4);
	}
	lwp_switch(NULL); /* a switch sweeps what is left */
	lwp_destroy(l);
}

static void test_latr_full_ring_and_downgrade(void **state)
{
	(void)state;
	static const char *const sets[] = {"shootdown.strategy=latr", "shootdown.latr_ring=2", "machine.tick_us=10000000", NULL};
	st_m = th_boot(sets);
	struct fr_run s = {0};
	s.pm = st_pmap_create();
	assert_int_equal(machine_run(st_m, 2, fr_cpu, &s), 0);
	assert_int_equal(th_failures(), 0);
	assert_int_equal(s.lazy_ipis, 0);
	assert_int_equal(s.full, 1);
	assert_int_equal(s.full_ipis, 1);
	assert_int_equal(s.prot_ipis, 1);
	assert_int_equal(s.store_after_protect, EACCES);
	st_pmap_destroy(s.pm);
	machine_halt(st_m);
}

/* ================= mutants: negative controls =================
 * Each mutant in the state that shows it, built without a race: the
 * observers take interrupts while they wait for the removal (CPU 0's IPI,
 * if any, is handled before they look), except for mutant-nowait, whose
 * pmap_update() does not wait for them: they wait quietly (no interrupt
 * point) and its IPI is still pending when they look.  A quiet observer
 * would make a correct strategy wait for ever, so the controls poll. */

static uint64_t mutant_stale(const char *name, bool kernel, unsigned npages, bool quiet)
{
	char kv[64];
	snprintf(kv, sizeof(kv), "shootdown.strategy=%s", name);
	const char *sets[] = {"shootdown.allow_unsafe=yes", kv, NULL};
	sc_quiet = quiet;
	uint64_t n = sc(sets, 2, npages, kernel, 2, 2, 50).stale;
	sc_quiet = false;
	return n;
}

static void test_mutants_caught(void **state)
{
	(void)state;
	/* the control: a correct strategy leaves nothing stale */
	assert_int_equal(mutant_stale("netbsd-x86", false, 1, false), 0);
	assert_int_equal(mutant_stale("netbsd-x86", true, 20, false), 0);
	/* every round of each mutant's state is stale: 50 rounds */
	uint64_t n;
	n = mutant_stale("mutant-skip", false, 1, false);
	print_message("mutant-skip: %" PRIu64 " stale accesses\n", n);
	assert_int_equal(n, 50);
	n = mutant_stale("mutant-nowait", false, 1, true);
	print_message("mutant-nowait: %" PRIu64 " stale accesses\n", n);
	assert_int_equal(n, 50);
	n = mutant_stale("mutant-early-ack", false, 1, false);
	print_message("mutant-early-ack: %" PRIu64 " stale accesses\n", n);
	assert_int_equal(n, 50);
	/* global kernel pages in an overflowing batch: the whole flush must drop globals */
	assert_int_equal(mutant_stale("mutant-noglobal", false, 20, false), 0); /* user pages: fine */
	n = mutant_stale("mutant-noglobal", true, 20, false);
	print_message("mutant-noglobal: %" PRIu64 " stale accesses\n", n);
	assert_int_equal(n, 50 * 20);
}

int main(void)
{
	signal(SIGALRM, st_watchdog);
	alarm(240);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_every_strategy_boots),
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_ack_matrix_follows_stats),
		cmocka_unit_test(test_linux_lazy_skipped),
		cmocka_unit_test(test_latr_lazy_and_deferred_free),
		cmocka_unit_test(test_latr_full_ring_and_downgrade),
		cmocka_unit_test(test_mutants_caught),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
