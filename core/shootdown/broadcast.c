/*
 * broadcast.c — hardware broadcast invalidation.
 *
 * Models ARM64's TLBI ...IS + DSB ISH (Arm ARM D8.13 "TLB maintenance
 * instructions": an Inner Shareable TLBI affects every PE's TLB in the
 * domain; DSB waits for completion) as Linux uses it in
 * arch/arm64/include/asm/tlbflush.h (__flush_tlb_range(): more than
 * MAX_DVM_OPS = PTRS_PER_PTE (512) operations flush the whole ASID), and
 * AMD's INVLPGB + TLBSYNC (AMD APM vol. 3, "INVLPGB"; Linux
 * arch/x86/mm/tlb.c broadcast_tlb_flush()):
 *  - the initiator posts each invalidation straight into every other
 *    TLB's hardware inbox (struct bc_inbox); no target software runs, no
 *    IPI is sent, and there is no target selection — the broadcast reaches
 *    every TLB in the domain;
 *  - the target's MMU drains its inbox before its next translation
 *    (mmu_translate() tests ci_tlb_inbox: one relaxed load of a line the
 *    CPU reads anyway, then mh_tlb_inbox) and at every interrupt point,
 *    interrupts blocked or not (the hardware needs no software);
 *  - DSB/TLBSYNC: the initiator waits until every target's MMU has drained
 *    what it posted.  That is what completion means on hardware too: the
 *    DSB also waits for accesses still in flight through the old
 *    translation, so the frame may be reused once it returns.  (Posting
 *    alone is not enough: a target's translation that began before it saw
 *    the inbox flag could still read the frame after a reuse.)
 *  - more than shootdown.broadcast_max (512) operations in an inbox
 *    collapse into a flush of the ASID (of everything non-global when
 *    several are involved, of everything when a global entry is).
 *
 * Cache-line budget, per target (every attached CPU): the initiator takes
 * the target's inbox flag (an RMW on the inbox's line), appends to its
 * operation arrays (one line each up to 8 addresses), sets ci_tlb_inbox
 * (the target's mailbox line): three to four lines there.  The target's
 * MMU takes the same flag, copies, and publishes ib_done in the inbox
 * line, which the initiator polls: one line back.  No IPI.
 *
 * Memory ordering.  An inbox is guarded by a spin flag (the interconnect
 * serialises DVM messages); the poster appends under it and sets
 * ci_tlb_inbox with a release store, both sequenced after the PTE change
 * and before pmap_update() returns.  A CPU that later synchronises with
 * the initiator (acquire) and then translates loads ci_tlb_inbox
 * (relaxed) and, by coherence after that happens-before edge, sees it
 * set; it takes the flag (acquire), copies, clears ci_tlb_inbox, and
 * releases the flag.  Clearing under the flag means no post is lost.
 */
#include "shootdown_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct bc_inbox {
	atomic_flag ib_lock;
	uint64_t ib_posted;        /* batches posted (under ib_lock) */
	_Atomic uint64_t ib_done;  /* batches the MMU has applied */
	struct sd_req ib_ops;  /* posted operations (ib_ops.r_count == SD_ALLVA: flush) */
	struct sd_req ib_copy; /* the owner's copy while it applies */
} __cacheline_aligned;

static struct bc_inbox *bc_inboxes;
static struct sd_req *bc_reqs;
static unsigned bc_ncpu;

static void bc_halt(struct machine *m)
{
	(void)m;
	for (unsigned i = 0; bc_inboxes != NULL && i < bc_ncpu; i++) {
		sd_req_fini(&bc_inboxes[i].ib_ops);
		sd_req_fini(&bc_inboxes[i].ib_copy);
		sd_req_fini(&bc_reqs[i]);
	}
	free(bc_inboxes);
	free(bc_reqs);
	bc_inboxes = NULL;
	bc_reqs = NULL;
}

static const struct cfg_key bc_max_key = CFG_KEY("shootdown.broadcast_max", CFG_UINT, 1, SD_MAX_BATCH, NULL, "512",
    "broadcast: operations in a TLB's inbox before it flushes the ASID (`MAX_DVM_OPS`, 1–4096)");
static const struct cfg_key *const bc_keys[] = {&bc_max_key, NULL};

static int bc_boot(struct machine *m)
{
	bc_ncpu = m->m_ncpu;
	unsigned max = (unsigned)machine_knob(&m->m_cfg, &bc_max_key);
	if ((bc_inboxes = mem_alloc(struct bc_inbox, bc_ncpu)) == NULL ||
	    (bc_reqs = mem_zalloc(struct sd_req, bc_ncpu)) == NULL)
		return machine_seterr(ENOMEM, "shootdown.strategy: no memory for TLB inboxes");
	memset(bc_inboxes, 0, sizeof(*bc_inboxes) * bc_ncpu);
	for (unsigned i = 0; i < bc_ncpu; i++) {
		atomic_flag_clear(&bc_inboxes[i].ib_lock);
		bc_inboxes[i].ib_posted = 0;
		atomic_store(&bc_inboxes[i].ib_done, 0);
		if (sd_req_init(&bc_inboxes[i].ib_ops, max) != 0 || sd_req_init(&bc_inboxes[i].ib_copy, max) != 0 ||
		    sd_req_init(&bc_reqs[i], max) != 0)
			return machine_seterr(ENOMEM, "shootdown.broadcast_max: no memory for %u-operation inboxes", max);
		atomic_store(&m->m_cpus[i].ci_tlb_inbox, 0);
	}
	return 0;
}

static void ib_lock(struct bc_inbox *ib)
{
	while (atomic_flag_test_and_set_explicit(&ib->ib_lock, memory_order_acquire))
		__builtin_ia32_pause();
}

