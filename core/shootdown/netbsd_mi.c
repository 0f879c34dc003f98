/*
 * netbsd_mi.c — NetBSD's machine-independent, ASID-granular shootdown.
 *
 * Models sys/uvm/pmap/pmap_tlb.c (NetBSD 7+: pmap_tlb_shootdown_bystanders(),
 * pmap_tlb_shootdown_process(), pmap_pai_reset(), and the essay atop the
 * file):
 *  - shootdowns are about address spaces, not addresses: a target gets one
 *    operation word that merges whatever was asked of it — one ASID, all
 *    user ASIDs, the kernel, or everything (TLBINV_ONE / ALLUSER / ALLKERNEL /
 *    ALL) — and invalidates that;
 *  - a CPU on which the pmap is not running (not "onproc") gets no IPI: it
 *    loses its ASID there (pmap_pai_reset), so its old entries are orphaned
 *    and it starts afresh the next time it runs the pmap.  In this model the
 *    pmap's PCID plays the ASID: the CPU's per-PCID stale mark
 *    (sd_stale_mark) makes it drop the PCID's entries before it loads it;
 *  - running CPUs get an IPI, and the initiator does not wait for it;
 *  - the initiator's own TLB is fixed at once, address by address
 *    (pmap_tlb_invalidate_addr).
 *
 * Why not waiting is safe only with ASID semantics.  The stale entries a
 * non-waiting initiator leaves behind live in a remote TLB between
 * pmap_update() and that CPU's next interrupt point.  With ASIDs, those
 * entries are reachable only while the same ASID is loaded on that CPU; a
 * CPU that switches away and back, or gets a recycled ASID, first drains
 * its pending operation and its stale marks (sd_switch below), so an
 * orphaned entry can never translate for another address space — without
 * ASIDs (one untagged TLB, x86 without PCID), a context switch would be
 * the only flush and an entry of the old pmap would be as live as any.
 * What ASIDs do not fix is the frame: until the target takes its IPI, its
 * entry still reaches the old frame.  NetBSD relies on the page not being
 * reused that fast; the model does not: frames freed after a removal are
 * held back (sd_lazy_free) until every CPU that had an operation posted
 * before the free has drained it.  PCIDs need no such delay: a CPU drains
 * before it loads any context, so a recycled PCID never meets an entry of
 * its previous owner.  Downgrades (write-protect, clearing D/A) cannot be
 * made safe by holding frames back — a stale writable entry would write
 * through a copy-on-write page — so for those, and for page operations
 * that must be complete on return (sd_sync), the initiator waits for the
 * targets to drain: a documented deviation from NetBSD, whose MIPS port
 * tolerates that window.  The VA itself may be re-entered before a target
 * drains (uvm would not reuse it that fast; the model's tests check the
 * target drains first).
 *
 * Cache-line budget, per target of a shootdown: the target's operation
 * word (a CAS; on a line of its own, apart from the target's own
 * initiator state), its posted count (sd_lazy_posted: an RMW on its
 * sd_seq line) and its mailbox line (the IPI) — three lines there, none
 * back: the initiator does not wait.  A downgrade or a synchronous
 * operation waits for the swept count, one more line back.  Idle CPUs
 * cost one stale-mark RMW on their per-CPU PCID bitmap and no IPI.
 *
 * Memory ordering.  An initiator merges its operation into the target's
 * word with a seq_cst CAS, then bumps the target's posted count (seq_cst,
 * sd_lazy_posted) and sends the IPI (release).  The target reads its
 * posted count (seq_cst), then swaps the word to zero (seq_cst), applies
 * it, and stores its swept count (release): a free that read a posted
 * count waits until the sweep that covers it.  Non-running CPUs: the
 * initiator reads mc_active, marks the stale PCID (seq_cst RMW), then
 * reads mc_active again, IPI-ing any CPU that became active meanwhile;
 * pmap_activate() sets mc_active and fences before sd_switch reads the
 * mark — either side sees the other.
 */
#include "shootdown_impl.h"

#include <errno.h>
#include <stdlib.h>

#define MI_ONE 0x10000000u   /* low 16 bits: the one ASID (PCID) */
#define MI_ALLUSER 0x20000000u
#define MI_KERNEL 0x40000000u
#define MI_ALL 0x80000000u
#define MI_NCTX 4 /* address spaces a batch names before it says "all user" */

