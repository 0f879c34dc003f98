/*
 * test_lazy.c — where lazy strategies (latr, netbsd-mi) may not be lazy.
 *
 * A lazy strategy may complete a removal after pmap_update() returns, as
 * long as the frame is held back.  It may not when something new appears
 * at the address at once: pmap_enter() replacing the frame (a COW break),
 * or a kernel address that the allocators hand out again.  After the update
 * every CPU must see the new frame.  The target CPU keeps taking interrupt
 * points but no tick sweeps (machine.tick_us is huge), so only a synchronous
 * invalidation can make it drop its entry.  Also: latr's tick, which runs
 * at interrupt points inside lock waits, must not take the free-list lock
 * (a FIFO lock would deadlock on itself).  And: a CPU that frees a frame
 * while work posted for its own TLB is unswept sweeps it first, instead of
 * holding the frame back on a sweep only it can do (under memory pressure
 * the stress hog freed thousands of frames in a row that way, each free
 * rescanning the whole deferred list).
 *
 * The lazy guard (core/pmap/pmap.c): with the same VA entered again for the
 * same page right after its removal, pmap_is_modified() and
 * pmap_is_referenced() must still see every access completed after the
 * clear returned (a user found latr losing 125-193 of 200 such writes); a
 * page operation, or a fallback that ran between a removal and its
 * pmap_update(), must leave no lazily removed mapping usable; and the time
 * to coherence (shootdown.coherence) is recorded by the lazy strategies
 * alone.  Ticks never sweep here (machine.tick_us is huge): each verdict is
 * the guard's, not the clock's, and mutant-latr-unguarded (latr without the
 * guard) shows each case fails without it.
 */
#include "harness.h"

#include <pmapstorm/check.h>

#include <errno.h>
#include <inttypes.h>
#include <unistd.h>

#include "experiment/experiment.h"
#include "trials/driver.h"
#include "trials/workloads/workload.h"

#define LZ_VA ((vaddr_t)0x20000000ULL)

struct lz_run {
	pmap_t pm;
	vaddr_t kva;
	bool kernel;
	_Atomic unsigned step;
	_Atomic unsigned stale, fresh;
};

static void lz_cpu(unsigned cpu, void *arg)
{
	struct lz_run *s = arg;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	unsigned iter = 0;
	const unsigned rounds = 200;
	for (unsigned r = 1; r <= rounds; r++) {
		/* a fresh address each round: what is tested is the replacement;
		 * reusing an address is test_guard_reuse's */
		vaddr_t va = (s->kernel ? s->kva : LZ_VA) + ptoa(r);
		if (cpu == 0) {
			struct vm_page *a = th_page(), *b = th_page();
			*(uint64_t *)machine_phys(VM_PAGE_TO_PHYS(a)) = 0xA000 + r;
			*(uint64_t *)machine_phys(VM_PAGE_TO_PHYS(b)) = 0xB000 + r;
			if (s->kernel)
				pmap_kenter_pa(va, VM_PAGE_TO_PHYS(a), VM_PROT_READ, 0);
			else
				TH_CHECK(pmap_enter(s->pm, va, VM_PAGE_TO_PHYS(a), VM_PROT_READ, VM_PROT_READ) == 0);
			pmap_update(s->pm);
			atomic_store(&s->step, 2 * r - 1); /* CPU 1: cache it */
			while (atomic_load(&s->step) != 2 * r)
				cpu_spin_wait(&iter);
			if (s->kernel) {
				pmap_kremove(va, PAGE_SIZE);
				pmap_update(pmap_kernel());
				pmap_kenter_pa(va, VM_PAGE_TO_PHYS(b), VM_PROT_READ, 0);
			} else {
				/* a new frame over the old mapping */
				TH_CHECK(pmap_enter(s->pm, va, VM_PAGE_TO_PHYS(b), VM_PROT_READ, VM_PROT_READ) == 0);
			}
			pmap_update(s->pm);
			atomic_store(&s->step, 2 * r + 1000000); /* CPU 1: look again */
			while (atomic_load(&s->step) != 2 * r + 2000000)
				cpu_spin_wait(&iter);
			if (s->kernel) {
				pmap_kremove(va, PAGE_SIZE);
				pmap_update(pmap_kernel());
			} else {
				pmap_remove(s->pm, va, va + PAGE_SIZE);
				pmap_update(s->pm);
			}
			uvm_pagefree(a);
			uvm_pagefree(b);
		} else if (cpu == 1) {
			while (atomic_load(&s->step) != 2 * r - 1)
				cpu_spin_wait(&iter);
			uint64_t v = 0;
			TH_CHECK(mmu_load(va, &v) == 0 && v == 0xA000 + r);
			atomic_store(&s->step, 2 * r);
			/* interrupt points (IPIs), but no tick will sweep */
			while (atomic_load(&s->step) != 2 * r + 1000000)
				cpu_spin_wait(&iter);
			v = 0;
			if (mmu_load(va, &v) == 0 && v == 0xA000 + r)
				atomic_fetch_add(&s->stale, 1);
			else if (v == 0xB000 + r)
				atomic_fetch_add(&s->fresh, 1);
			atomic_store(&s->step, 2 * r + 2000000);
		}
	}
	lwp_switch(NULL);
	lwp_destroy(l);
}

