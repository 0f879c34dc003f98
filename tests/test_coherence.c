/*
 * test_coherence.c — multi-CPU coherence of pmap(9) over the simulated
 * machine: what a remote CPU may still see after an initiator's
 * pmap_update() (or a synchronous page operation) returned.
 *
 * Every test runs 2-4 simulated CPUs with machine_run().  The initiator
 * changes mappings and publishes a round number only after pmap_update()
 * returned; an observer that sees the round number does its next access
 * without passing an interrupt point in between, so a stale TLB entry left
 * behind by a pmap_update() that did not wait for every acknowledgement is
 * used, and caught.  Every wait loop in a CPU thread goes through
 * cpu_spin_wait() (it takes IPIs), and cmocka asserts are used only on the
 * test's own thread: CPU threads report with CT_CHECK (TH_CHECK's counter,
 * plus a message, printed for the first failures only).
 *
 * A watchdog (SIGALRM) turns a deadlock into a failure with a message.
 */
#include "harness.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <unistd.h>

#include <pmapstorm/lock.h>
#include <pmapstorm/shootdown.h>

#define CT_WATCHDOG_S 300 /* per test: a guard against hangs the machine watchdog misses; generous for TSan on a loaded host */
#define CT_RW (VM_PROT_READ | VM_PROT_WRITE)
#define CT_VA ((vaddr_t)0x10000000ULL) /* user addresses the tests use */

/* ---- checks on CPU threads ---- */

#define CT_CHECK(cond, ...) TH_CHECKF(cond, __VA_ARGS__)

/* ---- fixture: one machine per test, booted with the test's overrides ---- */

static struct machine *ct_m;
/* the strategy of this test: its name, its registry entry, and whether removals complete lazily */
static const char *ct_strategy = "netbsd-x86";
static const struct shootdown_strategy *ct_sd;
static bool ct_lazy;
/*
 * Rounds.  Every round's checks are exact; rounds add interleavings, not
 * verdicts.  Cases with three or four CPUs oversubscribe a 2-core host, so
 * each hand-off between CPUs that share a host PU can cost a host time
 * slice when the host is busy: those run fewer rounds in the quick tier
 * (about a fifth of what they ran before issue 14), and CT_SCALE=n runs n
 * times as many (test_coherence_soak, label long, runs CT_SCALE=5).
 */
static uint64_t ct_scale = 1; /* CT_SCALE=n in the environment: n times the rounds (soak runs) */
#define ROUNDS(n) ((uint64_t)(n) * ct_scale)

/* what a lazy wait waits for (ct_expect_gone), or NULL; relaxed: only the
 * watchdog's message reads it */
static const char *_Atomic ct_waiting;

static void ct_watchdog(int sig)
{
	(void)sig;
	static const char msg[] = "test_coherence: watchdog: the test ran past its time limit (deadlock?)\n";
	ssize_t n = write(2, msg, sizeof(msg) - 1);
	/* a lazy strategy's stale entry that never went away (ct_expect_gone) */
	const char *w = atomic_load_explicit(&ct_waiting, memory_order_relaxed);
	if (w != NULL) {
		static const char pre[] = "test_coherence: a stale translation never dropped: ";
		n = write(2, pre, sizeof(pre) - 1);
		n = write(2, w, strlen(w));
		n = write(2, "\n", 1);
	}
	(void)n;
	_exit(3);
}

/* *state: NULL or a NULL-terminated "key=value" list (cmocka prestate) */
static int ct_setup(void **state)
{
	ct_m = th_boot((const char *const *)*state);
	ct_strategy = machine_config_of(ct_m)->mc_strategy;
	ct_sd = shootdown_find(ct_strategy);
	ct_lazy = ct_sd != NULL && ct_sd->sd_lazy;
	(void)th_failures();
	alarm(CT_WATCHDOG_S);
	return 0;
}

static int ct_teardown(void **state)
{
	(void)state;
	alarm(0);
	if (ct_m != NULL)
		machine_halt(ct_m);
	ct_m = NULL;
	return 0;
}

static const char *const sets_pcid_on[] = {"mmu.pcid=on", NULL};
static const char *const sets_pcid_off[] = {"mmu.pcid=off", NULL};
static const char *const sets_refmod_hw[] = {"mmu.refmod=hardware", NULL};
static const char *const sets_refmod_sw[] = {"mmu.refmod=software", NULL};
static const char *const sets_sw_pcid_off[] = {"mmu.refmod=software", "mmu.pcid=off", NULL};
static const char *const sets_small_tlb[] = {"tlb.entries=16", "tlb.ways=2", NULL};

/* pmap_create()/pmap_destroy() need a CPU: borrow CPU 0 while no run is on */
static pmap_t ct_pmap_create(void)
{
	assert_int_equal(cpu_attach(ct_m, 0), 0);
	pmap_t pm = pmap_create();
	cpu_detach();
	return pm;
}

/* Removes what is left in [CT_VA, CT_VA + 64M), checks, destroys. */
static void ct_pmap_destroy(pmap_t pm)
{
	assert_int_equal(cpu_attach(ct_m, 0), 0);
	pmap_remove(pm, CT_VA, CT_VA + (64ULL << 20));
	pmap_update(pm);
	assert_int_equal(pmap_check(pm), 0);
	assert_int_equal(pmap_resident_count(pm), 0);
	pmap_destroy(pm);
	cpu_detach();
}

static void ct_run(unsigned ncpu, machine_cpu_fn fn, void *arg)
{
	assert_int_equal(machine_run(ct_m, ncpu, fn, arg), 0);
	assert_int_equal(th_failures(), 0);
}

static const struct stats_counter *ct_counter(const char *name)
{
	const struct stats_counter *c = stats_counter_find(name);
	if (c == NULL)
		fail_msg("no counter %s", name);
	return c;
}

/* ---- helpers for CPU threads ---- */

static struct vm_page *ct_page(void)
{
	struct vm_page *pg = th_page();
	if (pg == NULL)
		panic("test_coherence: out of simulated pages");
	return pg;
}

static uint64_t ct_mark(unsigned tag, uint64_t round, unsigned idx)
{
	return 0x5eed000000000000ULL | ((uint64_t)tag << 40) | (round << 8) | idx;
}

/* Writes the frame's marker word through the direct map (no TLB involved). */
static void ct_fill(struct vm_page *pg, uint64_t mark)
{
	int e = mmu_store(PMAP_MAP_POOLPAGE(VM_PAGE_TO_PHYS(pg)), mark);
	CT_CHECK(e == 0, "direct-map store: %d", e);
}

static uint64_t ct_frame_word(struct vm_page *pg)
{
	uint64_t v = 0;
	int e = mmu_load(PMAP_MAP_POOLPAGE(VM_PAGE_TO_PHYS(pg)), &v);
	CT_CHECK(e == 0, "direct-map load: %d", e);
	return v;
}

/* Waits (taking IPIs) until *p >= v. */
static void ct_wait_ge(_Atomic uint64_t *p, uint64_t v)
{
	unsigned iter = 0;
	while (atomic_load(p) < v)
		cpu_spin_wait(&iter);
}

/* Expects va to translate and hold `want`. */
static void ct_expect_value(vaddr_t va, uint64_t want, const char *what, uint64_t round)
{
	uint64_t v = 0;
	int e = mmu_load(va, &v);
	CT_CHECK(e == 0 && v == want, "%s, round %" PRIu64 ": load %#" PRIx64 " gave %d, value %#" PRIx64
	    " (want %#" PRIx64 ")", what, round, va, e, v, want);
}

static void ct_expect_fault(vaddr_t va, const char *what, uint64_t round)
{
	uint64_t v = 0;
	int e = mmu_load(va, &v);
	CT_CHECK(e == EFAULT, "%s, round %" PRIu64 ": load %#" PRIx64 " gave %d (value %#" PRIx64
	    "), not EFAULT: stale translation", what, round, va, e, v);
}

/*
 * After a remote removal: the next access faults.  With a lazy strategy
 * (sd_lazy: netbsd-mi, latr) the translation may survive until this CPU's
 * next interrupt point, tick or switch — but only ever onto the old frame,
 * which must not have been reused: the access reads `mark` or faults, and
 * it faults once this CPU has taken enough interrupt points (its tick
 * sweeps).  No clock bounds the wait (a loaded host may not run this
 * thread for a while); a strategy that never drops the entry hangs here,
 * and the test's watchdog (CT_WATCHDOG_S) ends it, naming this wait.
 */
static void ct_expect_gone(vaddr_t va, uint64_t mark, const char *what, uint64_t round)
{
	if (!ct_lazy) {
		ct_expect_fault(va, what, round);
		return;
	}
	unsigned iter = 0;
	atomic_store_explicit(&ct_waiting, what, memory_order_relaxed);
	for (;;) {
		uint64_t v = 0;
		int e = mmu_load(va, &v);
		if (e == EFAULT)
			break;
		CT_CHECK(e == 0 && v == mark, "%s, round %" PRIu64 ": load %#" PRIx64 " gave %d, value %#" PRIx64
		    " (old frame held %#" PRIx64 "): a stale translation reached a reused frame", what, round, va, e, v, mark);
		if (e != 0 || v != mark)
			break;
		cpu_spin_wait(&iter);
	}
	atomic_store_explicit(&ct_waiting, NULL, memory_order_relaxed);
}

static bool ct_is(const char *name)
{
	return strcmp(ct_strategy, name) == 0;
}

/* The IPIs a removal's pmap_update() sends when the pmap is active on
 * `active` other CPUs and `filled` of them cached the translation: what
 * the strategy's registry entry says it interrupts (sd_remove_targets). */
