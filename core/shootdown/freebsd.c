/*
 * freebsd.c — FreeBSD amd64's scoreboard shootdown.
 *
 * Models sys/x86/x86/mp_x86.c (FreeBSD 13+: smp_targeted_tlb_shootdown(),
 * invlop_handler(), the invl_scoreboard) and sys/amd64/amd64/pmap.c
 * (pmap_invalidate_range(), pmap_invalidate_preipi_pcid()):
 *  - each initiator publishes its request (operation, pmap, range) in its
 *    own per-CPU fields and bumps its own generation; every target has a
 *    scoreboard row with the last generation it completed for each
 *    initiator, so several initiators proceed at once (no global lock,
 *    unlike the older smp_ipi_mtx protocol);
 *  - CPUs that are not targets get their scoreboard entry set to the new
 *    generation up front, so a CPU that scans sees nothing to do;
 *  - a target's handler walks the initiators, copies each new request,
 *    writes the generation into its scoreboard entry — it acknowledges
 *    after copying — and then invalidates (safe for the same reason as
 *    NetBSD's early ack: copy and invalidation happen in one interrupt);
 *  - pmap_invalidate_range(): a range of PMAP_INVLPG_THRESHOLD (4096
 *    pages; shootdown.freebsd_threshold) or more invalidates everything;
 *    a batch over several pmaps does too;
 *  - with PCIDs, CPUs where the pmap is not active get no IPI: their
 *    pm_gen for it is zeroed so they take a fresh PCID at the next
 *    activation (pmap_invalidate_preipi_pcid); here, a stale mark.
 * A PTE never accessed needs no shootdown.
 *
 * Cache-line budget, per shootdown: the initiator's request line (fc_gen
 * and fc_req, apart from its batch) crosses to each target, with its
 * mailbox line (the IPI); each target writes one scoreboard cell in its
 * own row (rows are line-aligned) and the initiator reads it back — one
 * line back per acknowledgement.  Before sending, the initiator writes
 * its cell in every non-target's row (FreeBSD's pre-acknowledgement: one
 * line per other CPU in the machine, off the critical path).  A target's
 * handler reads every initiator's request line.
 *
 * Memory ordering.  The initiator writes its request with plain stores,
 * pre-acknowledges non-targets (relaxed), then publishes the generation
 * with a release store; a target loads it with acquire, copies, and
 * stores its scoreboard entry with release; the initiator waits with
 * acquire loads and rewrites the request only after every target's entry
 * equals the generation.  The stale-mark / mc_active handshake is the one
 * netbsd_mi.c describes.
 */
#include "shootdown_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct fb_req {
	uint32_t q_op; /* FB_PAGES / FB_PCID / FB_NONGLOBAL / FB_ALL */
	uint16_t q_pcid;
	vaddr_t q_sva, q_eva;
};
enum { FB_PAGES, FB_PCID, FB_NONGLOBAL, FB_ALL };

struct fb_cpu {
	/* what targets read, in a line of its own */
	_Atomic uint64_t fc_gen; /* smp_tlb_generation of this initiator */
	struct fb_req fc_req;    /* smp_tlb_addr1/addr2/pmap/op */
	/* the owner's: written at every pmap call, so not beside fc_gen,
	 * which every target's handler reads for every initiator */
	struct sd_req fc_batch __cacheline_aligned; /* what pmap calls queued */
	struct mmu_ctx *fc_ctx;  /* the one user pmap of the batch (or NULL) */
	uint64_t fc_sent_ns;     /* when fc_req was posted (ack latency, at the targets) */
} __cacheline_aligned;

_Static_assert(__builtin_offsetof(struct fb_cpu, fc_batch) >= CACHE_LINE, "targets' line apart from the owner's batch");
static struct fb_cpu *fb_cpus;
/* the scoreboard, [target * fb_stride + initiator]: a target's row starts
 * a line of its own (it writes its row; with 2 CPUs the rows shared one) */
static _Atomic uint64_t *fb_score;
static unsigned fb_ncpu, fb_stride, fb_threshold;
#define FB_SCORE(target, initiator) (&fb_score[(size_t)(target) * fb_stride + (initiator)])