static void lz_case(const char *strategy, bool kernel)
{
	char k1[64];
	snprintf(k1, sizeof(k1), "shootdown.strategy=%s", strategy);
	const char *sets[] = {"machine.cpus=2", "machine.tick_us=10000000", k1, NULL};
	struct machine *m = th_boot(sets);
	struct lz_run s = {.kernel = kernel};
	assert_int_equal(cpu_attach(m, 0), 0);
	s.pm = pmap_create();
	vaddr_t end;
	pmap_virtual_space(&s.kva, &end);
	s.kva += 64 * PAGE_SIZE; /* clear of anything uvm took at boot */
	cpu_detach();
	assert_int_equal(machine_run(m, 2, lz_cpu, &s), 0);
	assert_int_equal(th_failures(), 0);
	assert_int_equal(cpu_attach(m, 0), 0);
	pmap_destroy(s.pm);
	cpu_detach();
	machine_halt(m);
	if (atomic_load(&s.stale) != 0)
		fail_msg("%s, %s: %u rounds read the replaced frame after pmap_update", strategy,
		    kernel ? "kernel VA reused" : "pmap_enter of a new frame", atomic_load(&s.stale));
	assert_int_equal(atomic_load(&s.fresh), 200);
}

static void test_replace_frame(void **state)
{
	(void)state;
	lz_case("latr", false);
	lz_case("netbsd-mi", false);
	lz_case("netbsd-x86", false);
}

static void test_kernel_va_reuse(void **state)
{
	(void)state;
	lz_case("latr", true);
	lz_case("netbsd-mi", true);
	lz_case("netbsd-x86", true);
}

/* latr's tick inside a FIFO lock wait on the free list: no self-deadlock */
static void test_latr_tick_in_lock_wait(void **state)
{
	(void)state;
	struct machine_config cfg;
	machine_config_init(&cfg);
	static const char *const kv[][2] = {{"machine.cpus", "4"}, {"machine.tick_us", "1"},
	    {"shootdown.strategy", "latr"}, {"locks.pagefree", "ticket"}, {"uvm.pagecache", "off"}};
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		assert_int_equal(machine_config_set(&cfg, kv[i][0], kv[i][1]), 0);
	struct exp_point pt;
	exp_point_single(&pt, &cfg, "cow", 0.05, 0.4);
	struct trial_result *r = mem_zalloc(struct trial_result, 1);
	_Atomic int stop = 0;
	alarm(120); /* a deadlock ends the test instead of hanging it */
	assert_int_equal(trial_run(&pt, 0, 1, r, &stop), 0);
	alarm(0);
	assert_int_equal(r->tr_errors, 0);
	trial_free(r);
	free(r);
}

/*
 * Self-sweep before a free: CPU 0 runs the pmap with interrupts blocked
 * (splvm: no IPI, no tick, so nothing else can sweep its TLB); CPU 1
 * removes a mapping CPU 0 cached, which posts work for CPU 0; then CPU 0
 * frees an unrelated page.  The page must be free at once, not deferred on
 * CPU 0's own sweep — and CPU 0's TLB no longer reaches the removed page.
 */
