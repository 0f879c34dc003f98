/*
 * pmap.c — pmap(9) over the simulated machine.
 *
 * What it models.  The machine-independent contract of NetBSD's pmap(9)
 * manual (NetBSD 7.1.2, section 9) on x86-64-like hardware, with the
 * structure of NetBSD's sys/arch/x86/x86/pmap.c (NetBSD 6-7): four-level
 * page tables whose pages come from physical memory, pv lists per managed
 * page, per-page modified/referenced attributes harvested from the PTEs'
 * A/D bits, statistics kept incrementally, and invalidations handed to the
 * shootdown strategy (core/shootdown/) to be completed at pmap_update().
 *
 * Locking (see the synchronization table in pmapstorm/pmap.h).
 *  - pm_lock serializes every change to one pmap's page tables, its
 *    statistics and the page-table-page live counts.
 *  - A page's mp_pvlock protects its pv list.  Order: pm_lock, then pv lock.
 *    pmap_page_protect(VM_PROT_NONE) holds a pv lock and needs pm_lock: it
 *    try-locks, and on failure references the pmap, drops the pv lock, waits
 *    for pm_lock, and starts again (NetBSD x86's pmap_pp_remove retries the
 *    same way).
 *  - PTE bits are changed only with atomic exchange or compare-and-swap,
 *    because the hardware walker sets A/D concurrently (x86's pmap_pte_cas):
 *    a change never overwrites a bit the walker just set, and the value
 *    returned is the one whose A/D bits are harvested into the page.
 *  - Clearing modified/referenced needs only the pv lock: the PTE is changed
 *    by CAS, as NetBSD x86's pmap_sync_pv() does.
 *  - The kernel's page tables below the pmap_growkernel() limit never change
 *    shape, so pmap_kenter_pa()/pmap_kremove() take no lock.
 *
 * Interrupts.  NetBSD runs pmap_enter(), pmap_remove() and pmap_protect()
 * with interrupts enabled (pm_lock is an IPL_NONE mutex), so a CPU takes a
 * shootdown IPI within them.  The model takes IPIs only at interrupt
 * points, so these operations start with one (cpu_intr_poll()): a CPU busy
 * mapping and unmapping answers another's shootdown within one operation,
 * not one workload iteration later.  Without it two CPUs that shoot at each
 * other serialize behind the one packet in flight (netbsd-x86) and the
 * second waits out the first's next operation: 3.2 times the single-target
 * round trip instead of 1.4 (docs/performance.md).  And they take one
 * inside pm_lock's critical section, after the entry they look up or
 * change (pmap_intr_inside()): a shootdown aimed at a CPU that holds the
 * pmap's lock no longer waits for the lock's release (docs/performance.md,
 * section 13).
 *
 * Page-table pages of user pmaps are freed when their last entry goes, but
 * only after the invalidations that emptied them are complete (at the next
 * pmap_update() on the CPU that emptied them) and after a grace period of
 * the CPUs that had the pmap loaded, so no hardware walker can still be
 * reading them; the CPU keeps them for its next page-table allocation
 * (ptp.c).  Kernel page-table pages are never freed (pmap(9),
 * pmap_growkernel()).
 *
 * Modified/referenced.  With mmu.refmod = hardware the walker sets A/D;
 * the pmap harvests them into mp_attrs whenever a PTE goes away and clears
 * them (with a shootdown, because a TLB entry caches D) on a clear.  With
 * mmu.refmod = software a managed PTE lacks V until the page is referenced
 * and W until it is modified, so the first access or write faults into
 * pmap_refmod_fault() (NetBSD mips pmap_emulate_modify(), alpha's
 * fault-on-read/write bits).
 *
 * The lazy guard.  A lazy strategy (sd_lazy: latr, netbsd-mi) lets
 * pmap_update() return while other CPUs still cache translations that a
 * removal took away; they drop them at their next sweep.  Its frames are
 * held back meanwhile (sd_lazy_free), so no frame is reused under a live
 * entry.  Three promises of pmap(9) would still break, and the guard
 * keeps each by completing the lazy work at once (sd_lazy_drain: every
 * CPU sweeps now), as LATR keeps a freed range from reuse until every CPU
 * swept (Kumar et al., ASPLOS 2018, sec. 4.2):
 *  - a VA entered again (pmap_enter on an empty PTE in pm_lazy_lo/hi, the
 *    range of the pmap's lazy removals): a stale entry would translate
 *    the new mapping to the old frame, or with a cached D bit that the new
 *    PTE lacks, so a write would not be seen by pmap_is_modified();
 *  - a page operation (pmap_clear_modify/_reference, pmap_page_protect)
 *    on a page with PP_ATTRS_LAZY: a write or access through a removed
 *    mapping after the clear returned would be lost to the modified or
 *    referenced bit, a write after a write-protect would reach a
 *    copy-on-write page;
 *  - a removal queued before such a fallback and posted after it (its
 *    pmap_update() had not run): that update drains too ("late").
 * Each fallback bumps pmap_lazy_gen before it drains.  A remover reads the
 * generation (first lazy removal since its last update) before it widens
 * the pmap's range (under pm_lock, which the enterer holds too) and before
 * its single RMW sets PP_ATTRS_LAZY with the harvested M/R bits; a page
 * operation clears M/R and PP_ATTRS_LAZY in one RMW.  So either the page
 * operation's RMW comes first — the remover's harvest then sets M/R anew —
 * or it sees the flag, and its bump comes after the remover read the
 * generation, whose update then drains what the fallback could not.  The
 * counters pmap.lazy_reuse, pmap.lazy_pageop and pmap.lazy_late say how
 * often each fallback ran; shootdown.coherence how long the windows that
 * remain (a removed VA not entered again, its page untouched) last.
 */
#include "pmap_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

STATS_COUNTER(pmap_enters, "pmap.enter", "pmap_enter() calls")
STATS_COUNTER(pmap_removes, "pmap.remove_pages", "mappings removed by pmap_remove()/pmap_kremove()")
STATS_COUNTER(pmap_protects, "pmap.protect_pages", "mappings downgraded by pmap_protect()")
STATS_COUNTER(pmap_updates, "pmap.update", "pmap_update() calls")
STATS_COUNTER(pmap_pv_retries, "pmap.pv_retries", "pv-list walks restarted to respect the lock order")
STATS_COUNTER(pmap_pv_allocs, "pmap.pv_alloc", "pv entries taken from the host allocator (a CPU reuses those it freed "
    "first)")
STATS_COUNTER(pmap_enomem, "pmap.enter_enomem", "pmap_enter(PMAP_CANFAIL) that returned ENOMEM")
STATS_COUNTER(pmap_forks, "pmap.fork", "pmap_fork() calls")
STATS_COUNTER(pmap_procwrs, "pmap.procwr", "pmap_procwr() calls")

static struct pmap kernel_pmap_store;
struct pmap *const kernel_pmap_ptr = &kernel_pmap_store;

STATS_COUNTER(pmap_lazy_reuses, "pmap.lazy_reuse", "lazy strategies: VAs entered again while a lazy removal there "
    "may still be cached (completed at once first)")
STATS_COUNTER(pmap_lazy_pageops, "pmap.lazy_pageop", "lazy strategies: page operations on a page a lazily removed "
    "mapping may still reach (completed at once first)")
STATS_COUNTER(pmap_lazy_lates, "pmap.lazy_late", "lazy strategies: pmap_update()s whose lazy removals a fallback "
    "could not reach yet (completed at once)")

STATS_HIST(pmap_cost_h, "pmap.update_cost", "ns", "time in the pmap's page operations and pmap_update() per "
    "completion (operations since the last completion plus the completion), sent or not; of the completions "
    "timed (one in stats.update_sample, at random)")
STATS_COUNTER(pmap_completions, "pmap.completions", "completions: pmap_update() calls and page operations that "
    "complete synchronously (update_cost's population, timed or not)")
STATS_HIST(pmap_kcost_h, "pmap.kernel_update_cost", "ns", "update_cost of completions that held kernel "
    "invalidations (kernel shootdowns: kremove, freed pool pages, uvm_km_free)")
STATS_COUNTER(pmap_invals, "pmap.invalidations", "PTE changes handed to the strategy (a TLB may hold the old PTE)")
STATS_COUNTER(pmap_flushes, "pmap.flushes", "completions that had at least one invalidation to complete")
STATS_COUNTER(pmap_kflushes, "pmap.kernel_flushes", "completions that had kernel invalidations (kernel shootdowns)")

static struct pmap_cpu *pmap_cpus;
static uint64_t pmap_cost_thr;            /* a draw at or below it times the next completion */
static bool pmap_lazy_guard;              /* the strategy is lazy (and not a mutant without the guard) */
static _Atomic uint64_t pmap_lazy_gen;    /* bumped by every fallback of the guard */
static vaddr_t kernel_virtual_start; /* first VA uvm manages */
static _Atomic vaddr_t kernel_virtual_end; /* end of what the kernel page tables map:
					    * published (release) after the tables exist */
static kmutex_t pmaps_lock;          /* growkernel, PCID allocation */
static kmutex_t pmap_inject_lock;    /* inject.update_locks (pmap_update) */
static bool pmap_initialized;

/* PCIDs: 0 is the kernel's; user pmaps take 1..PCID_MAX from a stack. */
#define PCID_MAX 65535
static uint16_t *pcid_free;
static unsigned pcid_nfree;

static inline const struct shootdown_strategy *sd(void)
{
	return shootdown_current;
}

static inline bool pmap_is_kernel(const struct pmap *pm)
{
	return pm == &kernel_pmap_store;
}

static inline void *ptp_va(const struct vm_page *pg)
{
	return phys_to_host(pg->phys_addr);
}

static inline struct vm_page *pte_page(pt_entry_t pte)
{
	return PHYS_TO_VM_PAGE(pte_pa(pte));
}