static void fb_halt(struct machine *m)
{
	for (unsigned i = 0; fb_cpus != NULL && i < m->m_ncpu; i++)
		sd_req_fini(&fb_cpus[i].fc_batch);
	free(fb_cpus);
	free((void *)fb_score);
	fb_cpus = NULL;
	fb_score = NULL;
	sd_stale_halt();
}

static const struct cfg_key fb_threshold_key = CFG_KEY("shootdown.freebsd_threshold", CFG_UINT, 1, 1U << 27, NULL, "4096",
    "freebsd: a range of this many pages or more invalidates everything (`PMAP_INVLPG_THRESHOLD`)");
static const struct cfg_key *const fb_keys[] = {&fb_threshold_key, NULL};

static int fb_boot(struct machine *m)
{
	fb_ncpu = m->m_ncpu;
	fb_threshold = (unsigned)machine_knob(&m->m_cfg, &fb_threshold_key);
	if ((fb_cpus = mem_alloc(struct fb_cpu, fb_ncpu)) == NULL)
		return machine_seterr(ENOMEM, "shootdown.strategy: no memory");
	fb_stride = (fb_ncpu + 7) / 8 * 8;
	/* each row starts a line: cache-line aligned, whatever the element's alignment */
	fb_score = mem_zalloc_bytes(CACHE_LINE, sizeof(*fb_score) * fb_stride * fb_ncpu);
	if (fb_score == NULL)
		return machine_seterr(ENOMEM, "shootdown.strategy: no memory for the scoreboard");
	for (unsigned i = 0; i < fb_ncpu; i++) {
		atomic_store(&fb_cpus[i].fc_gen, 0);
		if (sd_req_init(&fb_cpus[i].fc_batch, 1) != 0)
			return ENOMEM;
	}
	return sd_stale_boot(m);
}

static void fb_invalidate(struct mmu_ctx *ctx, vaddr_t va, uint64_t opte, enum sd_inv_kind kind)
{
	if (!sd_pte_cached(opte)) {
		sd_count_unaccessed();
		return;
	}
	/* the range and PCID are what matter; cap 1 keeps r_min/r_max only */
	struct fb_cpu *fc = &fb_cpus[curcpu()->ci_cpuid];
	if (!ctx->mc_kernel)
		fc->fc_ctx = ctx;
	sd_req_add(&fc->fc_batch, ctx, va, opte, kind, NULL);
}

static void fb_apply(struct cpu_info *ci, const struct fb_req *q)
{
	switch (q->q_op) {
	case FB_ALL:
		tlb_invalidate_all(ci);
		break;
	case FB_NONGLOBAL:
		tlb_invalidate_nonglobal(ci);
		break;
	case FB_PCID:
		tlb_invalidate_pcid(ci, q->q_pcid);
		break;
	default:
		for (vaddr_t va = q->q_sva; va <= q->q_eva; va += PAGE_SIZE)
			tlb_invalidate_page(ci, va, q->q_pcid);
	}
}