struct ss_run {
	pmap_t pm;
	_Atomic unsigned step;
	bool freed_now;      /* the page was PG_FREE right after uvm_pagefree */
	bool stale_after;    /* CPU 0 still read the removed page after the free */
	uint64_t deferred0, deferred1;
};

static void ss_cpu(unsigned cpu, void *arg)
{
	struct ss_run *s = arg;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	unsigned iter = 0;
	if (cpu == 1) {
		struct vm_page *a = th_page(), *keep = th_page();
		*(uint64_t *)machine_phys(VM_PAGE_TO_PHYS(a)) = 0xA1;
		TH_CHECK(pmap_enter(s->pm, LZ_VA, VM_PAGE_TO_PHYS(a), VM_PROT_READ, VM_PROT_READ) == 0);
		/* a second mapping keeps the page-table page (no synchronous free) */
		TH_CHECK(pmap_enter(s->pm, LZ_VA + PAGE_SIZE, VM_PAGE_TO_PHYS(keep), VM_PROT_READ, VM_PROT_READ) == 0);
		pmap_update(s->pm);
		uint64_t v = 0;
		TH_CHECK(mmu_load(LZ_VA, &v) == 0 && v == 0xA1); /* accessed: the removal must shoot */
		atomic_store(&s->step, 1);
		while (atomic_load(&s->step) != 2)
			cpu_spin_wait(&iter);
		pmap_remove(s->pm, LZ_VA, LZ_VA + PAGE_SIZE); /* lazy: posts work for CPU 0 */
		pmap_update(s->pm);
		atomic_store(&s->step, 3);
		while (atomic_load(&s->step) != 4)
			cpu_spin_wait(&iter);
		uvm_pagefree(a);
		pmap_remove(s->pm, LZ_VA + PAGE_SIZE, LZ_VA + 2 * PAGE_SIZE);
		pmap_update(s->pm);
		uvm_pagefree(keep);
	} else {
		int spl = splvm(); /* no IPI, no tick: only CPU 0 itself can sweep its TLB */
		while (atomic_load(&s->step) != 1)
			cpu_spin_wait(&iter);
		uint64_t v = 0;
		TH_CHECK(mmu_load(LZ_VA, &v) == 0 && v == 0xA1); /* CPU 0 caches it */
		atomic_store(&s->step, 2);
		while (atomic_load(&s->step) != 3)
			cpu_spin_wait(&iter);
		struct vm_page *pg = th_page();
		s->deferred0 = stats_counter_total(stats_counter_find("shootdown.deferred_frees"));
		uvm_pagefree(pg);
		s->deferred1 = stats_counter_total(stats_counter_find("shootdown.deferred_frees"));
		s->freed_now = atomic_load(&pg->flags) & PG_FREE;
		v = 0;
		s->stale_after = mmu_load(LZ_VA, &v) == 0 && v == 0xA1;
		splx(spl);
		atomic_store(&s->step, 4);
	}
	lwp_switch(NULL);
	lwp_destroy(l);
}

static void test_free_sweeps_own_tlb(void **state)
{
	(void)state;
	const char *const strategies[] = {"netbsd-mi", "latr"};
	for (unsigned i = 0; i < 2; i++) {
		char k1[64];
		snprintf(k1, sizeof(k1), "shootdown.strategy=%s", strategies[i]);
		const char *sets[] = {"machine.cpus=2", "machine.tick_us=10000000", k1, NULL};
		struct machine *m = th_boot(sets);
		struct ss_run s = {0};
		assert_int_equal(cpu_attach(m, 0), 0);
		s.pm = pmap_create();
		cpu_detach();
		alarm(120); /* a CPU waiting on the other's sweep ends the test instead of hanging it */
		assert_int_equal(machine_run(m, 2, ss_cpu, &s), 0);
		alarm(0);
		assert_int_equal(th_failures(), 0);
		assert_int_equal(cpu_attach(m, 0), 0);
		pmap_destroy(s.pm);
		cpu_detach();
		machine_halt(m);
		if (!s.freed_now || s.deferred1 != s.deferred0)
			fail_msg("%s: a free on a CPU with unswept work of its own was held back on that CPU's own sweep "
			    "(%" PRIu64 " deferred)", strategies[i], s.deferred1 - s.deferred0);
		if (s.stale_after)
			fail_msg("%s: the freeing CPU still reads a removed page after its free", strategies[i]);
	}
}

