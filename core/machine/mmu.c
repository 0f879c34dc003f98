/*
 * mmu.c — per-CPU TLBs and the hardware page-table walker.
 *
 * TLB: set-associative (tlb.entries, tlb.ways), LRU within a set, tagged by
 * virtual page number and PCID, with global entries that match every PCID —
 * the x86-64 TLB with CR4.PCIDE (Intel SDM vol. 3A, 4.10 "Caching
 * translation information").  An entry caches the permissions and the dirty
 * bit of the PTE it was filled from: a write through an entry whose dirty bit
 * is clear re-walks and sets D in the PTE (SDM 4.8), so clearing D in a PTE
 * is only safe once every cached copy is gone — the reason
 * pmap_clear_modify() must shoot down.  Paging-structure caches are not
 * modelled: every miss walks all four levels.
 *
 * Walker: four levels of 512 entries from a table base.  Like ARM64's
 * TTBR0/TTBR1 pair, user addresses walk from the current context's root
 * and kernel addresses from the kernel's root, so the kernel half needs no
 * copying into every pmap.  All reads are atomic loads (pmap updates run
 * concurrently); A and D are set with compare-and-swap so a concurrent
 * pmap update is never overwritten.  With mmu.refmod = software the walker
 * never sets A/D: a mapping the pmap left without V (not yet referenced) or
 * without W (not yet modified) faults into the pmap's emulation hook, as on
 * CPUs without hardware mod/ref (pmap(9), MODIFIED/REFERENCED INFORMATION).
 *
 * The direct map [PMAP_DIRECT_BASE, +memory) translates arithmetically,
 * like MIPS KSEG0, bypassing the TLB (pmap(9), PMAP_MAP_POOLPAGE).
 *
 * Races: the walker races with every pmap update and with other walkers;
 * page-table pages it may be reading are freed only after an RCU grace
 * period (cpu_intr_poll() is the quiescent state), see pmap.c.
 */
#include "machine_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

STATS_COUNTER(tlb_hits, "tlb.hits", "accesses translated by the TLB")
STATS_COUNTER(tlb_misses, "tlb.misses", "accesses that missed the TLB")
STATS_COUNTER(mmu_walks, "mmu.walks", "page-table walks")
STATS_COUNTER(mmu_efault, "mmu.faults", "accesses with no valid mapping (EFAULT)")
STATS_COUNTER(mmu_eacces, "mmu.prot_faults", "accesses denied by protection (EACCES)")
STATS_COUNTER(mmu_ad, "mmu.ad_sets", "A/D bits set by the walker")
STATS_COUNTER(mmu_refmod, "mmu.refmod_faults", "software mod/ref emulation faults")
STATS_COUNTER(tlb_inv_page, "tlb.inval_page", "single-page invalidations")
STATS_COUNTER(tlb_inv_pcid, "tlb.inval_pcid", "whole-PCID invalidations")
STATS_COUNTER(tlb_inv_nonglobal, "tlb.inval_nonglobal", "flushes of all non-global entries")
STATS_COUNTER(tlb_inv_all, "tlb.inval_all", "flushes of the whole TLB, globals included")

int tlb_init(struct tlb *t, unsigned entries, unsigned ways, int node)
{
	/* on the owning CPU's NUMA node (machine.numa; anywhere without NUMA) */
	_Static_assert(_Alignof(struct tlb_entry) <= PAGE_SIZE, "topo_mem_alloc_node() aligns to a page");
	t->tlb_bytes = round_page((size_t)entries * sizeof(struct tlb_entry));
	t->tlb_entries = topo_mem_alloc_node(node, t->tlb_bytes);
	if (t->tlb_entries == NULL)
		return ENOMEM;
	for (unsigned i = 0; i < entries; i++)
		t->tlb_entries[i].te_vpn = TLB_INVALID_VPN;
	t->tlb_ways = ways;
	t->tlb_setmask = entries / ways - 1;
	t->tlb_clock = 0;
	return 0;
}

void tlb_fini(struct tlb *t)
{
	topo_mem_free_node(t->tlb_entries, t->tlb_bytes);
	t->tlb_entries = NULL;
}

static inline struct tlb_entry *tlb_set(struct tlb *t, uint64_t vpn)
{
	return &t->tlb_entries[(vpn & t->tlb_setmask) * t->tlb_ways];
}

