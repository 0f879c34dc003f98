/*
 * test_scaling.c — the counters that explain why independent address
 * spaces scale (issue 17; docs/performance.md).
 *
 * Timing decides nothing here.  Each test runs a fixed schedule and asserts
 * counts: how many frames went through the global free list, which locks
 * bounced between CPUs, which thread took a simulated lock, how often a
 * wait yielded the host CPU.  Every one of them failed on the code before
 * issue 17 (docs/performance.md says how each was shown to fail).
 */
#include "harness.h"

#include "../core/pmap/pmap_impl.h" /* a pmap's root, to find its page-table pages */

#include <pmapstorm/lock.h>
#include <pmapstorm/topo.h>

#include <inttypes.h>
#include <pthread.h>
#include <unistd.h>

#define SC_VA ((vaddr_t)0x40000000ULL)
#define SC_RW (VM_PROT_READ | VM_PROT_WRITE)
#define SC_WARM 64   /* cycles before the measured window: the caches fill */
#define SC_CYCLES 512

/* A registered counter (the test fails if it does not exist) on one CPU's
 * block, or on the shared block of threads that are not CPUs (cpu -1). */
static uint64_t sc_cpu_counter(const char *name, int cpu)
{
	const struct stats_counter *c = stats_counter_find(name);
	if (c == NULL) {
		TH_CHECKF(c != NULL, "no counter %s", name);
		return 0;
	}
	return stats_counter_cpu(c, cpu);
}

/* Acquisitions of every lock class by threads that are not CPUs. */
static uint64_t sc_foreign_acquisitions(void)
{
	uint64_t n = 0;
	char name[96];
	for (int c = 0; c < LC_NCLASS; c++) {
		snprintf(name, sizeof(name), "lock.%s.acquisitions", lock_class_name((lock_class_t)c));
		n += sc_cpu_counter(name, -1);
	}
	return n;
}

/* One will-it-scale tlb_flush2 cycle on a page of its own: enter, touch,
 * remove, update (bench/trials/workloads/munmap.c with len 1). */
static void sc_cycle(pmap_t pm, vaddr_t va, struct vm_page *pg, uint64_t i)
{
	TH_CHECK(pmap_enter(pm, va, VM_PAGE_TO_PHYS(pg), SC_RW, SC_RW) == 0);
	pmap_update(pm);
	TH_CHECK(mmu_store(va, i) == 0);
	pmap_remove(pm, va, va + PAGE_SIZE);
	pmap_update(pm);
	cpu_intr_poll();
}

/* ---- private address spaces share nothing on the hot path ---- */

static const char *const sc_window[] = {
	"phys.allocs", "phys.frees", "pmap.ptp_alloc", "pmap.ptp_cached", "pmap.ptp_refills", "pmap.ptp_spills",
	"pmap.ptp_qs_requests", "lock.pagefree.contentions", "lock.pagefree.bounces", "lock.pmap.bounces",
	"pmap.pv_alloc",
};
#define SC_NWIN (sizeof(sc_window) / sizeof(sc_window[0]))

struct sc_private {
	struct th_barrier bar;
	uint64_t delta[2][SC_NWIN];
};

static void sc_private_cpu(unsigned cpu, void *arg)
{
	struct sc_private *s = arg;
	pmap_t pm = pmap_create();
	struct lwp *l = lwp_create(pm);
	lwp_switch(l);
	struct vm_page *pg = th_page();
	TH_CHECK(pg != NULL);
	vaddr_t va = SC_VA + ((vaddr_t)cpu << 32);
	for (uint64_t i = 0; i < SC_WARM; i++)
		sc_cycle(pm, va, pg, i);
	uint64_t before[SC_NWIN];
	th_barrier_wait(&s->bar);
	for (unsigned k = 0; k < SC_NWIN; k++)
		before[k] = sc_cpu_counter(sc_window[k], (int)cpu);
	th_barrier_wait(&s->bar);
	/* lockstep: both CPUs run cycle i, then meet, so every cycle of one
	 * overlaps one of the other's */
	for (uint64_t i = 0; i < SC_CYCLES; i++) {
		sc_cycle(pm, va, pg, i);
		th_barrier_wait(&s->bar);
	}
	for (unsigned k = 0; k < SC_NWIN; k++)
		s->delta[cpu][k] = sc_cpu_counter(sc_window[k], (int)cpu) - before[k];
	lwp_switch(NULL);
	lwp_destroy(l);
	pmap_destroy(pm);
	uvm_pagefree(pg);
}