/* ---- the lazy guard ---- */

#define LG_ROUNDS 200

enum lg_case { LG_REUSE, LG_PAGEOP, LG_LATE, LG_COHERENCE };

struct lg_run {
	enum lg_case c;
	pmap_t pm;
	struct vm_page *pg;
	struct cpu_barrier bar;
	unsigned missed_mod, missed_ref, stale;
};

static void lg_cpu(unsigned cpu, void *arg)
{
	struct lg_run *s = arg;
	struct lwp *l = lwp_create(s->pm), *other = lwp_create(s->pm);
	lwp_switch(l);
	const paddr_t pa = VM_PAGE_TO_PHYS(s->pg);
	const vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
	for (unsigned r = 1; r <= LG_ROUNDS; r++) {
		uint64_t v = 0;
		switch (s->c) {
		case LG_REUSE:
			/* the user's program: the same VA and page every round, no
			 * access type (the new PTE is clean and unreferenced) */
			if (cpu == 0)
				TH_CHECK(pmap_enter(s->pm, LZ_VA, pa, rw, 0) == 0);
			cpu_barrier_wait(&s->bar);
			if (cpu == 1)
				TH_CHECK(mmu_store(LZ_VA, r) == 0);
			cpu_barrier_wait(&s->bar);
			if (cpu == 0) {
				(void)pmap_clear_modify(s->pg);
				(void)pmap_clear_reference(s->pg);
			}
			cpu_barrier_wait(&s->bar);
			if (cpu == 1)
				TH_CHECK(mmu_store(LZ_VA + 8, r) == 0); /* after both clears returned */
			cpu_barrier_wait(&s->bar);
			if (cpu == 0) {
				/* the modref oracle's judgement (pmapstorm/check.h) */
				check_count(CHK_MODREF, 2);
				if (!pmap_is_modified(s->pg)) {
					s->missed_mod++;
					check_violation(CHK_MODREF, LZ_VA, pa, "a write after pmap_clear_modify() returned, "
					    "yet pmap_is_modified() is false");
				}
				if (!pmap_is_referenced(s->pg)) {
					s->missed_ref++;
					check_violation(CHK_MODREF, LZ_VA, pa, "an access after pmap_clear_reference() returned, "
					    "yet pmap_is_referenced() is false");
				}
				pmap_remove(s->pm, LZ_VA, LZ_VA + PAGE_SIZE);
				pmap_update(s->pm);
			}
			cpu_barrier_wait(&s->bar);
			break;
		case LG_PAGEOP:
			/* removed and updated, then a page operation: the removed
			 * mapping may not write the page once that returned */
			if (cpu == 0) {
				TH_CHECK(pmap_enter(s->pm, LZ_VA + ptoa(r), pa, rw, 0) == 0);
				pmap_update(s->pm);
			}
			cpu_barrier_wait(&s->bar);
			if (cpu == 1)
				TH_CHECK(mmu_store(LZ_VA + ptoa(r), r) == 0);
			cpu_barrier_wait(&s->bar);
			if (cpu == 0) {
				pmap_remove(s->pm, LZ_VA + ptoa(r), LZ_VA + ptoa(r + 1));
				pmap_update(s->pm);
				(void)pmap_clear_modify(s->pg);
			}
			cpu_barrier_wait(&s->bar);
			if (cpu == 1 && mmu_store(LZ_VA + ptoa(r), r) == 0)
				s->stale++; /* a write pmap_is_modified() would never see */
			cpu_barrier_wait(&s->bar);
			break;
		case LG_LATE:
			/* the page operation runs between the removal and its
			 * pmap_update(): that update completes the removal */
			if (cpu == 0) {
				TH_CHECK(pmap_enter(s->pm, LZ_VA + ptoa(r), pa, rw, 0) == 0);
				pmap_update(s->pm);
			}
			cpu_barrier_wait(&s->bar);
			if (cpu == 1)
				TH_CHECK(mmu_store(LZ_VA + ptoa(r), r) == 0);
			cpu_barrier_wait(&s->bar);
			if (cpu == 0)
				pmap_remove(s->pm, LZ_VA + ptoa(r), LZ_VA + ptoa(r + 1));
			cpu_barrier_wait(&s->bar);
			if (cpu == 1)
				(void)pmap_clear_modify(s->pg);
			cpu_barrier_wait(&s->bar);
			if (cpu == 0)
				pmap_update(s->pm);
			cpu_barrier_wait(&s->bar);
			if (cpu == 1 && mmu_store(LZ_VA + ptoa(r), r) == 0)
				s->stale++;
			cpu_barrier_wait(&s->bar);
			break;
		case LG_COHERENCE:
			/* one lazy window per round, ended by CPU 1's context switch */
			if (cpu == 0) {
				TH_CHECK(pmap_enter(s->pm, LZ_VA + ptoa(r), pa, VM_PROT_READ, 0) == 0);
				pmap_update(s->pm);
			}
			cpu_barrier_wait(&s->bar);
			if (cpu == 1)
				TH_CHECK(mmu_load(LZ_VA + ptoa(r), &v) == 0);
			cpu_barrier_wait(&s->bar);
			if (cpu == 0) {
				pmap_remove(s->pm, LZ_VA + ptoa(r), LZ_VA + ptoa(r + 1));
				pmap_update(s->pm);
			}
			cpu_barrier_wait(&s->bar);
			if (cpu == 1) {
				lwp_switch(other);
				lwp_switch(l);
			}
			cpu_barrier_wait(&s->bar);
			break;
		}
	}
	lwp_switch(NULL);
	lwp_destroy(other);
	lwp_destroy(l);
}