static uint64_t ct_remove_ipis(unsigned active, unsigned filled)
{
	switch (ct_sd->sd_remove_targets) {
	case SD_TARGETS_PMAP:
		return active;
	case SD_TARGETS_FILLED:
		return filled;
	case SD_TARGETS_NONE:
		return 0;
	}
	CT_CHECK(0, "%s: sd_remove_targets %d is not one this test knows", ct_strategy, (int)ct_sd->sd_remove_targets);
	return UINT64_MAX;
}

/* A quiescent point: nobody changes mappings between the two barriers. */
static void ct_quiescent(struct th_barrier *b, unsigned cpu, pmap_t pm)
{
	th_barrier_wait(b);
	int bad = tlb_check();
	CT_CHECK(bad == 0, "tlb_check found %d bad entries", bad);
	if (cpu == 0 && pm != NULL) {
		bad = pmap_check(pm);
		CT_CHECK(bad == 0, "pmap_check found %d problems", bad);
	}
	th_barrier_wait(b);
}

/* ================================================================
 * 1 / 9. A remote CPU faults after the initiator's pmap_remove + pmap_update.
 * ================================================================ */

struct rm_run {
	pmap_t pm;
	unsigned ncpu;
	uint64_t rounds;
	struct th_barrier bar;
	_Atomic uint64_t mapped, loaded, removed, checked;
};

static void rm_cpu(unsigned cpu, void *arg)
{
	struct rm_run *s = arg;
	const unsigned nobs = s->ncpu - 1;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	struct vm_page *prev = NULL;
	for (uint64_t r = 1; r <= s->rounds; r++) {
		vaddr_t va = CT_VA + ptoa(r % 8);
		uint64_t mark = ct_mark(1, r, 0);
		if (cpu == 0) {
			/* a fresh frame, never the previous round's (that one is freed
			 * only now, after its removal was completed) */
			struct vm_page *pg = ct_page();
			ct_fill(pg, mark);
			CT_CHECK(pmap_enter(s->pm, va, VM_PAGE_TO_PHYS(pg), CT_RW, 0) == 0, "pmap_enter");
			pmap_update(s->pm);
			if (prev != NULL)
				uvm_pagefree(prev);
			prev = pg;
			atomic_store(&s->mapped, r);
			ct_wait_ge(&s->loaded, r * nobs);
			ct_expect_value(va, mark, "initiator before remove", r);
			pmap_remove(s->pm, va, va + PAGE_SIZE);
			pmap_update(s->pm);
			ct_expect_fault(va, "initiator after its own pmap_update", r);
			atomic_store(&s->removed, r);
			ct_wait_ge(&s->checked, r * nobs);
		} else {
			ct_wait_ge(&s->mapped, r);
			for (int k = 0; k < 4; k++)
				ct_expect_value(va, mark, "observer before remove", r);
			atomic_fetch_add(&s->loaded, 1);
			/* keep the translation cached while waiting; the first access
			 * after the round number is seen must fault */
			unsigned iter = 0;
			uint64_t v;
			while (atomic_load(&s->removed) < r) {
				(void)mmu_load(va, &v);
				cpu_spin_wait(&iter);
			}
			ct_expect_gone(va, mark, "observer after remote pmap_remove+pmap_update", r);
			int e = mmu_store(va, 1);
			CT_CHECK(e == EFAULT, "round %" PRIu64 ": store after removal gave %d", r, e);
			atomic_fetch_add(&s->checked, 1);
		}
		if (r % 100 == 0)
			ct_quiescent(&s->bar, cpu, s->pm);
	}
	ct_quiescent(&s->bar, cpu, s->pm);
	lwp_switch(NULL);
	lwp_destroy(l);
	if (prev != NULL)
		uvm_pagefree(prev);
}

static void rm_test(unsigned ncpu, uint64_t rounds)
{
	struct rm_run s = {.ncpu = ncpu, .rounds = rounds};
	th_barrier_init(&s.bar, ncpu);
	s.pm = ct_pmap_create();
	ct_run(ncpu, rm_cpu, &s);
	ct_pmap_destroy(s.pm);
}

/* 2 CPUs, many rounds; run with mmu.pcid on and off (prestate) */
static void test_remote_fault_after_remove(void **state)
{
	(void)state;
	rm_test(2, ROUNDS(600)); /* a lazy strategy waits a tick (1 ms) in each */
}

/* every other CPU observes: the shootdown reaches all of them */
static void test_remote_fault_after_remove_4cpu(void **state)
{
	(void)state;
	rm_test(4, ROUNDS(120));
}

/* ================================================================
 * 2. pmap_protect(READ) + pmap_update: remote writes fault, reads work.
 * ================================================================ */

struct prot_run {
	pmap_t pm;
	uint64_t rounds;
	_Atomic uint64_t mapped, written, protected_, checked;
	struct th_barrier bar;
};

static void prot_cpu(unsigned cpu, void *arg)
{
	struct prot_run *s = arg;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	for (uint64_t r = 1; r <= s->rounds; r++) {
		vaddr_t va = CT_VA + ptoa(r % 8);
		uint64_t mark = ct_mark(2, r, 0);
		if (cpu == 0) {
			struct vm_page *pg = ct_page();
			CT_CHECK(pmap_enter(s->pm, va, VM_PAGE_TO_PHYS(pg), CT_RW, 0) == 0, "pmap_enter");
			pmap_update(s->pm);
			atomic_store(&s->mapped, r);
			ct_wait_ge(&s->written, r);
			CT_CHECK(ct_frame_word(pg) == mark, "round %" PRIu64 ": CPU 1's store did not reach the frame", r);
			CT_CHECK(pmap_is_modified(pg), "round %" PRIu64 ": written page not modified", r);
			pmap_protect(s->pm, va, va + PAGE_SIZE, VM_PROT_READ);
			pmap_update(s->pm);
			int e = mmu_store(va, 0xbad);
			CT_CHECK(e == EACCES, "round %" PRIu64 ": initiator store after protect gave %d", r, e);
			atomic_store(&s->protected_, r);
			ct_wait_ge(&s->checked, r);
			CT_CHECK(ct_frame_word(pg) == mark, "round %" PRIu64 ": a store went through a read-only mapping", r);
			pmap_remove(s->pm, va, va + PAGE_SIZE);
			pmap_update(s->pm);
			uvm_pagefree(pg);
		} else {
			ct_wait_ge(&s->mapped, r);
			int e = mmu_store(va, mark); /* caches a writable, dirty entry */
			CT_CHECK(e == 0, "round %" PRIu64 ": store to a RW mapping gave %d", r, e);
			ct_expect_value(va, mark, "observer before protect", r);
			atomic_store(&s->written, r);
			unsigned iter = 0;
			while (atomic_load(&s->protected_) < r)
				cpu_spin_wait(&iter);
			e = mmu_store(va, 0xbad);
			CT_CHECK(e == EACCES, "round %" PRIu64 ": store after remote pmap_protect(READ)+pmap_update gave %d", r, e);
			ct_expect_value(va, mark, "observer read after protect", r);
			atomic_store(&s->checked, r);
		}
	}
	ct_quiescent(&s->bar, cpu, s->pm);
	lwp_switch(NULL);
	lwp_destroy(l);
}

static void test_remote_write_fault_after_protect(void **state)
{
	(void)state;
	struct prot_run s = {.rounds = ROUNDS(1500)};
	th_barrier_init(&s.bar, 2);
	s.pm = ct_pmap_create();
	ct_run(2, prot_cpu, &s);
	ct_pmap_destroy(s.pm);
}

/* ================================================================
 * 3. pmap_page_protect(NONE / READ): complete when it returns, no
 *    pmap_update; every mapping of the page (two in one pmap, one in another).
 * ================================================================ */

struct pp_run {
	pmap_t pm, pm2;
	vm_prot_t prot;
	uint64_t rounds;
	_Atomic uint64_t mapped, loaded, done, checked;
	struct th_barrier bar;
};

#define PP_VA2 (CT_VA + ptoa(16)) /* second mapping in pm */
#define PP_VA3 (CT_VA + ptoa(40)) /* the mapping in pm2 */

