/*
 * ptp.c — page-table pages: allocation, and their reclamation by the
 * simulated CPUs themselves, in per-CPU batches.
 *
 * What it models.  NetBSD x86 frees a page-table page when its last entry
 * goes (pmap_free_ptp()), but only after the shootdown that emptied it:
 * the page waits on pm_gc_ptp until pmap_update() (sys/arch/x86/x86/
 * pmap.c, NetBSD 6-10).  Linux gathers freed page-table pages per CPU
 * (mmu_gather, tlb_remove_table(), mm/mmu_gather.c) and frees a batch after
 * the flush's IPIs or after an RCU grace period (MMU_GATHER_RCU_TABLE_FREE);
 * its quicklists (mm/quicklist.c, 2.6.22 to 5.3) kept freed page-table
 * pages per CPU, still zeroed, for the next allocation on that CPU.  The
 * model does all three:
 *  - a page whose last entry went is unlinked under pm_lock and put on its
 *    CPU's list (pc_gc) with the CPUs that had the pmap loaded at that
 *    moment (mc_active, read after the unlink: a Dekker pair with
 *    pmap_activate()'s set-then-fence, so a CPU that loads the pmap later
 *    walks the new tables);
 *  - at the CPU's next pmap_update() the invalidations that emptied it are
 *    complete.  If no other CPU had the pmap loaded, no walker can be
 *    inside the page (walks happen only on a CPU's current pmap) and it is
 *    free at once — the case of every private address space.  Otherwise
 *    the batch waits for a grace period: each of those CPUs is asked for a
 *    quiescent state (cpu_qs_request(): answered at its next interrupt
 *    point, where no walk is in progress; no IPI), and the batch is free
 *    once each has answered or detached;
 *  - a free page goes to its CPU's own cache (pc_ready, up to
 *    PTP_CACHE_MAX), marked free and zero (PG_ZERO) as it was when its
 *    last entry was cleared; the CPU's next page-table allocation takes it
 *    without the free list's lock and without zeroing it.  The cache
 *    exchanges chains of PTP_CACHE_MAX / 2 with the free list when it runs
 *    over or dry (one CPU may allocate the upper-level page another frees),
 *    as uvm.pagecache does; a frame from the free list is zeroed unless it
 *    is known zero.
 *
 * Why the CPUs and not liburcu.  Until issue 17 retired pages went to
 * liburcu's call_rcu(), and liburcu's worker thread put them back on the
 * global free list.  So a host thread that is no simulated CPU took the
 * free list's lock on the hot path, and two CPUs with private address
 * spaces bounced that lock between them (225 k contentions a trial in
 * `munmap` on private pmaps) while each freed and allocated three pages per
 * cycle; and the virtual-time engine (issue 18), which runs one simulated
 * CPU at a time, can have no thread outside them.  liburcu 0.13 (Debian 12)
 * has no polling grace-period API (start_poll_synchronize_rcu() arrived in
 * 0.14), so a CPU cannot ask it "has a grace period passed since X" without
 * blocking in synchronize_rcu().  The CPUs therefore run the grace period
 * themselves, at defined points — pmap_update(), a page-table allocation
 * that finds its cache empty, and a memory shortage (phys_alloc()'s
 * reclaim hook) — the way QSBR does (McKenney & Slingwine 1998; Desnoyers
 * et al., IEEE TPDS 2012), scoped to the CPUs that had the pmap loaded.
 * liburcu QSBR stays where it still serves: the simulated CPUs remain its
 * registered readers with every interrupt point a quiescent state, so
 * sync_rcu_defer() (pmapstorm/lock.h) keeps working for an embedder's own
 * read-mostly data; the model's core defers nothing through it any more.
 *
 * Locking.  pc_gc is its CPU's alone.  pc_ready and the two waiting slots
 * (pc_wait with its tickets, pc_next not yet asked) are under pc_lock
 * (class pagefree), taken by the owner once per allocation and once per
 * update, and by another thread only when memory is short (ptp_reclaim):
 * uncontended, in a line no other CPU writes.  Order: pm_lock, pc_lock,
 * the free list's lock (never two pc_locks).
 */