static inline uint16_t cur_pcid(const struct cpu_info *ci)
{
	return ci->ci_pcid;
}

/* x86 INVLPG / INVPCID type 0: the page in one PCID, and its global entry */
void tlb_invalidate_page(struct cpu_info *ci, vaddr_t va, uint16_t pcid)
{
	KASSERT(ci == curcpu() || !cpu_is_attached(ci));
	uint64_t vpn = va >> PAGE_SHIFT;
	struct tlb_entry *s = tlb_set(&ci->ci_tlb, vpn);
	for (unsigned w = 0; w < ci->ci_tlb.tlb_ways; w++)
		if (s[w].te_vpn == vpn && (s[w].te_pcid == pcid || (s[w].te_flags & TE_G)))
			s[w].te_vpn = TLB_INVALID_VPN;
	engine_charge(ci, EC_INVLPG);
	stats_inc(&tlb_inv_page);
}

static void tlb_flush_matching(struct cpu_info *ci, bool keep_global, bool one_pcid, uint16_t pcid)
{
	struct tlb *t = &ci->ci_tlb;
	unsigned n = (unsigned)(t->tlb_setmask + 1) * t->tlb_ways;
	for (unsigned i = 0; i < n; i++) {
		struct tlb_entry *e = &t->tlb_entries[i];
		if (e->te_vpn == TLB_INVALID_VPN)
			continue;
		if (keep_global && (e->te_flags & TE_G))
			continue;
		if (one_pcid && e->te_pcid != pcid)
			continue;
		e->te_vpn = TLB_INVALID_VPN;
	}
	engine_charge(ci, EC_FLUSH);
}

void tlb_invalidate_pcid(struct cpu_info *ci, uint16_t pcid)
{
	KASSERT(ci == curcpu() || !cpu_is_attached(ci));
	tlb_flush_matching(ci, true, true, pcid);
	stats_inc(&tlb_inv_pcid);
}

void tlb_invalidate_nonglobal(struct cpu_info *ci)
{
	KASSERT(ci == curcpu() || !cpu_is_attached(ci));
	tlb_flush_matching(ci, true, false, 0);
	stats_inc(&tlb_inv_nonglobal);
}

void tlb_invalidate_all(struct cpu_info *ci)
{
	KASSERT(ci == curcpu() || !cpu_is_attached(ci));
	tlb_flush_matching(ci, false, false, 0);
	stats_inc(&tlb_inv_all);
}

void mmu_set_ctx(struct cpu_info *ci, struct mmu_ctx *ctx)
{
	KASSERT(ci == curcpu());
	ci->ci_ctx = ctx;
	ci->ci_pcid = ctx != NULL ? ctx->mc_pcid : 0;
	/* without PCIDs, loading a new table base drops every non-global entry */
	if (!machine_cur->m_cfg.mc_pcid)
		tlb_invalidate_nonglobal(ci);
}

/* Fill (or refresh) the entry for vpn in this CPU's TLB. */
static void tlb_fill(struct cpu_info *ci, uint64_t vpn, pt_entry_t pte, bool kernel)
{
	struct tlb *t = &ci->ci_tlb;
	struct tlb_entry *s = tlb_set(t, vpn), *victim = NULL;
	uint16_t pcid = kernel ? 0 : cur_pcid(ci);
	/* D is cached only with W: it matters only to writes, and a read-only
	 * entry then never claims a dirty bit the pmap may clear without a
	 * shootdown (software mod/ref clears D of write-protected PTEs) */
	uint8_t fl = (uint8_t)(((pte & PTE_W) ? TE_W : 0) | ((pte & PTE_NX) ? 0 : TE_X) |
	    ((pte & (PTE_W | PTE_D)) == (PTE_W | PTE_D) ? TE_D : 0) | ((pte & PTE_G) ? TE_G : 0));
	for (unsigned w = 0; w < t->tlb_ways; w++) {
		struct tlb_entry *e = &s[w];
		if (e->te_vpn == vpn && (e->te_pcid == pcid || (e->te_flags & TE_G) || (fl & TE_G))) {
			victim = e; /* refresh in place: one entry per translation */
			break;
		}
		if (e->te_vpn == TLB_INVALID_VPN) {
			if (victim == NULL || victim->te_vpn != TLB_INVALID_VPN)
				victim = e;
		} else if (victim == NULL || (victim->te_vpn != TLB_INVALID_VPN && e->te_lru < victim->te_lru))
			victim = e;
	}
	struct vm_page *pg = PHYS_TO_VM_PAGE(pte_pa(pte));
	victim->te_vpn = vpn;
	victim->te_pfn = atop(pte_pa(pte));
	victim->te_pcid = pcid;
	victim->te_flags = fl;
	victim->te_gen = pg ? atomic_load_explicit(&pg->mdpage.mp_gen, memory_order_acquire) : 0;
	victim->te_lru = ++t->tlb_clock;
}