/*
 * Find the L1 slot for va, allocating the missing levels when alloc.
 * => pm_lock held for a user pmap (or the kernel pmap when alloc)
 * => returns NULL if a level is missing (and !alloc) or no page is free.
 * ptps[lvl] receives the page of each level (1..4) on the way.
 */
static _Atomic pt_entry_t *pmap_pte_lookup_skip(struct pmap *pm, vaddr_t va, bool alloc, struct vm_page **ptps,
    vaddr_t *skip);
static _Atomic pt_entry_t *pmap_pte_lookup(struct pmap *pm, vaddr_t va, bool alloc, struct vm_page **ptps)
{
	return pmap_pte_lookup_skip(pm, va, alloc, ptps, NULL);
}

/*
 * As pmap_pte_lookup(); when a level is missing and !alloc, *skip is the
 * first VA past the hole (the end of the span the missing entry maps).
 * With alloc, every missing level is allocated first and linked bottom-up,
 * the top link last: a failed allocation (PMAP_CANFAIL) leaves the tables
 * untouched, and a walker that sees the new top link sees complete levels.
 */
static _Atomic pt_entry_t *pmap_pte_lookup_skip(struct pmap *pm, vaddr_t va, bool alloc, struct vm_page **ptps,
    vaddr_t *skip)
{
	const pt_entry_t pdebits = PTE_V | PTE_W | PTE_A | (pmap_is_kernel(pm) ? 0 : PTE_U);
	paddr_t table = pmap_is_kernel(pm) ? machine_cur->m_kernel_root : pm->pm_root->phys_addr;
	int lvl;
	_Atomic pt_entry_t *slot = NULL;
	for (lvl = PTP_LEVELS; lvl > 1; lvl--) {
		if (ptps)
			ptps[lvl] = PHYS_TO_VM_PAGE(table);
		slot = pte_slot(phys_to_host(table), pl_index(va, lvl));
		pt_entry_t pde = atomic_load_explicit(slot, memory_order_acquire);
		if (!(pde & PTE_V))
			break;
		table = pte_pa(pde);
	}
	if (lvl > 1) {
		/* the entry at level lvl is missing: levels lvl-1 .. 1 are needed */
		if (!alloc) {
			if (skip != NULL) {
				vaddr_t span = 1ULL << (PAGE_SHIFT + 9 * (lvl - 1));
				*skip = (va & ~(span - 1)) + span;
			}
			return NULL;
		}
		struct vm_page *fresh[PTP_LEVELS];
		int n = lvl - 1;
		if (ptp_alloc_n(fresh, (unsigned)n) != 0)
			return NULL;
		/* fresh[i] is the table of level lvl-1-i; chain them, deepest first */
		for (int i = n - 1; i > 0; i--) {
			int l = lvl - 1 - (i - 1); /* level of fresh[i-1] */
			atomic_store_explicit(pte_slot(ptp_va(fresh[i - 1]), pl_index(va, l)),
			    fresh[i]->phys_addr | pdebits, memory_order_relaxed);
			engine_charge_cur(EC_PTE_WRITE); /* virtual time (docs/engine.md) */
			fresh[i - 1]->mdpage.mp_ptpcount = 1;
		}
		/* release: publishes the zeroed, chained levels */
		atomic_store_explicit(slot, fresh[0]->phys_addr | pdebits, memory_order_release);
		engine_charge_cur(EC_PTE_WRITE);
		PHYS_TO_VM_PAGE(table)->mdpage.mp_ptpcount++;
		for (int i = 0; i < n; i++)
			if (ptps)
				ptps[lvl - 1 - i] = fresh[i];
		table = fresh[n - 1]->phys_addr;
	}
	if (ptps)
		ptps[1] = PHYS_TO_VM_PAGE(table);
	return pte_slot(phys_to_host(table), pl_index(va, 1));
}

/*
 * One entry of ptps[1] went away: free every level that became empty.
 * => pm_lock held; user pmaps only (the root stays)
 */
static void pmap_ptp_unref(struct pmap *pm, vaddr_t va, struct vm_page **ptps)
{
	KASSERT(!pmap_is_kernel(pm));
	for (int lvl = 1; lvl < PTP_LEVELS; lvl++) {
		struct vm_page *pg = ptps[lvl];
		KASSERTMSG(pg->mdpage.mp_ptpcount > 0, "ptp %#lx count underflow", (unsigned long)pg->phys_addr);
		if (--pg->mdpage.mp_ptpcount > 0)
			return;
		_Atomic pt_entry_t *slot = pte_slot(ptp_va(ptps[lvl + 1]), pl_index(va, lvl + 1));
		atomic_store_explicit(slot, 0, memory_order_release);
		engine_charge_cur(EC_PTE_WRITE);
		ptp_retire(pm, pg);
		if (sd()->sd_ptp_freed != NULL)
			sd()->sd_ptp_freed(&pm->pm_ctx);
		if (ptps[lvl + 1] == pm->pm_root) {
			pm->pm_root->mdpage.mp_ptpcount--;
			return;
		}
	}
}

/* ---- pv lists ---- */

static void pv_insert(struct vm_page *pg, struct pv_entry *pv)
{
	KASSERT(mutex_owned(&pg->mdpage.mp_pvlock));
	pv->pv_next = pg->mdpage.mp_pvlist;
	pg->mdpage.mp_pvlist = pv;
}

static struct pv_entry *pv_remove(struct vm_page *pg, struct pmap *pm, vaddr_t va)
{
	KASSERT(mutex_owned(&pg->mdpage.mp_pvlock));
	for (struct pv_entry **pp = &pg->mdpage.mp_pvlist; *pp != NULL; pp = &(*pp)->pv_next) {
		struct pv_entry *pv = *pp;
		if (pv->pv_pmap == pm && pv->pv_va == va) {
			*pp = pv->pv_next;
			return pv;
		}
	}
	panic("pv_remove: no pv entry for pmap %p va %#lx on page %#lx", (void *)pm, (unsigned long)va,
	    (unsigned long)pg->phys_addr);
}

/*
 * pv entries.  NetBSD takes them from pmap_pv_cache, a pool_cache, whose
 * per-CPU caches make a get and a put touch only the CPU's own lines; and
 * its pmap_enter() takes the entry before it locks the pmap, handing it
 * back if the mapping needed none.  So here: a CPU's freed entries wait in
 * its own list (up to PV_CACHE_MAX), and pmap_enter() takes one before
 * pm_lock.  docs/performance.md, section 29.
 */
#define PV_CACHE_MAX 64

/* The calling CPU's pmap state; NULL on a thread that is no CPU. */
static inline struct pmap_cpu *pmap_cpu_cur(void)
{
	struct cpu_info *ci = curcpu();
	return ci != NULL ? ci->ci_pmap_md : NULL;
}

static struct pv_entry *pv_get(void)
{
	struct pmap_cpu *pc = pmap_cpu_cur();
	if (pc != NULL && pc->pc_pv != NULL) {
		struct pv_entry *pv = pc->pc_pv;
		pc->pc_pv = pv->pv_next;
		pc->pc_npv--;
		return pv;
	}
	struct pv_entry *pv = mem_alloc(struct pv_entry, 1);
	if (pv != NULL)
		stats_inc(&pmap_pv_allocs);
	return pv;
}

static void pv_put(struct pv_entry *pv)
{
	if (pv == NULL)
		return;
	struct pmap_cpu *pc = pmap_cpu_cur();
	if (pc == NULL || pc->pc_npv >= PV_CACHE_MAX) {
		free(pv);
		return;
	}
	pv->pv_next = pc->pc_pv;
	pc->pc_pv = pv;
	pc->pc_npv++;
}

/* The page remembers what the walker recorded in a PTE (and `more`:
 * PP_ATTRS_LAZY, in the same RMW — the lazy guard's order). */
static void pmap_harvest(struct vm_page *pg, pt_entry_t opte, uint32_t more)
{
	uint32_t a = ((opte & PTE_A) ? PP_ATTRS_R : 0) | ((opte & PTE_D) ? PP_ATTRS_M : 0) | more;
	if (a)
		atomic_fetch_or(&pg->mdpage.mp_attrs, a);
}

/* Hand a changed PTE's invalidation to the strategy (and count it for
 * update_cost's completions). */
static void pmap_invalidate(struct pmap *pm, vaddr_t va, pt_entry_t opte, enum sd_inv_kind kind)
{
	struct cpu_info *ci = curcpu();
	if (ci != NULL) {
		struct pmap_cpu *pc = ci->ci_pmap_md;
		pc->pc_ninv++;
		pc->pc_nkinv += pmap_is_kernel(pm);
	}
	stats_inc(&pmap_invals);
	sd()->sd_invalidate(&pm->pm_ctx, va, opte, kind);
}

/* ---- the lazy guard (see the top of this file) ---- */

/* Every lazily posted invalidation is complete everywhere on return, and
 * removals queued but not yet posted will drain at their pmap_update(). */
static void pmap_lazy_barrier(void)
{
	/* seq_cst, before the drain: a remover that read the old value
	 * before its removal sees the new one at its update */
	atomic_fetch_add(&pmap_lazy_gen, 1);
	sd_lazy_drain();
}

/* A removal that the strategy may complete lazily: remember it.
 * => pm_lock held (a user pmap), before the page's flag is set */
static uint32_t pmap_lazy_note(struct pmap *pm, vaddr_t va)
{
	struct pmap_cpu *pc = curcpu()->ci_pmap_md;
	if (!pc->pc_lazy) {
		pc->pc_lazy_gen = atomic_load(&pmap_lazy_gen); /* seq_cst: before the range and the flag */
		pc->pc_lazy = true;
	}
	if (pm->pm_lazy_lo >= pm->pm_lazy_hi) {
		pm->pm_lazy_lo = va;
		pm->pm_lazy_hi = va + PAGE_SIZE;
	} else {
		if (va < pm->pm_lazy_lo)
			pm->pm_lazy_lo = va;
		if (va + PAGE_SIZE > pm->pm_lazy_hi)
			pm->pm_lazy_hi = va + PAGE_SIZE;
	}
	return PP_ATTRS_LAZY;
}