#include "pmap_impl.h"

#include <pmapstorm/alloc.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

STATS_COUNTER(ptp_allocs, "pmap.ptp_alloc", "page-table pages allocated")
STATS_COUNTER(ptp_frees, "pmap.ptp_free", "page-table pages freed (once no walker can be inside them)")
STATS_COUNTER(ptp_cached, "pmap.ptp_cached", "page-table pages allocated from the CPU's own cache of freed ones "
    "(no free-list lock, no zeroing)")
STATS_COUNTER(ptp_qs_asks, "pmap.ptp_qs_requests", "quiescent states asked of other CPUs before freed page-table "
    "pages could be reused (pmaps loaded on several CPUs)")
STATS_COUNTER(ptp_refills, "pmap.ptp_refills", "chains of free frames a CPU's cache of page-table pages took from "
    "the free list (one lock round trip each)")
STATS_COUNTER(ptp_spills, "pmap.ptp_spills", "chains of free page-table pages a CPU's cache gave back to the "
    "free list (full cache, detach, memory short)")
STATS_COUNTER(ptp_dirty, "pmap.ptp_dirty", "freed page-table pages found not zero (a broken strategy's stale "
    "store; zeroed; checked only with KASSERTs or an unsafe strategy)")

/* Free pages a CPU keeps: a munmap cycle frees and takes three */
#define PTP_CACHE_MAX 16

static struct pmap_cpu *ptp_cpus;
static unsigned ptp_ncpu;
static bool ptp_verify; /* check that freed pages are zero (KASSERTs, or a strategy that may corrupt) */

/* The model's own count of page-table pages, for threads that are not CPUs
 * (boot); CPUs count in their pc_ptps, so no line is shared. */
static inline void ptp_count(struct cpu_info *ci, int64_t delta)
{
	if (ci != NULL) {
		_Atomic int64_t *p = &((struct pmap_cpu *)ci->ci_pmap_md)->pc_ptps;
		/* single writer: a relaxed load and store (readers sum) */
		atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + delta, memory_order_relaxed);
	} else {
		atomic_fetch_add_explicit(&machine_cur->m_ptp_pages, (uint64_t)delta, memory_order_relaxed);
	}
}

int ptp_boot(struct machine *m, struct pmap_cpu *cpus)
{
	ptp_cpus = cpus;
	ptp_ncpu = m->m_ncpu;
#ifdef NDEBUG
		{
		char algo[LC_NCLASS][LOCK_ALGO_NAMELEN];
		enum lock_wait wait;
		bool stat, locks_unsafe;
		lock_config_read(&m->m_cfg, algo, &wait, &stat, &locks_unsafe);
		ptp_verify = m->m_cfg.mc_sd_unsafe || locks_unsafe;
	}
#else
	ptp_verify = true;
#endif
	for (unsigned i = 0; i < m->m_ncpu; i++) {
		struct pmap_cpu *pc = &cpus[i];
		mutex_init(&pc->pc_lock, LC_PAGEFREE);
		pc->pc_ticket = mem_zalloc(uint64_t, m->m_ncpu);
		pc->pc_gc_ticket = mem_zalloc(uint64_t, m->m_ncpu);
		if (pc->pc_ticket == NULL || pc->pc_gc_ticket == NULL)
			return machine_seterr(ENOMEM, "machine.cpus: no host memory for the page-table page caches");
	}
	return 0;
}

void ptp_halt(void)
{
	/* the frames in the caches go with physical memory */
	for (unsigned i = 0; ptp_cpus != NULL && i < ptp_ncpu; i++) {
		mutex_destroy(&ptp_cpus[i].pc_lock);
		free(ptp_cpus[i].pc_ticket);
		free(ptp_cpus[i].pc_gc_ticket);
	}
	ptp_cpus = NULL;
	ptp_ncpu = 0;
}

/* A page-table page whose entries are all clear becomes a free frame known
 * to be zero.  => not reachable by any walker */