static uint64_t sc_delta(const struct sc_private *s, unsigned cpu, const char *name)
{
	for (unsigned k = 0; k < SC_NWIN; k++)
		if (!strcmp(sc_window[k], name))
			return s->delta[cpu][k];
	fail_msg("%s is not in the window", name);
	return 0;
}

/*
 * Two CPUs, each in a pmap of its own, unmap in lockstep.  Each cycle
 * empties and frees three page-table pages (L3, L2, L1) and allocates three
 * again, as NetBSD's pmap does; none of them may go through the global free
 * list or its lock, and no lock may move between the CPUs.  Before issue
 * 17 every cycle took three frames from the free list and liburcu's
 * call_rcu worker put three back: phys.allocs was 3 per cycle per CPU.
 */
static void test_private_pmaps_share_nothing(void **state)
{
	(void)state;
	static const char *const sets[] = {"machine.cpus=2", "uvm.pagecache=percpu", NULL};
	th.m = th_boot(sets);
	struct sc_private s;
	memset(&s, 0, sizeof(s));
	th_barrier_init(&s.bar, 2);
	uint64_t foreign0 = sc_foreign_acquisitions();
	assert_int_equal(machine_run(th.m, 2, sc_private_cpu, &s), 0);
	assert_int_equal(th_failures(), 0);
	/* whatever a host thread would still do (liburcu's call_rcu worker
	 * before issue 17) is done now */
	sync_rcu_barrier();
	uint64_t foreign = sc_foreign_acquisitions() - foreign0;
	for (unsigned c = 0; c < 2; c++) {
		if (sc_delta(&s, c, "phys.allocs") != 0 || sc_delta(&s, c, "phys.frees") != 0)
			fail_msg("cpu%u: %" PRIu64 " frames taken from and %" PRIu64 " put back on the global free list in "
			         "%d cycles of a private pmap (want 0: page-table pages stay with the CPU)",
			    c, sc_delta(&s, c, "phys.allocs"), sc_delta(&s, c, "phys.frees"), SC_CYCLES);
		if (sc_delta(&s, c, "lock.pagefree.contentions") != 0 || sc_delta(&s, c, "lock.pagefree.bounces") != 0 ||
		    sc_delta(&s, c, "lock.pmap.bounces") != 0)
			fail_msg("cpu%u: pagefree contentions %" PRIu64 ", pagefree bounces %" PRIu64 ", pmap bounces %" PRIu64
			         " between CPUs that share nothing (want 0)",
			    c, sc_delta(&s, c, "lock.pagefree.contentions"), sc_delta(&s, c, "lock.pagefree.bounces"),
			    sc_delta(&s, c, "lock.pmap.bounces"));
	}
	if (foreign != 0)
		fail_msg("%" PRIu64 " simulated lock acquisitions by threads that are not CPUs (want 0)", foreign);
	for (unsigned c = 0; c < 2; c++) {
		/* NetBSD's model is kept: the tables still come and go ... */
		assert_int_equal(sc_delta(&s, c, "pmap.ptp_alloc"), 3 * SC_CYCLES);
		/* ... through the CPU's own cache, without asking anyone */
		assert_int_equal(sc_delta(&s, c, "pmap.ptp_cached"), 3 * SC_CYCLES);
		assert_int_equal(sc_delta(&s, c, "pmap.ptp_refills"), 0);
		assert_int_equal(sc_delta(&s, c, "pmap.ptp_spills"), 0);
		assert_int_equal(sc_delta(&s, c, "pmap.ptp_qs_requests"), 0);
		/* the pv entry each cycle enters is the one its last cycle
		 * removed, from the CPU's own cache (pv_get), not malloc */
		if (sc_delta(&s, c, "pmap.pv_alloc") != 0)
			fail_msg("cpu%u: %" PRIu64 " pv entries from the host allocator in %d cycles (want 0: the CPU "
			         "reuses the one it freed)",
			    c, sc_delta(&s, c, "pmap.pv_alloc"), SC_CYCLES);
	}
	machine_halt(th.m);
	th.m = NULL;
}