/* ---- what a completion costs ---- */

/*
 * update_cost: the time a CPU spends in the pmap's page operations and
 * completions, per completion (a pmap_update(), or a page operation that
 * completes synchronously).  A sample is the time inside every page
 * operation since the CPU's previous completion plus the completion
 * itself, whether or not anything was sent: a strategy that interrupts
 * nobody still pays its pmap_update(), and one that shoots inside the page
 * operations (immediate) pays there.  Every strategy sees the same calls
 * from a workload, so the samples compare across strategies.  Nested
 * operations (a pmap_sync inside a page operation) count once; a thread
 * that is no simulated CPU counts nothing.  A completion is timed or not
 * as a whole: one in stats.update_sample, drawn from the CPU's own
 * generator when the previous one ends (by default every one in virtual
 * time); an untimed one reads no clock, and every one counts in
 * pmap.completions.  Two host clock reads per page
 * operation were a quarter of a private munmap cycle:
 * docs/performance.md, section 22.
 */

static inline struct pmap_cpu *pmap_op_begin(void)
{
	struct cpu_info *ci = curcpu();
	if (ci == NULL || !stats_on)
		return NULL;
	struct pmap_cpu *pc = ci->ci_pmap_md;
	if (pc->pc_depth++ == 0 && pc->pc_timed)
		pc->pc_op_t0 = cpu_now_ns();
	return pc;
}

static inline void pmap_op_end(struct pmap_cpu *pc)
{
	if (pc == NULL || --pc->pc_depth != 0)
		return;
	if (pc->pc_timed)
		pc->pc_cost += cpu_now_ns() - pc->pc_op_t0;
	if (!pc->pc_synced)
		return;
	stats_inc(&pmap_completions);
	if (pc->pc_ninv != 0)
		stats_inc(&pmap_flushes);
	if (pc->pc_nkinv != 0)
		stats_inc(&pmap_kflushes);
	if (pc->pc_timed) {
		stats_hist_record(&pmap_cost_h, pc->pc_cost);
		if (pc->pc_nkinv != 0)
			stats_hist_record(&pmap_kcost_h, pc->pc_cost);
	}
	pc->pc_cost = 0;
	pc->pc_synced = false;
	pc->pc_ninv = pc->pc_nkinv = 0;
	pc->pc_timed = stats_sample_draw(pc->pc_sample_rng, pmap_cost_thr);
}

/* A page operation took PP_ATTRS_LAZY off its page (`lazy`): no lazily
 * removed mapping of the page may be used once the operation returns. */
static void pmap_lazy_pageop(bool lazy)
{
	if (__predict_true(!lazy))
		return;
	stats_inc(&pmap_lazy_pageops);
	pmap_lazy_barrier();
}

/* A point inside pm_lock's critical section (pmap_enter, pmap_remove,
 * pmap_protect, after each entry): an interrupt point, since NetBSD holds
 * pm_lock with interrupts enabled ("Interrupts" above), and where
 * inject.yield may yield. */
static inline void pmap_intr_inside(void)
{
	cpu_inject_yield();
	cpu_intr_poll();
}

/* pm_resident and pm_wired by d: a user pmap changes them under pm_lock,
 * so a plain add does (no locked instruction inside the critical section
 * both CPUs of a shared pmap queue for: docs/performance.md, section 12);
 * the kernel pmap's pmap_kenter_pa() and pmap_kremove() take no lock, so
 * its counts take an atomic add.  Readers load them relaxed. */
static inline void pmap_stat_add(struct pmap *pm, _Atomic long *count, long d)
{
	if (pmap_is_kernel(pm))
		atomic_fetch_add_explicit(count, d, memory_order_relaxed);
	else
		atomic_store_explicit(count, atomic_load_explicit(count, memory_order_relaxed) + d, memory_order_relaxed);
}

/*
 * Remove the mapping in *ptep and queue its invalidation.
 * => pm_lock held (or a kernel unmanaged mapping: no lock)
 * => pv_locked: the caller holds the page's pv lock
 * => sync: the removal must be complete when the operation returns: the
 *    VA gets a new frame at once (pmap_enter over it), or a page operation
 *    that completes synchronously (pmap_page_protect) does it
 * Returns the old PTE (0 if there was no mapping).
 *
 * A lazy strategy (latr, netbsd-mi) may complete a removal after
 * pmap_update() returns: the frame is held back, but a CPU may still read
 * the old frame through the VA meanwhile.  That is acceptable only when
 * nothing new appears at the VA before the lazy sweep — not when pmap_enter
 * replaces the frame (a COW break), and not for kernel VAs, which the
 * kernel's allocators hand out again at once.  Those are queued as
 * downgrades, which every strategy completes before pmap_update() returns.
 * What a lazy removal leaves behind is the lazy guard's (top of file).
 */
static pt_entry_t pmap_remove_pte_kind(struct pmap *pm, _Atomic pt_entry_t *ptep, vaddr_t va, bool pv_locked,
    bool sync);
static pt_entry_t pmap_remove_pte(struct pmap *pm, _Atomic pt_entry_t *ptep, vaddr_t va, bool pv_locked)
{
	return pmap_remove_pte_kind(pm, ptep, va, pv_locked, false);
}

static pt_entry_t pmap_remove_pte_kind(struct pmap *pm, _Atomic pt_entry_t *ptep, vaddr_t va, bool pv_locked,
    bool sync)
{
	check_inflight_add(curcpu(), va); /* the update oracle: before the change */
	pt_entry_t opte = atomic_exchange(ptep, 0);
	engine_charge_cur(EC_PTE_WRITE);
	if (!(opte & PTE_SWV))
		return 0;
	enum sd_inv_kind kind = sync || pmap_is_kernel(pm) ? SD_INV_DOWNGRADE : SD_INV_REMOVE;
	/* a TLB may cache it only if the walker marked it (sd_pte_cached) */
	uint32_t lazy = 0;
	if (pmap_lazy_guard && kind == SD_INV_REMOVE && (opte & (PTE_A | PTE_SWA)))
		lazy = pmap_lazy_note(pm, va);
	if (opte & PTE_MANAGED) {
		struct vm_page *pg = pte_page(opte);
		pmap_harvest(pg, opte, lazy);
		if (!pv_locked)
			mutex_enter(&pg->mdpage.mp_pvlock);
		struct pv_entry *pv = pv_remove(pg, pm, va);
		if (!pv_locked)
			mutex_exit(&pg->mdpage.mp_pvlock);
		pv_put(pv);
	}
	pmap_stat_add(pm, &pm->pm_resident, -1);
	if (opte & PTE_WIRED)
		pmap_stat_add(pm, &pm->pm_wired, -1);
	pmap_invalidate(pm, va, opte, kind);
	stats_inc(&pmap_removes);
	return opte;
}

/*
 * Complete this CPU's invalidations, then retire page-table pages.
 * `now`: the operation must be complete on every CPU when it returns
 * (pmap_page_protect, pmap_clear_*, pmap_destroy), even with a lazy
 * strategy (sd_sync); otherwise it is pmap_update() (sd_update).
 */
static void pmap_sync(bool now)
{
	struct cpu_info *ci = pmap_need_cpu();
	ptp_retired_ask(ci);
	if (now && sd()->sd_sync != NULL)
		sd()->sd_sync();
	else
		sd()->sd_update();
	struct pmap_cpu *pc = ci->ci_pmap_md;
	if (pc->pc_lazy) {
		pc->pc_lazy = false;
		/* a fallback of the lazy guard ran since this CPU queued a lazy
		 * removal: it could not drain what was not posted; now it is
		 * (sd_sync completed this batch synchronously anyway) */
		if (!now && atomic_load(&pmap_lazy_gen) != pc->pc_lazy_gen) {
			stats_inc(&pmap_lazy_lates);
			sd_lazy_drain();
		}
	}
	check_inflight_done(ci); /* everything this CPU changed is complete */
	pc->pc_synced = true;      /* update_cost: a completion */
	ptp_retired_complete(ci); /* so are the unlinks of the pages it retired */
}

/* ---- boot ---- */

#define PMAP_UPDATE_SAMPLE 8 /* stats.update_sample's value under threads */

const struct cfg_key pmap_keys[] = {
	CFG_KEY("stats.update_sample", CFG_UINT, 0, 1u << 20, NULL, "0",
	    "update_cost times one completion in this many, drawn at random (1: every one). 0: every one under "
	    "`machine.engine = virtual`, whose clock costs nothing to read, and one in " CFG_STR(PMAP_UPDATE_SAMPLE)
	    " under threads, where a timed completion costs two host clock reads per page operation. Percentiles "
	    "are over the timed completions; `update_cost_per_op` scales their mean by all completions "
	    "(`pmap.completions`)"),
	{0},
};

static int pmap_grow_to(vaddr_t maxkvaddr, bool canfail)
{
	struct pmap *pm = &kernel_pmap_store;
	if (maxkvaddr > VM_MAX_KERNEL_ADDRESS)
		maxkvaddr = VM_MAX_KERNEL_ADDRESS;
	const vaddr_t l1span = (vaddr_t)NPTEPG << PAGE_SHIFT; /* 2 MiB per L1 page */
	vaddr_t end = atomic_load(&kernel_virtual_end);
	while (end < maxkvaddr) {
		if (pmap_pte_lookup(pm, end, true, NULL) == NULL) {
			if (canfail)
				return ENOMEM;
			panic("pmap_growkernel: out of physical memory at %#lx", (unsigned long)end);
		}
		end += l1span;
		atomic_store_explicit(&kernel_virtual_end, end, memory_order_release);
	}
	return 0;
}