static void ptp_mark_free(struct vm_page *pg)
{
	if (ptp_verify) {
		_Atomic uint64_t *w = phys_to_host(pg->phys_addr);
		for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
			if (atomic_load_explicit(&w[i], memory_order_relaxed) != 0) {
				stats_inc(&ptp_dirty);
				phys_zero_page(pg->phys_addr);
				break;
			}
	}
	atomic_fetch_and_explicit(&pg->flags, ~(uint32_t)PG_PTP, memory_order_relaxed);
	phys_mark_free(pg);
	atomic_store_explicit(&pg->flags, PG_FREE | PG_ZERO, memory_order_relaxed);
}

/* Marks a chain of n unlinked pages free; returns its tail. */
static struct vm_page *ptp_chain_free(struct cpu_info *ci, struct vm_page *head, unsigned n)
{
	struct vm_page *tail = NULL;
	for (struct vm_page *pg = head; pg != NULL; pg = pg->pageq_next) {
		ptp_mark_free(pg);
		tail = pg;
	}
	ptp_count(ci, -(int64_t)n);
	stats_add(&ptp_frees, n);
	return tail;
}

/*
 * A chain of n pages that no walker can reach any more joins pc's cache;
 * what exceeds PTP_CACHE_MAX is returned in *spill (given back to the free
 * list by the caller, without pc_lock).  => pc_lock held
 */
static void ptp_ready_add(struct cpu_info *ci, struct pmap_cpu *pc, struct vm_page *head, unsigned n,
    struct vm_page **spill, unsigned *nspill)
{
	if (n == 0)
		return;
	struct vm_page *tail = ptp_chain_free(ci, head, n);
	tail->pageq_next = pc->pc_ready;
	pc->pc_ready = head;
	unsigned have = atomic_load_explicit(&pc->pc_nready, memory_order_relaxed) + n;
	if (have > PTP_CACHE_MAX) {
		/* keep the most recently freed half (cache-warm), give the rest */
		struct vm_page *keep = pc->pc_ready;
		for (unsigned i = 1; i < PTP_CACHE_MAX / 2; i++)
			keep = keep->pageq_next;
		struct vm_page *rest = keep->pageq_next;
		keep->pageq_next = NULL;
		unsigned nrest = have - PTP_CACHE_MAX / 2;
		/* prepend to what the caller spills already */
		struct vm_page *t = rest;
		while (t->pageq_next != NULL)
			t = t->pageq_next;
		t->pageq_next = *spill;
		*spill = rest;
		*nspill += nrest;
		have = PTP_CACHE_MAX / 2;
	}
	atomic_store_explicit(&pc->pc_nready, have, memory_order_relaxed);
}

static void ptp_spill(struct vm_page *chain, unsigned n)
{
	if (n == 0)
		return;
	stats_inc(&ptp_spills);
	phys_give(chain, n);
}

/*
 * The grace period: a waiting batch whose CPUs all answered becomes free;
 * a batch not yet asked about is asked about when the slot is empty.
 * Any thread may do it (cpu_qs_request and cpu_qs_passed are).
 * => pc_lock held
 */
static void ptp_advance(struct cpu_info *ci, struct pmap_cpu *pc, struct vm_page **spill, unsigned *nspill)
{
	if (pc->pc_nwait != 0) {
		KCPUSET_FOREACH(&pc->pc_wait_cpus, c) {
			if (!cpu_qs_passed(cpu_lookup(c), pc->pc_ticket[c]))
				return;
		}
		ptp_ready_add(ci, pc, pc->pc_wait, pc->pc_nwait, spill, nspill);
		pc->pc_wait = NULL;
		pc->pc_nwait = 0;
		kcpuset_zero(&pc->pc_wait_cpus);
	}
	if (pc->pc_nnext != 0) {
		/* the tickets are taken after every unlink of the batch */
		pc->pc_wait = pc->pc_next;
		pc->pc_nwait = pc->pc_nnext;
		kcpuset_copy(&pc->pc_wait_cpus, &pc->pc_next_cpus);
		pc->pc_next = NULL;
		pc->pc_nnext = 0;
		kcpuset_zero(&pc->pc_next_cpus);
		KCPUSET_FOREACH(&pc->pc_wait_cpus, c) {
			pc->pc_ticket[c] = cpu_qs_request(cpu_lookup(c));
			stats_inc(&ptp_qs_asks);
		}
	}
}