struct mi_cpu {
	_Atomic uint32_t mc_op; /* what others asked of this CPU's TLB */
	/* the initiator side (owner only), on a line of its own: the owner
	 * writes it at every pmap call, others CAS mc_op */
	struct mmu_ctx *mc_ctx[MI_NCTX] __cacheline_aligned;
	unsigned mc_nctx;
	bool mc_alluser, mc_kernel, mc_downgrade;
	unsigned mc_naddrs;
} __cacheline_aligned;

_Static_assert(__builtin_offsetof(struct mi_cpu, mc_ctx) >= CACHE_LINE, "others' CAS line apart from the owner's state");
static struct mi_cpu *mi_cpus;

static void mi_drain(struct cpu_info *ci);

static int mi_boot(struct machine *m)
{
	if ((mi_cpus = mem_alloc(struct mi_cpu, m->m_ncpu)) == NULL)
		return machine_seterr(ENOMEM, "shootdown.strategy: no memory");
	for (unsigned i = 0; i < m->m_ncpu; i++) {
		struct mi_cpu *mc = &mi_cpus[i];
		atomic_store(&mc->mc_op, 0);
		mc->mc_nctx = 0;
		mc->mc_alluser = mc->mc_kernel = mc->mc_downgrade = false;
		mc->mc_naddrs = 0;
	}
	int err = sd_lazy_boot(m, mi_drain, true);
	return err ? err : sd_stale_boot(m);
}

static void mi_halt(struct machine *m)
{
	(void)m;
	sd_lazy_halt();
	sd_stale_halt();
	free(mi_cpus);
	mi_cpus = NULL;
}

static void mi_invalidate(struct mmu_ctx *ctx, vaddr_t va, uint64_t opte, enum sd_inv_kind kind)
{
	struct cpu_info *ci = curcpu();
	struct mi_cpu *mc = &mi_cpus[ci->ci_cpuid];
	if (!sd_pte_cached(opte)) {
		sd_count_unaccessed();
		return;
	}
	/* pmap_tlb_invalidate_addr(): the local TLB at once */
	tlb_invalidate_page(ci, va, (opte & PTE_G) ? 0 : ctx->mc_pcid);
	mc->mc_naddrs++;
	if (kind == SD_INV_DOWNGRADE)
		mc->mc_downgrade = true;
	if (ctx->mc_kernel) {
		mc->mc_kernel = true;
		return;
	}
	for (unsigned i = 0; i < mc->mc_nctx; i++)
		if (mc->mc_ctx[i] == ctx)
			return;
	if (mc->mc_nctx < MI_NCTX)
		mc->mc_ctx[mc->mc_nctx++] = ctx;
	else
		mc->mc_alluser = true;
}

static uint32_t mi_merge(uint32_t op, uint32_t add)
{
	if (add & (MI_ALL | MI_KERNEL | MI_ALLUSER))
		return op | add;
	/* one ASID */
	if (op & (MI_ALL | MI_ALLUSER))
		return op;
	if ((op & MI_ONE) && (op & 0xffffu) != (add & 0xffffu))
		return (op & ~(MI_ONE | 0xffffu)) | MI_ALLUSER;
	return op | add;
}

/* Post op to CPU c and interrupt it. */
static void mi_post(unsigned c, uint32_t add, uint64_t *snap, bool wait)
{
	struct mi_cpu *t = &mi_cpus[c];
	uint32_t op = atomic_load(&t->mc_op), n;
	do
		n = mi_merge(op, add);
	while (n != op && !atomic_compare_exchange_weak(&t->mc_op, &op, n));
	sd_lazy_posted(c, !wait);
	if (snap != NULL)
		snap[c] = 1;
	cpu_send_ipi(cpu_lookup(c), IPI_SHOOTDOWN);
}

/* pmap_tlb_shootdown_process(): on the target, at an IPI or a switch */
static void mi_drain(struct cpu_info *ci)
{
	uint64_t since, seen = sd_lazy_sweep_begin(ci, &since);
	uint32_t op = atomic_exchange(&mi_cpus[ci->ci_cpuid].mc_op, 0);
	if (op & (MI_ALL | MI_KERNEL))
		tlb_invalidate_all(ci); /* globals too: the kernel's entries are global */
	else if (op & MI_ALLUSER)
		tlb_invalidate_nonglobal(ci);
	else if (op & MI_ONE)
		tlb_invalidate_pcid(ci, (uint16_t)(op & 0xffffu));
	sd_lazy_sweep_end(ci, seen, since);
}