static void pp_cpu(unsigned cpu, void *arg)
{
	struct pp_run *s = arg;
	struct lwp *l = lwp_create(cpu == 2 ? s->pm2 : s->pm);
	lwp_switch(l);
	for (uint64_t r = 1; r <= s->rounds; r++) {
		uint64_t mark = ct_mark(3, r, 0);
		if (cpu == 0) {
			struct vm_page *pg = ct_page();
			paddr_t pa = VM_PAGE_TO_PHYS(pg);
			ct_fill(pg, mark);
			CT_CHECK(pmap_enter(s->pm, CT_VA, pa, CT_RW, 0) == 0, "pmap_enter");
			CT_CHECK(pmap_enter(s->pm, PP_VA2, pa, CT_RW, 0) == 0, "pmap_enter");
			CT_CHECK(pmap_enter(s->pm2, PP_VA3, pa, CT_RW, 0) == 0, "pmap_enter");
			pmap_update(s->pm);
			pmap_update(s->pm2);
			atomic_store(&s->mapped, r);
			ct_wait_ge(&s->loaded, 2 * r);
			pmap_page_protect(pg, s->prot); /* no pmap_update: complete on return */
			atomic_store(&s->done, r);
			if (s->prot == VM_PROT_NONE) {
				CT_CHECK(pmap_resident_count(s->pm) == 0 && pmap_resident_count(s->pm2) == 0,
				    "round %" PRIu64 ": mappings left after pmap_page_protect(NONE)", r);
				CT_CHECK(!pmap_extract(s->pm, CT_VA, NULL), "mapping still extractable");
			}
			ct_wait_ge(&s->checked, 2 * r);
			CT_CHECK(ct_frame_word(pg) == mark, "round %" PRIu64 ": a store went through a revoked mapping", r);
			if (s->prot != VM_PROT_NONE) {
				pmap_remove(s->pm, CT_VA, PP_VA2 + PAGE_SIZE);
				pmap_remove(s->pm2, PP_VA3, PP_VA3 + PAGE_SIZE);
				pmap_update(s->pm);
				pmap_update(s->pm2);
			}
			uvm_pagefree(pg);
		} else if (cpu <= 2) {
			vaddr_t mine[2] = {CT_VA, PP_VA2};
			unsigned n = cpu == 1 ? 2 : 1;
			if (cpu == 2)
				mine[0] = PP_VA3;
			ct_wait_ge(&s->mapped, r);
			for (unsigned i = 0; i < n; i++) {
				int e = mmu_store(mine[i], mark); /* writable + dirty entries */
				CT_CHECK(e == 0, "round %" PRIu64 ": store gave %d", r, e);
				ct_expect_value(mine[i], mark, "before page_protect", r);
			}
			atomic_fetch_add(&s->loaded, 1);
			unsigned iter = 0;
			while (atomic_load(&s->done) < r)
				cpu_spin_wait(&iter);
			for (unsigned i = 0; i < n; i++) {
				int e = mmu_store(mine[i], 0xbad);
				if (s->prot == VM_PROT_NONE) {
					CT_CHECK(e == EFAULT, "round %" PRIu64 ": store after page_protect(NONE) gave %d", r, e);
					ct_expect_fault(mine[i], "after remote pmap_page_protect(NONE)", r);
				} else {
					CT_CHECK(e == EACCES, "round %" PRIu64 ": store after page_protect(READ) gave %d", r, e);
					ct_expect_value(mine[i], mark, "after remote pmap_page_protect(READ)", r);
				}
			}
			atomic_fetch_add(&s->checked, 1);
		}
	}
	ct_quiescent(&s->bar, cpu, s->pm);
	if (cpu == 0) {
		int bad = pmap_check(s->pm2);
		CT_CHECK(bad == 0, "pmap_check(pm2) found %d", bad);
	}
	th_barrier_wait(&s->bar);
	lwp_switch(NULL);
	lwp_destroy(l);
}

static void pp_test(vm_prot_t prot)
{
	struct pp_run s = {.rounds = ROUNDS(200), .prot = prot};
	th_barrier_init(&s.bar, 3);
	s.pm = ct_pmap_create();
	s.pm2 = ct_pmap_create();
	ct_run(3, pp_cpu, &s);
	ct_pmap_destroy(s.pm2);
	ct_pmap_destroy(s.pm);
}

static void test_page_protect_none_remote(void **state)
{
	(void)state;
	pp_test(VM_PROT_NONE);
}

static void test_page_protect_read_remote(void **state)
{
	(void)state;
	pp_test(VM_PROT_READ);
}

/* ================================================================
 * 4. The modified attribute is never lost: a write that started after
 *    pmap_clear_modify() returned is seen by pmap_is_modified().
 * ================================================================ */

struct mod_run {
	pmap_t pm;
	struct vm_page *pg;
	uint64_t rounds;
	_Atomic uint64_t epoch;
	_Atomic uint64_t wrote[3]; /* per writer: the epoch read before its last completed store */
	_Atomic int stop;
	struct th_barrier bar;
};

static void mod_cpu(unsigned cpu, void *arg)
{
	struct mod_run *s = arg;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	if (cpu == 0) {
		s->pg = ct_page();
		CT_CHECK(pmap_enter(s->pm, CT_VA, VM_PAGE_TO_PHYS(s->pg), CT_RW, 0) == 0, "pmap_enter");
		pmap_update(s->pm);
		(void)pmap_clear_modify(s->pg);
		CT_CHECK(!pmap_is_modified(s->pg), "modified right after clear, with no writer");
	}
	th_barrier_wait(&s->bar);
	if (cpu == 0) {
		for (uint64_t e = 1; e <= s->rounds; e++) {
			bool was = pmap_clear_modify(s->pg);
			/* the previous epoch had a completed write (we waited for it) */
			CT_CHECK(e == 1 || was, "epoch %" PRIu64 ": pmap_clear_modify says unmodified after a write", e);
			atomic_store(&s->epoch, e);
			/* wait for a store that read this epoch (so it started after the clear) */
			unsigned w = 1 + (unsigned)(e % 2);
			ct_wait_ge(&s->wrote[w], e);
			CT_CHECK(pmap_is_modified(s->pg),
			    "epoch %" PRIu64 ": cpu%u wrote after pmap_clear_modify returned, pmap_is_modified is false", e, w);
		}
		atomic_store(&s->stop, 1);
	} else {
		unsigned iter = 0;
		while (!atomic_load(&s->stop)) {
			uint64_t e = atomic_load(&s->epoch);
			int err = mmu_store(CT_VA + 8 * cpu, e);
			CT_CHECK(err == 0, "store gave %d", err);
			atomic_store(&s->wrote[cpu], e);
			cpu_spin_wait(&iter); /* takes the clears' shootdowns */
			if (iter > 64)
				iter = 32; /* yield now and then, not every turn */
		}
	}
	ct_quiescent(&s->bar, cpu, s->pm);
	if (cpu == 0) {
		pmap_remove(s->pm, CT_VA, CT_VA + PAGE_SIZE);
		pmap_update(s->pm);
		/* an attribute of the page: kept after the mapping is gone */
		CT_CHECK(pmap_is_modified(s->pg), "modified attribute lost with the mapping");
		CT_CHECK(pmap_clear_modify(s->pg), "pmap_clear_modify of a modified page returned false");
		CT_CHECK(!pmap_is_modified(s->pg), "modified after clear with no mapping");
		uvm_pagefree(s->pg);
	}
	th_barrier_wait(&s->bar);
	lwp_switch(NULL);
	lwp_destroy(l);
}

/* run with mmu.refmod = hardware and software (prestate) */
static void test_modified_never_lost(void **state)
{
	(void)state;
	struct mod_run s = {.rounds = ROUNDS(400)};
	th_barrier_init(&s.bar, 3);
	s.pm = ct_pmap_create();
	ct_run(3, mod_cpu, &s);
	ct_pmap_destroy(s.pm);
}

/* ================================================================
 * 5. Kernel mappings: pmap_kenter_pa is seen by every CPU; after
 *    pmap_kremove + pmap_update every other CPU faults (all are targets,
 *    including one that never ran a user pmap).
 * ================================================================ */

struct k_run {
	pmap_t pm;
	uint64_t rounds;
	vaddr_t kva;
	_Atomic uint64_t mapped, loaded, removed, checked;
	struct th_barrier bar;
};

static void k_cpu(unsigned cpu, void *arg)
{
	struct k_run *s = arg;
	const unsigned nobs = 3;
	struct lwp *l = NULL;
	if (cpu == 1 || cpu == 2) { /* CPU 3 stays in the kernel only */
		l = lwp_create(s->pm);
		lwp_switch(l);
	}
	if (cpu == 0) {
		vaddr_t vs, ve;
		pmap_virtual_space(&vs, &ve);
		s->kva = vs + (2ULL << 20);
	}
	th_barrier_wait(&s->bar);
	struct vm_page *prev = NULL;
	for (uint64_t r = 1; r <= s->rounds; r++) {
		vaddr_t kva = s->kva + ptoa(r % 4);
		uint64_t mark = ct_mark(5, r, 0);
		if (cpu == 0) {
			struct vm_page *pg = ct_page();
			ct_fill(pg, mark);
			pmap_kenter_pa(kva, VM_PAGE_TO_PHYS(pg), CT_RW, 0);
			pmap_update(pmap_kernel());
			if (prev != NULL)
				uvm_pagefree(prev);
			prev = pg;
			atomic_store(&s->mapped, r);
			ct_wait_ge(&s->loaded, r * nobs);
			ct_expect_value(kva, mark, "initiator, kernel va", r);
			pmap_kremove(kva, PAGE_SIZE);
			pmap_update(pmap_kernel());
			ct_expect_fault(kva, "initiator after pmap_kremove+pmap_update", r);
			atomic_store(&s->removed, r);
			ct_wait_ge(&s->checked, r * nobs);
		} else {
			ct_wait_ge(&s->mapped, r);
			ct_expect_value(kva, mark, "kernel va on a remote CPU", r);
			int e = mmu_store(kva + 8, mark); /* writable kernel mapping */
			CT_CHECK(e == 0, "round %" PRIu64 ": kernel store gave %d", r, e);
			atomic_fetch_add(&s->loaded, 1);
			unsigned iter = 0;
			uint64_t v;
			while (atomic_load(&s->removed) < r) {
				(void)mmu_load(kva, &v);
				cpu_spin_wait(&iter);
			}
			ct_expect_gone(kva, mark, "remote CPU after pmap_kremove+pmap_update", r);
			atomic_fetch_add(&s->checked, 1);
		}
	}
	ct_quiescent(&s->bar, cpu, cpu == 0 ? pmap_kernel() : NULL);
	if (l != NULL) {
		lwp_switch(NULL);
		lwp_destroy(l);
	}
	if (prev != NULL)
		uvm_pagefree(prev);
}

static void test_kernel_kremove_all_cpus(void **state)
{
	(void)state;
	struct k_run s = {.rounds = ROUNDS(120)};
	th_barrier_init(&s.bar, 4);
	s.pm = ct_pmap_create();
	ct_run(4, k_cpu, &s);
	ct_pmap_destroy(s.pm);
}