/*
 * The page walk.  => on the current CPU; returns 0 with *ptep_out's value in
 * *pte_out, or EFAULT / EACCES.
 */
static int mmu_walk(struct cpu_info *ci, vaddr_t va, int access, pt_entry_t *pte_out)
{
	struct machine *m = machine_cur;
	bool kernel = va >= VM_MIN_KERNEL_ADDRESS;
	paddr_t table = kernel ? m->m_kernel_root : (ci->ci_ctx ? ci->ci_ctx->mc_root : 0);
	stats_inc(&mmu_walks);
	if (table == 0)
		return EFAULT;
	for (int lvl = PTP_LEVELS; lvl > 1; lvl--) {
		engine_charge(ci, EC_WALK_LEVEL);
		/* acquire: the page-table page's contents were published with release */
		pt_entry_t pde = atomic_load_explicit(pte_slot(phys_to_host(table), pl_index(va, lvl)),
		    memory_order_acquire);
		if (!(pde & PTE_V))
			return EFAULT;
		table = pte_pa(pde);
	}
	_Atomic pt_entry_t *ptep = pte_slot(phys_to_host(table), pl_index(va, 1));
	engine_charge(ci, EC_WALK_LEVEL);
	bool write = access & VM_PROT_WRITE;
	pt_entry_t pte = atomic_load_explicit(ptep, memory_order_acquire);
	for (;;) {
		if (!(pte & PTE_SWV))
			return EFAULT;
		if (write && !(pte & PTE_SWW))
			return EACCES;
		if ((access & VM_PROT_EXECUTE) && (pte & PTE_NX))
			return EACCES;
		pt_entry_t need = PTE_V | PTE_A | (write ? (PTE_W | PTE_D) : 0);
		if ((pte & need) == need)
			break;
		if (m->m_cfg.mc_refmod == MMU_REFMOD_SOFTWARE && (pte & PTE_MANAGED)) {
			/* no hardware A/D: fault into the pmap's emulation */
			stats_inc(&mmu_refmod);
			int err = m->m_hooks.mh_refmod_fault(ptep, pte, access);
			if (err != 0)
				return err;
			pte = atomic_load_explicit(ptep, memory_order_acquire);
			continue;
		}
		/* hardware A/D: locked update, fails if the pmap changed the PTE */
		pt_entry_t npte = pte | PTE_A | (write ? PTE_D : 0);
		if (atomic_compare_exchange_weak_explicit(ptep, &pte, npte, memory_order_acq_rel,
		        memory_order_acquire)) {
			pte = npte;
			stats_inc(&mmu_ad);
			break;
		}
	}
	/* a strategy that tracks fills (tracked) records this CPU before the
	 * entry exists; a PTE that changed meanwhile is walked again */
	if (m->m_hooks.mh_fill != NULL && !m->m_hooks.mh_fill(ci, ptep, pte))
		return mmu_walk(ci, va, access, pte_out);
	tlb_fill(ci, va >> PAGE_SHIFT, pte, kernel && (pte & PTE_G));
	*pte_out = pte;
	return 0;
}

/*
 * Translate va for access on the current CPU: a host pointer to the 8-byte
 * word, or an error.  The TLB-hit path is the hot path of the whole model.
 */