/* A free frame becomes a page-table page: zeroed unless known zero. */
static void ptp_init_page(struct vm_page *pg)
{
	if (!(atomic_load_explicit(&pg->flags, memory_order_relaxed) & PG_ZERO)) {
		/* not yet reachable by any walker (relaxed zeroing is enough;
		 * the release store that links it publishes the zeroes), but a
		 * mutant's stale store may still land in the frame: atomic words */
		phys_zero_page(pg->phys_addr);
	}
	atomic_store_explicit(&pg->flags, PG_BUSY | PG_PTP, memory_order_relaxed);
	pg->mdpage.mp_ptpcount = 0;
	pg->pageq_next = NULL;
}

/* Up to n frames from pc's cache.  => pc_lock held */
static unsigned ptp_ready_take(struct pmap_cpu *pc, struct vm_page **out, unsigned n)
{
	unsigned have = atomic_load_explicit(&pc->pc_nready, memory_order_relaxed), got = 0;
	while (got < n && have > 0) {
		struct vm_page *pg = pc->pc_ready;
		pc->pc_ready = pg->pageq_next;
		have--;
		phys_mark_busy(pg);
		out[got++] = pg;
	}
	atomic_store_explicit(&pc->pc_nready, have, memory_order_relaxed);
	return got;
}

int ptp_alloc_n(struct vm_page **out, unsigned n)
{
	struct cpu_info *ci = curcpu();
	unsigned got = 0;
	if (ci != NULL) {
		struct pmap_cpu *pc = ci->ci_pmap_md;
		struct vm_page *spill = NULL;
		unsigned nspill = 0;
		mutex_enter(&pc->pc_lock);
		if (atomic_load_explicit(&pc->pc_nready, memory_order_relaxed) < n)
			ptp_advance(ci, pc, &spill, &nspill);
		got = ptp_ready_take(pc, out, n);
		mutex_exit(&pc->pc_lock);
		ptp_spill(spill, nspill);
		stats_add(&ptp_cached, got);
		if (got < n) {
			/* refill half a cache in one chain (never from the
			 * reserve: a cache must not hoard it), as uvm.pagecache
			 * does, so frees on one CPU and allocations on another
			 * cost the free list's lock once per batch */
			struct vm_page *chain;
			unsigned k = phys_take(PTP_CACHE_MAX / 2 > n - got ? PTP_CACHE_MAX / 2 : n - got, false, &chain);
			if (k != 0) {
				stats_inc(&ptp_refills);
				mutex_enter(&pc->pc_lock);
				struct vm_page *tail = chain;
				while (tail->pageq_next != NULL)
					tail = tail->pageq_next;
				tail->pageq_next = pc->pc_ready;
				pc->pc_ready = chain;
				atomic_store_explicit(&pc->pc_nready,
				    atomic_load_explicit(&pc->pc_nready, memory_order_relaxed) + k, memory_order_relaxed);
				got += ptp_ready_take(pc, out + got, n - got);
				mutex_exit(&pc->pc_lock);
			}
		}
	}
	for (; got < n; got++) {
		/* the last frames, the reserve included (page tables may use it) */
		if ((out[got] = phys_alloc(true)) == NULL) {
			/* never linked: give back what was taken (counted as
			 * allocated and freed, as every page that was taken) */
			for (unsigned i = 0; i < got; i++)
				ptp_init_page(out[i]);
			ptp_count(ci, (int64_t)got);
			stats_add(&ptp_allocs, got);
			ptp_free_unlinked(out, got);
			return ENOMEM;
		}
	}
	for (unsigned i = 0; i < n; i++)
		ptp_init_page(out[i]);
	ptp_count(ci, (int64_t)n);
	stats_add(&ptp_allocs, n);
	return 0;
}