/* ================================================================
 * 6. Batching: more than 16 invalidations overflow the packet into a whole
 *    flush; every page still faults remotely.  16 or fewer: no whole flush.
 *    Also a batch over two pmaps (mixed PCIDs) and over user + kernel (global).
 * ================================================================ */

enum { B_USER, B_TWO_PMAPS, B_KERNEL_TOO };

struct batch_case {
	unsigned npages; /* in pm (and as many again in pm2 for B_TWO_PMAPS) */
	int kind;
};

/* user pages only: one PCID, or two (mixed) */
static const struct batch_case batch_user_cases[] = {
	{1, B_USER}, {16, B_USER}, {17, B_USER}, {40, B_USER}, {8, B_TWO_PMAPS}, {20, B_TWO_PMAPS},
};
/* plus one global kernel page (pmap_kenter_pa) in the same batch */
static const struct batch_case batch_kernel_cases[] = {
	{15, B_KERNEL_TOO},
	{24, B_KERNEL_TOO},
};
#define BATCH_REPEAT 5
#define BATCH_MAX 40
#define BATCH_VA2 (CT_VA + (8ULL << 20)) /* pm2's pages */

struct batch_run {
	const struct batch_case *cases;
	unsigned ncases;
	pmap_t pm, pm2;
	vaddr_t kva;
	const struct stats_counter *whole;
	_Atomic uint64_t mapped, loaded, removed, checked;
	struct th_barrier bar;
};

/* the pages a case maps, and the pmap that holds each; returns how many */
static unsigned batch_vas(const struct batch_run *s, const struct batch_case *c, vaddr_t *va, int *which)
{
	unsigned n = 0;
	for (unsigned i = 0; i < c->npages; i++, n++) {
		va[n] = CT_VA + ptoa(i);
		which[n] = 0;
	}
	if (c->kind == B_TWO_PMAPS)
		for (unsigned i = 0; i < c->npages; i++, n++) {
			va[n] = BATCH_VA2 + ptoa(i);
			which[n] = 1;
		}
	if (c->kind == B_KERNEL_TOO) {
		va[n] = s->kva;
		which[n++] = 2;
	}
	return n;
}

static void batch_cpu(unsigned cpu, void *arg)
{
	struct batch_run *s = arg;
	/* CPUs 1 and 2 run pm, CPU 3 runs pm2; CPU 0 runs pm */
	struct lwp *l = lwp_create(cpu == 3 ? s->pm2 : s->pm);
	lwp_switch(l);
	if (cpu == 0) {
		vaddr_t vs, ve;
		pmap_virtual_space(&vs, &ve);
		s->kva = vs + (3ULL << 20);
	}
	th_barrier_wait(&s->bar);
	uint64_t r = 0;
	for (unsigned ci = 0; ci < s->ncases; ci++) {
		const struct batch_case *c = &s->cases[ci];
		vaddr_t va[2 * BATCH_MAX + 1];
		int which[2 * BATCH_MAX + 1];
		unsigned n = batch_vas(s, c, va, which);
		for (uint64_t rep = 0; rep < ROUNDS(BATCH_REPEAT); rep++) {
			r++;
			if (cpu == 0) {
				struct vm_page *pgs[2 * BATCH_MAX + 1];
				for (unsigned i = 0; i < n; i++) {
					pgs[i] = ct_page();
					ct_fill(pgs[i], ct_mark(6, r, i));
					paddr_t pa = VM_PAGE_TO_PHYS(pgs[i]);
					if (which[i] == 2)
						pmap_kenter_pa(va[i], pa, CT_RW, 0);
					else
						CT_CHECK(pmap_enter(which[i] ? s->pm2 : s->pm, va[i], pa, CT_RW, 0) == 0, "enter");
				}
				pmap_update(s->pm);
				pmap_update(s->pm2);
				pmap_update(pmap_kernel());
				atomic_store(&s->mapped, r);
				ct_wait_ge(&s->loaded, 3 * r);
				uint64_t w0 = stats_counter_total(s->whole);
				/* one pmap_update for the whole batch */
				pmap_remove(s->pm, CT_VA, CT_VA + ptoa(c->npages));
				if (c->kind == B_TWO_PMAPS)
					pmap_remove(s->pm2, BATCH_VA2, BATCH_VA2 + ptoa(c->npages));
				if (c->kind == B_KERNEL_TOO)
					pmap_kremove(s->kva, PAGE_SIZE);
				pmap_update(s->pm);
				uint64_t dw = stats_counter_total(s->whole) - w0;
				bool overflow = n > 16;
				/* netbsd-x86's packet; other strategies' thresholds: test_strategies.c */
				CT_CHECK(!ct_is("netbsd-x86") || dw == (overflow ? 1u : 0u), "%u invalidations in one update: %" PRIu64
				    " whole flushes (want %d)", n, dw, overflow ? 1 : 0);
				/* the others are no-ops now, as pmap(9) allows */
				pmap_update(s->pm2);
				pmap_update(pmap_kernel());
				atomic_store(&s->removed, r);
				ct_wait_ge(&s->checked, 3 * r);
				for (unsigned i = 0; i < n; i++)
					uvm_pagefree(pgs[i]);
			} else {
				ct_wait_ge(&s->mapped, r);
				for (unsigned i = 0; i < n; i++)
					if (which[i] == 2 || (which[i] == 1) == (cpu == 3))
						ct_expect_value(va[i], ct_mark(6, r, i), "batch page before removal", r);
				atomic_fetch_add(&s->loaded, 1);
				unsigned iter = 0;
				while (atomic_load(&s->removed) < r)
					cpu_spin_wait(&iter);
				for (unsigned i = 0; i < n; i++)
					if (which[i] == 2 || (which[i] == 1) == (cpu == 3))
						ct_expect_gone(va[i], ct_mark(6, r, i), c->npages > 16 ? "batch page (whole flush)" : "batch page", r);
				atomic_fetch_add(&s->checked, 1);
			}
		}
		ct_quiescent(&s->bar, cpu, s->pm);
	}
	lwp_switch(NULL);
	lwp_destroy(l);
}

static void batch_test(const struct batch_case *cases, unsigned ncases)
{
	struct batch_run s = {.cases = cases, .ncases = ncases};
	th_barrier_init(&s.bar, 4);
	s.whole = ct_counter("shootdown.whole_flushes");
	s.pm = ct_pmap_create();
	s.pm2 = ct_pmap_create();
	ct_run(4, batch_cpu, &s);
	ct_pmap_destroy(s.pm2);
	ct_pmap_destroy(s.pm);
}

static void test_batch_overflow_whole_flush(void **state)
{
	(void)state;
	batch_test(batch_user_cases, sizeof(batch_user_cases) / sizeof(batch_user_cases[0]));
}

/* a global entry in the batch: the whole flush must drop globals too */
static void test_batch_overflow_with_kernel_page(void **state)
{
	(void)state;
	batch_test(batch_kernel_cases, sizeof(batch_kernel_cases) / sizeof(batch_kernel_cases[0]));
}

/* ================================================================
 * 6b. pmap_clear_modify() of a page whose mapping is read-only but dirty:
 *     a remote TLB entry filled after the write-protect caches D; once the
 *     clear returned, tlb_check() must find no entry caching D over a clean
 *     PTE ("dirty only if the PTE is dirty", pmap.h).  Functionally, a write
 *     still faults and a write after re-enabling it is seen as a modification.
 * ================================================================ */

struct rodirty_run {
	pmap_t pm;
	_Atomic uint64_t step;
};

static void rodirty_cpu(unsigned cpu, void *arg)
{
	struct rodirty_run *s = arg;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	const vaddr_t va = CT_VA;
	struct vm_page *pg = NULL;
	for (uint64_t r = 0; r < ROUNDS(20); r++) {
		uint64_t b = 6 * r;
		if (cpu == 0) {
			pg = ct_page();
			CT_CHECK(pmap_enter(s->pm, va, VM_PAGE_TO_PHYS(pg), CT_RW, 0) == 0, "enter");
			pmap_update(s->pm);
			atomic_store(&s->step, b + 1);
			ct_wait_ge(&s->step, b + 2); /* CPU 1 wrote: its entry is writable + dirty */
			pmap_protect(s->pm, va, va + PAGE_SIZE, VM_PROT_READ);
			pmap_update(s->pm);
			atomic_store(&s->step, b + 3);
			ct_wait_ge(&s->step, b + 4); /* CPU 1 read: a read-only entry, PTE still dirty */
			CT_CHECK(pmap_clear_modify(pg), "round %" PRIu64 ": written page was not modified", r);
			atomic_store(&s->step, b + 5);
			ct_wait_ge(&s->step, b + 6);
			pmap_remove(s->pm, va, va + PAGE_SIZE);
			pmap_update(s->pm);
			uvm_pagefree(pg);
		} else {
			ct_wait_ge(&s->step, b + 1);
			CT_CHECK(mmu_store(va, r) == 0, "store");
			atomic_store(&s->step, b + 2);
			ct_wait_ge(&s->step, b + 3);
			ct_expect_value(va, r, "read-only after protect", r);
			atomic_store(&s->step, b + 4);
			ct_wait_ge(&s->step, b + 5);
			int bad = tlb_check();
			CT_CHECK(bad == 0, "round %" PRIu64 ": after pmap_clear_modify returned, tlb_check found %d", r, bad);
			int e = mmu_store(va, 0xbad);
			CT_CHECK(e == EACCES, "round %" PRIu64 ": store to a read-only mapping gave %d", r, e);
			atomic_store(&s->step, b + 6);
		}
	}
	lwp_switch(NULL);
	lwp_destroy(l);
}