static void ib_unlock(struct bc_inbox *ib)
{
	atomic_flag_clear_explicit(&ib->ib_lock, memory_order_release);
}

static void bc_invalidate(struct mmu_ctx *ctx, vaddr_t va, uint64_t opte, enum sd_inv_kind kind)
{
	if (!sd_pte_cached(opte)) {
		sd_count_unaccessed();
		return;
	}
	sd_req_add(&bc_reqs[curcpu()->ci_cpuid], ctx, va, opte, kind, &machine_cur->m_attached);
}

/* Merge a batch into an inbox (the hardware's queue). */
static void ib_post(struct bc_inbox *ib, const struct sd_req *r)
{
	struct sd_req *q = &ib->ib_ops;
	if (r->r_count == SD_ALLVA || q->r_count == SD_ALLVA || q->r_count + r->r_count > q->r_cap) {
		/* more than broadcast_max operations: flush the ASID */
		if (q->r_naddrs == 0)
			q->r_pcid = r->r_pcid;
		else if (q->r_pcid != r->r_pcid)
			q->r_pcid = SD_PCID_MIXED;
		q->r_count = SD_ALLVA;
		q->r_global |= r->r_global;
		q->r_naddrs += r->r_naddrs;
		return;
	}
	for (uint32_t i = 0; i < r->r_count; i++) {
		if (q->r_naddrs == 0)
			q->r_pcid = r->r_pcid_of[i];
		else if (q->r_pcid != r->r_pcid_of[i])
			q->r_pcid = SD_PCID_MIXED;
		q->r_va[q->r_count] = r->r_va[i];
		q->r_pcid_of[q->r_count] = r->r_pcid_of[i];
		q->r_count++;
		q->r_naddrs++;
	}
	q->r_global |= r->r_global;
}

static void bc_update(void)
{
	struct cpu_info *ci = curcpu();
	struct sd_req *r = &bc_reqs[ci->ci_cpuid];
	if (r->r_naddrs == 0)
		return;
	uint64_t t0 = sd_clock_start(true); /* targets found while posting */
	unsigned n = 0;
	uint64_t bc_wait_for[MAXCPUS];
	/* one snapshot of the attached CPUs for posting and for waiting: a CPU
	 * that attaches in between has an empty TLB and nothing to wait for */
	kcpuset_t targets;
	kcpuset_copy(&targets, &machine_cur->m_attached);
	KCPUSET_FOREACH(&targets, c) {
		if (c == ci->ci_cpuid)
			continue;
		struct bc_inbox *ib = &bc_inboxes[c];
		ib_lock(ib);
		ib_post(ib, r);
		bc_wait_for[c] = ++ib->ib_posted;
		atomic_store_explicit(&cpu_lookup(c)->ci_tlb_inbox, 1, memory_order_release);
		ib_unlock(ib);
		n++;
	}
	sd_req_apply(ci, r, true);
	/* DSB ISH / TLBSYNC: every MMU has applied what we posted */
	unsigned iter = 0;
	KCPUSET_FOREACH(&targets, c) {
		if (c == ci->ci_cpuid)
			continue;
		while (atomic_load_explicit(&bc_inboxes[c].ib_done, memory_order_acquire) < bc_wait_for[c] &&
		    cpu_is_attached(cpu_lookup(c)))
			cpu_spin_wait_for(&iter, "broadcast completion (TLB inboxes to drain)");
	}
	sd_count_request(r->r_naddrs, r->r_count == SD_ALLVA, n, 0, n ? sd_elapsed(t0) : 0);
	sd_req_reset(r);
}

/* The MMU drains its inbox before a lookup (mmu_translate). */
static void bc_inbox(struct cpu_info *ci)
{
	struct bc_inbox *ib = &bc_inboxes[ci->ci_cpuid];
	struct sd_req *q = &ib->ib_ops, *cp = &ib->ib_copy;
	ib_lock(ib);
	sd_req_copy(cp, q);
	sd_req_reset(q);
	uint64_t posted = ib->ib_posted;
	atomic_store_explicit(&ci->ci_tlb_inbox, 0, memory_order_relaxed);
	ib_unlock(ib);
	if (cp->r_naddrs != 0)
		sd_req_apply(ci, cp, true);
	/* release: this CPU's accesses through the old entries come before */
	atomic_store_explicit(&ib->ib_done, posted, memory_order_release);
}

static void bc_ipi(struct cpu_info *ci)
{
	(void)ci; /* no IPIs: the hardware delivers */
}

static bool bc_pending(struct cpu_info *ci, vaddr_t va, uint16_t pcid)
{
	struct bc_inbox *ib = &bc_inboxes[ci->ci_cpuid];
	ib_lock(ib);
	bool hit = sd_req_covers(&ib->ib_ops, va, pcid);
	ib_unlock(ib);
	return hit;
}

const struct shootdown_strategy shootdown_broadcast = {
	.sd_name = "broadcast",
	.sd_keys = bc_keys,
	.sd_origin = "ARM64 TLBI IS + DSB (Linux arch/arm64/include/asm/tlbflush.h __flush_tlb_range()); "
	             "AMD INVLPGB + TLBSYNC (Linux arch/x86/mm/tlb.c)",
	.sd_mechanism = "invalidations posted into every TLB's hardware inbox, applied by its MMU before the next "
	                "translation; no IPIs; >512 (shootdown.broadcast_max) operations flush the ASID",
	.sd_remove_targets = SD_TARGETS_NONE,
	.sd_boot = bc_boot,
	.sd_halt = bc_halt,
	.sd_invalidate = bc_invalidate,
	.sd_update = bc_update,
	.sd_ipi = bc_ipi,
	.sd_inbox = bc_inbox,
	.sd_pending = bc_pending,
};