static inline int mmu_translate(vaddr_t va, int access, _Atomic uint64_t **pp)
{
	struct cpu_info *ci = curcpu();
	if (__predict_false(ci == NULL || (va & 7) != 0))
		return EFAULT;
	/* broadcast invalidations posted to this TLB apply before the lookup
	 * (the MMU's own work: one relaxed load of a line this CPU owns) */
	if (__predict_false(atomic_load_explicit(&ci->ci_tlb_inbox, memory_order_relaxed) != 0)) {
		machine_cur->m_hooks.mh_tlb_inbox(ci);
		engine_changed();
	}
	uint64_t vpn = va >> PAGE_SHIFT;
	uint8_t need = (uint8_t)((access & VM_PROT_WRITE) ? (TE_W | TE_D) : (access & VM_PROT_EXECUTE) ? TE_X : 0);
	uint16_t pcid = cur_pcid(ci);
	struct tlb *t = &ci->ci_tlb;
	struct tlb_entry *s = tlb_set(t, vpn);
	for (unsigned w = 0; w < t->tlb_ways; w++) {
		struct tlb_entry *e = &s[w];
		if (e->te_vpn == vpn && (e->te_pcid == pcid || (e->te_flags & TE_G))) {
			if (__predict_false((e->te_flags & need) != need))
				break; /* re-walk: sets D, or finds the fault */
			e->te_lru = ++t->tlb_clock;
			engine_charge(ci, EC_TLB_HIT);
			stats_block_inc(ci->ci_stats, &tlb_hits);
			/* check.enabled: the frame and update oracles (check.c) */
			if (__predict_false(check_tlb_on))
				check_tlb_hit(ci, e, va);
			*pp = (_Atomic uint64_t *)(ci->ci_phys + (e->te_pfn << PAGE_SHIFT) + (va & PAGE_MASK));
			return 0;
		}
	}
	/* slow path */
	struct machine *m = machine_cur;
	if (va >= PMAP_DIRECT_BASE) {
		if (va >= PMAP_DIRECT_BASE + ptoa(m->m_npages) || va >= PMAP_DIRECT_END) {
			stats_inc(&mmu_efault);
			return EFAULT;
		}
		*pp = (_Atomic uint64_t *)(m->m_phys + (va - PMAP_DIRECT_BASE));
		return 0;
	}
	if (va >= VM_MAXUSER_ADDRESS && (va < VM_MIN_KERNEL_ADDRESS || va >= VM_MAX_KERNEL_ADDRESS)) {
		stats_inc(&mmu_efault);
		return EFAULT;
	}
	stats_inc(&tlb_misses);
	pt_entry_t pte;
	int err = mmu_walk(ci, va, access, &pte);
	if (err != 0) {
		/* x86 drops the entry that faulted */
		tlb_invalidate_page(ci, va, pcid);
		stats_inc(err == EFAULT ? &mmu_efault : &mmu_eacces);
		return err;
	}
	*pp = (_Atomic uint64_t *)(m->m_phys + pte_pa(pte) + (va & PAGE_MASK));
	return 0;
}

int mmu_load(vaddr_t va, uint64_t *val)
{
	_Atomic uint64_t *p;
	int err = mmu_translate(va, VM_PROT_READ, &p);
	if (__predict_true(err == 0))
		*val = atomic_load_explicit(p, memory_order_relaxed);
	return err;
}

int mmu_store(vaddr_t va, uint64_t val)
{
	_Atomic uint64_t *p;
	int err = mmu_translate(va, VM_PROT_WRITE, &p);
	if (__predict_true(err == 0))
		atomic_store_explicit(p, val, memory_order_relaxed);
	return err;
}

int mmu_fetch(vaddr_t va)
{
	_Atomic uint64_t *p;
	int err = mmu_translate(va, VM_PROT_EXECUTE, &p);
	if (__predict_true(err == 0))
		(void)atomic_load_explicit(p, memory_order_relaxed);
	return err;
}

/* The PTE that maps va in table `table` (a root), without side effects: 0 if none. */
static pt_entry_t pte_peek(paddr_t table, vaddr_t va)
{
	for (int lvl = PTP_LEVELS; lvl > 1 && table != 0; lvl--) {
		pt_entry_t pde = atomic_load(pte_slot(phys_to_host(table), pl_index(va, lvl)));
		table = (pde & PTE_V) ? pte_pa(pde) : 0;
	}
	return table != 0 ? atomic_load(pte_slot(phys_to_host(table), pl_index(va, 1))) : 0;
}

/* Why entry e may not be used with the PTE now in memory, or NULL if it may
 * (the rule of tlb_check() and of the update oracle). */