static int pmap_refmod_fault(_Atomic pt_entry_t *ptep, pt_entry_t pte, int access);
static bool pmap_pending(struct cpu_info *ci, vaddr_t va, uint16_t pcid);

/*
 * Boots the pmap on a machine whose hardware exists (core/boot.c's
 * machine_boot calls it after machine_hw_boot): installs the machine's
 * upcalls, selects the strategy, builds the kernel's page tables.
 */
int pmap_boot(struct machine *m)
{
	/* the upcalls the machine makes into the pmap and its strategy */
	m->m_hooks.mh_cpu_detach = pmap_cpu_detach;
	m->m_hooks.mh_refmod_fault = pmap_refmod_fault;
	m->m_hooks.mh_pending = pmap_pending;
	const struct shootdown_strategy *s = shootdown_find(m->m_cfg.mc_strategy);
	if (s == NULL || (s->sd_unsafe && !m->m_cfg.mc_sd_unsafe)) {
		char why[384];
		shootdown_check_name(m->m_cfg.mc_strategy, m->m_cfg.mc_sd_unsafe, why, sizeof(why));
		return machine_seterr(EINVAL, "shootdown.strategy: %s", why);
	}
	shootdown_current = s;
	/* the strategy's machine-level hooks: NULL ones cost the machine a test */
	m->m_hooks.mh_tick = s->sd_tick;
	m->m_hooks.mh_page_free = s->sd_free;
	m->m_hooks.mh_page_reclaim = s->sd_free != NULL ? sd_reclaim_deferred : NULL;
	m->m_hooks.mh_fill = s->sd_fill;
	m->m_hooks.mh_tlb_inbox = s->sd_inbox;
	/* the IPI handler is the strategy's own: no hop through the pmap */
	m->m_hooks.mh_ipi_shootdown = s->sd_ipi;
	m->m_sd_lazy = s->sd_lazy;
	pmap_lazy_guard = s->sd_lazy && !s->sd_unguarded;
	atomic_store(&pmap_lazy_gen, 0);
	mutex_init(&pmaps_lock, LC_PMAPS);
	mutex_init(&pmap_inject_lock, LC_PMAP);
	/* one line per CPU (struct pmap_cpu is cache-line aligned): a CPU's
	 * pmap state shares no line with another's */
	pmap_cpus = mem_zalloc(struct pmap_cpu, m->m_ncpu);
	pcid_free = mem_alloc(uint16_t, PCID_MAX);
	if (pmap_cpus == NULL || pcid_free == NULL)
		return machine_seterr(ENOMEM, "machine.cpus: no host memory for the pmap's per-CPU state");
	/* update_cost's sample: every completion under virtual time (its
	 * clock costs nothing to read), one in 8 under threads, unless
	 * stats.update_sample says; each CPU its own sequence (ci_sample_rng,
	 * seeded as it attaches), the same every run, and the first completion
	 * timed */
	unsigned every = (unsigned)machine_knob(&m->m_cfg, &pmap_keys[0]);
	if (every == 0)
		every = m->m_cfg.mc_engine == MACHINE_ENGINE_VIRTUAL ? 1 : PMAP_UPDATE_SAMPLE;
	pmap_cost_thr = stats_sample_threshold(every);
	for (unsigned i = 0; i < m->m_ncpu; i++) {
		m->m_cpus[i].ci_pmap_md = &pmap_cpus[i];
		pmap_cpus[i].pc_sample_rng = &m->m_cpus[i].ci_sample_rng;
		pmap_cpus[i].pc_timed = true;
	}
	int perr = ptp_boot(m, pmap_cpus);
	if (perr != 0)
		return perr;
	m->m_hooks.mh_ptp_reclaim = ptp_reclaim;
	pcid_nfree = 0;
	for (unsigned p = PCID_MAX; p >= 1; p--)
		pcid_free[pcid_nfree++] = (uint16_t)p;

	struct pmap *kpm = &kernel_pmap_store;
	memset(kpm, 0, sizeof(*kpm));
	mutex_init(&kpm->pm_lock, LC_PMAP);
	atomic_store(&kpm->pm_refcnt, 1);
	kpm->pm_ctx.mc_kernel = true;
	kpm->pm_ctx.mc_pcid = 0;
	kpm->pm_root = ptp_alloc();
	if (kpm->pm_root == NULL)
		return machine_seterr(EINVAL, "machine.memory: too small for the kernel's page tables");
	kpm->pm_ctx.mc_root = kpm->pm_root->phys_addr;
	m->m_kernel_root = kpm->pm_root->phys_addr;

	/* initial kernel VA: as much as physical memory, at least 16 MiB (as
	 * NetBSD sizes nkptp from physmem); more comes with pmap_growkernel() */
	vaddr_t initial = m->m_cfg.mc_memory > (16ULL << 20) ? m->m_cfg.mc_memory : (16ULL << 20);
	kernel_virtual_start = VM_MIN_KERNEL_ADDRESS;
	atomic_store(&kernel_virtual_end, VM_MIN_KERNEL_ADDRESS);
	uint64_t before = atomic_load(&m->m_free_count);
	if (pmap_grow_to(VM_MIN_KERNEL_ADDRESS + initial, true) != 0 ||
	    atomic_load(&m->m_free_count) < 2 * m->m_reserve + 16) {
		uint64_t used = before - atomic_load(&m->m_free_count) + 1;
		return machine_seterr(EINVAL,
		    "machine.memory: %lu pages are too few: the kernel's page tables take %lu and %lu more are "
		    "needed to run", (unsigned long)m->m_npages, (unsigned long)used,
		    (unsigned long)(2 * m->m_reserve + 16));
	}
	int err = sd_common_boot(m);
	if (err == 0)
		err = s->sd_boot(m);
	if (err != 0)
		return err;
	pmap_initialized = false;
	return 0;
}

/* After a boot, even a failed one (core/boot.c's machine_halt). */
void pmap_halt(struct machine *m)
{
	if (shootdown_current != NULL && shootdown_current->sd_halt != NULL)
		shootdown_current->sd_halt(m);
	sd_common_halt();
	shootdown_current = NULL;
	ptp_halt();
	for (unsigned i = 0; pmap_cpus != NULL && i < m->m_ncpu; i++)
		while (pmap_cpus[i].pc_pv != NULL) {
			struct pv_entry *pv = pmap_cpus[i].pc_pv;
			pmap_cpus[i].pc_pv = pv->pv_next;
			free(pv);
		}
	free(pmap_cpus);
	pmap_cpus = NULL;
	free(pcid_free);
	pcid_free = NULL;
	pmap_initialized = false;
}

static bool pmap_pending(struct cpu_info *ci, vaddr_t va, uint16_t pcid)
{
	return shootdown_current->sd_pending != NULL && shootdown_current->sd_pending(ci, va, pcid);
}

/* ---- required functions ---- */

void pmap_init(void)
{
	KASSERTMSG(machine_cur != NULL, "pmap_init before machine_boot");
	pmap_initialized = true;
}

void pmap_virtual_space(vaddr_t *vstartp, vaddr_t *vendp)
{
	*vstartp = kernel_virtual_start;
	/* pmap_growkernel() is provided: the end is the maximum kernel VA */
	*vendp = VM_MAX_KERNEL_ADDRESS;
}

pmap_t pmap_create(void)
{
	struct pmap *pm;
	if ((pm = mem_alloc(struct pmap, 1)) == NULL)
		panic("pmap_create: out of host memory");
	memset(pm, 0, sizeof(*pm));
	mutex_init(&pm->pm_lock, LC_PMAP);
	atomic_store(&pm->pm_refcnt, 1);
	/* NetBSD waits (PR_WAITOK) rather than fail */
	while ((pm->pm_root = ptp_alloc()) == NULL)
		phys_wait();
	pm->pm_ctx.mc_root = pm->pm_root->phys_addr;
	mutex_enter(&pmaps_lock);
	if (pcid_nfree == 0)
		panic("pmap_create: more than %d live pmaps", PCID_MAX);
	pm->pm_ctx.mc_pcid = pcid_free[--pcid_nfree];
	mutex_exit(&pmaps_lock);
	return pm;
}

void pmap_reference(pmap_t pm)
{
	atomic_fetch_add(&pm->pm_refcnt, 1);
}

void pmap_destroy(pmap_t pm)
{
	if (atomic_fetch_sub(&pm->pm_refcnt, 1) != 1)
		return;
	KASSERT(!pmap_is_kernel(pm));
	KASSERTMSG(atomic_load(&pm->pm_resident) == 0, "pmap_destroy: %ld pages still mapped",
	    atomic_load(&pm->pm_resident));
	KASSERTMSG(kcpuset_iszero(&pm->pm_ctx.mc_active), "pmap_destroy: pmap still active");
	struct pmap_cpu *pc = pmap_op_begin();
	/* everything queued must be complete before the PCID is reused (a
	 * lazy strategy's older requests are swept by every CPU before it
	 * loads a context: see their sd_switch) */
	pmap_sync(true);
	/* CPUs that kept entries tagged with this PCID drop them lazily: the
	 * PCID is recycled only after the strategy completed every request,
	 * and an empty pmap has no valid entries left to cache */
	struct vm_page *root = pm->pm_root;
	KASSERTMSG(root->mdpage.mp_ptpcount == 0, "pmap_destroy: root still has %u tables",
	    root->mdpage.mp_ptpcount);
	/* walks start only from a CPU's current pmap, and this one is loaded
	 * nowhere: the root is free at once (through the CPU's cache) */
	ptp_retire(pm, root);
	ptp_retired_complete(curcpu());
	mutex_enter(&pmaps_lock);
	pcid_free[pcid_nfree++] = pm->pm_ctx.mc_pcid;
	mutex_exit(&pmaps_lock);
	mutex_destroy(&pm->pm_lock);
	free(pm);
	pmap_op_end(pc);
}

