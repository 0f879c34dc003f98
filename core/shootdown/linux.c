/*
 * linux.c — Linux x86's generation-based shootdown.
 *
 * Models arch/x86/mm/tlb.c (Linux 5.x-6.x): flush_tlb_mm_range(),
 * native_flush_tlb_multi(), flush_tlb_func(), switch_mm_irqs_off() and
 * flush_tlb_kernel_range():
 *  - every mm has a generation (mm->context.tlb_gen) that each flush
 *    request increments (inc_mm_tlb_gen); every CPU remembers, per ASID
 *    slot it has loaded (cpu_tlbstate.ctxs[], TLB_NR_DYN_ASIDS = 6), the
 *    generation its TLB is up to date with;
 *  - a target does a partial flush only when it is exactly one generation
 *    behind (f->new_tlb_gen == local_tlb_gen + 1) and the request names
 *    pages; otherwise it flushes the whole ASID and catches up to the mm's
 *    current generation;
 *  - more than tlb_single_page_flush_ceiling (33; shootdown.linux_ceiling)
 *    pages → a whole flush (TLB_FLUSH_ALL);
 *  - targets are the CPUs running the mm; a CPU in lazy-TLB mode (here:
 *    one that may hold the pmap's entries but is not running it) is
 *    skipped — it compares generations when it switches back
 *    (switch_mm_irqs_off) — unless page-table pages were freed
 *    (freed_tables), which lazy CPUs must hear about at once;
 *  - the IPIs go out, the local flush runs while they travel
 *    (native_flush_tlb_multi → on_each_cpu_cond_mask), then the initiator
 *    waits (smp_call_function_many's csd_lock_wait);
 *  - kernel ranges: every CPU, page by page up to the ceiling, else
 *    flush_tlb_all (globals included).
 * A pmap_update() batch holds up to four address spaces (Linux flushes
 * once per mmu_gather); a fifth flushes the oldest early.
 *
 * Cache-line budget: per flush, the initiator's RMW on the pmap's
 * generation (its own line: one per PCID, so private pmaps share none),
 * then the flat protocol's per running target (shootdown_impl.h): mailbox,
 * slot, request header and address lines there (the request embeds the
 * generation and the pmap pointer), the slot line back; a target reads
 * the generation's line too.  Lazy CPUs cost nothing unless page-table
 * pages were freed.  Per-CPU state is line-aligned.
 *
 * Memory ordering.  The initiator's PTE change (seq_cst RMW) precedes its
 * generation bump (seq_cst fetch_add), which precedes its read of
 * mc_active (seq_cst).  A CPU switching to the pmap sets mc_active and
 * fences (pmap_activate) before sd_switch reads the generation: either
 * the initiator sees it running (and interrupts it) or it reads the new
 * generation (and flushes).  A target's full flush catches up to the
 * generation it read before flushing, so every PTE change whose bump it
 * saw is covered.  Requests travel through per-initiator slots
 * (shootdown.c: release/acquire pending set, late acknowledgement).
 */
#include "shootdown_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LX_NCTX 4
#define LX_NASID 6 /* TLB_NR_DYN_ASIDS */

struct lx_info { /* struct flush_tlb_info */
	struct sd_req f_req;
	struct mmu_ctx *f_ctx;
	uint64_t f_new_gen;
	bool f_freed_tables;
};

struct lx_cpu {
	struct lx_info lc_batch[LX_NCTX + 1]; /* [LX_NCTX]: the kernel's */
	unsigned lc_nctx;
	struct {
		uint16_t pcid;
		uint64_t gen;
	} lc_asid[LX_NASID]; /* cpu_tlbstate.ctxs[] (owner only) */
	unsigned lc_next;
} __cacheline_aligned; /* a CPU's batches share no line with another's */

/* mm->context.tlb_gen, per PCID (a PCID outlives its pmap here: the next
 * pmap with it continues the count, so no CPU's remembered generation is
 * ahead of it).  A line each: two private pmaps' flushes bump counters
 * of neighbouring PCIDs, which must not share a line (65536 lines of
 * address space; a page is touched only for the PCIDs in use). */
struct lx_gen {
	_Atomic uint64_t g;
} __cacheline_aligned;
static struct lx_cpu *lx_cpus;
static struct lx_gen *lx_gens;
#define lx_gen(pcid) (&lx_gens[(pcid)].g)
_Static_assert(sizeof(struct lx_gen) == CACHE_LINE, "a PCID's generation has its line");
static unsigned lx_ceiling;

static void lx_halt(struct machine *m)
{
	for (unsigned i = 0; lx_cpus != NULL && i < m->m_ncpu; i++)
		for (unsigned k = 0; k <= LX_NCTX; k++)
			sd_req_fini(&lx_cpus[i].lc_batch[k].f_req);
	free(lx_cpus);
	free(lx_gens);
	lx_cpus = NULL;
	lx_gens = NULL;
	sd_slots_halt();
}