static void fb_update(void)
{
	struct cpu_info *ci = curcpu();
	const unsigned me = ci->ci_cpuid;
	struct fb_cpu *fc = &fb_cpus[me];
	struct sd_req *b = &fc->fc_batch;
	if (b->r_naddrs == 0)
		return;
	struct fb_req q = {.q_sva = b->r_min, .q_eva = b->r_max};
	uint64_t pages = (b->r_max - b->r_min) / PAGE_SIZE + 1;
	bool mixed = b->r_pcid == SD_PCID_MIXED;
	q.q_pcid = mixed ? 0 : (uint16_t)b->r_pcid;
	if (pages >= fb_threshold || mixed)
		q.q_op = b->r_global ? FB_ALL : (mixed ? FB_NONGLOBAL : FB_PCID);
	else
		q.q_op = FB_PAGES;
	if (b->r_global && q.q_op == FB_PCID)
		q.q_op = FB_ALL;
	/* targets: CPUs running a user pmap; the others lose its PCID */
	kcpuset_t may, targets;
	unsigned nskipped = 0;
	kcpuset_zero(&may);
	KCPUSET_FOREACH(&b->r_cpus, c) {
		if (c == me)
			continue;
		if (b->r_global || mixed) {
			kcpuset_atomic_set(&may, c);
			continue;
		}
		/* one user pmap: CPUs not running it lose its PCID instead */
		if (kcpuset_isset(&fc->fc_ctx->mc_active, c)) {
			kcpuset_atomic_set(&may, c);
			continue;
		}
		sd_stale_mark(c, q.q_pcid);
		if (kcpuset_isset(&fc->fc_ctx->mc_active, c))
			kcpuset_atomic_set(&may, c);
		else
			nskipped++;
	}
	unsigned n = sd_targets(ci, &may, &targets, &nskipped);
	uint64_t t0 = sd_clock_start(n > 0);
	uint64_t gen = atomic_load_explicit(&fc->fc_gen, memory_order_relaxed) + 1;
	if (n > 0) {
		fc->fc_req = q;
		fc->fc_sent_ns = t0;
		for (unsigned c = 0; c < fb_ncpu; c++)
			if (!kcpuset_isset(&targets, c))
				atomic_store_explicit(FB_SCORE(c, me), gen, memory_order_relaxed);
		atomic_store_explicit(&fc->fc_gen, gen, memory_order_release);
		KCPUSET_FOREACH(&targets, c)
			cpu_send_ipi(cpu_lookup(c), IPI_SHOOTDOWN);
	}
	fb_apply(ci, &q);
	if (n > 0) {
		unsigned iter = 0;
		KCPUSET_FOREACH(&targets, c) {
			while (atomic_load_explicit(FB_SCORE(c, me), memory_order_acquire) != gen &&
			    cpu_is_attached(cpu_lookup(c)))
				cpu_spin_wait_for(&iter, "shootdown acknowledgements");
		}
	}
	sd_count_request(b->r_naddrs, q.q_op != FB_PAGES, n, nskipped, n ? sd_elapsed(t0) : 0);
	sd_req_reset(b);
	fc->fc_ctx = NULL;
}

/* invlop_handler() */
static void fb_ipi(struct cpu_info *ci)
{
	const unsigned me = ci->ci_cpuid;
	for (unsigned i = 0; i < fb_ncpu; i++) {
		if (i == me)
			continue;
		_Atomic uint64_t *score = FB_SCORE(me, i);
		uint64_t gen = atomic_load_explicit(&fb_cpus[i].fc_gen, memory_order_acquire);
		if (atomic_load_explicit(score, memory_order_relaxed) == gen)
			continue;
		struct fb_req q = fb_cpus[i].fc_req;
		sd_ack_record(i, me, fb_cpus[i].fc_sent_ns);
		/* acknowledge after copying the request */
		atomic_store_explicit(score, gen, memory_order_release);
		fb_apply(ci, &q);
	}
}

static void fb_switch(struct cpu_info *ci, struct mmu_ctx *old, struct mmu_ctx *new_)
{
	(void)old;
	if (new_ != NULL)
		sd_stale_check(ci, new_->mc_pcid);
}

static bool fb_pending(struct cpu_info *ci, vaddr_t va, uint16_t pcid)
{
	(void)va;
	return pcid != 0 && sd_stale_isset(ci->ci_cpuid, pcid);
}

const struct shootdown_strategy shootdown_freebsd = {
	.sd_name = "freebsd",
	.sd_keys = fb_keys,
	.sd_origin = "FreeBSD sys/x86/x86/mp_x86.c: smp_targeted_tlb_shootdown(), invlop_handler(); "
	             "sys/amd64/amd64/pmap.c: pmap_invalidate_range()",
	.sd_mechanism = "per-initiator generations on a scoreboard (concurrent initiators), ranges of 4096 pages "
	                "(shootdown.freebsd_threshold) invalidate all, ack after copying",
	.sd_boot = fb_boot,
	.sd_halt = fb_halt,
	.sd_invalidate = fb_invalidate,
	.sd_update = fb_update,
	.sd_ipi = fb_ipi,
	.sd_switch = fb_switch,
	.sd_pending = fb_pending,
};