struct lg_result {
	unsigned missed_mod, missed_ref, stale;
	uint64_t reuse, pageop, late, coherence_n, coherence_min;
	uint64_t modref_checks, modref_violations, update_violations;
};

static struct lg_result lg_case(const char *strategy, enum lg_case c)
{
	char k1[64];
	snprintf(k1, sizeof(k1), "shootdown.strategy=%s", strategy);
	const char *sets[] = {"machine.cpus=2", "machine.tick_us=10000000", "shootdown.allow_unsafe=yes",
	    "check.enabled=on", k1, NULL};
	struct machine *m = th_boot(sets);
	struct lg_run s = {.c = c};
	cpu_barrier_init(&s.bar, 2);
	assert_int_equal(cpu_attach(m, 0), 0);
	s.pm = pmap_create();
	s.pg = th_page();
	cpu_detach();
	stats_reset(); /* no CPU is attached: the counters below are this run's */
	check_reset();
	alarm(120); /* a drain that never ends fails the test instead of hanging it */
	assert_int_equal(machine_run(m, 2, lg_cpu, &s), 0);
	alarm(0);
	assert_int_equal(th_failures(), 0);
	struct lg_result res = {.missed_mod = s.missed_mod, .missed_ref = s.missed_ref, .stale = s.stale,
	    .reuse = th_counter("pmap.lazy_reuse"), .pageop = th_counter("pmap.lazy_pageop"),
	    .late = th_counter("pmap.lazy_late")};
	struct stats_hist_summary hs;
	stats_hist_summarize(stats_hist_find("shootdown.coherence"), -1, &hs);
	res.coherence_n = hs.hs_count;
	res.coherence_min = hs.hs_min;
	uint64_t n;
	check_totals(CHK_MODREF, &res.modref_checks, &res.modref_violations);
	check_totals(CHK_UPDATE, &n, &res.update_violations);
	assert_int_equal(cpu_attach(m, 0), 0);
	pmap_remove(s.pm, LZ_VA, LZ_VA + ptoa(LG_ROUNDS + 2));
	pmap_update(s.pm);
	uvm_pagefree(s.pg);
	pmap_destroy(s.pm);
	cpu_detach();
	machine_halt(m);
	print_message("  %-22s case %d: missed modified %u, referenced %u; stale writes %u; fallbacks reuse %" PRIu64
	    " pageop %" PRIu64 " late %" PRIu64 "; coherence samples %" PRIu64 "\n", strategy, (int)c, res.missed_mod,
	    res.missed_ref, res.stale, res.reuse, res.pageop, res.late, res.coherence_n);
	return res;
}