static const struct cfg_key lx_ceiling_key = CFG_KEY("shootdown.linux_ceiling", CFG_UINT, 1, SD_MAX_BATCH, NULL, "33",
    "linux: pages per flush before a whole flush (`tlb_single_page_flush_ceiling`, 1–4096)");
static const struct cfg_key *const lx_keys[] = {&lx_ceiling_key, NULL};

static int lx_boot(struct machine *m)
{
	lx_ceiling = (unsigned)machine_knob(&m->m_cfg, &lx_ceiling_key);
	lx_cpus = mem_zalloc(struct lx_cpu, m->m_ncpu);
	lx_gens = mem_zalloc(struct lx_gen, 65536);
	if (lx_cpus == NULL || lx_gens == NULL)
		return machine_seterr(ENOMEM, "shootdown.strategy: no memory");
	for (unsigned i = 0; i < m->m_ncpu; i++)
		for (unsigned k = 0; k <= LX_NCTX; k++)
			if (sd_req_init(&lx_cpus[i].lc_batch[k].f_req, lx_ceiling) != 0)
				return ENOMEM;
	return sd_slots_boot(m);
}

static int lx_asid_find(struct lx_cpu *lc, uint16_t pcid)
{
	for (int i = 0; i < LX_NASID; i++)
		if (lc->lc_asid[i].pcid == pcid && pcid != 0)
			return i;
	return -1;
}

/* flush_tlb_func(): on a target, or locally */
static void lx_flush_func(struct cpu_info *ci, const void *arg)
{
	const struct lx_info *f = arg;
	if (f->f_ctx == NULL) {
		/* a kernel range: pages, or everything globals included */
		sd_req_apply(ci, &f->f_req, true);
		return;
	}
	struct lx_cpu *lc = &lx_cpus[ci->ci_cpuid];
	uint16_t pcid = f->f_ctx->mc_pcid;
	int slot = lx_asid_find(lc, pcid);
	uint64_t mm_gen = atomic_load(lx_gen(pcid));
	if (slot < 0 || ci->ci_ctx != f->f_ctx) {
		/* not running it (lazy, or switched away): Linux's lazy CPU
		 * leaves the mm; here its entries go, and its slot catches up */
		tlb_invalidate_pcid(ci, pcid);
		if (slot >= 0)
			lc->lc_asid[slot].gen = mm_gen;
		return;
	}
	uint64_t local = lc->lc_asid[slot].gen;
	if (local >= mm_gen)
		return; /* already caught up by a full flush */
	if (f->f_req.r_count != SD_ALLVA && f->f_new_gen == local + 1) {
		sd_req_apply(ci, &f->f_req, true);
		lc->lc_asid[slot].gen = f->f_new_gen;
	} else {
		tlb_invalidate_pcid(ci, pcid);
		lc->lc_asid[slot].gen = mm_gen;
	}
}

/* flush_tlb_mm_range() for one batch entry */
static void lx_flush_one(struct cpu_info *ci, struct lx_info *f)
{
	struct sd_req *r = &f->f_req;
	if (r->r_naddrs == 0)
		return;
	unsigned nskipped = 0, n;
	kcpuset_t targets;
	if (f->f_ctx == NULL) {
		n = sd_targets(ci, &machine_cur->m_attached, &targets, NULL);
	} else {
		/* the generation goes up after the PTE changes it covers */
		f->f_new_gen = atomic_fetch_add(lx_gen(f->f_ctx->mc_pcid), 1) + 1;
		/* running CPUs; lazy ones too when page tables were freed */
		n = sd_targets(ci, f->f_freed_tables ? &f->f_ctx->mc_cpus : &f->f_ctx->mc_active, &targets, NULL);
		kcpuset_t lazy;
		sd_targets(ci, &f->f_ctx->mc_cpus, &lazy, NULL);
		unsigned nmay = 0;
		KCPUSET_FOREACH(&lazy, c)
			nmay += c != ci->ci_cpuid;
		nskipped = nmay > n ? nmay - n : 0;
	}
	uint64_t t0 = sd_clock_start(n > 0);
	if (n > 0)
		sd_slot_post(ci, f, lx_flush_func, &targets, t0);
	/* the local flush, concurrent with the remote ones */
	if (f->f_ctx == NULL || ci->ci_ctx == f->f_ctx)
		lx_flush_func(ci, f);
	else
		sd_req_apply(ci, r, true);
	if (n > 0)
		sd_slot_wait(ci);
	sd_count_request(r->r_naddrs, r->r_count == SD_ALLVA, n, nskipped, n ? sd_elapsed(t0) : 0);
	sd_req_reset(r);
	f->f_freed_tables = false;
	f->f_ctx = NULL;
}