long pmap_resident_count(pmap_t pm)
{
	return atomic_load_explicit(&pm->pm_resident, memory_order_relaxed);
}

long pmap_wired_count(pmap_t pm)
{
	return atomic_load_explicit(&pm->pm_wired, memory_order_relaxed);
}

static void pmap_check_va(struct pmap *pm, vaddr_t va, const char *fn)
{
	if (pmap_is_kernel(pm)) {
		vaddr_t end = atomic_load_explicit(&kernel_virtual_end, memory_order_acquire);
		if (va < VM_MIN_KERNEL_ADDRESS || va >= end)
			panic("%s: kernel va %#lx outside [%#lx, %#lx) (pmap_growkernel?)", fn, (unsigned long)va,
			    (unsigned long)VM_MIN_KERNEL_ADDRESS, (unsigned long)end);
	} else if (va >= VM_MAXUSER_ADDRESS) {
		panic("%s: user va %#lx beyond VM_MAXUSER_ADDRESS", fn, (unsigned long)va);
	}
}

static pt_entry_t pmap_cache_bits(unsigned flags)
{
	switch (flags & PMAP_CACHE_MASK) {
	case PMAP_NOCACHE:
		return PTE_PCD | PTE_PWT;
	case PMAP_NOCACHE_OVR:
		return PTE_PCD;
	case PMAP_WRITE_COMBINE:
		return PTE_PAT | PTE_PWT;
	default:
		return 0; /* write-back */
	}
}

/*
 * The new PTE's hardware bits.  Hardware A/D: valid and writable as the
 * protection says, A/D seeded with the access type (NetBSD x86 sets PG_U /
 * PG_M from flags).  Software A/D: a managed PTE gets V only once the page
 * is referenced and W only once it is modified (seeded by the access type,
 * or by the page's attributes when they are already set).
 */
static pt_entry_t pmap_hw_bits(pt_entry_t npte, unsigned flags, struct vm_page *pg)
{
	bool refd = flags & VM_PROT_ALL, modd = flags & VM_PROT_WRITE;
	if (machine_cur->m_cfg.mc_refmod == MMU_REFMOD_SOFTWARE && (npte & PTE_MANAGED)) {
		uint32_t a = atomic_load(&pg->mdpage.mp_attrs);
		refd = refd || (a & PP_ATTRS_R);
		modd = modd || (a & PP_ATTRS_M);
		if (refd || modd)
			npte |= PTE_V | PTE_A;
		if (modd && (npte & PTE_SWW))
			npte |= PTE_W | PTE_D | PTE_V | PTE_A;
		return npte;
	}
	if (machine_cur->m_cfg.mc_refmod == MMU_REFMOD_SOFTWARE) {
		/* unmanaged: no emulation, no tracking; a TLB may always hold it */
		npte |= PTE_V | PTE_A | ((npte & PTE_SWW) ? PTE_W | PTE_D : 0);
		return npte;
	}
	npte |= PTE_V | ((npte & PTE_SWW) ? PTE_W : 0);
	if (refd)
		npte |= PTE_A;
	if (modd && (npte & PTE_SWW))
		npte |= PTE_D;
	return npte;
}

static int pmap_enter1(pmap_t pm, vaddr_t va, paddr_t pa, vm_prot_t prot, unsigned flags);

int pmap_enter(pmap_t pm, vaddr_t va, paddr_t pa, vm_prot_t prot, unsigned flags)
{
	struct pmap_cpu *pc = pmap_op_begin();
	int err = pmap_enter1(pm, va, pa, prot, flags);
	pmap_op_end(pc);
	return err;
}

static int pmap_enter1(pmap_t pm, vaddr_t va, paddr_t pa, vm_prot_t prot, unsigned flags)
{
	KASSERTMSG((flags & VM_PROT_ALL & ~(unsigned)prot) == 0, "pmap_enter: access type %#x exceeds prot %#x",
	    flags & VM_PROT_ALL, prot);
	va = trunc_page(va);
	cpu_intr_poll(); /* see "Interrupts" at the top of this file */
	pmap_check_va(pm, va, "pmap_enter");
	struct vm_page *pg = PHYS_TO_VM_PAGE(pa);
	if (pg == NULL)
		panic("pmap_enter: pa %#lx is outside simulated physical memory", (unsigned long)pa);
	pa = trunc_page(pa);
	bool kernel = pmap_is_kernel(pm);
	bool wired = flags & PMAP_WIRED;
	pt_entry_t npte = pa | PTE_SWV | PTE_MANAGED | ((prot & VM_PROT_WRITE) ? PTE_SWW : 0) |
	    ((prot & VM_PROT_EXECUTE) ? 0 : PTE_NX) | (kernel ? PTE_G : PTE_U) | pmap_cache_bits(flags) |
	    (wired ? PTE_WIRED : 0);
	npte = pmap_hw_bits(npte, flags, pg);
	stats_inc(&pmap_enters);
	/* inject.allocfail: the page-table or pv allocation of a CANFAIL
	 * caller fails, as under a real shortage */
	if ((flags & PMAP_CANFAIL) && inject_allocfail()) {
		stats_inc(&pmap_enomem);
		return ENOMEM;
	}

	/* the pv entry a new mapping needs, before the lock (pv_get) */
	struct pv_entry *pv = pv_get();
	mutex_enter(&pm->pm_lock);
	if (__predict_false(pv == NULL)) {
		/* the host had no memory for one: only a change of an existing
		 * mapping of this frame needs none.  Anything else fails now,
		 * before a table is allocated or an old mapping removed */
		_Atomic pt_entry_t *p = pmap_pte_lookup(pm, va, false, NULL);
		pt_entry_t o = p != NULL ? atomic_load(p) : 0;
		if (!(o & PTE_SWV) || pte_pa(o) != pa) {
			mutex_exit(&pm->pm_lock);
			if (flags & PMAP_CANFAIL) {
				stats_inc(&pmap_enomem);
				return ENOMEM;
			}
			panic("pmap_enter: no memory for a pv entry");
		}
	}
	struct vm_page *ptps[PTP_LEVELS + 1];
	_Atomic pt_entry_t *ptep = pmap_pte_lookup(pm, va, true, ptps);
	pmap_intr_inside();
	if (ptep == NULL) {
		mutex_exit(&pm->pm_lock);
		pv_put(pv);
		if (flags & PMAP_CANFAIL) {
			stats_inc(&pmap_enomem);
			return ENOMEM;
		}
		panic("pmap_enter: no page-table page for va %#lx and no PMAP_CANFAIL", (unsigned long)va);
	}
	pt_entry_t opte = atomic_load(ptep);
	if (!(opte & PTE_SWV) && pmap_lazy_guard && va >= pm->pm_lazy_lo && va < pm->pm_lazy_hi) {
		/* the lazy guard: a removed translation of this VA may still be
		 * cached; none may be once the new one exists.  Every lazy
		 * removal in the range happened under pm_lock before now, so
		 * after the barrier none is left (or its update drains): the
		 * range starts afresh */
		stats_inc(&pmap_lazy_reuses);
		pmap_lazy_barrier();
		pm->pm_lazy_lo = pm->pm_lazy_hi = 0;
	}
	if ((opte & PTE_SWV) && pte_pa(opte) != pa) {
		/* a new frame: the old mapping goes first (its invalidation queued) */
		KASSERTMSG(opte & PTE_MANAGED, "pmap_enter over a pmap_kenter_pa mapping at %#lx", (unsigned long)va);
		pmap_remove_pte_kind(pm, ptep, va, false, true);
		if (!kernel)
			ptps[1]->mdpage.mp_ptpcount--; /* re-added below; the tables stay */
		opte = 0;
	}
	if (opte & PTE_SWV) {
		/* same frame: new protection, wiring or cache mode */
		KASSERTMSG(opte & PTE_MANAGED, "pmap_enter over a pmap_kenter_pa mapping at %#lx", (unsigned long)va);
		check_inflight_add(curcpu(), va);
		pt_entry_t n;
		do {
			n = npte | (opte & (PTE_A | PTE_D | PTE_V));
			if ((opte & PTE_W) && (n & PTE_SWW))
				n |= PTE_W; /* keep the software-emulated "modified" state */
			if (!(n & PTE_SWW))
				n &= ~(pt_entry_t)PTE_W;
		} while (!atomic_compare_exchange_weak(ptep, &opte, n));
		engine_charge_cur(EC_PTE_WRITE);
		bool lost_rights = ((opte & PTE_W) && !(n & PTE_W)) || (!(opte & PTE_NX) && (n & PTE_NX)) ||
		    ((opte ^ n) & PTE_CACHEBITS);
		if (lost_rights)
			pmap_invalidate(pm, va, opte, SD_INV_DOWNGRADE);
		if ((opte & PTE_WIRED) && !wired)
			atomic_fetch_sub(&pm->pm_wired, 1);
		else if (!(opte & PTE_WIRED) && wired)
			atomic_fetch_add(&pm->pm_wired, 1);
	} else {
		KASSERT(pv != NULL); /* checked above: a new mapping */
		pv->pv_pmap = pm;
		pv->pv_va = va;
		/* the pv entry exists before the mapping does: pmap_page_protect
		 * never misses a live mapping of the page */
		mutex_enter(&pg->mdpage.mp_pvlock);
		pv_insert(pg, pv);
		pv = NULL; /* the page's now */
		atomic_store(ptep, npte);
		engine_charge_cur(EC_PTE_WRITE);
		mutex_exit(&pg->mdpage.mp_pvlock);
		if (!kernel)
			ptps[1]->mdpage.mp_ptpcount++;
		pmap_stat_add(pm, &pm->pm_resident, 1);
		if (wired)
			pmap_stat_add(pm, &pm->pm_wired, 1);
	}
	if (npte & (PTE_A | PTE_D))
		pmap_harvest(pg, npte, 0);
	mutex_exit(&pm->pm_lock);
	pv_put(pv); /* not needed: the same frame */
	return 0;
}