/* run with mmu.refmod = hardware and software (prestate) */
static void test_clear_modify_readonly_dirty(void **state)
{
	(void)state;
	struct rodirty_run s = {0};
	s.pm = ct_pmap_create();
	ct_run(2, rodirty_cpu, &s);
	ct_pmap_destroy(s.pm);
}

/* ================================================================
 * 6c. pmap_remove() racing with pmap_clear_reference() of the same page
 *     (allowed concurrently: pmap.h's synchronization table).  The clear
 *     takes A off the PTE before its own shootdown reaches the TLBs; a
 *     remove that reads the PTE in that window must still not leave a
 *     remote TLB holding the translation once its pmap_update() returned.
 * ================================================================ */

struct refrace_run {
	pmap_t pm;
	struct vm_page *pg, *keep;
	uint64_t rounds;
	const struct stats_counter *ipis;
	_Atomic uint64_t mapped, loaded, removed, checked, cleared;
	struct th_barrier bar;
};

#define REFRACE_WINDOW_NS 1000000 /* CPU 1 runs this long without interrupt points */

static void refrace_cpu(unsigned cpu, void *arg)
{
	struct refrace_run *s = arg;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	const vaddr_t va = CT_VA, keepva = CT_VA + ptoa(100); /* keeps the L1 table */
	if (cpu == 2) {
		s->pg = ct_page();
		s->keep = ct_page();
		ct_fill(s->pg, ct_mark(13, 0, 0));
		CT_CHECK(pmap_enter(s->pm, keepva, VM_PAGE_TO_PHYS(s->keep), CT_RW, 0) == 0, "enter");
		pmap_update(s->pm);
	}
	th_barrier_wait(&s->bar);
	for (uint64_t r = 1; r <= s->rounds; r++) {
		if (cpu == 0) {
			ct_wait_ge(&s->loaded, r);
			/* takes A off the PTE, then waits for CPU 1's acknowledgement */
			(void)pmap_clear_reference(s->pg);
			atomic_store(&s->cleared, r);
			ct_wait_ge(&s->checked, r);
		} else if (cpu == 1) {
			ct_wait_ge(&s->mapped, r);
			ct_expect_value(va, ct_mark(13, 0, 0), "before remove", r); /* sets A, fills the TLB */
			atomic_store(&s->loaded, r);
			/* a stretch without interrupt points (user code, as the model
			 * allows): a shootdown aimed at this CPU waits it out */
			uint64_t t_end = cpu_now_ns() + REFRACE_WINDOW_NS;
			while (atomic_load(&s->removed) < r && cpu_now_ns() < t_end)
				__builtin_ia32_pause();
			ct_wait_ge(&s->removed, r);
			ct_expect_gone(va, ct_mark(13, 0, 0), "after pmap_remove+pmap_update racing with pmap_clear_reference", r);
			atomic_store(&s->checked, r);
		} else {
			CT_CHECK(pmap_enter(s->pm, va, VM_PAGE_TO_PHYS(s->pg), CT_RW, 0) == 0, "enter");
			pmap_update(s->pm);
			uint64_t i0 = stats_counter_cpu(s->ipis, 0);
			atomic_store(&s->mapped, r);
			ct_wait_ge(&s->loaded, r);
			/* remove while CPU 0's clear is in progress: it has sent its
			 * IPIs (so its CAS is done) and waits for CPU 1 */
			uint64_t t_end = cpu_now_ns() + REFRACE_WINDOW_NS / 4;
			unsigned iter = 0;
			while (stats_counter_cpu(s->ipis, 0) == i0 && cpu_now_ns() < t_end)
				cpu_spin_wait(&iter);
			pmap_remove(s->pm, va, va + PAGE_SIZE);
			pmap_update(s->pm);
			atomic_store(&s->removed, r);
			ct_wait_ge(&s->checked, r);
			ct_wait_ge(&s->cleared, r);
		}
	}
	ct_quiescent(&s->bar, cpu, s->pm);
	if (cpu == 2) {
		pmap_remove(s->pm, keepva, keepva + PAGE_SIZE);
		pmap_update(s->pm);
		uvm_pagefree(s->keep);
		uvm_pagefree(s->pg);
	}
	th_barrier_wait(&s->bar);
	lwp_switch(NULL);
	lwp_destroy(l);
}

static void test_remove_racing_clear_reference(void **state)
{
	(void)state;
	struct refrace_run s = {.rounds = ROUNDS(40)};
	th_barrier_init(&s.bar, 3);
	s.ipis = ct_counter("ipi.sent");
	s.pm = ct_pmap_create();
	ct_run(3, refrace_cpu, &s);
	ct_pmap_destroy(s.pm);
}

/* ================================================================
 * 7. No shootdown for a PTE the walker never marked accessed.
 * ================================================================ */

struct skip_run {
	pmap_t pm;
	const struct stats_counter *skipped, *ipis, *resent;
	_Atomic uint64_t phase;
	struct th_barrier bar;
};

static void skip_cpu(unsigned cpu, void *arg)
{
	struct skip_run *s = arg;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	const vaddr_t warm = CT_VA, cold = CT_VA + ptoa(1);
	struct vm_page *wpg = NULL;
	if (cpu == 0) {
		wpg = ct_page();
		CT_CHECK(pmap_enter(s->pm, warm, VM_PAGE_TO_PHYS(wpg), CT_RW, 0) == 0, "enter");
		pmap_update(s->pm);
	}
	th_barrier_wait(&s->bar);
	uint64_t v;
	/* every CPU uses the pmap: all are in its CPU set */
	CT_CHECK(mmu_load(warm, &v) == 0, "warm page");
	th_barrier_wait(&s->bar);
	for (uint64_t r = 1; r <= ROUNDS(50); r++) {
		if (cpu == 0) {
			struct vm_page *pg = ct_page();
			(void)pmap_clear_reference(pg);
			/* access type none: nobody touches it.  (Under a lazy strategy
			 * the enter itself may drain last round's lazy removal of the
			 * VA, the pmap's lazy guard: counted from after it.) */
			CT_CHECK(pmap_enter(s->pm, cold, VM_PAGE_TO_PHYS(pg), CT_RW, 0) == 0, "enter");
			pmap_update(s->pm);
			uint64_t sk0 = stats_counter_total(s->skipped), ip0 = stats_counter_total(s->ipis);
			pmap_protect(s->pm, cold, cold + PAGE_SIZE, VM_PROT_READ);
			pmap_update(s->pm);
			pmap_remove(s->pm, cold, cold + PAGE_SIZE);
			pmap_update(s->pm);
			uint64_t dsk = stats_counter_total(s->skipped) - sk0, dip = stats_counter_total(s->ipis) - ip0;
			CT_CHECK(dsk == 2, "round %" PRIu64 ": skipped_unaccessed +%" PRIu64 " (want +2)", r, dsk);
			CT_CHECK(dip == 0, "round %" PRIu64 ": %" PRIu64 " IPIs for a never-accessed PTE", r, dip);
			CT_CHECK(!pmap_is_referenced(pg), "never-accessed page is referenced");
			/* control: the same with CPU 1 touching it first does shoot */
			CT_CHECK(pmap_enter(s->pm, cold, VM_PAGE_TO_PHYS(pg), CT_RW, 0) == 0, "enter");
			pmap_update(s->pm);
			atomic_store(&s->phase, 2 * r - 1);
			ct_wait_ge(&s->phase, 2 * r); /* CPU 1 loaded it */
			sk0 = stats_counter_total(s->skipped);
			ip0 = stats_counter_total(s->ipis);
			uint64_t rs0 = stats_counter_total(s->resent);
			pmap_remove(s->pm, cold, cold + PAGE_SIZE);
			pmap_update(s->pm);
			dsk = stats_counter_total(s->skipped) - sk0;
			/* hier sends again to a group that is slow to answer (a host
			 * that descheduled its leader): those IPIs are timing, not policy */
			dip = stats_counter_total(s->ipis) - ip0 - (stats_counter_total(s->resent) - rs0);
			CT_CHECK(dsk == 0, "accessed PTE counted as skipped");
			/* the pmap runs on CPUs 1-3 and only CPU 1 touched the page */
			uint64_t want = ct_remove_ipis(3, 1);
			CT_CHECK(dip == want, "round %" PRIu64 ": %" PRIu64 " IPIs for an accessed PTE (want %" PRIu64 ")", r,
			    dip, want);
			CT_CHECK(pmap_is_referenced(pg), "accessed page not referenced");
			uvm_pagefree(pg);
		} else if (cpu == 1) {
			ct_wait_ge(&s->phase, 2 * r - 1);
			CT_CHECK(mmu_load(cold, &v) == 0, "cold page load");
			atomic_store(&s->phase, 2 * r);
		}
		th_barrier_wait(&s->bar);
		/* a lazy strategy's stale entry must go before the VA is reused
		 * (the page is zero-filled and never written) */
		if (ct_lazy) {
			ct_expect_gone(cold, 0, "cold page after its removal", r);
			th_barrier_wait(&s->bar);
		}
	}
	ct_quiescent(&s->bar, cpu, s->pm);
	if (cpu == 0) {
		pmap_remove(s->pm, warm, warm + PAGE_SIZE);
		pmap_update(s->pm);
		uvm_pagefree(wpg);
	}
	th_barrier_wait(&s->bar);
	lwp_switch(NULL);
	lwp_destroy(l);
}