/* ---- a shared pmap: a retired page waits for the other CPU ---- */

struct sc_shared {
	pmap_t pm;
	_Atomic int phase;
	_Atomic int polls;        /* cpu1: interrupt points it may pass */
	paddr_t retired[4];       /* the page-table pages cpu0's unmap freed */
	unsigned nretired;
	_Atomic unsigned reused_early; /* one came back before cpu1 passed an interrupt point */
	_Atomic unsigned freed_early;  /* one was marked free meanwhile */
	_Atomic unsigned released;     /* free or reused after it */
};

/* The page-table pages that map va in pm (levels 3..1), read the way the
 * walker reads them. */
static unsigned sc_tables(pmap_t pm, vaddr_t va, paddr_t *out)
{
	unsigned n = 0;
	paddr_t table = pm->pm_root->phys_addr;
	for (int lvl = PTP_LEVELS; lvl > 1; lvl--) {
		pt_entry_t pde = atomic_load(pte_slot(machine_phys(table), pl_index(va, lvl)));
		if (!(pde & PTE_V))
			break;
		table = pte_pa(pde);
		out[n++] = table;
	}
	return n;
}

/* An unmap elsewhere in the pmap: enter, look at the tables, remove, update.
 * Returns the mask of s->retired pages among the tables it got. */
static unsigned sc_other_unmap(struct sc_shared *s, struct vm_page *pg, unsigned r)
{
	vaddr_t va = SC_VA + ((vaddr_t)(2 + r) << 39);
	paddr_t t[4];
	unsigned mask = 0;
	/* access type 0: the walker never marks it, so no IPI goes to cpu1 */
	TH_CHECK(pmap_enter(s->pm, va, VM_PAGE_TO_PHYS(pg), SC_RW, 0) == 0);
	unsigned n = sc_tables(s->pm, va, t);
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < s->nretired; j++)
			if (t[i] == s->retired[j])
				mask |= 1u << j;
	pmap_remove(s->pm, va, va + PAGE_SIZE);
	pmap_update(s->pm);
	return mask;
}

static void sc_shared_cpu(unsigned cpu, void *arg)
{
	struct sc_shared *s = arg;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	unsigned iter = 0;
	if (cpu == 1) {
		atomic_store(&s->phase, 1);
		/* a walk that takes forever: no interrupt point until cpu0 says */
		while (atomic_load(&s->polls) == 0)
			__builtin_ia32_pause();
		cpu_intr_poll();
		atomic_store(&s->phase, 3); /* seq_cst, after its quiescent state */
		while (atomic_load(&s->phase) != 4)
			cpu_spin_wait(&iter);
	} else {
		while (atomic_load(&s->phase) != 1)
			cpu_spin_wait(&iter);
		struct vm_page *pg = th_page();
		TH_CHECK(pg != NULL);
		vaddr_t va = SC_VA + ((vaddr_t)1 << 39); /* an L4 slot of its own: L3, L2, L1 go */
		TH_CHECK(pmap_enter(s->pm, va, VM_PAGE_TO_PHYS(pg), SC_RW, 0) == 0);
		pmap_update(s->pm);
		s->nretired = sc_tables(s->pm, va, s->retired);
		TH_CHECK(s->nretired == 3);
		pmap_remove(s->pm, va, va + PAGE_SIZE);
		pmap_update(s->pm);
		/* many allocations of tables elsewhere: none of the retired pages
		 * may come back, or even be marked free, while cpu1 may still be
		 * inside one */
		for (unsigned r = 0; r < 8; r++) {
			atomic_fetch_add(&s->reused_early, (unsigned)__builtin_popcount(sc_other_unmap(s, pg, r)));
			for (unsigned j = 0; j < s->nretired; j++)
				if (atomic_load(&PHYS_TO_VM_PAGE(s->retired[j])->flags) & PG_FREE)
					atomic_fetch_add(&s->freed_early, 1);
		}
		/* cpu1 passes one interrupt point: from the next update on, they
		 * are free (and the next allocation may take them) */
		atomic_store(&s->polls, 1);
		while (atomic_load(&s->phase) != 3)
			cpu_spin_wait(&iter);
		unsigned reused = sc_other_unmap(s, pg, 0);
		for (unsigned j = 0; j < s->nretired; j++)
			if ((reused & (1u << j)) || (atomic_load(&PHYS_TO_VM_PAGE(s->retired[j])->flags) & PG_FREE))
				atomic_fetch_add(&s->released, 1);
		atomic_store(&s->phase, 4);
		uvm_pagefree(pg);
	}
	lwp_switch(NULL);
	lwp_destroy(l);
}