static const char *tlb_entry_disagrees(const struct tlb_entry *e, pt_entry_t pte)
{
	if (!(pte & PTE_SWV))
		return "no valid PTE";
	if (pte_pa(pte) != ptoa(e->te_pfn))
		return "PTE maps another frame";
	if ((e->te_flags & TE_W) && !(pte & PTE_W))
		return "TLB allows a write the PTE does not";
	if ((e->te_flags & TE_D) && !(pte & PTE_D))
		return "TLB caches D but the PTE is clean";
	if ((e->te_flags & TE_X) && (pte & PTE_NX))
		return "TLB allows execution the PTE does not";
	return NULL;
}

/*
 * The TLB-hit oracles (check.enabled; see check.c).  => on ci, in the
 * middle of an access through e: no interrupt point since the lookup.
 */
void check_tlb_hit(struct cpu_info *ci, const struct tlb_entry *e, vaddr_t va)
{
	struct machine *m = machine_cur;
	paddr_t pa = ptoa(e->te_pfn);
	if (check_on(CHK_FRAME)) {
		struct vm_page *pg = PHYS_TO_VM_PAGE(pa);
		check_count(CHK_FRAME, 1);
		uint32_t gen = pg ? atomic_load_explicit(&pg->mdpage.mp_gen, memory_order_acquire) : e->te_gen;
		if (gen != e->te_gen)
			check_violation(CHK_FRAME, va, pa,
			    "access through a TLB entry filled at frame generation %u; the frame has been freed since "
			    "(generation %u)", e->te_gen, gen);
	}
	if (!check_update_on)
		return;
	check_count(CHK_UPDATE, 1);
	bool kernel = va >= VM_MIN_KERNEL_ADDRESS;
	paddr_t table = kernel ? m->m_kernel_root : (ci->ci_ctx != NULL ? ci->ci_ctx->mc_root : 0);
	pt_entry_t pte = pte_peek(table, va);
	const char *why = tlb_entry_disagrees(e, pte);
	if (why == NULL || check_inflight_covers(va))
		return;
	/* lazy strategies may leave removed entries until the CPU's next sweep
	 * by design; their frames are held back (the frame oracle).  Once the
	 * VA maps something again the pmap's lazy guard has drained them, so
	 * only an entry whose PTE is still empty is exempt */
	if (!(pte & PTE_SWV) && m->m_sd_lazy)
		return;
	check_violation(CHK_UPDATE, va, pa, "%s, though every pmap_update() or page operation that changed the PTE "
	    "has returned", why);
}

/*
 * tlb_check(): every entry agrees with a valid PTE or is covered by a
 * pending shootdown.  => on the CPU that owns the TLB, at a quiescent point.
 */
int tlb_check(void)
{
	struct cpu_info *ci = curcpu();
	struct machine *m = machine_cur;
	if (ci == NULL)
		return 0;
	struct tlb *t = &ci->ci_tlb;
	unsigned n = (unsigned)(t->tlb_setmask + 1) * t->tlb_ways, bad = 0;
	for (unsigned i = 0; i < n; i++) {
		struct tlb_entry *e = &t->tlb_entries[i];
		if (e->te_vpn == TLB_INVALID_VPN)
			continue;
		vaddr_t va = e->te_vpn << PAGE_SHIFT;
		if (va & (1ULL << 47))
			va |= 0xffff000000000000ULL; /* sign-extend: canonical kernel address */
		bool kernel = va >= VM_MIN_KERNEL_ADDRESS;
		struct mmu_ctx *ctx = ci->ci_ctx;
		paddr_t table = kernel ? m->m_kernel_root : (ctx && ctx->mc_pcid == e->te_pcid ? ctx->mc_root : 0);
		const char *why = NULL;
		pt_entry_t pte = 0;
		if (table == 0 && !kernel) {
			/* an entry of a context not loaded here: checked when it is */
			if (!m->m_cfg.mc_pcid)
				why = "entry of a context not loaded, with PCIDs off";
		} else {
			pte = pte_peek(table, va);
			why = tlb_entry_disagrees(e, pte);
		}
		if (why != NULL && m->m_hooks.mh_pending != NULL && m->m_hooks.mh_pending(ci, va, e->te_pcid))
			why = NULL;
		if (why != NULL) {
			fprintf(stderr, "tlb_check: cpu%u va %#lx pcid %u pfn %#lx: %s (pte %#lx)\n", ci->ci_cpuid,
			    (unsigned long)va, e->te_pcid, (unsigned long)e->te_pfn, why, (unsigned long)pte);
			bad++;
		}
	}
	return (int)bad;
}