static void mi_flush(bool wait)
{
	struct cpu_info *ci = curcpu();
	struct mi_cpu *mc = &mi_cpus[ci->ci_cpuid];
	if (mc->mc_naddrs == 0)
		return;
	uint64_t t0 = sd_clock_start(true); /* targets found while posting */
	struct machine *m = machine_cur;
	const unsigned me = ci->ci_cpuid;
	unsigned ntargets = 0, nskipped = 0;
	uint64_t snap[MAXCPUS] = {0};
	wait = wait || mc->mc_downgrade;
	if (mc->mc_kernel || mc->mc_alluser) {
		/* the kernel runs everywhere: every attached CPU is "onproc" */
		uint32_t add = (mc->mc_kernel ? MI_KERNEL : 0) | (mc->mc_alluser ? MI_ALLUSER : 0);
		KCPUSET_FOREACH(&m->m_attached, c)
			if (c != me) {
				mi_post(c, add, snap, wait);
				ntargets++;
			}
	}
	if (!mc->mc_alluser)
		for (unsigned i = 0; i < mc->mc_nctx; i++) {
			struct mmu_ctx *ctx = mc->mc_ctx[i];
			uint32_t add = MI_ONE | ctx->mc_pcid;
			KCPUSET_FOREACH(&ctx->mc_cpus, c) {
				if (c == me || snap[c])
					continue;
				if (!kcpuset_isset(&ctx->mc_active, c)) {
					/* pmap_pai_reset(): it loses the ASID here */
					sd_stale_mark(c, ctx->mc_pcid);
					if (!kcpuset_isset(&ctx->mc_active, c)) {
						nskipped++;
						continue;
					}
				}
				mi_post(c, add, snap, wait);
				ntargets++;
			}
		}
	if (wait) {
		/* a downgrade or a synchronous operation: wait for the drains */
		unsigned iter = 0;
		for (unsigned c = 0; c < m->m_ncpu; c++)
			while (snap[c] && sd_lazy_outstanding(c) && cpu_is_attached(cpu_lookup(c)))
				cpu_spin_wait_for(&iter, "shootdown acknowledgements (lazy drains)");
	}
	sd_count_request(mc->mc_naddrs, true, ntargets, nskipped, ntargets ? sd_elapsed(t0) : 0);
	mc->mc_nctx = 0;
	mc->mc_alluser = mc->mc_kernel = mc->mc_downgrade = false;
	mc->mc_naddrs = 0;
	sd_lazy_reclaim(false);
}

static void mi_update(void)
{
	mi_flush(false);
}

static void mi_sync(void)
{
	mi_flush(true);
}

static void mi_ipi(struct cpu_info *ci)
{
	mi_drain(ci);
}

static void mi_switch(struct cpu_info *ci, struct mmu_ctx *old, struct mmu_ctx *new_)
{
	(void)old;
	/* drain before any context is loaded: an orphaned entry never meets
	 * its PCID again (recycled or not) */
	mi_drain(ci);
	if (new_ != NULL)
		sd_stale_check(ci, new_->mc_pcid);
}

static bool mi_pending(struct cpu_info *ci, vaddr_t va, uint16_t pcid)
{
	(void)va;
	uint32_t op = atomic_load(&mi_cpus[ci->ci_cpuid].mc_op);
	if (op & (MI_ALL | MI_KERNEL | MI_ALLUSER))
		return true;
	if ((op & MI_ONE) && (op & 0xffffu) == pcid)
		return true;
	return pcid != 0 && sd_stale_isset(ci->ci_cpuid, pcid);
}

const struct shootdown_strategy shootdown_netbsd_mi = {
	.sd_name = "netbsd-mi",
	.sd_origin = "NetBSD sys/uvm/pmap/pmap_tlb.c: pmap_tlb_shootdown_bystanders(), pmap_tlb_shootdown_process(), "
	             "pmap_pai_reset()",
	.sd_mechanism = "ASID-granular: idle CPUs lose the ASID (no IPI), running CPUs get a merged operation "
	                "and are not waited for; frames held back until they drained",
	.sd_lazy = true,
	.sd_boot = mi_boot,
	.sd_halt = mi_halt,
	.sd_invalidate = mi_invalidate,
	.sd_update = mi_update,
	.sd_sync = mi_sync,
	.sd_ipi = mi_ipi,
	.sd_switch = mi_switch,
	.sd_free = sd_lazy_free,
	.sd_pending = mi_pending,
};