/*
 * A pmap loaded on two CPUs: page-table pages one CPU frees stay out of
 * use until the other has passed an interrupt point (a quiescent state:
 * no walk in progress there), and are free from the freeing CPU's next
 * update after it.  The other CPU polls nothing meanwhile, as if one walk
 * took forever.  (Shown to fail with ptp_advance() treating every ticket
 * as passed.)
 */
static void test_shared_pmap_waits_for_quiescence(void **state)
{
	(void)state;
	/* a strategy that sends no IPI for never-accessed PTEs (cpu1 takes none) */
	static const char *const sets[] = {"machine.cpus=2", "shootdown.strategy=netbsd-x86", NULL};
	th.m = th_boot(sets);
	struct sc_shared s;
	memset(&s, 0, sizeof(s));
	assert_int_equal(cpu_attach(th.m, 0), 0);
	s.pm = pmap_create();
	cpu_detach();
	uint64_t asks0 = th_counter("pmap.ptp_qs_requests");
	assert_int_equal(machine_run(th.m, 2, sc_shared_cpu, &s), 0);
	assert_int_equal(th_failures(), 0);
	assert_int_equal(s.nretired, 3);
	if (atomic_load(&s.reused_early) != 0 || atomic_load(&s.freed_early) != 0)
		fail_msg("page-table pages reused %u times (marked free %u times) while a CPU that had the pmap loaded "
		         "had passed no interrupt point since they were unlinked (want 0)",
		    atomic_load(&s.reused_early), atomic_load(&s.freed_early));
	assert_int_equal(atomic_load(&s.released), 3);
	assert_true(th_counter("pmap.ptp_qs_requests") > asks0);
	assert_int_equal(cpu_attach(th.m, 0), 0);
	pmap_destroy(s.pm);
	cpu_detach();
	machine_halt(th.m);
	th.m = NULL;
}

/* ---- netbsd-x86: a short request travels with the IPI ---- */

struct sc_x86 {
	pmap_t pm;
	struct th_barrier bar;
	struct vm_page *pg;
	unsigned npages[3];
	uint64_t reads[3], ipis[3];
};

static void sc_x86_cpu(unsigned cpu, void *arg)
{
	struct sc_x86 *s = arg;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	for (unsigned r = 0; r < 3; r++) {
		unsigned n = s->npages[r];
		if (cpu == 0) {
			for (unsigned i = 0; i < n; i++)
				TH_CHECK(pmap_enter(s->pm, SC_VA + ptoa(i), VM_PAGE_TO_PHYS(s->pg), SC_RW, 0) == 0);
			pmap_update(s->pm);
		}
		th_barrier_wait(&s->bar);
		if (cpu == 1) { /* cache every page: the removal must shoot cpu1 */
			uint64_t v;
			for (unsigned i = 0; i < n; i++)
				TH_CHECK(mmu_load(SC_VA + ptoa(i), &v) == 0);
		}
		th_barrier_wait(&s->bar);
		if (cpu == 0) {
			uint64_t r0 = sc_cpu_counter("shootdown.x86.packet_reads", 1), i0 = sc_cpu_counter("ipi.sent", 0);
			pmap_remove(s->pm, SC_VA, SC_VA + ptoa(n));
			pmap_update(s->pm);
			s->ipis[r] = sc_cpu_counter("ipi.sent", 0) - i0;
			th_barrier_wait(&s->bar); /* cpu1 has acknowledged: its counter is final */
			s->reads[r] = sc_cpu_counter("shootdown.x86.packet_reads", 1) - r0;
		} else {
			th_barrier_wait(&s->bar);
		}
		th_barrier_wait(&s->bar);
	}
	lwp_switch(NULL);
	lwp_destroy(l);
}

