/*
 * immediate.c — the Mach-era baseline: every invalidation is sent and
 * waited for at once.
 *
 * Models Mach's pmap_update_interrupt()/signal_cpus() protocol as described
 * by Black et al., "Translation Lookaside Buffer Consistency: A Software
 * Approach" (ASPLOS 1989), section 3, and 4.3BSD-era pmaps that called
 * TBIS on every CPU for every PTE they changed: no batching, so
 * pmap_update() has nothing left to do.  The invalidation is complete
 * when sd_invalidate returns — with the pmap (or pv) lock still held, which
 * the model's other strategies avoid (core/pmap/README.md).  It cannot
 * deadlock here because every lock wait takes IPIs (cpu_spin_wait, or the
 * 20 µs sleeping slices), so the target that waits for our lock still
 * acknowledges.
 *
 * Protocol: the initiator's per-CPU slot (shootdown.c, sd_slot) carries a
 * one-address request; targets are the pmap's CPU set (every attached CPU
 * for the kernel) minus the initiator; the local invalidation runs while
 * the IPIs travel; targets acknowledge after invalidating (late ack).
 * A PTE never marked accessed needs no shootdown (as netbsd-x86).
 *
 * Cache-line budget: the flat protocol's (shootdown_impl.h) for every
 * invalidated page — it has no batch: per page and target, four to five
 * lines there (mailbox, slot, request header, address and PCID arrays)
 * and the slot line back; ipi.sent counts one IPI per page and target.
 *
 * Memory ordering: the slot's pending set is published with release
 * stores after the request's plain stores; a target reads its bit with
 * acquire, applies, and clears the bit with release; the initiator's
 * seq_cst loads of the set see the clears after the targets' work, so it
 * reuses the request only then.  The target set is read (seq_cst) after
 * the PTE changed: a CPU that joins the set afterwards walks the new PTE.
 */
#include "shootdown_impl.h"

#include <errno.h>
#include <stdlib.h>

static struct sd_req *imm_reqs;

static void imm_halt(struct machine *m)
{
	for (unsigned i = 0; imm_reqs != NULL && i < m->m_ncpu; i++)
		sd_req_fini(&imm_reqs[i]);
	free(imm_reqs);
	imm_reqs = NULL;
	sd_slots_halt();
}

static int imm_boot(struct machine *m)
{
	imm_reqs = mem_zalloc(struct sd_req, m->m_ncpu);
	if (imm_reqs == NULL)
		return machine_seterr(ENOMEM, "shootdown.strategy: no memory");
	for (unsigned i = 0; i < m->m_ncpu; i++)
		if (sd_req_init(&imm_reqs[i], 1) != 0) {
			imm_halt(m);
			return ENOMEM;
		}
	return sd_slots_boot(m);
}

static void imm_invalidate(struct mmu_ctx *ctx, vaddr_t va, uint64_t opte, enum sd_inv_kind kind)
{
	struct cpu_info *ci = curcpu();
	if (!sd_pte_cached(opte)) {
		sd_count_unaccessed();
		return;
	}
	struct sd_req *r = &imm_reqs[ci->ci_cpuid];
	sd_req_reset(r);
	sd_req_add(r, ctx, va, opte, kind, NULL);
	sd_flat_update(ci, r, true, true, 0);
	sd_req_reset(r);
}

static void imm_update(void)
{
	/* every invalidation completed when it was queued */
}

static void imm_ipi(struct cpu_info *ci)
{
	sd_slots_serve(ci);
}

static bool imm_pending(struct cpu_info *ci, vaddr_t va, uint16_t pcid)
{
	(void)ci;
	return sd_slots_cover(va, pcid);
}

const struct shootdown_strategy shootdown_immediate = {
	.sd_name = "immediate",
	.sd_origin = "Black et al., TLB Consistency: A Software Approach (ASPLOS 1989), sec. 3; Mach pmap signal_cpus()",
	.sd_mechanism = "every invalidation sent to the pmap's CPUs and waited for at once; pmap_update() is empty",
	.sd_boot = imm_boot,
	.sd_halt = imm_halt,
	.sd_invalidate = imm_invalidate,
	.sd_update = imm_update,
	.sd_ipi = imm_ipi,
	.sd_pending = imm_pending,
};
