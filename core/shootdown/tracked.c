/*
 * tracked.c — shoot only the CPUs whose TLBs filled the translation.
 *
 * Models the per-page TLB tracking of RadixVM (Clements, Kaashoek,
 * Zeldovich, "RadixVM: Scalable address spaces for multithreaded
 * applications", EuroSys 2013, section 4.3 "TLB shootdown": the page
 * structure records which cores may cache it, and a shootdown targets
 * only those) and ABIS (Amit, "Optimizing the TLB Shootdown Algorithm with
 * Page Access Tracking", USENIX ATC 2017, section 4: access bits of
 * per-core page-table copies tell which cores touched a page).  Here the
 * walker's fill hook (machine_hooks.mh_fill, called by mmu_walk() just
 * before tlb_fill()) sets the filling CPU's bit in a per-frame mask; a
 * shootdown of a PTE targets the mask of its frame, not the pmap's CPU
 * set, and counts the CPUs it spared as skipped (untracked).  A mask is
 * 64 bits: CPU c sets bit c % 64 and a set bit stands for every CPU of
 * that residue (never fewer targets than needed).  The mask is cleared
 * when the frame is freed: every mapping is gone and every invalidation
 * completed (this strategy waits), so no TLB holds it.  Batching and
 * delivery are the flat protocol of shootdown.c (shootdown.batch
 * addresses, per-initiator slots, late acknowledgement).
 *
 * Cache-line budget: the flat protocol's (shootdown_impl.h) for the CPUs
 * in the frame's mask only.  A fill by a CPU new to the frame sets its
 * bit with an RMW on the frame's mask, eight frames to a line (first
 * fills only: the pre-check skips the RMW once the bit is set, and a
 * remap of the same frame fills nothing new).
 *
 * Memory ordering (the one race that matters: a fill concurrent with a
 * PTE change).  The walker sets its bit with a seq_cst RMW, then reloads
 * the PTE with a seq_cst load and refills only if it is unchanged; the
 * initiator changes the PTE with a seq_cst RMW, then loads the mask with
 * seq_cst.  In the single total order either the initiator's load sees the
 * bit (it shoots this CPU) or the walker's reload sees the new PTE (it
 * walks again): a Dekker pair, the same one pmap_activate() and mc_cpus
 * form.  A bit already set was set by a seq_cst RMW sequenced before the
 * reload, so the relaxed pre-check that skips the RMW keeps the argument.
 */
#include "shootdown_impl.h"

#include <errno.h>
#include <stdlib.h>

static struct sd_req *tr_reqs;
static _Atomic uint64_t *tr_mask; /* per frame */

static void tr_halt(struct machine *m)
{
	for (unsigned i = 0; tr_reqs != NULL && i < m->m_ncpu; i++)
		sd_req_fini(&tr_reqs[i]);
	free(tr_reqs);
	free((void *)tr_mask);
	tr_reqs = NULL;
	tr_mask = NULL;
	sd_slots_halt();
}

static const struct cfg_key *const tr_keys[] = {&sd_batch_key, NULL};

static int tr_boot(struct machine *m)
{
	tr_reqs = mem_zalloc(struct sd_req, m->m_ncpu);
	tr_mask = mem_zalloc(_Atomic uint64_t, m->m_npages);
	if (tr_reqs == NULL || tr_mask == NULL)
		return machine_seterr(ENOMEM, "shootdown.strategy: no memory for fill masks");
	for (unsigned i = 0; i < m->m_ncpu; i++)
		if (sd_req_init(&tr_reqs[i], (unsigned)machine_knob(&m->m_cfg, &sd_batch_key)) != 0)
			return ENOMEM;
	return sd_slots_boot(m);
}

static bool tr_fill(struct cpu_info *ci, _Atomic uint64_t *ptep, uint64_t pte)
{
	uint64_t pfn = atop(pte_pa(pte)), bit = 1ULL << (ci->ci_cpuid % 64);
	if (pfn >= machine_cur->m_npages)
		return true;
	if (!(atomic_load_explicit(&tr_mask[pfn], memory_order_relaxed) & bit))
		atomic_fetch_or(&tr_mask[pfn], bit);
	return atomic_load(ptep) == pte;
}

static bool tr_free(struct vm_page *pg)
{
	atomic_store_explicit(&tr_mask[atop(pg->phys_addr)], 0, memory_order_relaxed);
	return false;
}

static void tr_invalidate(struct mmu_ctx *ctx, vaddr_t va, uint64_t opte, enum sd_inv_kind kind)
{
	struct cpu_info *ci = curcpu();
	if (!sd_pte_cached(opte)) {
		sd_count_unaccessed();
		return;
	}
	uint64_t pfn = atop(pte_pa(opte));
	uint64_t mask = pfn < machine_cur->m_npages ? atomic_load(&tr_mask[pfn]) : ~0ULL;
	kcpuset_t who;
	kcpuset_zero(&who);
	unsigned spared = 0;
	const kcpuset_t *may = sd_ctx_cpus(ctx);
	KCPUSET_FOREACH(may, c) {
		if (mask & (1ULL << (c % 64)))
			kcpuset_atomic_set(&who, c);
		else if (c != ci->ci_cpuid)
			spared++;
	}
	sd_count_skipped(spared);
	sd_req_add(&tr_reqs[ci->ci_cpuid], ctx, va, opte, kind, &who);
}

static void tr_update(void)
{
	struct cpu_info *ci = curcpu();
	struct sd_req *r = &tr_reqs[ci->ci_cpuid];
	sd_flat_update(ci, r, true, true, 0);
	sd_req_reset(r);
}

static void tr_ipi(struct cpu_info *ci)
{
	sd_slots_serve(ci);
}

static bool tr_pending(struct cpu_info *ci, vaddr_t va, uint16_t pcid)
{
	(void)ci;
	return sd_slots_cover(va, pcid);
}

const struct shootdown_strategy shootdown_tracked = {
	.sd_name = "tracked",
	.sd_keys = tr_keys,
	.sd_origin = "RadixVM (EuroSys 2013) sec. 4.3; ABIS (USENIX ATC 2017) sec. 4",
	.sd_mechanism = "the walker records which CPUs filled each frame; only those are shot",
	.sd_remove_targets = SD_TARGETS_FILLED,
	.sd_boot = tr_boot,
	.sd_halt = tr_halt,
	.sd_invalidate = tr_invalidate,
	.sd_update = tr_update,
	.sd_ipi = tr_ipi,
	.sd_free = tr_free,
	.sd_fill = tr_fill,
	.sd_pending = tr_pending,
};