static void test_no_shootdown_unaccessed(void **state)
{
	(void)state;
	struct skip_run s = {0};
	th_barrier_init(&s.bar, 4);
	s.skipped = ct_counter("shootdown.skipped_unaccessed");
	s.ipis = ct_counter("ipi.sent");
	s.resent = ct_counter("shootdown.hier.resent_ipis");
	s.pm = ct_pmap_create();
	ct_run(4, skip_cpu, &s);
	ct_pmap_destroy(s.pm);
}

/* ================================================================
 * 8. Two initiators at once: CPUs 0 and 1 remove + update pages that every
 *    CPU (each other included) cached, concurrently; no deadlock, all fault.
 * ================================================================ */

struct dual_run {
	pmap_t pm;
	uint64_t rounds;
	_Atomic uint64_t removed[2];
	struct th_barrier bar;
};

static vaddr_t dual_va(unsigned who, uint64_t r)
{
	return CT_VA + ptoa(who * 64 + (r % 4) * 3);
}

static void dual_cpu(unsigned cpu, void *arg)
{
	struct dual_run *s = arg;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	struct vm_page *prev = NULL;
	for (uint64_t r = 1; r <= s->rounds; r++) {
		if (cpu < 2) {
			struct vm_page *pg = ct_page();
			ct_fill(pg, ct_mark(8, r, cpu));
			CT_CHECK(pmap_enter(s->pm, dual_va(cpu, r), VM_PAGE_TO_PHYS(pg), CT_RW, 0) == 0, "enter");
			pmap_update(s->pm);
			if (prev != NULL)
				uvm_pagefree(prev);
			prev = pg;
		}
		th_barrier_wait(&s->bar);
		for (unsigned i = 0; i < 2; i++)
			ct_expect_value(dual_va(i, r), ct_mark(8, r, i), "before concurrent removes", r);
		th_barrier_wait(&s->bar);
		if (cpu < 2) {
			vaddr_t va = dual_va(cpu, r);
			pmap_remove(s->pm, va, va + PAGE_SIZE);
			pmap_update(s->pm);
			ct_expect_fault(va, "initiator's own page", r);
			atomic_store(&s->removed[cpu], r);
			unsigned other = 1 - cpu, iter = 0;
			while (atomic_load(&s->removed[other]) < r)
				cpu_spin_wait(&iter);
			ct_expect_gone(dual_va(other, r), ct_mark(8, r, other), "the other initiator's page", r);
		} else {
			bool seen[2] = {false, false};
			unsigned iter = 0;
			while (!seen[0] || !seen[1]) {
				for (unsigned i = 0; i < 2; i++)
					if (!seen[i] && atomic_load(&s->removed[i]) >= r) {
						seen[i] = true;
						ct_expect_gone(dual_va(i, r), ct_mark(8, r, i), "observer of two initiators", r);
					}
				cpu_spin_wait(&iter);
			}
		}
		if (r % 50 == 0)
			ct_quiescent(&s->bar, cpu, s->pm);
	}
	ct_quiescent(&s->bar, cpu, s->pm);
	lwp_switch(NULL);
	lwp_destroy(l);
	if (prev != NULL)
		uvm_pagefree(prev);
}

static void test_two_initiators(void **state)
{
	(void)state;
	struct dual_run s = {.rounds = ROUNDS(200)};
	th_barrier_init(&s.bar, 4);
	s.pm = ct_pmap_create();
	ct_run(4, dual_cpu, &s);
	ct_pmap_destroy(s.pm);
}

/*
 * 8b. A shootdown whose target waits for a lock (held by a third CPU that
 *     waits for the shootdown to finish) or sits in a barrier completes.
 */
struct lockwait_run {
	pmap_t pm;
	uint64_t rounds;
	kmutex_t mtx;
	_Atomic uint64_t mapped, held, entering, blocked, done, finished;
	struct th_barrier bar;
};

/*
 * CPU 1 provably waits inside mutex_enter(&mtx) once the lock layer called
 * its wait function on CPU 1 in that round (the lock layer waits only
 * through it, and CPU 2 holds mtx until CPU 0's update returned): the test
 * installs this wait function (sync_set_wait) instead of giving CPU 1 some
 * time and hoping it got there.
 */
static struct lockwait_run *lockwait_cur;

static void lockwait_wait(unsigned *iter)
{
	struct lockwait_run *s = lockwait_cur;
	/* seq_cst: CPU 0 sees `blocked` and then shoots; CPU 1 is in the wait
	 * loop by then, taking IPIs through cpu_spin_wait() below */
	if (s != NULL && cpu_attached() && cpu_number() == 1) { /* not the RCU worker */
		uint64_t r = atomic_load(&s->entering);
		if (atomic_load(&s->blocked) < r && atomic_load(&s->done) < r)
			atomic_store(&s->blocked, r);
	}
	cpu_spin_wait(iter);
}

static void lockwait_cpu(unsigned cpu, void *arg)
{
	struct lockwait_run *s = arg;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	for (uint64_t r = 1; r <= s->rounds; r++) {
		vaddr_t va = CT_VA + ptoa(r % 4);
		uint64_t mark = ct_mark(9, r, 0);
		if (cpu == 0) {
			struct vm_page *pg = ct_page();
			ct_fill(pg, mark);
			CT_CHECK(pmap_enter(s->pm, va, VM_PAGE_TO_PHYS(pg), CT_RW, 0) == 0, "enter");
			pmap_update(s->pm);
			atomic_store(&s->mapped, r);
			ct_wait_ge(&s->blocked, r); /* CPU 1 waits in mutex_enter */
			pmap_remove(s->pm, va, va + PAGE_SIZE);
			pmap_update(s->pm); /* CPU 1 must acknowledge from inside mutex_enter */
			atomic_store(&s->done, r);
			ct_wait_ge(&s->finished, r);
			uvm_pagefree(pg);
		} else if (cpu == 1) {
			ct_wait_ge(&s->mapped, r);
			ct_expect_value(va, mark, "before the lock wait", r);
			ct_wait_ge(&s->held, r);
			atomic_store(&s->entering, r);
			mutex_enter(&s->mtx); /* held by CPU 2 until CPU 0's update returned */
			CT_CHECK(atomic_load(&s->done) >= r, "round %" PRIu64 ": got the lock before the shootdown", r);
			mutex_exit(&s->mtx);
			ct_expect_gone(va, mark, "after waiting for a lock during the shootdown", r);
			atomic_store(&s->finished, r);
		} else {
			mutex_enter(&s->mtx);
			atomic_store(&s->held, r);
			ct_wait_ge(&s->done, r);
			mutex_exit(&s->mtx);
			ct_wait_ge(&s->finished, r);
		}
	}
	/* a target waiting in a barrier: CPU 0 shoots before it arrives */
	for (uint64_t r = 1; r <= ROUNDS(40); r++) {
		vaddr_t va = CT_VA + ptoa(8 + r % 4);
		struct vm_page *pg = NULL;
		if (cpu == 0) {
			pg = ct_page();
			ct_fill(pg, ct_mark(9, r, 1));
			CT_CHECK(pmap_enter(s->pm, va, VM_PAGE_TO_PHYS(pg), CT_RW, 0) == 0, "enter");
			pmap_update(s->pm);
		}
		th_barrier_wait(&s->bar);
		ct_expect_value(va, ct_mark(9, r, 1), "before barrier", r);
		th_barrier_wait(&s->bar);
		if (cpu == 0) {
			pmap_remove(s->pm, va, va + PAGE_SIZE);
			pmap_update(s->pm); /* CPUs 1 and 2 are in the barrier */
		}
		th_barrier_wait(&s->bar);
		ct_expect_gone(va, ct_mark(9, r, 1), "after a shootdown taken in a barrier", r);
		if (cpu == 0)
			uvm_pagefree(pg);
	}
	ct_quiescent(&s->bar, cpu, s->pm);
	lwp_switch(NULL);
	lwp_destroy(l);
}

static void test_shootdown_target_waiting(void **state)
{
	(void)state;
	struct lockwait_run s = {.rounds = ROUNDS(60)};
	mutex_init(&s.mtx, LC_POOL);
	th_barrier_init(&s.bar, 3);
	s.pm = ct_pmap_create();
	lockwait_cur = &s;
	sync_set_wait(lockwait_wait, NULL); /* until ct_teardown()'s machine_halt() */
	ct_run(3, lockwait_cpu, &s);
	lockwait_cur = NULL;
	ct_pmap_destroy(s.pm);
	mutex_destroy(&s.mtx);
}

/* ================================================================
 * 9b. Context switches: CPU 1 alternates between lwps of pmaps A and B
 *     while CPU 0 removes a mapping of A; when CPU 1 switches back to A it
 *     must not see it (with PCIDs its TLB kept A's tagged entries while it
 *     ran B).  Run with mmu.pcid on and off (prestate).
 * ================================================================ */

struct sw_run {
	pmap_t a, b;
	uint64_t rounds;
	_Atomic uint64_t mapped, loaded, removed, checked;
	struct th_barrier bar;
};