struct vm_page *ptp_alloc(void)
{
	struct vm_page *pg;
	return ptp_alloc_n(&pg, 1) == 0 ? pg : NULL;
}

void ptp_free_unlinked(struct vm_page **pgs, unsigned n)
{
	struct cpu_info *ci = curcpu();
	if (n == 0)
		return;
	for (unsigned i = 0; i + 1 < n; i++)
		pgs[i]->pageq_next = pgs[i + 1];
	pgs[n - 1]->pageq_next = NULL;
	if (ci == NULL) {
		ptp_chain_free(NULL, pgs[0], n);
		phys_give(pgs[0], n);
		return;
	}
	struct pmap_cpu *pc = ci->ci_pmap_md;
	struct vm_page *spill = NULL;
	unsigned nspill = 0;
	mutex_enter(&pc->pc_lock);
	ptp_ready_add(ci, pc, pgs[0], n, &spill, &nspill);
	mutex_exit(&pc->pc_lock);
	ptp_spill(spill, nspill);
}

void ptp_retire(struct pmap *pm, struct vm_page *pg)
{
	struct cpu_info *ci = pmap_need_cpu();
	struct pmap_cpu *pc = ci->ci_pmap_md;
	pg->pageq_next = pc->pc_gc;
	pc->pc_gc = pg;
	pc->pc_ngc++;
	pc->pc_gc_asked = false; /* a ticket asked before this unlink does not cover it */
	/* seq_cst fence after the unlink, before reading who has the pmap
	 * loaded: pairs with pmap_activate()'s set-then-fence.  A CPU missing
	 * from the set loads the pmap later and walks the new tables. */
	atomic_thread_fence(memory_order_seq_cst);
	for (unsigned w = 0; w < MAXCPUS / 64; w++) {
		uint64_t b = atomic_load_explicit(&pm->pm_ctx.mc_active.bits[w], memory_order_relaxed);
		if (w == ci->ci_cpuid / 64)
			b &= ~(1ULL << (ci->ci_cpuid % 64)); /* this CPU walks nothing while it runs pmap code */
		if (b != 0)
			atomic_store_explicit(&pc->pc_gc_cpus.bits[w],
			    atomic_load_explicit(&pc->pc_gc_cpus.bits[w], memory_order_relaxed) | b, memory_order_relaxed);
	}
}

void ptp_retired_ask(struct cpu_info *ci)
{
	struct pmap_cpu *pc = ci->ci_pmap_md;
	if (pc->pc_gc == NULL || pc->pc_gc_asked || kcpuset_iszero(&pc->pc_gc_cpus))
		return;
	/* every unlink of pc_gc came before (and its fence): the tickets
	 * cover them.  The request shares the target's mailbox line with the
	 * IPI the update may send next, and the interrupt point that takes
	 * the IPI answers it first (cpu.c) */
	KCPUSET_FOREACH(&pc->pc_gc_cpus, c) {
		pc->pc_gc_ticket[c] = cpu_qs_request(cpu_lookup(c));
		stats_inc(&ptp_qs_asks);
	}
	pc->pc_gc_asked = true;
}

static bool ptp_gc_passed(struct pmap_cpu *pc)
{
	if (!pc->pc_gc_asked)
		return false;
	KCPUSET_FOREACH(&pc->pc_gc_cpus, c) {
		if (!cpu_qs_passed(cpu_lookup(c), pc->pc_gc_ticket[c]))
			return false;
	}
	return true;
}