/*
 * netbsd-x86's cache-line budget (core/shootdown/netbsd_x86.c): a request
 * of up to two addresses is written into the target's mailbox line with
 * the IPI, so the target reads no line of the initiator's packet; a longer
 * one sends its header there and the target copies the packet.  Before
 * issue 17 every target read the packet (and the pending mask beside it).
 */
static void test_netbsd_x86_request_rides_the_ipi(void **state)
{
	(void)state;
	static const char *const sets[] = {"machine.cpus=2", "shootdown.strategy=netbsd-x86", NULL};
	th.m = th_boot(sets);
	struct sc_x86 s = {.npages = {1, 2, 3}};
	th_barrier_init(&s.bar, 2);
	assert_int_equal(cpu_attach(th.m, 0), 0);
	s.pm = pmap_create();
	s.pg = th_page();
	cpu_detach();
	assert_int_equal(machine_run(th.m, 2, sc_x86_cpu, &s), 0);
	assert_int_equal(th_failures(), 0);
	for (unsigned r = 0; r < 3; r++) {
		assert_int_equal(s.ipis[r], 1);
		if (s.reads[r] != (s.npages[r] > 2 ? 1 : 0))
			fail_msg("a %u-page shootdown made its target read the initiator's packet %" PRIu64 " times (want %u)",
			    s.npages[r], s.reads[r], s.npages[r] > 2 ? 1 : 0);
	}
	assert_int_equal(cpu_attach(th.m, 0), 0);
	uvm_pagefree(s.pg);
	pmap_destroy(s.pm);
	cpu_detach();
	machine_halt(th.m);
	th.m = NULL;
}

/* ---- interrupts inside the pmap's lock ---- */

/*
 * NetBSD holds pm_lock with interrupts enabled, so a CPU inside
 * pmap_enter(), pmap_remove() or pmap_protect() takes a shootdown IPI
 * there; the model takes IPIs at interrupt points, and these operations
 * pass one at their start and one inside the lock after each entry they
 * look up or change (core/pmap/pmap.c, "Interrupts").  Before, only the one
 * at the start: a shootdown aimed at a CPU holding the lock waited for its
 * release (docs/performance.md, section 13).  Counted by the CPU's
 * interrupt points outside waits (ci_progress), one CPU, no clock.
 */
static void test_pmap_takes_interrupts_inside_its_lock(void **state)
{
	(void)state;
	static const char *const sets[] = {"machine.cpus=1", NULL};
	th.m = th_boot(sets);
	assert_int_equal(cpu_attach(th.m, 0), 0);
	struct cpu_info *ci = curcpu();
	pmap_t pm = pmap_create();
	enum { N = 4 };
	const vaddr_t va = 0x40000000;
	struct vm_page *pg[N];
	for (unsigned i = 0; i < N; i++)
		pg[i] = th_page();
	uint64_t p0 = atomic_load(&ci->ci_progress);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(pmap_enter(pm, va + ptoa(i), VM_PAGE_TO_PHYS(pg[i]), VM_PROT_READ | VM_PROT_WRITE, 0), 0);
	uint64_t p1 = atomic_load(&ci->ci_progress);
	assert_int_equal(p1 - p0, 2 * N); /* each: its start, and inside the lock */
	pmap_update(pm);
	p1 = atomic_load(&ci->ci_progress);
	pmap_protect(pm, va, va + ptoa(N), VM_PROT_READ);
	uint64_t p2 = atomic_load(&ci->ci_progress);
	assert_int_equal(p2 - p1, 1 + N); /* its start, and after each entry it changed */
	pmap_update(pm);
	p2 = atomic_load(&ci->ci_progress);
	pmap_remove(pm, va, va + ptoa(N));
	uint64_t p3 = atomic_load(&ci->ci_progress);
	assert_int_equal(p3 - p2, 1 + N); /* its start, and after each entry it removed */
	pmap_update(pm);
	for (unsigned i = 0; i < N; i++)
		uvm_pagefree(pg[i]);
	pmap_destroy(pm);
	cpu_detach();
	machine_halt(th.m);
	th.m = NULL;
}