/* Visit each L1 slot of [sva, eva) that exists; skips absent tables. */
#define L1_SPAN ((vaddr_t)NPTEPG << PAGE_SHIFT)

void pmap_remove(pmap_t pm, vaddr_t sva, vaddr_t eva)
{
	struct pmap_cpu *pc = pmap_op_begin();
	sva = trunc_page(sva);
	eva = round_page(eva);
	bool kernel = pmap_is_kernel(pm);
	cpu_intr_poll(); /* see "Interrupts" at the top of this file */
	mutex_enter(&pm->pm_lock);
	for (vaddr_t va = sva; va < eva && va >= sva;) {
		struct vm_page *ptps[PTP_LEVELS + 1];
		vaddr_t skip = 0;
		_Atomic pt_entry_t *ptep = pmap_pte_lookup_skip(pm, va, false, ptps, &skip);
		if (ptep == NULL) {
			va = skip; /* a whole table is absent (0 on wrap: the loop ends) */
			continue;
		}
		vaddr_t end = (va & ~(L1_SPAN - 1)) + L1_SPAN;
		if (end > eva || end < va)
			end = eva;
		for (; va < end; va += PAGE_SIZE, ptep++) {
			pt_entry_t pte = atomic_load_explicit(ptep, memory_order_relaxed);
			if (!(pte & PTE_SWV))
				continue;
			KASSERTMSG(pte & PTE_MANAGED, "pmap_remove of a pmap_kenter_pa mapping at %#lx (use pmap_kremove)",
			    (unsigned long)va);
			pmap_remove_pte(pm, ptep, va, false);
			pmap_intr_inside();
			if (!kernel) {
				bool last = ptps[1]->mdpage.mp_ptpcount == 1;
				pmap_ptp_unref(pm, va, ptps);
				if (last) {
					va += PAGE_SIZE;
					break; /* the table is gone; look the next one up */
				}
			}
		}
	}
	mutex_exit(&pm->pm_lock);
	pmap_op_end(pc);
}

void pmap_remove_all(pmap_t pm)
{
	/* "free to remove all the mappings immediately": do that */
	pmap_remove(pm, VM_MIN_ADDRESS, pmap_is_kernel(pm) ? VM_MIN_ADDRESS : VM_MAXUSER_ADDRESS);
}

static void pmap_protect1(pmap_t pm, vaddr_t sva, vaddr_t eva, vm_prot_t prot);

void pmap_protect(pmap_t pm, vaddr_t sva, vaddr_t eva, vm_prot_t prot)
{
	struct pmap_cpu *pc = pmap_op_begin();
	pmap_protect1(pm, sva, eva, prot);
	pmap_op_end(pc);
}

static void pmap_protect1(pmap_t pm, vaddr_t sva, vaddr_t eva, vm_prot_t prot)
{
	if (!(prot & VM_PROT_READ)) {
		pmap_remove(pm, sva, eva);
		return;
	}
	/* only lowers (NetBSD x86 pmap_write_protect()); raising rights is
	 * pmap_enter()'s job */
	cpu_intr_poll(); /* see "Interrupts" at the top of this file */
	pt_entry_t clear = 0, set = 0;
	if (!(prot & VM_PROT_WRITE))
		clear |= PTE_W | PTE_SWW;
	if (!(prot & VM_PROT_EXECUTE))
		set |= PTE_NX;
	if (clear == 0 && set == 0)
		return;
	sva = trunc_page(sva);
	eva = round_page(eva);
	mutex_enter(&pm->pm_lock);
	for (vaddr_t va = sva; va < eva && va >= sva;) {
		vaddr_t skip = 0;
		_Atomic pt_entry_t *ptep = pmap_pte_lookup_skip(pm, va, false, NULL, &skip);
		if (ptep == NULL) {
			va = skip;
			continue;
		}
		vaddr_t end = (va & ~(L1_SPAN - 1)) + L1_SPAN;
		if (end > eva || end < va)
			end = eva;
		for (; va < end; va += PAGE_SIZE, ptep++) {
			pt_entry_t opte = atomic_load(ptep), n;
			if (opte & PTE_SWV)
				check_inflight_add(curcpu(), va);
			do {
				if (!(opte & PTE_SWV))
					break;
				n = (opte & ~clear) | set;
			} while (n != opte && !atomic_compare_exchange_weak(ptep, &opte, n));
			if (!(opte & PTE_SWV) || n == opte)
				continue;
			engine_charge_cur(EC_PTE_WRITE);
			stats_inc(&pmap_protects);
			if (((opte & PTE_W) && !(n & PTE_W)) || (!(opte & PTE_NX) && (n & PTE_NX)))
				pmap_invalidate(pm, va, opte, SD_INV_DOWNGRADE);
			pmap_intr_inside();
		}
	}
	mutex_exit(&pm->pm_lock);
}

void pmap_unwire(pmap_t pm, vaddr_t va)
{
	mutex_enter(&pm->pm_lock);
	_Atomic pt_entry_t *ptep = pmap_pte_lookup(pm, trunc_page(va), false, NULL);
	pt_entry_t opte = ptep ? atomic_load(ptep) : 0;
	if (!(opte & PTE_SWV))
		panic("pmap_unwire: no mapping at va %#lx", (unsigned long)va);
	if (opte & PTE_WIRED) {
		atomic_fetch_and(ptep, ~(pt_entry_t)PTE_WIRED);
		engine_charge_cur(EC_PTE_WRITE);
		atomic_fetch_sub(&pm->pm_wired, 1);
	}
	mutex_exit(&pm->pm_lock);
}

bool pmap_extract(pmap_t pm, vaddr_t va, paddr_t *pap)
{
	/* any kernel-accessible address, direct-mapped ones included, through
	 * any pmap (pmap(9)): the kernel half is every address space's */
	if (!pmap_is_kernel(pm) && va >= VM_MAXUSER_ADDRESS)
		pm = pmap_kernel();
	if (pmap_is_kernel(pm) && va >= PMAP_DIRECT_BASE && va < PMAP_DIRECT_END) {
		paddr_t pa = va - PMAP_DIRECT_BASE;
		if (atop(pa) >= machine_cur->m_npages)
			return false;
		if (pap)
			*pap = pa;
		return true;
	}
	if (pmap_is_kernel(pm) && (va < VM_MIN_KERNEL_ADDRESS || va >= VM_MAX_KERNEL_ADDRESS))
		return false;
	/* lock-free for the kernel; a user pmap's tables could be retired */
	bool locked = !pmap_is_kernel(pm);
	if (locked)
		mutex_enter(&pm->pm_lock);
	_Atomic pt_entry_t *ptep = pmap_pte_lookup(pm, va, false, NULL);
	pt_entry_t pte = ptep ? atomic_load(ptep) : 0;
	if (locked)
		mutex_exit(&pm->pm_lock);
	if (!(pte & PTE_SWV))
		return false;
	if (pap)
		*pap = pte_pa(pte) | (va & PAGE_MASK);
	return true;
}

void pmap_kenter_pa(vaddr_t va, paddr_t pa, vm_prot_t prot, unsigned flags)
{
	struct pmap *pm = &kernel_pmap_store;
	va = trunc_page(va);
	pmap_check_va(pm, va, "pmap_kenter_pa");
	if (PHYS_TO_VM_PAGE(pa) == NULL)
		panic("pmap_kenter_pa: pa %#lx is outside simulated physical memory", (unsigned long)pa);
	KASSERTMSG(!(prot & VM_PROT_EXECUTE), "pmap_kenter_pa: execute permission at %#lx", (unsigned long)va);
	pt_entry_t npte = trunc_page(pa) | PTE_SWV | PTE_WIRED | PTE_G | PTE_NX |
	    ((prot & VM_PROT_WRITE) ? PTE_SWW : 0) | pmap_cache_bits(flags);
	npte = pmap_hw_bits(npte, 0, NULL);
	_Atomic pt_entry_t *ptep = pmap_pte_lookup(pm, va, false, NULL);
	KASSERT(ptep != NULL);
	pt_entry_t opte = atomic_exchange(ptep, npte);
	engine_charge_cur(EC_PTE_WRITE);
	if (opte & PTE_SWV)
		panic("pmap_kenter_pa: va %#lx is already mapped (pte %#lx)", (unsigned long)va, (unsigned long)opte);
	atomic_fetch_add_explicit(&pm->pm_resident, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&pm->pm_wired, 1, memory_order_relaxed);
}

void pmap_kremove(vaddr_t va, vsize_t size)
{
	struct pmap_cpu *pc = pmap_op_begin();
	struct pmap *pm = &kernel_pmap_store;
	vaddr_t eva = round_page(va + size);
	for (va = trunc_page(va); va < eva; va += PAGE_SIZE) {
		pmap_check_va(pm, va, "pmap_kremove");
		_Atomic pt_entry_t *ptep = pmap_pte_lookup(pm, va, false, NULL);
		pt_entry_t pte = atomic_load(ptep);
		if (!(pte & PTE_SWV))
			continue;
		KASSERTMSG(!(pte & PTE_MANAGED), "pmap_kremove of a managed mapping at %#lx", (unsigned long)va);
		pmap_remove_pte(pm, ptep, va, false);
	}
	pmap_op_end(pc);
}

void pmap_copy(pmap_t dst_map, pmap_t src_map, vaddr_t dst_addr, vsize_t len, vaddr_t src_addr)
{
	/* advisory (pmap(9)): the child faults its mappings in instead */
	(void)dst_map, (void)src_map, (void)dst_addr, (void)len, (void)src_addr;
}