static struct lx_info *lx_batch_for(struct cpu_info *ci, struct mmu_ctx *ctx)
{
	struct lx_cpu *lc = &lx_cpus[ci->ci_cpuid];
	if (ctx->mc_kernel)
		return &lc->lc_batch[LX_NCTX];
	for (unsigned k = 0; k < lc->lc_nctx; k++)
		if (lc->lc_batch[k].f_ctx == ctx)
			return &lc->lc_batch[k];
	if (lc->lc_nctx == LX_NCTX) {
		/* a fifth address space: flush the oldest now (one mmu_gather) */
		lx_flush_one(ci, &lc->lc_batch[0]);
		struct lx_info tmp = lc->lc_batch[0];
		memmove(&lc->lc_batch[0], &lc->lc_batch[1], sizeof(tmp) * (LX_NCTX - 1));
		lc->lc_batch[LX_NCTX - 1] = tmp;
		lc->lc_nctx--;
	}
	struct lx_info *f = &lc->lc_batch[lc->lc_nctx++];
	f->f_ctx = ctx;
	f->f_freed_tables = false;
	return f;
}

static void lx_invalidate(struct mmu_ctx *ctx, vaddr_t va, uint64_t opte, enum sd_inv_kind kind)
{
	if (!sd_pte_cached(opte)) {
		sd_count_unaccessed();
		return;
	}
	struct lx_info *f = lx_batch_for(curcpu(), ctx);
	sd_req_add(&f->f_req, ctx, va, opte, kind, NULL);
}

static void lx_ptp_freed(struct mmu_ctx *ctx)
{
	struct lx_info *f = lx_batch_for(curcpu(), ctx);
	f->f_freed_tables = true;
}

static void lx_update(void)
{
	struct cpu_info *ci = curcpu();
	struct lx_cpu *lc = &lx_cpus[ci->ci_cpuid];
	for (unsigned k = 0; k < lc->lc_nctx; k++)
		lx_flush_one(ci, &lc->lc_batch[k]);
	lc->lc_nctx = 0;
	lx_flush_one(ci, &lc->lc_batch[LX_NCTX]);
}

static void lx_ipi(struct cpu_info *ci)
{
	sd_slots_serve(ci);
}

/* switch_mm_irqs_off(): catch up with the generation, or flush */
static void lx_switch(struct cpu_info *ci, struct mmu_ctx *old, struct mmu_ctx *new_)
{
	(void)old;
	if (new_ == NULL)
		return;
	struct lx_cpu *lc = &lx_cpus[ci->ci_cpuid];
	uint16_t pcid = new_->mc_pcid;
	uint64_t mm_gen = atomic_load(lx_gen(pcid)); /* after mc_active was set and fenced */
	int slot = lx_asid_find(lc, pcid);
	if (slot >= 0 && lc->lc_asid[slot].gen >= mm_gen)
		return;
	if (slot < 0) {
		/* choose_new_asid(): a slot is recycled; what it knew is lost */
		slot = (int)(lc->lc_next++ % LX_NASID);
		lc->lc_asid[slot].pcid = pcid;
	}
	tlb_invalidate_pcid(ci, pcid);
	lc->lc_asid[slot].gen = mm_gen;
}

static bool lx_pending(struct cpu_info *ci, vaddr_t va, uint16_t pcid)
{
	(void)ci;
	for (unsigned c = 0; sd_slots != NULL && c < machine_cur->m_ncpu; c++)
		if (!kcpuset_iszero(&sd_slots[c].s_pending) && sd_req_covers(&((const struct lx_info *)sd_slots[c].s_req)->f_req, va, pcid))
			return true;
	return false;
}

const struct shootdown_strategy shootdown_linux = {
	.sd_name = "linux",
	.sd_keys = lx_keys,
	.sd_origin = "Linux arch/x86/mm/tlb.c: flush_tlb_mm_range(), native_flush_tlb_multi(), flush_tlb_func(), "
	             "switch_mm_irqs_off()",
	.sd_mechanism = "per-pmap and per-CPU generations, partial flush only one generation behind, >33 pages "
	                "(shootdown.linux_ceiling) whole, lazy CPUs skipped unless page tables were freed",
	.sd_boot = lx_boot,
	.sd_halt = lx_halt,
	.sd_invalidate = lx_invalidate,
	.sd_update = lx_update,
	.sd_ipi = lx_ipi,
	.sd_switch = lx_switch,
	.sd_ptp_freed = lx_ptp_freed,
	.sd_pending = lx_pending,
};