/* The user's program: enter, store, clear, store, check, remove — same VA and page each round. */
static void test_guard_reuse(void **state)
{
	(void)state;
	const char *ok[] = {"latr", "netbsd-mi", "netbsd-x86", "immediate"};
	for (unsigned i = 0; i < 4; i++) {
		struct lg_result r = lg_case(ok[i], LG_REUSE);
		assert_int_equal(r.modref_checks, 2 * LG_ROUNDS);
		assert_int_equal(r.update_violations, 0);
		if (r.missed_mod != 0 || r.missed_ref != 0)
			fail_msg("%s: pmap_is_modified() missed %u and pmap_is_referenced() %u of %d accesses completed "
			    "after the clear returned", ok[i], r.missed_mod, r.missed_ref, LG_ROUNDS);
	}
	/* latr: every round after the first enters a VA whose removal is
	 * still cached on CPU 1 (no tick sweeps): the guard completes it */
	assert_int_equal(lg_case("latr", LG_REUSE).reuse, LG_ROUNDS - 1);
	assert_int_equal(lg_case("netbsd-x86", LG_REUSE).reuse, 0); /* not lazy: no guard */
	/* the negative control: without the guard, every round after the
	 * first loses the write, and the modref oracle says so (the update
	 * oracle too: a TLB entry caching D over a clean PTE) */
	struct lg_result bad = lg_case("mutant-latr-unguarded", LG_REUSE);
	assert_int_equal(bad.reuse, 0);
	assert_true(bad.missed_mod > 0 && bad.missed_ref > 0);
	assert_int_equal(bad.modref_violations, bad.missed_mod + bad.missed_ref);
	assert_true(bad.update_violations > 0);
}

static void test_guard_pageop(void **state)
{
	(void)state;
	const char *ok[] = {"latr", "netbsd-mi"};
	for (unsigned i = 0; i < 2; i++) {
		struct lg_result r = lg_case(ok[i], LG_PAGEOP);
		if (r.stale != 0)
			fail_msg("%s: %u writes through a removed mapping succeeded after pmap_clear_modify() returned",
			    ok[i], r.stale);
	}
	assert_int_equal(lg_case("latr", LG_PAGEOP).pageop, LG_ROUNDS);
	assert_true(lg_case("mutant-latr-unguarded", LG_PAGEOP).stale > 0);
}

static void test_guard_late_removal(void **state)
{
	(void)state;
	struct lg_result r = lg_case("latr", LG_LATE);
	if (r.stale != 0)
		fail_msg("latr: %u writes through a removal whose pmap_update() returned after a page operation", r.stale);
	assert_int_equal(r.late, LG_ROUNDS);
	assert_true(lg_case("mutant-latr-unguarded", LG_LATE).stale > 0);
}

/* shootdown.coherence: a sample per lazy window on the lazy strategies, none elsewhere */
static void test_time_to_coherence(void **state)
{
	(void)state;
	struct lg_result r = lg_case("latr", LG_COHERENCE);
	assert_int_equal(r.coherence_n, LG_ROUNDS);
	assert_true(r.coherence_min > 0);
	r = lg_case("netbsd-mi", LG_COHERENCE); /* the IPI ends it, or the switch */
	assert_true(r.coherence_n >= 1 && r.coherence_n <= LG_ROUNDS);
	assert_int_equal(lg_case("netbsd-x86", LG_COHERENCE).coherence_n, 0);
	assert_int_equal(lg_case("immediate", LG_COHERENCE).coherence_n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace_frame),
		cmocka_unit_test(test_kernel_va_reuse),
		cmocka_unit_test(test_latr_tick_in_lock_wait),
		cmocka_unit_test(test_free_sweeps_own_tlb),
		cmocka_unit_test(test_guard_reuse),
		cmocka_unit_test(test_guard_pageop),
		cmocka_unit_test(test_guard_late_removal),
		cmocka_unit_test(test_time_to_coherence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