/* ---- the wait policy ---- */

/*
 * A wait yields the host CPU past machine.spin turns only where a yield can
 * help: when another attached CPU is placed on the same host PU.  A CPU
 * pinned alone on its PU never yields (what it waits for runs elsewhere).
 * Before issue 17 every wait yielded from its 64th turn on, a few
 * microseconds into it; the count of yields, not the clock, decides here.
 */
struct wy_peer {
	struct machine *m;
	_Atomic int state; /* 1: attached, 2: may detach */
};

static void *wy_peer_main(void *arg)
{
	struct wy_peer *p = arg;
	if (topo_bind_thread(1) != 0 || cpu_attach(p->m, 1) != 0) {
		atomic_store(&p->state, -1);
		return NULL;
	}
	atomic_store(&p->state, 1);
	while (atomic_load(&p->state) != 2) /* attached, not polling: a blocked CPU */
		usleep(1000);
	cpu_detach();
	return NULL;
}

static uint64_t wy_yields(unsigned turns)
{
	uint64_t y0 = th_counter("cpu.yields");
	unsigned iter = 0;
	while (iter < turns)
		cpu_spin_wait(&iter);
	return th_counter("cpu.yields") - y0;
}

static void test_wait_yields_only_where_it_helps(void **state)
{
	(void)state;
	const unsigned spin = 64;
	/* alone on its PU: never */
	static const char *const alone[] = {"machine.cpus=1", "machine.spin=64", NULL};
	th.m = th_boot(alone);
	/* bound as machine_run() binds its threads */
	if (topo_bind_thread(0) != 0) {
		machine_halt(th.m);
		th.m = NULL;
		skip(); /* the host refused the binding: then every wait may yield */
	}
	assert_int_equal(cpu_attach(th.m, 0), 0);
	assert_int_equal(wy_yields(spin + 256), 0);
	cpu_detach();
	machine_halt(th.m);
	/* two CPUs placed on one PU: yields only while the other is attached */
	static const char *const shared[] = {"machine.cpus=2", "machine.placement=list:0", "machine.spin=64", NULL};
	th.m = th_boot(shared);
	assert_int_equal(topo_bind_thread(0), 0);
	assert_int_equal(cpu_attach(th.m, 0), 0);
	assert_int_equal(wy_yields(spin + 32), 0); /* CPU 1 is not attached */
	struct wy_peer p = {.m = th.m};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, wy_peer_main, &p), 0);
	while (atomic_load(&p.state) == 0)
		usleep(1000);
	assert_int_equal(atomic_load(&p.state), 1);
	uint64_t y = wy_yields(spin + 32);
	atomic_store(&p.state, 2);
	pthread_join(t, NULL);
	assert_true(y >= 31); /* (about) every turn past machine.spin */
	cpu_detach();
	machine_halt(th.m);
	th.m = NULL;
}

/* A failed assert leaves the machine up: halt it for the next test. */
static int sc_teardown(void **state)
{
	(void)state;
	if (th.m != NULL) {
		if (cpu_attached())
			cpu_detach();
		machine_halt(th.m);
		th.m = NULL;
	}
	(void)th_failures();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_private_pmaps_share_nothing, sc_teardown),
		cmocka_unit_test_teardown(test_shared_pmap_waits_for_quiescence, sc_teardown),
		cmocka_unit_test_teardown(test_netbsd_x86_request_rides_the_ipi, sc_teardown),
		cmocka_unit_test_teardown(test_pmap_takes_interrupts_inside_its_lock, sc_teardown),
		cmocka_unit_test_teardown(test_wait_yields_only_where_it_helps, sc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
