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
 */
#include "harness.h"

#include <errno.h>
#include <inttypes.h>
#include <unistd.h>

#include "driver.h"
#include "experiment.h"
#include "workload.h"

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
		/* a fresh address each round: reusing one after a lazy removal is
		 * the documented exposure of lazy strategies, not what is tested */
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
	assert_int_equal(trial_run(&pt, 0, 1, r, &stop), EXIT_OK);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace_frame),
		cmocka_unit_test(test_kernel_va_reuse),
		cmocka_unit_test(test_latr_tick_in_lock_wait),
		cmocka_unit_test(test_free_sweeps_own_tlb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