void ptp_retired_complete(struct cpu_info *ci)
{
	struct pmap_cpu *pc = ci->ci_pmap_md;
	if (pc->pc_gc == NULL)
		return;
	struct vm_page *gc = pc->pc_gc, *spill = NULL;
	unsigned n = pc->pc_ngc, nspill = 0;
	pc->pc_gc = NULL;
	pc->pc_ngc = 0;
	mutex_enter(&pc->pc_lock);
	ptp_advance(ci, pc, &spill, &nspill);
	if (kcpuset_iszero(&pc->pc_gc_cpus) || ptp_gc_passed(pc)) {
		/* nobody else had the pmaps loaded, or each such CPU has
		 * passed a quiescent state since: nobody can be walking */
		ptp_ready_add(ci, pc, gc, n, &spill, &nspill);
		kcpuset_zero(&pc->pc_gc_cpus);
	} else if (pc->pc_nwait == 0 && pc->pc_gc_asked) {
		/* asked already: the batch waits with its own tickets */
		pc->pc_wait = gc;
		pc->pc_nwait = n;
		kcpuset_copy(&pc->pc_wait_cpus, &pc->pc_gc_cpus);
		kcpuset_zero(&pc->pc_gc_cpus);
		uint64_t *t = pc->pc_ticket;
		pc->pc_ticket = pc->pc_gc_ticket;
		pc->pc_gc_ticket = t;
	} else {
		struct vm_page *t = gc;
		while (t->pageq_next != NULL)
			t = t->pageq_next;
		t->pageq_next = pc->pc_next;
		pc->pc_next = gc;
		pc->pc_nnext += n;
		for (unsigned w = 0; w < MAXCPUS / 64; w++)
			atomic_store_explicit(&pc->pc_next_cpus.bits[w],
			    atomic_load_explicit(&pc->pc_next_cpus.bits[w], memory_order_relaxed) |
			        atomic_load_explicit(&pc->pc_gc_cpus.bits[w], memory_order_relaxed),
			    memory_order_relaxed);
		kcpuset_zero(&pc->pc_gc_cpus);
		ptp_advance(ci, pc, &spill, &nspill);
	}
	pc->pc_gc_asked = false;
	mutex_exit(&pc->pc_lock);
	ptp_spill(spill, nspill);
}

/* pc's batches that every CPU passed and its ready pages, back to the
 * free list: how many frames moved.  => pc_lock not held */
static unsigned ptp_drain(struct cpu_info *ci, struct pmap_cpu *pc)
{
	struct vm_page *spill = NULL;
	unsigned nspill = 0;
	mutex_enter(&pc->pc_lock);
	ptp_advance(ci, pc, &spill, &nspill);
	unsigned n = atomic_load_explicit(&pc->pc_nready, memory_order_relaxed);
	struct vm_page *chain = pc->pc_ready;
	pc->pc_ready = NULL;
	atomic_store_explicit(&pc->pc_nready, 0, memory_order_relaxed);
	mutex_exit(&pc->pc_lock);
	ptp_spill(spill, nspill);
	ptp_spill(chain, n);
	return n + nspill;
}

void ptp_cpu_detach(struct cpu_info *ci)
{
	/* the free pages go back to the free list; waiting batches stay (a
	 * later attach, a shortage or the halt releases them: a detaching CPU
	 * does not wait for others) */
	ptp_drain(ci, ci->ci_pmap_md);
}

/* mh_ptp_reclaim: memory is short.  => any thread; no pc_lock held */
bool ptp_reclaim(void)
{
	struct cpu_info *ci = curcpu();
	bool moved = false;
	for (unsigned i = 0; ptp_cpus != NULL && i < ptp_ncpu; i++) {
		if (ptp_drain(ci, &ptp_cpus[i]) != 0)
			moved = true;
	}
	return moved;
}

uint64_t pmap_ptp_pages(void)
{
	struct machine *m = machine_cur;
	if (m == NULL)
		return 0;
	int64_t n = (int64_t)atomic_load_explicit(&m->m_ptp_pages, memory_order_relaxed);
	for (unsigned i = 0; ptp_cpus != NULL && i < ptp_ncpu; i++)
		n += atomic_load_explicit(&ptp_cpus[i].pc_ptps, memory_order_relaxed);
	return n > 0 ? (uint64_t)n : 0;
}

uint64_t pmap_ptp_free_pages(void)
{
	uint64_t n = 0;
	for (unsigned i = 0; ptp_cpus != NULL && i < ptp_ncpu; i++)
		n += atomic_load_explicit(&ptp_cpus[i].pc_nready, memory_order_relaxed);
	return n;
}