void pmap_update(pmap_t pm)
{
	(void)pm; /* the packet is per CPU: it may hold several pmaps' work */
	stats_inc(&pmap_updates);
	struct pmap_cpu *pc = pmap_op_begin();
	pmap_sync(false);
	/* inject.update_locks: a modelled code change that takes a lock more */
	for (unsigned n = inject_update_locks_n; __predict_false(n != 0); n--) {
		mutex_enter(&pmap_inject_lock);
		mutex_exit(&pmap_inject_lock);
	}
	pmap_op_end(pc);
}

void pmap_activate(struct lwp *l)
{
	struct cpu_info *ci = curcpu();
	KASSERT(ci != NULL);
	if (l != ci->ci_curlwp)
		return; /* activated when it is switched to */
	struct pmap *pm = l->l_pmap;
	l->l_cpu = ci;
	struct mmu_ctx *old = ci->ci_ctx, *new_ = pmap_is_kernel(pm) ? NULL : &pm->pm_ctx;
	if (new_ != NULL) {
		kcpuset_atomic_set(&new_->mc_cpus, ci->ci_cpuid);
		kcpuset_atomic_set(&new_->mc_active, ci->ci_cpuid);
		/* the bit is visible before this CPU walks the tables: pairs with
		 * an initiator's PTE change followed by its read of mc_cpus */
		atomic_thread_fence(memory_order_seq_cst);
	}
	if (sd()->sd_switch != NULL)
		sd()->sd_switch(ci, old, new_);
	mmu_set_ctx(ci, new_);
}

void pmap_deactivate(struct lwp *l)
{
	struct cpu_info *ci = curcpu();
	KASSERT(ci != NULL);
	if (l != ci->ci_curlwp || ci->ci_ctx == NULL)
		return;
	struct mmu_ctx *ctx = ci->ci_ctx;
	kcpuset_atomic_clear(&ctx->mc_active, ci->ci_cpuid);
	mmu_set_ctx(ci, NULL);
	/* without PCIDs the switch flushed this CPU's entries of ctx: it no
	 * longer needs its shootdowns.  With PCIDs they stay tagged in the
	 * TLB, and so does the CPU in mc_cpus. */
	if (!machine_cur->m_cfg.mc_pcid)
		kcpuset_atomic_clear(&ctx->mc_cpus, ci->ci_cpuid);
}

void pmap_zero_page(paddr_t pa)
{
	KASSERT(PHYS_TO_VM_PAGE(pa) != NULL);
	phys_zero_page(trunc_page(pa));
}

void pmap_copy_page(paddr_t src, paddr_t dst)
{
	KASSERT(PHYS_TO_VM_PAGE(src) != NULL && PHYS_TO_VM_PAGE(dst) != NULL);
	phys_copy_page(trunc_page(dst), trunc_page(src));
}

/* ---- page operations ---- */

/* The PTE of a managed mapping.  => the page's pv lock held (keeps it alive) */
static _Atomic pt_entry_t *pv_pte(const struct pv_entry *pv)
{
	_Atomic pt_entry_t *ptep = pmap_pte_lookup(pv->pv_pmap, pv->pv_va, false, NULL);
	KASSERTMSG(ptep != NULL, "pv entry without page table: pmap %p va %#lx", (void *)pv->pv_pmap,
	    (unsigned long)pv->pv_va);
	return ptep;
}

/*
 * Change the hardware bits of every managed mapping of pg with CAS:
 * clear `clear`; returns whether any PTE had one of `test` set.  Queues a
 * shootdown where a TLB may cache a right or bit that was removed.
 * => pv lock held
 */
static bool pv_clear_bits(struct vm_page *pg, pt_entry_t clear, pt_entry_t test, pt_entry_t shoot_if)
{
	bool seen = false;
	for (struct pv_entry *pv = pg->mdpage.mp_pvlist; pv != NULL; pv = pv->pv_next) {
		_Atomic pt_entry_t *ptep = pv_pte(pv);
		pt_entry_t opte = atomic_load(ptep);
		/* clearing A hides from later removers that a TLB may hold the
		 * entry until this clear's shootdown completes: PTE_SWA keeps it */
		pt_entry_t mark = (clear & PTE_A) ? PTE_SWA : 0;
		if (opte & clear) {
			check_inflight_add(curcpu(), pv->pv_va);
			/* charged when this CPU's CAS wrote: another may clear first */
			while (opte & clear)
				if (atomic_compare_exchange_weak(ptep, &opte, (opte & ~clear) | mark)) {
					engine_charge_cur(EC_PTE_WRITE);
					break;
				}
		}
		if (opte & test)
			seen = true;
		if (opte & shoot_if)
			pmap_invalidate(pv->pv_pmap, pv->pv_va, opte, SD_INV_DOWNGRADE);
		cpu_inject_yield();
	}
	return seen;
}

static void pmap_page_protect1(struct vm_page *pg, vm_prot_t prot);

void pmap_page_protect(struct vm_page *pg, vm_prot_t prot)
{
	(void)pmap_need_cpu();
	struct pmap_cpu *pc = pmap_op_begin();
	pmap_page_protect1(pg, prot);
	pmap_op_end(pc);
}

static void pmap_page_protect1(struct vm_page *pg, vm_prot_t prot)
{
	KASSERT(pg != NULL);
	if (prot & VM_PROT_WRITE)
		return; /* nothing to lower ("never added"); execute is not tracked per page */
	kmutex_t *pvl = &pg->mdpage.mp_pvlock;
	/* the lazy guard: a lazily removed mapping of pg must not write (or
	 * read) it once this returns */
	bool lazy = pmap_lazy_guard && (atomic_fetch_and(&pg->mdpage.mp_attrs, ~PP_ATTRS_LAZY) & PP_ATTRS_LAZY);
	if (prot & VM_PROT_READ) {
		/* write-protect every mapping (copy-on-write) */
		mutex_enter(pvl);
		pv_clear_bits(pg, PTE_W | PTE_SWW, 0, PTE_W);
		mutex_exit(pvl);
		pmap_sync(true);
		pmap_lazy_pageop(lazy);
		return;
	}
	/* revoke every mapping: needs each pmap's lock (order: pmap, pv) */
retry:
	mutex_enter(pvl);
	struct pv_entry *pv;
	while ((pv = pg->mdpage.mp_pvlist) != NULL) {
		struct pmap *pm = pv->pv_pmap;
		if (!mutex_tryenter(&pm->pm_lock)) {
			pmap_reference(pm);
			mutex_exit(pvl);
			mutex_enter(&pm->pm_lock);
			mutex_exit(&pm->pm_lock);
			pmap_destroy(pm);
			stats_inc(&pmap_pv_retries);
			goto retry;
		}
		vaddr_t va = pv->pv_va;
		struct vm_page *ptps[PTP_LEVELS + 1];
		_Atomic pt_entry_t *ptep = pmap_pte_lookup(pm, va, false, ptps);
		KASSERT(ptep != NULL);
		/* wired mappings go too, as in NetBSD's pmap_page_remove();
		 * complete before this returns (pmap_sync(true) below) */
		pmap_remove_pte_kind(pm, ptep, va, true, true);
		if (!pmap_is_kernel(pm))
			pmap_ptp_unref(pm, va, ptps);
		mutex_exit(&pm->pm_lock);
	}
	mutex_exit(pvl);
	pmap_sync(true);
	pmap_lazy_pageop(lazy);
}

static bool pmap_clear_attr(struct vm_page *pg, uint32_t attr)
{
	bool soft = machine_cur->m_cfg.mc_refmod == MMU_REFMOD_SOFTWARE;
	/* one RMW for the bit and the lazy guard's flag (the guard's order) */
	uint32_t old = atomic_fetch_and(&pg->mdpage.mp_attrs, ~(attr | PP_ATTRS_LAZY));
	bool was = old & attr;
	pt_entry_t clear, test, shoot;
	if (attr == PP_ATTRS_M) {
		/* a TLB entry caching D (or, in software, W) must go, or a write
		 * through it would not be seen */
		clear = PTE_D | (soft ? PTE_W : 0);
		test = PTE_D;
		shoot = soft ? PTE_W : PTE_D;
	} else {
		/* referenced: the next access must walk again and mark it */
		clear = PTE_A | (soft ? PTE_V : 0);
		test = PTE_A;
		shoot = soft ? PTE_V : PTE_A;
	}
	mutex_enter(&pg->mdpage.mp_pvlock);
	bool seen = pv_clear_bits(pg, clear, test, shoot);
	mutex_exit(&pg->mdpage.mp_pvlock);
	pmap_sync(true);
	pmap_lazy_pageop(old & PP_ATTRS_LAZY);
	return was || seen;
}

bool pmap_clear_modify(struct vm_page *pg)
{
	(void)pmap_need_cpu();
	struct pmap_cpu *pc = pmap_op_begin();
	bool was = pmap_clear_attr(pg, PP_ATTRS_M);
	pmap_op_end(pc);
	return was;
}

bool pmap_clear_reference(struct vm_page *pg)
{
	(void)pmap_need_cpu();
	struct pmap_cpu *pc = pmap_op_begin();
	bool was = pmap_clear_attr(pg, PP_ATTRS_R);
	pmap_op_end(pc);
	return was;
}

static bool pmap_test_attr(struct vm_page *pg, uint32_t attr, pt_entry_t bit)
{
	if (atomic_load(&pg->mdpage.mp_attrs) & attr)
		return true;
	bool seen = false;
	mutex_enter(&pg->mdpage.mp_pvlock);
	for (struct pv_entry *pv = pg->mdpage.mp_pvlist; pv != NULL && !seen; pv = pv->pv_next)
		seen = (atomic_load(pv_pte(pv)) & bit) != 0;
	mutex_exit(&pg->mdpage.mp_pvlock);
	if (seen)
		atomic_fetch_or(&pg->mdpage.mp_attrs, attr);
	return seen;
}

bool pmap_is_modified(struct vm_page *pg)
{
	return pmap_test_attr(pg, PP_ATTRS_M, PTE_D);
}