static void sw_cpu(unsigned cpu, void *arg)
{
	struct sw_run *s = arg;
	struct lwp *la = lwp_create(s->a), *lb = lwp_create(s->b);
	lwp_switch(la);
	const vaddr_t va = CT_VA + ptoa(5);
	for (uint64_t r = 1; r <= s->rounds; r++) {
		uint64_t ma = ct_mark(10, r, 0xa), mb = ct_mark(10, r, 0xb);
		if (cpu == 0) {
			struct vm_page *pa = ct_page(), *pb = ct_page();
			ct_fill(pa, ma);
			ct_fill(pb, mb);
			/* the same va in both address spaces, different frames */
			CT_CHECK(pmap_enter(s->a, va, VM_PAGE_TO_PHYS(pa), CT_RW, 0) == 0, "enter");
			CT_CHECK(pmap_enter(s->b, va, VM_PAGE_TO_PHYS(pb), CT_RW, 0) == 0, "enter");
			pmap_update(s->a);
			pmap_update(s->b);
			atomic_store(&s->mapped, r);
			ct_wait_ge(&s->loaded, r);
			pmap_remove(s->a, va, va + PAGE_SIZE);
			pmap_update(s->a);
			atomic_store(&s->removed, r);
			ct_wait_ge(&s->checked, r);
			pmap_remove(s->b, va, va + PAGE_SIZE);
			pmap_update(s->b);
			uvm_pagefree(pa);
			uvm_pagefree(pb);
		} else {
			ct_wait_ge(&s->mapped, r);
			lwp_switch(la);
			ct_expect_value(va, ma, "pmap A", r);
			lwp_switch(lb);
			ct_expect_value(va, mb, "pmap B", r);
			if (r % 2 == 0) { /* even rounds: running A during the removal; odd: B */
				lwp_switch(la);
				ct_expect_value(va, ma, "pmap A again", r);
			}
			atomic_store(&s->loaded, r);
			unsigned iter = 0;
			while (atomic_load(&s->removed) < r)
				cpu_spin_wait(&iter);
			if (r % 2 == 0) {
				ct_expect_gone(va, ma, "running A during the removal", r);
				lwp_switch(lb);
				ct_expect_value(va, mb, "pmap B after A's removal", r);
			} else {
				ct_expect_value(va, mb, "pmap B after A's removal", r);
				lwp_switch(la);
				ct_expect_gone(va, ma, "switched back to A after its removal", r);
			}
			atomic_store(&s->checked, r);
		}
		if (r % 200 == 0)
			ct_quiescent(&s->bar, cpu, s->a);
	}
	ct_quiescent(&s->bar, cpu, s->b);
	lwp_switch(NULL);
	lwp_destroy(la);
	lwp_destroy(lb);
}

static void test_context_switch_after_remove(void **state)
{
	(void)state;
	struct sw_run s = {.rounds = ROUNDS(1000)};
	th_barrier_init(&s.bar, 2);
	s.a = ct_pmap_create();
	s.b = ct_pmap_create();
	ct_run(2, sw_cpu, &s);
	ct_pmap_destroy(s.b);
	ct_pmap_destroy(s.a);
}

/* ================================================================
 * 10. A small torture: every CPU changes its own slots of one shared pmap
 *     (enter, remove, protect, page_protect, clear mod/ref) and reads the
 *     others' slots (filling its TLB with entries others will shoot down);
 *     its own view is checked after each of its operations, and pmap_check
 *     and tlb_check must pass at every quiescent point.
 * ================================================================ */

#define TORT_SLOTS 24
#define TORT_EPOCHS 3
#define TORT_OPS 150

struct tort_slot {
	struct vm_page *pg;
	uint64_t mark;
	bool writable;
};

struct tort_run {
	pmap_t pm;
	unsigned ncpu;
	struct th_barrier bar;
};

static vaddr_t tort_va(unsigned cpu, unsigned slot)
{
	return CT_VA + ptoa(cpu * 32 + slot);
}

static uint64_t tort_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void tort_check_own(unsigned cpu, unsigned i, const struct tort_slot *sl, uint64_t op)
{
	vaddr_t va = tort_va(cpu, i);
	if (sl->pg == NULL) {
		ct_expect_fault(va, "own unmapped slot", op);
		return;
	}
	ct_expect_value(va, sl->mark, "own mapped slot", op);
	int e = mmu_store(va, sl->mark);
	CT_CHECK(e == (sl->writable ? 0 : EACCES), "op %" PRIu64 ": store to own slot (writable %d) gave %d", op,
	    sl->writable, e);
}

static void tort_unmap(struct tort_run *s, struct tort_slot *sl, unsigned cpu, unsigned first, unsigned n)
{
	pmap_remove(s->pm, tort_va(cpu, first), tort_va(cpu, first + n));
	pmap_update(s->pm);
	for (unsigned i = first; i < first + n; i++)
		if (sl[i].pg != NULL) {
			uvm_pagefree(sl[i].pg);
			sl[i].pg = NULL;
		}
}

static void tort_cpu(unsigned cpu, void *arg)
{
	struct tort_run *s = arg;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	struct tort_slot sl[TORT_SLOTS] = {{0}};
	uint64_t x = 0x9e3779b97f4a7c15ULL * (cpu + 1), op = 0;
	for (uint64_t ep = 0; ep < ROUNDS(TORT_EPOCHS); ep++) {
		for (unsigned k = 0; k < TORT_OPS; k++, op++) {
			uint64_t rnd = tort_rand(&x);
			unsigned i = (unsigned)(rnd >> 8) % TORT_SLOTS;
			struct tort_slot *t = &sl[i];
			switch (rnd % 10) {
			case 0:
			case 1: /* map a fresh page */
				if (t->pg != NULL)
					break;
				t->pg = ct_page();
				t->mark = ct_mark(11, op, cpu);
				t->writable = (rnd >> 20) & 1;
				ct_fill(t->pg, t->mark);
				CT_CHECK(pmap_enter(s->pm, tort_va(cpu, i), VM_PAGE_TO_PHYS(t->pg),
				             t->writable ? CT_RW : VM_PROT_READ, (rnd >> 21) & 1 ? VM_PROT_READ : 0) == 0,
				    "enter");
				pmap_update(s->pm);
				tort_check_own(cpu, i, t, op);
				break;
			case 2: { /* remove a range */
				unsigned n = 1 + (unsigned)(rnd >> 32) % 8;
				if (i + n > TORT_SLOTS)
					n = TORT_SLOTS - i;
				tort_unmap(s, sl, cpu, i, n);
				for (unsigned j = i; j < i + n; j++)
					tort_check_own(cpu, j, &sl[j], op);
				break;
			}
			case 3: { /* write-protect a range */
				unsigned n = 1 + (unsigned)(rnd >> 32) % 8;
				if (i + n > TORT_SLOTS)
					n = TORT_SLOTS - i;
				pmap_protect(s->pm, tort_va(cpu, i), tort_va(cpu, i + n), VM_PROT_READ);
				pmap_update(s->pm);
				for (unsigned j = i; j < i + n; j++) {
					sl[j].writable = false;
					tort_check_own(cpu, j, &sl[j], op);
				}
				break;
			}
			case 4: /* revoke or write-protect through the page */
				if (t->pg == NULL)
					break;
				if ((rnd >> 20) & 1) {
					pmap_page_protect(t->pg, VM_PROT_NONE);
					uvm_pagefree(t->pg);
					t->pg = NULL;
				} else {
					pmap_page_protect(t->pg, VM_PROT_READ);
					t->writable = false;
				}
				tort_check_own(cpu, i, t, op);
				break;
			case 5: /* clear mod/ref; a later write is seen */
				if (t->pg == NULL)
					break;
				(void)pmap_clear_reference(t->pg);
				(void)pmap_clear_modify(t->pg);
				if (t->writable) {
					CT_CHECK(mmu_store(tort_va(cpu, i), t->mark) == 0, "store");
					CT_CHECK(pmap_is_modified(t->pg), "op %" PRIu64 ": write after clear not seen", op);
				} else {
					ct_expect_value(tort_va(cpu, i), t->mark, "read after clear", op);
				}
				CT_CHECK(pmap_is_referenced(t->pg), "op %" PRIu64 ": access after clear not seen", op);
				break;
			default: /* read anyone's slots: remote entries to shoot down */
				for (int a = 0; a < 8; a++) {
					uint64_t q = tort_rand(&x), v;
					unsigned c = (unsigned)(q % s->ncpu), j = (unsigned)(q >> 16) % TORT_SLOTS;
					if (c == cpu)
						tort_check_own(cpu, j, &sl[j], op);
					else
						(void)mmu_load(tort_va(c, j), &v);
				}
				break;
			}
			cpu_intr_poll();
		}
		ct_quiescent(&s->bar, cpu, s->pm);
	}
	tort_unmap(s, sl, cpu, 0, TORT_SLOTS);
	ct_quiescent(&s->bar, cpu, s->pm);
	if (cpu == 0)
		CT_CHECK(pmap_resident_count(s->pm) == 0, "resident count %ld after every slot was removed",
		    pmap_resident_count(s->pm));
	lwp_switch(NULL);
	lwp_destroy(l);
}

/* prestate: hardware A/D with PCIDs, software A/D without, a tiny TLB */
static void test_torture_quiescent_checks(void **state)
{
	(void)state;
	struct tort_run s = {.ncpu = 4};
	th_barrier_init(&s.bar, 4);
	s.pm = ct_pmap_create();
	ct_run(4, tort_cpu, &s);
	ct_pmap_destroy(s.pm);
}

/* ================================================================
 * 11. A CPU that detaches while another shoots at it: the initiator
 *     completes; the CPU re-attaches with nothing stale.
 * ================================================================ */

struct det_run {
	pmap_t pm;
	uint64_t rounds;
	_Atomic uint64_t mapped, cached, removed, checked;
};