bool pmap_is_referenced(struct vm_page *pg)
{
	return pmap_test_attr(pg, PP_ATTRS_R, PTE_A);
}

paddr_t pmap_phys_address(paddr_t cookie)
{
	/* a device mmap() cookie is a page number, as on x86 */
	return ptoa(cookie);
}

/*
 * Software mod/ref emulation (mmu.refmod = software): the walker found a
 * managed mapping without V (not referenced since the last clear) or,
 * on a write, without W (not modified since the last clear).
 * => on the faulting CPU, no locks; the CAS fails if the pmap changed the
 *    PTE meanwhile and the walker then looks again.
 */
static int pmap_refmod_fault(_Atomic pt_entry_t *ptep, pt_entry_t pte, int access)
{
	pt_entry_t n = pte | PTE_V | PTE_A;
	uint32_t attrs = PP_ATTRS_R;
	if (access & VM_PROT_WRITE) {
		KASSERT(pte & PTE_SWW);
		n |= PTE_W | PTE_D;
		attrs |= PP_ATTRS_M;
	}
	if (atomic_compare_exchange_strong(ptep, &pte, n)) {
		engine_charge_cur(EC_PTE_WRITE);
		atomic_fetch_or(&pte_page(n)->mdpage.mp_attrs, attrs);
	}
	return 0;
}

/* ---- optional functions ---- */

vaddr_t pmap_steal_memory(vsize_t size, vaddr_t *vstartp, vaddr_t *vendp)
{
	size = round_page(size);
	vaddr_t va = kernel_virtual_start;
	if (va + size > atomic_load(&kernel_virtual_end))
		pmap_grow_to(va + size, false);
	for (vsize_t off = 0; off < size; off += PAGE_SIZE) {
		struct vm_page *pg = phys_alloc(true);
		if (pg == NULL)
			panic("pmap_steal_memory: out of physical memory after %lu of %lu bytes", (unsigned long)off,
			    (unsigned long)size);
		pmap_zero_page(pg->phys_addr);
		pmap_kenter_pa(va + off, pg->phys_addr, VM_PROT_READ | VM_PROT_WRITE, 0);
	}
	kernel_virtual_start = va + size;
	if (vstartp != NULL && *vstartp < kernel_virtual_start)
		*vstartp = kernel_virtual_start;
	if (vendp != NULL && *vendp > VM_MAX_KERNEL_ADDRESS)
		*vendp = VM_MAX_KERNEL_ADDRESS;
	return va;
}

vaddr_t pmap_growkernel(vaddr_t maxkvaddr)
{
	mutex_enter(&pmaps_lock);
	mutex_enter(&kernel_pmap_store.pm_lock);
	pmap_grow_to(maxkvaddr, false);
	vaddr_t end = atomic_load(&kernel_virtual_end);
	mutex_exit(&kernel_pmap_store.pm_lock);
	mutex_exit(&pmaps_lock);
	return end;
}

void pmap_fork(pmap_t src_map, pmap_t dst_map)
{
	/* x86 copies the LDT here; the model's pmaps carry no state beyond
	 * their mappings, which the child faults in (pmap_copy is advisory) */
	KASSERT(src_map != NULL && dst_map != NULL);
	stats_inc(&pmap_forks);
}

void pmap_procwr(struct proc *p, vaddr_t va, vsize_t size)
{
	/* the model has no instruction cache to synchronize (x86 keeps its
	 * I-cache coherent in hardware, and NetBSD/x86 defines no procwr) */
	(void)p, (void)va, (void)size;
	stats_inc(&pmap_procwrs);
}

/* Modelled cache colour, as on a VIPT-cached MIPS: 8 colours of 4 KiB. */
#define PMAP_PREFER_ALIGN (8 * PAGE_SIZE)

void pmap_prefer(vaddr_t hint, vaddr_t *vap, vsize_t sz, int td)
{
	(void)sz;
	vaddr_t va = *vap;
	vaddr_t d = (hint - va) & (PMAP_PREFER_ALIGN - 1);
	if (d == 0)
		return;
	if (td)
		*vap = va - ((PMAP_PREFER_ALIGN - d) & (PMAP_PREFER_ALIGN - 1));
	else
		*vap = va + d;
}

/* ---- the checker ---- */

static int check_table(struct pmap *pm, paddr_t table, int lvl, vaddr_t base, long *res, long *wired, long *managed)
{
	int bad = 0;
	unsigned live = 0;
	struct vm_page *tpg = PHYS_TO_VM_PAGE(table);
	unsigned first = 0, last = NPTEPG;
	if (lvl == PTP_LEVELS) {
		/* the root: only its own half */
		first = pmap_is_kernel(pm) ? NPTEPG / 2 : 0;
		last = pmap_is_kernel(pm) ? NPTEPG : NPTEPG / 2;
	}
	for (unsigned i = first; i < last; i++) {
		pt_entry_t e = atomic_load(pte_slot(phys_to_host(table), i));
		vaddr_t va = base | ((vaddr_t)i << (PAGE_SHIFT + 9 * (lvl - 1)));
		if (lvl == PTP_LEVELS && (va & (1ULL << 47)))
			va |= 0xffff000000000000ULL;
		if (lvl > 1) {
			if (!(e & PTE_V))
				continue;
			live++;
			bad += check_table(pm, pte_pa(e), lvl - 1, va, res, wired, managed);
			continue;
		}
		if (!(e & PTE_SWV))
			continue;
		live++;
		(*res)++;
		if (e & PTE_WIRED)
			(*wired)++;
		bool soft = machine_cur->m_cfg.mc_refmod == MMU_REFMOD_SOFTWARE;
		if (!soft && ((e & PTE_V) == 0 || ((e & PTE_SWW) != 0) != ((e & PTE_W) != 0))) {
			fprintf(stderr, "pmap_check: %p va %#lx: hardware and software bits disagree (%#lx)\n", (void *)pm,
			    (unsigned long)va, (unsigned long)e);
			bad++;
		}
		if ((e & PTE_W) && !(e & PTE_SWW)) {
			fprintf(stderr, "pmap_check: %p va %#lx: writable beyond its protection\n", (void *)pm,
			    (unsigned long)va);
			bad++;
		}
		if (e & PTE_MANAGED) {
			(*managed)++;
			struct vm_page *pg = pte_page(e);
			bool found = false;
			mutex_enter(&pg->mdpage.mp_pvlock);
			for (struct pv_entry *pv = pg->mdpage.mp_pvlist; pv != NULL; pv = pv->pv_next)
				if (pv->pv_pmap == pm && pv->pv_va == va)
					found = true;
			mutex_exit(&pg->mdpage.mp_pvlock);
			if (!found) {
				fprintf(stderr, "pmap_check: %p va %#lx: managed mapping without pv entry\n", (void *)pm,
				    (unsigned long)va);
				bad++;
			}
		} else if (!pmap_is_kernel(pm)) {
			fprintf(stderr, "pmap_check: %p va %#lx: unmanaged mapping in a user pmap\n", (void *)pm,
			    (unsigned long)va);
			bad++;
		}
	}
	if (!pmap_is_kernel(pm) && tpg->mdpage.mp_ptpcount != live) {
		fprintf(stderr, "pmap_check: %p table %#lx (level %d): count %u, live entries %u\n", (void *)pm,
		    (unsigned long)table, lvl, tpg->mdpage.mp_ptpcount, live);
		bad++;
	}
	if (lvl < PTP_LEVELS && !pmap_is_kernel(pm) && live == 0) {
		fprintf(stderr, "pmap_check: %p table %#lx (level %d) is empty but still linked\n", (void *)pm,
		    (unsigned long)table, lvl);
		bad++;
	}
	return bad;
}

int pmap_check(pmap_t pm)
{
	struct machine *m = machine_cur;
	long res = 0, wired = 0, managed = 0, pvs = 0;
	mutex_enter(&pm->pm_lock);
	paddr_t root = pmap_is_kernel(pm) ? m->m_kernel_root : pm->pm_root->phys_addr;
	int bad = check_table(pm, root, PTP_LEVELS, 0, &res, &wired, &managed);
	/* the other direction: every pv entry of this pmap has its mapping */
	for (uint64_t i = 0; i < m->m_npages; i++) {
		struct vm_page *pg = &m->m_pages[i];
		if (pg->mdpage.mp_pvlist == NULL)
			continue;
		mutex_enter(&pg->mdpage.mp_pvlock);
		for (struct pv_entry *pv = pg->mdpage.mp_pvlist; pv != NULL; pv = pv->pv_next) {
			if (pv->pv_pmap != pm)
				continue;
			pvs++;
			_Atomic pt_entry_t *ptep = pmap_pte_lookup(pm, pv->pv_va, false, NULL);
			pt_entry_t e = ptep ? atomic_load(ptep) : 0;
			if (!(e & PTE_SWV) || !(e & PTE_MANAGED) || pte_pa(e) != pg->phys_addr) {
				fprintf(stderr, "pmap_check: %p va %#lx: pv entry on page %#lx without that mapping\n",
				    (void *)pm, (unsigned long)pv->pv_va, (unsigned long)pg->phys_addr);
				bad++;
			}
		}
		mutex_exit(&pg->mdpage.mp_pvlock);
	}
	if (pvs != managed) {
		fprintf(stderr, "pmap_check: %p: %ld pv entries, %ld managed mappings\n", (void *)pm, pvs, managed);
		bad++;
	}
	if (res != pmap_resident_count(pm) || wired != pmap_wired_count(pm)) {
		fprintf(stderr, "pmap_check: %p: statistics say %ld resident / %ld wired, a recount finds %ld / %ld\n",
		    (void *)pm, pmap_resident_count(pm), pmap_wired_count(pm), res, wired);
		bad++;
	}
	mutex_exit(&pm->pm_lock);
	return bad;
}