static void det_cpu(unsigned cpu, void *arg)
{
	struct det_run *s = arg;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	uint64_t x = 0x12345678ULL;
	for (uint64_t r = 1; r <= s->rounds; r++) {
		vaddr_t va = CT_VA + ptoa(r % 4);
		uint64_t mark = ct_mark(12, r, 0);
		if (cpu == 0) {
			struct vm_page *pg = ct_page();
			ct_fill(pg, mark);
			CT_CHECK(pmap_enter(s->pm, va, VM_PAGE_TO_PHYS(pg), CT_RW, 0) == 0, "enter");
			pmap_update(s->pm);
			atomic_store(&s->mapped, r);
			ct_wait_ge(&s->cached, r);
			pmap_remove(s->pm, va, va + PAGE_SIZE);
			pmap_update(s->pm); /* CPU 1 is detaching: must not hang */
			atomic_store(&s->removed, r);
			ct_wait_ge(&s->checked, r);
			uvm_pagefree(pg);
		} else {
			ct_wait_ge(&s->mapped, r);
			ct_expect_value(va, mark, "before detaching", r);
			atomic_store(&s->cached, r);
			/* detach at a varying point of CPU 0's shootdown */
			unsigned spins = (unsigned)(tort_rand(&x) % 400);
			for (unsigned k = 0; k < spins; k++)
				__builtin_ia32_pause();
			cpu_detach();
			unsigned iter = 0;
			while (atomic_load(&s->removed) < r)
				cpu_spin_wait(&iter); /* not a CPU now: just waits */
			int e = cpu_attach(ct_m, 1);
			CT_CHECK(e == 0, "re-attach gave %d", e);
			lwp_switch(l);
			ct_expect_fault(va, "re-attached after the removal", r);
			atomic_store(&s->checked, r);
		}
	}
	lwp_switch(NULL);
	lwp_destroy(l);
}

static void test_detach_during_shootdown(void **state)
{
	(void)state;
	struct det_run s = {.rounds = ROUNDS(1000)};
	s.pm = ct_pmap_create();
	ct_run(2, det_cpu, &s);
	ct_pmap_destroy(s.pm);
}

/* A CPU thread that returns (detaches for good) while shootdowns aimed at it
 * are in flight: the initiator finishes its rounds. */
struct exit_run {
	pmap_t pm;
	_Atomic uint64_t cached;
};

static void exit_cpu(unsigned cpu, void *arg)
{
	struct exit_run *s = arg;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	const unsigned npages = 8;
	if (cpu == 0) {
		struct vm_page *pgs[8];
		for (unsigned i = 0; i < npages; i++) {
			pgs[i] = ct_page();
			CT_CHECK(pmap_enter(s->pm, CT_VA + ptoa(i), VM_PAGE_TO_PHYS(pgs[i]), CT_RW, 0) == 0, "enter");
		}
		pmap_update(s->pm);
		atomic_store(&s->cached, 1);
		ct_wait_ge(&s->cached, 4); /* CPUs 1-3 cached them and are leaving */
		for (unsigned i = 0; i < npages; i++) {
			pmap_remove(s->pm, CT_VA + ptoa(i), CT_VA + ptoa(i + 1));
			pmap_update(s->pm);
		}
		for (unsigned i = 0; i < npages; i++)
			uvm_pagefree(pgs[i]);
	} else {
		ct_wait_ge(&s->cached, 1);
		uint64_t v;
		for (unsigned i = 0; i < npages; i++)
			CT_CHECK(mmu_load(CT_VA + ptoa(i), &v) == 0, "load");
		atomic_fetch_add(&s->cached, 1);
		/* and return: machine_run detaches this CPU, pending IPIs or not */
	}
	lwp_switch(NULL);
	lwp_destroy(l);
}

static void test_cpu_exit_during_shootdown(void **state)
{
	(void)state;
	for (uint64_t rep = 0; rep < ROUNDS(20); rep++) {
		struct exit_run s = {0};
		s.pm = ct_pmap_create();
		ct_run(4, exit_cpu, &s);
		ct_pmap_destroy(s.pm);
	}
}

/* ---- main ---- */

struct ct_case {
	const char *cc_name;
	CMUnitTestFunction cc_fn;
	const char *const *cc_sets;
};

static const struct ct_case ct_cases[] = {
	{"test_remote_fault_after_remove/pcid=on", test_remote_fault_after_remove, sets_pcid_on},
	{"test_remote_fault_after_remove/pcid=off", test_remote_fault_after_remove, sets_pcid_off},
	{"test_remote_fault_after_remove_4cpu", test_remote_fault_after_remove_4cpu, NULL},
	{"test_remote_write_fault_after_protect", test_remote_write_fault_after_protect, NULL},
	{"test_remote_write_fault_after_protect/refmod=software", test_remote_write_fault_after_protect, sets_refmod_sw},
	{"test_page_protect_none_remote", test_page_protect_none_remote, NULL},
	{"test_page_protect_read_remote", test_page_protect_read_remote, NULL},
	{"test_modified_never_lost/refmod=hardware", test_modified_never_lost, sets_refmod_hw},
	{"test_modified_never_lost/refmod=software", test_modified_never_lost, sets_refmod_sw},
	{"test_kernel_kremove_all_cpus", test_kernel_kremove_all_cpus, NULL},
	{"test_batch_overflow_whole_flush", test_batch_overflow_whole_flush, NULL},
	{"test_batch_overflow_with_kernel_page", test_batch_overflow_with_kernel_page, NULL},
	{"test_clear_modify_readonly_dirty/refmod=hardware", test_clear_modify_readonly_dirty, sets_refmod_hw},
	{"test_clear_modify_readonly_dirty/refmod=software", test_clear_modify_readonly_dirty, sets_refmod_sw},
	{"test_remove_racing_clear_reference/refmod=hardware", test_remove_racing_clear_reference, sets_refmod_hw},
	{"test_remove_racing_clear_reference/refmod=software", test_remove_racing_clear_reference, sets_refmod_sw},
	{"test_no_shootdown_unaccessed", test_no_shootdown_unaccessed, NULL},
	{"test_two_initiators", test_two_initiators, NULL},
	{"test_shootdown_target_waiting", test_shootdown_target_waiting, NULL},
	{"test_context_switch_after_remove/pcid=on", test_context_switch_after_remove, sets_pcid_on},
	{"test_context_switch_after_remove/pcid=off", test_context_switch_after_remove, sets_pcid_off},
	{"test_torture_quiescent_checks/default", test_torture_quiescent_checks, NULL},
	{"test_torture_quiescent_checks/refmod=software,pcid=off", test_torture_quiescent_checks, sets_sw_pcid_off},
	{"test_torture_quiescent_checks/tlb=16x2", test_torture_quiescent_checks, sets_small_tlb},
	{"test_detach_during_shootdown", test_detach_during_shootdown, NULL},
	{"test_cpu_exit_during_shootdown", test_cpu_exit_during_shootdown, NULL},
};
#define CT_NCASES (sizeof(ct_cases) / sizeof(ct_cases[0]))

/*
 * Every case runs under every correct strategy of the registry (mutants
 * are tests/test_strategies.c's business), named "STRATEGY/case" and
 * booted with "shootdown.strategy=STRATEGY" after the case's own settings.
 * CT_STRATEGY=NAME in the environment runs one strategy only; CT_SHARD=i/n
 * the correct strategies whose registry order is i mod n (CTest runs nine
 * shards as tests of their own).
 */
int main(void)
{
	signal(SIGALRM, ct_watchdog);
	const char *scale = getenv("CT_SCALE"), *filter = getenv("CT_FILTER"), *only = getenv("CT_STRATEGY");
	unsigned shard = 0, nshards = 1;
	const char *sh = getenv("CT_SHARD");
	if (sh != NULL && (sscanf(sh, "%u/%u", &shard, &nshards) != 2 || nshards == 0 || shard >= nshards)) {
		fprintf(stderr, "test_coherence: CT_SHARD=%s: want i/n with i < n\n", sh);
		return 2;
	}
	if (scale != NULL && atoi(scale) > 0)
		ct_scale = (uint64_t)atoi(scale);
	if (filter != NULL && *filter != '\0')
		cmocka_set_test_filter(filter); /* e.g. CT_FILTER='*test_two*' */
	unsigned nstrat = 0;
	while (shootdown_strategies[nstrat] != NULL)
		nstrat++;
	struct CMUnitTest *tests = mem_zalloc(struct CMUnitTest, nstrat * CT_NCASES);
	size_t n = 0;
	unsigned ncorrect = 0;
	for (unsigned k = 0; k < nstrat; k++) {
		const struct shootdown_strategy *sd = shootdown_strategies[k];
		if (sd->sd_unsafe)
			continue;
		if (ncorrect++ % nshards != shard || (only != NULL && *only != '\0' && strcmp(only, sd->sd_name) != 0))
			continue;
		for (size_t i = 0; i < CT_NCASES; i++) {
			const struct ct_case *cc = &ct_cases[i];
			size_t ns = 0;
			while (cc->cc_sets != NULL && cc->cc_sets[ns] != NULL)
				ns++;
			const char **sets = mem_zalloc(const char *, ns + 2);
			char *name = mem_alloc(char, strlen(sd->sd_name) + strlen(cc->cc_name) + 2), *kv = mem_alloc(char, 64);
			for (size_t j = 0; j < ns; j++)
				sets[j] = cc->cc_sets[j];
			snprintf(kv, 64, "shootdown.strategy=%s", sd->sd_name);
			sets[ns] = kv;
			sprintf(name, "%s/%s", sd->sd_name, cc->cc_name);
			tests[n++] = (struct CMUnitTest){name, cc->cc_fn, ct_setup, ct_teardown, (void *)sets};
		}
	}
	int rc = _cmocka_run_group_tests("test_coherence", tests, n, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		const char **sets = tests[i].initial_state;
		for (size_t j = 0; sets[j] != NULL; j++)
			if (strncmp(sets[j], "shootdown.strategy=", 19) == 0)
				free((void *)sets[j]);
		free(sets);
		free((void *)tests[i].name);
	}
	free(tests);
	return rc;
}
